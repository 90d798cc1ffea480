# The engine's layers, lowest first. Each is a static library, flowd_<layer>, built from the *.cpp of
# engine/<layer>/ and linked to the layer below it, so the dependencies run one way:
#   support <- lang <- runtime <- flow <- net      (nodes/ sits on flow; app/ on net and nodes)
# A layer sees only itself and the layers below it, twice over:
#  - its include root is a directory of links to those folders alone, so `#include "net/engine.hpp"`
#    in a lang/ file is not found by the compiler;
#  - flowd_layer_check (cmake/check_layers.cmake) runs before any engine or node source compiles and
#    names every include of a higher layer, also in headers no source of the layer includes.
set(FLOWD_LAYERS support lang runtime flow net)

# Called from engine/<layer>/CMakeLists.txt. A file added to the folder is picked up without a list
# to edit (the glob is checked again at each build).
function(flowd_add_layer layer)
  list(FIND FLOWD_LAYERS ${layer} _index)
  if(_index LESS 0)
    message(FATAL_ERROR "flowd_add_layer: ${layer} is not one of FLOWD_LAYERS (${FLOWD_LAYERS})")
  endif()
  file(GLOB _sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(flowd_${layer} STATIC ${_sources})
  flowd_layer_include_root(_root ${_index})
  target_include_directories(flowd_${layer} PUBLIC ${_root})
  if(_index GREATER 0)
    math(EXPR _below "${_index} - 1")
    list(GET FLOWD_LAYERS ${_below} _below_layer)
    target_link_libraries(flowd_${layer} PUBLIC flowd_${_below_layer})
  endif()
  add_dependencies(flowd_${layer} flowd_layer_check)
  flowd_target_defaults(flowd_${layer})
endfunction()

# Sets out_var to a directory holding links to engine/<layer> for the first count+1 layers.
function(flowd_layer_include_root out_var index)
  list(GET FLOWD_LAYERS ${index} _top)
  set(_root ${PROJECT_BINARY_DIR}/layer-include/${_top})
  file(MAKE_DIRECTORY ${_root})
  foreach(_i RANGE ${index})
    list(GET FLOWD_LAYERS ${_i} _layer)
    if(NOT IS_SYMLINK ${_root}/${_layer})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/engine/${_layer} ${_root}/${_layer} SYMBOLIC)
    endif()
  endforeach()
  set(${out_var} ${_root} PARENT_SCOPE)
endfunction()

# The build-time include check, as a target every engine layer and nodes/ depend on.
function(flowd_add_layer_check)
  file(GLOB_RECURSE _checked CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/engine/*.hpp ${PROJECT_SOURCE_DIR}/engine/*.cpp ${PROJECT_SOURCE_DIR}/engine/*.def
       ${PROJECT_SOURCE_DIR}/nodes/*.hpp ${PROJECT_SOURCE_DIR}/nodes/*.cpp)
  set(_stamp ${PROJECT_BINARY_DIR}/layer-include/checked.stamp)
  add_custom_command(
    OUTPUT ${_stamp}
    COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} "-DLAYERS=${FLOWD_LAYERS}" -DSTAMP=${_stamp}
            -P ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake
    DEPENDS ${_checked} ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake
    COMMENT "Checking that each engine layer includes only itself and the layers below it"
    VERBATIM)
  add_custom_target(flowd_layer_check DEPENDS ${_stamp})
endfunction()
