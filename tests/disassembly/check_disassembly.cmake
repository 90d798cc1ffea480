# Runs `flowd check --disassemble NAME.json` in the flow's folder and compares what it prints with
# NAME.disassembly, byte for byte. After a deliberate change to the compiler, regenerate the file:
#   cd tests/disassembly && ../../build/flowd check --disassemble NAME.json > NAME.disassembly
get_filename_component(dir ${FLOW} DIRECTORY)
get_filename_component(file ${FLOW} NAME)
get_filename_component(name ${FLOW} NAME_WE)
execute_process(COMMAND ${FLOWD} check --disassemble ${file} WORKING_DIRECTORY ${dir}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "flowd check --disassemble ${file} failed (${rc}):\n${out}${err}")
endif()
file(READ ${dir}/${name}.disassembly expected)
if(NOT out STREQUAL expected)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/${name}.disassembly.actual "${out}")
  message(FATAL_ERROR "flowd check --disassemble ${file} printed (also in ${name}.disassembly.actual):\n${out}\n"
                      "expected (${dir}/${name}.disassembly):\n${expected}")
endif()
