// A small TLS client for the black-box tests (OpenSSL over a non-blocking socket to 127.0.0.1:port):
// every operation (connect, handshake, send, receive) is bounded by a deadline through poll().
// Nothing sleeps. Errors (connect, handshake, I/O) are kept as text for assertion messages.
//
// The first TlsClient made ignores SIGPIPE in the test process (OpenSSL writes with write(), which
// would raise it on a closed connection); FlowdProcess resets it to the default in the flowd child.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "support/deadline.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace flowd::test {

struct TlsClientOptions {
  // Protocol version limits, "TLSv1.2" or "TLSv1.3"; empty: OpenSSL's default.
  std::string min_version;
  std::string max_version;
  // TLS 1.2 cipher list (OpenSSL names, "ECDHE-RSA-AES128-GCM-SHA256"); empty: OpenSSL's default.
  std::string cipher_list;
  // TLS 1.3 ciphersuites ("TLS_AES_128_GCM_SHA256"); empty: OpenSSL's default.
  std::string ciphersuites;
  // PEM file of the certificate (or CA) to verify the server against; empty: no verification.
  std::string ca_file;
  // With ca_file: the name ("localhost") or IP address ("127.0.0.1") the certificate must name;
  // empty: the chain is verified but not the name.
  std::string verify_host;
  // Server name indication to send; empty: none.
  std::string sni;
};

struct TlsReadResult {
  std::string data;          // everything read
  bool closed = false;       // the peer closed: close_notify, EOF or reset
  bool close_notify = false; // the peer sent a TLS close_notify
  bool timed_out = false;    // the deadline passed first
};

class TlsClient {
 public:
  explicit TlsClient(TlsClientOptions options = {});
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // TCP connect only (no handshake). False with last_error() on failure.
  bool connect(int port, Deadline deadline = deadline_in(kDefaultTimeout));
  // The TLS handshake over the connected socket. False with last_error() naming OpenSSL's reason
  // (and the certificate verification result, if that failed).
  bool handshake(Deadline deadline = deadline_in(kDefaultTimeout));
  // connect() then handshake().
  bool open(int port, Deadline deadline = deadline_in(kDefaultTimeout));

  bool connected() const { return fd_ >= 0; }
  bool handshake_done() const { return handshake_done_; }
  int fd() const { return fd_; }
  // The client's own port (as the server sees it in client="127.0.0.1:PORT"), 0 if not connected.
  int local_port() const;

  // Sends all of `data` as one SSL_write (one TLS record up to 16 KiB).
  bool send(std::string_view data, Deadline deadline = deadline_in(kDefaultTimeout));
  // Reads until `needle` has been received (the result then ends with it; bytes after it stay
  // buffered for the next read), or the deadline passes / the peer closes (result without it).
  std::string read_until(std::string_view needle, Deadline deadline = deadline_in(kDefaultTimeout));
  // Reads exactly n bytes unless the deadline passes or the peer closes first.
  std::string read_exact(std::size_t n, Deadline deadline = deadline_in(kDefaultTimeout));
  // Reads until the peer closes (close_notify, EOF or reset) or the deadline passes.
  TlsReadResult read_until_closed(Deadline deadline = deadline_in(kDefaultTimeout));
  // Reads whatever arrives until the deadline (or the peer closes): for "nothing may arrive" checks.
  std::string read_for(Deadline deadline);

  // The negotiated protocol ("TLSv1.3") and cipher ("TLS_AES_256_GCM_SHA384"), after handshake().
  std::string version() const;
  std::string cipher() const;

  // Sends close_notify (without waiting for the server's) and closes the socket.
  void close();
  // SO_LINGER {1, 0} then close(): the kernel sends an RST, no close_notify.
  void reset();

  const std::string& last_error() const { return last_error_; }
  bool peer_closed() const { return peer_closed_; }
  bool got_close_notify() const { return close_notify_; }

 private:
  // One SSL_read into buffered_; returns 1 on data, 0 on want (waited on until the deadline, then
  // -1 with timed_out), -1 on close or error.
  int fill(Deadline deadline, bool& timed_out);
  void free_ssl();

  TlsClientOptions options_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool handshake_done_ = false;
  bool peer_closed_ = false;
  bool close_notify_ = false;
  std::string buffered_;  // read but not yet returned
  std::string last_error_;
};

}  // namespace flowd::test
