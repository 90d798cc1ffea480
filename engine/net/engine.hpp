// The engine: one compiled flow, its module state, its listeners and connections, and shutdown.
#pragma once
#include <utility>  // before Asio (see reference/toolchain.md)

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "runtime/interpreter.hpp"
#include "runtime/program.hpp"
#include "net/tls.hpp"
#include "support/log.hpp"

namespace flowd {

class Session;
class Listener;

struct EngineOptions {
  std::int64_t step_budget = kDefaultStepBudget;
  // How long SIGINT/SIGTERM waits for connections to flush and close before cutting them.
  std::chrono::milliseconds drain_grace{5000};
  bool handle_signals = true;
  int threads = 1;  // workers, each a thread with its own event loop
  // Output queued for all connections together beyond which those with the most queued are cut
  // first. 0: default_max_output_total().
  std::size_t max_output_total = 0;
};

// 1/8 of physical memory, between 64 MiB and 4 GiB.
std::size_t default_max_output_total();

// A configurable's value given from outside: "-Cport=4000" or BAL_CONFIG_VAR_PORT=4000.
struct ConfigOverride {
  std::string name;
  std::string value;
  std::string source;  // "-Cport=4000", for error messages
};

// The per-thread state: an io_context, an interpreter and its fiber, and the connections that
// live on this thread (a connection never changes thread, so its handlers stay in order).
struct Worker {
  boost::asio::io_context io{1};
  std::unique_ptr<Interpreter> interpreter;
  Fiber fiber;
  std::unordered_set<Session*> sessions;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer;
  int index = 0;
  // The connection whose handler runs now, and whether that handler may wait on the network.
  Session* running = nullptr;
  bool may_suspend = false;
  // Work done in the current slice of a connection's input: lines (or chunks) handled plus writes
  // queued. A slice ends at a budget so that the other connections, flushing and timers get a turn.
  std::uint32_t slice_work = 0;
  // Connections that handlers on this thread wrote to outside their own handler: flushed together
  // once the current slice is done (one post per slice, not one per write).
  std::vector<std::shared_ptr<Session>> unflushed;
  // At start (module-level connections): the result a waiting initializer is resumed with.
  bool startup_done = false;
  Value startup_result;
};

// Threads for `--threads=0`: the CPUs this process may run on (taskset is respected).
int default_thread_count();

class Engine final : public InterpreterHost {
 public:
  Engine(const Program& program, Logger& logger, EngineOptions options = {});
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Sets every configurable: environment (BAL_CONFIG_VAR_NAME), then overrides, then the default.
  // Returns false with one message per problem.
  bool configure(const std::vector<ConfigOverride>& overrides, std::vector<std::string>& errors);
  // Binds every listener. Returns false with a message if one cannot listen.
  bool listen(std::string& error);
  // Serves until stopped; returns the process exit code.
  int run();
  // Graceful stop: stop accepting, run onClose for every connection, flush, close. Thread-safe.
  void request_stop();
  // A stop was asked for: connections handle no more input (what is unread is dropped).
  bool stopping() const { return draining_.load(std::memory_order_relaxed); }
  // The process's output budget (bytes queued for all connections); thread-safe.
  void output_charged(std::size_t n) {
    std::size_t t = output_total_.fetch_add(n, std::memory_order_relaxed) + n;
    if (t > output_peak_.load(std::memory_order_relaxed)) output_peak_.store(t, std::memory_order_relaxed);
    if (t > max_output_total_ && !shedding_.exchange(true)) shed_output();
  }
  void output_discharged(std::size_t n) { output_total_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t max_output_total() const { return max_output_total_; }
  // A client reset or dropped its connection (ECONNRESET, EPIPE, TLS EOF): counted, summarised in the log.
  void peer_reset() { peer_resets_.fetch_add(1, std::memory_order_relaxed); }

  std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;
  const Program& program() const { return program_; }
  Logger& logger() { return logger_; }
  Worker& worker(std::size_t i = 0) { return *workers_[i]; }
  std::size_t worker_count() const { return workers_.size(); }
  // Round-robin choice of the worker for a new connection.
  Worker& next_worker();
  // Held while a handler runs when the flow has module-level state and there are several threads.
  std::mutex* module_lock() { return module_lock_needed_ ? &module_lock_ : nullptr; }
  std::int64_t step_budget() const { return options_.step_budget; }
  std::string next_connection_id();

  // Session registry (per worker, on the worker's thread), for timeouts and draining on shutdown.
  void session_opened(Worker& w, Session* s);
  void session_closed(Worker& w, Session* s);

  // InterpreterHost
  void log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
           const Value* values, int count) override;
  bool client_action(Fiber& fiber, ActionId id, Value* args, int argc, Value& result) override;
  bool connect(Fiber& fiber, Value* args, Value& result) override;
  bool lock_acquire(Fiber& fiber) override;
  void lock_release(Fiber& fiber) override;
  // A closing connection gives up the flow's lock, or its place in the queue for it.
  void lock_forget(Session* s);

 private:
  // Runs a module-level initializer to its end on worker 0, serving the event loop while it waits
  // (a module-level tcp:Client connects before the flow serves).
  RunOutcome run_at_start(Fiber& fiber, const Function& fn);
  // TLS contexts of tcp:Client connections, made once per distinct secureSocket.
  std::shared_ptr<boost::asio::ssl::context> client_tls(const TlsSettings& s, std::string& error);
  // Any thread (the signal thread, request_stop): logs `stopping` at once and hands the drain to worker 0.
  void on_stop_signal(const char* why);
  void wait_signal();
  void begin_drain(const char* why);
  void shed_output();
  void shed_worker(Worker& w, const std::shared_ptr<std::atomic<std::size_t>>& pending);
  // Worker 0, on its sweep: the reset summary and giving freed memory back to the system.
  void housekeeping(std::chrono::steady_clock::time_point now);
  void sweep(Worker& w);
  void abort_all();
  static constexpr std::chrono::milliseconds kSweepInterval{250};
  void finish_drain();

  const Program& program_;
  Logger& logger_;
  EngineOptions options_;
  std::vector<Value> globals_;
  // Per global: the option or variable that set it ("-Cport=70000"), "" for a default; start-up
  // errors about a setting read from a configurable begin with it.
  std::vector<std::string> given_as_;
  std::string given_as(const Function* setting) const;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::atomic<std::size_t> open_sessions_{0};
  std::atomic<std::size_t> next_worker_{0};
  std::mutex module_lock_;
  bool module_lock_needed_ = false;
  // Signals are waited for on a thread of their own, so that `stopping` is logged within
  // milliseconds however busy the workers are.
  std::unique_ptr<boost::asio::io_context> signal_io_;
  std::unique_ptr<boost::asio::signal_set> signals_;
  std::thread signal_thread_;
  std::size_t max_output_total_ = 0;
  std::atomic<std::size_t> output_total_{0};
  std::atomic<std::size_t> output_peak_{0};  // highest output_total_ since memory was last trimmed
  std::atomic<bool> shedding_{false};
  std::atomic<std::size_t> closed_since_trim_{0};
  std::atomic<std::uint64_t> peer_resets_{0};
  std::uint64_t resets_reported_ = 0;
  std::chrono::steady_clock::time_point last_reset_report_{};
  std::unique_ptr<boost::asio::steady_timer> drain_timer_;
  bool need_sweep_ = false;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint64_t> connection_serial_{0};
  std::uint64_t id_base_ = 0;
  // The flow's LOCK, held across network waits: its owner and the handlers waiting for it, in order.
  struct LockWaiter {
    Worker* worker;
    Session* session;
    std::function<void(Value)> resume;
  };
  std::mutex flow_lock_mutex_;
  Session* flow_lock_owner_ = nullptr;
  std::deque<LockWaiter> flow_lock_waiters_;
  void grant_lock_locked();
  std::mutex client_tls_lock_;
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> client_tls_;
};

}  // namespace flowd
