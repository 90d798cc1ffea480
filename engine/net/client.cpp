#include "net/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>

namespace flowd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// What one readBytes returns at most (Ballerina returns what is buffered; bounded here).
constexpr std::size_t kMaxReadBytes = 1024 * 1024;

// A buffer of its own, not the connections' thread buffer: readBytes runs inside a handler, while the
// connection's framer may still be going through lines in that buffer.
char* client_read_buffer() {
  thread_local std::unique_ptr<char[]> buf(new char[kReadBufferBytes]);
  return buf.get();
}

const char* kClosed = "Socket connection already closed.";
}  // namespace

Client::Client(asio::io_context& io, ClientParams params)
    : io_(io), params_(std::move(params)), resolver_(io), read_timer_(io), write_timer_(io) {
  bool v6 = params_.host.find(':') != std::string::npos;
  where_ = (v6 ? "[" + params_.host + "]" : params_.host) + ":" + std::to_string(params_.port);
}

Client::~Client() {
  if (stream_) stream_->close(connected_ && failure_.empty());
}

std::shared_ptr<Client> Client::connect(asio::io_context& io, ClientParams params, Done done) {
  auto c = std::make_shared<Client>(io, std::move(params));
  c->start_connect(std::move(done));
  return c;
}

void Client::cancel(const std::string& why) {
  if (reader_) finish_read(make_error(why));
  if (writer_) fail(why);
  if (!connected_ && failure_.empty() && cancelled_.empty()) {
    cancelled_ = why;
    read_timer_.cancel();
    resolver_.cancel();
    if (stream_) {
      boost::system::error_code ignored;
      stream_->socket().close(ignored);
    }
  }
}

void Client::start_connect(Done done) {
  auto self = shared_from_this();
  // One deadline for resolving, connecting and the TLS handshake's start.
  read_timer_.expires_after(params_.timeout);
  read_timer_.async_wait([self](const boost::system::error_code& ec) {
    if (ec) return;
    self->resolver_.cancel();
    if (self->stream_) {
      boost::system::error_code ignored;
      self->stream_->socket().close(ignored);
    }
  });
  resolver_.async_resolve(params_.host, std::to_string(params_.port),
                          [self, done](const boost::system::error_code& ec, tcp::resolver::results_type results) {
                            if (ec) {
                              self->connect_failed(ec == asio::error::operation_aborted
                                                       ? "timed out after " + seconds_text(self->params_.timeout) +
                                                             " (the client's timeout)"
                                                       : "cannot resolve the host: " + ec.message(),
                                                   done);
                              return;
                            }
                            self->stream_ = std::make_unique<Stream>(tcp::socket(self->io_));
                            asio::async_connect(self->stream_->socket(), results,
                                                [self, done](const boost::system::error_code& e, const tcp::endpoint&) {
                                                  self->on_connected(e, done);
                                                });
                          });
}

void Client::on_connected(const boost::system::error_code& ec, Done done) {
  if (ec) {
    bool timed_out = ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor;
    connect_failed(timed_out ? "timed out after " + seconds_text(params_.timeout) + " (the client's timeout)"
                             : ec.message(),
                   done);
    return;
  }
  read_timer_.cancel();
  if (!cancelled_.empty()) {
    connect_failed(cancelled_, done);
    return;
  }
  boost::system::error_code ignored;
  tcp::socket& s = stream_->socket();
  s.set_option(tcp::no_delay(true), ignored);
  s.set_option(asio::socket_base::keep_alive(true), ignored);
  s.non_blocking(true, ignored);
  if (!params_.tls) {
    connected_ = true;
    done(Value::adopt(ValueTag::Client, new ClientObj(shared_from_this())));
    return;
  }
  stream_->start_tls(*params_.tls, false, params_.host, params_.verify_host);
  auto self = shared_from_this();
  read_timer_.expires_after(params_.handshake_timeout);
  read_timer_.async_wait([self](const boost::system::error_code& e) {
    if (e) return;
    boost::system::error_code ignored2;
    self->stream_->socket().cancel(ignored2);
    self->failure_ = "TLS handshake timed out after " + seconds_text(self->params_.handshake_timeout);
  });
  handshake(std::move(done));
}

void Client::handshake(Done done) {
  if (!failure_.empty() || !cancelled_.empty()) {
    connect_failed(failure_, done);
    return;
  }
  boost::system::error_code ec;
  if (stream_->handshake(ec)) {
    read_timer_.cancel();
    connected_ = true;
    done(Value::adopt(ValueTag::Client, new ClientObj(shared_from_this())));
    return;
  }
  if (ec != asio::error::would_block) {
    connect_failed("TLS handshake failed: " + (ec == asio::error::eof ? std::string("the server closed the connection")
                                                                     : stream_->tls()->error()),
                   done);
    return;
  }
  auto self = shared_from_this();
  auto w = stream_->want() == Stream::Want::Read ? tcp::socket::wait_read : tcp::socket::wait_write;
  stream_->socket().async_wait(w, [self, done](const boost::system::error_code& e) {
    if (e && self->failure_.empty()) self->failure_ = e.message();
    self->handshake(done);
  });
}

void Client::connect_failed(const std::string& reason, Done done) {
  read_timer_.cancel();
  std::string why = cancelled_.empty() ? reason : cancelled_;
  failure_ = why;
  if (stream_) {
    stream_->close(false);
  }
  done(make_error("cannot connect to " + where_ + ": " + why));
}

std::string Client::error_text(const boost::system::error_code& ec) { return stream_->error_text(ec); }

void Client::fail(const std::string& message) {
  if (failure_.empty()) failure_ = message;
  read_timer_.cancel();
  write_timer_.cancel();
  out_.clear();
  if (stream_) stream_->close(false);
  if (reader_) finish_read(make_error(failure_));
  if (writer_) finish_write(make_error(failure_));
}

Client::ReadState Client::drain_input(Value& result) {
  std::string got;
  char* buf = client_read_buffer();
  while (got.size() < kMaxReadBytes) {
    boost::system::error_code ec;
    std::size_t n = stream_->read_some(buf, kReadBufferBytes, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec == asio::error::eof) {
      at_end_ = true;
      break;
    }
    if (ec) {
      fail(error_text(ec));
      result = make_error(failure_);
      return ReadState::End;
    }
    got.append(buf, n);
  }
  if (!got.empty()) {
    result = Value::bytes(std::move(got));
    return ReadState::Data;
  }
  if (at_end_) {
    result = make_error("the server " + where_ + " closed the connection");
    return ReadState::End;
  }
  return ReadState::Empty;
}

bool Client::read(Value& result, Done done) {
  if (closed_) {
    result = make_error(kClosed);
    return true;
  }
  if (!failure_.empty()) {
    result = make_error(failure_);
    return true;
  }
  if (reader_) {
    result = make_error("readBytes is already waiting on this tcp:Client");
    return true;
  }
  if (drain_input(result) != ReadState::Empty) return true;
  reader_ = std::move(done);
  read_timer_.expires_after(params_.timeout);
  auto self = shared_from_this();
  read_timer_.async_wait([self](const boost::system::error_code& ec) {
    if (ec || !self->reader_) return;
    // As in Ballerina, a read timeout fails this read only; the connection stays usable.
    self->finish_read(make_error("Read timed out after " + seconds_text(self->params_.timeout) +
                                 " waiting for " + self->where_ + " (the client's timeout)"));
  });
  wait_readable();
  return false;
}

void Client::wait_readable() {
  if (waiting_read_ || !stream_) return;
  waiting_read_ = true;
  if (stream_->pending()) {
    asio::post(io_, [self = shared_from_this()] {
      self->waiting_read_ = false;
      self->on_readable({});
    });
    return;
  }
  auto w = stream_->want() == Stream::Want::Write ? tcp::socket::wait_write : tcp::socket::wait_read;
  stream_->socket().async_wait(w, [self = shared_from_this()](const boost::system::error_code& ec) {
    self->waiting_read_ = false;
    self->on_readable(ec);
  });
}

void Client::on_readable(const boost::system::error_code& ec) {
  if (!reader_ || closed_ || !failure_.empty()) return;
  if (ec) {
    fail(ec.message());
    return;
  }
  Value result;
  if (drain_input(result) == ReadState::Empty) {
    wait_readable();
    return;
  }
  finish_read(std::move(result));
}

void Client::finish_read(Value v) {
  read_timer_.cancel();
  Done done = std::move(reader_);
  reader_ = nullptr;
  if (done) asio::post(io_, [done = std::move(done), v = std::move(v)]() mutable { done(std::move(v)); });
}

void Client::finish_write(Value v) {
  write_timer_.cancel();
  Done done = std::move(writer_);
  writer_ = nullptr;
  if (done) asio::post(io_, [done = std::move(done), v = std::move(v)]() mutable { done(std::move(v)); });
}

bool Client::write(const Value& bytes, Value& result, Done done) {
  if (closed_) {
    result = make_error(kClosed);
    return true;
  }
  if (!failure_.empty()) {
    result = make_error(failure_);
    return true;
  }
  if (at_end_) {
    result = make_error("the server " + where_ + " closed the connection");
    return true;
  }
  if (!bytes.str().empty()) out_.push(bytes);
  flush();
  if (!failure_.empty()) {
    result = make_error(failure_);
    return true;
  }
  if (out_.empty()) return true;
  if (writer_) {
    // Another handler's write is still going out (a module-level client): this one is queued behind it.
    return true;
  }
  writer_ = std::move(done);
  write_timer_.expires_after(params_.write_timeout);
  write_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->writer_) return;
    // Part of the bytes may have gone out: the stream cannot be trusted any more.
    self->fail("Write timed out after " + seconds_text(self->params_.write_timeout) + " sending to " + self->where_ +
               " (the client's writeTimeout)");
  });
  return false;
}

void Client::flush() {
  while (!out_.empty() && failure_.empty() && !closed_) {
    thread_local std::vector<asio::const_buffer> bufs;
    out_.gather(bufs);
    boost::system::error_code ec;
    std::size_t sent = stream_->write_some(bufs, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      wait_writable();
      return;
    }
    if (ec) {
      fail("cannot write to " + where_ + ": " + error_text(ec));
      return;
    }
    out_.consume(sent);
  }
  if (out_.empty() && writer_) finish_write(Value());
}

void Client::wait_writable() {
  if (waiting_write_) return;
  waiting_write_ = true;
  auto w = stream_->want() == Stream::Want::Read ? tcp::socket::wait_read : tcp::socket::wait_write;
  stream_->socket().async_wait(w, [self = shared_from_this()](const boost::system::error_code& ec) {
    self->waiting_write_ = false;
    if (self->closed_ || !self->failure_.empty()) return;
    if (ec) {
      self->fail("cannot write to " + self->where_ + ": " + ec.message());
      return;
    }
    self->flush();
  });
}

void Client::close() {
  if (closed_) return;
  closed_ = true;
  read_timer_.cancel();
  write_timer_.cancel();
  resolver_.cancel();
  if (stream_) {
    // Unsent bytes are dropped, as a socket close drops them.
    stream_->close(connected_ && failure_.empty());
  }
  if (reader_) finish_read(make_error(kClosed));
  if (writer_) finish_write(make_error(kClosed));
}

}  // namespace flowd
