// TLS for listeners and tcp:Client connections. A context is configured once (Boost.Asio's
// ssl::context over OpenSSL) with errors that name the file and the problem; each connection then
// runs OpenSSL on its own non-blocking socket (a socket BIO that sends with MSG_NOSIGNAL), as Redis and HAProxy do, so a TLS
// connection uses the same readiness loop as a plain one and keeps no buffers of its own while idle.
#pragma once
#include <utility>

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

typedef struct ssl_st SSL;

namespace flowd {

// What a listener's or a client's secureSocket says, evaluated at start (or at connect).
struct TlsSettings {
  std::string cert_file;      // listener: its certificate chain; client: the certificate to trust
  std::string key_file;       // listener only
  std::string key_password;   // listener only: for an encrypted key
  std::vector<std::string> versions;  // "TLSv1.2", "TLSv1.3"; empty: both
  std::vector<std::string> ciphers;   // IANA or OpenSSL names; empty: OpenSSL's defaults
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds session_timeout{0};  // 0: OpenSSL's default (300 s)
  bool verify_host_name = true;       // client only
};

inline constexpr std::chrono::milliseconds kDefaultHandshakeTimeout{10'000};

// A server context with the certificate and key loaded and checked against each other. Returns null
// with `error` naming the setting, the file and the problem.
std::shared_ptr<boost::asio::ssl::context> make_server_tls(const TlsSettings& s, std::string& error);
// A client context that verifies the server against cert_file (or the system's trusted roots).
std::shared_ptr<boost::asio::ssl::context> make_client_tls(const TlsSettings& s, std::string& error);

// One TLS connection over a non-blocking socket that the caller owns and waits on.
class TlsStream {
 public:
  enum class Io { Done, WantRead, WantWrite, Closed, Failed };

  // `host`: for a client, the name (or address) to send as SNI and to verify; empty for a server.
  TlsStream(boost::asio::ssl::context& ctx, int fd, bool server, const std::string& host, bool verify_host);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  Io handshake();
  Io read(char* buf, std::size_t cap, std::size_t& n);
  Io write(const char* data, std::size_t len, std::size_t& n);
  // Sends close_notify (without waiting for the peer's).
  Io shutdown();
  // Why the last call failed: OpenSSL's reason, or the system error.
  const std::string& error() const { return error_; }
  std::string version() const;
  bool pending() const;
  // The errno of a failure that came from the socket (0 when OpenSSL itself refused).
  int sys_error() const { return sys_error_; }
  std::string cipher() const;

 private:
  Io result(int rc, const char* during);
  SSL* ssl_ = nullptr;
  std::string error_;
  int sys_error_ = 0;
};

}  // namespace flowd
