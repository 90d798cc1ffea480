// The engine: one compiled flow, its module state, its worker threads, listeners and connections,
// output shedding, and shutdown (drain).
#pragma once
#include <utility>  // before Asio: Boost 1.74's Asio uses std::exchange without including it

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

#include "runtime/log_values.hpp"
#include "net/config.hpp"
#include "net/server_context.hpp"
#include "net/tls.hpp"
#include "net/worker.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/program.hpp"
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

// Threads for `--threads=0`: the CPUs this process may run on (taskset is respected).
int default_thread_count();

class Engine final : public ConnectionRegistry {
 public:
  Engine(const Program& program, Logger& logger, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Sets the configurables and module-level variables (see configure_module).
  bool configure(const std::vector<ConfigOverride>& overrides, std::vector<std::string>& errors);
  // Binds every listener. Returns false with a message if one cannot listen.
  bool listen(std::string& error);
  // Serves until stopped; returns the process exit code.
  int run();
  // Graceful stop: stop accepting, run onClose for every connection, flush, close. Thread-safe.
  void request_stop();
  // A stop was asked for: connections handle no more input (what is unread is dropped).
  bool stopping() const { return context_.stopping(); }

  std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;
  const Program& program() const { return program_; }
  Logger& logger() { return logger_; }
  Worker& worker(std::size_t i = 0) { return *workers_[i]; }
  std::size_t worker_count() const { return workers_.size(); }
  // ConnectionRegistry
  Worker& next_worker() override;
  void session_opened(Worker& w, Session* s) override;
  void session_closed(Worker& w, Session* s) override;

 private:
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
  ServerContext context_;
  // The interpreters' default host, for what runs outside a connection (listener settings): it logs,
  // and has no network.
  class SettingsHost final : public InterpreterHost {
   public:
    explicit SettingsHost(ServerContext& context) : context_(context) {}
    void log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
             const Value* values, int count) override {
      write_log_values(context_.logger(), level, context_.program().module, msg, error, keys, values, count);
    }

   private:
    ServerContext& context_;
  } default_host_{context_};
  std::vector<Value> globals_;
  // Per global: the option or variable that set it ("-Cport=70000"), "" for a default; start-up
  // errors about a setting read from a configurable begin with it.
  std::vector<std::string> given_as_;
  std::string given_as(const Function* setting) const;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::atomic<std::size_t> open_sessions_{0};
  std::atomic<std::size_t> next_worker_{0};
  // Signals are waited for on a thread of their own, so that `stopping` is logged within
  // milliseconds however busy the workers are.
  std::unique_ptr<boost::asio::io_context> signal_io_;
  std::unique_ptr<boost::asio::signal_set> signals_;
  std::thread signal_thread_;
  std::atomic<std::size_t> closed_since_trim_{0};
  std::uint64_t resets_reported_ = 0;
  std::chrono::steady_clock::time_point last_reset_report_{};
  std::unique_ptr<boost::asio::steady_timer> drain_timer_;
  bool need_sweep_ = false;
  std::atomic<bool> stopped_{false};
};

}  // namespace flowd
