// Test helpers for the unit tests (header-only): load a flow from text, wrap nodes into a minimal
// valid flow, and run its handlers in-process with a capturing log host and a fake connection.
//
//   auto r = load(FlowBuilder().node(variable("x", "int", "1 + 2")).text());
//   Runner run(*r.program);
//   RunOutcome o = run.on_bytes("hello");
//
// Positions in diagnostics refer to the generated text (FlowBuilder::text() pretty-prints it), so
// tests that check line:column use literal multi-line JSON instead.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "flow/loader.hpp"
#include "flow/node_kind.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/program.hpp"
#include "runtime/value.hpp"
#include "support/diagnostics.hpp"

namespace flowd::test {

using Json = nlohmann::ordered_json;

// ---- loading

inline LoadResult load(std::string json) {
  return load_flow_text(std::move(json), "test.json", builtin_registry());
}

// Every diagnostic as "E202 /pointer: message" lines, for assertion messages.
inline std::string describe(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diags.list()) {
    out += std::string(d.severity == Severity::Error ? "error " : "warning ") + std::string(diag_code(d.id)) +
           " " + (d.pointer.empty() ? "/" : d.pointer) + " @" + std::to_string(d.line) + ":" +
           std::to_string(d.column) + ": " + d.message + "\n";
  }
  return out;
}

// The error diagnostics (warnings left out).
inline std::vector<const Diagnostic*> errors_of(const LoadResult& r) {
  std::vector<const Diagnostic*> out;
  for (const auto& d : r.diags.list())
    if (d.severity == Severity::Error) out.push_back(&d);
  return out;
}

// The codes of every error, in order ("E202", ...).
inline std::vector<std::string> error_codes(const LoadResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic* d : errors_of(r)) out.emplace_back(diag_code(d->id));
  return out;
}

// The only error of a load; null (and a test failure) unless there is exactly one.
inline const Diagnostic* single_error(const LoadResult& r) {
  auto errs = errors_of(r);
  if (errs.size() != 1) {
    ADD_FAILURE() << "expected exactly one error, got " << errs.size() << ":\n" << describe(r);
    return nullptr;
  }
  return errs[0];
}

// 1-based line and byte column of the first occurrence of `needle` in `text` (after `from`).
struct TextPos {
  int line = 0;
  int column = 0;
};
inline TextPos pos_of(std::string_view text, std::string_view needle, std::size_t from = 0) {
  std::size_t at = text.find(needle, from);
  if (at == std::string_view::npos) return {};
  TextPos p{1, 1};
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

// ---- node JSON (each returns the node object as JSON text)

inline std::string with_id(Json j, const std::string& id) {
  if (!id.empty()) j["id"] = id;
  return j.dump();
}

inline std::string variable(const std::string& name, const std::string& type, const std::string& expression,
                            const std::string& id = "") {
  Json j{{"node", "VARIABLE"}, {"variable", name}, {"type", type}, {"expression", expression}};
  return with_id(std::move(j), id);
}

inline std::string assign(const std::string& target, const std::string& expression, const std::string& id = "") {
  Json j{{"node", "ASSIGN"}, {"variable", target}, {"expression", expression}};
  return with_id(std::move(j), id);
}

// log:printInfo (or another level) with msg and extra named arguments (name -> expression).
inline std::string log_call(const std::string& function, const std::string& msg,
                            const std::vector<std::pair<std::string, std::string>>& extra = {},
                            const std::string& id = "") {
  Json args{{"msg", msg}};
  for (const auto& [k, v] : extra) args[k] = v;
  Json j{{"node", "FUNCTION_CALL"}, {"function", function}, {"args", args}};
  return with_id(std::move(j), id);
}
inline std::string log_info(const std::string& msg, const std::vector<std::pair<std::string, std::string>>& extra = {},
                            const std::string& id = "") {
  return log_call("log:printInfo", msg, extra, id);
}

// FUNCTION_CALL with its result bound to `var` of `type` (both optional: "" leaves them out).
inline std::string call(const std::string& function, const std::vector<std::pair<std::string, std::string>>& args,
                        const std::string& var = "", const std::string& type = "", bool check = false,
                        const std::string& id = "") {
  Json a = Json::object();
  for (const auto& [k, v] : args) a[k] = v;
  Json j{{"node", "FUNCTION_CALL"}, {"function", function}, {"args", a}};
  if (!var.empty()) j["variable"] = var;
  if (!type.empty()) j["type"] = type;
  if (check) j["check"] = true;
  return with_id(std::move(j), id);
}

inline std::string write_bytes(const std::string& data, const std::string& connection = "caller",
                               const std::string& var = "", const std::string& type = "", const std::string& id = "") {
  Json j{{"node", "REMOTE_ACTION_CALL"}, {"connection", connection}, {"action", "writeBytes"},
         {"args", Json{{"data", data}}}};
  if (!var.empty()) j["variable"] = var;
  if (!type.empty()) j["type"] = type;
  return with_id(std::move(j), id);
}

inline std::string close_action(const std::string& connection = "caller", const std::string& id = "") {
  Json j{{"node", "REMOTE_ACTION_CALL"}, {"connection", connection}, {"action", "close"}};
  return with_id(std::move(j), id);
}

inline std::string return_node(std::optional<std::string> expression = std::nullopt, const std::string& id = "") {
  Json j{{"node", "RETURN"}};
  if (expression) j["expression"] = *expression;
  return with_id(std::move(j), id);
}

// IF with (condition, children) branches and optional else children.
inline std::string if_node(const std::vector<std::pair<std::string, std::vector<std::string>>>& branches,
                           std::optional<std::vector<std::string>> else_nodes = std::nullopt,
                           const std::string& id = "") {
  Json bs = Json::array();
  for (const auto& [cond, kids] : branches) {
    Json k = Json::array();
    for (const auto& n : kids) k.push_back(Json::parse(n));
    bs.push_back(Json{{"condition", cond}, {"children", k}});
  }
  Json j{{"node", "IF"}, {"branches", bs}};
  if (else_nodes) {
    Json e = Json::array();
    for (const auto& n : *else_nodes) e.push_back(Json::parse(n));
    j["else"] = e;
  }
  return with_id(std::move(j), id);
}

// ---- a minimal valid flow around a list of onBytes nodes

// Pointer of the onBytes node list in a FlowBuilder flow.
inline constexpr std::string_view kOnBytesNodes = "/classes/0/methods/onBytes/nodes";

class FlowBuilder {
 public:
  FlowBuilder() = default;
  explicit FlowBuilder(std::vector<std::string> nodes) : nodes_(std::move(nodes)) {}

  FlowBuilder& node(std::string n) { nodes_.push_back(std::move(n)); return *this; }
  FlowBuilder& nodes(std::vector<std::string> ns) {
    for (auto& n : ns) nodes_.push_back(std::move(n));
    return *this;
  }
  // A class variable of C: {"name", "type", "default"} (default omitted when nullopt).
  FlowBuilder& class_variable(const std::string& name, const std::string& type,
                              std::optional<std::string> default_expr = std::nullopt) {
    Json v{{"name", name}, {"type", type}};
    if (default_expr) v["default"] = *default_expr;
    variables_.push_back(std::move(v));
    return *this;
  }
  FlowBuilder& configurable(const std::string& name, const std::string& type,
                            std::optional<std::string> default_expr = std::nullopt) {
    Json v{{"name", name}, {"type", type}};
    if (default_expr) v["default"] = *default_expr;
    configurables_.push_back(std::move(v));
    return *this;
  }
  // onBytes(byte[] data) instead of onBytes(tcp:Caller caller, byte[] data).
  FlowBuilder& without_caller() { with_caller_ = false; return *this; }
  FlowBuilder& on_error(std::vector<std::string> ns, bool with_caller = false) {
    on_error_ = std::move(ns);
    on_error_caller_ = with_caller;
    return *this;
  }
  FlowBuilder& on_close(std::vector<std::string> ns, bool with_caller = false) {
    on_close_ = std::move(ns);
    on_close_caller_ = with_caller;
    return *this;
  }
  // Replaces the onConnect nodes (default: RETURN new C()).
  FlowBuilder& on_connect(std::vector<std::string> ns) { on_connect_ = std::move(ns); return *this; }

  Json json() const {
    Json root;
    root["name"] = "test";
    if (!configurables_.empty()) root["configurables"] = configurables_;
    root["listeners"] = Json::array({Json{{"name", "l"}, {"kind", "tcp"}, {"port", "0"}}});
    Json connect_nodes = Json::array();
    if (on_connect_) {
      for (const auto& n : *on_connect_) connect_nodes.push_back(Json::parse(n));
    } else {
      connect_nodes.push_back(Json{{"node", "RETURN"}, {"expression", "new C()"}});
    }
    root["services"] = Json::array({Json{
        {"listener", "l"},
        {"onConnect", Json{{"parameters", Json::array({param("caller", "tcp:Caller")})}, {"nodes", connect_nodes}}}}});
    Json methods;
    Json on_bytes_params = Json::array();
    if (with_caller_) on_bytes_params.push_back(param("caller", "tcp:Caller"));
    on_bytes_params.push_back(param("data", "byte[]"));
    methods["onBytes"] = Json{{"parameters", on_bytes_params}, {"nodes", list(nodes_)}};
    if (on_error_) {
      Json ps = Json::array();
      if (on_error_caller_) ps.push_back(param("caller", "tcp:Caller"));
      ps.push_back(param("err", "error"));
      methods["onError"] = Json{{"parameters", ps}, {"nodes", list(*on_error_)}};
    }
    if (on_close_) {
      Json ps = Json::array();
      if (on_close_caller_) ps.push_back(param("caller", "tcp:Caller"));
      methods["onClose"] = Json{{"parameters", ps}, {"nodes", list(*on_close_)}};
    }
    Json cls{{"name", "C"}};
    if (!variables_.empty()) cls["variables"] = variables_;
    cls["methods"] = methods;
    root["classes"] = Json::array({cls});
    return root;
  }

  std::string text() const { return json().dump(2); }

 private:
  static Json param(const std::string& name, const std::string& type) { return Json{{"name", name}, {"type", type}}; }
  static Json list(const std::vector<std::string>& ns) {
    Json a = Json::array();
    for (const auto& n : ns) a.push_back(Json::parse(n));
    return a;
  }

  std::vector<std::string> nodes_;
  Json variables_ = Json::array();
  Json configurables_ = Json::array();
  bool with_caller_ = true;
  std::optional<std::vector<std::string>> on_error_, on_close_, on_connect_;
  bool on_error_caller_ = false, on_close_caller_ = false;
};

// ---- running handlers in-process

// Records every log call of a flow.
class CaptureHost final : public InterpreterHost {
 public:
  struct Entry {
    LogLevel level = LogLevel::Info;
    std::string message;
    std::string error;                                        // "" when no error was given
    bool has_error = false;
    std::vector<std::pair<std::string, std::string>> values;  // key -> display string ("()" for nil)
  };
  std::vector<Entry> entries;
  // tcp:Client hooks (default: the base host's "not available" error). Return false to suspend.
  std::function<bool(ActionId, Value*, int, Value&)> on_client_action;
  std::function<bool(Value*, Value&)> on_connect;

  bool client_action(Fiber& f, ActionId id, Value* args, int argc, Value& result) override {
    return on_client_action ? on_client_action(id, args, argc, result) : InterpreterHost::client_action(f, id, args, argc, result);
  }
  bool connect(Fiber& f, Value* args, Value& result) override {
    return on_connect ? on_connect(args, result) : InterpreterHost::connect(f, args, result);
  }

  void log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
           const Value* values, int count) override {
    Entry e;
    e.level = level;
    e.message = msg.tag() == ValueTag::String ? std::string(msg.str()) : "<not a string: " + to_display_string(msg) + ">";
    if (error.is_error()) {
      e.has_error = true;
      e.error = error.as<ErrorObj>()->message;
    }
    for (int i = 0; i < count; ++i) {
      const Value& v = values[i];
      e.values.emplace_back(keys[static_cast<std::size_t>(i)], v.is_nil() ? "()" : to_display_string(v));
    }
    entries.push_back(std::move(e));
  }

  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.message);
    return out;
  }
};

// A connection that records what a flow writes and whether it closed it.
class FakeConnection final : public Connection {
 public:
  std::vector<std::string> writes;
  bool fail_writes = false;
  std::string fail_message = "connection reset by peer";
  int close_calls = 0;

  bool write(const Value& bytes, std::string& error) override {
    if (fail_writes) {
      error = fail_message;
      return false;
    }
    writes.push_back(std::string(bytes.str()));
    return true;
  }
  void close() override { ++close_calls; }
};

inline Value make_caller(const std::shared_ptr<Connection>& conn) {
  auto* c = new CallerObj();
  c->conn = conn;
  c->remote_host = "127.0.0.1";
  c->remote_port = 5555;
  c->local_host = "127.0.0.1";
  c->local_port = 3000;
  c->id = "abc";
  return Value::adopt(ValueTag::Caller, c);
}

// Runs a loaded program's handlers: module globals are initialized from their defaults, the
// connection instance is created with `new` semantics on first use.
class Runner {
 public:
  explicit Runner(const Program& program)
      : program_(program),
        globals(program.globals.size()),
        conn(std::make_shared<FakeConnection>()),
        caller(make_caller(conn)),
        interp(program, globals, host) {
    for (std::size_t i = 0; i < program.globals.size(); ++i) {
      const GlobalInfo& g = program.globals[i];
      if (!g.init) continue;
      RunOutcome r = interp.call(fiber, *g.init, nullptr, 0);
      if (r.panicked) ADD_FAILURE() << "configurable " << g.name << " default panicked: " << r.panic_message;
      else globals[i] = std::move(r.value);
    }
  }

  // A new instance of class `index`: its field template, then its initializer with self in slot 0.
  Value new_instance(int index = 0) {
    const ClassInfo& ci = program_.classes[static_cast<std::size_t>(index)];
    Value obj = Value::adopt(ValueTag::Object, new InstanceObj(&ci, ci.field_template));
    if (ci.init) {
      Value self = obj;  // call() moves its arguments
      RunOutcome r = interp.call(fiber, *ci.init, &self, 1);
      if (r.panicked) ADD_FAILURE() << ci.name << ".init panicked: " << r.panic_message;
    }
    return obj;
  }

  // Runs the first service's onConnect; an object it returns becomes the instance.
  RunOutcome connect() {
    const Function& fn = *program_.services.at(0).on_connect;
    Value arg = caller;  // call() moves its arguments
    RunOutcome r = fn.nparams > 0 ? interp.call(fiber, fn, &arg, 1) : interp.call(fiber, fn, nullptr, 0);
    if (!r.panicked && r.value.tag() == ValueTag::Object) instance = r.value;
    return r;
  }

  RunOutcome on_bytes(std::string data) {
    const ClassInfo& ci = cls();
    std::vector<Value> args{instance};
    if (ci.on_bytes_takes_caller) args.push_back(caller);
    args.push_back(Value::bytes(std::move(data)));
    return interp.call(fiber, *ci.on_bytes, args.data(), static_cast<int>(args.size()));
  }

  RunOutcome on_error(Value err) {
    const ClassInfo& ci = cls();
    std::vector<Value> args{instance};
    if (ci.on_error_takes_caller) args.push_back(caller);
    args.push_back(std::move(err));
    return interp.call(fiber, *ci.on_error, args.data(), static_cast<int>(args.size()));
  }

  RunOutcome on_close() {
    const ClassInfo& ci = cls();
    std::vector<Value> args{instance};
    if (ci.on_close_takes_caller) args.push_back(caller);
    return interp.call(fiber, *ci.on_close, args.data(), static_cast<int>(args.size()));
  }

  // The instance's class variable `name`.
  Value field(const std::string& name) {
    const ClassInfo& ci = cls();
    int idx = ci.field_index(name);
    if (idx < 0) {
      ADD_FAILURE() << "class " << ci.name << " has no variable " << name;
      return Value();
    }
    return instance.as<InstanceObj>()->fields[static_cast<std::size_t>(idx)];
  }

  // The node id of the site a run stopped at.
  std::string site_id(const RunOutcome& o) const { return program_.sites.at(o.site).node_id; }

  const Program& program() const { return program_; }

 private:
  const ClassInfo& cls() {
    if (instance.tag() != ValueTag::Object) instance = new_instance(0);
    return *instance.as<InstanceObj>()->cls;
  }

  const Program& program_;

 public:
  std::vector<Value> globals;
  CaptureHost host;
  std::shared_ptr<FakeConnection> conn;
  Value caller;
  Interpreter interp;
  Fiber fiber;
  Value instance;
};

// ---- the evaluator in one call

inline bool is_simple_type_name(const std::string& t) {
  return t == "int" || t == "float" || t == "string" || t == "boolean" || t == "byte";
}

// Declares `VARIABLE r` of `type` = `expression` in onBytes and returns r as text: simple types
// through a log:printInfo template string `${r}`, other types as the display string of a log
// key-value ("()" for nil). Returns "ERROR: <message>" when the handler panics or returns an error,
// and "LOAD ERROR: <codes and messages>" when the flow does not load.
inline std::string eval(const std::string& expression, const std::string& type, std::int64_t step_budget = 0) {
  FlowBuilder b;
  b.node(variable("r", type, expression));
  if (is_simple_type_name(type)) b.node(log_info("string `${r}`"));
  else b.node(log_info("\"\"", {{"r", "r"}}));
  LoadResult lr = load(b.text());
  if (!lr.ok()) {
    std::string out = "LOAD ERROR:";
    for (const Diagnostic* d : errors_of(lr)) out += " " + std::string(diag_code(d->id)) + " " + d->message;
    return out;
  }
  Runner run(*lr.program);
  if (step_budget > 0) run.interp.step_budget = step_budget;
  RunOutcome o = run.on_bytes("");
  if (o.panicked) return "ERROR: " + o.panic_message;
  if (o.value.is_error()) return "ERROR: " + o.value.as<ErrorObj>()->message;
  if (run.host.entries.size() != 1) return "NO LOG LINE";
  const auto& e = run.host.entries[0];
  if (is_simple_type_name(type)) return e.message;
  return e.values.empty() ? "NO VALUE" : e.values[0].second;
}

}  // namespace flowd::test
