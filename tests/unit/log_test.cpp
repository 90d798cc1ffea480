// Logger: the logfmt and JSON line shapes, escaping of client-supplied text, key-values, and the
// level filter. Lines are captured with an spdlog ostream sink.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include "runtime/log_values.hpp"
#include "runtime/value.hpp"
#include "support/log.hpp"

namespace flowd {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

class LogTest : public ::testing::Test {
 protected:
  std::unique_ptr<Logger> make(LogLevel level = LogLevel::Info, LogFormat format = LogFormat::Logfmt) {
    out_.str("");
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    return std::make_unique<Logger>(LogConfig{level, format, ""}, sink);
  }
  // Everything written so far.
  std::string text(Logger& log) {
    log.flush();
    return out_.str();
  }
  // The single line written (without its newline); fails unless exactly one line was written.
  std::string line(Logger& log) {
    std::string t = text(log);
    EXPECT_FALSE(t.empty());
    EXPECT_EQ(t.back(), '\n');
    EXPECT_EQ(t.find('\n'), t.size() - 1) << t;
    return t.empty() ? t : t.substr(0, t.size() - 1);
  }
  // The message="..." body of a logfmt line for `message`.
  std::string logfmt_message(std::string_view message) {
    auto log = make();
    log->write(LogLevel::Info, "chat", message);
    std::string l = line(*log);
    auto at = l.find(" message=\"");
    EXPECT_NE(at, std::string::npos) << l;
    EXPECT_EQ(l.back(), '"');
    return l.substr(at + 10, l.size() - at - 11);
  }

  std::ostringstream out_;
};

const char* kTime = R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2}))";

// ---- logfmt

TEST_F(LogTest, WritesALogfmtLine) {
  auto log = make();
  log->write(LogLevel::Info, "chat", "User1 connected");
  std::string l = line(*log);
  EXPECT_TRUE(std::regex_match(l, std::regex(std::string("time=") + kTime + " level=INFO module=chat message=\"User1 connected\"")))
      << l;
}

TEST_F(LogTest, NamesEveryLevel) {
  auto log = make(LogLevel::Debug);
  log->write(LogLevel::Debug, "m", "a");
  log->write(LogLevel::Info, "m", "b");
  log->write(LogLevel::Warn, "m", "c");
  log->write(LogLevel::Error, "m", "d");
  std::string t = text(*log);
  std::regex re(std::string("time=") + kTime + " level=(DEBUG|INFO|WARN|ERROR) module=m message=\"(.)\"");
  std::vector<std::string> levels;
  std::istringstream in(t);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, re)) << l;
    levels.push_back(m[2].str() + m[3].str());
  }
  EXPECT_THAT(levels, ::testing::ElementsAre("DEBUGa", "INFOb", "WARNc", "ERRORd"));
}

TEST_F(LogTest, QuotesAnEmptyModule) {
  auto log = make();
  log->write(LogLevel::Info, "", "x");
  EXPECT_THAT(line(*log), HasSubstr(" module=\"\" message=\"x\""));
}

TEST_F(LogTest, EscapesQuotesBackslashesAndLineBreaks) {
  EXPECT_EQ(logfmt_message("say \"hi\""), R"(say \"hi\")");
  EXPECT_EQ(logfmt_message("a\\b"), R"(a\\b)");
  EXPECT_EQ(logfmt_message("one\ntwo\rthree\tfour"), R"(one\ntwo\rthree\tfour)");
}

TEST_F(LogTest, KeepsAForgedLineOnOneLine) {
  auto log = make();
  log->write(LogLevel::Info, "chat", "x\"\ntime=2020-01-01T00:00:00.000Z level=ERROR module=chat message=\"forged");
  std::string t = text(*log);
  EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 1) << t;
}

TEST_F(LogTest, EscapesControlCharactersAsUnicode) {
  EXPECT_EQ(logfmt_message("\x1b[31mred"), R"(\u001b[31mred)");
  EXPECT_EQ(logfmt_message(std::string("nul\0x", 5)), R"(nul\u0000x)");
  EXPECT_EQ(logfmt_message("bell\x07"), R"(bell\u0007)");
  EXPECT_EQ(logfmt_message("del\x7f"), R"(del\u007f)");
}

TEST_F(LogTest, EscapesC1ControlCharacters) {
  EXPECT_EQ(logfmt_message("csi\xC2\x9B" "2J"), R"(csi\u009b2J)");
  EXPECT_EQ(logfmt_message("\xC2\x80"), R"(\u0080)");
  // U+00A0 (no-break space) is printable: kept as UTF-8.
  EXPECT_EQ(logfmt_message("\xC2\xA0"), "\xC2\xA0");
}

TEST_F(LogTest, KeepsValidUtf8) {
  EXPECT_EQ(logfmt_message("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"), "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST_F(LogTest, ShowsBytesThatAreNotUtf8) {
  EXPECT_EQ(logfmt_message("bad\xff"), R"(bad\xff)");
  EXPECT_EQ(logfmt_message("\xC3"), R"(\xc3)");                        // truncated sequence
  EXPECT_EQ(logfmt_message("\xC0\xAF"), R"(\xc0\xaf)");                // overlong '/'
  EXPECT_EQ(logfmt_message("\xED\xA0\x80"), R"(\xed\xa0\x80)");        // surrogate
  EXPECT_EQ(logfmt_message("\xE2\x82" "A"), R"(\xe2\x82A)");           // cut short by an ASCII byte
}

TEST_F(LogTest, QuotesStringKeyValuesAndWritesRawOnesAsIs) {
  auto log = make();
  log->write(LogLevel::Info, "chat", "m", {{"user", "bob \"b\""}, {"count", "3", false}, {"empty", ""}});
  EXPECT_THAT(line(*log), EndsWith(R"( message="m" user="bob \"b\"" count=3 empty="")"));
}

TEST_F(LogTest, WritesFlowValuesByType) {
  auto log = make();
  std::vector<std::string> keys = {"n", "f", "b", "s", "nil", "e", "bytes"};
  Value values[] = {Value::integer(-3),   Value::floating(1.5),  Value::boolean(true), Value::string("a b"),
                    Value(),              make_error("gone"),    Value::bytes("AB")};
  write_log_values(*log, LogLevel::Warn, "chat", Value::string("msg"), make_error("oops \"x\""), keys, values, 7);
  std::string l = line(*log);
  EXPECT_THAT(l, HasSubstr(" level=WARN "));
  EXPECT_THAT(l, EndsWith(R"( message="msg" error="oops \"x\"" n=-3 f=1.5 b=true s="a b" nil=() e="gone" bytes="[65,66]")"));
}

TEST_F(LogTest, LeavesOutTheErrorKeyWithoutAnError) {
  auto log = make();
  std::vector<std::string> keys;
  write_log_values(*log, LogLevel::Info, "chat", Value::string("m"), Value(), keys, nullptr, 0);
  EXPECT_THAT(line(*log), EndsWith(" message=\"m\""));
}

TEST_F(LogTest, EscapesClientTextInKeyValues) {
  auto log = make();
  std::vector<std::string> keys = {"input"};
  Value values[] = {Value::string("a\nb\x1b")};
  write_log_values(*log, LogLevel::Info, "chat", Value::string("got"), Value(), keys, values, 1);
  EXPECT_THAT(line(*log), EndsWith(R"( input="a\nb\u001b")"));
}

// ---- level filter

TEST_F(LogTest, DropsLinesBelowTheLevel) {
  auto log = make(LogLevel::Info);
  EXPECT_FALSE(log->enabled(LogLevel::Debug));
  EXPECT_TRUE(log->enabled(LogLevel::Info));
  EXPECT_TRUE(log->enabled(LogLevel::Error));
  log->write(LogLevel::Debug, "chat", "hidden");
  std::vector<std::string> keys;
  write_log_values(*log, LogLevel::Debug, "chat", Value::string("hidden too"), Value(), keys, nullptr, 0);
  EXPECT_EQ(text(*log), "");
  log->write(LogLevel::Info, "chat", "shown");
  EXPECT_THAT(line(*log), HasSubstr("message=\"shown\""));
}

TEST_F(LogTest, KeepsOnlyErrorsAtTheErrorLevel) {
  auto log = make(LogLevel::Error);
  log->write(LogLevel::Warn, "chat", "w");
  log->write(LogLevel::Error, "chat", "e");
  EXPECT_THAT(line(*log), HasSubstr("level=ERROR"));
}

TEST_F(LogTest, ParsesLevelAndFormatNames) {
  LogLevel l = LogLevel::Info;
  EXPECT_TRUE(parse_log_level("debug", l));
  EXPECT_EQ(l, LogLevel::Debug);
  EXPECT_TRUE(parse_log_level("WARNING", l));
  EXPECT_EQ(l, LogLevel::Warn);
  EXPECT_TRUE(parse_log_level("Error", l));
  EXPECT_EQ(l, LogLevel::Error);
  EXPECT_FALSE(parse_log_level("verbose", l));
  LogFormat f = LogFormat::Logfmt;
  EXPECT_TRUE(parse_log_format("json", f));
  EXPECT_EQ(f, LogFormat::JsonObject);
  EXPECT_FALSE(parse_log_format("JSON", f));
}

// ---- JSON

TEST_F(LogTest, WritesAJsonObject) {
  auto log = make(LogLevel::Info, LogFormat::JsonObject);
  log->write(LogLevel::Info, "chat", "User1 connected", {{"user", "User1"}, {"count", "2", false}});
  std::string l = line(*log);
  ASSERT_TRUE(nlohmann::json::accept(l)) << l;
  nlohmann::json j = nlohmann::json::parse(l);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 6u);
  EXPECT_TRUE(std::regex_match(j["time"].get<std::string>(), std::regex(kTime))) << j["time"];
  EXPECT_EQ(j["level"], "INFO");
  EXPECT_EQ(j["module"], "chat");
  EXPECT_EQ(j["message"], "User1 connected");
  EXPECT_EQ(j["user"], "User1");
  EXPECT_EQ(j["count"], 2);
}

TEST_F(LogTest, RoundTripsEscapedTextThroughJson) {
  auto log = make(LogLevel::Info, LogFormat::JsonObject);
  std::string message = "q\" b\\ n\n r\r t\t esc\x1b del\x7f csi\xC2\x9B \xC3\xA9";
  log->write(LogLevel::Info, "chat", message);
  std::string l = line(*log);
  ASSERT_TRUE(nlohmann::json::accept(l)) << l;
  EXPECT_EQ(nlohmann::json::parse(l)["message"], message);
  EXPECT_THAT(l, HasSubstr(R"(esc\u001b del\u007f csi\u009b)"));
}

TEST_F(LogTest, ShowsInvalidBytesAsTextInJson) {
  auto log = make(LogLevel::Info, LogFormat::JsonObject);
  log->write(LogLevel::Info, "chat", "bad\xff");
  std::string l = line(*log);
  ASSERT_TRUE(nlohmann::json::accept(l)) << l;
  EXPECT_EQ(nlohmann::json::parse(l)["message"], "bad\\xff");
}

TEST_F(LogTest, WritesFlowValuesAsJsonMembers) {
  auto log = make(LogLevel::Info, LogFormat::JsonObject);
  std::vector<std::string> keys = {"n", "f", "ok", "s"};
  Value values[] = {Value::integer(7), Value::floating(0.25), Value::boolean(false), Value::string("x\ny")};
  write_log_values(*log, LogLevel::Error, "chat", Value::string("failed"), make_error("boom"), keys, values, 4);
  std::string l = line(*log);
  ASSERT_TRUE(nlohmann::json::accept(l)) << l;
  nlohmann::json j = nlohmann::json::parse(l);
  EXPECT_EQ(j["level"], "ERROR");
  EXPECT_EQ(j["message"], "failed");
  EXPECT_EQ(j["error"], "boom");
  EXPECT_EQ(j["n"], 7);
  EXPECT_EQ(j["f"], 0.25);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["s"], "x\ny");
}

TEST_F(LogTest, WritesNilAsValidJson) {
  auto log = make(LogLevel::Info, LogFormat::JsonObject);
  std::vector<std::string> keys = {"k"};
  Value values[] = {Value()};
  write_log_values(*log, LogLevel::Info, "chat", Value::string("m"), Value(), keys, values, 1);
  std::string l = line(*log);
  EXPECT_TRUE(nlohmann::json::parse(l)["k"].is_null());
}

TEST_F(LogTest, WritesNonFiniteFloatsAsValidJson) {
  auto log = make(LogLevel::Info, LogFormat::JsonObject);
  std::vector<std::string> keys = {"x"};
  Value values[] = {Value::floating(std::nan(""))};
  write_log_values(*log, LogLevel::Info, "chat", Value::string("m"), Value(), keys, values, 1);
  std::string l = line(*log);
  EXPECT_TRUE(nlohmann::json::accept(l));
}

TEST(LogEscape, EscapesForLogfmtAndJsonAlike) {
  std::string a, b;
  append_escaped(a, "x\"\\\n\x01", false);
  append_escaped(b, "x\"\\\n\x01", true);
  EXPECT_EQ(a, R"(x\"\\\n\u0001)");
  EXPECT_EQ(b, R"(x\"\\\n\u0001)");
}

TEST(LogEscape, DiffersOnlyInHowItShowsInvalidBytes) {
  std::string a, b;
  append_escaped(a, "\xfe", false);
  append_escaped(b, "\xfe", true);
  EXPECT_EQ(a, R"(\xfe)");
  EXPECT_EQ(b, R"(\\xfe)");
}

}  // namespace
}  // namespace flowd
