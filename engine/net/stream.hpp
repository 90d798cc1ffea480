// A connected non-blocking socket, plain or TLS, with reads and writes that never block: the caller
// waits for readiness (want()) and tries again. Shared by listener connections and tcp:Client.
#pragma once
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/tls.hpp"

namespace flowd {

// Size of the per-thread read buffer that connections and clients read into.
inline constexpr std::size_t kReadBufferBytes = 64 * 1024;
// The thread's read buffer for listener connections: a chunk read into it is handled before the
// next connection reads, so an idle connection holds no read buffer of its own.
char* thread_read_buffer();
// "0.5 s", "10 s": a duration in the words of timeout messages.
std::string seconds_text(std::chrono::milliseconds ms);

class Stream {
 public:
  enum class Want : std::uint8_t { Read, Write };

  explicit Stream(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  boost::asio::ip::tcp::socket& socket() { return socket_; }
  // Starts TLS on the connected socket (the handshake is then driven by handshake()).
  void start_tls(boost::asio::ssl::context& ctx, bool server, const std::string& host, bool verify_host) {
    tls_ = std::make_unique<TlsStream>(ctx, socket_.native_handle(), server, host, verify_host);
  }
  bool is_tls() const { return tls_ != nullptr; }
  TlsStream* tls() { return tls_.get(); }

  // Each sets ec to would_block (wait for want(), then call again), eof, or an error whose text is
  // error_text(ec). A TLS error is errc::protocol_error with OpenSSL's reason.
  bool handshake(boost::system::error_code& ec);
  std::size_t read_some(char* buf, std::size_t cap, boost::system::error_code& ec);
  std::size_t write_some(const std::vector<boost::asio::const_buffer>& bufs, boost::system::error_code& ec);
  Want want() const { return want_; }
  // Decrypted bytes already inside OpenSSL: readable now, though the socket may not be.
  bool pending() const { return tls_ && tls_->pending(); }
  std::string error_text(const boost::system::error_code& ec) const;
  // Best effort: close_notify for TLS (never waited for), then the TCP shutdown and close.
  void close(bool graceful);

 private:
  void from_tls(TlsStream::Io io, boost::system::error_code& ec);
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<TlsStream> tls_;
  Want want_ = Want::Read;
};

}  // namespace flowd
