#include "net/handler_runner.hpp"

#include <boost/asio/post.hpp>
#include <mutex>

#include "net/client_setup.hpp"
#include "runtime/log_values.hpp"

namespace flowd {

HandlerRunner::~HandlerRunner() { context_.flow_lock().forget(this); }

RunOutcome HandlerRunner::run(Handler h, const Function& fn, Value* args, int argc) {
  RunOutcome r = run_fiber(worker_.fiber, &fn, args, argc, nullptr);
  if (r.suspended) {
    // The handler waits: its fiber leaves the worker's, whose next handler starts afresh.
    waiting_ = h;
    fiber_ = std::make_unique<Fiber>(std::move(worker_.fiber));
    worker_.fiber = Fiber();
    owner_.handler_waits();
  }
  return r;
}

RunOutcome HandlerRunner::run_fiber(Fiber& fiber, const Function* fn, Value* args, int argc, Value* resumed) {
  running_ = true;
  RunOutcome r;
  {
    std::unique_lock<std::mutex> guard;
    if (std::mutex* lock = context_.module_lock()) guard = std::unique_lock<std::mutex>(*lock);
    r = resumed ? worker_.interpreter->resume(fiber, std::move(*resumed), *this)
                : worker_.interpreter->call(fiber, *fn, args, argc, *this);
  }
  if (!r.suspended && fiber.locks > 0) {
    // The handler ended inside a LOCK (a return, a failure): its lock ends with it.
    lock_release(fiber);
    fiber.locks = 0;
  }
  running_ = false;
  return r;
}

void HandlerRunner::resume(Value result) {
  if (waiting_ == Handler::None || !fiber_) return;
  if (forgotten_) {
    // The connection was cut while the handler waited (grace period over): the handler is dropped.
    waiting_ = Handler::None;
    fiber_.reset();
    return;
  }
  wait_client_.reset();
  RunOutcome r = run_fiber(*fiber_, nullptr, nullptr, 0, &result);
  if (r.suspended) {
    owner_.handler_waits();
    return;
  }
  Handler h = waiting_;
  waiting_ = Handler::None;
  fiber_.reset();
  owner_.handler_resumed_done(h, r);
}

void HandlerRunner::waits_on(std::weak_ptr<ClientLink> client) {
  wait_client_ = std::move(client);
  // A wait begun once the server is stopping (in an onClose run by the drain, or after a wait the
  // drain ended) ends at once, so the drain never waits for the client's timeout.
  if (context_.stopping()) cancel_wait();
}

void HandlerRunner::cancel_wait() {
  if (auto c = wait_client_.lock()) static_cast<Client*>(c.get())->cancel("the server is stopping");
}

void HandlerRunner::forget() {
  forgotten_ = true;
  context_.flow_lock().forget(this);
  // Let go of the connection later: this may be its last owner, and the connection is still closing.
  if (queued_for_lock_) boost::asio::post(worker_.io, [keep = std::move(queued_for_lock_)] {});
}

void HandlerRunner::log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
                        const Value* values, int count) {
  write_log_values(context_.logger(), level, context_.program().module, msg, error, keys, values, count);
}

bool HandlerRunner::client_action(Fiber&, ActionId id, Value* args, int, Value& result) {
  if (start_client_action(id, args, result, resumer())) return true;
  waits_on(args[0].as<ClientObj>()->link);
  return false;
}

bool HandlerRunner::connect(Fiber&, Value* args, Value& result) {
  ClientParams params;
  if (!client_params(args, context_.client_tls(), params, result)) return true;
  auto client = Client::connect(worker_.io, std::move(params), resumer());
  waits_on(client);
  return false;
}

bool HandlerRunner::lock_acquire(Fiber&) { return context_.flow_lock().acquire(this); }

void HandlerRunner::lock_queued() { queued_for_lock_ = owner_.shared_runner(); }

void HandlerRunner::lock_release(Fiber&) { context_.flow_lock().release(this); }

// Under the flow lock's mutex, maybe on another thread: the handler resumes on its own.
void HandlerRunner::lock_granted() {
  boost::asio::post(worker_.io, [self = std::move(queued_for_lock_)] { self->resume(Value()); });
}

}  // namespace flowd
