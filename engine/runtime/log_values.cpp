#include "runtime/log_values.hpp"

#include <cmath>

namespace flowd {

void write_log_values(Logger& logger, LogLevel level, std::string_view module, const Value& message,
                      const Value& error, const std::vector<std::string>& keys, const Value* values, int count) {
  if (!logger.enabled(level)) return;
  thread_local std::string line;
  thread_local std::string scratch;
  const bool json = logger.config().format == LogFormat::JsonObject;
  line.clear();
  logger.begin(line, level, module,
               message.tag() == ValueTag::String ? std::string_view(message.str()) : std::string_view());
  if (error.is_error()) logger.field(line, "error", error.as<ErrorObj>()->message, true);
  for (int i = 0; i < count; ++i) {
    const Value& v = values[i];
    scratch.clear();
    bool quoted = true;
    switch (v.tag()) {
      case ValueTag::Int:
      case ValueTag::Boolean:
        append_display_string(scratch, v);
        quoted = false;
        break;
      case ValueTag::Float:
        append_display_string(scratch, v);
        // JSON has no NaN or Infinity: those go as strings.
        quoted = json && !std::isfinite(v.as_float());
        break;
      case ValueTag::Nil:
        scratch = json ? "null" : "()";
        quoted = false;
        break;
      case ValueTag::Error: scratch = v.as<ErrorObj>()->message; break;
      default: append_display_string(scratch, v); break;
    }
    logger.field(line, keys[static_cast<std::size_t>(i)], scratch, quoted);
  }
  logger.finish(line, level);
}

}  // namespace flowd
