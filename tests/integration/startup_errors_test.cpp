// Start-up errors: every refusal to serve is one line "flowd: SUBJECT: message" on stderr, naming the
// option as given (-Cport=70000) when one set the failing value, with exit status 1 and no log line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/temp_dir.hpp"

namespace flowd::test {
namespace {

using namespace std::chrono_literals;

std::string source(const std::string& rel) { return std::string(FLOWD_SOURCE_DIR) + "/" + rel; }

// `flowd run flow args...` must refuse to serve with exit 1 and print `expected`, as a plain line.
::testing::AssertionResult refused_with(const std::string& flow, const std::vector<std::string>& args,
                                        const std::string& expected) {
  std::vector<std::string> argv{"run", flow};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = run_command(argv, deadline_in(10s));
  if (r.timed_out) return ::testing::AssertionFailure() << "flowd run still ran after 10 s:\n" << r.output;
  if (r.exit_code != 1) return ::testing::AssertionFailure() << "exit " << r.exit_code << ", not 1:\n" << r.output;
  if (r.output.find("listening on") != std::string::npos)
    return ::testing::AssertionFailure() << "flowd listened before refusing:\n" << r.output;
  if (r.output.find(expected) == std::string::npos)
    return ::testing::AssertionFailure() << "expected: " << expected << "\ngot:\n" << r.output;
  if (r.output.find("level=ERROR") != std::string::npos)
    return ::testing::AssertionFailure() << "a start-up error came as a log line:\n" << r.output;
  return ::testing::AssertionSuccess();
}

// A socket listening on 127.0.0.1 on a free port, so that flowd finds the address in use.
class HeldPort {
 public:
  HeldPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 1) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(a.sin_port);
  }
  ~HeldPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(StartupErrors, APortOutOfRangeNamesTheOption) {
  EXPECT_TRUE(refused_with(source("flows/chat.json"), {"-Cport=70000"},
                           "flowd: -Cport=70000: listener tcpListener: port 70000 is not between 0 and 65535\n"));
}

TEST(StartupErrors, AValueOfTheWrongTypeNamesTheOption) {
  EXPECT_TRUE(refused_with(source("flows/chat.json"), {"-Cport=abc"}, "flowd: -Cport=abc: configurable 'port' is int"));
}

TEST(StartupErrors, APortInUseSuggestsAnotherOne) {
  HeldPort held;
  ASSERT_GT(held.port(), 0);
  const std::string p = std::to_string(held.port());
  EXPECT_TRUE(refused_with(source("flows/chat.json"), {"-Cport=" + p},
                           "flowd: -Cport=" + p + ": listener tcpListener: address 127.0.0.1:" + p +
                               " is in use (another flowd?); choose another port with -Cport=N\n"));
}

TEST(StartupErrors, AMissingCertificateOfTheTlsExampleSuggestsItsScript) {
  TempDir dir;
  const std::string missing = (dir.path() / "cert.pem").string();
  EXPECT_TRUE(refused_with(source("examples/tls-chat/tls-chat.json"), {"-Cport=0", "-CcertFile=" + missing},
                           "certFile '" + missing + "': No such file or directory; make the certificate and key with " +
                               source("examples/tls-chat/make-cert.sh") + "\n"));
}

}  // namespace
}  // namespace flowd::test
