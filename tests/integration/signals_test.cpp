// Signals an operator or a terminal sends: SIGHUP leaves the service running with a warning, and
// Ctrl-C on a terminal gives the stop lines a line of their own (not "^Ctime=...").
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/test_client.hpp"

namespace flowd::test {
namespace {

std::string chat_flow() { return std::string(FLOWD_SOURCE_DIR) + "/flows/chat.json"; }

TEST(Signals, SighupIsLoggedAndTheServiceGoesOn) {
  FlowdProcess flowd;
  flowd.start(chat_flow(), {"-Cport=0"});
  int port = flowd.port();
  ASSERT_GT(port, 0) << flowd.log_tail();
  TestClient alice;
  ASSERT_TRUE(alice.connect(port));
  ASSERT_EQ(alice.expect("Enter your username: "), "Enter your username: ");
  ASSERT_TRUE(flowd.send_signal(SIGHUP));
  ASSERT_TRUE(flowd.wait_for_log("SIGHUP ignored")) << flowd.log_tail();
  EXPECT_TRUE(flowd.wait_for_log("level=WARN module=flowd message=\"SIGHUP ignored: this flowd cannot reload a flow; "
                                 "restart it to load an edited flow\" signal=\"SIGHUP\""))
      << flowd.log_tail();
  // The connection made before the signal is still served.
  ASSERT_TRUE(alice.send("alice\r\n"));
  EXPECT_EQ(alice.expect("Welcome alice! Enter your message:"), "Welcome alice! Enter your message:")
      << flowd.log_tail();
  ASSERT_TRUE(flowd.send_signal(SIGTERM));
  auto code = flowd.wait_exit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << flowd.log_tail();
  EXPECT_NE(flowd.log().find("message=\"stopped\""), std::string::npos) << flowd.log_tail();
}

// Reads from the pty's master until `needle` appears or the deadline passes.
bool read_pty_until(int master, std::string& out, const std::string& needle, Deadline deadline) {
  while (out.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) return out.find(needle) != std::string::npos;  // EIO: the child closed the terminal
    out.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

TEST(Signals, CtrlCOnATerminalStartsTheStopLinesOnANewLine) {
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0) << std::strerror(errno);
  if (pid == 0) {
    // The child is a session leader whose controlling terminal is the pty: Ctrl-C typed on the
    // master reaches it as SIGINT from the terminal driver, which echoes "^C" first.
    std::string bin = flowd_binary();
    std::string flow = chat_flow();
    ::execl(bin.c_str(), bin.c_str(), "run", flow.c_str(), "-Cport=0", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string out;
  bool listening = read_pty_until(master, out, "listening on", deadline_in(std::chrono::seconds(10)));
  termios t{};
  bool echoctl = ::tcgetattr(master, &t) == 0 && (t.c_lflag & ECHOCTL) && (t.c_lflag & ISIG);
  if (listening && echoctl) {
    // The line is complete: wait for its end before typing, so "^C" lands after it.
    read_pty_until(master, out, "\n", deadline_in(std::chrono::seconds(2)));
    char ctrl_c = static_cast<char>(t.c_cc[VINTR]);
    (void)!::write(master, &ctrl_c, 1);
    read_pty_until(master, out, "message=\"stopped\"", deadline_in(std::chrono::seconds(10)));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  ASSERT_TRUE(listening) << out;
  if (!echoctl) GTEST_SKIP() << "this pty does not echo control characters";
  ASSERT_NE(out.find("message=\"stopped\""), std::string::npos) << out;
  EXPECT_EQ(out.find("^Ctime="), std::string::npos) << out;
  EXPECT_NE(out.find("^C\r\ntime="), std::string::npos) << out;
}

}  // namespace
}  // namespace flowd::test
