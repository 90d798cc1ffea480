#include "net/stream.hpp"

namespace flowd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

char* thread_read_buffer() {
  thread_local std::unique_ptr<char[]> buf(new char[kReadBufferBytes]);
  return buf.get();
}

std::string seconds_text(std::chrono::milliseconds ms) {
  auto n = ms.count();
  if (n % 1000 == 0) return std::to_string(n / 1000) + " s";
  std::string frac = std::to_string(n % 1000 + 1000).substr(1);
  while (frac.back() == '0') frac.pop_back();
  return std::to_string(n / 1000) + "." + frac + " s";
}

void Stream::from_tls(TlsStream::Io io, boost::system::error_code& ec) {
  switch (io) {
    case TlsStream::Io::Done: ec = {}; break;
    case TlsStream::Io::WantRead: want_ = Want::Read; ec = asio::error::would_block; break;
    case TlsStream::Io::WantWrite: want_ = Want::Write; ec = asio::error::would_block; break;
    case TlsStream::Io::Closed: ec = asio::error::eof; break;
    case TlsStream::Io::Failed:
      if (int e = tls_->sys_error()) ec = boost::system::error_code(e, boost::system::system_category());
      else ec = boost::system::errc::make_error_code(boost::system::errc::protocol_error);
      break;
  }
}

bool Stream::handshake(boost::system::error_code& ec) {
  if (!tls_) return true;
  from_tls(tls_->handshake(), ec);
  return !ec;
}

std::size_t Stream::read_some(char* buf, std::size_t cap, boost::system::error_code& ec) {
  if (!tls_) {
    want_ = Want::Read;
    return socket_.read_some(asio::buffer(buf, cap), ec);
  }
  std::size_t n = 0;
  from_tls(tls_->read(buf, cap, n), ec);
  return n;
}

std::size_t Stream::write_some(const std::vector<asio::const_buffer>& bufs, boost::system::error_code& ec) {
  if (!tls_) {
    want_ = Want::Write;
    return socket_.write_some(bufs, ec);
  }
  // One TLS record per buffer: OpenSSL writes no gathered records, and a retried write must offer the
  // same bytes, which the first queued buffer (immutable until sent) guarantees.
  std::size_t total = 0;
  for (const auto& b : bufs) {
    std::size_t n = 0;
    from_tls(tls_->write(static_cast<const char*>(b.data()), b.size(), n), ec);
    total += n;
    if (ec || n < b.size()) break;
  }
  if (ec && total > 0) ec = {};
  return total;
}

std::string Stream::error_text(const boost::system::error_code& ec) const {
  if (ec == boost::system::errc::protocol_error && tls_) return "TLS error: " + tls_->error();
  if (ec == asio::error::connection_reset) return "Connection reset by peer";
  return ec.message();
}

void Stream::close(bool graceful) {
  if (!socket_.is_open()) return;
  boost::system::error_code ec;
  if (graceful) {
    if (tls_) tls_->shutdown();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
  }
  socket_.close(ec);
}

}  // namespace flowd
