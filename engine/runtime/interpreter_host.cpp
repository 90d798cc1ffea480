// What the interpreter asks of its host: the instructions that may make a fiber wait (remote actions,
// NEW_CONNECTION, LOCK), and the answers of a host without a network.
#include "runtime/interpreter.hpp"

namespace flowd {

bool InterpreterHost::client_action(Fiber&, ActionId, Value*, int, Value& result) {
  result = make_error("tcp:Client connections are not available here");
  return true;
}

bool InterpreterHost::connect(Fiber&, Value*, Value& result) {
  result = make_error("tcp:Client connections are not available here");
  return true;
}

// Remote actions, NEW_CONNECTION and LOCK: each leaves its result on the stack, or returns false when
// the fiber waits (its operands popped; resume() pushes the result).
bool Interpreter::run_suspendable(Fiber& fiber, const Instr& in) {
  std::vector<Value>& st = fiber.stack;
  if (in.op == Op::LockEnter) {
    if (fiber.locks++ == 0 && !host_->lock_acquire(fiber)) return false;  // resumed with nil once it is ours
    st.emplace_back();
    return true;
  }
  Value result;
  if (in.op == Op::Connect) {
    std::size_t first = st.size() - static_cast<std::size_t>(kConnectArgs);
    bool done = host_->connect(fiber, st.data() + first, result);
    st.resize(first);
    if (done) st.push_back(std::move(result));
    return done;
  }
  int argc = in.b;
  std::size_t conn_at = st.size() - static_cast<std::size_t>(argc) - 1;
  auto id = static_cast<ActionId>(in.a);
  if (id >= ActionId::ClientWrite) {
    bool done = host_->client_action(fiber, id, st.data() + conn_at, argc + 1, result);
    st.resize(conn_at);
    if (done) st.push_back(std::move(result));
    return done;
  }
  const CallerObj* c = st[conn_at].as<CallerObj>();
  auto conn = c->conn.lock();
  if (id == ActionId::WriteBytes) {
    std::string err;
    if (!conn) result = make_error("Socket connection already closed.");
    else if (!conn->write(st[conn_at + 1], err)) result = make_error(std::move(err));
  } else if (conn) {
    conn->close();
  }
  st.resize(conn_at);
  st.push_back(std::move(result));
  return true;
}

}  // namespace flowd
