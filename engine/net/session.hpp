// One client connection: runs its handlers one at a time in arrival order, and owns the single
// writer that sends its queued output in order.
#pragma once
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/handler_runner.hpp"
#include "net/line_framer.hpp"
#include "net/listener_settings.hpp"
#include "net/output_queue.hpp"
#include "net/server_context.hpp"
#include "net/stream.hpp"
#include "net/worker.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/program.hpp"

namespace flowd {

class Session final : public Connection, private HandlerRunner::Owner, public std::enable_shared_from_this<Session> {
 public:
  // `listener_open` counts the listener's open connections (for maxConnections).
  Session(ServerContext& context, ConnectionRegistry& registry, Worker& worker, const ListenerSettings& settings,
          std::atomic<std::size_t>& listener_open, boost::asio::ip::tcp::socket socket);
  ~Session() override;

  void start();
  // Connection (what a flow's tcp:Caller does)
  bool write(const Value& bytes, std::string& error) override;
  void close() override;
  // Engine shutdown: run onClose, flush, close.
  void drain();
  // Grace period over: close now, dropping unsent output.
  void abort();
  // Called a few times a second by the engine: handshake, idle, partial-line and closing timeouts.
  void check_timeouts(std::chrono::steady_clock::time_point now);
  // Output budget of the process exceeded: this connection, among those with the most queued output,
  // is cut (onError, then onClose).
  void cut_for_budget();
  // Bytes queued for this connection, including those handed over from other threads.
  std::size_t queued_output() const { return charged_.load(std::memory_order_relaxed); }
  // Sends what handlers on this thread queued for it since (see Worker::unflushed).
  void flush_queued();

 private:
  enum class State : std::uint8_t { Handshaking, Connecting, Open, Closing, Closed };

  // HandlerRunner::Owner
  std::shared_ptr<HandlerRunner> shared_runner() override { return {shared_from_this(), &runner_}; }
  void handler_waits() override { flush(); }
  void handler_resumed_done(Handler h, RunOutcome& r) override;

  void handshake();
  void begin_service();
  void connect_done(RunOutcome& r);
  void bytes_done(RunOutcome& r);
  void continue_input();
  // Handles the input left over when a slice's budget ran out, then reads on.
  void continue_slice();
  void post_continue_slice();
  void arm_read();
  void on_readable(const boost::system::error_code& ec);
  void on_chunk(const char* data, std::size_t n);
  // Runs onBytes for one chunk (raw) or one line (line framing).
  void on_bytes(std::string_view data);
  void begin_close(const char* reason);
  void fail(const boost::system::error_code& ec, const char* during);
  // Logs a failed handler with its node, then gives the error to onError (unless it is onError).
  void handler_failed(const char* handler, const RunOutcome& outcome, bool call_on_error);
  // Each false when the handler waits (it continues in handler_resumed_done).
  bool run_on_error(const Value& error);
  bool run_on_close();
  // What follows onError in a failure, and onClose in a close.
  void after_on_error();
  void after_on_close();
  void after_handler();
  bool enqueue(const Value& bytes);
  // Counts bytes against this connection's output limit and the process's output budget at once,
  // whichever thread queues them; false when the limit is passed (the connection is then cut).
  bool charge(std::size_t n);
  void discharge(std::size_t n);
  void overflow(const boost::system::error_code& why);
  void flush();
  void schedule_flush();
  void on_writable(const boost::system::error_code& ec);
  void finish_close();
  std::string client() const;

  ServerContext& context_;
  ConnectionRegistry& registry_;
  Worker& worker_;
  const ListenerSettings& settings_;
  std::atomic<std::size_t>& listener_open_;
  std::unique_ptr<LineFramer> framer_;  // only with line framing
  Stream stream_;
  HandlerRunner runner_;
  std::string pending_input_;     // line framing: what followed the line whose handler waits
  boost::system::error_code deferred_ec_;  // a failure seen while a handler waited
  const char* deferred_during_ = nullptr;
  std::chrono::steady_clock::time_point deadline_;  // end of the handshake, or of closing
  Value instance_;             // the connection service returned by onConnect
  Value caller_;               // the tcp:Caller value handed to handlers
  const ClassInfo* class_ = nullptr;
  OutputQueue out_;            // this thread only
  // out_.bytes() plus bytes posted from other threads and not yet in out_: what the limit judges.
  std::atomic<std::size_t> charged_{0};
  // The socket refused bytes and has not yet taken everything queued since: only then is a
  // connection judged by maxOutputBytes (not for what piled up while its loop served others).
  std::atomic<bool> refused_{false};
  State state_ = State::Connecting;
  bool close_requested_ = false;
  bool writing_ = false;       // waiting for the socket to become writable
  bool broken_ = false;        // the socket failed: nothing more can be sent
  bool on_close_ran_ = false;
  bool registered_ = false;
  bool timed_ = false;         // an idle or line timeout is set
  bool flush_pending_ = false; // in the worker's unflushed list
  std::atomic<bool> overflowed_{false};  // queued output passed maxOutputBytes (or the process budget)
  boost::system::error_code overflow_why_;
  std::atomic<bool> closed_{false};  // readable from other threads
  std::chrono::steady_clock::time_point last_read_;
  std::chrono::steady_clock::time_point partial_since_;  // when the unfinished line began
  std::string remote_;
  std::string timeout_message_;
};

}  // namespace flowd
