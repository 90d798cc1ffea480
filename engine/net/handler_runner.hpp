// Runs one connection's handlers (onConnect, onBytes, onError, onClose), one at a time: it is the
// interpreter's host for their runs, owns the fiber of a handler that waits on the network (a
// tcp:Client action, NEW_CONNECTION, a LOCK another handler holds) and resumes it on the connection's
// own thread, and holds the connection's place in the flow's LOCK.
#pragma once
#include <utility>

#include <cstdint>
#include <memory>
#include <string>

#include "net/client.hpp"
#include "net/flow_lock.hpp"
#include "net/server_context.hpp"
#include "net/worker.hpp"
#include "runtime/interpreter.hpp"

namespace flowd {

enum class Handler : std::uint8_t { None, OnConnect, OnBytes, OnError, OnClose };

class HandlerRunner final : public InterpreterHost, private FlowLock::Waiter {
 public:
  // The connection the handlers belong to.
  class Owner {
   public:
    // The runner, sharing the ownership of its connection: what keeps the connection alive while one
    // of its handlers waits.
    virtual std::shared_ptr<HandlerRunner> shared_runner() = 0;
    // A handler began to wait (what it wrote so far should go out).
    virtual void handler_waits() = 0;
    // A handler that waited is done.
    virtual void handler_resumed_done(Handler h, RunOutcome& r) = 0;

   protected:
    ~Owner() = default;
  };

  HandlerRunner(Worker& worker, ServerContext& context, Owner& owner)
      : worker_(worker), context_(context), owner_(owner) {}
  ~HandlerRunner() override;
  HandlerRunner(const HandlerRunner&) = delete;
  HandlerRunner& operator=(const HandlerRunner&) = delete;

  // Runs handler h (the arguments are moved). When the result is suspended, the handler waits:
  // owner.handler_waits() has been called, and owner.handler_resumed_done() follows once it is done.
  RunOutcome run(Handler h, const Function& fn, Value* args, int argc);
  // A handler is running now (not one that waits).
  bool running() const { return running_; }
  bool waiting() const { return waiting_ != Handler::None; }
  // Ends the network wait of the waiting handler with an error: the server is stopping.
  void cancel_wait();
  // The connection is closed: its place in the flow's LOCK is given up and a waiting handler is
  // dropped when its wait ends.
  void forget();

  // InterpreterHost: the runs of this connection's handlers.
  void log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
           const Value* values, int count) override;
  bool client_action(Fiber& fiber, ActionId id, Value* args, int argc, Value& result) override;
  bool connect(Fiber& fiber, Value* args, Value& result) override;
  bool lock_acquire(Fiber& fiber) override;
  void lock_release(Fiber& fiber) override;

 private:
  RunOutcome run_fiber(Fiber& fiber, const Function* fn, Value* args, int argc, Value* resumed);
  void resume(Value result);
  // The callback that resumes the waiting handler with an action's result (on this thread).
  Client::Done resumer() {
    return [self = owner_.shared_runner()](Value v) { self->resume(std::move(v)); };
  }
  void waits_on(std::weak_ptr<ClientLink> client);
  void lock_queued() override;
  void lock_granted() override;

  Worker& worker_;
  ServerContext& context_;
  Owner& owner_;
  std::unique_ptr<Fiber> fiber_;           // the fiber of the handler that waits
  std::weak_ptr<ClientLink> wait_client_;  // what it waits on
  // While queued for the flow's LOCK nothing else holds the connection: this does, until granted.
  std::shared_ptr<HandlerRunner> queued_for_lock_;
  Handler waiting_ = Handler::None;
  bool running_ = false;
  bool forgotten_ = false;
};

}  // namespace flowd
