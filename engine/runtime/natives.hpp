// The native implementations of the library functions (lang/builtins.hpp has their signatures):
// what Op::CallNative calls. Arguments were type-checked at load time.
#pragma once
#include <string>
#include <vector>

#include "runtime/program.hpp"

namespace flowd {

struct NativeContext {
  const Program* program = nullptr;
  std::string panic;  // set by a native that raises
  bool raise(std::string message) {
    panic = std::move(message);
    return false;
  }
};

// The implementations of the functions named (in that order), for Program::natives. Throws
// std::logic_error for a name without one: a signature in lang/builtins.cpp with no native here.
std::vector<NativeInfo> link_natives(const std::vector<std::string>& names);

}  // namespace flowd
