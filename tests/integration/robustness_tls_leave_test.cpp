// Robustness: TLS clients that leave right after the handshake (a load balancer's TLS health check, a
// port probe) must never take flowd down. Before MSG_NOSIGNAL, OpenSSL wrote the TLS 1.3 session
// tickets with write() to a peer that had gone, and SIGPIPE killed the process.
//
// Runs the real flowd on examples/tls-chat/tls-chat.json with a certificate made for the test. The
// test client ignores SIGPIPE itself; flowd is a separate process whose signal dispositions are the
// defaults (FlowdProcess resets them), so a SIGPIPE there is fatal, as in production.

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_client.hpp"

#ifndef FLOWD_SOURCE_DIR
#error "FLOWD_SOURCE_DIR must be defined (the project source directory)"
#endif

namespace flowd::test {
namespace {

using namespace std::chrono_literals;

// 1,000 connect-and-leave clients: TLS 1.3 and 1.2, each leaving with close_notify, a bare close or an RST.
constexpr int kLeavers = 1000;

std::string tls_chat_flow() { return std::string(FLOWD_SOURCE_DIR) + "/examples/tls-chat/tls-chat.json"; }

TEST(RobustnessTlsLeave, ClientsThatLeaveRightAfterTheHandshakeDoNotKillTheServer) {
  TempDir dir;
  const std::string d = dir.path().string();
  const std::string cmd = "cd '" + d + "' && umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 "
                          "-keyout key.pem -out cert.pem -subj /CN=localhost "
                          "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 > openssl.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make the test certificate";

  FlowdProcess flowd;
  flowd.start(tls_chat_flow(), {"-Cport=0", "-CcertFile=" + dir.file("cert.pem"), "-CkeyFile=" + dir.file("key.pem"),
                                "--threads=1"});
  const int port = flowd.port();
  ASSERT_GT(port, 0) << flowd.log_tail();

  // Another user chats all along.
  TlsClient chatter;
  ASSERT_TRUE(chatter.open(port)) << chatter.last_error();
  ASSERT_EQ(chatter.read_until("Enter your username: "), "Enter your username: ");
  ASSERT_TRUE(chatter.send("carol\r\n"));
  ASSERT_NE(chatter.read_until("Enter your message:").find("Welcome carol!"), std::string::npos);

  auto t0 = Clock::now();
  int handshakes = 0;
  for (int i = 0; i < kLeavers && flowd.running(); ++i) {
    TlsClientOptions o;
    o.min_version = o.max_version = i % 2 == 0 ? "TLSv1.3" : "TLSv1.2";
    TlsClient c(o);
    if (!c.open(port, deadline_in(5s))) continue;
    ++handshakes;
    switch (i / 2 % 3) {
      case 0: c.reset(); break;                                       // RST at once
      case 1: ::shutdown(c.fd(), SHUT_RDWR); c.reset(); break;        // FIN, then gone
      default: c.close(); break;                                      // close_notify and FIN
    }
    if (i % 100 == 99) {
      std::string n = std::to_string(i);
      ASSERT_TRUE(chatter.send("still here " + n + "\r\n")) << "after " << i + 1 << " leavers" << flowd.log_tail();
      ASSERT_NE(chatter.read_until("Enter your next message:", deadline_in(5s)).find("Sent: still here " + n), std::string::npos)
          << "after " << i + 1 << " leavers" << flowd.log_tail();
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << "[figure] " << handshakes << " of " << kLeavers << " TLS 1.3/1.2 clients left right after the handshake in "
            << secs << " s; flowd " << (flowd.running() ? "alive" : "dead") << std::endl;
  ASSERT_TRUE(flowd.running()) << "flowd died"
                               << (flowd.term_signal() ? " by signal " + std::to_string(*flowd.term_signal()) : "")
                               << flowd.log_tail();
  EXPECT_GE(handshakes, kLeavers * 9 / 10);
  EXPECT_EQ(flowd.count_occurrences("level=ERROR"), 0u) << flowd.log_tail();

  ASSERT_TRUE(chatter.send("bye\r\n"));
  EXPECT_NE(chatter.read_until("Enter your next message:").find("Sent: bye."), std::string::npos);
  ASSERT_TRUE(flowd.send_signal(SIGTERM));
  EXPECT_EQ(flowd.wait_exit(deadline_in(10s)), 0) << flowd.log_tail();
}

}  // namespace
}  // namespace flowd::test
