// The connection's single writer: output queued by handlers on any thread, counted against the
// connection's limit and the process's budget, and sent in order.
#include <boost/asio/post.hpp>

#include "net/session.hpp"

namespace flowd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// Queued bytes at which a running handler's output starts going out before the handler ends.
constexpr std::size_t kFlushDuringHandlerBytes = 64 * 1024;
}  // namespace

bool Session::write(const Value& bytes, std::string& error) {
  if (!worker_.io.get_executor().running_in_this_thread()) {
    // A handler on another thread writes to this connection (a broadcast): hand the bytes over to
    // this connection's own thread. Its writer sends them in order; a closed connection drops them.
    if (closed_.load(std::memory_order_acquire)) {
      error = "Socket connection already closed.";
      return false;
    }
    std::size_t n = bytes.str().size();
    // Counted against the limits now, not once it lands: a broadcast must not outrun them.
    if (n == 0 || !charge(n)) return true;
    asio::post(worker_.io, [self = shared_from_this(), bytes] {
      std::size_t size = bytes.str().size();
      if (self->state_ == State::Closed || self->broken_ || self->overflowed_.load(std::memory_order_relaxed)) {
        self->discharge(size);
        return;
      }
      self->out_.push(bytes);
      // Sent with whatever else arrives for it in this turn of its loop: one send for a burst.
      self->schedule_flush();
    });
    return true;
  }
  if (state_ == State::Closed || broken_) {
    error = "Socket connection already closed.";
    return false;
  }
  ++worker_.slice_work;
  if (!enqueue(bytes)) return true;
  if (runner_.running()) {
    // A handler that writes a lot sends as it goes, so a reading client never trips the limit.
    if (out_.bytes() >= kFlushDuringHandlerBytes) flush();
  } else {
    // Output queued from another connection's handler (same thread) goes out once that handler's
    // slice is done, with everything else it wrote.
    schedule_flush();
  }
  return true;
}

// One post per turn for all the connections written to, not one per write.
void Session::schedule_flush() {
  if (writing_ || flush_pending_) return;
  flush_pending_ = true;
  if (worker_.unflushed.empty())
    asio::post(worker_.io, [&w = worker_] {
      std::vector<std::shared_ptr<Session>> list;
      list.swap(w.unflushed);
      for (auto& s : list) s->flush_queued();
    });
  worker_.unflushed.push_back(shared_from_this());
}

void Session::flush_queued() {
  flush_pending_ = false;
  if (!writing_) flush();
}

// Queues bytes on this connection's thread; false when nothing was queued (empty, or over the limit).
bool Session::enqueue(const Value& bytes) {
  if (state_ == State::Closed || broken_) return false;
  std::size_t n = bytes.str().size();
  if (n == 0 || !charge(n)) return false;
  out_.push(bytes);
  return true;
}

bool Session::charge(std::size_t n) {
  // Being closed for not reading: the flow need not handle each write.
  if (overflowed_.load(std::memory_order_relaxed)) return false;
  if (refused_.load(std::memory_order_relaxed) &&
      charged_.load(std::memory_order_relaxed) + n > settings_.max_output_bytes) {
    // A client that does not take what it is sent must not grow the server's memory: drop its
    // output and close it (onError, then onClose) once no handler is running.
    overflow(asio::error::no_buffer_space);
    return false;
  }
  charged_.fetch_add(n, std::memory_order_relaxed);
  context_.output_charged(n);
  return true;
}

void Session::discharge(std::size_t n) {
  if (n == 0) return;
  charged_.fetch_sub(n, std::memory_order_relaxed);
  context_.output_discharged(n);
}

// Any thread: the connection is cut on its own thread, outside any handler.
void Session::overflow(const boost::system::error_code& why) {
  if (overflowed_.exchange(true)) return;
  asio::post(worker_.io, [self = shared_from_this(), why] { self->fail(why, "write"); });
}

void Session::cut_for_budget() {
  if (state_ == State::Closed || overflowed_.load(std::memory_order_relaxed)) return;
  context_.logger().write(LogLevel::Warn, "flowd", "output budget exceeded: closing the client with the most queued output",
                         {{"client", remote_},
                          {"queued", std::to_string(queued_output()), false},
                          {"max_output_total", std::to_string(context_.max_output_total()), false}});
  overflowed_.store(true);
  fail(asio::error::no_memory, "write");
}

void Session::close() {
  if (!worker_.io.get_executor().running_in_this_thread()) {
    asio::post(worker_.io, [self = shared_from_this()] { self->close(); });
    return;
  }
  if (state_ == State::Closed || state_ == State::Closing) return;
  close_requested_ = true;
  if (!runner_.running() && state_ == State::Open)
    asio::post(worker_.io, [self = shared_from_this()] { self->after_handler(); });
}

void Session::flush() {
  if (writing_ || broken_ || state_ == State::Closed) return;
  while (!out_.empty()) {
    thread_local std::vector<asio::const_buffer> bufs;
    out_.gather(bufs);
    boost::system::error_code ec;
    std::size_t sent = stream_.write_some(bufs, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      writing_ = true;
      refused_.store(true, std::memory_order_relaxed);
      auto w = stream_.want() == Stream::Want::Read ? tcp::socket::wait_read : tcp::socket::wait_write;
      stream_.socket().async_wait(w,
                         [self = shared_from_this()](const boost::system::error_code& e) { self->on_writable(e); });
      return;
    }
    if (ec) {
      if (runner_.running()) {
        // Handlers never run inside another handler: report the failure once this one is done.
        broken_ = true;
        asio::post(worker_.io, [self = shared_from_this(), ec] { self->fail(ec, "write"); });
      } else {
        fail(ec, "write");
      }
      return;
    }
    out_.consume(sent);
    discharge(sent);
  }
  // It took everything: it keeps up, whatever piles up later while the loop serves others.
  refused_.store(false, std::memory_order_relaxed);
  // A closing connection ends once onClose is done (it may wait) and its output is sent.
  if (state_ == State::Closing && !runner_.running() && !runner_.waiting()) finish_close();
}

void Session::on_writable(const boost::system::error_code& ec) {
  writing_ = false;
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    fail(ec, "write");
    return;
  }
  flush();
}

}  // namespace flowd
