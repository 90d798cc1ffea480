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

#include "net/line_framer.hpp"
#include "net/stream.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/program.hpp"

namespace flowd {

class Engine;
struct Worker;
class Listener;
struct ListenerSettings;

class Session final : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(Engine& engine, Worker& worker, Listener& listener, boost::asio::ip::tcp::socket socket);
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
  // Continues a handler that waited on the network (a tcp:Client action) with the action's result.
  void resume(Value result);
  // What the waiting handler waits on, so that a drain can end the wait.
  void waits_on(std::weak_ptr<ClientLink> client) { wait_client_ = std::move(client); }

 private:
  enum class State : std::uint8_t { Handshaking, Connecting, Open, Closing, Closed };
  // The handlers; only onConnect and onBytes may wait on the network.
  enum class Handler : std::uint8_t { None, OnConnect, OnBytes, OnError, OnClose };

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
  RunOutcome invoke(Handler h, const Function& fn, Value* args, int argc);  // moves the arguments
  RunOutcome run_fiber(Handler h, Fiber& fiber, const Function* fn, Value* args, int argc, Value* resumed);
  // Logs a failed handler with its node, then gives the error to onError (unless it is onError).
  void handler_failed(const char* handler, const RunOutcome& outcome, bool call_on_error);
  void run_on_error(const Value& error);
  void run_on_close();
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

  Engine& engine_;
  Worker& worker_;
  Listener& listener_;
  const ListenerSettings& settings_;
  std::unique_ptr<LineFramer> framer_;  // only with line framing
  Stream stream_;
  std::unique_ptr<Fiber> fiber_;  // the fiber of a handler waiting on the network
  std::weak_ptr<ClientLink> wait_client_;
  Handler waiting_ = Handler::None;
  std::string pending_input_;     // line framing: what followed the line whose handler waits
  boost::system::error_code deferred_ec_;  // a failure seen while a handler waited
  const char* deferred_during_ = nullptr;
  std::chrono::steady_clock::time_point deadline_;  // end of the handshake, or of closing
  Value instance_;             // the connection service returned by onConnect
  Value caller_;               // the tcp:Caller value handed to handlers
  const ClassInfo* class_ = nullptr;
  std::vector<Value> out_;     // queued output, in order
  std::size_t out_offset_ = 0; // bytes of out_[0] already sent
  std::size_t out_bytes_ = 0;  // bytes in out_ (this thread only)
  // out_bytes_ plus bytes posted from other threads and not yet in out_: what the limit judges.
  std::atomic<std::size_t> charged_{0};
  // The socket refused bytes and has not yet taken everything queued since: only then is a
  // connection judged by maxOutputBytes (not for what piled up while its loop served others).
  std::atomic<bool> refused_{false};
  State state_ = State::Connecting;
  bool in_handler_ = false;
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
