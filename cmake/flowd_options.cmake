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
    target_compile_options(${target} PRIVATE -fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${_san})
  endif()
endfunction()

function(flowd_target_defaults target)
  flowd_set_warnings(${target})
  flowd_set_sanitizers(${target})
endfunction()
