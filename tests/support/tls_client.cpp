#include "support/tls_client.hpp"

#include "support/test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace flowd::test {

namespace {


// OpenSSL's queued error reasons, "; "-separated (and the queue cleared).
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* r = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += r ? r : "error " + std::to_string(ERR_GET_REASON(e));
  }
  return out;
}

int version_number(const std::string& name) {
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  if (name == "TLSv1.1") return TLS1_1_VERSION;
  if (name == "TLSv1" || name == "TLSv1.0") return TLS1_VERSION;
  return -1;
}

}  // namespace

TlsClient::TlsClient(TlsClientOptions options) : options_(std::move(options)) {
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });

  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_) {
    last_error_ = "SSL_CTX_new: " + openssl_errors();
    return;
  }
  auto fail = [this](const std::string& what) {
    last_error_ = what + ": " + openssl_errors();
    SSL_CTX_free(ctx_);
    ctx_ = nullptr;
  };
  const int min_v = options_.min_version.empty() ? 0 : version_number(options_.min_version);
  const int max_v = options_.max_version.empty() ? 0 : version_number(options_.max_version);
  if (min_v < 0 || (min_v > 0 && SSL_CTX_set_min_proto_version(ctx_, min_v) != 1)) {
    fail("min_version " + options_.min_version);
    return;
  }
  if (max_v < 0 || (max_v > 0 && SSL_CTX_set_max_proto_version(ctx_, max_v) != 1)) {
    fail("max_version " + options_.max_version);
    return;
  }
  if (!options_.cipher_list.empty() && SSL_CTX_set_cipher_list(ctx_, options_.cipher_list.c_str()) != 1) {
    fail("cipher_list " + options_.cipher_list);
    return;
  }
  if (!options_.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx_, options_.ciphersuites.c_str()) != 1) {
    fail("ciphersuites " + options_.ciphersuites);
    return;
  }
  if (!options_.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx_, options_.ca_file.c_str(), nullptr) != 1) {
      fail("ca_file " + options_.ca_file);
      return;
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
}

TlsClient::~TlsClient() {
  free_ssl();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (ctx_) SSL_CTX_free(ctx_);
}

void TlsClient::free_ssl() {
  if (ssl_) SSL_free(ssl_);
  ssl_ = nullptr;
}

bool TlsClient::connect(int port, Deadline deadline) {
  close();
  peer_closed_ = close_notify_ = handshake_done_ = false;
  buffered_.clear();
  if (!ctx_) {
    if (last_error_.empty()) last_error_ = "no TLS context";
    return false;
  }
  last_error_.clear();
  const int fd = connect_loopback(port, deadline, last_error_);
  if (fd < 0) return false;
  fd_ = fd;
  return true;
}

bool TlsClient::handshake(Deadline deadline) {
  if (fd_ < 0) {
    if (last_error_.empty()) last_error_ = "handshake: not connected";
    return false;
  }
  if (!ssl_) {
    ssl_ = SSL_new(ctx_);
    if (!ssl_) {
      last_error_ = "SSL_new: " + openssl_errors();
      return false;
    }
    SSL_set_fd(ssl_, fd_);
    SSL_set_connect_state(ssl_);
    // SSL_set_tlsext_host_name is a macro with a C cast.
    if (!options_.sni.empty())
      SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(options_.sni.c_str()));
    if (!options_.ca_file.empty() && !options_.verify_host.empty()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      in_addr a{};
      if (::inet_pton(AF_INET, options_.verify_host.c_str(), &a) == 1)
        X509_VERIFY_PARAM_set1_ip_asc(param, options_.verify_host.c_str());
      else
        X509_VERIFY_PARAM_set1_host(param, options_.verify_host.c_str(), 0);
    }
  }
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_do_handshake(ssl_);
    if (rc == 1) {
      handshake_done_ = true;
      return true;
    }
    const int e = SSL_get_error(ssl_, rc);
    const int err = errno;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      const int rev = wait_fd(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
      if (rev == 0) {
        last_error_ = "handshake: timed out";
        return false;
      }
      if (rev < 0) {
        last_error_ = errno_text("poll", errno);
        return false;
      }
      continue;
    }
    std::string reason = openssl_errors();
    if (e == SSL_ERROR_SYSCALL && reason.empty()) {
      reason = err != 0 ? std::strerror(err) : "the server closed the connection";
      if (err == ECONNRESET || err == 0) peer_closed_ = true;
    }
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) reason += std::string(reason.empty() ? "" : ": ") + X509_verify_cert_error_string(verify);
    last_error_ = "handshake failed: " + (reason.empty() ? "SSL error " + std::to_string(e) : reason);
    return false;
  }
}

bool TlsClient::open(int port, Deadline deadline) { return connect(port, deadline) && handshake(deadline); }

bool TlsClient::send(std::string_view data, Deadline deadline) {
  if (!ssl_ || !handshake_done_) {
    last_error_ = "send: no TLS connection";
    return false;
  }
  if (data.empty()) return true;
  for (;;) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int rc = SSL_write_ex(ssl_, data.data(), data.size(), &n);
    if (rc == 1) return true;  // partial writes are off: all of it was written
    const int e = SSL_get_error(ssl_, rc);
    const int err = errno;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      const int rev = wait_fd(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
      if (rev == 0) {
        last_error_ = "send: timed out";
        return false;
      }
      if (rev < 0) {
        last_error_ = errno_text("poll", errno);
        return false;
      }
      continue;
    }
    std::string reason = openssl_errors();
    if (reason.empty()) reason = err != 0 ? std::strerror(err) : "SSL error " + std::to_string(e);
    if (err == EPIPE || err == ECONNRESET) peer_closed_ = true;
    last_error_ = "send: " + reason;
    return false;
  }
}

int TlsClient::fill(Deadline deadline, bool& timed_out) {
  timed_out = false;
  if (!ssl_ || !handshake_done_) {
    last_error_ = "read: no TLS connection";
    return -1;
  }
  if (peer_closed_) return -1;
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int rc = SSL_read_ex(ssl_, buf, sizeof buf, &n);
    if (rc == 1) {
      buffered_.append(buf, n);
      return 1;
    }
    const int e = SSL_get_error(ssl_, rc);
    const int err = errno;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      const int rev = wait_fd(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
      if (rev == 0) {
        timed_out = true;
        last_error_ = "read: timed out";
        return -1;
      }
      if (rev < 0) {
        last_error_ = errno_text("poll", errno);
        return -1;
      }
      continue;
    }
    peer_closed_ = true;
    if (e == SSL_ERROR_ZERO_RETURN) {
      close_notify_ = true;
      last_error_ = "read: the server sent close_notify";
      return -1;
    }
    std::string reason = openssl_errors();
    if (e == SSL_ERROR_SYSCALL && reason.empty()) {
      last_error_ = err != 0 ? errno_text("read", err) : "read: EOF";
      return -1;
    }
    // OpenSSL 3 reports a TCP EOF without close_notify as "unexpected eof while reading".
    last_error_ = "read: " + (reason.empty() ? "SSL error " + std::to_string(e) : reason);
    return -1;
  }
}

std::string TlsClient::read_until(std::string_view needle, Deadline deadline) {
  for (;;) {
    const auto at = buffered_.find(needle);
    if (at != std::string::npos) {
      std::string out = buffered_.substr(0, at + needle.size());
      buffered_.erase(0, at + needle.size());
      return out;
    }
    bool timed_out = false;
    if (fill(deadline, timed_out) < 0) {
      std::string out = std::move(buffered_);
      buffered_.clear();
      last_error_ += " (waiting for the bytes " + std::string(needle) + ", after " + std::to_string(out.size()) +
                     " other bytes)";
      return out;
    }
  }
}

std::string TlsClient::read_exact(std::size_t n, Deadline deadline) {
  while (buffered_.size() < n) {
    bool timed_out = false;
    if (fill(deadline, timed_out) < 0) {
      std::string out = std::move(buffered_);
      buffered_.clear();
      last_error_ += " (after " + std::to_string(out.size()) + " of " + std::to_string(n) + " bytes)";
      return out;
    }
  }
  std::string out = buffered_.substr(0, n);
  buffered_.erase(0, n);
  return out;
}

TlsReadResult TlsClient::read_until_closed(Deadline deadline) {
  TlsReadResult res;
  for (;;) {
    bool timed_out = false;
    if (fill(deadline, timed_out) < 0) {
      res.data = std::move(buffered_);
      buffered_.clear();
      res.timed_out = timed_out;
      res.closed = peer_closed_;
      res.close_notify = close_notify_;
      return res;
    }
  }
}

std::string TlsClient::read_for(Deadline deadline) {
  for (;;) {
    bool timed_out = false;
    if (fill(deadline, timed_out) < 0) {
      std::string out = std::move(buffered_);
      buffered_.clear();
      return out;
    }
  }
}

int TlsClient::local_port() const {
  if (fd_ < 0) return 0;
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

std::string TlsClient::version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

std::string TlsClient::cipher() const {
  if (!ssl_) return "";
  const char* c = SSL_get_cipher_name(ssl_);
  return c ? c : "";
}

void TlsClient::close() {
  if (ssl_ && handshake_done_ && !peer_closed_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify, without waiting for the server's (non-blocking)
    ERR_clear_error();
  }
  free_ssl();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  handshake_done_ = false;
}

void TlsClient::reset() {
  if (fd_ >= 0) {
    linger lg{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd_);
  }
  fd_ = -1;
  free_ssl();
  handshake_done_ = false;
}

}  // namespace flowd::test
