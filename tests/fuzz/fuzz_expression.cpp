// libFuzzer target: any expression string is parsed, type-checked and, when it compiles, evaluated
// in a handler with a small step budget. Nothing may crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "flow/loader.hpp"
#include "flow/node_kind.hpp"
#include "lang/parser.hpp"
#include "runtime/interpreter.hpp"

namespace {

class NullHost final : public flowd::InterpreterHost {
 public:
  void log(flowd::LogLevel, const flowd::Value&, const flowd::Value&, const std::vector<std::string>&,
           const flowd::Value*, int) override {}
};

class NullConnection final : public flowd::Connection {
 public:
  bool write(const flowd::Value&, std::string&) override { return true; }
  void close() override {}
};

// The expression is the initial value of a `var` in onBytes; its string form is logged.
std::string flow_with(const std::string& expression) {
  nlohmann::json node = {{"node", "VARIABLE"}, {"variable", "r"}, {"type", "var"}, {"expression", expression}};
  nlohmann::json flow = {
      {"name", "fuzz"},
      {"variables", {{{"name", "m"}, {"type", "map<int>"}, {"expression", "{\"a\": 1}"}}}},
      {"listeners", {{{"name", "l"}, {"kind", "tcp"}, {"port", "0"}}}},
      {"services", {{{"listener", "l"}, {"onConnect", {{"nodes", {{{"node", "RETURN"}, {"expression", "new C()"}}}}}}}}},
      {"classes",
       {{{"name", "C"},
         {"variables", {{{"name", "s"}, {"type", "string"}, {"default", "\"héllo\""}},
                        {{"name", "xs"}, {"type", "int[]"}, {"default", "[3, 1, 2]"}}}},
         {"methods",
          {{"onBytes",
            {{"parameters", {{{"name", "caller"}, {"type", "tcp:Caller"}}, {{"name", "data"}, {"type", "byte[]"}}}},
             {"nodes", {node}}}}}}}}}};
  // Invalid UTF-8 in the input becomes U+FFFD: the loader gets a valid JSON document.
  return flow.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string expression(reinterpret_cast<const char*>(data), size);
  (void)flowd::parse_expression(expression);
  (void)flowd::parse_type(expression);
  flowd::LoadResult r = flowd::load_flow_text(flow_with(expression), "fuzz.json", flowd::builtin_registry());
  if (!r.ok()) return 0;
  const flowd::Program& p = *r.program;
  std::vector<flowd::Value> globals(p.globals.size());
  NullHost host;
  flowd::Interpreter interp(p, globals, host);
  interp.step_budget = 10'000;
  flowd::Fiber fiber;
  for (std::size_t i = 0; i < p.globals.size(); ++i) {
    if (!p.globals[i].init) continue;
    flowd::RunOutcome g = interp.call(fiber, *p.globals[i].init, nullptr, 0);
    if (!g.panicked) globals[i] = g.value;
  }
  flowd::RunOutcome made = interp.call(fiber, *p.services[0].on_connect, nullptr, 0);
  if (made.panicked || made.value.tag() != flowd::ValueTag::Object) return 0;
  auto conn = std::make_shared<NullConnection>();
  auto* caller = new flowd::CallerObj();
  caller->conn = conn;
  flowd::Value args[3] = {made.value, flowd::Value::adopt(flowd::ValueTag::Caller, caller),
                          flowd::Value::bytes("hi\xff")};
  (void)interp.call(fiber, *p.classes[0].on_bytes, args, 3);
  return 0;
}
