#include "net/config.hpp"

#include <charconv>
#include <cstdlib>

#include "net/client_setup.hpp"
#include "runtime/log_values.hpp"

namespace flowd {

namespace {

std::string env_name(const std::string& name) {
  std::string r = "BAL_CONFIG_VAR_";
  for (char c : name) r += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

bool parse_config_value(const std::string& text, const Type* t, Value& out, std::string& why) {
  switch (t->kind) {
    case TypeKind::Int: {
      std::int64_t v = 0;
      std::string_view s(text);
      if (!s.empty() && s[0] == '+') s.remove_prefix(1);
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) {
        why = "'" + text + "' is not an int";
        return false;
      }
      out = Value::integer(v);
      return true;
    }
    case TypeKind::Float: {
      double v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size()) {
        why = "'" + text + "' is not a float";
        return false;
      }
      out = Value::floating(v);
      return true;
    }
    case TypeKind::Boolean:
      if (text == "true" || text == "1") out = Value::boolean(true);
      else if (text == "false" || text == "0") out = Value::boolean(false);
      else {
        why = "'" + text + "' is not a boolean (true or false)";
        return false;
      }
      return true;
    case TypeKind::String: out = Value::string(text); return true;
    default: why = "unsupported configurable type"; return false;
  }
}

// The host of module-level initializers: their tcp:Client actions may wait, and the worker's event
// loop is served until the wait ends.
class StartupHost final : public InterpreterHost {
 public:
  StartupHost(ServerContext& context, Worker& worker) : context_(context), worker_(worker) {}

  // Runs an initializer to its end.
  RunOutcome run(Fiber& fiber, const Function& fn) {
    RunOutcome r = worker_.interpreter->call(fiber, fn, nullptr, 0, *this);
    while (r.suspended) {
      done_ = false;
      while (!done_ && worker_.io.run_one() > 0) {
      }
      worker_.io.restart();
      if (!done_) {
        r = RunOutcome();
        r.panicked = true;
        r.panic_message = "the connection never completed";
        break;
      }
      r = worker_.interpreter->resume(fiber, std::move(result_), *this);
    }
    return r;
  }

  void log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
           const Value* values, int count) override {
    write_log_values(context_.logger(), level, context_.program().module, msg, error, keys, values, count);
  }
  bool client_action(Fiber&, ActionId id, Value* args, int, Value& result) override {
    return start_client_action(id, args, result, done());
  }
  bool connect(Fiber&, Value* args, Value& result) override {
    ClientParams params;
    if (!client_params(args, context_.client_tls(), params, result)) return true;
    Client::connect(worker_.io, std::move(params), done());
    return false;
  }

 private:
  Client::Done done() {
    return [this](Value v) {
      result_ = std::move(v);
      done_ = true;
    };
  }
  ServerContext& context_;
  Worker& worker_;
  bool done_ = false;
  Value result_;
};

}  // namespace

bool configure_module(ServerContext& context, Worker& worker, std::vector<Value>& globals,
                      std::vector<std::string>& given_as, const std::vector<ConfigOverride>& overrides,
                      std::vector<std::string>& errors) {
  const Program& program = context.program();
  for (const auto& o : overrides) {
    bool known = false;
    for (const auto& g : program.globals) known = known || (g.configurable && g.name == o.name);
    if (!known) {
      std::string list;
      for (const auto& g : program.globals)
        if (g.configurable) list += (list.empty() ? "" : ", ") + g.name;
      errors.push_back(o.source + ": the flow has no configurable '" + o.name + "'" +
                       (list.empty() ? " (it has none)" : " (it has: " + list + ")"));
    }
  }
  Fiber fiber;
  StartupHost host(context, worker);
  for (std::size_t i = 0; i < program.globals.size(); ++i) {
    const GlobalInfo& g = program.globals[i];
    if (!g.configurable) continue;
    const std::string* given = nullptr;
    std::string source;
    std::string env_value;
    if (const char* e = std::getenv(env_name(g.name).c_str())) {
      env_value = e;
      given = &env_value;
      source = env_name(g.name) + "=" + env_value;
    } else {
      for (const auto& o : overrides)
        if (o.name == g.name) {
          given = &o.value;
          source = o.source;
        }
    }
    if (given) {
      given_as[i] = source;
      std::string why;
      if (!parse_config_value(*given, g.type, globals[i], why))
        errors.push_back(source + ": configurable '" + g.name + "' is " + g.type->name + ": " + why);
      continue;
    }
    if (!g.init) {
      errors.push_back("configurable '" + g.name + "' has no default: give it with -C" + g.name + "=VALUE");
      continue;
    }
    RunOutcome r = host.run(fiber, *g.init);
    if (r.panicked) errors.push_back("configurable '" + g.name + "': " + r.panic_message);
    else globals[i] = std::move(r.value);
  }
  if (!errors.empty()) return false;
  // Module-level variables, in order (their initializers may use the configurables).
  for (std::size_t i = 0; i < program.globals.size(); ++i) {
    const GlobalInfo& g = program.globals[i];
    if (g.configurable || !g.init) continue;
    RunOutcome r = host.run(fiber, *g.init);
    const char* what = g.connection ? "connection '" : "module variable '";
    if (r.panicked) errors.push_back(what + g.name + "': " + r.panic_message);
    else if (g.connection && r.value.is_error()) errors.push_back(what + g.name + "': " + r.value.as<ErrorObj>()->message);
    else globals[i] = std::move(r.value);
    if (g.connection && !r.panicked && !r.value.is_error())
      context.logger().write(LogLevel::Info, "flowd", "connected",
                             {{"connection", g.name}, {"to", r.value.as<ClientObj>()->link->describe()}});
  }
  return errors.empty();
}

}  // namespace flowd
