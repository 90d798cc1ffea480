// Black-box tests of examples/relay/relay.json: a line relay where each client gets its own tcp:Client
// connection to an upstream service; each line goes upstream with "\n" and the answer is passed back as
// it arrives until a chunk ends with "\n". Upstream down: `ERR upstream unavailable: ...`; upstream slow:
// `ERR upstream: Read timed out ...` after upstreamTimeout; either way the connection stays open and
// the next line tries again.
//
// Upstreams: examples/echo/echo.json (answers each chunk upper-cased, so "hello\n" comes back as
// "HELLO\n") or an in-test server (TestUpstream) whose accepted connections the test answers by hand,
// so a "slow" upstream is one the test has not answered yet. Every test starts its own flowd
// processes with -Cport=0. Every wait is bounded by a deadline; nothing sleeps.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/line_client.hpp"
#include "support/test_upstream.hpp"
#include "support/many_clients.hpp"
#include "support/test_client.hpp"

#ifndef FLOWD_SOURCE_DIR
#error "FLOWD_SOURCE_DIR must be defined (the project source directory)"
#endif

namespace flowd::test {
namespace {

using namespace std::chrono_literals;

std::string relay_flow() { return std::string(FLOWD_SOURCE_DIR) + "/examples/relay/relay.json"; }
std::string echo_flow() { return std::string(FLOWD_SOURCE_DIR) + "/examples/echo/echo.json"; }

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string upper(std::string s) {
  for (char& ch : s)
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  return s;
}

// Reads exactly expected.size() bytes and compares them with `expected`.
::testing::AssertionResult reply_is(TestClient& client, const std::string& expected,
                                    Deadline deadline = deadline_in(kDefaultTimeout)) {
  const std::string got = client.expect(expected, deadline);
  if (got == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to read " << printable(expected) << " but read "
                                       << printable(got) << " (" << client.last_error() << ")";
}

::testing::AssertionResult exchange(TestClient& client, const std::string& line, const std::string& expected,
                                    Deadline deadline = deadline_in(kDefaultTimeout)) {
  if (!client.send(line + "\n", deadline))
    return ::testing::AssertionFailure() << "sending " << printable(line) << " failed: " << client.last_error();
  return reply_is(client, expected, deadline) << " [after sending " << printable(line) << "]";
}

// Nothing has arrived (and the connection is open) right now.
::testing::AssertionResult nothing_yet(TestClient& client) {
  const std::string got = client.read_some(65536, Clock::now() - 1s);
  if (!got.empty()) return ::testing::AssertionFailure() << "expected nothing yet but read " << printable(got);
  if (client.peer_closed()) return ::testing::AssertionFailure() << "the relay closed the connection";
  return ::testing::AssertionSuccess();
}

std::string unavailable(int port) {
  return "ERR upstream unavailable: cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused\r\n";
}

class RelayTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure()) return;
    for (std::size_t i = 0; i < procs_.size(); ++i)
      std::cerr << "[output of flowd #" << i << " (" << procs_[i]->argv()[2] << ")]" << procs_[i]->log_tail(60);
  }

  FlowdProcess& start(const std::string& flow, const std::vector<std::string>& extra = {}, int port = 0) {
    auto p = std::make_unique<FlowdProcess>();
    std::vector<std::string> args{"-Cport=" + std::to_string(port)};
    args.insert(args.end(), extra.begin(), extra.end());
    p->start(flow, args);
    procs_.push_back(std::move(p));
    return *procs_.back();
  }
  FlowdProcess& start_relay(int upstream_port, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"-CupstreamPort=" + std::to_string(upstream_port)};
    args.insert(args.end(), extra.begin(), extra.end());
    return start(relay_flow(), args);
  }

  std::vector<std::unique_ptr<FlowdProcess>> procs_;
};

#define ASSERT_LISTENING(proc) \
  ASSERT_GT((proc).port(), 0) << "flowd did not log `listening on 127.0.0.1:PORT` within 10 s" << (proc).log_tail()

// (1) Lines go through the relay to the echo service and come back upper-cased.
TEST_F(RelayTest, LinesComeBackUpperCasedFromTheEchoUpstream) {
  FlowdProcess& echo = start(echo_flow());
  ASSERT_LISTENING(echo);
  FlowdProcess& relay = start_relay(echo.port());
  ASSERT_LISTENING(relay);

  TestClient c(relay.port());
  ASSERT_TRUE(c.connected()) << c.last_error();
  EXPECT_TRUE(exchange(c, "hello", "HELLO\n"));
  EXPECT_TRUE(exchange(c, "Mixed Case 123", "MIXED CASE 123\n"));
  EXPECT_TRUE(exchange(c, "", "\n"));
  EXPECT_TRUE(exchange(c, "caf\xc3\xa9 ok", "CAF\xc3\xa9 OK\n"));  // toUpperAscii leaves the é alone
  // A \r\n from the client is line framing: the relay sends the line without it.
  ASSERT_TRUE(c.send("crlf\r\n"));
  EXPECT_TRUE(reply_is(c, "CRLF\n"));
  // One upstream connection for this client (made in onConnect), kept for all its lines.
  EXPECT_EQ(echo.count_occurrences("message=\"client connected\""), 1u) << echo.log_tail();
  c.close();
  EXPECT_TRUE(echo.wait_for_log("message=\"client left\" chunks=5")) << echo.log_tail();
  EXPECT_EQ(relay.count_occurrences("level=WARN"), 0u) << relay.log_tail();
}

// (2) 50 concurrent clients, 20 lines each (closed loop: each sends its next line when the answer
// to the previous one has come): every answer correct and in order.
TEST_F(RelayTest, FiftyConcurrentClientsTwentyLinesEach) {
  constexpr std::size_t kClients = 50;
  constexpr int kLines = 20;
  FlowdProcess& echo = start(echo_flow());
  ASSERT_LISTENING(echo);
  FlowdProcess& relay = start_relay(echo.port());
  ASSERT_LISTENING(relay);

  auto line_of = [](std::size_t client, int n) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "client-%02zu line-%02d", client, n);
    return std::string(buf);
  };
  std::vector<std::string> expected(kClients);
  for (std::size_t i = 0; i < kClients; ++i)
    for (int n = 0; n < kLines; ++n) expected[i] += upper(line_of(i, n)) + "\n";

  ManyClients mc(relay.port());
  std::vector<int> sent(kClients, 0);
  std::vector<std::string> problems;
  const auto t0 = Clock::now();
  mc.on_event = [&](std::size_t i, ManyClients::Event e) {
    auto& c = mc[i];
    if (e == ManyClients::Event::Connected) {
      if (mc.send(i, line_of(i, 0) + "\n")) sent[i] = 1;
      return;
    }
    if (e == ManyClients::Event::Ended) {
      problems.push_back("client " + std::to_string(i) + " was disconnected");
      return;
    }
    if (expected[i].compare(0, c.in.size(), c.in) != 0) {
      if (problems.empty()) problems.push_back("client " + std::to_string(i) + " got " + printable(c.in));
      return;
    }
    const auto answered = static_cast<int>(std::count(c.in.begin(), c.in.end(), '\n'));
    if (answered == sent[i] && sent[i] < kLines && mc.send(i, line_of(i, sent[i]) + "\n")) ++sent[i];
  };
  for (std::size_t i = 0; i < kClients; ++i) mc.start_connect();
  const bool done = mc.pump_until(
      [&] {
        if (!problems.empty()) return true;
        for (std::size_t i = 0; i < kClients; ++i)
          if (mc[i].in.size() < expected[i].size()) return false;
        return true;
      },
      deadline_in(30s));
  const double took = seconds_since(t0);
  ASSERT_TRUE(problems.empty()) << problems.front() << relay.log_tail();
  ASSERT_TRUE(done) << "not every client got its 20 answers within 30 s";
  for (std::size_t i = 0; i < kClients; ++i) EXPECT_EQ(mc[i].in, expected[i]) << "client " << i;
  std::cout << "[figure] relay: " << kClients << " clients x " << kLines << " lines = " << kClients * kLines
            << " round trips through relay and echo in " << took << " s ("
            << static_cast<double>(kClients * kLines) / took << " lines/s)\n";
  EXPECT_EQ(echo.count_occurrences("message=\"client connected\""), kClients) << echo.log_tail();
  EXPECT_EQ(relay.count_occurrences("level=WARN"), 0u) << relay.log_tail();
  EXPECT_EQ(relay.count_occurrences("level=ERROR"), 0u) << relay.log_tail();
}

// (3) Upstream down: an ERR line, the connection stays open; once the upstream is up, the next line
// connects and goes through.
TEST_F(RelayTest, UpstreamDownGivesAnErrLineAndTheNextLineTriesAgain) {
  const int down = unused_port();
  ASSERT_GT(down, 0);
  FlowdProcess& relay = start_relay(down);
  ASSERT_LISTENING(relay);

  TestClient c(relay.port());
  ASSERT_TRUE(c.connected()) << c.last_error();
  EXPECT_TRUE(exchange(c, "hello", unavailable(down)));
  EXPECT_TRUE(exchange(c, "again", unavailable(down)));
  EXPECT_TRUE(relay.wait_for_log("level=WARN module=relay message=\"upstream unavailable\" error=\"cannot connect to "
                                 "127.0.0.1:" + std::to_string(down) + ": Connection refused\""))
      << relay.log_tail();

  FlowdProcess& echo = start(echo_flow(), {}, down);
  ASSERT_LISTENING(echo);
  ASSERT_EQ(echo.port(), down);
  EXPECT_TRUE(exchange(c, "third", "THIRD\n"));
  EXPECT_TRUE(exchange(c, "fourth", "FOURTH\n"));
  EXPECT_EQ(echo.count_occurrences("message=\"client connected\""), 1u) << echo.log_tail();
}

// (4) An upstream that accepts and never answers: ERR after upstreamTimeout (0.5 s), not a hang; the
// relay drops that upstream connection, and the next line reconnects. An answer is passed on as it
// arrives, in pieces, until its newline.
TEST_F(RelayTest, SlowUpstreamGivesAnErrAfterTheTimeoutAndTheNextLineReconnects) {
  TestUpstream up;
  ASSERT_GT(up.port(), 0);
  FlowdProcess& relay = start_relay(up.port(), {"-CupstreamTimeout=0.5"});
  ASSERT_LISTENING(relay);

  TestClient c(relay.port());
  ASSERT_TRUE(c.connected()) << c.last_error();
  auto first = up.accept();  // made by onConnect
  ASSERT_TRUE(first);
  const std::string timed_out = "ERR upstream: Read timed out after 0.5 s waiting for 127.0.0.1:" +
                                std::to_string(up.port()) + " (the client's timeout)\r\n";
  const auto t0 = Clock::now();
  ASSERT_TRUE(c.send("hello\n"));
  EXPECT_EQ(first->read_exact(6), "hello\n");
  EXPECT_TRUE(reply_is(c, timed_out, deadline_in(5s)));
  const double took = seconds_since(t0);
  std::cout << "[figure] relay: ERR for a silent upstream after " << took << " s (upstreamTimeout 0.5 s)\n";
  EXPECT_GE(took, 0.45);
  EXPECT_LT(took, 2.0);
  EXPECT_TRUE(relay.wait_for_log("level=WARN module=relay message=\"upstream failed\" error=\"Read timed out after "
                                 "0.5 s waiting for 127.0.0.1:" + std::to_string(up.port())))
      << relay.log_tail();
  EXPECT_TRUE(first->wait_closed()) << "the relay kept the failed upstream connection open";

  // The next line reconnects; the answer comes in two pieces, each passed on as it arrives.
  ASSERT_TRUE(c.send("again\n"));
  auto second = up.accept();
  ASSERT_TRUE(second) << "the relay did not reconnect" << relay.log_tail();
  EXPECT_EQ(second->read_exact(6), "again\n");
  ASSERT_TRUE(second->send("fi"));
  EXPECT_TRUE(reply_is(c, "fi"));
  ASSERT_TRUE(second->send("ne\n"));
  EXPECT_TRUE(reply_is(c, "ne\n"));
  EXPECT_EQ(relay.count_occurrences("message=\"upstream failed\""), 1u) << relay.log_tail();
}

// (5) Lines sent in one write are relayed one at a time, in order.
TEST_F(RelayTest, PipelinedLinesComeBackInOrder) {
  FlowdProcess& echo = start(echo_flow());
  ASSERT_LISTENING(echo);
  FlowdProcess& relay = start_relay(echo.port());
  ASSERT_LISTENING(relay);

  TestClient c(relay.port());
  ASSERT_TRUE(c.connected()) << c.last_error();
  std::string wire, expected;
  for (int i = 0; i < 30; ++i) {
    const std::string line = "pipelined " + std::to_string(i);
    wire += line + (i % 2 == 0 ? "\n" : "\r\n");
    expected += upper(line) + "\n";
  }
  ASSERT_TRUE(c.send(wire));
  EXPECT_TRUE(reply_is(c, expected));
  // Each line was its own round trip upstream: echo saw 30 chunks.
  c.close();
  EXPECT_TRUE(echo.wait_for_log("message=\"client left\" chunks=30")) << echo.log_tail();
}

// (6) A handler waiting for its upstream does not hold up another client of the same relay, even with
// one event-loop thread: B's line is answered while A's handler still waits.
TEST_F(RelayTest, AWaitingHandlerDoesNotBlockAnotherClient) {
  TestUpstream up;
  ASSERT_GT(up.port(), 0);
  FlowdProcess& relay = start_relay(up.port(), {"--threads=1"});
  ASSERT_LISTENING(relay);

  TestClient a(relay.port());
  ASSERT_TRUE(a.connected()) << a.last_error();
  auto peer_a = up.accept();
  ASSERT_TRUE(peer_a);
  TestClient b(relay.port());
  ASSERT_TRUE(b.connected()) << b.last_error();
  auto peer_b = up.accept();
  ASSERT_TRUE(peer_b);

  ASSERT_TRUE(a.send("slow\n"));
  ASSERT_EQ(peer_a->read_exact(5), "slow\n");  // A's handler now waits in readBytes
  const auto t0 = Clock::now();
  ASSERT_TRUE(b.send("fast\n"));
  ASSERT_EQ(peer_b->read_exact(5), "fast\n");
  ASSERT_TRUE(peer_b->send("FAST\n"));
  EXPECT_TRUE(reply_is(b, "FAST\n", deadline_in(2s)));
  std::cout << "[figure] relay: B answered in " << seconds_since(t0) * 1000 << " ms while A's handler waited\n";
  EXPECT_TRUE(nothing_yet(a));

  ASSERT_TRUE(peer_a->send("SLOW\n"));
  EXPECT_TRUE(reply_is(a, "SLOW\n"));
  // Both go on normally.
  ASSERT_TRUE(b.send("next\n"));
  EXPECT_EQ(peer_b->read_exact(5), "next\n");
  ASSERT_TRUE(peer_b->send("NEXT\n"));
  EXPECT_TRUE(reply_is(b, "NEXT\n"));
}

}  // namespace
}  // namespace flowd::test
