// The engine: one compiled flow, its module state, its listeners and connections, and shutdown.
#pragma once
#include <utility>  // before Asio (see reference/toolchain.md)

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

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
};

// A configurable's value given from outside: "-Cport=4000" or BAL_CONFIG_VAR_PORT=4000.
struct ConfigOverride {
  std::string name;
  std::string value;
  std::string source;  // "-Cport=4000", for error messages
};

// The per-thread state: an io_context, an interpreter and its fiber.
struct Worker {
  boost::asio::io_context io{1};
  std::unique_ptr<Interpreter> interpreter;
  Fiber fiber;
};

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

  std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;
  const Program& program() const { return program_; }
  Logger& logger() { return logger_; }
  Worker& worker() { return *workers_[0]; }
  std::int64_t step_budget() const { return options_.step_budget; }
  std::string next_connection_id();

  // Session registry, for draining on shutdown.
  void session_opened(Session* s);
  void session_closed(Session* s);
  bool draining() const { return draining_; }
  std::size_t open_sessions() const { return sessions_.size(); }

  // InterpreterHost
  void log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
           const Value* values, int count) override;

 private:
  void begin_drain(const char* why);
  void sweep();
  static constexpr std::chrono::milliseconds kSweepInterval{250};
  void finish_drain();

  const Program& program_;
  Logger& logger_;
  EngineOptions options_;
  std::vector<Value> globals_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_set<Session*> sessions_;
  std::unique_ptr<boost::asio::signal_set> signals_;
  std::unique_ptr<boost::asio::steady_timer> drain_timer_;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
  bool need_sweep_ = false;
  bool draining_ = false;
  bool stopped_ = false;
  std::uint64_t connection_serial_ = 0;
  std::uint64_t id_base_ = 0;
};

}  // namespace flowd
