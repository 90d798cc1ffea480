#include "support/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <spdlog/formatter.h>

#include <array>
#include <chrono>
#include <cstring>
#include <ctime>
#include <sys/time.h>

#include "support/utf8.hpp"

namespace flowd {

bool parse_log_level(std::string_view s, LogLevel& out) {
  std::string l(s);
  for (char& c : l) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (l == "DEBUG") out = LogLevel::Debug;
  else if (l == "INFO") out = LogLevel::Info;
  else if (l == "WARN" || l == "WARNING") out = LogLevel::Warn;
  else if (l == "ERROR") out = LogLevel::Error;
  else return false;
  return true;
}

bool parse_log_format(std::string_view s, LogFormat& out) {
  if (s == "logfmt") out = LogFormat::Logfmt;
  else if (s == "json") out = LogFormat::JsonObject;
  else return false;
  return true;
}

namespace {

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return "DEBUG";
    case LogLevel::Info: return "INFO";
    case LogLevel::Warn: return "WARN";
    case LogLevel::Error: return "ERROR";
  }
  return "INFO";
}

spdlog::level::level_enum to_spdlog(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return spdlog::level::debug;
    case LogLevel::Info: return spdlog::level::info;
    case LogLevel::Warn: return spdlog::level::warn;
    case LogLevel::Error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// The time of the line being built on this thread, handed to spdlog with the line (so spdlog need
// not read the clock again).
thread_local spdlog::log_clock::time_point t_line_time;

// ISO-8601 local time with milliseconds and offset ("Z" for UTC), as Ballerina prints it.
// The part up to the seconds is cached: it changes once a second.
void append_time(std::string& out) {
  thread_local time_t cached_sec = -1;
  thread_local char prefix[32];
  thread_local std::size_t prefix_len = 0;
  thread_local char suffix[16];
  thread_local std::size_t suffix_len = 0;
  timeval tv;
  gettimeofday(&tv, nullptr);
  t_line_time = spdlog::log_clock::time_point(
      std::chrono::duration_cast<spdlog::log_clock::duration>(std::chrono::seconds(tv.tv_sec) +
                                                              std::chrono::microseconds(tv.tv_usec)));
  if (tv.tv_sec != cached_sec) {
    cached_sec = tv.tv_sec;
    tm t;
    localtime_r(&tv.tv_sec, &t);
    prefix_len = std::strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &t);
    long off = t.tm_gmtoff;
    if (off == 0) {
      std::snprintf(suffix, sizeof suffix, "Z");
    } else {
      char sign = off < 0 ? '-' : '+';
      off = off < 0 ? -off : off;
      std::snprintf(suffix, sizeof suffix, "%c%02d:%02d", sign, static_cast<int>(off / 3600 % 100),
                    static_cast<int>((off % 3600) / 60));
    }
    suffix_len = std::strlen(suffix);
  }
  int ms = static_cast<int>(tv.tv_usec / 1000);
  char frac[4] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                  static_cast<char>('0' + ms % 10)};
  out.append(prefix, prefix_len);
  out.append(frac, 4);
  out.append(suffix, suffix_len);
}

// Bytes that append_escaped writes as they are: printable ASCII other than '"' and '\\'.
constexpr auto kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

}  // namespace

void append_escaped(std::string& out, std::string_view s, bool json) {
  static const char* hex = "0123456789abcdef";
  std::size_t i = 0;
  while (i < s.size()) {
    // The common case: a run of printable ASCII, appended at once.
    std::size_t run = i;
    while (run < s.size() && kPlain[static_cast<unsigned char>(s[run])]) ++run;
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (c < 0x80) {  // other C0 controls and DEL
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
      ++i;
      continue;
    }
    std::size_t valid = utf8::valid_prefix(s.substr(i, 4));
    std::size_t len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
    if (valid >= len && len > 1) {
      // C1 controls (U+0080..U+009F) are terminal escapes too.
      if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
        unsigned char cp = static_cast<unsigned char>(s[i + 1]);
        out += "\\u00";
        out += hex[cp >> 4];
        out += hex[cp & 15];
      } else {
        out.append(s.data() + i, len);
      }
      i += len;
      continue;
    }
    // Not UTF-8: show the byte.
    out += json ? "\\\\x" : "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
    ++i;
  }
}

namespace {
// The line is already formatted (logfmt or JSON): the sink only appends the newline.
class LineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    dest.append(msg.payload.begin(), msg.payload.end());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(); }
};

spdlog::sink_ptr default_sink(const LogConfig& config) {
  if (config.file.empty()) return std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.file, false);
}
}  // namespace

Logger::Logger(LogConfig config) : Logger(config, default_sink(config)) {}

Logger::Logger(LogConfig config, std::shared_ptr<spdlog::sinks::sink> sink) : config_(std::move(config)) {
  sink->set_formatter(std::make_unique<LineFormatter>());
  // A name of its own, so several loggers (tests) can be registered for flushing at once.
  out_ = std::make_shared<spdlog::logger>("flowd@" + std::to_string(reinterpret_cast<std::uintptr_t>(this)), sink);
  if (!config_.file.empty()) {
    // A log file is written in blocks; a flush every second keeps `tail -f` current at low traffic.
    spdlog::register_logger(out_);
    spdlog::flush_every(std::chrono::seconds(1));
  }
  out_->set_level(spdlog::level::trace);
  out_->flush_on(config_.file.empty() ? spdlog::level::trace : spdlog::level::warn);
}

Logger::~Logger() {
  flush();
  if (!config_.file.empty()) spdlog::drop(out_->name());
}

void Logger::flush() { out_->flush(); }

void Logger::begin(std::string& line, LogLevel level, std::string_view module, std::string_view message) {
  if (config_.format == LogFormat::JsonObject) {
    line += "{\"time\":\"";
    append_time(line);
    line += "\", \"level\":\"";
    line += level_name(level);
    line += "\", \"module\":\"";
    append_escaped(line, module, true);
    line += "\", \"message\":\"";
    append_escaped(line, message, true);
    line += '"';
  } else {
    line += "time=";
    append_time(line);
    line += " level=";
    line += level_name(level);
    line += " module=";
    if (module.empty()) line += "\"\"";
    else line += module;
    line += " message=\"";
    append_escaped(line, message, false);
    line += '"';
  }
}

void Logger::field(std::string& line, std::string_view key, std::string_view value, bool quoted) {
  bool json = config_.format == LogFormat::JsonObject;
  if (json) {
    line += ", \"";
    append_escaped(line, key, true);
    line += "\":";
  } else {
    line += ' ';
    line += key;
    line += '=';
  }
  if (quoted) {
    line += '"';
    append_escaped(line, value, json);
    line += '"';
  } else {
    line += value;
  }
}

void Logger::finish(std::string& line, LogLevel level) {
  if (config_.format == LogFormat::JsonObject) line += '}';
  // The line is complete: hand it over as is (no format string to parse).
  out_->log(t_line_time, spdlog::source_loc{}, to_spdlog(level), spdlog::string_view_t(line.data(), line.size()));
}

void Logger::write(LogLevel level, std::string_view module, std::string_view message,
                   std::initializer_list<LogField> fields) {
  write(level, module, message, std::span<const LogField>(fields.begin(), fields.size()));
}

void Logger::write(LogLevel level, std::string_view module, std::string_view message,
                   std::span<const LogField> fields) {
  if (!enabled(level)) return;
  thread_local std::string line;
  line.clear();
  begin(line, level, module, message);
  for (const auto& f : fields) field(line, f.key, f.value, f.quoted);
  finish(line, level);
}

}  // namespace flowd
