# Per-target warning and sanitizer settings (the pattern of spdlog's cmake/utils.cmake).
function(flowd_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                           -Wimplicit-fallthrough)
  if(FLOWD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(flowd_set_sanitizers target)
  if(FLOWD_SANITIZE)
    string(REPLACE ";" "," _san "${FLOWD_SANITIZE}")
    set(_extra "")
    if("undefined" IN_LIST FLOWD_SANITIZE)
      # UBSan's vptr check misfires on Boost.System's error categories (their type info is not
      # unique across objects); everything else in -fsanitize=undefined stays on.
      set(_extra -fno-sanitize=vptr)
    endif()
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC's flow analysis under -fsanitize reports maybe-uninitialized inside libstdc++ (<regex>).
      list(APPEND _extra -Wno-maybe-uninitialized)
    endif()
    if("thread" IN_LIST FLOWD_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # Asio's handler completion uses std::atomic_thread_fence, which TSan does not model; GCC warns
      # (-Wtsan) wherever such a handler is instantiated. TSan still checks the handlers' accesses.
      list(APPEND _extra -Wno-tsan)
    endif()
    target_compile_options(${target} PRIVATE -fsanitize=${_san} ${_extra} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${_san})
  endif()
endfunction()

function(flowd_target_defaults target)
  flowd_set_warnings(${target})
  flowd_set_sanitizers(${target})
endfunction()

# Build speed (docs/development.md, "Build times"): a precompiled header for the sources that share a
# heavy third-party header (Asio in engine/net/), parsed once instead of once per source file.
function(flowd_precompile target)
  if(FLOWD_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()

# Reuses another target's precompiled header (the compile flags and definitions must be the same).
function(flowd_precompile_reuse target from)
  if(FLOWD_PCH)
    target_precompile_headers(${target} REUSE_FROM ${from})
  endif()
endfunction()
