# Fails when flows/flow.schema.json is not exactly what `flowd schema` prints, so the schema never
# drifts from the node kinds' descriptions. To update it: build/flowd schema > flows/flow.schema.json
execute_process(COMMAND ${FLOWD} schema RESULT_VARIABLE rc OUTPUT_VARIABLE generated ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "flowd schema failed (${rc}):\n${err}")
endif()
file(READ ${SCHEMA} kept)
if(NOT generated STREQUAL kept)
  message(FATAL_ERROR "${SCHEMA} is not what `flowd schema` prints: the node descriptions changed.\n"
                      "Regenerate it: build/flowd schema > flows/flow.schema.json")
endif()
message(STATUS "${SCHEMA} is what `flowd schema` prints")
