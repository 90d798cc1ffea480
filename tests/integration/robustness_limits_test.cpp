// Robustness of the real flowd binary under load and hostile clients (label: robustness).
//
// Most tests run tests/flows/limits.json, a line echo whose listener limits are configurables:
// "ready\r\n" on connect, "[line]\r\n" for each line, "flood N" writes N lines of 67 bytes, "spin"
// loops for ever; onError logs message="connection error" error=..., onClose logs message="closed"
// lines=N. Clients are driven by one epoll loop (support/many_clients.hpp), not a thread each.
//
// Every test prints the figure it reaches on a "[figure]" line. Every wait is bounded by a deadline;
// the only timed waits are measurement windows and the pacing of clients that must send at a rate.
// All traffic is on loopback.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/many_clients.hpp"
#include "support/test_client.hpp"

#ifndef FLOWD_SOURCE_DIR
#error "FLOWD_SOURCE_DIR must be defined (the project source directory)"
#endif

namespace flowd::test {
namespace {

using namespace std::chrono_literals;
using Conn = ManyClients::Conn;

const std::string kReady = "ready\r\n";
const std::string kClosed = "message=\"closed\"";
const std::string kConnectionError = "message=\"connection error\"";

std::string limits_flow() { return std::string(FLOWD_SOURCE_DIR) + "/tests/flows/limits.json"; }
std::string chat_flow() { return std::string(FLOWD_SOURCE_DIR) + "/flows/chat.json"; }

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string fixed(double v, int digits = 1) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

void figure(const std::string& text) { std::cout << "[figure] " << text << std::endl; }

// Printable rendering of raw bytes for assertion messages.
std::string printable(const std::string& bytes, std::size_t max = 200) {
  std::string out = "\"";
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '"' || c == '\\') (out += '\\') += static_cast<char>(c);
    else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (bytes.size() > max) out += "...";
  return out + "\"";
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
  return n;
}

// A fresh client connects, gets "ready" and an echo of `line`. Returns the whole time in ms, or
// nullopt (with `why`) if any step misses the deadline.
std::optional<double> fresh_client_round_trip(int port, Deadline deadline, std::string& why,
                                              const std::string& line = "ping") {
  const auto t0 = Clock::now();
  TestClient c;
  if (!c.connect(port, deadline)) {
    why = "connect: " + c.last_error();
    return std::nullopt;
  }
  const std::string ready = c.expect(kReady, deadline);
  if (ready != kReady) {
    why = "expected \"ready\\r\\n\", got " + printable(ready) + " (" + c.last_error() + ")";
    return std::nullopt;
  }
  if (!c.send(line + "\n", deadline)) {
    why = "send: " + c.last_error();
    return std::nullopt;
  }
  const std::string want = "[" + line + "]\r\n";
  const std::string echo = c.expect(want, deadline);
  if (echo != want) {
    why = "expected " + printable(want) + ", got " + printable(echo) + " (" + c.last_error() + ")";
    return std::nullopt;
  }
  return ms_since(t0);
}

class Robustness : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fd_limit_ = raise_fd_limit_to_hard(); }

  // flowd run tests/flows/limits.json -Cport=0 args...; sets port_.
  void start_limits(const std::vector<std::string>& args = {}) {
    std::vector<std::string> all{"-Cport=0"};
    all.insert(all.end(), args.begin(), args.end());
    flowd_.start(limits_flow(), all);
    port_ = flowd_.port();
    ASSERT_NE(port_, 0) << "flowd did not report its port" << flowd_.log_tail();
  }

  // SIGTERM, then waits for the exit and the end of the output: the log is final afterwards.
  std::optional<int> stop_flowd(Deadline deadline = deadline_in(10s)) {
    flowd_.send_signal(SIGTERM);
    auto code = flowd_.wait_exit(deadline);
    flowd_.wait_output_closed(deadline_in(5s));
    return code;
  }

  pid_t pid() const { return flowd_.pid(); }
  long rss_kib() const { return vm_rss_kib(flowd_.pid()).value_or(-1); }

  static long fd_limit_;
  FlowdProcess flowd_;
  int port_ = 0;
};

long Robustness::fd_limit_ = -1;

// ---------------------------------------------------------------------------------------------
// 1. 10,000 idle connections.

TEST_F(Robustness, TenThousandIdleConnectionsArePromptedAndANewClientIsStillAnsweredPromptly) {
  constexpr std::size_t kClients = 10000;
  if (fd_limit_ >= 0 && fd_limit_ < static_cast<long>(kClients + 200))
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit is " << fd_limit_ << "; this test needs " << kClients + 200;
  // The default cap is exactly 10,000 connections: leave room for the new client.
  ASSERT_NO_FATAL_FAILURE(start_limits({"-CmaxConnections=" + std::to_string(kClients + 100)}));

  // Warm up (lazily allocated buffers), then measure the baseline.
  std::string why;
  ASSERT_TRUE(fresh_client_round_trip(port_, deadline_in(5s), why)) << why << flowd_.log_tail();
  ASSERT_TRUE(flowd_.wait_for_count(kClosed, 1)) << flowd_.log_tail();
  const long rss_before = rss_kib();

  ManyClients clients(port_);
  const auto t0 = Clock::now();
  const std::size_t prompted = clients.open_prompted(kClients, kReady, deadline_in(60s), 512);
  const double open_s = ms_since(t0) / 1000;
  const long rss_after = rss_kib();
  ASSERT_EQ(prompted, kClients) << "only " << prompted << " of " << kClients << " connections got \"ready\" in "
                                << fixed(open_s) << " s" << flowd_.log_tail();
  EXPECT_EQ(clients.count_open(), kClients) << "some prompted connections were closed" << flowd_.log_tail();

  const auto answered = fresh_client_round_trip(port_, deadline_in(5s), why);
  ASSERT_TRUE(answered) << "with " << kClients << " idle connections a new client was not answered: " << why
                        << flowd_.log_tail();
  const double kib_per_conn = static_cast<double>(rss_after - rss_before) / kClients;
  figure(std::to_string(kClients) + " idle connections prompted in " + fixed(open_s) + " s; new client answered (ready + echo) in " +
         fixed(*answered) + " ms; flowd VmRSS " + std::to_string(rss_before) + " -> " + std::to_string(rss_after) +
         " KiB = " + fixed(kib_per_conn, 2) + " KiB per connection");
  EXPECT_LT(*answered, 200.0) << "a new client waited too long beside " << kClients << " idle connections";
  // Sanity bound, far above the figure: an idle connection must not hold a read buffer (64 KiB).
  EXPECT_LT(kib_per_conn, 32.0) << "an idle connection costs too much memory";
  EXPECT_TRUE(flowd_.running()) << flowd_.log_tail();
}

// ---------------------------------------------------------------------------------------------
// 2. The connection cap.

TEST_F(Robustness, ConnectionCapRefusesWithOneClearLine) {
  constexpr std::size_t kCap = 50;
  ASSERT_NO_FATAL_FAILURE(start_limits({"-CmaxConnections=" + std::to_string(kCap)}));
  ManyClients clients(port_);
  ASSERT_EQ(clients.open_prompted(kCap, kReady, deadline_in(10s)), kCap) << flowd_.log_tail();

  const std::size_t extra = clients.start_connect();
  const bool ended = clients.pump_until([&] { return clients[extra].ended(); }, deadline_in(5s));
  const std::string got = clients[extra].in;
  ASSERT_TRUE(ended) << "the client over the cap was not closed; it got " << printable(got) << flowd_.log_tail();
  EXPECT_TRUE(clients[extra].eof) << "closed with an error instead of a FIN: " << std::strerror(clients[extra].err);
  EXPECT_EQ(got.rfind("ERR server full", 0), 0u) << "got " << printable(got);
  EXPECT_EQ(count_of(got, "\n"), 1u) << "expected exactly one line, got " << printable(got);
  EXPECT_TRUE(got.size() >= 2 && got.substr(got.size() - 2) == "\r\n") << "got " << printable(got);

  double max_ms = 0;
  for (std::size_t i = 0; i < kCap; ++i) {
    const auto rt = clients.echo_round_trip(i, "still-" + std::to_string(i), deadline_in(5s));
    ASSERT_TRUE(rt) << "connection " << i << " under the cap no longer echoes" << flowd_.log_tail();
    max_ms = std::max(max_ms, *rt);
  }
  figure(std::to_string(kCap) + " connections at the cap; connection " + std::to_string(kCap + 1) + " refused with " +
         printable(got) + " then closed; the " + std::to_string(kCap) + " still echo (max " + fixed(max_ms, 2) + " ms)");
}

// ---------------------------------------------------------------------------------------------
// 3. Churn: ~1000 connects per second, every one ended with a reset.

TEST_F(Robustness, ChurnOfOneThousandConnectsAndResetsPerSecondLeaksNothing) {
  ASSERT_NO_FATAL_FAILURE(start_limits());
  std::string why;
  // Warm up (one connection served and closed), then the baseline of open descriptors.
  ASSERT_TRUE(fresh_client_round_trip(port_, deadline_in(5s), why)) << why << flowd_.log_tail();
  ASSERT_TRUE(flowd_.wait_for_count(kClosed, 1)) << flowd_.log_tail();
  const auto baseline = open_fd_count(pid());
  ASSERT_TRUE(baseline) << "cannot read /proc/" << pid() << "/fd";

  ManyClients clients(port_);
  std::size_t connected = 0, reset_at_once = 0, reset_after_echo = 0, connect_failed = 0, ended_by_server = 0;
  std::size_t send_failed = 0;
  clients.on_event = [&](std::size_t i, ManyClients::Event ev) {
    Conn& c = clients[i];
    switch (ev) {
      case ManyClients::Event::Connected:
        ++connected;
        if (i % 2 == 0) {
          clients.reset(i);
          ++reset_at_once;
        } else if (!clients.send(i, "e\n", deadline_in(1s))) {
          ++send_failed;
          clients.reset(i);
        }
        break;
      case ManyClients::Event::Data:
        if (c.in.find("[e]\r\n") != std::string::npos) {
          clients.reset(i);
          ++reset_after_echo;
        }
        break;
      case ManyClients::Event::Ended:
        if (c.failed) ++connect_failed;
        else ++ended_by_server;
        break;
    }
  };
  auto finished = [&] { return reset_at_once + reset_after_echo + connect_failed + ended_by_server + send_failed; };

  constexpr auto kPeriod = 10s;
  constexpr std::size_t kPerSecond = 1000;
  constexpr std::size_t kMaxInFlight = 2000;
  const auto t0 = Clock::now();
  const auto t_end = t0 + kPeriod;
  std::size_t started = 0;
  while (Clock::now() < t_end) {
    const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    const std::size_t target = static_cast<std::size_t>(elapsed_ms) * kPerSecond / 1000;
    while (started < target && started - finished() < kMaxInFlight) {
      const std::size_t i = clients.start_connect();
      ++started;
      if (clients[i].failed) ++connect_failed;
    }
    clients.pump(std::min(t_end, Clock::now() + 1ms));
  }
  const double period_s = ms_since(t0) / 1000;
  // Let the last ones finish; whatever is left has not had its echo.
  clients.pump_until([&] { return finished() >= started; }, deadline_in(10s));
  const std::size_t echo_missing = started - finished();
  clients.reset_all();

  const double rate = static_cast<double>(connected) / period_s;
  // Every connection that was accepted produces exactly one closed line (+1 for the warm-up).
  const std::size_t expected_closed = connected + 1;
  const bool all_closed = flowd_.wait_for_count(kClosed, expected_closed, deadline_in(15s));

  // Descriptors back to the baseline (polled: /proc has no change notification).
  std::size_t fds = 0;
  const auto fd_deadline = deadline_in(10s);
  for (;;) {
    fds = open_fd_count(pid()).value_or(0);
    if (fds <= *baseline + 2 || Clock::now() >= fd_deadline) break;
    std::this_thread::sleep_for(20ms);
  }

  const auto code = stop_flowd();
  const std::string log = flowd_.log();
  const std::size_t closed_lines = count_of(log, kClosed);
  figure(std::to_string(connected) + " connects in " + fixed(period_s) + " s (" + fixed(rate, 0) + "/s; " +
         std::to_string(reset_at_once) + " reset at once, " + std::to_string(reset_after_echo) +
         " reset after one echo, " + std::to_string(connect_failed) + " connect failures, " +
         std::to_string(echo_missing) + " echoes missing); closed lines " + std::to_string(closed_lines - 1) + " of " +
         std::to_string(connected) + "; flowd fds " + std::to_string(*baseline) + " before, " + std::to_string(fds) +
         " after");
  EXPECT_GE(rate, 900.0) << "the churn did not reach ~1000 connects per second";
  EXPECT_EQ(connect_failed, 0u) << flowd_.log_tail();
  EXPECT_EQ(ended_by_server, 0u) << "flowd closed connections it should have kept" << flowd_.log_tail();
  EXPECT_EQ(send_failed, 0u);
  EXPECT_EQ(echo_missing, 0u) << "connections that never got their echo" << flowd_.log_tail();
  EXPECT_TRUE(all_closed) << "fewer closed lines than accepted connections" << flowd_.log_tail();
  EXPECT_EQ(closed_lines, expected_closed) << "closed lines (incl. 1 warm-up) vs accepted connections"
                                           << flowd_.log_tail();
  EXPECT_LE(fds, *baseline + 2) << "flowd holds descriptors after every connection has closed";
  EXPECT_GE(fds + 2, *baseline);
  EXPECT_EQ(code, 0) << flowd_.log_tail();
}

// ---------------------------------------------------------------------------------------------
// 4. Out of file descriptors.

TEST_F(Robustness, FileDescriptorExhaustionBacksOffAndRecovers) {
  const std::string kBackoff = "cannot accept connections for now; backing off";
  flowd_.start_with_shell_prefix("ulimit -n 256", limits_flow(), {"-Cport=0"});
  port_ = flowd_.port();
  ASSERT_NE(port_, 0) << flowd_.log_tail();

  {
    // The shell's ulimit reached flowd itself.
    std::ifstream limits("/proc/" + std::to_string(pid()) + "/limits");
    std::string line;
    std::string nofile;
    while (std::getline(limits, line))
      if (line.rfind("Max open files", 0) == 0) nofile = line;
    ASSERT_NE(nofile.find(" 256 "), std::string::npos) << "flowd runs with: " << nofile;
  }
  constexpr std::size_t kClients = 400;
  ManyClients clients(port_);
  for (std::size_t i = 0; i < kClients; ++i) clients.start_connect();
  const bool backed_off =
      clients.pump_until([&] { return flowd_.count_occurrences(kBackoff) > 0; }, deadline_in(15s));
  ASSERT_TRUE(backed_off) << "no back-off WARN with " << kClients << " clients and 256 descriptors; "
                          << clients.count_prompted(kReady) << " served" << flowd_.log_tail();
  // Saturated: everything flowd could accept has been prompted.
  clients.pump_until([&] { return false; }, deadline_in(500ms));
  const std::size_t served = clients.count_prompted(kReady);

  const auto cpu0 = cpu_seconds(pid());
  const auto m0 = Clock::now();
  clients.pump_until([&] { return false; }, deadline_in(3s));  // the measurement window
  const auto cpu1 = cpu_seconds(pid());
  const double window_s = ms_since(m0) / 1000;
  ASSERT_TRUE(cpu0 && cpu1) << "cannot read /proc/" << pid() << "/stat";
  const double cpu_pct = (*cpu1 - *cpu0) / window_s * 100;
  EXPECT_TRUE(flowd_.running()) << flowd_.log_tail();

  clients.close_all();
  const auto r0 = Clock::now();
  std::string why;
  const auto answered = fresh_client_round_trip(port_, deadline_in(3s), why);
  const double recovery_ms = ms_since(r0);
  const std::size_t warnings = flowd_.count_occurrences(kBackoff);
  figure(std::to_string(served) + " of " + std::to_string(kClients) + " clients served under ulimit -n 256; flowd CPU " +
         fixed(cpu_pct, 2) + "% of one core over " + fixed(window_s, 1) + " s while saturated; back-off WARN logged " +
         std::to_string(warnings) + " time(s); new client served " + fixed(recovery_ms, 0) +
         " ms after the clients closed");
  EXPECT_LT(served, kClients) << "the descriptor limit was not reached";
  EXPECT_LT(cpu_pct, 5.0) << "flowd spins while out of descriptors" << flowd_.log_tail();
  EXPECT_TRUE(answered) << "flowd did not recover within 3 s: " << why << flowd_.log_tail();
  EXPECT_GE(warnings, 1u);
  EXPECT_LE(warnings, 3u) << "the back-off WARN is logged per attempt" << flowd_.log_tail();
}

// ---------------------------------------------------------------------------------------------
// 5. Lines without end.

TEST_F(Robustness, OneMebibyteLineAndSixtyFourMebibyteStreamWithoutNewline) {
  ASSERT_NO_FATAL_FAILURE(start_limits());
  const long rss0 = rss_kib();

  // 1 MiB without a newline: closed, "line too long".
  TestClient a(port_);
  ASSERT_TRUE(a.connected()) << a.last_error();
  ASSERT_EQ(a.expect(kReady), kReady) << a.last_error() << flowd_.log_tail();
  const auto ta = Clock::now();
  const std::string mib(1 << 20, 'a');
  const bool all_sent = a.send(mib, deadline_in(10s));
  const std::string send_error = all_sent ? "" : a.last_error();
  EXPECT_EQ(send_error.find("timed out"), std::string::npos) << "flowd stopped reading without closing: " << send_error;
  const ReadResult ra = a.read_until_closed(deadline_in(5s));
  EXPECT_TRUE(ra.closed) << "the 1 MiB line did not close the connection" << flowd_.log_tail();
  EXPECT_TRUE(ra.data.empty()) << "got " << printable(ra.data);
  const double a_ms = ms_since(ta);
  EXPECT_TRUE(flowd_.wait_for_log("line too long")) << flowd_.log_tail();

  // 64 MiB in 64 KiB writes until the socket fails.
  TestClient b(port_);
  ASSERT_TRUE(b.connected()) << b.last_error();
  ASSERT_EQ(b.expect(kReady), kReady) << b.last_error() << flowd_.log_tail();
  const std::string chunk(64 * 1024, 'b');
  constexpr std::size_t kTotal = 64u << 20;
  std::size_t sent = 0;
  long max_rss = rss_kib();
  std::string b_error;
  while (sent < kTotal) {
    if (!b.send(chunk, deadline_in(5s))) {
      b_error = b.last_error();
      break;
    }
    sent += chunk.size();
    max_rss = std::max(max_rss, rss_kib());
  }
  max_rss = std::max(max_rss, rss_kib());
  EXPECT_LT(sent, kTotal) << "flowd read 64 MiB without a newline";
  EXPECT_EQ(b_error.find("timed out"), std::string::npos) << "flowd stopped reading without closing: " << b_error;
  EXPECT_TRUE(b.read_until_closed(deadline_in(5s)).closed) << flowd_.log_tail();
  EXPECT_TRUE(flowd_.wait_for_count("line too long", 2)) << flowd_.log_tail();

  std::string why;
  const auto third = fresh_client_round_trip(port_, deadline_in(5s), why);
  EXPECT_TRUE(third) << "a third client is not served: " << why << flowd_.log_tail();
  figure("1 MiB line: closed after " + fixed(a_ms, 0) + " ms (" + (all_sent ? "all sent" : send_error) +
         "); 64 MiB stream: closed after " + std::to_string(sent / 1024) + " KiB (" + b_error + "); flowd VmRSS " +
         std::to_string(rss0) + " KiB at start, max " + std::to_string(max_rss) + " KiB; third client " +
         (third ? "echoed in " + fixed(*third, 2) + " ms" : "failed"));
  EXPECT_LT(max_rss, 64L * 1024) << "flowd's memory grew with the unterminated line";
}

// ---------------------------------------------------------------------------------------------
// 6. A client that never reads.

TEST_F(Robustness, ClientThatNeverReadsIsDisconnectedAtTheOutputLimit) {
  ASSERT_NO_FATAL_FAILURE(start_limits({"-CmaxOutputBytes=262144"}));
  ManyClients clients(port_);
  // A small receive window, so the kernel buffers little of the flood on the client side.
  const std::size_t flooded = clients.start_connect(4096);
  const std::size_t other = clients.start_connect();
  ASSERT_TRUE(clients.await_text(flooded, kReady)) << flowd_.log_tail();
  ASSERT_TRUE(clients.await_text(other, kReady)) << flowd_.log_tail();
  clients.pause_reading(flooded);
  const long rss0 = rss_kib();

  const auto t0 = Clock::now();
  ASSERT_TRUE(clients.send(flooded, "flood 100000\n"));
  double max_ms = 0, sum_ms = 0;
  long max_rss = rss_kib();
  for (int k = 0; k < 50; ++k) {
    const auto rt = clients.echo_round_trip(other, "rt" + std::to_string(k), deadline_in(5s));
    ASSERT_TRUE(rt) << "round trip " << k << " failed during the flood" << flowd_.log_tail();
    max_ms = std::max(max_ms, *rt);
    sum_ms += *rt;
    max_rss = std::max(max_rss, rss_kib());
  }
  const bool closed_logged = flowd_.wait_for_count(kClosed, 1, t0 + 10s);
  const double closed_ms = ms_since(t0);
  max_rss = std::max(max_rss, rss_kib());
  ASSERT_TRUE(closed_logged) << "the client that never reads was not disconnected within 10 s" << flowd_.log_tail();
  const std::string log = flowd_.log();
  const auto err_at = log.find("output limit exceeded");
  const auto closed_at = log.find(kClosed);
  EXPECT_NE(err_at, std::string::npos) << "no \"output limit exceeded\" error" << flowd_.log_tail();
  EXPECT_LT(err_at, closed_at) << "onError must come before onClose" << flowd_.log_tail();
  EXPECT_EQ(count_of(log, kClosed), 1u) << flowd_.log_tail();

  // The client side sees the end once it reads what the kernel buffered.
  clients.resume_reading(flooded);
  EXPECT_TRUE(clients.pump_until([&] { return clients[flooded].ended(); }, t0 + 10s))
      << "the connection is still open after " << clients[flooded].in.size() << " bytes" << flowd_.log_tail();
  const std::size_t got = clients[flooded].in.size();
  EXPECT_TRUE(clients.echo_round_trip(other, "after", deadline_in(5s))) << flowd_.log_tail();
  figure("never-reading client disconnected " + fixed(closed_ms, 0) + " ms after \"flood 100000\" (it got " +
         std::to_string(got) + " bytes of 6700000); flowd VmRSS " + std::to_string(rss0) + " -> max " +
         std::to_string(max_rss) + " KiB; another client's 50 round trips meanwhile: max " + fixed(max_ms, 2) +
         " ms, mean " + fixed(sum_ms / 50, 2) + " ms");
  EXPECT_LT(max_rss, 64L * 1024);
  EXPECT_LT(max_ms, 100.0) << "other clients stalled behind the flood";
}

// ---------------------------------------------------------------------------------------------
// 7. Idle timeout.

TEST_F(Robustness, IdleTimeoutClosesAnIdleConnection) {
  ASSERT_NO_FATAL_FAILURE(start_limits({"-CidleTimeout=0.5"}));
  ManyClients clients(port_);
  const std::size_t silent = clients.start_connect();
  const std::size_t active = clients.start_connect();
  ASSERT_TRUE(clients.await_text(silent, kReady)) << flowd_.log_tail();
  ASSERT_TRUE(clients.await_text(active, kReady)) << flowd_.log_tail();
  const auto t0 = Clock::now();
  int sent = 0;
  double max_ms = 0;
  for (auto tick = t0; tick < t0 + 2s; tick += 200ms) {
    // Pacing: the active client speaks every 200 ms; meanwhile the loop notices the silent one close.
    clients.pump_until([&] { return false; }, tick);
    const auto rt = clients.echo_round_trip(active, "tick" + std::to_string(sent), deadline_in(2s));
    ASSERT_TRUE(rt) << "the active client was cut after " << fixed(ms_since(t0), 0) << " ms" << flowd_.log_tail();
    max_ms = std::max(max_ms, *rt);
    ++sent;
  }
  clients.pump_until([&] { return clients[silent].ended(); }, t0 + 2s);
  const bool silent_closed = clients[silent].ended();
  const double silent_ms = silent_closed ? ms_between(t0, clients[silent].ended_at) : -1;
  const double active_ms = ms_since(t0);
  EXPECT_TRUE(silent_closed) << "the silent client is still open after 2 s" << flowd_.log_tail();
  EXPECT_TRUE(clients[silent].eof) << "the silent client was not closed with a FIN";
  EXPECT_FALSE(clients[active].ended()) << "the active client was closed" << flowd_.log_tail();
  EXPECT_TRUE(flowd_.wait_for_log("message=\"closed\" lines=0")) << flowd_.log_tail();
  EXPECT_EQ(flowd_.count_occurrences(kClosed), 1u) << flowd_.log_tail();
  figure("idleTimeout 0.5 s: the silent client was closed after " + fixed(silent_ms, 0) +
         " ms; the active client (a line every 200 ms) is open after " + fixed(active_ms, 0) + " ms and " +
         std::to_string(sent) + " echoes (max " + fixed(max_ms, 2) + " ms)");
}

// ---------------------------------------------------------------------------------------------
// 8. Slowloris.

TEST_F(Robustness, OneThousandTricklingClientsAreCutByTheLineTimeout) {
  constexpr std::size_t kClients = 1000;
  ASSERT_NO_FATAL_FAILURE(start_limits({"-ClineTimeout=1"}));
  ManyClients clients(port_);
  ASSERT_EQ(clients.open_prompted(kClients, kReady, deadline_in(30s)), kClients) << flowd_.log_tail();
  const std::size_t normal = clients.start_connect();
  ASSERT_TRUE(clients.await_text(normal, kReady)) << flowd_.log_tail();

  const auto t0 = Clock::now();
  std::size_t bytes_sent = 0;
  double max_ms = 0;
  int round_trips = 0;
  auto trickling = [&] {
    std::size_t n = 0;
    for (std::size_t i = 0; i < kClients; ++i)
      if (!clients[i].ended()) ++n;
    return n;
  };
  for (auto tick = t0; tick < t0 + 4s && trickling() > 0; tick += 300ms) {
    clients.pump_until([&] { return false; }, tick);  // pacing: one byte per client every 300 ms
    for (std::size_t i = 0; i < kClients; ++i)
      if (!clients[i].ended() && clients.send(i, "a", deadline_in(100ms))) ++bytes_sent;
    const auto rt = clients.echo_round_trip(normal, "n" + std::to_string(round_trips), deadline_in(2s));
    ASSERT_TRUE(rt) << "the normal client failed at " << fixed(ms_since(t0), 0) << " ms" << flowd_.log_tail();
    max_ms = std::max(max_ms, *rt);
    ++round_trips;
  }
  clients.pump_until([&] { return trickling() == 0; }, t0 + 4s);
  const std::size_t left = trickling();
  double last_ms = 0;
  for (std::size_t i = 0; i < kClients; ++i)
    if (clients[i].ended()) last_ms = std::max(last_ms, ms_between(t0, clients[i].ended_at));
  EXPECT_EQ(left, 0u) << left << " trickling clients still open after 4 s" << flowd_.log_tail();
  EXPECT_FALSE(clients[normal].ended()) << "the normal client was closed" << flowd_.log_tail();
  const auto rt = clients.echo_round_trip(normal, "after", deadline_in(2s));
  EXPECT_TRUE(rt) << flowd_.log_tail();
  const bool counted = flowd_.wait_for_count("error=\"line timeout", kClients, deadline_in(5s));
  clients.close_all();
  const auto code = stop_flowd();
  const std::size_t timeouts = count_of(flowd_.log(), "error=\"line timeout");
  figure(std::to_string(kClients) + " trickling clients (" + std::to_string(bytes_sent) +
         " bytes sent) all closed within " + fixed(last_ms, 0) + " ms of their first byte (lineTimeout 1 s); " +
         std::to_string(timeouts) + " line timeout errors logged; normal client: " + std::to_string(round_trips) +
         " echoes meanwhile, max " + fixed(max_ms, 2) + " ms");
  EXPECT_TRUE(counted) << flowd_.log_tail();
  EXPECT_EQ(timeouts, kClients) << flowd_.log_tail();
  EXPECT_EQ(code, 0) << flowd_.log_tail();
}

// ---------------------------------------------------------------------------------------------
// 9. Hostile bytes.

// Every log line starts with "time=" and holds no raw control byte (the trailing newline aside).
::testing::AssertionResult log_is_clean(const std::string& log) {
  std::size_t start = 0;
  std::size_t line_no = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(start, end - start);
    ++line_no;
    if (line.rfind("time=", 0) != 0)
      return ::testing::AssertionFailure() << "log line " << line_no << " does not start with time= (forged?): "
                                           << printable(line);
    for (unsigned char c : line)
      if (c < 0x20 || c == 0x7f)
        return ::testing::AssertionFailure() << "log line " << line_no << " holds the raw byte 0x" << std::hex
                                             << static_cast<int>(c) << ": " << printable(line);
    start = end + 1;
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> hostile_payloads() {
  std::vector<std::string> p;
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  p.push_back(all + "\n");                                   // every byte value, newlines inside
  std::string each;
  for (int b = 0; b < 256; ++b) (each += static_cast<char>(b)) += '\n';
  p.push_back(each);                                         // every byte value on its own line
  p.push_back("\r");                                         // a lone CR
  p.push_back("\r\n");
  p.push_back("x\ry\n");
  p.push_back("\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J\n");  // ANSI/OSC escapes
  p.push_back(std::string("\xff\xfd\x01\xff\xfb\x03\xff\xf4\xff\xfd\x06", 11) + "\n");  // telnet IAC
  p.push_back(std::string("nul\0inside", 10) + "\n");
  p.push_back("\xc3\x28 \xa0\xa1 \xe2\x28\xa1 \xf0\x28\x8c\xbc\n");  // invalid UTF-8
  p.push_back("\xc0\xaf \xe0\x80\xaf\n");                    // overlong encodings
  p.push_back("\xed\xa0\x80\n");                             // a UTF-16 surrogate
  p.push_back("\xf4\x90\x80\x80\n");                         // above U+10FFFF
  p.push_back("\xe2\x82");                                   // a truncated character...
  p.push_back("\xac\n");                                     // ...completed in the next write
  p.push_back("forged\ntime=2026-01-01T00:00:00.000Z level=ERROR module=flowd message=\"forged\"\n");
  p.push_back("\x7f\x08\x08\x08\n");
  return p;
}

TEST_F(Robustness, EveryByteValueAndInvalidUtf8NeverCrash) {
  const auto payloads = hostile_payloads();

  // limits.json (line framing): every payload on one connection, then a line that must echo.
  {
    ASSERT_NO_FATAL_FAILURE(start_limits());
    ManyClients clients(port_);
    const std::size_t c = clients.start_connect();
    ASSERT_TRUE(clients.await_text(c, kReady)) << flowd_.log_tail();
    for (const auto& p : payloads) {
      ASSERT_TRUE(clients.send(c, p)) << "flowd closed the connection on " << printable(p) << flowd_.log_tail();
      clients.pump_until([] { return false; }, deadline_in(5ms));  // keep reading what it echoes
    }
    ASSERT_TRUE(clients.send(c, "done\n"));
    EXPECT_TRUE(clients.await_text(c, "[done]\r\n")) << "the connection stopped echoing" << flowd_.log_tail();
    // All 256 values without any newline at the end, then a close.
    const std::size_t d = clients.start_connect();
    ASSERT_TRUE(clients.await_text(d, kReady)) << flowd_.log_tail();
    ASSERT_TRUE(clients.send(d, payloads[0].substr(0, 256)));
    clients.close(d);
    std::string why;
    EXPECT_TRUE(fresh_client_round_trip(port_, deadline_in(5s), why)) << why << flowd_.log_tail();
    EXPECT_TRUE(flowd_.wait_for_count(kClosed, 2)) << flowd_.log_tail();
    clients.close_all();
    const auto code = stop_flowd();
    EXPECT_EQ(code, 0) << "flowd on limits.json did not survive" << flowd_.log_tail();
    EXPECT_TRUE(log_is_clean(flowd_.log())) << flowd_.log_tail(80);
    figure("limits.json: " + std::to_string(payloads.size()) + " hostile payloads (all 256 byte values, ESC, IAC, "
           "invalid UTF-8) survived; " + std::to_string(count_of(flowd_.log(), kConnectionError)) +
           " errors logged, no raw control byte in " + std::to_string(count_lines(flowd_.log())) + " log lines");
  }

  // flows/chat.json (raw chunks): a username with terminal escapes, then every payload as a message.
  FlowdProcess chat;
  chat.start(chat_flow(), {"-Cport=0"});
  const int chat_port = chat.port();
  ASSERT_NE(chat_port, 0) << chat.log_tail();
  {
    ManyClients clients(chat_port);
    const std::size_t c = clients.start_connect();
    ASSERT_TRUE(clients.await_text(c, "Enter your username: ")) << chat.log_tail();
    ASSERT_TRUE(clients.send(c, "\x1b[31mEvil\x1b[0m\x07\r\n"));
    ASSERT_TRUE(clients.await_text(c, "Enter your message:")) << chat.log_tail();
    for (const auto& p : payloads) {
      // Each payload is one chunk: wait for its reply, or for the error an invalid one gives.
      const std::size_t errors = chat.count_occurrences("message=\"Connection error\"");
      ASSERT_TRUE(clients.send(c, p)) << "chat closed the connection on " << printable(p) << chat.log_tail();
      const bool answered = clients.pump_until(
          [&] {
            return clients[c].in.find("Enter your next message:", clients[c].cursor) != std::string::npos ||
                   chat.count_occurrences("message=\"Connection error\"") > errors || clients[c].ended();
          },
          deadline_in(2s));
      ASSERT_TRUE(answered) << "no reply and no error for " << printable(p) << chat.log_tail();
      ASSERT_FALSE(clients[c].ended()) << "chat closed the connection on " << printable(p) << chat.log_tail();
      clients[c].cursor = clients[c].in.size();
    }
    TestClient fresh(chat_port);
    EXPECT_EQ(fresh.expect("Enter your username: "), "Enter your username: ") << fresh.last_error() << chat.log_tail();
    clients.close_all();
  }
  chat.send_signal(SIGTERM);
  EXPECT_EQ(chat.wait_exit(deadline_in(10s)), 0) << chat.log_tail();
  chat.wait_output_closed(deadline_in(5s));
  const std::string log = chat.log();
  EXPECT_TRUE(log_is_clean(log)) << chat.log_tail(80);
  EXPECT_NE(log.find("\\u001b[31mEvil"), std::string::npos) << "the username's ESC is not logged as \\u001b"
                                                             << chat.log_tail(80);
  EXPECT_NE(log.find("forged\\ntime="), std::string::npos) << "the message with a newline is not logged escaped"
                                                         << chat.log_tail(80);
  figure("chat.json: username with ESC/BEL and " + std::to_string(payloads.size()) +
         " hostile messages survived; ESC logged as \\u001b; no raw control byte and no forged line in " +
         std::to_string(count_lines(log)) + " log lines");
}

// ---------------------------------------------------------------------------------------------
// 10. Reset in the middle of a large write.

TEST_F(Robustness, ResetMidWriteGivesExactlyOneClose) {
  constexpr std::size_t kRounds = 20;
  ASSERT_NO_FATAL_FAILURE(start_limits());
  ManyClients clients(port_);
  std::size_t max_errors_seen = 0;
  for (std::size_t k = 0; k < kRounds; ++k) {
    const std::size_t c = clients.start_connect();
    ASSERT_TRUE(clients.await_text(c, kReady)) << "round " << k << flowd_.log_tail();
    ASSERT_TRUE(clients.send(c, "flood 50000\n"));
    clients.reset(c);
    ASSERT_TRUE(flowd_.wait_for_count(kClosed, k + 1, deadline_in(5s))) << "round " << k << ": no closed line"
                                                                        << flowd_.log_tail();
    const std::size_t errors = flowd_.count_occurrences(kConnectionError);
    EXPECT_LE(errors, k + 1) << "round " << k << ": more than one connection error for one connection"
                             << flowd_.log_tail();
    max_errors_seen = std::max(max_errors_seen, errors);
  }
  std::string why;
  EXPECT_TRUE(fresh_client_round_trip(port_, deadline_in(5s), why)) << why << flowd_.log_tail();
  const auto code = stop_flowd();
  const std::string log = flowd_.log();
  const std::size_t closed = count_of(log, kClosed);
  const std::size_t errors = count_of(log, kConnectionError);
  figure(std::to_string(kRounds) + " \"flood 50000\" + RST: " + std::to_string(closed - 1) + " closed lines (+1 check client), " +
         std::to_string(errors) + " connection errors");
  EXPECT_EQ(closed, kRounds + 1) << flowd_.log_tail();
  EXPECT_LE(errors, kRounds) << flowd_.log_tail();
  EXPECT_EQ(code, 0) << flowd_.log_tail();
}

// ---------------------------------------------------------------------------------------------
// 11. Half close.

TEST_F(Robustness, HalfCloseFlushesAndCloses) {
  ASSERT_NO_FATAL_FAILURE(start_limits());
  ManyClients clients(port_);
  const std::size_t c = clients.start_connect();
  ASSERT_TRUE(clients.await_text(c, kReady)) << flowd_.log_tail();
  const auto t0 = Clock::now();
  ASSERT_TRUE(clients.send(c, "hello\n"));
  ASSERT_TRUE(clients.shutdown_write(c));
  EXPECT_TRUE(clients.pump_until([&] { return clients[c].ended(); }, deadline_in(5s)))
      << "no EOF after the half close" << flowd_.log_tail();
  const double ms = ms_since(t0);
  EXPECT_EQ(clients[c].in, kReady + "[hello]\r\n");
  EXPECT_TRUE(clients[c].eof) << "reset instead of EOF: " << std::strerror(clients[c].err);
  EXPECT_TRUE(flowd_.wait_for_log("message=\"closed\" lines=1")) << flowd_.log_tail();
  const auto code = stop_flowd();
  EXPECT_EQ(count_of(flowd_.log(), kClosed), 1u) << flowd_.log_tail();
  EXPECT_EQ(code, 0);
  figure("half close: \"[hello]\\r\\n\" then EOF " + fixed(ms, 2) + " ms after shutdown(SHUT_WR); " +
         std::to_string(count_of(flowd_.log(), kClosed)) + " closed line");
}

// ---------------------------------------------------------------------------------------------
// 12. SIGTERM with 1000 clients.

TEST_F(Robustness, SigtermWithOneThousandClientsDrainsAndExitsZero) {
  constexpr std::size_t kClients = 1000;
  ASSERT_NO_FATAL_FAILURE(start_limits());
  ManyClients clients(port_);
  ASSERT_EQ(clients.open_prompted(kClients, kReady, deadline_in(30s)), kClients) << flowd_.log_tail();

  const auto t0 = Clock::now();
  ASSERT_TRUE(flowd_.send_signal(SIGTERM));
  const bool all_ended = clients.pump_until(
      [&] { return clients.count([](const Conn& c) { return c.ended(); }) == kClients && !flowd_.running(); },
      t0 + 5s);
  const auto code = flowd_.wait_exit(deadline_in(0ms));
  const double exit_ms = ms_since(t0);
  ASSERT_TRUE(code.has_value()) << "flowd still running 5 s after SIGTERM" << flowd_.log_tail();
  flowd_.wait_output_closed(deadline_in(5s));
  EXPECT_TRUE(all_ended) << clients.count([](const Conn& c) { return c.ended(); }) << " of " << kClients
                         << " clients saw the end";
  const std::size_t eofs = clients.count([](const Conn& c) { return c.eof; });
  const std::size_t closed = count_of(flowd_.log(), kClosed);

  // The port can be bound again at once.
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0);
  const int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool bound = ::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 && ::listen(s, 16) == 0;
  const int bind_errno = errno;
  ::close(s);

  figure("SIGTERM with " + std::to_string(kClients) + " clients: exit " + std::to_string(*code) + " after " +
         fixed(exit_ms, 0) + " ms; " + std::to_string(closed) + " closed lines; " + std::to_string(eofs) +
         " clients saw EOF; port " + (bound ? "rebound at once" : "NOT rebindable"));
  EXPECT_EQ(*code, 0) << flowd_.log_tail();
  EXPECT_LE(exit_ms, 5000.0);
  EXPECT_EQ(closed, kClients) << flowd_.log_tail();
  EXPECT_EQ(eofs, kClients) << "clients that saw a reset instead of EOF";
  EXPECT_TRUE(bound) << "bind 127.0.0.1:" << port_ << ": " << std::strerror(bind_errno);
}

// ---------------------------------------------------------------------------------------------
// 13. A runaway handler.

TEST_F(Robustness, RunawayHandlerAffectsOnlyItsConnection) {
  constexpr int kSpins = 10;
  ASSERT_NO_FATAL_FAILURE(start_limits({"--step-budget=100000"}));
  ManyClients clients(port_);
  const std::size_t spinner = clients.start_connect();
  const std::size_t other = clients.start_connect();
  ASSERT_TRUE(clients.await_text(spinner, kReady)) << flowd_.log_tail();
  ASSERT_TRUE(clients.await_text(other, kReady)) << flowd_.log_tail();

  double max_other = 0, max_spin = 0;
  for (int k = 0; k < kSpins; ++k) {
    const auto t_spin = Clock::now();
    ASSERT_TRUE(clients.send(spinner, "spin\n"));
    // The other client's round trip while the spin runs (or right after it).
    const auto rt = clients.echo_round_trip(other, "o" + std::to_string(k), deadline_in(5s));
    ASSERT_TRUE(rt) << "the other client is not answered during spin " << k << flowd_.log_tail();
    max_other = std::max(max_other, *rt);
    // The spinning connection still works: its next line echoes after the failed event.
    const auto after = clients.echo_round_trip(spinner, "alive" + std::to_string(k), deadline_in(5s));
    ASSERT_TRUE(after) << "the spinning connection is not usable after spin " << k << flowd_.log_tail();
    max_spin = std::max(max_spin, ms_since(t_spin));
    ASSERT_TRUE(flowd_.wait_for_count(kConnectionError, static_cast<std::size_t>(k) + 1))
        << "onError did not run for spin " << k << flowd_.log_tail();
  }
  const std::string log = flowd_.log();
  std::size_t budget_errors = 0;
  for (std::size_t p = log.find(kConnectionError); p != std::string::npos; p = log.find(kConnectionError, p + 1)) {
    const std::size_t eol = log.find('\n', p);
    if (log.substr(p, eol - p).find("step budget") != std::string::npos) ++budget_errors;
  }
  figure(std::to_string(kSpins) + " runaway events (step budget 100000): " + std::to_string(budget_errors) +
         " onError lines naming the step budget; spin + next echo took max " + fixed(max_spin, 2) +
         " ms; other client's echoes max " + fixed(max_other, 2) + " ms");
  EXPECT_EQ(budget_errors, static_cast<std::size_t>(kSpins)) << flowd_.log_tail();
  EXPECT_EQ(flowd_.count_occurrences(kClosed), 0u) << "a connection was closed" << flowd_.log_tail();
  EXPECT_LT(max_other, 100.0) << "the runaway handler held up another connection";
}

}  // namespace
}  // namespace flowd::test
