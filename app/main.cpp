// flowd command line: `flowd run FLOW`, `flowd check FLOW`, `flowd nodes`, `flowd schema`, --help, --version.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "flow/loader.hpp"
#include "flow/node_kind.hpp"
#include "flow/node_reference.hpp"
#include "net/engine.hpp"
#include "runtime/disassembler.hpp"
#include "version.hpp"

namespace {

using namespace flowd;

constexpr int kExitOk = 0;
constexpr int kExitFlowError = 1;
constexpr int kExitUsage = 2;

const char* kUsage = R"(flowd - a low-code flow interpreter for TCP services (Ballerina's tcp model)

Usage:
  flowd run FLOW [-Cname=value ...] [options]   load, check and serve a flow
  flowd check FLOW...                           report every error in the flows, serve nothing
  flowd check --disassemble FLOW...             and print each function's bytecode, with its nodes
  flowd nodes [--format=table|json]             every node kind: group, fields and help
  flowd schema                                  the JSON Schema of flow files (flows/flow.schema.json)
  flowd --help                                  this text
  flowd --version                               the version

Options of run:
  -Cname=value            set a configurable of the flow (e.g. -Cport=4000); the environment
                          variable BAL_CONFIG_VAR_NAME takes precedence, as in Ballerina
  --log-level=LEVEL       debug, info (default), warn or error
  --log-format=FORMAT     logfmt (default, Ballerina's format) or json
  --log-file=PATH         append log lines to PATH instead of stderr
  --threads=N             event-loop threads (default 0: one per CPU this process may use)
  --step-budget=N         evaluation steps one event may take (default 1000000)
  --drain-grace=SECONDS   on SIGINT/SIGTERM, how long connections get to close (default 5)
  --max-output-total=BYTES  output queued for all clients together beyond which the clients with
                          the most queued output are cut first (suffix K, M or G; default 1/8 of
                          physical memory, between 64M and 4G)

Exit status: 0 success (and after SIGINT/SIGTERM), 1 the flow has errors or cannot be served,
2 wrong usage.
)";

// A start-up error, in the one format of them all: "flowd: SUBJECT: message" on stderr (the subject
// is the option as given, -Cport=70000, or the part of the flow), and in the log file if there is one.
void startup_error(const std::string& msg, Logger* logger, const LogConfig& log) {
  std::fprintf(stderr, "flowd: %s\n", msg.c_str());
  if (logger && !log.file.empty()) {
    logger->write(LogLevel::Error, "flowd", msg);
    logger->flush();
  }
}

// A file that the flow's own directory has a script to make (examples/tls-chat/make-cert.sh): say so.
std::string missing_file_hint(const std::string& error, const std::string& flow) {
  if (error.find("No such file or directory") == std::string::npos) return "";
  std::filesystem::path script = std::filesystem::path(flow).parent_path() / "make-cert.sh";
  std::error_code ec;
  if (!std::filesystem::exists(script, ec)) return "";
  return "; make the certificate and key with " + script.string();
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "flowd: %s\nTry 'flowd --help'.\n", msg.c_str());
  return kExitUsage;
}

std::string summary(const Program& p) {
  int handlers = static_cast<int>(p.services.size());
  for (const auto& c : p.classes)
    handlers += (c.on_bytes != nullptr) + (c.on_close != nullptr) + (c.on_error != nullptr);
  auto plural = [](std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  return plural(p.listeners.size(), "listener", "listeners") + ", " +
         plural(p.services.size(), "service", "services") + ", " + plural(p.classes.size(), "class", "classes") +
         ", " + plural(static_cast<std::size_t>(handlers), "handler", "handlers") + ", " +
         plural(static_cast<std::size_t>(p.node_count), "node", "nodes");
}

// Loads and reports; returns the result (ok() tells whether it may run).
LoadResult load_and_report(const std::string& path, bool quiet_when_ok) {
  LoadResult r = load_flow_file(path, builtin_registry());
  if (!r.diags.list().empty()) std::fputs(r.diags.format(path).c_str(), stderr);
  if (!r.ok()) {
    int n = r.diags.error_count();
    std::fprintf(stderr, "%s: %d error%s\n", path.c_str(), n, n == 1 ? "" : "s");
  } else if (!quiet_when_ok) {
    int w = r.diags.warning_count();
    std::printf("%s: ok (%s%s)\n", path.c_str(), summary(*r.program).c_str(),
                w ? (", " + std::to_string(w) + (w == 1 ? " warning" : " warnings")).c_str() : "");
  }
  return r;
}

int cmd_check(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error("check needs a flow file");
  int status = kExitOk;
  bool disassembly = false;
  for (const auto& a : args) {
    if (a == "--disassemble") disassembly = true;
    else if (a.rfind("-", 0) == 0) return usage_error("unknown option for check: " + a);
  }
  if (disassembly && args.size() == 1) return usage_error("check needs a flow file");
  for (const auto& a : args) {
    if (a == "--disassemble") continue;
    LoadResult r = load_and_report(a, false);
    if (!r.ok()) status = kExitFlowError;
    else if (disassembly) std::printf("\n%s", disassemble(*r.program).c_str());
  }
  std::fflush(stdout);
  return status;
}

int cmd_nodes(const std::vector<std::string>& args) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "--format=json") json = true;
    else if (a != "--format=table") return usage_error("nodes takes --format=table (the default) or --format=json, not " + a);
  }
  if (json) std::printf("%s\n", node_reference_json(builtin_registry()).dump(2).c_str());
  else std::fputs(node_reference_table(builtin_registry()).c_str(), stdout);
  return kExitOk;
}

int cmd_schema(const std::vector<std::string>& args) {
  if (!args.empty()) return usage_error("schema takes no arguments: flowd schema > flows/flow.schema.json");
  std::fputs(flow_schema(builtin_registry()).c_str(), stdout);
  return kExitOk;
}

bool take_value(const std::string& arg, const char* name, std::string& out) {
  std::string prefix = std::string(name) + "=";
  if (arg.rfind(prefix, 0) != 0) return false;
  out = arg.substr(prefix.size());
  return true;
}

int cmd_run(const std::vector<std::string>& args) {
  std::string flow;
  std::vector<ConfigOverride> overrides;
  LogConfig log;
  EngineOptions options;
  options.threads = 0;
  for (const auto& a : args) {
    std::string v;
    if (a.rfind("-C", 0) == 0) {
      auto eq = a.find('=');
      if (eq == std::string::npos || eq == 2) return usage_error("a configurable is given as -Cname=value, not " + a);
      overrides.push_back({a.substr(2, eq - 2), a.substr(eq + 1), a});
    } else if (take_value(a, "--log-level", v)) {
      if (!parse_log_level(v, log.level)) return usage_error("--log-level is debug, info, warn or error, not " + v);
    } else if (take_value(a, "--log-format", v)) {
      if (!parse_log_format(v, log.format)) return usage_error("--log-format is logfmt or json, not " + v);
    } else if (take_value(a, "--log-file", v)) {
      log.file = v;
    } else if (take_value(a, "--threads", v)) {
      try {
        options.threads = std::stoi(v);
      } catch (...) {
        return usage_error("--threads needs a number");
      }
      if (options.threads < 0 || options.threads > 256) return usage_error("--threads is 0 (one per CPU) to 256");
    } else if (take_value(a, "--step-budget", v)) {
      try {
        options.step_budget = std::stoll(v);
      } catch (...) {
        return usage_error("--step-budget needs a number");
      }
      if (options.step_budget <= 0) return usage_error("--step-budget must be positive");
    } else if (take_value(a, "--drain-grace", v)) {
      try {
        options.drain_grace = std::chrono::milliseconds(static_cast<long long>(std::stod(v) * 1000));
      } catch (...) {
        return usage_error("--drain-grace needs a number of seconds");
      }
    } else if (take_value(a, "--max-output-total", v)) {
      std::size_t pos = 0;
      unsigned long long n = 0;
      try {
        n = std::stoull(v, &pos);
      } catch (...) {
        return usage_error("--max-output-total needs a number of bytes (suffix K, M or G)");
      }
      std::string unit = v.substr(pos);
      int shift = unit.empty() ? 0 : unit == "K" || unit == "k" ? 10 : unit == "M" || unit == "m" ? 20 : unit == "G" || unit == "g" ? 30 : -1;
      if (shift < 0 || n == 0 || n > (1ULL << 50) >> shift)
        return usage_error("--max-output-total is a positive number of bytes (suffix K, M or G), not " + v);
      options.max_output_total = static_cast<std::size_t>(n << shift);
    } else if (a.rfind("-", 0) == 0) {
      return usage_error("unknown option: " + a);
    } else if (flow.empty()) {
      flow = a;
    } else {
      return usage_error("run takes one flow file (got " + flow + " and " + a + ")");
    }
  }
  if (flow.empty()) return usage_error("run needs a flow file: flowd run flows/chat.json");
  LoadResult r = load_and_report(flow, true);
  if (!r.ok()) {
    std::fprintf(stderr, "flowd: not serving %s: fix the errors above (flowd check %s)\n", flow.c_str(), flow.c_str());
    return kExitFlowError;
  }
  std::unique_ptr<Logger> logger;
  try {
    logger = std::make_unique<Logger>(log);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowd: --log-file=%s: cannot open the log file: %s\n", log.file.c_str(), e.what());
    return kExitFlowError;
  }
  Engine engine(*r.program, *logger, options);
  std::vector<std::string> errors;
  if (!engine.configure(overrides, errors)) {
    for (const auto& e : errors) startup_error(e, logger.get(), log);
    return kExitFlowError;
  }
  std::string error;
  if (!engine.listen(error)) {
    startup_error(error + missing_file_hint(error, flow), logger.get(), log);
    return kExitFlowError;
  }
  return engine.run();
}

}  // namespace

int main(int argc, char** argv) {
  // A peer that leaves must never kill the server: every write then fails with EPIPE instead (the
  // engine's own sends use MSG_NOSIGNAL as well; this also covers the log pipe and any library).
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  const std::string& cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "version") {
    std::printf("flowd %s\n", FLOWD_VERSION);
    return kExitOk;
  }
  try {
    if (cmd == "run") return cmd_run(rest);
    if (cmd == "check") return cmd_check(rest);
    if (cmd == "nodes") return cmd_nodes(rest);
    if (cmd == "schema") return cmd_schema(rest);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowd: internal error: %s\n", e.what());
    return kExitFlowError;
  }
  return usage_error("unknown command '" + cmd + "'");
}
