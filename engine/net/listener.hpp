// Accepts connections for one listener of the flow and hands each to a new Session.
#pragma once
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "net/listener_settings.hpp"
#include "net/server_context.hpp"
#include "net/worker.hpp"
#include "runtime/program.hpp"

namespace flowd {

class Listener {
 public:
  // Accepts on `worker`'s event loop; each connection goes to registry.next_worker().
  Listener(ServerContext& context, ConnectionRegistry& registry, Worker& worker, ListenerSettings settings);
  // Binds and listens; the engine words a failure (it knows which option set the address).
  boost::system::error_code open(const boost::asio::ip::tcp::endpoint& at);
  void start() { do_accept(); }
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  const ListenerSettings& settings() const { return settings_; }
  std::size_t open_connections() const { return open_; }

 private:
  void do_accept();
  void on_accept(const boost::system::error_code& ec, Worker& target, boost::asio::ip::tcp::socket socket);
  void back_off(const boost::system::error_code& ec);
  void refuse(boost::asio::ip::tcp::socket& socket);

  ServerContext& context_;
  ConnectionRegistry& registry_;
  Worker& worker_;
  ListenerSettings settings_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_{0};
  std::atomic<std::size_t> open_{0};  // decremented by sessions on their own threads
  std::chrono::steady_clock::time_point last_refusal_log_{};
  bool stopped_ = false;
};

}  // namespace flowd
