// tcp:Client: a connection a flow opens to another TCP service (Ballerina's `tcp:Client`), plain or
// TLS. It lives on the event loop of the thread that created it. Actions that must wait (connect,
// readBytes, a writeBytes the socket cannot take at once) complete later through a callback, which
// resumes the handler's suspended fiber; nothing blocks the thread.
#pragma once
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/output_queue.hpp"
#include "net/stream.hpp"
#include "runtime/value.hpp"

namespace flowd {

// Ballerina's defaults for the client's read `timeout` and `writeTimeout`.
inline constexpr std::chrono::milliseconds kDefaultClientTimeout{300'000};

struct ClientParams {
  std::string host;
  int port = 0;
  std::chrono::milliseconds timeout = kDefaultClientTimeout;        // connect and each readBytes
  std::chrono::milliseconds write_timeout = kDefaultClientTimeout;  // a writeBytes not yet sent
  std::shared_ptr<boost::asio::ssl::context> tls;                   // null: plain TCP
  std::chrono::milliseconds handshake_timeout = kDefaultHandshakeTimeout;
  bool verify_host = true;
};

class Client final : public ClientLink, public std::enable_shared_from_this<Client> {
 public:
  // Called with the action's result; always later, from the client's event loop.
  using Done = std::function<void(Value)>;

  Client(boost::asio::io_context& io, ClientParams params);
  ~Client() override;

  // Connects (resolving the host, then TLS if configured); `done` gets a tcp:Client value or an error.
  static std::shared_ptr<Client> connect(boost::asio::io_context& io, ClientParams params, Done done);
  // Ends the action that waits (connect, readBytes, writeBytes) with an error: the server is stopping.
  void cancel(const std::string& why);

  // Each returns true when the action completed at once (with `result` set), or false when `done`
  // will be called.
  bool write(const Value& bytes, Value& result, Done done);
  bool read(Value& result, Done done);
  void close() override;
  std::string describe() const override { return where_; }

 private:
  void start_connect(Done done);
  void on_connected(const boost::system::error_code& ec, Done done);
  void handshake(Done done);
  void connect_failed(const std::string& why, Done done);
  // Reads what has arrived; false with `result` set when the connection is at its end or failed.
  enum class ReadState { Data, Empty, End };
  ReadState drain_input(Value& result);
  void wait_readable();
  void on_readable(const boost::system::error_code& ec);
  void flush();
  void wait_writable();
  void fail(const std::string& message);
  void finish_read(Value v);
  void finish_write(Value v);
  std::string error_text(const boost::system::error_code& ec);

  boost::asio::io_context& io_;
  ClientParams params_;
  std::string where_;                   // "host:port"
  std::unique_ptr<Stream> stream_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  Done reader_;                         // a readBytes waiting for data
  Done writer_;                         // a writeBytes waiting for its bytes to be sent
  OutputQueue out_;
  bool connected_ = false;
  bool closed_ = false;                 // closed by the flow (or released)
  bool at_end_ = false;                 // the server closed its side
  bool waiting_read_ = false;           // an async wait for readability is armed
  bool waiting_write_ = false;
  std::string failure_;                 // set once the connection failed: every later action gets it
  std::string cancelled_;               // why a connect in progress was cancelled
};

}  // namespace flowd
