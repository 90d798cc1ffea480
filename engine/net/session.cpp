#include "net/session.hpp"

#include <boost/asio/post.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <vector>


namespace flowd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// A slice of one connection's input: at most this many bytes read, and this much work (lines handled
// plus writes queued, so a broadcast line to 200 users weighs 201) before the other connections,
// flushing, timers and signals get a turn. Before, one pass ran up to 1 MiB of one connection's
// input, so one busy client stalled everyone else for seconds.
constexpr std::size_t kSliceBytes = 64 * 1024;
constexpr std::uint32_t kSliceWork = 256;
// How long a closing connection may take to send what is queued (and, over TLS, its close_notify)
// to a peer that does not read, before it is cut.
constexpr std::chrono::seconds kCloseLinger{5};

}  // namespace

Session::Session(ServerContext& context, ConnectionRegistry& registry, Worker& worker,
                 const ListenerSettings& settings, std::atomic<std::size_t>& listener_open, tcp::socket socket)
    : context_(context),
      registry_(registry),
      worker_(worker),
      settings_(settings),
      listener_open_(listener_open),
      stream_(std::move(socket)),
      runner_(worker, context, *this) {
  if (settings_.framing == Framing::Line) framer_ = std::make_unique<LineFramer>(settings_.max_line);
  // The clock is read per chunk only when a timeout needs it.
  timed_ = settings_.idle_timeout.count() > 0 || (framer_ && settings_.line_timeout.count() > 0);
}

Session::~Session() {
  if (registered_) {
    listener_open_.fetch_sub(1);
    registry_.session_closed(worker_, this);
  }
}

std::string Session::client() const { return remote_; }

void Session::start() {
  boost::system::error_code ec;
  auto& socket_ = stream_.socket();
  socket_.set_option(tcp::no_delay(true), ec);
  // Keepalive notices a peer that vanished without a FIN or RST (Redis: tcp-keepalive 300).
  socket_.set_option(asio::socket_base::keep_alive(true), ec);
  int idle = 300;
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  socket_.non_blocking(true, ec);
  last_read_ = std::chrono::steady_clock::now();
  auto* c = new CallerObj();
  c->conn = weak_from_this();
  c->id = context_.next_connection_id();
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) {
    c->remote_host = remote.address().to_string();
    c->remote_port = remote.port();
  }
  auto local = socket_.local_endpoint(ec);
  if (!ec) {
    c->local_host = local.address().to_string();
    c->local_port = local.port();
  }
  remote_ = c->remote_host + ":" + std::to_string(c->remote_port);
  caller_ = Value::adopt(ValueTag::Caller, c);
  registry_.session_opened(worker_, this);
  registered_ = true;
  context_.logger().write(LogLevel::Debug, "flowd", "client connected", {{"client", remote_}, {"id", c->id}});
  if (settings_.tls) {
    // onConnect runs only once the handshake is done; a failed or stalled one never reaches the flow.
    state_ = State::Handshaking;
    deadline_ = std::chrono::steady_clock::now() + settings_.handshake_timeout;
    stream_.start_tls(*settings_.tls, true, "", false);
    handshake();
    return;
  }
  begin_service();
}

void Session::handshake() {
  if (state_ != State::Handshaking) return;
  boost::system::error_code ec;
  if (stream_.handshake(ec)) {
    context_.logger().write(LogLevel::Debug, "flowd", "TLS handshake done",
                           {{"client", remote_}, {"protocol", stream_.tls()->version()}, {"cipher", stream_.tls()->cipher()}});
    state_ = State::Connecting;
    begin_service();
    return;
  }
  if (ec == asio::error::would_block) {
    auto w = stream_.want() == Stream::Want::Read ? tcp::socket::wait_read : tcp::socket::wait_write;
    stream_.socket().async_wait(w, [self = shared_from_this()](const boost::system::error_code& e) {
      if (e) {
        if (e != asio::error::operation_aborted && self->state_ == State::Handshaking) {
          self->broken_ = true;
          self->finish_close();
        }
        return;
      }
      self->handshake();
    });
    return;
  }
  std::string why = ec == asio::error::eof ? "the client closed the connection" : stream_.error_text(ec);
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) context_.peer_reset();
  context_.logger().write(LogLevel::Warn, "flowd", "TLS handshake failed", {{"client", remote_}, {"error", why}});
  broken_ = true;
  finish_close();
}

void Session::begin_service() {
  const Function& on_connect = *settings_.service->on_connect;
  Value args[1] = {caller_};
  RunOutcome r = runner_.run(Handler::OnConnect, on_connect, args, on_connect.nparams);
  if (r.suspended) return;  // continues in handler_resumed_done
  connect_done(r);
}

// A handler that waited is done: what would have followed it had it not waited follows now.
void Session::handler_resumed_done(Handler h, RunOutcome& r) {
  bool failed = r.panicked || r.value.is_error();
  if (h == Handler::OnConnect) connect_done(r);
  else if (h == Handler::OnBytes) bytes_done(r);
  else if (failed) handler_failed(h == Handler::OnError ? "onError" : "onClose", r, false);
  // onBytes failed and its onError waits: that continues once it is done.
  if (runner_.waiting()) return;
  if (deferred_during_) {
    // The connection failed while the handler waited: report it now (onError, then onClose).
    const char* during = deferred_during_;
    deferred_during_ = nullptr;
    broken_ = false;
    fail(deferred_ec_, during);
    return;
  }
  if (h == Handler::OnBytes) continue_input();
  else if (h == Handler::OnError) after_on_error();
  else if (h == Handler::OnClose) after_on_close();
}

void Session::connect_done(RunOutcome& r) {
  if (r.panicked || r.value.is_error()) {
    handler_failed("onConnect", r, false);
    close_requested_ = true;
  } else if (r.value.tag() == ValueTag::Object) {
    instance_ = std::move(r.value);
    class_ = instance_.as<InstanceObj>()->cls;
  } else {
    context_.logger().write(LogLevel::Warn, context_.program().module,
                           "onConnect returned no connection service; closing the connection",
                           {{"client", remote_}});
    close_requested_ = true;
  }
  state_ = State::Open;
  after_handler();
  if (state_ == State::Open) arm_read();
}

// After an onBytes (or its onError) that waited: the rest of its chunk's lines, then reading resumes.
void Session::continue_input() {
  if (state_ != State::Open || broken_) return;
  if (framer_ && !pending_input_.empty() && !close_requested_) {
    worker_.slice_work = 0;
    std::string rest = std::move(pending_input_);
    pending_input_.clear();
    on_chunk(rest.data(), rest.size());
  } else {
    after_handler();
  }
  if (state_ != State::Open || broken_ || runner_.waiting()) return;
  if (!pending_input_.empty()) post_continue_slice();
  else arm_read();
}

void Session::post_continue_slice() {
  asio::post(worker_.io, [self = shared_from_this()] { self->continue_slice(); });
}

void Session::continue_slice() {
  if (state_ != State::Open || broken_ || runner_.waiting() || context_.stopping()) return;
  worker_.slice_work = 0;
  std::string rest = std::move(pending_input_);
  pending_input_.clear();
  on_chunk(rest.data(), rest.size());
  if (state_ != State::Open || broken_ || runner_.waiting()) return;
  if (!pending_input_.empty()) post_continue_slice();
  else asio::post(worker_.io, [self = shared_from_this()] { self->on_readable({}); });
}

void Session::handler_failed(const char* handler, const RunOutcome& r, bool call_on_error) {
  const Program& p = context_.program();
  const SourceSite& site = p.sites.empty() ? SourceSite{} : p.sites[r.site];
  std::string node = site.node_id.empty() ? site.kind : site.node_id;
  if (!site.label.empty()) node += " (" + site.label + ")";
  std::string at = p.file + ":" + std::to_string(site.line) + ":" + std::to_string(site.column);
  std::string message = std::string(handler) + (r.panicked ? " failed" : " returned an error");
  std::string error = r.panicked ? r.panic_message : r.value.as<ErrorObj>()->message;
  context_.logger().write(LogLevel::Error, p.module, message,
                         {{"error", error}, {"node", node}, {"at", at}, {"client", remote_}});
  if (call_on_error) run_on_error(r.panicked ? make_error(r.panic_message) : r.value);
}

bool Session::run_on_error(const Value& error) {
  if (!class_ || !class_->on_error) return true;
  Value args[3];
  int n = 0;
  args[n++] = instance_;
  if (class_->on_error_takes_caller) args[n++] = caller_;
  args[n++] = error;
  RunOutcome r = runner_.run(Handler::OnError, *class_->on_error, args, n);
  if (r.suspended) return false;
  if (r.panicked || r.value.is_error()) handler_failed("onError", r, false);
  return true;
}

void Session::after_on_error() {
  // In a failure (see fail()), onClose and the close follow; after onBytes failed, input goes on.
  if (state_ == State::Closing) {
    if (run_on_close()) finish_close();
  } else {
    continue_input();
  }
}

bool Session::run_on_close() {
  if (on_close_ran_) return true;
  on_close_ran_ = true;
  if (!class_ || !class_->on_close) return true;
  Value args[2];
  int n = 0;
  args[n++] = instance_;
  if (class_->on_close_takes_caller) args[n++] = caller_;
  RunOutcome r = runner_.run(Handler::OnClose, *class_->on_close, args, n);
  if (r.suspended) return false;
  if (r.panicked || r.value.is_error()) handler_failed("onClose", r, false);
  return true;
}

void Session::after_on_close() {
  // A failed connection closes at once; otherwise what is queued goes out first (the linger starts
  // over: onClose's wait had its own timeout).
  if (broken_) {
    finish_close();
    return;
  }
  deadline_ = std::chrono::steady_clock::now() + kCloseLinger;
  if (!writing_) flush();
}

// After each handler: start sending what it queued, and honour a close it asked for.
void Session::after_handler() {
  if (runner_.waiting()) {
    // A handler waits on the network: the close it or another asked for happens once it is done.
    flush();
    return;
  }
  if (close_requested_ && state_ == State::Open) {
    begin_close("closed by the flow");
    return;
  }
  flush();
}

void Session::arm_read() {
  if (stream_.pending()) {
    asio::post(worker_.io, [self = shared_from_this()] { self->on_readable({}); });
    return;
  }
  auto w = stream_.want() == Stream::Want::Write ? tcp::socket::wait_write : tcp::socket::wait_read;
  stream_.socket().async_wait(w,
                     [self = shared_from_this()](const boost::system::error_code& ec) { self->on_readable(ec); });
}

void Session::on_readable(const boost::system::error_code& ec) {
  // broken_: a write failed while a handler ran; its fail() is posted and reports it (onError first).
  if (state_ != State::Open || broken_ || runner_.waiting()) return;
  if (ec) {
    fail(ec, "read");
    return;
  }
  // Stopping: what is unread is dropped; the drain closes the connection (onClose, flush).
  if (context_.stopping()) return;
  worker_.slice_work = 0;
  std::size_t taken = 0;
  char* buf = thread_read_buffer();
  for (;;) {
    boost::system::error_code rec;
    std::size_t n = stream_.read_some(buf, kReadBufferBytes, rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) {
      arm_read();
      return;
    }
    if (rec == asio::error::eof) {
      begin_close("closed by the client");
      return;
    }
    if (rec) {
      fail(rec, "read");
      return;
    }
    if (timed_) last_read_ = std::chrono::steady_clock::now();
    on_chunk(buf, n);
    if (state_ != State::Open || broken_ || runner_.waiting()) return;
    if (!pending_input_.empty()) {
      // The slice's budget ran out inside the chunk: the rest of it comes on the next turn.
      post_continue_slice();
      return;
    }
    taken += n;
    if (taken >= kSliceBytes || worker_.slice_work >= kSliceWork) break;
  }
  // More may be waiting: let other connections run first, then read on (edge-triggered: no re-arm).
  asio::post(worker_.io, [self = shared_from_this()] { self->on_readable({}); });
}

void Session::on_chunk(const char* data, std::size_t n) {
  if (!framer_) {
    ++worker_.slice_work;
    on_bytes(std::string_view(data, n));
    if (!runner_.waiting()) after_handler();
    return;
  }
  // Every line of the chunk is handled before the output is sent: one write for a burst of lines.
  bool had_partial = framer_->buffered() > 0;
  auto r = framer_->feed(std::string_view(data, n), [this](std::string_view line) {
    ++worker_.slice_work;
    on_bytes(line);
    // A handler may have closed the connection, or be waiting on the network; or the slice is over.
    return state_ == State::Open && !close_requested_ && !runner_.waiting() &&
           worker_.slice_work < kSliceWork;
  });
  if (r == LineFramer::Result::Stopped && runner_.waiting()) {
    // The lines after the waiting one are handled once it is done, in order.
    pending_input_.assign(data + n - framer_->unconsumed(), framer_->unconsumed());
    if (framer_->buffered() > 0 && !had_partial) partial_since_ = last_read_;
    return;
  }
  if (r == LineFramer::Result::Stopped && state_ == State::Open && !close_requested_ && framer_->unconsumed() > 0) {
    // The slice is over: the lines after this one are handled on the connection's next turn, and
    // what the handled ones wrote goes out now.
    pending_input_.assign(data + n - framer_->unconsumed(), framer_->unconsumed());
    after_handler();
    return;
  }
  // The partial-line clock runs from the first byte of an unfinished line.
  if (framer_->buffered() == 0) had_partial = false;
  else if (!had_partial) partial_since_ = last_read_;
  if (r == LineFramer::Result::TooLong) {
    std::string msg = "line too long: more than " + std::to_string(framer_->max_line()) +
                      " bytes without a newline (the listener's maxLineLength); closing the connection";
    context_.logger().write(LogLevel::Warn, context_.program().module, msg, {{"client", remote_}});
    // onError may wait: the close it asks for then follows it.
    if (!run_on_error(make_error(msg))) {
      close_requested_ = true;
      return;
    }
    begin_close("line too long");
    return;
  }
  after_handler();
}

void Session::on_bytes(std::string_view data) {
  Value args[3];
  int argc = 0;
  args[argc++] = instance_;
  if (class_->on_bytes_takes_caller) args[argc++] = caller_;
  args[argc++] = Value::bytes(data);
  RunOutcome r = runner_.run(Handler::OnBytes, *class_->on_bytes, args, argc);
  if (!r.suspended) bytes_done(r);
}

void Session::bytes_done(RunOutcome& r) {
  if (r.panicked || r.value.is_error()) {
    handler_failed("onBytes", r, true);
  } else if (r.value.tag() == ValueTag::Bytes) {
    std::string err;
    write(r.value, err);  // bytes returned from onBytes go back to the client
  }
}

void Session::begin_close(const char* reason) {
  if (state_ == State::Closing || state_ == State::Closed) return;
  if (runner_.waiting()) {
    close_requested_ = true;
    return;
  }
  state_ = State::Closing;
  deadline_ = std::chrono::steady_clock::now() + kCloseLinger;
  context_.logger().write(LogLevel::Debug, "flowd", "closing connection", {{"client", remote_}, {"reason", reason}});
  if (!run_on_close()) return;  // it waits: after_on_close follows
  // Send what the handlers queued (onClose may add a goodbye), then close.
  if (!writing_) flush();
}

void Session::fail(const boost::system::error_code& ec, const char* during) {
  if (state_ == State::Closed || ec == asio::error::operation_aborted) return;
  if (runner_.waiting()) {
    // Handlers never run inside another: the waiting one finishes first, then onError and onClose.
    broken_ = true;
    if (!deferred_during_) {
      deferred_ec_ = ec;
      deferred_during_ = during;
    }
    return;
  }
  bool already_closing = state_ == State::Closing;
  broken_ = true;
  discharge(out_.bytes());
  out_.clear();
  std::string msg = ec == asio::error::connection_reset ? "Connection reset by peer"
                    : ec == asio::error::broken_pipe    ? "Broken pipe: the client closed the connection"
                    : ec == asio::error::timed_out      ? timeout_message_
                    : ec == boost::system::errc::protocol_error ? stream_.error_text(ec)
                    : ec == asio::error::no_buffer_space
                        ? "output limit exceeded: more than " + std::to_string(settings_.max_output_bytes) +
                              " bytes queued for a client that is not reading (the listener's maxOutputBytes)"
                    : ec == asio::error::no_memory
                        ? "output budget exceeded: " + std::to_string(context_.max_output_total()) +
                              " bytes queued for all clients together (--max-output-total); this client had the most"
                        : ec.message();
  // A peer that resets or leaves is normal traffic: counted, and summarised in the log at INFO.
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
      (ec == boost::system::errc::protocol_error && msg.find("unexpected eof") != std::string::npos))
    context_.peer_reset();
  context_.logger().write(LogLevel::Debug, "flowd", std::string("connection failed during ") + during,
                         {{"client", remote_}, {"error", msg}});
  state_ = State::Closing;
  // As in Ballerina: a network error goes to onError, then the connection closes (onClose once).
  // Either may wait: after_on_error or after_on_close then goes on.
  if (!already_closing && !run_on_error(make_error(msg))) return;
  if (!run_on_close()) return;
  finish_close();
}

void Session::finish_close() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  closed_.store(true, std::memory_order_release);
  stream_.close(!broken_);
  runner_.forget();
  discharge(out_.bytes());
  out_.clear();
  context_.logger().write(LogLevel::Debug, "flowd", "client disconnected", {{"client", remote_}});
  if (registered_) {
    registered_ = false;
    listener_open_.fetch_sub(1);
    registry_.session_closed(worker_, this);
  }
}

void Session::check_timeouts(std::chrono::steady_clock::time_point now) {
  if (runner_.running()) return;
  if (state_ == State::Handshaking && now >= deadline_) {
    context_.logger().write(LogLevel::Warn, "flowd", "TLS handshake failed",
                           {{"client", remote_},
                            {"error", "timed out after " + seconds_text(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                              settings_.handshake_timeout)) +
                                          " (the listener's handshakeTimeout)"}});
    abort();
    return;
  }
  // While onClose waits, its own wait's timeout bounds the close.
  if (state_ == State::Closing && !runner_.waiting() && now >= deadline_) {
    // The peer does not take what is left (or the close_notify): cut it.
    context_.logger().write(LogLevel::Debug, "flowd", "closing timed out", {{"client", remote_}});
    abort();
    return;
  }
  if (state_ != State::Open || runner_.waiting()) return;
  if (settings_.idle_timeout.count() > 0 && now - last_read_ >= settings_.idle_timeout) {
    // Idle: closed quietly, with onClose (as an idle timeout in Netty's IdleStateHandler would be).
    context_.logger().write(LogLevel::Debug, "flowd", "idle timeout", {{"client", remote_}});
    begin_close("idle timeout");
    return;
  }
  if (framer_ && framer_->buffered() > 0 && settings_.line_timeout.count() > 0 &&
      now - partial_since_ >= settings_.line_timeout) {
    timeout_message_ = "line timeout: an unfinished line for more than " + seconds_text(settings_.line_timeout) +
                       " (the listener's lineTimeout)";
    fail(asio::error::timed_out, "read");
  }
}

void Session::drain() {
  if (state_ == State::Handshaking) abort();
  else if (runner_.waiting()) {
    // The handler's wait ends now with an error, then the connection closes (onClose runs).
    close_requested_ = true;
    runner_.cancel_wait();
  }
  else if (state_ == State::Open) begin_close("server stopping");
}

void Session::abort() {
  broken_ = true;
  finish_close();
}

}  // namespace flowd
