// A worker: one thread with its own event loop and interpreter, and the connections that live on it
// (a connection never changes thread, so its handlers stay in order).
#pragma once
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

#include "runtime/interpreter.hpp"

namespace flowd {

class Session;

struct Worker {
  boost::asio::io_context io{1};
  std::unique_ptr<Interpreter> interpreter;
  // The fiber handlers on this thread run in; one that waits on the network takes it along.
  Fiber fiber;
  std::unordered_set<Session*> sessions;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer;
  int index = 0;
  // Work done in the current slice of a connection's input: lines (or chunks) handled plus writes
  // queued. A slice ends at a budget so that the other connections, flushing and timers get a turn.
  std::uint32_t slice_work = 0;
  // Connections that handlers on this thread wrote to outside their own handler: flushed together
  // once the current slice is done (one post per slice, not one per write).
  std::vector<std::shared_ptr<Session>> unflushed;
};

// Where connections are placed and registered (the engine: for timeouts, shedding and draining).
class ConnectionRegistry {
 public:
  // Round-robin choice of the worker for a new connection.
  virtual Worker& next_worker() = 0;
  // On the connection's own thread.
  virtual void session_opened(Worker& w, Session* s) = 0;
  virtual void session_closed(Worker& w, Session* s) = 0;

 protected:
  ~ConnectionRegistry() = default;
};

}  // namespace flowd
