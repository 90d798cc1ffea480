#include "net/engine.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <cstdlib>
#include <random>
#include <sched.h>
#include <thread>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "net/listener.hpp"
#include "net/session.hpp"

namespace flowd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// Default address when a listener does not give localHost: loopback only, as Redis does. Ballerina
// binds every interface; expose on purpose with localHost "0.0.0.0" (or -Chost=0.0.0.0 for chat.json).
constexpr const char* kDefaultHost = "127.0.0.1";

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
}  // namespace

Engine::Engine(const Program& program, Logger& logger, EngineOptions options)
    : program_(program), logger_(logger), options_(options) {
  globals_.resize(program_.globals.size());
  int threads = options_.threads > 0 ? options_.threads : default_thread_count();
  for (int i = 0; i < threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    w->interpreter = std::make_unique<Interpreter>(program_, globals_, *this);
    w->interpreter->step_budget = options_.step_budget;
    workers_.push_back(std::move(w));
  }
  // Module-level state is shared: with several threads, its handlers run one at a time.
  module_lock_needed_ = threads > 1 && program_.has_module_state;
  std::random_device rd;
  id_base_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

Engine::~Engine() = default;

int default_thread_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

Worker& Engine::next_worker() { return *workers_[next_worker_.fetch_add(1, std::memory_order_relaxed) % workers_.size()]; }

std::string Engine::next_connection_id() {
  // Unique per process and unpredictable across runs, like Netty's channel ids.
  std::uint64_t v = id_base_ + (connection_serial_.fetch_add(1) + 1) * 0x9E3779B97F4A7C15ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool Engine::configure(const std::vector<ConfigOverride>& overrides, std::vector<std::string>& errors) {
  for (const auto& o : overrides) {
    bool known = false;
    for (const auto& g : program_.globals) known = known || (g.configurable && g.name == o.name);
    if (!known) {
      std::string list;
      for (const auto& g : program_.globals)
        if (g.configurable) list += (list.empty() ? "" : ", ") + g.name;
      errors.push_back(o.source + ": the flow has no configurable '" + o.name + "'" +
                       (list.empty() ? " (it has none)" : " (it has: " + list + ")"));
    }
  }
  Fiber fiber;
  for (std::size_t i = 0; i < program_.globals.size(); ++i) {
    const GlobalInfo& g = program_.globals[i];
    if (!g.configurable) continue;
    const std::string* given = nullptr;
    std::string source;
    std::string env_value;
    if (const char* e = std::getenv(env_name(g.name).c_str())) {
      env_value = e;
      given = &env_value;
      source = env_name(g.name);
    } else {
      for (const auto& o : overrides)
        if (o.name == g.name) {
          given = &o.value;
          source = o.source;
        }
    }
    if (given) {
      std::string why;
      if (!parse_config_value(*given, g.type, globals_[i], why))
        errors.push_back(source + ": configurable '" + g.name + "' is " + g.type->name + ": " + why);
      continue;
    }
    if (!g.init) {
      errors.push_back("configurable '" + g.name + "' has no default: give it with -C" + g.name + "=VALUE");
      continue;
    }
    RunOutcome r = workers_[0]->interpreter->call(fiber, *g.init, nullptr, 0);
    if (r.panicked) errors.push_back("configurable '" + g.name + "': " + r.panic_message);
    else globals_[i] = std::move(r.value);
  }
  // Module-level variables, in order (their initializers may use the configurables).
  if (errors.empty()) {
    for (std::size_t i = 0; i < program_.globals.size(); ++i) {
      const GlobalInfo& g = program_.globals[i];
      if (g.configurable || !g.init) continue;
      RunOutcome r = workers_[0]->interpreter->call(fiber, *g.init, nullptr, 0);
      if (r.panicked) errors.push_back("module variable '" + g.name + "': " + r.panic_message);
      else globals_[i] = std::move(r.value);
    }
  }
  return errors.empty();
}

bool Engine::listen(std::string& error) {
  Fiber fiber;
  Interpreter& interp = *workers_[0]->interpreter;
  for (std::size_t i = 0; i < program_.services.size(); ++i) {
    const ServiceInfo& svc = program_.services[i];
    const ListenerInfo& li = program_.listeners[static_cast<std::size_t>(svc.listener)];
    RunOutcome port = interp.call(fiber, *li.port, nullptr, 0);
    if (port.panicked) {
      error = "listener " + li.name + ": port: " + port.panic_message;
      return false;
    }
    std::int64_t p = port.value.as_int();
    if (p < 0 || p > 65535) {
      error = "listener " + li.name + ": port " + std::to_string(p) + " is not between 0 and 65535";
      return false;
    }
    std::string host = kDefaultHost;
    if (li.host) {
      RunOutcome h = interp.call(fiber, *li.host, nullptr, 0);
      if (h.panicked) {
        error = "listener " + li.name + ": localHost: " + h.panic_message;
        return false;
      }
      host = h.value.str().empty() ? "0.0.0.0" : h.value.str();
    }
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) {
      tcp::resolver resolver(workers_[0]->io);
      auto results = resolver.resolve(host, std::to_string(p), ec);
      if (ec || results.empty()) {
        error = "listener " + li.name + ": cannot resolve localHost '" + host + "': " + ec.message();
        return false;
      }
      addr = results.begin()->endpoint().address();
    }
    ListenerSettings settings;
    settings.name = li.name;
    settings.service = &svc;
    settings.framing = li.framing;
    // Each optional setting: an int > 0, or seconds >= 0 (0 turns a timeout off).
    auto count = [&](const Function* fn, const char* key, std::size_t& out) {
      if (!fn) return true;
      RunOutcome m = interp.call(fiber, *fn, nullptr, 0);
      if (m.panicked || m.value.as_int() < 1) {
        error = "listener " + li.name + ": " + key + " must be a positive int";
        return false;
      }
      out = static_cast<std::size_t>(m.value.as_int());
      return true;
    };
    auto seconds = [&](const Function* fn, const char* key, std::chrono::milliseconds& out) {
      if (!fn) return true;
      RunOutcome m = interp.call(fiber, *fn, nullptr, 0);
      double v = m.panicked ? -1 : m.value.as_float();
      if (!(v >= 0) || v > 1e9) {
        error = "listener " + li.name + ": " + key + " must be a number of seconds, 0 or more";
        return false;
      }
      out = std::chrono::milliseconds(static_cast<long long>(v * 1000));
      return true;
    };
    if (!count(li.max_line_length, "maxLineLength", settings.max_line) ||
        !count(li.max_connections, "maxConnections", settings.max_connections) ||
        !count(li.max_output_bytes, "maxOutputBytes", settings.max_output_bytes) ||
        !seconds(li.idle_timeout, "idleTimeout", settings.idle_timeout) ||
        !seconds(li.line_timeout, "lineTimeout", settings.line_timeout))
      return false;
    if (settings.idle_timeout.count() > 0 || (settings.framing == Framing::Line && settings.line_timeout.count() > 0))
      need_sweep_ = true;
    auto l = std::make_unique<Listener>(*this, *workers_[0], std::move(settings));
    if (!l->open(tcp::endpoint(addr, static_cast<unsigned short>(p)), error)) return false;
    auto ep = l->local_endpoint();
    std::string where = ep.address().to_string() + ":" + std::to_string(ep.port());
    logger_.write(LogLevel::Info, "flowd", "listening on " + where,
                  {{"listener", li.name}, {"flow", program_.file}});
    listeners_.push_back(std::move(l));
  }
  return true;
}

std::vector<tcp::endpoint> Engine::endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& l : listeners_) out.push_back(l->local_endpoint());
  return out;
}

void Engine::session_opened(Worker& w, Session* s) {
  w.sessions.insert(s);
  ++open_sessions_;
}

void Engine::session_closed(Worker& w, Session* s) {
  w.sessions.erase(s);
  if (--open_sessions_ == 0 && draining_) asio::post(workers_[0]->io, [this] { finish_drain(); });
}

void Engine::log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
                 const Value* values, int count) {
  logger_.write_values(level, program_.module, msg, error, keys, values, count);
}

int Engine::run() {
  Worker& w0 = *workers_[0];
  if (options_.handle_signals) {
    signals_ = std::make_unique<asio::signal_set>(w0.io, SIGINT, SIGTERM);
    signals_->async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      begin_drain(sig == SIGINT ? "SIGINT" : "SIGTERM");
    });
  }
  for (auto& l : listeners_) l->start();
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& w : workers_) {
    guards.push_back(asio::make_work_guard(w->io));
    if (need_sweep_) {
      w->sweep_timer = std::make_unique<asio::steady_timer>(w->io);
      sweep(*w);
    }
  }
  auto serve = [this](Worker& w) {
    for (;;) {
      try {
        w.io.run();
        break;
      } catch (const std::exception& e) {
        // A bug must not take every connection down: log it and keep serving.
        logger_.write(LogLevel::Error, "flowd", "internal error (please report it)", {{"error", e.what()}});
      }
    }
  };
  std::vector<std::thread> threads;
  if (workers_.size() > 1) g_values_shared_across_threads.store(true);
  for (std::size_t i = 1; i < workers_.size(); ++i) threads.emplace_back(serve, std::ref(*workers_[i]));
  serve(w0);
  for (auto& t : threads) t.join();
  logger_.flush();
  return 0;
}

void Engine::request_stop() {
  asio::post(workers_[0]->io, [this] { begin_drain("stop requested"); });
}

// Timeouts are checked by a sweep over each worker's connections a few times a second, instead of
// a timer per connection that every read would have to re-arm.
void Engine::sweep(Worker& w) {
  w.sweep_timer->expires_after(kSweepInterval);
  w.sweep_timer->async_wait([this, &w](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Session>> live;
    live.reserve(w.sessions.size());
    for (Session* s : w.sessions) live.push_back(s->shared_from_this());
    for (auto& s : live) s->check_timeouts(now);
    sweep(w);
  });
}

// Runs on worker 0. Each worker drains its own connections on its own thread.
void Engine::begin_drain(const char* why) {
  if (draining_) {
    // A second signal: stop at once.
    logger_.write(LogLevel::Warn, "flowd", "stopping now", {{"signal", why}});
    abort_all();
    return;
  }
  draining_ = true;
  logger_.write(LogLevel::Info, "flowd", "stopping: closing connections",
                {{"signal", why}, {"connections", std::to_string(open_sessions_.load()), false}});
  for (auto& l : listeners_) l->stop();
  if (signals_) {
    signals_->async_wait([this](const boost::system::error_code& ec, int sig) {
      if (!ec) begin_drain(sig == SIGINT ? "SIGINT" : "SIGTERM");
    });
  }
  drain_timer_ = std::make_unique<asio::steady_timer>(workers_[0]->io, options_.drain_grace);
  drain_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    logger_.write(LogLevel::Warn, "flowd", "grace period over: closing the remaining connections",
                  {{"connections", std::to_string(open_sessions_.load()), false}});
    abort_all();
  });
  for (auto& w : workers_) {
    asio::post(w->io, [&w = *w] {
      // Keep each session alive while it drains (its own handlers hold it too).
      std::vector<std::shared_ptr<Session>> live;
      for (Session* s : w.sessions) live.push_back(s->shared_from_this());
      for (auto& s : live) s->drain();
    });
  }
  if (open_sessions_ == 0) finish_drain();
}

void Engine::abort_all() {
  // Each worker closes its own connections; the last one to finish ends the drain.
  auto pending = std::make_shared<std::atomic<std::size_t>>(workers_.size());
  for (auto& w : workers_) {
    asio::post(w->io, [this, &w = *w, pending] {
      for (Session* s : std::vector<Session*>(w.sessions.begin(), w.sessions.end())) s->abort();
      if (--*pending == 0) asio::post(workers_[0]->io, [this] { finish_drain(); });
    });
  }
}

void Engine::finish_drain() {
  if (stopped_.exchange(true)) return;
  if (drain_timer_) drain_timer_->cancel();
  if (signals_) {
    boost::system::error_code ec;
    signals_->cancel(ec);
  }
  logger_.write(LogLevel::Info, "flowd", "stopped");
  for (auto& w : workers_) {
    if (w->sweep_timer) asio::post(w->io, [&w = *w] { w.sweep_timer->cancel(); });
    w->io.stop();
  }
}

}  // namespace flowd
