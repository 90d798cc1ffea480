// Google Benchmark microbenchmarks: expression evaluation, one onBytes dispatch through the
// interpreter (no sockets), and flow loading. Run on demand (never as timed assertions):
//   ./build/benchmarks/flowd_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <spdlog/sinks/null_sink.h>

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "flow/loader.hpp"
#include "flow/node_kind.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/log_values.hpp"
#include "support/log.hpp"

namespace {

using namespace flowd;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class NullConnection final : public Connection {
 public:
  bool write(const Value&, std::string&) override { return true; }
  void close() override {}
};

// Logs through the real formatter into spdlog's null sink, so the cost of a log line counts.
class LoggingHost final : public InterpreterHost {
 public:
  LoggingHost() : logger_(LogConfig{}, std::make_shared<spdlog::sinks::null_sink_mt>()) {}
  void log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
           const Value* values, int count) override {
    write_log_values(logger_, level, "chat", msg, error, keys, values, count);
  }

 private:
  Logger logger_;
};

// A loaded flow, a caller and a connected instance of its class.
struct Harness {
  explicit Harness(const std::string& text) : result(load_flow_text(text, "bench.json", builtin_registry())) {
    if (!result.ok()) throw std::runtime_error(result.diags.format("bench.json"));
    const Program& p = *result.program;
    globals.resize(p.globals.size());
    interp = std::make_unique<Interpreter>(p, globals, host);
    for (std::size_t i = 0; i < p.globals.size(); ++i)
      if (p.globals[i].init) globals[i] = interp->call(fiber, *p.globals[i].init, nullptr, 0).value;
    auto* c = new CallerObj();
    c->conn = conn;
    caller = Value::adopt(ValueTag::Caller, c);
    Value arg = caller;  // call() moves its arguments
    instance = interp->call(fiber, *p.services[0].on_connect, &arg, 1).value;
  }
  RunOutcome on_bytes(std::string_view data) {
    const ClassInfo& ci = result.program->classes[0];
    Value args[3] = {instance, caller, Value::bytes(std::string(data))};
    return interp->call(fiber, *ci.on_bytes, args, 3);
  }
  LoadResult result;
  std::vector<Value> globals;
  LoggingHost host;
  std::unique_ptr<Interpreter> interp;
  Fiber fiber;
  std::shared_ptr<NullConnection> conn = std::make_shared<NullConnection>();
  Value caller, instance;
};

std::string chat_flow() { return read_file(FLOWD_SOURCE_DIR "/flows/chat.json"); }

// One chat message through flows/chat.json's onBytes: decode, trim, IF, log line, template, write.
void BM_ChatOnBytesDispatch(benchmark::State& state) {
  Harness h(chat_flow());
  h.on_bytes("alice\r\n");  // logs in
  for (auto _ : state) {
    RunOutcome r = h.on_bytes("Hello World\r\n");
    benchmark::DoNotOptimize(r.value);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChatOnBytesDispatch);

// Expressions alone: a handler whose only node declares a variable with the given expression.
void expression_bench(benchmark::State& state, const std::string& expression, const std::string& type) {
  nlohmann::json flow = nlohmann::json::parse(chat_flow());
  nlohmann::json& nodes = flow["classes"][0]["methods"]["onBytes"]["nodes"];
  nodes = nlohmann::json::array({{{"node", "VARIABLE"}, {"variable", "r"}, {"type", type}, {"expression", expression}}});
  Harness h(flow.dump());
  for (auto _ : state) {
    RunOutcome r = h.on_bytes("Hello World");
    benchmark::DoNotOptimize(r.value);
  }
}

void BM_ExprArithmetic(benchmark::State& s) { expression_bench(s, "(3 * 4 + 5) % 7 - 2 * (8 / 3)", "int"); }
void BM_ExprTemplate(benchmark::State& s) {
  expression_bench(s, "string `Sent: ${self.username}. Enter your next message:`", "string");
}
void BM_ExprStringMethods(benchmark::State& s) {
  expression_bench(s, "(check string:fromBytes(data)).trim().toUpperAscii().length()", "int");
}
BENCHMARK(BM_ExprArithmetic);
BENCHMARK(BM_ExprTemplate);
BENCHMARK(BM_ExprStringMethods);

void BM_LoadChatFlow(benchmark::State& state) {
  std::string text = chat_flow();
  for (auto _ : state) {
    LoadResult r = load_flow_text(text, "chat.json", builtin_registry());
    benchmark::DoNotOptimize(r.program);
  }
}
BENCHMARK(BM_LoadChatFlow);

// A generated flow of N nodes (VARIABLE / IF / log), as `flowd check` of a large flow sees it.
std::string generated_flow(int nodes) {
  nlohmann::json flow = nlohmann::json::parse(chat_flow());
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < nodes / 2; ++i) {
    list.push_back({{"node", "VARIABLE"}, {"variable", "v" + std::to_string(i)}, {"type", "int"},
                    {"expression", "data.length() + " + std::to_string(i)}});
    list.push_back({{"node", "IF"},
                    {"branches", {{{"condition", "v" + std::to_string(i) + " > 100"}, {"children", nlohmann::json::array()}}}}});
  }
  flow["classes"][0]["methods"]["onBytes"]["nodes"] = list;
  return flow.dump(1);
}

void BM_LoadGeneratedFlow(benchmark::State& state) {
  std::string text = generated_flow(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    LoadResult r = load_flow_text(text, "big.json", builtin_registry());
    if (!r.ok()) state.SkipWithError("the generated flow does not load");
    benchmark::DoNotOptimize(r.program);
  }
  state.SetLabel(std::to_string(state.range(0)) + " nodes");
}
BENCHMARK(BM_LoadGeneratedFlow)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
