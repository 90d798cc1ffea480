#include "net/listener.hpp"

#include <boost/asio/post.hpp>

#include "net/session.hpp"

namespace flowd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// Accept back-off when the process is out of descriptors or memory (NATS: 10 ms doubling to 1 s):
// the pending connection stays in the backlog, so re-arming at once would spin.
constexpr std::chrono::milliseconds kAcceptBackoffMin{10};
constexpr std::chrono::milliseconds kAcceptBackoffMax{1000};

bool is_resource_error(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         ec.value() == ENFILE;
}
}  // namespace

Listener::Listener(ServerContext& context, ConnectionRegistry& registry, Worker& worker, ListenerSettings settings)
    : context_(context), registry_(registry), worker_(worker), settings_(std::move(settings)), acceptor_(worker.io), retry_timer_(worker.io) {}

boost::system::error_code Listener::open(const tcp::endpoint& at) {
  boost::system::error_code ec;
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  return ec;
}

tcp::endpoint Listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Listener::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_timer_.cancel();
}

void Listener::do_accept() {
  if (stopped_) return;
  // The new socket belongs to the next worker's event loop: that thread runs all its handlers.
  Worker& target = registry_.next_worker();
  acceptor_.async_accept(target.io, [this, &target](const boost::system::error_code& ec, tcp::socket socket) {
    on_accept(ec, target, std::move(socket));
  });
}

void Listener::on_accept(const boost::system::error_code& ec, Worker& target, tcp::socket socket) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    if (is_resource_error(ec)) {
      back_off(ec);
      return;
    }
    // A client that went away between SYN and accept, and the like: keep accepting.
    context_.logger().write(LogLevel::Debug, "flowd", "accept failed", {{"listener", settings_.name}, {"error", ec.message()}});
    do_accept();
    return;
  }
  backoff_ = std::chrono::milliseconds{0};
  if (open_ >= settings_.max_connections) {
    refuse(socket);
  } else {
    ++open_;
    auto session = std::make_shared<Session>(context_, registry_, target, settings_, open_, std::move(socket));
    if (&target == &worker_) session->start();
    else asio::post(target.io, [session] { session->start(); });
  }
  do_accept();
}

// Over the connection cap: one clear line, then close (as Redis does), so the client is not left hanging.
void Listener::refuse(tcp::socket& socket) {
  std::string line = "ERR server full: " + std::to_string(settings_.max_connections) +
                     " connections (the listener's maxConnections); try again later\r\n";
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  // A TLS client could not read a plain line (and a handshake costs what the cap protects): close.
  if (!settings_.tls) socket.write_some(asio::buffer(line), ec);
  socket.close(ec);
  auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ > std::chrono::seconds(1)) {
    last_refusal_log_ = now;
    context_.logger().write(LogLevel::Warn, "flowd", "connection refused: maxConnections reached",
                           {{"listener", settings_.name}, {"maxConnections", std::to_string(settings_.max_connections), false}});
  }
}

void Listener::back_off(const boost::system::error_code& ec) {
  if (backoff_.count() == 0) {
    context_.logger().write(LogLevel::Warn, "flowd", "cannot accept connections for now; backing off",
                           {{"listener", settings_.name}, {"error", ec.message()}});
    backoff_ = kAcceptBackoffMin;
  } else {
    backoff_ = std::min(backoff_ * 2, kAcceptBackoffMax);
  }
  retry_timer_.expires_after(backoff_);
  retry_timer_.async_wait([this](const boost::system::error_code& e) {
    if (!e) do_accept();
  });
}

}  // namespace flowd
