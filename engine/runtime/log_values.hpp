// A log line from a flow's log:print* call: the message, the error and the key-values are flow
// values, written by type (numbers and booleans raw, nil as () or null, errors by their message).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "runtime/value.hpp"
#include "support/log.hpp"

namespace flowd {

void write_log_values(Logger& logger, LogLevel level, std::string_view module, const Value& message,
                      const Value& error, const std::vector<std::string>& keys, const Value* values, int count);

}  // namespace flowd
