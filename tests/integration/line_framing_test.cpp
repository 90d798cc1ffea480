// Black-box tests of line framing (the listener option `"framing": "line"` with `maxLineLength`),
// through tests/flows/line_echo.json: every line comes back as `[line]\r\n` and is logged as
// `line N: <line>` with a per-connection counter; onError logs `connection error`, onClose
// `closed after N lines`.
//
// Every test starts its own flowd with -Cport=0. All waits are bounded by deadlines; a wait that
// must time out (nothing may arrive) is a read with a deadline, never a sleep.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/line_client.hpp"
#include "support/test_client.hpp"

#ifndef FLOWD_SOURCE_DIR
#error "FLOWD_SOURCE_DIR must be defined (the project source directory)"
#endif

namespace flowd::test {
namespace {

using namespace std::chrono_literals;

std::string line_echo_flow() { return std::string(FLOWD_SOURCE_DIR) + "/tests/flows/line_echo.json"; }
std::string log_message(const std::string& text) { return "message=\"" + text + "\""; }
std::string echoed(const std::string& line) { return "[" + line + "]\r\n"; }

// Reads exactly expected.size() bytes and compares them with `expected`.
::testing::AssertionResult reply_is(TestClient& client, const std::string& expected,
                                    Deadline deadline = deadline_in(kDefaultTimeout)) {
  const std::string got = client.expect(expected, deadline);
  if (got == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to read " << printable(expected) << " but read "
                                       << printable(got) << " (" << client.last_error() << ")";
}

::testing::AssertionResult exchange(TestClient& client, const std::string& wire, const std::string& expected,
                                    Deadline deadline = deadline_in(kDefaultTimeout)) {
  if (!client.send(wire, deadline))
    return ::testing::AssertionFailure() << "sending " << printable(wire) << " failed: " << client.last_error();
  return reply_is(client, expected, deadline);
}

// Nothing at all arrives within `window`: a read with a deadline that must time out.
::testing::AssertionResult nothing_within(TestClient& client, std::chrono::milliseconds window) {
  const std::string got = client.read_some(65536, deadline_in(window));
  if (!got.empty())
    return ::testing::AssertionFailure() << "expected nothing within " << window.count() << " ms but read "
                                         << printable(got);
  if (client.peer_closed())
    return ::testing::AssertionFailure() << "expected nothing within " << window.count()
                                         << " ms but the server closed the connection (" << client.last_error()
                                         << ")";
  return ::testing::AssertionSuccess();
}

// VmRSS of a process in KiB, from /proc/PID/status; nullopt if it cannot be read.
std::optional<long> vm_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return std::nullopt;
}

class LineFramingTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && flowd_) std::cerr << "[flowd output at the end of the failed test]" << flowd_->log_tail(80);
  }

  int start_flowd(const std::vector<std::string>& extra = {}) {
    flowd_ = std::make_unique<FlowdProcess>();
    std::vector<std::string> args{"-Cport=0"};
    args.insert(args.end(), extra.begin(), extra.end());
    flowd_->start(line_echo_flow(), args);
    return flowd_->port();
  }

  std::string tail() const { return flowd_ ? flowd_->log_tail() : std::string("\n(flowd not started)\n"); }

  // The log contains `a` before `b` (both present).
  ::testing::AssertionResult logged_in_order(const std::vector<std::string>& texts) {
    const std::string log = flowd_->log();
    std::size_t previous = 0;
    for (const auto& t : texts) {
      const std::size_t pos = log.find(t, previous);
      if (pos == std::string::npos)
        return ::testing::AssertionFailure() << "the log does not contain " << t << " (in this order)";
      previous = pos + t.size();
    }
    return ::testing::AssertionSuccess();
  }

  std::unique_ptr<FlowdProcess> flowd_;
};

#define START_FLOWD(port_var, ...)                                  \
  const int port_var = start_flowd(__VA_ARGS__);                    \
  ASSERT_GT(port_var, 0) << "flowd did not log `listening on 127.0.0.1:PORT` within 10 s" << tail()

#define CONNECT(client_var, port_var)             \
  TestClient client_var(port_var);                \
  ASSERT_TRUE(client_var.connected()) << "connect: " << client_var.last_error() << tail()

// The error line of the flow's onError: `level=ERROR ... message="connection error" error="..."`.
const std::regex kOnErrorLine(R"(level=ERROR .*message="connection error".* error=)");

// ---------------------------------------------------------------------------------------------

TEST_F(LineFramingTest, CheckAcceptsTheFlow) {
  const CommandResult r = run_command({"check", line_echo_flow()});
  ASSERT_FALSE(r.timed_out) << "flowd check did not finish:\n" << r.output;
  EXPECT_FALSE(r.signaled) << "flowd check crashed:\n" << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count_lines(r.output), 1u) << "expected a one-line summary, got:\n" << r.output;
}

TEST_F(LineFramingTest, ByteByByteLineIsOneEvent) {
  START_FLOWD(port);
  CONNECT(client, port);  // TestClient sets TCP_NODELAY: each send() below is its own segment

  const std::string wire = "hello world\r\n";
  const Deadline deadline = deadline_in(5s);
  for (char c : wire) ASSERT_TRUE(client.send(std::string(1, c), deadline)) << client.last_error() << tail();
  ASSERT_TRUE(reply_is(client, echoed("hello world"))) << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("line 1: hello world"))) << tail();

  // The next line is number 2: the thirteen sends made exactly one event.
  ASSERT_TRUE(exchange(client, "next\n", echoed("next"))) << "a stray reply arrived before [next]" << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("line 2: next"))) << tail();
  EXPECT_EQ(flowd_->count_occurrences("message=\"line 1:"), 1u) << tail();
  EXPECT_EQ(flowd_->count_occurrences("message=\"line 2:"), 1u) << tail();
  EXPECT_EQ(flowd_->count_occurrences("message=\"line 3:"), 0u) << tail();
  EXPECT_EQ(flowd_->count_occurrences("level=ERROR"), 0u) << tail();
}

TEST_F(LineFramingTest, CoalescedLinesAreSeparateEventsInOrder) {
  START_FLOWD(port);
  CONNECT(client, port);

  ASSERT_TRUE(exchange(client, "a\nb\r\nc\n", echoed("a") + echoed("b") + echoed("c"))) << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("line 3: c"))) << tail();
  EXPECT_TRUE(logged_in_order({log_message("line 1: a"), log_message("line 2: b"), log_message("line 3: c")}))
      << tail();
  ASSERT_TRUE(nothing_within(client, 100ms)) << "only three lines were sent" << tail();

  client.close();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("closed after 3 lines"))) << tail();
}

TEST_F(LineFramingTest, CrlfAndLfBothEndALine) {
  START_FLOWD(port);
  CONNECT(client, port);

  ASSERT_TRUE(exchange(client, "lf\n", echoed("lf"))) << tail();
  ASSERT_TRUE(exchange(client, "crlf\r\n", echoed("crlf"))) << tail();
  // "\r\n" split across two sends is still one terminator.
  ASSERT_TRUE(client.send("split\r")) << client.last_error();
  ASSERT_TRUE(nothing_within(client, 100ms)) << "a line ending in \\r is not complete yet" << tail();
  ASSERT_TRUE(exchange(client, "\n", echoed("split"))) << tail();
  // Only the \r right before the \n belongs to the terminator; a lone \r does not end a line.
  ASSERT_TRUE(exchange(client, "in\rside\n", echoed("in\rside"))) << tail();
  ASSERT_TRUE(exchange(client, "two\r\r\n", echoed("two\r"))) << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("line 5: two\\r"))) << tail();
  EXPECT_EQ(flowd_->count_occurrences("level=ERROR"), 0u) << tail();
}

TEST_F(LineFramingTest, EmptyLinesAreDelivered) {
  START_FLOWD(port);
  CONNECT(client, port);

  ASSERT_TRUE(exchange(client, "\r\n", echoed(""))) << tail();
  ASSERT_TRUE(exchange(client, "\n", echoed(""))) << tail();
  ASSERT_TRUE(exchange(client, "\r\n\n\r\n", echoed("") + echoed("") + echoed(""))) << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("line 5: "))) << tail();
  EXPECT_EQ(flowd_->count_occurrences("message=\"line 6:"), 0u) << tail();
}

TEST_F(LineFramingTest, SplitUtf8CharacterIsWholeInTheLine) {
  START_FLOWD(port);
  CONNECT(client, port);

  ASSERT_TRUE(client.send("caf\xC3")) << client.last_error();
  // Bounded wait that must time out: the server has no line yet (and it keeps the two sends apart).
  ASSERT_TRUE(nothing_within(client, 200ms)) << tail();
  ASSERT_TRUE(exchange(client, "\xA9\n", echoed("caf\xC3\xA9"))) << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("line 1: caf\xC3\xA9"))) << tail();
  EXPECT_EQ(flowd_->count_occurrences("level=ERROR"), 0u) << "a whole UTF-8 character is no error" << tail();
  EXPECT_EQ(flowd_->count_occurrences("connection error"), 0u) << tail();
}

TEST_F(LineFramingTest, PartialLineIsHeldUntilItsNewline) {
  START_FLOWD(port);
  CONNECT(client, port);

  ASSERT_TRUE(client.send("abc")) << client.last_error();
  ASSERT_TRUE(nothing_within(client, 300ms)) << "a line without its newline must not be delivered" << tail();
  EXPECT_EQ(flowd_->count_occurrences("message=\"line "), 0u) << tail();
  ASSERT_TRUE(exchange(client, "def\n", echoed("abcdef"))) << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("line 1: abcdef"))) << tail();
}

TEST_F(LineFramingTest, LineOfExactlyMaxLineLengthIsAccepted) {
  START_FLOWD(port, {"-CmaxLine=64"});
  CONNECT(client, port);

  const std::string y(64, 'y');
  const std::string z(64, 'z');
  ASSERT_TRUE(exchange(client, y + "\n", echoed(y))) << tail();
  ASSERT_TRUE(exchange(client, z + "\r\n", echoed(z))) << tail();
  // 64 bytes, then the \r and the \n in later sends.
  ASSERT_TRUE(client.send(y)) << client.last_error();
  ASSERT_TRUE(nothing_within(client, 100ms)) << tail();
  ASSERT_TRUE(client.send("\r")) << client.last_error();
  ASSERT_TRUE(nothing_within(client, 100ms)) << tail();
  ASSERT_TRUE(exchange(client, "\n", echoed(y))) << tail();
  EXPECT_EQ(flowd_->count_occurrences("line too long"), 0u) << tail();
  EXPECT_EQ(flowd_->count_occurrences("level=ERROR"), 0u) << tail();
}

TEST_F(LineFramingTest, OverLongLineClosesTheConnection) {
  START_FLOWD(port, {"-CmaxLine=64"});
  CONNECT(bystander, port);
  CONNECT(client, port);
  ASSERT_TRUE(exchange(bystander, "before\n", echoed("before"))) << tail();

  ASSERT_TRUE(client.send(std::string(65, 'x'))) << client.last_error();
  const ReadResult r = client.read_until_closed(deadline_in(5s));
  EXPECT_TRUE(r.data.empty()) << "nothing should be echoed for the over-long line, got " << printable(r.data);
  ASSERT_TRUE(r.closed) << "65 bytes without a newline (maxLineLength 64) must close the connection within 5 s: "
                        << client.last_error() << tail();

  EXPECT_TRUE(flowd_->wait_for_log("line too long")) << tail();
  EXPECT_TRUE(flowd_->wait_for_log(std::regex(R"(level=ERROR .*message="connection error".* error=".*line too long)")))
      << "the connection's onError must get an error whose message contains `line too long`" << tail();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("closed after 0 lines"))) << "onClose must run" << tail();

  // The other connection is untouched.
  ASSERT_TRUE(exchange(bystander, "after\n", echoed("after"))) << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("line 2: after"))) << tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("closed after 0 lines")), 1u) << tail();
}

TEST_F(LineFramingTest, LongStreamWithoutNewlineIsNotBuffered) {
  START_FLOWD(port, {"-CmaxLine=1024"});
  CONNECT(client, port);
  const auto rss_before = vm_rss_kib(flowd_->pid());
  ASSERT_TRUE(rss_before.has_value()) << "cannot read /proc/" << flowd_->pid() << "/status";

  // 1 MiB without a newline, in 64 KiB writes. Once the server has closed the connection the sends
  // fail with EPIPE or ECONNRESET: that is expected, and ends the stream.
  const std::string block(64 * 1024, 'q');
  const Deadline send_deadline = deadline_in(10s);
  std::size_t sent = 0;
  int send_errno = 0;
  while (sent < 1024 * 1024 && send_errno == 0) {
    std::size_t off = 0;
    while (off < block.size()) {
      const ssize_t n = ::send(client.fd(), block.data() + off, block.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{client.fd(), POLLOUT, 0};
        const int pr = ::poll(&p, 1, poll_timeout_ms(send_deadline));
        ASSERT_GE(pr, 0) << std::strerror(errno);
        ASSERT_TRUE(pr > 0 || Clock::now() < send_deadline)
            << "the server neither reads nor closes: sending stalled after " << sent + off << " bytes" << tail();
        continue;
      }
      send_errno = errno;
      break;
    }
    sent += off;
  }
  if (send_errno != 0) {
    ASSERT_TRUE(send_errno == EPIPE || send_errno == ECONNRESET)
        << "unexpected send error after " << sent << " bytes: " << std::strerror(send_errno);
  }

  const ReadResult r = client.read_until_closed(deadline_in(5s));
  EXPECT_TRUE(r.data.empty()) << "nothing should be echoed, got " << r.data.size() << " bytes";
  ASSERT_TRUE(r.closed) << "the connection must be closed after more than 1024 bytes without a newline ("
                        << client.last_error() << "; " << sent << " bytes sent)" << tail();
  EXPECT_TRUE(flowd_->wait_for_log("line too long")) << tail();
  EXPECT_TRUE(flowd_->wait_for_log(kOnErrorLine)) << tail();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("closed after 0 lines"))) << tail();

  const auto rss_after = vm_rss_kib(flowd_->pid());
  ASSERT_TRUE(rss_after.has_value()) << "cannot read /proc/" << flowd_->pid() << "/status";
  EXPECT_LT(*rss_after, 64 * 1024) << "flowd's VmRSS is " << *rss_after << " KiB (was " << *rss_before
                                   << " KiB before the stream)" << tail();
  RecordProperty("vm_rss_before_kib", std::to_string(*rss_before));
  RecordProperty("vm_rss_after_kib", std::to_string(*rss_after));

  // The server is still serving.
  CONNECT(next, port);
  ASSERT_TRUE(exchange(next, "still here\n", echoed("still here"))) << tail();
}

TEST_F(LineFramingTest, LinesAfterAnInvalidUtf8LineStillWork) {
  START_FLOWD(port);
  CONNECT(client, port);

  // One send: a good line, an invalid one, a good one. The invalid line fails its onBytes event only.
  ASSERT_TRUE(exchange(client, "ok1\n\xff\xfe\r\nok2\n", echoed("ok1") + echoed("ok2"))) << tail();
  EXPECT_TRUE(flowd_->wait_for_log(kOnErrorLine)) << "the failed line must reach onError" << tail();
  EXPECT_TRUE(flowd_->wait_for_log(std::regex("level=ERROR .*UTF-8", std::regex::icase)))
      << "the log should say the line is not UTF-8" << tail();

  // The invalid line on its own, then more lines.
  ASSERT_TRUE(client.send("\xc3(\n")) << client.last_error();
  ASSERT_TRUE(exchange(client, "ok3\n", echoed("ok3")))
      << "nothing may be written for the invalid line, and the connection must stay open" << tail();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("line 3: ok3"))) << tail();
  EXPECT_TRUE(logged_in_order({log_message("line 1: ok1"), "connection error", log_message("line 2: ok2"),
                               "connection error", log_message("line 3: ok3")}))
      << tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("connection error")), 2u) << tail();

  client.close();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("closed after 3 lines"))) << tail();
}

}  // namespace
}  // namespace flowd::test
