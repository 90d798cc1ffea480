// Black-box integration tests: they run the real flowd binary on flows/chat.json (the chat service
// of the WSO2 Integrator: BI tutorial) and talk to it over loopback sockets.
//
// Every test starts its own flowd with -Cport=0 and learns the port from the
// `listening on 127.0.0.1:PORT` log line. All waits are bounded by deadlines (poll / condition
// variables); nothing sleeps to synchronize.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_client.hpp"

#ifndef FLOWD_SOURCE_DIR
#error "FLOWD_SOURCE_DIR must be defined (the project source directory)"
#endif

namespace flowd::test {
namespace {

using namespace std::chrono_literals;

const std::string kPrompt = "Enter your username: ";

std::string chat_flow() { return std::string(FLOWD_SOURCE_DIR) + "/flows/chat.json"; }
std::string welcome(const std::string& name) { return "Welcome " + name + "! Enter your message:"; }
std::string sent_reply(const std::string& msg) { return "Sent: " + msg + ". Enter your next message:"; }
// The logfmt `message="..."` field of a log line (the texts used here need no escaping).
std::string log_message(const std::string& text) { return "message=\"" + text + "\""; }

// Printable rendering of raw bytes for assertion messages.
std::string printable(const std::string& bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    switch (c) {
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string regex_escape(const std::string& text) {
  static const std::string special = R"(\^$.|?*+()[]{}/-)";
  std::string out;
  for (char c : text) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// Reads exactly expected.size() bytes and compares them with `expected`.
::testing::AssertionResult reply_is(TestClient& client, const std::string& expected,
                                    Deadline deadline = deadline_in(kDefaultTimeout)) {
  const std::string got = client.expect(expected, deadline);
  if (got == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to read " << printable(expected) << " but read "
                                       << printable(got) << " (" << client.last_error() << ")";
}

// Sends `wire` and expects exactly `expected` back.
::testing::AssertionResult exchange(TestClient& client, const std::string& wire, const std::string& expected,
                                    Deadline deadline = deadline_in(kDefaultTimeout)) {
  if (!client.send(wire, deadline))
    return ::testing::AssertionFailure() << "sending " << printable(wire) << " failed: " << client.last_error();
  return reply_is(client, expected, deadline);
}

// Reads the prompt, sends `name\r\n` and expects the welcome line.
::testing::AssertionResult login(TestClient& client, const std::string& name,
                                 Deadline deadline = deadline_in(kDefaultTimeout)) {
  if (auto r = reply_is(client, kPrompt, deadline); !r) return r << " [waiting for the username prompt]";
  if (auto r = exchange(client, name + "\r\n", welcome(name), deadline); !r)
    return r << " [logging in as " << name << "]";
  return ::testing::AssertionSuccess();
}

// Runs `flowd run flow args...` and expects it to refuse: a normal non-zero exit, without ever
// logging `listening on`.
::testing::AssertionResult run_is_refused(const std::string& flow, const std::vector<std::string>& args) {
  FlowdProcess p;
  p.start(flow, args);
  const auto code = p.wait_exit(deadline_in(10s));
  if (!code) return ::testing::AssertionFailure() << "flowd run is still running after 10 s" << p.log_tail();
  p.wait_output_closed(deadline_in(2s));
  if (const auto sig = p.term_signal())
    return ::testing::AssertionFailure() << "flowd run died from signal " << *sig << p.log_tail();
  if (*code == 0) return ::testing::AssertionFailure() << "flowd run exited with code 0" << p.log_tail();
  if (p.log().find("listening on") != std::string::npos)
    return ::testing::AssertionFailure() << "flowd run started listening before refusing" << p.log_tail();
  return ::testing::AssertionSuccess() << "exit code " << *code;
}

struct Position {
  long line = 0;
  long column = 0;
  std::string text;  // the whole output line
};

// All `<file_name>:LINE:COL: error` diagnostics in `output` (file_name may be preceded by a directory).
std::vector<Position> diagnostics_for(const std::string& output, const std::string& file_name) {
  const std::regex re(regex_escape(file_name) + R"(:(\d+):(\d+): error)");
  std::vector<Position> found;
  std::size_t start = 0;
  while (start <= output.size()) {
    std::size_t eol = output.find('\n', start);
    if (eol == std::string::npos) eol = output.size();
    const std::string line = output.substr(start, eol - start);
    std::smatch m;
    if (std::regex_search(line, m, re)) found.push_back({std::stol(m[1].str()), std::stol(m[2].str()), line});
    start = eol + 1;
  }
  return found;
}

// The 1-based line `n` of `text` (without its newline).
std::string nth_line(const std::string& text, long n) {
  std::size_t start = 0;
  for (long i = 1; i < n; ++i) {
    start = text.find('\n', start);
    if (start == std::string::npos) return {};
    ++start;
  }
  const std::size_t eol = text.find('\n', start);
  return text.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
}

class ChatFlowTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && flowd_) std::cerr << "[flowd output at the end of the failed test]" << flowd_->log_tail(80);
  }

  // Starts `flowd run flow -Cport=0 extra...`; returns the port from the log, or 0.
  int start_flowd(const std::string& flow, const std::vector<std::string>& extra = {}) {
    flowd_ = std::make_unique<FlowdProcess>();
    std::vector<std::string> args{"-Cport=0"};
    args.insert(args.end(), extra.begin(), extra.end());
    flowd_->start(flow, args);
    return flowd_->port();
  }

  std::string tail() const { return flowd_ ? flowd_->log_tail() : std::string("\n(flowd not started)\n"); }

  std::unique_ptr<FlowdProcess> flowd_;
};

#define START_FLOWD(port_var, flow)                                                                     \
  const int port_var = start_flowd(flow);                                                               \
  ASSERT_GT(port_var, 0) << "flowd did not log `listening on 127.0.0.1:PORT` within 10 s" << tail()

#define CONNECT(client_var, port_var)             \
  TestClient client_var(port_var);                \
  ASSERT_TRUE(client_var.connected()) << "connect: " << client_var.last_error() << tail()

// ---------------------------------------------------------------------------------------------

TEST_F(ChatFlowTest, TutorialTranscript) {
  START_FLOWD(port, chat_flow());
  CONNECT(client, port);

  ASSERT_TRUE(reply_is(client, kPrompt)) << tail();
  ASSERT_TRUE(exchange(client, "User1\r\n", "Welcome User1! Enter your message:")) << tail();
  ASSERT_TRUE(exchange(client, "Hello World\r\n", "Sent: Hello World. Enter your next message:")) << tail();

  EXPECT_TRUE(flowd_->wait_for_log(std::regex(R"(^time=\S+ level=INFO module=chat message="User1 connected")")))
      << "expected a logfmt line `time=... level=INFO module=chat message=\"User1 connected\"`" << tail();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("Welcome User1"))) << tail();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("User1: Hello World"))) << tail();

  client.close();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("User1 disconnected")))
      << "no `User1 disconnected` log line after the client closed" << tail();
}

TEST_F(ChatFlowTest, HundredConcurrentClientsKeepTheirOwnUsernames) {
  constexpr int kClients = 100;
  constexpr int kMessages = 3;
  START_FLOWD(port, chat_flow());

  auto name = [](int i) { return "user" + std::to_string(i); };
  auto msg = [](int i, int k) { return "msg-" + std::to_string(i) + "-" + std::to_string(k); };
  std::mt19937 rng(20261121);
  std::vector<int> order(kClients);
  std::iota(order.begin(), order.end(), 0);

  // All 100 connect at once, before any of them is served.
  std::vector<TestClient> clients(kClients);
  Deadline phase = deadline_in(10s);
  for (int i = 0; i < kClients; ++i)
    ASSERT_TRUE(clients[i].connect(port, phase)) << "client " << i << ": " << clients[i].last_error() << tail();
  std::shuffle(order.begin(), order.end(), rng);
  for (int i : order) ASSERT_TRUE(reply_is(clients[i], kPrompt, phase)) << "client " << i << tail();

  // Every client sends its name before anyone reads the welcome.
  std::shuffle(order.begin(), order.end(), rng);
  for (int i : order)
    ASSERT_TRUE(clients[i].send(name(i) + "\r\n", phase)) << "client " << i << ": " << clients[i].last_error();
  std::shuffle(order.begin(), order.end(), rng);
  for (int i : order) ASSERT_TRUE(reply_is(clients[i], welcome(name(i)), phase)) << "client " << i << tail();

  // Rounds: everyone sends message k (in random order), then the replies are read in another order.
  // Each client has at most one message in flight, so each message is one chunk on the server.
  for (int k = 0; k < kMessages; ++k) {
    phase = deadline_in(5s);
    std::shuffle(order.begin(), order.end(), rng);
    for (int i : order)
      ASSERT_TRUE(clients[i].send(msg(i, k) + "\r\n", phase))
          << "client " << i << " message " << k << ": " << clients[i].last_error();
    std::shuffle(order.begin(), order.end(), rng);
    for (int i : order)
      ASSERT_TRUE(reply_is(clients[i], sent_reply(msg(i, k)), phase))
          << "client " << i << " (" << name(i) << ") message " << k << tail();
  }

  const Deadline log_deadline = deadline_in(5s);
  std::vector<std::string> missing;
  for (int i = 0; i < kClients; ++i) {
    if (!flowd_->wait_for_log(log_message(name(i) + " connected"), log_deadline))
      missing.push_back(name(i) + " connected");
    for (int k = 0; k < kMessages; ++k) {
      const std::string line = name(i) + ": " + msg(i, k);
      if (!flowd_->wait_for_log(log_message(line), log_deadline)) missing.push_back(line);
    }
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " expected log messages are missing, the first: "
                               << (missing.empty() ? "" : missing.front()) << tail();

  EXPECT_EQ(flowd_->count_occurrences(" connected\""), static_cast<std::size_t>(kClients))
      << "expected exactly one `connected` log line per client" << tail();
  for (int i = 0; i < kClients; ++i)
    EXPECT_EQ(flowd_->count_occurrences(log_message(name(i) + " connected")), 1u) << name(i);
}

TEST_F(ChatFlowTest, AbruptDisconnectsDoNotHurtOthers) {
  constexpr int kAbrupt = 10;
  constexpr int kClients = 20;
  START_FLOWD(port, chat_flow());

  // Clients 0..9 ("rstN") will reset their connection, 10..19 ("okN") keep chatting.
  auto name = [](int i) { return (i < kAbrupt ? "rst" : "ok") + std::to_string(i); };
  std::vector<TestClient> clients(kClients);
  Deadline phase = deadline_in(10s);
  for (int i = 0; i < kClients; ++i)
    ASSERT_TRUE(clients[i].connect(port, phase)) << "client " << i << ": " << clients[i].last_error() << tail();
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(login(clients[i], name(i), phase)) << tail();
  for (int i = 0; i < kClients; ++i)
    ASSERT_TRUE(exchange(clients[i], "first from " + name(i) + "\r\n", sent_reply("first from " + name(i)), phase))
        << tail();

  // Mid-session resets: half of them right after sending a message whose reply they never read
  // (the server's write may hit the reset connection), half while idle.
  for (int i = 0; i < kAbrupt; ++i) {
    if (i % 2 == 0) {
      ASSERT_TRUE(clients[i].send("last words of " + name(i) + "\r\n", phase)) << clients[i].last_error();
    }
    clients[i].set_linger_zero_and_close();
  }

  // The others keep chatting normally.
  for (int k = 0; k < 3; ++k) {
    phase = deadline_in(5s);
    for (int i = kAbrupt; i < kClients; ++i) {
      const std::string text = name(i) + " says " + std::to_string(k);
      ASSERT_TRUE(exchange(clients[i], text + "\r\n", sent_reply(text), phase)) << tail();
    }
  }
  // One `disconnected` line per reset client.
  const Deadline log_deadline = deadline_in(5s);
  for (int i = kAbrupt; i < kClients; ++i)
    EXPECT_TRUE(flowd_->wait_for_log(log_message(name(i) + ": " + name(i) + " says 2"), log_deadline)) << tail();
  for (int i = 0; i < kAbrupt; ++i)
    EXPECT_TRUE(flowd_->wait_for_log(log_message(name(i) + " disconnected"), log_deadline))
        << "no `disconnected` line for the reset client " << name(i) << tail();

  // Close the others gracefully, then stop the server.
  for (int i = kAbrupt; i < kClients; ++i) clients[i].close();
  for (int i = kAbrupt; i < kClients; ++i)
    EXPECT_TRUE(flowd_->wait_for_log(log_message(name(i) + " disconnected"), log_deadline)) << name(i) << tail();

  ASSERT_TRUE(flowd_->send_signal(SIGTERM)) << "flowd is no longer running" << tail();
  const auto code = flowd_->wait_exit(deadline_in(5s));
  ASSERT_TRUE(code.has_value()) << "flowd still running 5 s after SIGTERM" << tail();
  EXPECT_EQ(*code, 0) << tail();
  flowd_->wait_output_closed(deadline_in(2s));

  for (int i = 0; i < kClients; ++i)
    EXPECT_EQ(flowd_->count_occurrences(log_message(name(i) + " disconnected")), 1u)
        << "expected exactly one `disconnected` line for " << name(i) << tail();
  EXPECT_EQ(flowd_->count_occurrences(" disconnected\""), static_cast<std::size_t>(kClients)) << tail();
  EXPECT_EQ(flowd_->count_occurrences(" connected\""), static_cast<std::size_t>(kClients)) << tail();
}

TEST_F(ChatFlowTest, InvalidUtf8IsAnErrorAndTheConnectionSurvives) {
  START_FLOWD(port, chat_flow());
  CONNECT(client, port);
  ASSERT_TRUE(login(client, "utf8user")) << tail();

  ASSERT_TRUE(client.send(std::string("\xff\xfe\r\n"))) << client.last_error();
  EXPECT_TRUE(flowd_->wait_for_log(std::regex(R"(level=ERROR .*message="Connection error".* error=)")))
      << "expected a level=ERROR line with message=\"Connection error\" and an error=... key" << tail();

  ASSERT_TRUE(exchange(client, "ok\r\n", sent_reply("ok")))
      << "the connection should survive a failed onBytes event, and nothing should have been written "
         "for the invalid chunk"
      << tail();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("utf8user: ok"))) << tail();
  EXPECT_EQ(flowd_->count_occurrences("message=\"utf8user: "), 1u)
      << "the invalid chunk must not reach the `name: message` log node" << tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("utf8user disconnected")), 0u)
      << "the connection was closed after the invalid chunk" << tail();
}

TEST_F(ChatFlowTest, LineSentByteByByteIsProcessedInOrder) {
  START_FLOWD(port, chat_flow());
  CONNECT(client, port);
  ASSERT_TRUE(login(client, "bytes")) << tail();

  const std::string text = "abcdef";
  for (char c : text) {
    const std::string one(1, c);
    ASSERT_TRUE(exchange(client, one, sent_reply(one))) << "byte " << printable(one) << tail();
  }

  ASSERT_TRUE(flowd_->wait_for_log(log_message("bytes: f"))) << tail();
  const std::string log = flowd_->log();
  std::size_t previous = 0;
  for (char c : text) {
    const std::size_t pos = log.find(log_message(std::string("bytes: ") + c));
    ASSERT_NE(pos, std::string::npos) << "no log line for byte " << c << tail();
    EXPECT_GE(pos, previous) << "log line for byte " << c << " is out of order" << tail();
    previous = pos;
  }
}

TEST_F(ChatFlowTest, SigtermExitsZeroWithinASecond) {
  START_FLOWD(port, chat_flow());
  std::vector<TestClient> clients(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(clients[i].connect(port)) << clients[i].last_error() << tail();
    ASSERT_TRUE(login(clients[i], "term" + std::to_string(i))) << tail();
  }
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(flowd_->wait_for_log(log_message("term" + std::to_string(i) + " connected"))) << tail();

  const auto signalled_at = Clock::now();
  ASSERT_TRUE(flowd_->send_signal(SIGTERM)) << tail();
  const auto code = flowd_->wait_exit(signalled_at + 1s);
  ASSERT_TRUE(code.has_value()) << "flowd still running 1 s after SIGTERM" << tail();
  EXPECT_EQ(*code, 0) << tail();
  flowd_->wait_output_closed(deadline_in(2s));

  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(flowd_->count_occurrences(log_message("term" + std::to_string(i) + " disconnected")), 1u)
        << "onClose must run exactly once for every open connection at shutdown" << tail();
  for (int i = 0; i < 3; ++i) {
    const ReadResult r = clients[i].read_until_closed(deadline_in(2s));
    EXPECT_TRUE(r.closed) << "client " << i << " connection not closed: " << clients[i].last_error();
  }

  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0) << std::strerror(errno);
  const int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int bound = ::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  EXPECT_EQ(bound, 0) << "cannot bind 127.0.0.1:" << port << " again: " << std::strerror(bind_errno);
  if (bound == 0) {
    EXPECT_EQ(::listen(s, 1), 0) << std::strerror(errno);
  }
  ::close(s);
}

TEST_F(ChatFlowTest, SigintExitsZeroWithinASecond) {
  START_FLOWD(port, chat_flow());
  CONNECT(client, port);
  ASSERT_TRUE(login(client, "intuser")) << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("intuser connected"))) << tail();

  const auto signalled_at = Clock::now();
  ASSERT_TRUE(flowd_->send_signal(SIGINT)) << tail();
  const auto code = flowd_->wait_exit(signalled_at + 1s);
  ASSERT_TRUE(code.has_value()) << "flowd still running 1 s after SIGINT" << tail();
  EXPECT_EQ(*code, 0) << tail();
  flowd_->wait_output_closed(deadline_in(2s));
  EXPECT_EQ(flowd_->count_occurrences(log_message("intuser disconnected")), 1u) << tail();
}

TEST_F(ChatFlowTest, EditingThePromptNeedsNoRebuild) {
  TempDir dir;
  std::string flow = read_file(chat_flow());
  ASSERT_TRUE(replace_unique(flow, "Enter your username: ", "Who are you? "))
      << "flows/chat.json should contain the prompt exactly once";
  const std::string edited = dir.file("chat.json");
  write_file(edited, flow);

  START_FLOWD(port, edited);
  CONNECT(client, port);
  ASSERT_TRUE(reply_is(client, "Who are you? ")) << tail();
  ASSERT_TRUE(exchange(client, "Edith\r\n", welcome("Edith"))) << tail();
}

TEST_F(ChatFlowTest, CheckAcceptsChatFlow) {
  const CommandResult r = run_command({"check", chat_flow()});
  ASSERT_FALSE(r.timed_out) << "flowd check did not finish:\n" << r.output;
  EXPECT_FALSE(r.signaled) << "flowd check crashed:\n" << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count_lines(r.output), 1u) << "expected a one-line summary, got:\n" << r.output;
}

TEST_F(ChatFlowTest, CheckReportsTruncatedFlow) {
  TempDir dir;
  const std::string truncated = read_file(chat_flow()).substr(0, 300);
  const std::string path = dir.file("truncated.json");
  write_file(path, truncated);

  const CommandResult r = run_command({"check", path});
  ASSERT_FALSE(r.timed_out) << "flowd check did not finish:\n" << r.output;
  EXPECT_FALSE(r.signaled) << "flowd check crashed:\n" << r.output;
  EXPECT_NE(r.exit_code, 0) << r.output;
  const auto diags = diagnostics_for(r.output, "truncated.json");
  ASSERT_FALSE(diags.empty()) << "expected `.../truncated.json:LINE:COL: error ...`, got:\n" << r.output;
  const long lines = static_cast<long>(count_lines(truncated));
  for (const auto& d : diags) {
    EXPECT_GE(d.line, 1) << d.text;
    EXPECT_LE(d.line, lines) << "the file has " << lines << " lines: " << d.text;
    EXPECT_GE(d.column, 1) << d.text;
    EXPECT_LE(d.column, static_cast<long>(nth_line(truncated, d.line).size()) + 1) << d.text;
  }

  EXPECT_TRUE(run_is_refused(path, {"-Cport=0"}));
}

TEST_F(ChatFlowTest, CheckReportsMisspeltVariable) {
  TempDir dir;
  std::string flow = read_file(chat_flow());
  ASSERT_TRUE(replace_unique(flow, "messageResult.trim()", "mesageResult.trim()"));
  const std::string path = dir.file("misspelt.json");
  write_file(path, flow);
  const std::size_t at = flow.find("mesageResult");
  ASSERT_NE(at, std::string::npos);
  const long expected_line = 1 + static_cast<long>(std::count(flow.begin(), flow.begin() + static_cast<long>(at), '\n'));

  const CommandResult r = run_command({"check", path});
  ASSERT_FALSE(r.timed_out) << "flowd check did not finish:\n" << r.output;
  EXPECT_FALSE(r.signaled) << "flowd check crashed:\n" << r.output;
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("mesageResult"), std::string::npos) << r.output;
  const auto diags = diagnostics_for(r.output, "misspelt.json");
  ASSERT_FALSE(diags.empty()) << "expected `.../misspelt.json:LINE:COL: error ...`, got:\n" << r.output;
  const auto hit = std::find_if(diags.begin(), diags.end(), [&](const Position& d) { return d.line == expected_line; });
  ASSERT_NE(hit, diags.end()) << "no diagnostic points at line " << expected_line << " (where `mesageResult` is: "
                              << nth_line(flow, expected_line) << "), got:\n"
                              << r.output;
  EXPECT_GE(hit->column, 1) << hit->text;
  EXPECT_LE(hit->column, static_cast<long>(nth_line(flow, expected_line).size()) + 1) << hit->text;

  EXPECT_TRUE(run_is_refused(path, {"-Cport=0"}));
}

TEST_F(ChatFlowTest, UnknownConfigurableIsRefused) {
  // -Cport=0 as well, so that a flowd that wrongly accepts `nope` does not grab port 3000 and the
  // refusal can only be about `nope`.
  EXPECT_TRUE(run_is_refused(chat_flow(), {"-Cport=0", "-Cnope=1"})) << "-Cnope=1 must be refused";
  EXPECT_TRUE(run_is_refused(chat_flow(), {"-Cport=abc"})) << "-Cport=abc must be refused";
}

}  // namespace
}  // namespace flowd::test
