// Black-box tests of TLS listeners (a listener's "secureSocket"): they run the real flowd binary on
// examples/tls-chat/tls-chat.json (the BI chat tutorial over TLS) and tests/flows/tls_echo.json (line
// framing over TLS; every line comes back as `[line]\r\n`; onConnect logs `connected`, onBytes
// `line N: <line>`, onClose `closed after N lines`, onError `connection error`, each with
// client="HOST:PORT"; versions, ciphers, keyPassword and handshakeTimeout are configurables), and talk
// to it with the OpenSSL client of tests/support/tls_client.hpp and, for clients that do not speak
// TLS, the plain TestClient.
//
// The certificates are made once per test suite with the `openssl` command in a private temporary
// directory. Every test starts its own flowd with -Cport=0. All waits are bounded by deadlines; a wait
// that must time out (nothing may arrive) is a read with a deadline, never a sleep.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/line_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_client.hpp"
#include "support/tls_client.hpp"

#ifndef FLOWD_SOURCE_DIR
#error "FLOWD_SOURCE_DIR must be defined (the project source directory)"
#endif

namespace flowd::test {
namespace {

using namespace std::chrono_literals;

const std::string kPrompt = "Enter your username: ";
const std::string kHandshakeFailed = "level=WARN module=flowd message=\"TLS handshake failed\"";

std::string tls_chat_flow() { return std::string(FLOWD_SOURCE_DIR) + "/examples/tls-chat/tls-chat.json"; }
std::string tls_echo_flow() { return std::string(FLOWD_SOURCE_DIR) + "/tests/flows/tls_echo.json"; }
std::string invalid_flow(const std::string& name) {
  return std::string(FLOWD_SOURCE_DIR) + "/tests/flows/invalid/" + name + ".json";
}
std::string log_message(const std::string& text) { return "message=\"" + text + "\""; }
// The client="127.0.0.1:PORT" field that flowd and tls_echo.json put in their log lines.
std::string client_field(int port) { return "client=\"127.0.0.1:" + std::to_string(port) + "\""; }
std::string echoed(const std::string& line) { return "[" + line + "]\r\n"; }

std::string regex_escape(const std::string& text) {
  static const std::string special = R"(\^$.|?*+()[]{}/-)";
  std::string out;
  for (char c : text) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// The local port of a connected socket (what the server logs as the client's port).
int local_port_of(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (fd < 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Reads exactly expected.size() bytes over TLS and compares them with `expected`.
::testing::AssertionResult tls_reply_is(TlsClient& client, const std::string& expected,
                                        Deadline deadline = deadline_in(kDefaultTimeout)) {
  const std::string got = client.read_exact(expected.size(), deadline);
  if (got == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to read " << printable(expected) << " but read "
                                       << printable(got) << " (" << client.last_error() << ")";
}

// Sends `wire` over TLS and expects exactly `expected` back.
::testing::AssertionResult tls_exchange(TlsClient& client, const std::string& wire, const std::string& expected,
                                        Deadline deadline = deadline_in(kDefaultTimeout)) {
  if (!client.send(wire, deadline))
    return ::testing::AssertionFailure() << "sending " << printable(wire) << " failed: " << client.last_error();
  return tls_reply_is(client, expected, deadline);
}

// One line to tls_echo.json and its echo back.
::testing::AssertionResult echo_round_trip(TlsClient& client, const std::string& line,
                                           Deadline deadline = deadline_in(kDefaultTimeout)) {
  return tls_exchange(client, line + "\r\n", echoed(line), deadline);
}

// Runs `flowd run flow args...` and expects it to refuse the flow: exit code 1, without ever logging
// `listening on`, with `expected` in its output.
::testing::AssertionResult run_refused_with(const std::string& flow, const std::vector<std::string>& args,
                                            const std::string& expected) {
  std::vector<std::string> argv{"run", flow};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = run_command(argv, deadline_in(10s));
  if (r.timed_out)
    return ::testing::AssertionFailure() << "flowd run was still running after 10 s:\n" << r.output;
  if (r.exit_code != 1)
    return ::testing::AssertionFailure() << "flowd run exited with " << r.exit_code << ", not 1:\n" << r.output;
  if (contains(r.output, "listening on"))
    return ::testing::AssertionFailure() << "flowd run started listening before refusing:\n" << r.output;
  if (!contains(r.output, expected))
    return ::testing::AssertionFailure() << "expected in the output of flowd run: " << expected << "\ngot:\n"
                                         << r.output;
  return ::testing::AssertionSuccess() << r.output;
}

class TlsListenerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string d = dir_->path().string();
    // cert.pem/key.pem: for localhost and 127.0.0.1 (as examples/tls-chat/make-cert.sh makes them);
    // other_*.pem: another key pair; enc_key.pem: key.pem encrypted with the password "secret".
    const std::string cmd =
        "cd '" + d + "' && umask 077 && { "
        "openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout key.pem -out cert.pem "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 && "
        "openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout other_key.pem -out other_cert.pem "
        "-subj /CN=other -addext subjectAltName=DNS:other && "
        "openssl pkey -in key.pem -aes256 -passout pass:secret -out enc_key.pem; }"
        " > openssl.log 2>&1";
    certs_ok_ = std::system(cmd.c_str()) == 0;
    if (!certs_ok_) {
      try {
        openssl_log_ = read_file(d + "/openssl.log");
      } catch (...) {
      }
    }
    write_file(d + "/not_pem.txt", "this is not a certificate\n");
    write_file(d + "/empty.pem", "");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(certs_ok_) << "openssl could not make the test certificates:\n" << openssl_log_;
  }
  void TearDown() override {
    if (HasFailure() && flowd_) std::cerr << "[flowd output at the end of the failed test]" << flowd_->log_tail(80);
  }

  static std::string file(const std::string& name) { return dir_->file(name); }
  static std::string cert() { return file("cert.pem"); }
  static std::string key() { return file("key.pem"); }

  // Options of a client that verifies the server against cert.pem, by name or address.
  static TlsClientOptions verifying(const std::string& host) {
    TlsClientOptions o;
    o.ca_file = cert();
    o.verify_host = host;
    if (host == "localhost") o.sni = host;
    return o;
  }

  // `flowd run flow args...`; returns the port from the `listening on` line, or 0.
  int start_flowd(const std::string& flow, const std::vector<std::string>& args) {
    flowd_ = std::make_unique<FlowdProcess>();
    flowd_->start(flow, args);
    return flowd_->port();
  }
  // tls_echo.json with cert.pem/key.pem on an ephemeral port, plus `extra` configurables.
  static std::vector<std::string> echo_args(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"-Cport=0", "-CcertFile=" + cert(), "-CkeyFile=" + key()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  int start_echo(const std::vector<std::string>& extra = {}) { return start_flowd(tls_echo_flow(), echo_args(extra)); }
  int start_chat() {
    return start_flowd(tls_chat_flow(), {"-Cport=0", "-CcertFile=" + cert(), "-CkeyFile=" + key()});
  }

  // The `TLS handshake failed` line flowd logs for the client on local port `client_port`: its error.
  std::optional<std::string> handshake_failure_for(int client_port, Deadline deadline = deadline_in(kDefaultTimeout)) {
    const std::regex re(regex_escape(kHandshakeFailed) + " " + regex_escape(client_field(client_port)) +
                        R"re( error="((?:[^"\\]|\\.)*)")re");
    auto m = flowd_->wait_for_match(re, deadline);
    if (!m) return std::nullopt;
    return (*m)[1];
  }

  static inline TempDir* dir_ = nullptr;
  static inline bool certs_ok_ = false;
  static inline std::string openssl_log_;
  std::unique_ptr<FlowdProcess> flowd_;
};

// ---------------------------------------------------------------------------------------------------
// 1. The handshake, and the chat protocol over TLS.

TEST_F(TlsListenerTest, ChatOverTlsWithAVerifiedServerCertificate) {
  const int port = start_chat();
  ASSERT_GT(port, 0) << flowd_->log_tail();

  TlsClient client(verifying("localhost"));
  ASSERT_TRUE(client.open(port)) << client.last_error();
  EXPECT_EQ(client.version(), "TLSv1.3");  // the listener allows TLSv1.2 and TLSv1.3: the newest wins
  ASSERT_TRUE(tls_reply_is(client, kPrompt));
  ASSERT_TRUE(tls_exchange(client, "User1\r\n", "Welcome User1! Enter your message:"));
  ASSERT_TRUE(tls_exchange(client, "Hello World\r\n", "Sent: Hello World. Enter your next message:"));
  EXPECT_TRUE(flowd_->wait_for_log("module=tlschat message=\"User1 connected\""));
  EXPECT_TRUE(flowd_->wait_for_log("module=tlschat message=\"Welcome User1\""));
  EXPECT_TRUE(flowd_->wait_for_log("module=tlschat message=\"User1: Hello World\""));

  // The certificate also names 127.0.0.1 (subjectAltName IP).
  TlsClient by_address(verifying("127.0.0.1"));
  ASSERT_TRUE(by_address.open(port)) << by_address.last_error();
  ASSERT_TRUE(tls_reply_is(by_address, kPrompt));
  ASSERT_TRUE(tls_exchange(by_address, "User2\r\n", "Welcome User2! Enter your message:"));

  client.close();
  EXPECT_TRUE(flowd_->wait_for_log("module=tlschat message=\"User1 disconnected\""));
  EXPECT_EQ(flowd_->count_occurrences(kHandshakeFailed), 0u) << flowd_->log_tail();
}

TEST_F(TlsListenerTest, ClientVerificationFailsForAnotherCertificateOrName) {
  const int port = start_chat();
  ASSERT_GT(port, 0) << flowd_->log_tail();

  // Trusting another certificate: the server's is not trusted.
  TlsClientOptions other;
  other.ca_file = file("other_cert.pem");
  TlsClient untrusted(other);
  ASSERT_TRUE(untrusted.connect(port)) << untrusted.last_error();
  const int untrusted_port = untrusted.local_port();
  EXPECT_FALSE(untrusted.handshake());
  EXPECT_TRUE(contains(untrusted.last_error(), "certificate verify failed")) << untrusted.last_error();

  // Trusting the certificate, but for a name it does not hold.
  TlsClientOptions wrong_name = verifying("example.com");
  TlsClient misnamed(wrong_name);
  ASSERT_TRUE(misnamed.connect(port)) << misnamed.last_error();
  EXPECT_FALSE(misnamed.handshake());
  EXPECT_TRUE(contains(misnamed.last_error(), "certificate verify failed")) << misnamed.last_error();

  // The server sees the client's alert as a failed handshake; the flow never runs.
  const auto why = handshake_failure_for(untrusted_port);
  ASSERT_TRUE(why.has_value()) << flowd_->log_tail();
  EXPECT_FALSE(why->empty());
  EXPECT_FALSE(contains(flowd_->log(), "module=tlschat")) << flowd_->log_tail();
}

// ---------------------------------------------------------------------------------------------------
// 2. onConnect runs only after the handshake.

TEST_F(TlsListenerTest, PlainTcpClientGetsNoPromptInClearText) {
  const int port = start_chat();
  ASSERT_GT(port, 0) << flowd_->log_tail();

  TestClient plain(port);
  ASSERT_TRUE(plain.connected()) << plain.last_error();
  // onConnect writes the prompt: it must not run (nor write in clear text) before a handshake.
  const std::string got = plain.read_some(65536, deadline_in(600ms));
  EXPECT_EQ(got, "") << "a plain client read " << printable(got);
  EXPECT_FALSE(plain.peer_closed()) << "the server closed a client still within its handshakeTimeout";

  // Meanwhile a TLS client is served.
  TlsClient client(verifying("localhost"));
  ASSERT_TRUE(client.open(port)) << client.last_error();
  ASSERT_TRUE(tls_reply_is(client, kPrompt));

  const std::string later = plain.read_some(65536, deadline_in(200ms));
  EXPECT_EQ(later, "") << "a plain client read " << printable(later);
}

TEST_F(TlsListenerTest, OnConnectRunsOnlyAfterTheHandshake) {
  const int port = start_echo();
  ASSERT_GT(port, 0) << flowd_->log_tail();

  TestClient plain(port);
  ASSERT_TRUE(plain.connected()) << plain.last_error();
  const int plain_port = local_port_of(plain.fd());

  TlsClient client;
  ASSERT_TRUE(client.open(port)) << client.last_error();
  const int tls_port = client.local_port();
  ASSERT_TRUE(echo_round_trip(client, "after the handshake"));
  EXPECT_TRUE(flowd_->wait_for_log(log_message("connected") + " " + client_field(tls_port))) << flowd_->log_tail();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("line 1: after the handshake") + " " + client_field(tls_port)));

  // The plain client connected first, but no handler ran for it.
  EXPECT_EQ(flowd_->count_occurrences(log_message("connected")), 1u) << flowd_->log_tail();
  EXPECT_FALSE(contains(flowd_->log(), client_field(plain_port))) << flowd_->log_tail();
  const std::string got = plain.read_some(65536, deadline_in(100ms));
  EXPECT_EQ(got, "") << printable(got);
}

TEST_F(TlsListenerTest, PlainTextClientIsClosedAndTheFailureIsLogged) {
  const int port = start_echo();
  ASSERT_GT(port, 0) << flowd_->log_tail();

  TestClient plain(port);
  ASSERT_TRUE(plain.connected()) << plain.last_error();
  const int plain_port = local_port_of(plain.fd());
  ASSERT_TRUE(plain.send("hello\r\n")) << plain.last_error();
  const ReadResult r = plain.read_until_closed(deadline_in(5s));
  EXPECT_TRUE(r.closed) << "the server did not close a client that sent plain text (" << plain.last_error() << ")";
  EXPECT_FALSE(contains(r.data, "hello")) << "the plain text came back: " << printable(r.data);
  // Whatever the server sent, if anything, is a TLS alert record (content type 21), never clear text.
  if (!r.data.empty()) {
    EXPECT_EQ(static_cast<unsigned char>(r.data[0]), 21) << printable(r.data);
  }

  const auto why = handshake_failure_for(plain_port);
  ASSERT_TRUE(why.has_value()) << flowd_->log_tail();
  EXPECT_EQ(why->rfind("TLS error: ", 0), 0u) << *why;  // OpenSSL's reason: "wrong version number"
  EXPECT_GT(why->size(), std::string("TLS error: ").size()) << *why;

  // The flow's handlers never ran for it; a TLS client after it is served (and its handlers run).
  TlsClient client;
  ASSERT_TRUE(client.open(port)) << client.last_error();
  const int tls_port = client.local_port();
  ASSERT_TRUE(echo_round_trip(client, "still serving"));
  client.close();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("closed after 1 lines") + " " + client_field(tls_port)))
      << flowd_->log_tail();
  const std::string log = flowd_->log();
  EXPECT_EQ(flowd_->count_occurrences(log_message("connected")), 1u) << flowd_->log_tail();
  EXPECT_FALSE(contains(log, log_message("connection error"))) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences(client_field(plain_port)), 1u)
      << "only the handshake failure may name the plain client" << flowd_->log_tail();
}

// ---------------------------------------------------------------------------------------------------
// 3. A stalled handshake is cut by handshakeTimeout; other clients are served meanwhile.

TEST_F(TlsListenerTest, StalledHandshakeIsCutByHandshakeTimeout) {
  const int port = start_echo({"-ChandshakeTimeout=0.5"});
  ASSERT_GT(port, 0) << flowd_->log_tail();

  // A client that completed its handshake before the stalls, and stays idle longer than 0.5 s.
  TlsClient early;
  ASSERT_TRUE(early.open(port)) << early.last_error();
  ASSERT_TRUE(echo_round_trip(early, "before"));

  const auto t0 = Clock::now();
  TestClient silent(port);  // connects and sends nothing
  ASSERT_TRUE(silent.connected()) << silent.last_error();
  TestClient partial(port);  // sends the header of a TLS record (a 512-byte ClientHello) and stalls
  ASSERT_TRUE(partial.connected()) << partial.last_error();
  ASSERT_TRUE(partial.send(std::string("\x16\x03\x01\x02\x00", 5))) << partial.last_error();
  const int silent_port = local_port_of(silent.fd());
  const int partial_port = local_port_of(partial.fd());

  // Another client handshakes and is served while the two stall.
  TlsClient during;
  ASSERT_TRUE(during.open(port)) << during.last_error();
  ASSERT_TRUE(echo_round_trip(during, "during"));

  const ReadResult s = silent.read_until_closed(deadline_in(5s));
  const auto silent_closed_after = Clock::now() - t0;
  const ReadResult p = partial.read_until_closed(deadline_in(5s));
  const auto partial_closed_after = Clock::now() - t0;
  ASSERT_TRUE(s.closed) << "the silent client was not closed: " << silent.last_error();
  ASSERT_TRUE(p.closed) << "the stalled client was not closed: " << partial.last_error();
  EXPECT_EQ(s.data, "") << printable(s.data);
  const auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  // 0.5 s, checked by a 250 ms sweep; the upper bound leaves room for a loaded machine but is far
  // below the default 10 s.
  EXPECT_GE(ms(silent_closed_after), 450);
  EXPECT_LE(ms(silent_closed_after), 2000);
  EXPECT_GE(ms(partial_closed_after), 450);
  EXPECT_LE(ms(partial_closed_after), 2000);

  const std::string timed_out = "error=\"timed out after 0.5 s (the listener's handshakeTimeout)\"";
  EXPECT_TRUE(flowd_->wait_for_log(kHandshakeFailed + " " + client_field(silent_port) + " " + timed_out))
      << flowd_->log_tail();
  EXPECT_TRUE(flowd_->wait_for_log(kHandshakeFailed + " " + client_field(partial_port) + " " + timed_out))
      << flowd_->log_tail();

  // The connected clients were not hurt, nor cut by the handshake timeout while idle.
  ASSERT_TRUE(echo_round_trip(early, "after"));
  ASSERT_TRUE(echo_round_trip(during, "after"));
  EXPECT_TRUE(flowd_->wait_for_count(log_message("line 2: after"), 2)) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("connected")), 2u) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences(kHandshakeFailed), 2u) << flowd_->log_tail();
}

// ---------------------------------------------------------------------------------------------------
// 4. Certificate and key files are checked at start: refused with exit 1, naming the file.

TEST_F(TlsListenerTest, MissingCertFileIsRefused) {
  const std::string missing = file("no-such-cert.pem");
  EXPECT_TRUE(run_refused_with(tls_echo_flow(), {"-Cport=0", "-CcertFile=" + missing, "-CkeyFile=" + key()},
                               "certFile '" + missing + "': No such file or directory"));
  EXPECT_TRUE(run_refused_with(tls_chat_flow(), {"-Cport=0", "-CcertFile=" + missing, "-CkeyFile=" + key()},
                               "listener tcpListener: secureSocket: certFile '" + missing +
                                   "': No such file or directory"));
}

TEST_F(TlsListenerTest, SwappedCertAndKeyAreRefused) {
  EXPECT_TRUE(run_refused_with(tls_echo_flow(), {"-Cport=0", "-CcertFile=" + key(), "-CkeyFile=" + cert()},
                               "certFile '" + key() +
                                   "' holds no certificate (it holds: PRIVATE KEY); were certFile and keyFile swapped?"));
}

TEST_F(TlsListenerTest, NonPemFilesAreRefused) {
  const std::string text = file("not_pem.txt");
  EXPECT_TRUE(run_refused_with(tls_echo_flow(), {"-Cport=0", "-CcertFile=" + text, "-CkeyFile=" + key()},
                               "certFile '" + text + "' is not PEM text"));
  EXPECT_TRUE(run_refused_with(tls_echo_flow(), {"-Cport=0", "-CcertFile=" + cert(), "-CkeyFile=" + text},
                               "keyFile '" + text + "' is not PEM text"));
}

TEST_F(TlsListenerTest, EmptyKeyFileIsRefused) {
  const std::string empty = file("empty.pem");
  EXPECT_TRUE(run_refused_with(tls_echo_flow(), {"-Cport=0", "-CcertFile=" + cert(), "-CkeyFile=" + empty},
                               "keyFile '" + empty + "' is empty"));
}

TEST_F(TlsListenerTest, KeyOfAnotherCertificateIsRefused) {
  const std::string other = file("other_key.pem");
  std::vector<std::string> argv{"run", tls_echo_flow(), "-Cport=0", "-CcertFile=" + cert(), "-CkeyFile=" + other};
  const CommandResult r = run_command(argv, deadline_in(10s));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_FALSE(contains(r.output, "listening on")) << r.output;
  // Names the keyFile and says that it does not belong to the certificate.
  const std::regex names_mismatch("keyFile '" + regex_escape(other) + "'[^\n]*(mismatch|does not match)");
  EXPECT_TRUE(std::regex_search(r.output, names_mismatch)) << r.output;
}

TEST_F(TlsListenerTest, EncryptedKeyWithoutPasswordIsRefused) {
  const std::string enc = file("enc_key.pem");
  const std::string expected = "keyFile '" + enc + "' is encrypted: give its password in keyPassword";
  // tls-chat.json has no keyPassword at all; tls_echo.json's is the empty string by default.
  EXPECT_TRUE(run_refused_with(tls_chat_flow(), {"-Cport=0", "-CcertFile=" + cert(), "-CkeyFile=" + enc}, expected));
  EXPECT_TRUE(run_refused_with(tls_echo_flow(), {"-Cport=0", "-CcertFile=" + cert(), "-CkeyFile=" + enc}, expected));
}

TEST_F(TlsListenerTest, EncryptedKeyWithWrongPasswordIsRefused) {
  const std::string enc = file("enc_key.pem");
  EXPECT_TRUE(run_refused_with(tls_echo_flow(),
                               {"-Cport=0", "-CcertFile=" + cert(), "-CkeyFile=" + enc, "-CkeyPassword=wrong"},
                               "keyFile '" + enc + "': cannot load the private key: wrong keyPassword"));
}

TEST_F(TlsListenerTest, EncryptedKeyWithTheRightPasswordServes) {
  const int port =
      start_flowd(tls_echo_flow(), {"-Cport=0", "-CcertFile=" + cert(), "-CkeyFile=" + file("enc_key.pem"),
                                    "-CkeyPassword=secret"});
  ASSERT_GT(port, 0) << flowd_->log_tail();
  TlsClient client(verifying("localhost"));
  ASSERT_TRUE(client.open(port)) << client.last_error();
  ASSERT_TRUE(echo_round_trip(client, "encrypted key"));
}

// ---------------------------------------------------------------------------------------------------
// 5. Protocol versions and ciphers.

TEST_F(TlsListenerTest, Tls13OnlyListenerRefusesATls12Client) {
  const int port = start_echo({"-Cversions=TLSv1.3"});
  ASSERT_GT(port, 0) << flowd_->log_tail();

  TlsClientOptions old;
  old.max_version = "TLSv1.2";
  TlsClient tls12(old);
  ASSERT_TRUE(tls12.connect(port)) << tls12.last_error();
  const int tls12_port = tls12.local_port();
  EXPECT_FALSE(tls12.handshake()) << "a TLS 1.2 client got " << tls12.version();
  EXPECT_TRUE(contains(tls12.last_error(), "handshake failed")) << tls12.last_error();
  const auto why = handshake_failure_for(tls12_port);
  ASSERT_TRUE(why.has_value()) << flowd_->log_tail();
  EXPECT_EQ(*why, "TLS error: unsupported protocol");

  TlsClientOptions modern;
  modern.min_version = "TLSv1.3";
  TlsClient tls13(modern);
  ASSERT_TRUE(tls13.open(port)) << tls13.last_error();
  EXPECT_EQ(tls13.version(), "TLSv1.3");
  ASSERT_TRUE(echo_round_trip(tls13, "over TLS 1.3"));
  // (The log comes through a pipe: wait for the line before counting.)
  EXPECT_TRUE(flowd_->wait_for_log(log_message("line 1: over TLS 1.3"))) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("connected")), 1u) << flowd_->log_tail();
}

TEST_F(TlsListenerTest, Tls12OnlyListenerRefusesATls13OnlyClient) {
  const int port = start_echo({"-Cversions=TLSv1.2"});
  ASSERT_GT(port, 0) << flowd_->log_tail();

  TlsClientOptions modern;
  modern.min_version = "TLSv1.3";
  TlsClient tls13(modern);
  ASSERT_TRUE(tls13.connect(port)) << tls13.last_error();
  const int tls13_port = tls13.local_port();
  EXPECT_FALSE(tls13.handshake()) << "a TLS 1.3-only client got " << tls13.version();
  const auto why = handshake_failure_for(tls13_port);
  ASSERT_TRUE(why.has_value()) << flowd_->log_tail();
  EXPECT_EQ(*why, "TLS error: unsupported protocol");

  TlsClientOptions old;
  old.max_version = "TLSv1.2";
  TlsClient tls12(old);
  ASSERT_TRUE(tls12.open(port)) << tls12.last_error();
  EXPECT_EQ(tls12.version(), "TLSv1.2");
  ASSERT_TRUE(echo_round_trip(tls12, "over TLS 1.2"));

  // A client that allows both gets TLS 1.2 from this listener.
  TlsClient any(verifying("localhost"));
  ASSERT_TRUE(any.open(port)) << any.last_error();
  EXPECT_EQ(any.version(), "TLSv1.2");
  ASSERT_TRUE(echo_round_trip(any, "negotiated"));
}

TEST_F(TlsListenerTest, ObsoleteProtocolVersionIsRefusedAtStart) {
  EXPECT_TRUE(run_refused_with(tls_echo_flow(), echo_args({"-Cversions=TLSv1.1"}),
                               "protocol version 'TLSv1.1' is not supported"));
  EXPECT_TRUE(run_refused_with(tls_echo_flow(), echo_args({"-Cversions=TLSv1.2,TLSv1.1"}),
                               "protocol version 'TLSv1.1' is not supported"));
}

TEST_F(TlsListenerTest, BadCipherSettingsAreRefusedAtStart) {
  EXPECT_TRUE(run_refused_with(tls_echo_flow(), echo_args({"-Cciphers=TLS_NO_SUCH_CIPHER_WITH_ROT13"}),
                               "unknown cipher 'TLS_NO_SUCH_CIPHER_WITH_ROT13'"));
  // Only TLS 1.3 allowed, but only TLS 1.2 ciphers: no handshake could ever succeed.
  EXPECT_TRUE(run_refused_with(tls_echo_flow(),
                               echo_args({"-Cversions=TLSv1.3", "-Cciphers=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}),
                               "the ciphers allow none of the protocol versions: they are all TLS 1.2 ciphers, and TLSv1.2 is not among the versions"));
}

TEST_F(TlsListenerTest, CipherRestrictionIsEnforced) {
  const int port = start_echo({"-Cversions=TLSv1.2", "-Cciphers=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"});
  ASSERT_GT(port, 0) << flowd_->log_tail();

  TlsClientOptions aes256;
  aes256.max_version = "TLSv1.2";
  aes256.cipher_list = "ECDHE-RSA-AES256-GCM-SHA384";
  TlsClient refused(aes256);
  ASSERT_TRUE(refused.connect(port)) << refused.last_error();
  const int refused_port = refused.local_port();
  EXPECT_FALSE(refused.handshake()) << "the client got " << refused.cipher();
  const auto why = handshake_failure_for(refused_port);
  ASSERT_TRUE(why.has_value()) << flowd_->log_tail();
  EXPECT_EQ(*why, "TLS error: no shared cipher");

  TlsClientOptions aes128;
  aes128.max_version = "TLSv1.2";
  aes128.cipher_list = "ECDHE-RSA-AES128-GCM-SHA256";
  TlsClient accepted(aes128);
  ASSERT_TRUE(accepted.open(port)) << accepted.last_error();
  EXPECT_EQ(accepted.version(), "TLSv1.2");
  EXPECT_EQ(accepted.cipher(), "ECDHE-RSA-AES128-GCM-SHA256");
  ASSERT_TRUE(echo_round_trip(accepted, "AES-128"));
}

// "ciphers" is the list of allowed suites for every version: a listener allowing TLSv1.2 and TLSv1.3
// with only TLS 1.2 ciphers listed must not negotiate OpenSSL's default TLS 1.3 suites, and a list of
// only TLS 1.3 suites leaves no TLS 1.2 cipher on. (Found by this test: the engine once configured
// only the kind of suite the list named.)
TEST_F(TlsListenerTest, CipherRestrictionAlsoAppliesToTheOtherProtocolVersion) {
  {
    const int port = start_echo({"-Cciphers=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"});
    ASSERT_GT(port, 0) << flowd_->log_tail();
    TlsClient client;
    if (client.open(port)) {
      EXPECT_EQ(client.version(), "TLSv1.2") << "negotiated " << client.cipher() << ", which is not in ciphers";
      EXPECT_EQ(client.cipher(), "ECDHE-RSA-AES128-GCM-SHA256");
    }
  }
  {
    const int port = start_echo({"-Cciphers=TLS_AES_128_GCM_SHA256"});
    ASSERT_GT(port, 0) << flowd_->log_tail();
    TlsClientOptions tls12;
    tls12.max_version = "TLSv1.2";
    TlsClient client(tls12);
    EXPECT_FALSE(client.open(port)) << "a TLS 1.2 client negotiated " << client.cipher()
                                    << ", which is not in ciphers";
  }
}

// ---------------------------------------------------------------------------------------------------
// 6. Everything else behaves as over plain TCP.

TEST_F(TlsListenerTest, LineSplitAcrossTlsRecordsIsOneLine) {
  const int port = start_echo();
  ASSERT_GT(port, 0) << flowd_->log_tail();
  TlsClient client;
  ASSERT_TRUE(client.open(port)) << client.last_error();

  // Each send() is one TLS record; the server must not answer before the line is complete.
  for (const std::string piece : {"hel", "lo, ", "wor", "ld\r"}) {
    ASSERT_TRUE(client.send(piece)) << client.last_error();
    const std::string early = client.read_for(deadline_in(60ms));
    ASSERT_EQ(early, "") << "a reply before the line was complete: " << printable(early);
    ASSERT_FALSE(client.peer_closed()) << client.last_error();
  }
  ASSERT_TRUE(tls_exchange(client, "\n", echoed("hello, world")));
  // Two lines in one record are two lines.
  ASSERT_TRUE(tls_exchange(client, "one\r\ntwo\r\n", echoed("one") + echoed("two")));
  EXPECT_TRUE(flowd_->wait_for_log(log_message("line 1: hello, world")));
  EXPECT_TRUE(flowd_->wait_for_log(log_message("line 3: two")));
  EXPECT_EQ(flowd_->count_occurrences("line 1:"), 1u) << flowd_->log_tail();
}

TEST_F(TlsListenerTest, PipelinedRecordsAreAllAnswered) {
  const int port = start_echo();
  ASSERT_GT(port, 0) << flowd_->log_tail();
  TlsClient client;
  ASSERT_TRUE(client.open(port)) << client.last_error();

  // 200 lines, each in its own TLS record, sent before reading any answer; then 200 lines in one record.
  constexpr int kLines = 200;
  std::string expected;
  for (int i = 0; i < kLines; ++i) {
    const std::string line = "record " + std::to_string(i);
    ASSERT_TRUE(client.send(line + "\r\n")) << client.last_error();
    expected += echoed(line);
  }
  std::string burst;
  for (int i = 0; i < kLines; ++i) {
    burst += "burst " + std::to_string(i) + "\r\n";
    expected += echoed("burst " + std::to_string(i));
  }
  ASSERT_TRUE(client.send(burst)) << client.last_error();
  ASSERT_TRUE(tls_reply_is(client, expected, deadline_in(10s)));
  EXPECT_TRUE(flowd_->wait_for_log(log_message("line 400: burst 199"))) << flowd_->log_tail();
}

TEST_F(TlsListenerTest, FullTlsListenerClosesWithoutPlainText) {
  const int port = start_echo({"-CmaxConnections=2"});
  ASSERT_GT(port, 0) << flowd_->log_tail();
  TlsClient first, second;
  ASSERT_TRUE(first.open(port)) << first.last_error();
  ASSERT_TRUE(echo_round_trip(first, "one"));
  ASSERT_TRUE(second.open(port)) << second.last_error();
  ASSERT_TRUE(echo_round_trip(second, "two"));

  // The third is closed at once: no plain-text "ERR server full" line a TLS client could not read.
  TestClient third(port);
  ASSERT_TRUE(third.connected()) << third.last_error();
  const ReadResult r = third.read_until_closed(deadline_in(5s));
  EXPECT_TRUE(r.closed) << third.last_error();
  EXPECT_EQ(r.data, "") << printable(r.data);
  EXPECT_TRUE(flowd_->wait_for_log("message=\"connection refused: maxConnections reached\" listener=\"tlsListener\""))
      << flowd_->log_tail();
  // A TLS client over the cap sees its handshake fail, and the two are not disturbed.
  TlsClient fourth;
  EXPECT_FALSE(fourth.open(port, deadline_in(5s))) << "a client over maxConnections got " << fourth.version();
  ASSERT_TRUE(echo_round_trip(first, "still one"));
  ASSERT_TRUE(echo_round_trip(second, "still two"));
  EXPECT_EQ(flowd_->count_occurrences(log_message("connected")), 2u) << flowd_->log_tail();
}

TEST_F(TlsListenerTest, SigtermClosesTlsClientsAndExitsZero) {
  const int port = start_echo();
  ASSERT_GT(port, 0) << flowd_->log_tail();
  std::vector<std::unique_ptr<TlsClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<TlsClient>());
    ASSERT_TRUE(clients.back()->open(port)) << clients.back()->last_error();
    ASSERT_TRUE(echo_round_trip(*clients.back(), "client " + std::to_string(i)));
  }
  // And one still in its handshake (it sends nothing): it must not hold the stop up (handshakeTimeout
  // is 10 s, --drain-grace 5 s).
  TestClient handshaking(port);
  ASSERT_TRUE(handshaking.connected()) << handshaking.last_error();
  const auto t0 = Clock::now();
  ASSERT_TRUE(flowd_->send_signal(SIGTERM));
  for (auto& c : clients) {
    const TlsReadResult r = c->read_until_closed(deadline_in(5s));
    EXPECT_TRUE(r.closed) << "a client was not closed: " << c->last_error();
    EXPECT_EQ(r.data, "") << printable(r.data);
    // flowd closes gracefully: a TLS close_notify before the TCP FIN.
    EXPECT_TRUE(r.close_notify) << c->last_error();
  }
  EXPECT_TRUE(handshaking.read_until_closed(deadline_in(5s)).closed) << handshaking.last_error();
  const auto code = flowd_->wait_exit(deadline_in(10s));
  ASSERT_TRUE(code.has_value()) << "flowd did not exit after SIGTERM" << flowd_->log_tail();
  EXPECT_EQ(*code, 0) << flowd_->log_tail();
  EXPECT_LT(Clock::now() - t0, 3s) << "the stop waited for something";
  EXPECT_TRUE(flowd_->wait_output_closed(deadline_in(5s)));
  EXPECT_EQ(flowd_->count_occurrences(log_message("closed after 1 lines")), 3u) << flowd_->log_tail();
  EXPECT_TRUE(contains(flowd_->log(), log_message("stopped"))) << flowd_->log_tail();
}

TEST_F(TlsListenerTest, AbruptDisconnectRunsOnCloseOnceAndHurtsNoOne) {
  const int port = start_echo();
  ASSERT_GT(port, 0) << flowd_->log_tail();

  TlsClient steady;
  ASSERT_TRUE(steady.open(port)) << steady.last_error();
  ASSERT_TRUE(echo_round_trip(steady, "first"));

  // Reset right after the handshake (once onConnect ran), without a byte of data or close_notify.
  TlsClient quiet;
  ASSERT_TRUE(quiet.open(port)) << quiet.last_error();
  const int quiet_port = quiet.local_port();
  ASSERT_TRUE(flowd_->wait_for_log(log_message("connected") + " " + client_field(quiet_port))) << flowd_->log_tail();
  quiet.reset();

  // Reset after a round trip.
  TlsClient talker;
  ASSERT_TRUE(talker.open(port)) << talker.last_error();
  const int talker_port = talker.local_port();
  ASSERT_TRUE(echo_round_trip(talker, "bye"));
  talker.reset();

  const std::string quiet_closed = log_message("closed after 0 lines") + " " + client_field(quiet_port);
  const std::string talker_closed = log_message("closed after 1 lines") + " " + client_field(talker_port);
  ASSERT_TRUE(flowd_->wait_for_log(quiet_closed)) << flowd_->log_tail();
  ASSERT_TRUE(flowd_->wait_for_log(talker_closed)) << flowd_->log_tail();

  // The other client goes on; by the time it has its answer, a second onClose would have shown.
  ASSERT_TRUE(echo_round_trip(steady, "second"));
  ASSERT_TRUE(echo_round_trip(steady, "third"));
  EXPECT_EQ(flowd_->count_occurrences(quiet_closed), 1u) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences(talker_closed), 1u) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences("closed after"), 2u) << flowd_->log_tail();
  // The reset is a network error, as over plain TCP: onError (before onClose) names it. (Over TLS the
  // text is "TLS error: Connection reset by peer", over plain TCP "Connection reset by peer".)
  const std::regex reset_error(regex_escape(log_message("connection error")) +
                               R"re( error="[^"]*Connection reset by peer" )re" +
                               regex_escape(client_field(talker_port)));
  EXPECT_TRUE(std::regex_search(flowd_->log(), reset_error)) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("connection error")), 2u) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences(kHandshakeFailed), 0u) << flowd_->log_tail();
}

TEST_F(TlsListenerTest, TwentyConcurrentTlsClientsTwentyRoundTripsEach) {
  const int port = start_echo();
  ASSERT_GT(port, 0) << flowd_->log_tail();
  constexpr int kClients = 20;
  constexpr int kRounds = 20;
  std::mutex mu;
  std::vector<std::string> failures;
  std::atomic<int> handshakes{0};
  std::vector<std::thread> threads;
  const Deadline deadline = deadline_in(30s);
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto fail = [&](const std::string& what) {
        std::lock_guard<std::mutex> lock(mu);
        failures.push_back("client " + std::to_string(i) + ": " + what);
      };
      TlsClient c;
      if (!c.open(port, deadline)) return fail(c.last_error());
      ++handshakes;
      for (int j = 0; j < kRounds; ++j) {
        const std::string line = "client " + std::to_string(i) + " message " + std::to_string(j);
        if (auto r = echo_round_trip(c, line, deadline); !r) return fail(r.message());
      }
      c.close();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(failures.empty()) << [&] {
    std::string all;
    for (const auto& f : failures) all += f + "\n";
    return all;
  }();
  EXPECT_EQ(handshakes.load(), kClients);
  EXPECT_TRUE(flowd_->wait_for_count(log_message("closed after 20 lines"), kClients)) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("connected")), static_cast<std::size_t>(kClients));
  EXPECT_EQ(flowd_->count_occurrences(kHandshakeFailed), 0u) << flowd_->log_tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("connection error")), 0u) << flowd_->log_tail();
}

// ---------------------------------------------------------------------------------------------------
// 7. flowd check.

TEST_F(TlsListenerTest, CheckAcceptsTheTlsFlows) {
  for (const std::string& flow : {tls_echo_flow(), tls_chat_flow()}) {
    const CommandResult r = run_command({"check", flow});
    EXPECT_EQ(r.exit_code, 0) << flow << ":\n" << r.output;
    EXPECT_TRUE(contains(r.output, ": ok (1 listener, 1 service, 1 class")) << r.output;
  }
}

TEST_F(TlsListenerTest, CheckRefusesASecureSocketWithoutKey) {
  const CommandResult r = run_command({"check", invalid_flow("tls_missing_key")});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "error E101")) << r.output;
  EXPECT_TRUE(contains(r.output, "\"key\"")) << r.output;
}

}  // namespace
}  // namespace flowd::test
