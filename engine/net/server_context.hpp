// What every connection of a served flow shares, whichever thread it runs on: the program and the
// log, the output budget, the stop flag, connection ids, the module lock, the flow's LOCK and the
// tcp:Client TLS contexts. The engine owns it; sessions, listeners and handler runners use it.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "net/client_setup.hpp"
#include "net/flow_lock.hpp"
#include "runtime/program.hpp"
#include "support/log.hpp"

namespace flowd {

class ServerContext {
 public:
  ServerContext(const Program& program, Logger& logger) : program_(program), logger_(logger) {}

  const Program& program() const { return program_; }
  Logger& logger() { return logger_; }

  // A stop was asked for: connections handle no more input (what is unread is dropped).
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  // True the first time.
  bool begin_stopping() { return !stopping_.exchange(true); }

  // The process's output budget (bytes queued for all connections); thread-safe. Passing it calls
  // over_budget once, until shedding_done().
  void output_charged(std::size_t n) {
    std::size_t t = output_total_.fetch_add(n, std::memory_order_relaxed) + n;
    if (t > output_peak_.load(std::memory_order_relaxed)) output_peak_.store(t, std::memory_order_relaxed);
    if (t > max_output_total_ && !shedding_.exchange(true)) over_budget_();
  }
  void output_discharged(std::size_t n) { output_total_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t output_total() const { return output_total_.load(std::memory_order_relaxed); }
  std::size_t max_output_total() const { return max_output_total_; }
  void set_output_budget(std::size_t max_total, std::function<void()> on_over) {
    max_output_total_ = max_total;
    over_budget_ = std::move(on_over);
  }
  void shedding_done() { shedding_.store(false); }
  // The highest output_total() since reset_output_peak().
  std::size_t output_peak() const { return output_peak_.load(std::memory_order_relaxed); }
  void reset_output_peak(std::size_t to) { output_peak_.store(to, std::memory_order_relaxed); }

  // A client reset or dropped its connection (ECONNRESET, EPIPE, TLS EOF): counted, summarised in the log.
  void peer_reset() { peer_resets_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t peer_resets() const { return peer_resets_.load(std::memory_order_relaxed); }

  // Unique per process and unpredictable across runs, like Netty's channel ids.
  std::string next_connection_id();

  // Held while a handler runs when the flow has module-level state and there are several threads.
  std::mutex* module_lock() { return module_lock_needed_ ? &module_lock_ : nullptr; }
  void need_module_lock() { module_lock_needed_ = true; }

  FlowLock& flow_lock() { return flow_lock_; }
  ClientTlsCache& client_tls() { return client_tls_; }

 private:
  const Program& program_;
  Logger& logger_;
  std::atomic<bool> stopping_{false};
  std::size_t max_output_total_ = 0;
  std::function<void()> over_budget_;
  std::atomic<std::size_t> output_total_{0};
  std::atomic<std::size_t> output_peak_{0};
  std::atomic<bool> shedding_{false};
  std::atomic<std::uint64_t> peer_resets_{0};
  std::atomic<std::uint64_t> connection_serial_{0};
  std::uint64_t id_base_ = seed();
  std::mutex module_lock_;
  bool module_lock_needed_ = false;
  FlowLock flow_lock_;
  ClientTlsCache client_tls_;
  static std::uint64_t seed();
};

}  // namespace flowd
