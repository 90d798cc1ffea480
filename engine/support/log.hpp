// Ballerina-style log lines on spdlog: logfmt by default
//   time=2026-11-21T13:00:00.000Z level=INFO module=chat message="User1 connected" key=value
// or JSON. Client-supplied text is escaped, so it cannot forge a line or reach the terminal raw.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support/log_level.hpp"

namespace spdlog {
class logger;
namespace sinks { class sink; }
}  // namespace spdlog

namespace flowd {

enum class LogFormat : std::uint8_t { Logfmt, JsonObject };

struct LogConfig {
  LogLevel level = LogLevel::Info;
  LogFormat format = LogFormat::Logfmt;
  std::string file;   // empty: stderr
};

bool parse_log_level(std::string_view s, LogLevel& out);
bool parse_log_format(std::string_view s, LogFormat& out);

// One key-value of a line. Strings are quoted and escaped; raw values (numbers) are written as is.
struct LogField {
  std::string_view key;
  std::string_view value;
  bool quoted = true;
};

class Logger {
 public:
  explicit Logger(LogConfig config);
  // Writes to the given sink (tests capture lines with an ostream sink).
  Logger(LogConfig config, std::shared_ptr<spdlog::sinks::sink> sink);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool enabled(LogLevel level) const { return level >= config_.level; }
  const LogConfig& config() const { return config_; }
  // Builds and writes one line.
  void write(LogLevel level, std::string_view module, std::string_view message,
             std::initializer_list<LogField> fields = {});
  void write(LogLevel level, std::string_view module, std::string_view message, std::span<const LogField> fields);
  void flush();

  // The pieces of a line, for writers of other kinds of fields (runtime/log_values.hpp writes flow
  // values with them): begin, then a field per key-value, then finish writes the line.
  void begin(std::string& line, LogLevel level, std::string_view module, std::string_view message);
  void field(std::string& line, std::string_view key, std::string_view value, bool quoted);
  void finish(std::string& line, LogLevel level);

 private:

  LogConfig config_;
  std::shared_ptr<spdlog::logger> out_;
};

// Escapes for a logfmt or JSON string body (without the quotes): \" \\ \n \r \t, other control
// characters (C0, DEL, C1) as \u00XX, and bytes that are not UTF-8 as \xNN.
void append_escaped(std::string& out, std::string_view s, bool json);

}  // namespace flowd
