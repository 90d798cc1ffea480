#include "net/tls.hpp"

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <openssl/x509v3.h>

namespace flowd {

namespace ssl = boost::asio::ssl;

namespace {

// The largest certificate or key file read; real ones are a few KiB.
constexpr std::size_t kMaxPemBytes = 1024 * 1024;

std::string openssl_reason() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* r = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += r ? r : "error " + std::to_string(ERR_GET_REASON(e));
  }
  return out;
}

// OpenSSL's socket BIO writes with write(), which raises SIGPIPE when the peer has gone (a client that
// leaves right after the handshake, while the server sends its TLS 1.3 session tickets). This BIO is
// the socket BIO with its write done by send(MSG_NOSIGNAL): the failure comes back as EPIPE instead.
int nosignal_write(BIO* b, const char* data, int len) {
  int fd = -1;
  BIO_get_fd(b, &fd);
  errno = 0;
  int n = static_cast<int>(::send(fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL));
  BIO_clear_retry_flags(b);
  if (n <= 0 && BIO_sock_should_retry(n)) BIO_set_retry_write(b);
  return n;
}

const BIO_METHOD* nosignal_socket_method() {
  static const BIO_METHOD* method = [] {
    const BIO_METHOD* base = BIO_s_socket();
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "flowd socket");
    BIO_meth_set_write(m, nosignal_write);
    BIO_meth_set_read(m, BIO_meth_get_read(base));
    BIO_meth_set_puts(m, BIO_meth_get_puts(base));
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base));
    BIO_meth_set_create(m, BIO_meth_get_create(base));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(base));
    return m;
  }();
  return method;
}

// Reads a PEM file and lists the kinds of block it holds ("CERTIFICATE", "PRIVATE KEY"...), so that
// a wrong file is named for what it is, not with OpenSSL's "no start line".
bool read_pem(const std::string& setting, const std::string& path, std::string& text,
              std::vector<std::string>& labels, std::string& error) {
  if (path.empty()) {
    error = setting + " is empty: give the path of a PEM file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = setting + " '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  if (text.size() > kMaxPemBytes) {
    error = setting + " '" + path + "' is larger than 1 MiB: not a PEM certificate or key";
    return false;
  }
  if (text.empty()) {
    error = setting + " '" + path + "' is empty";
    return false;
  }
  std::size_t at = 0;
  const std::string begin = "-----BEGIN ";
  while ((at = text.find(begin, at)) != std::string::npos) {
    at += begin.size();
    std::size_t end = text.find("-----", at);
    if (end == std::string::npos) break;
    labels.push_back(text.substr(at, end - at));
    at = end;
  }
  if (labels.empty()) {
    error = setting + " '" + path + "' is not PEM text (no '-----BEGIN' line; a DER or keystore file must be converted to PEM)";
    return false;
  }
  return true;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool has_label(const std::vector<std::string>& labels, const char* suffix) {
  for (const auto& l : labels)
    if (l.size() >= std::strlen(suffix) && l.compare(l.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
      return true;
  return false;
}

bool version_number(const std::string& name, int& v, std::string& error) {
  if (name == "TLSv1.2") v = TLS1_2_VERSION;
  else if (name == "TLSv1.3") v = TLS1_3_VERSION;
  else if (name == "TLSv1" || name == "TLSv1.0" || name == "TLSv1.1" || name.rfind("SSL", 0) == 0)
    error = "protocol version '" + name + "' is not supported: it is insecure and OpenSSL 3 refuses it (use TLSv1.2 or TLSv1.3)";
  else
    error = "unknown protocol version '" + name + "' (use TLSv1.2 or TLSv1.3)";
  return error.empty();
}

// Protocol versions, ciphers and common modes for both sides.
bool configure_common(ssl::context& ctx, const TlsSettings& s, std::string& error) {
  SSL_CTX* c = ctx.native_handle();
  int lo = TLS1_2_VERSION, hi = TLS1_3_VERSION;
  if (!s.versions.empty()) {
    lo = TLS1_3_VERSION;
    hi = TLS1_2_VERSION;
    for (const auto& name : s.versions) {
      int v = 0;
      if (!version_number(name, v, error)) return false;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!s.ciphers.empty()) {
    // TLS 1.3 suites and TLS 1.2 ciphers are configured apart in OpenSSL; Ballerina lists both by
    // their IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), OpenSSL's own names are accepted too.
    SSL_CTX* all = SSL_CTX_new(TLS_method());
    SSL_CTX_set_cipher_list(all, "ALL:COMPLEMENTOFALL");
    STACK_OF(SSL_CIPHER)* known = SSL_CTX_get_ciphers(all);
    std::string tls12, tls13;
    for (const auto& name : s.ciphers) {
      if (name.rfind("TLS_AES_", 0) == 0 || name.rfind("TLS_CHACHA20_", 0) == 0) {
        tls13 += (tls13.empty() ? "" : ":") + name;
        continue;
      }
      const char* found = nullptr;
      for (int i = 0; known && i < sk_SSL_CIPHER_num(known); ++i) {
        const SSL_CIPHER* ci = sk_SSL_CIPHER_value(known, i);
        const char* std_name = SSL_CIPHER_standard_name(ci);
        if (name == SSL_CIPHER_get_name(ci) || (std_name && name == std_name)) found = SSL_CIPHER_get_name(ci);
      }
      if (!found) {
        SSL_CTX_free(all);
        error = "unknown cipher '" + name + "'";
        return false;
      }
      tls12 += (tls12.empty() ? "" : ":") + std::string(found);
    }
    SSL_CTX_free(all);
    ERR_clear_error();
    // The list is what is allowed, for every version: a version none of whose ciphers is listed is off.
    if (tls12.empty()) lo = std::max(lo, TLS1_3_VERSION);
    else if (SSL_CTX_set_cipher_list(c, tls12.c_str()) != 1) {
      error = "ciphers " + tls12 + ": " + openssl_reason();
      return false;
    }
    if (tls13.empty()) hi = std::min(hi, TLS1_2_VERSION);
    if (SSL_CTX_set_ciphersuites(c, tls13.c_str()) != 1) {
      error = "ciphers " + tls13 + ": " + openssl_reason();
      return false;
    }
    if (lo > hi) {
      error = std::string("the ciphers allow none of the protocol versions: ") +
              (tls12.empty() ? "they are all TLS 1.3 suites, and TLSv1.3 is not among the versions"
                             : "they are all TLS 1.2 ciphers, and TLSv1.2 is not among the versions");
      return false;
    }
  }
  SSL_CTX_set_min_proto_version(c, lo);
  SSL_CTX_set_max_proto_version(c, hi);
  // Idle connections give their buffers back; writes may be partial and resumed from a moved buffer.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A peer that closes the TCP connection without close_notify is an ordinary close, as in plain TCP.
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  return true;
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls(const TlsSettings& s, std::string& error) {
  std::string cert_text, key_text;
  std::vector<std::string> cert_labels, key_labels;
  if (!read_pem("certFile", s.cert_file, cert_text, cert_labels, error)) return nullptr;
  if (!has_label(cert_labels, "CERTIFICATE")) {
    error = "certFile '" + s.cert_file + "' holds no certificate (it holds: " + joined(cert_labels) + ")" +
            (has_label(cert_labels, "PRIVATE KEY") ? "; were certFile and keyFile swapped?" : "");
    return nullptr;
  }
  if (!read_pem("keyFile", s.key_file, key_text, key_labels, error)) return nullptr;
  if (!has_label(key_labels, "PRIVATE KEY")) {
    error = "keyFile '" + s.key_file + "' holds no private key (it holds: " + joined(key_labels) + ")" +
            (has_label(key_labels, "CERTIFICATE") ? "; were certFile and keyFile swapped?" : "");
    return nullptr;
  }
  bool encrypted = has_label(key_labels, "ENCRYPTED PRIVATE KEY") || key_text.find("Proc-Type: 4,ENCRYPTED") != std::string::npos;
  if (encrypted && s.key_password.empty()) {
    error = "keyFile '" + s.key_file + "' is encrypted: give its password in keyPassword";
    return nullptr;
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  // Never prompt on the terminal for a password: answer with keyPassword (possibly empty).
  std::string password = s.key_password;
  ctx->set_password_callback([password](std::size_t, ssl::context::password_purpose) { return password; });
  ERR_clear_error();
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert_text), ec);
  if (ec) {
    error = "certFile '" + s.cert_file + "': cannot load the certificate: " + ec.message();
    return nullptr;
  }
  ctx->use_private_key(boost::asio::buffer(key_text), ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    error = "keyFile '" + s.key_file + "' does not match the certificate in certFile '" + s.cert_file + "'";
    return nullptr;
  }
  if (ec) {
    error = "keyFile '" + s.key_file + "': cannot load the private key: " +
            (encrypted ? "wrong keyPassword (" + ec.message() + ")" : ec.message());
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    error = "keyFile '" + s.key_file + "' does not match the certificate in certFile '" + s.cert_file + "'";
    return nullptr;
  }
  if (!configure_common(*ctx, s, error)) return nullptr;
  SSL_CTX* c = ctx->native_handle();
  static const unsigned char kSessionContext[] = "flowd";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
  if (s.session_timeout.count() > 0)
    SSL_CTX_set_timeout(c, static_cast<long>(std::max<long long>(1, s.session_timeout.count() / 1000)));
  return ctx;
}

std::shared_ptr<ssl::context> make_client_tls(const TlsSettings& s, std::string& error) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  if (!s.cert_file.empty()) {
    std::string text;
    std::vector<std::string> labels;
    if (!read_pem("cert", s.cert_file, text, labels, error)) return nullptr;
    if (!has_label(labels, "CERTIFICATE")) {
      error = "cert '" + s.cert_file + "' holds no certificate (it holds: " + joined(labels) + ")";
      return nullptr;
    }
    ctx->add_certificate_authority(boost::asio::buffer(text), ec);
    if (ec) {
      error = "cert '" + s.cert_file + "': cannot load the certificate: " + ec.message();
      return nullptr;
    }
  } else {
    ctx->set_default_verify_paths(ec);
  }
  ctx->set_verify_mode(ssl::verify_peer);
  if (!configure_common(*ctx, s, error)) return nullptr;
  if (s.session_timeout.count() > 0)
    SSL_CTX_set_timeout(ctx->native_handle(), static_cast<long>(std::max<long long>(1, s.session_timeout.count() / 1000)));
  return ctx;
}

TlsStream::TlsStream(ssl::context& ctx, int fd, bool server, const std::string& host, bool verify_host) {
  ssl_ = SSL_new(ctx.native_handle());
  BIO* bio = BIO_new(nosignal_socket_method());
  BIO_set_fd(bio, fd, BIO_NOCLOSE);
  SSL_set_bio(ssl_, bio, bio);
  if (server) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (host.empty()) return;
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  // SNI is for names only (SSL_set_tlsext_host_name is a macro with a C cast).
  if (ec) SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  if (!verify_host) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  if (ec) X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  else X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
}

TlsStream::~TlsStream() {
  if (ssl_) SSL_free(ssl_);
}

TlsStream::Io TlsStream::result(int rc, const char* during) {
  int e = SSL_get_error(ssl_, rc);
  switch (e) {
    case SSL_ERROR_WANT_READ: return Io::WantRead;
    case SSL_ERROR_WANT_WRITE: return Io::WantWrite;
    case SSL_ERROR_ZERO_RETURN: return Io::Closed;
    case SSL_ERROR_SYSCALL: {
      int err = errno;
      std::string reason = openssl_reason();
      sys_error_ = 0;
      if (!reason.empty()) error_ = reason;
      else if (err == 0) return Io::Closed;
      else {
        // A socket error (a reset, a broken pipe) is reported as over plain TCP.
        sys_error_ = err;
        error_ = std::strerror(err);
      }
      return Io::Failed;
    }
    default: {
      sys_error_ = 0;
      error_ = openssl_reason();
      long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK && std::strcmp(during, "handshake") == 0)
        error_ += std::string(error_.empty() ? "" : ": ") + X509_verify_cert_error_string(verify);
      if (error_.empty()) error_ = std::string("TLS ") + during + " failed";
      return Io::Failed;
    }
  }
}

TlsStream::Io TlsStream::handshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  return rc == 1 ? Io::Done : result(rc, "handshake");
}

TlsStream::Io TlsStream::read(char* buf, std::size_t cap, std::size_t& n) {
  ERR_clear_error();
  n = 0;
  int rc = SSL_read_ex(ssl_, buf, cap, &n);
  return rc == 1 ? Io::Done : result(rc, "read");
}

TlsStream::Io TlsStream::write(const char* data, std::size_t len, std::size_t& n) {
  ERR_clear_error();
  n = 0;
  int rc = SSL_write_ex(ssl_, data, len, &n);
  return rc == 1 ? Io::Done : result(rc, "write");
}

TlsStream::Io TlsStream::shutdown() {
  ERR_clear_error();
  int rc = SSL_shutdown(ssl_);
  if (rc >= 0) return Io::Done;  // close_notify sent (0: the peer's not yet received, which we do not wait for)
  return result(rc, "shutdown");
}

bool TlsStream::pending() const { return SSL_pending(ssl_) > 0; }

std::string TlsStream::version() const { return SSL_get_version(ssl_); }

std::string TlsStream::cipher() const {
  const char* c = SSL_get_cipher_name(ssl_);
  return c ? c : "";
}

}  // namespace flowd
