// The bytecode interpreter. A handler runs in a Fiber (its operand stack and call frames), so a
// handler's position and locals live in data, not on the C++ stack: a fiber can be parked at an
// action that waits on the network and resumed later.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/natives.hpp"
#include "runtime/program.hpp"

namespace flowd {

// Default budget of evaluation steps (bytecode instructions) per event: a runaway loop is stopped
// with an error instead of hanging the thread. About 10 ms of work on this machine.
inline constexpr std::int64_t kDefaultStepBudget = 1'000'000;
// Nesting of function calls within one event.
inline constexpr int kMaxCallDepth = 64;

struct Fiber;

// What the interpreter asks of the engine.
class InterpreterHost {
 public:
  virtual ~InterpreterHost() = default;
  virtual void log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
                   const Value* values, int count) = 0;
  // An action on a tcp:Client (args[0] is the client). Returns true with `result` set when it
  // completed at once; false when it waits on the network: the fiber is then suspended, and the host
  // resumes it later with Interpreter::resume and the action's result.
  // Hosts without a network (tests, tools) answer with an error value.
  virtual bool client_action(Fiber& fiber, ActionId id, Value* args, int argc, Value& result);
  // NEW_CONNECTION with kConnectArgs operands (see ConnectArg); same contract as client_action.
  virtual bool connect(Fiber& fiber, Value* args, Value& result);
  // LOCK across network waits: true when the flow's lock is taken; false when another handler holds
  // it: the fiber is suspended and resumed (with nil) once it is this one's. Released by lock_release.
  virtual bool lock_acquire(Fiber&) { return true; }
  virtual void lock_release(Fiber&) {}
};

struct Frame {
  const Function* fn;
  std::uint32_t pc;
  std::uint32_t base;     // index of local slot 0 in the fiber's stack
  bool keep_self;         // an initializer: leave self on the stack, drop the return value
};

struct Fiber {
  std::vector<Value> stack;
  std::vector<Frame> frames;
  std::int64_t budget = 0;  // evaluation steps left for this event (kept across a suspension)
  int locks = 0;            // LOCK blocks entered and not yet left (the lock is held while > 0)
};

struct RunOutcome {
  bool panicked = false;       // raised (division by zero, step budget...) rather than returned
  bool suspended = false;      // waiting on the network: resume the fiber with the action's result
  Value value;                 // the returned value (possibly an error value)
  std::string panic_message;
  std::uint32_t site = 0;      // index into Program::sites of the instruction that returned or raised
};

class Interpreter {
 public:
  Interpreter(const Program& program, std::vector<Value>& globals, InterpreterHost& host)
      : program_(program), globals_(globals), default_host_(host), host_(&host) {}

  // The arguments are moved into the callee's frame. The run's actions, logs and locks go to `host`
  // (a connection's own runner), or to the interpreter's default host.
  RunOutcome call(Fiber& fiber, const Function& fn, Value* args, int argc) {
    return call(fiber, fn, args, argc, default_host_);
  }
  RunOutcome call(Fiber& fiber, const Function& fn, Value* args, int argc, InterpreterHost& host);
  // Continues a suspended fiber; `result` is the value of the action it was waiting on.
  RunOutcome resume(Fiber& fiber, Value result) { return resume(fiber, std::move(result), default_host_); }
  RunOutcome resume(Fiber& fiber, Value result, InterpreterHost& host);
  std::int64_t step_budget = kDefaultStepBudget;

 private:
  RunOutcome run(Fiber& fiber);
  void concat_parts(std::vector<Value>& st, std::size_t n, bool only_logged);
  // LOCK, NEW_CONNECTION and remote actions: the instructions that may suspend the fiber
  // (interpreter_host.cpp). False when the fiber waits.
  __attribute__((noinline)) bool run_suspendable(Fiber& fiber, const Instr& in);
  StrObj* log_line(std::size_t len);
  const Program& program_;
  std::vector<Value>& globals_;
  InterpreterHost& default_host_;
  InterpreterHost* host_;  // the host of the run in progress
  // The string of a template that only goes to the log, reused line after line (see log_line).
  Value log_line_;
  std::size_t log_line_room_ = 0;
};

bool value_has_type(const Value& v, const Type* t);

}  // namespace flowd
