// How severe a log line is: shared by the logger, the log:print* functions and the bytecode.
#pragma once
#include <cstdint>

namespace flowd {

enum class LogLevel : std::uint8_t { Debug = 0, Info = 1, Warn = 2, Error = 3 };

}  // namespace flowd
