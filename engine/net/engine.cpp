#include "net/engine.hpp"

#include <boost/asio/ip/address.hpp>
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <malloc.h>
#include <unistd.h>
#include <random>
#include <sched.h>
#include <thread>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "net/client.hpp"
#include "net/listener.hpp"
#include "net/session.hpp"
#include "runtime/log_values.hpp"

namespace flowd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// The worker whose thread this is (handlers call the engine through the interpreter).
thread_local Worker* t_worker = nullptr;

// After the queued output of all connections has dropped this far below its peak, freed memory is
// handed back to the system (glibc keeps it otherwise: RSS stayed at its peak after a fan-out).
constexpr std::size_t kTrimAfterDrop = 8 * 1024 * 1024;
// Or after this many connections closed since the last trim.
constexpr std::size_t kTrimAfterClosed = 1000;
// How often the count of clients that reset or dropped their connection is logged (when not zero).
constexpr std::chrono::seconds kResetReportInterval{60};

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
  max_output_total_ = options_.max_output_total > 0 ? options_.max_output_total : default_max_output_total();
  globals_.resize(program_.globals.size());
  given_as_.resize(program_.globals.size());
  int threads = options_.threads > 0 ? options_.threads : default_thread_count();
  // A shared tcp:Client lives on one event loop; such flows are served by one thread.
  if (program_.shares_clients && threads > 1) {
    if (options_.threads > 1)
      logger_.write(LogLevel::Info, "flowd", "serving on one thread: the flow shares tcp:Client connections between its connections",
                    {{"threads", std::to_string(options_.threads), false}});
    threads = 1;
  }
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

Engine::~Engine() {
  if (signal_thread_.joinable()) {
    signal_io_->stop();
    signal_thread_.join();
  }
}

std::size_t default_max_output_total() {
  constexpr std::size_t kMin = std::size_t{64} << 20, kMax = std::size_t{4} << 30;
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return std::size_t{1} << 30;
  std::size_t eighth = static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 8;
  return std::clamp(eighth, kMin, kMax);
}

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
  t_worker = workers_[0].get();
  for (std::size_t i = 0; i < program_.globals.size(); ++i) {
    const GlobalInfo& g = program_.globals[i];
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
      given_as_[i] = source;
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
      RunOutcome r = run_at_start(fiber, *g.init);
      const char* what = g.connection ? "connection '" : "module variable '";
      if (r.panicked) errors.push_back(what + g.name + "': " + r.panic_message);
      else if (g.connection && r.value.is_error()) errors.push_back(what + g.name + "': " + r.value.as<ErrorObj>()->message);
      else globals_[i] = std::move(r.value);
      if (g.connection && !r.panicked && !r.value.is_error())
        logger_.write(LogLevel::Info, "flowd", "connected", {{"connection", g.name}, {"to", r.value.as<ClientObj>()->link->describe()}});
    }
  }
  return errors.empty();
}

std::string Engine::given_as(const Function* setting) const {
  if (!setting || setting->reads_configurable < 0) return "";
  const std::string& source = given_as_[static_cast<std::size_t>(setting->reads_configurable)];
  return source.empty() ? "" : source + ": ";
}

RunOutcome Engine::run_at_start(Fiber& fiber, const Function& fn) {
  Worker& w = *workers_[0];
  w.may_suspend = true;
  RunOutcome r = w.interpreter->call(fiber, fn, nullptr, 0);
  while (r.suspended) {
    w.startup_done = false;
    while (!w.startup_done && w.io.run_one() > 0) {
    }
    w.io.restart();
    if (!w.startup_done) {
      r = RunOutcome();
      r.panicked = true;
      r.panic_message = "the connection never completed";
      break;
    }
    r = w.interpreter->resume(fiber, std::move(w.startup_result));
  }
  w.may_suspend = false;
  return r;
}

std::shared_ptr<asio::ssl::context> Engine::client_tls(const TlsSettings& s, std::string& error) {
  std::string key = s.cert_file + '\n' + std::to_string(s.session_timeout.count());
  for (const auto& v : s.versions) key += '\n' + v;
  key += "\n--";
  for (const auto& c : s.ciphers) key += '\n' + c;
  std::lock_guard<std::mutex> guard(client_tls_lock_);
  auto it = client_tls_.find(key);
  if (it != client_tls_.end()) return it->second;
  auto ctx = make_client_tls(s, error);
  if (ctx) client_tls_.emplace(key, ctx);
  return ctx;
}

namespace {
std::vector<std::string> string_list(const Value& v) {
  std::vector<std::string> out;
  if (v.tag() == ValueTag::Array)
    for (const Value& e : v.as<ArrayObj>()->items) out.emplace_back(e.str());
  return out;
}

// Seconds given as a float setting; false when negative or absurd.
bool to_ms(const Value& v, std::chrono::milliseconds& out) {
  if (v.is_nil()) return true;
  double d = v.as_float();
  if (!(d >= 0) || d > 1e9) return false;
  out = std::chrono::milliseconds(static_cast<long long>(d * 1000));
  return true;
}

Client::Done resumer(Worker& w) {
  if (w.running) {
    // The callback keeps the connection alive while its handler waits: nothing else may hold it
    // then. Every wait ends (each has a timeout, and closing a client ends its waits).
    return [s = w.running->shared_from_this()](Value v) { s->resume(std::move(v)); };
  }
  return [&w](Value v) {
    w.startup_result = std::move(v);
    w.startup_done = true;
  };
}
}  // namespace

bool Engine::client_action(Fiber&, ActionId id, Value* args, int, Value& result) {
  auto* client = static_cast<Client*>(args[0].as<ClientObj>()->link.get());
  Worker& w = *t_worker;
  switch (id) {
    case ActionId::ClientWrite:
      if (client->write(args[1], w.may_suspend, result, resumer(w))) return true;
      break;
    case ActionId::ClientRead:
      if (client->read(w.may_suspend, result, resumer(w))) return true;
      break;
    case ActionId::ClientClose: client->close(); return true;
    default: return true;
  }
  if (w.running) w.running->waits_on(args[0].as<ClientObj>()->link);
  return false;
}

bool Engine::lock_acquire(Fiber&) {
  Worker& w = *t_worker;
  if (!w.running) return true;
  std::lock_guard<std::mutex> guard(flow_lock_mutex_);
  if (!flow_lock_owner_ || flow_lock_owner_ == w.running) {
    flow_lock_owner_ = w.running;
    return true;
  }
  // onClose and onError cannot wait: they go ahead (the holder is itself waiting on the network).
  if (!w.may_suspend) return true;
  flow_lock_waiters_.push_back({&w, w.running, resumer(w)});
  return false;
}

void Engine::lock_release(Fiber&) {
  Worker& w = *t_worker;
  std::lock_guard<std::mutex> guard(flow_lock_mutex_);
  if (flow_lock_owner_ != w.running) return;
  flow_lock_owner_ = nullptr;
  grant_lock_locked();
}

void Engine::lock_forget(Session* s) {
  std::lock_guard<std::mutex> guard(flow_lock_mutex_);
  for (auto it = flow_lock_waiters_.begin(); it != flow_lock_waiters_.end();) {
    if (it->session == s) it = flow_lock_waiters_.erase(it);
    else ++it;
  }
  if (flow_lock_owner_ == s) {
    flow_lock_owner_ = nullptr;
    grant_lock_locked();
  }
}

// The next waiter becomes the owner and is resumed on its own thread.
void Engine::grant_lock_locked() {
  if (flow_lock_waiters_.empty()) return;
  LockWaiter next = std::move(flow_lock_waiters_.front());
  flow_lock_waiters_.pop_front();
  flow_lock_owner_ = next.session;
  asio::post(next.worker->io, [resume = std::move(next.resume)] { resume(Value()); });
}

bool Engine::connect(Fiber&, Value* args, Value& result) {
  Worker& w = *t_worker;
  auto arg = [&](ConnectArg a) -> Value& { return args[static_cast<int>(a)]; };
  ClientParams p;
  p.host = arg(ConnectArg::RemoteHost).str();
  std::int64_t port = arg(ConnectArg::RemotePort).as_int();
  std::string where = p.host + ":" + std::to_string(port);
  if (port < 1 || port > 65535) {
    result = make_error("cannot connect to " + where + ": the port is not between 1 and 65535");
    return true;
  }
  p.port = static_cast<int>(port);
  if (!to_ms(arg(ConnectArg::Timeout), p.timeout) || !to_ms(arg(ConnectArg::WriteTimeout), p.write_timeout)) {
    result = make_error("cannot connect to " + where + ": timeout and writeTimeout are seconds, 0 or more");
    return true;
  }
  if (arg(ConnectArg::Secure).as_bool()) {
    TlsSettings t;
    if (!arg(ConnectArg::Cert).is_nil()) t.cert_file = arg(ConnectArg::Cert).str();
    t.versions = string_list(arg(ConnectArg::Versions));
    t.ciphers = string_list(arg(ConnectArg::Ciphers));
    if (!to_ms(arg(ConnectArg::HandshakeTimeout), p.handshake_timeout) ||
        !to_ms(arg(ConnectArg::SessionTimeout), t.session_timeout)) {
      result = make_error("cannot connect to " + where + ": handshakeTimeout and sessionTimeout are seconds, 0 or more");
      return true;
    }
    p.verify_host = arg(ConnectArg::VerifyHostName).is_nil() || arg(ConnectArg::VerifyHostName).as_bool();
    std::string error;
    p.tls = client_tls(t, error);
    if (!p.tls) {
      result = make_error("cannot connect to " + where + ": secureSocket " + error);
      return true;
    }
  }
  if (!w.may_suspend) {
    result = make_error("cannot connect to " + where + ": a NEW_CONNECTION cannot wait in onClose or onError");
    return true;
  }
  auto client = Client::connect(w.io, std::move(p), resumer(w));
  if (w.running) w.running->waits_on(client);
  return false;
}

namespace {
// Evaluates a listener's secureSocket and makes its TLS context; errors name the setting and file.
bool tls_settings(Interpreter& interp, Fiber& fiber, const ListenerInfo& li, ListenerSettings& settings,
                  std::string& error) {
  const TlsSpec& spec = li.tls;
  std::string where = "listener " + li.name + ": secureSocket: ";
  auto eval = [&](const Function* fn, const char* key, Value& out) {
    if (!fn) return true;
    RunOutcome r = interp.call(fiber, *fn, nullptr, 0);
    if (r.panicked) {
      error = where + key + ": " + r.panic_message;
      return false;
    }
    out = std::move(r.value);
    return true;
  };
  TlsSettings t;
  Value cert, key, password, versions, ciphers, handshake, session;
  if (!eval(spec.cert_file, "certFile", cert) || !eval(spec.key_file, "keyFile", key) ||
      !eval(spec.key_password, "keyPassword", password) || !eval(spec.versions, "versions", versions) ||
      !eval(spec.ciphers, "ciphers", ciphers) || !eval(spec.handshake_timeout, "handshakeTimeout", handshake) ||
      !eval(spec.session_timeout, "sessionTimeout", session))
    return false;
  if (!cert.is_nil()) t.cert_file = cert.str();
  if (!key.is_nil()) t.key_file = key.str();
  if (!password.is_nil()) t.key_password = password.str();
  t.versions = spec.versions ? string_list(versions) : spec.versions_list;
  t.ciphers = spec.ciphers ? string_list(ciphers) : spec.ciphers_list;
  if (!to_ms(handshake, settings.handshake_timeout) || !to_ms(session, t.session_timeout)) {
    error = where + "handshakeTimeout and sessionTimeout are seconds, 0 or more";
    return false;
  }
  // 0 turns the handshake timeout off in Ballerina; here it would let a stalled client hold a
  // connection forever, so 0 means the default.
  if (settings.handshake_timeout.count() == 0) settings.handshake_timeout = kDefaultHandshakeTimeout;
  settings.tls = make_server_tls(t, error);
  if (!settings.tls) {
    error = where + error;
    return false;
  }
  return true;
}
}  // namespace

bool Engine::listen(std::string& error) {
  Fiber fiber;
  Interpreter& interp = *workers_[0]->interpreter;
  for (std::size_t i = 0; i < program_.services.size(); ++i) {
    const ServiceInfo& svc = program_.services[i];
    const ListenerInfo& li = program_.listeners[static_cast<std::size_t>(svc.listener)];
    RunOutcome port = interp.call(fiber, *li.port, nullptr, 0);
    if (port.panicked) {
      error = given_as(li.port) + "listener " + li.name + ": port: " + port.panic_message;
      return false;
    }
    std::int64_t p = port.value.as_int();
    if (p < 0 || p > 65535) {
      error = given_as(li.port) + "listener " + li.name + ": port " + std::to_string(p) + " is not between 0 and 65535";
      return false;
    }
    std::string host = kDefaultHost;
    if (li.host) {
      RunOutcome h = interp.call(fiber, *li.host, nullptr, 0);
      if (h.panicked) {
        error = given_as(li.host) + "listener " + li.name + ": localHost: " + h.panic_message;
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
        error = given_as(li.host) + "listener " + li.name + ": cannot resolve localHost '" + host + "': " + ec.message();
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
        error = given_as(fn) + "listener " + li.name + ": " + key + " must be a positive int";
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
        error = given_as(fn) + "listener " + li.name + ": " + key + " must be a number of seconds, 0 or more";
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
    if (li.secure && !tls_settings(interp, fiber, li, settings, error)) return false;
    if (settings.idle_timeout.count() > 0 || (settings.framing == Framing::Line && settings.line_timeout.count() > 0) ||
        settings.tls)
      need_sweep_ = true;
    auto l = std::make_unique<Listener>(*this, *workers_[0], std::move(settings));
    if (auto bind_ec = l->open(tcp::endpoint(addr, static_cast<unsigned short>(p)))) {
      std::string at = addr.to_string() + ":" + std::to_string(p);
      int g = li.port->reads_configurable;
      std::string other = g >= 0 ? "-C" + program_.globals[static_cast<std::size_t>(g)].name + "=N"
                                 : "the listener's \"port\"";
      error = given_as(li.port) + "listener " + li.name + ": ";
      if (bind_ec == boost::asio::error::address_in_use)
        error += "address " + at + " is in use (another flowd?); choose another port with " + other;
      else if (bind_ec == boost::asio::error::access_denied)
        error += "cannot listen on " + at + ": " + bind_ec.message() + " (ports below 1024 need privileges); choose another port with " + other;
      else
        error += "cannot listen on " + at + ": " + bind_ec.message();
      return false;
    }
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
  closed_since_trim_.fetch_add(1, std::memory_order_relaxed);
  if (--open_sessions_ == 0 && draining_) asio::post(workers_[0]->io, [this] { finish_drain(); });
}

void Engine::log(LogLevel level, const Value& msg, const Value& error, const std::vector<std::string>& keys,
                 const Value* values, int count) {
  write_log_values(logger_, level, program_.module, msg, error, keys, values, count);
}

int Engine::run() {
  Worker& w0 = *workers_[0];
  if (options_.handle_signals) {
    signal_io_ = std::make_unique<asio::io_context>(1);
    signals_ = std::make_unique<asio::signal_set>(*signal_io_, SIGINT, SIGTERM);
    wait_signal();
    signal_thread_ = std::thread([this] { signal_io_->run(); });
  }
  for (auto& l : listeners_) l->start();
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  last_reset_report_ = std::chrono::steady_clock::now();
  for (auto& w : workers_) {
    guards.push_back(asio::make_work_guard(w->io));
    // Worker 0 always sweeps: it gives memory back and summarises resets.
    if (need_sweep_ || w->index == 0) {
      w->sweep_timer = std::make_unique<asio::steady_timer>(w->io);
      sweep(*w);
    }
  }
  auto serve = [this](Worker& w) {
    t_worker = &w;
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
  if (signal_thread_.joinable()) {
    signal_io_->stop();
    signal_thread_.join();
  }
  logger_.flush();
  return 0;
}

void Engine::wait_signal() {
  signals_->async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    on_stop_signal(sig == SIGINT ? "SIGINT" : "SIGTERM");
    wait_signal();
  });
}

void Engine::request_stop() { on_stop_signal("stop requested"); }

void Engine::on_stop_signal(const char* why) {
  if (draining_.exchange(true)) {
    // A second signal: stop at once.
    logger_.write(LogLevel::Warn, "flowd", "stopping now", {{"signal", why}});
    abort_all();
    return;
  }
  // Logged here, on the signal's own thread, however long the workers' current slices take.
  logger_.write(LogLevel::Info, "flowd", "stopping: closing connections",
                {{"signal", why}, {"connections", std::to_string(open_sessions_.load()), false}});
  asio::post(workers_[0]->io, [this, why] { begin_drain(why); });
}

// Over the output budget: each worker cuts its connections with the most queued output first, until
// the total is back under 3/4 of the budget.
void Engine::shed_output() {
  auto pending = std::make_shared<std::atomic<std::size_t>>(workers_.size());
  for (auto& w : workers_) asio::post(w->io, [this, &w = *w, pending] { shed_worker(w, pending); });
}

void Engine::shed_worker(Worker& w, const std::shared_ptr<std::atomic<std::size_t>>& pending) {
  std::vector<std::shared_ptr<Session>> by_queued;
  for (Session* s : w.sessions)
    if (s->queued_output() > 0) by_queued.push_back(s->shared_from_this());
  std::sort(by_queued.begin(), by_queued.end(),
            [](const auto& a, const auto& b) { return a->queued_output() > b->queued_output(); });
  for (auto& s : by_queued) {
    if (output_total_.load(std::memory_order_relaxed) <= max_output_total_ / 4 * 3) break;
    s->cut_for_budget();
  }
  if (--*pending == 0) shedding_.store(false);
}

void Engine::housekeeping(std::chrono::steady_clock::time_point now) {
  std::size_t total = output_total_.load(std::memory_order_relaxed);
  std::size_t peak = output_peak_.load(std::memory_order_relaxed);
  if (peak >= total + kTrimAfterDrop || closed_since_trim_.load(std::memory_order_relaxed) >= kTrimAfterClosed) {
    // glibc keeps freed memory in its arenas; after a peak, give it back to the system.
    output_peak_.store(total, std::memory_order_relaxed);
    closed_since_trim_.store(0, std::memory_order_relaxed);
    ::malloc_trim(0);
  }
  if (now - last_reset_report_ >= kResetReportInterval) {
    last_reset_report_ = now;
    std::uint64_t resets = peer_resets_.load(std::memory_order_relaxed);
    if (resets != resets_reported_) {
      logger_.write(LogLevel::Info, "flowd", "clients reset or dropped their connections",
                    {{"count", std::to_string(resets - resets_reported_), false},
                     {"seconds", std::to_string(kResetReportInterval.count()), false},
                     {"total", std::to_string(resets), false}});
      resets_reported_ = resets;
    }
  }
}

// Timeouts are checked by a sweep over each worker's connections a few times a second, instead of
// a timer per connection that every read would have to re-arm.
void Engine::sweep(Worker& w) {
  w.sweep_timer->expires_after(kSweepInterval);
  w.sweep_timer->async_wait([this, &w](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    auto now = std::chrono::steady_clock::now();
    if (w.index == 0) housekeeping(now);
    std::vector<std::shared_ptr<Session>> live;
    live.reserve(w.sessions.size());
    for (Session* s : w.sessions) live.push_back(s->shared_from_this());
    for (auto& s : live) s->check_timeouts(now);
    sweep(w);
  });
}

// Runs on worker 0. Each worker drains its own connections on its own thread.
void Engine::begin_drain(const char*) {
  for (auto& l : listeners_) l->stop();
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
  if (signal_io_) signal_io_->stop();
  std::uint64_t resets = peer_resets_.load(std::memory_order_relaxed);
  logger_.write(LogLevel::Info, "flowd", "stopped",
                {{"resets", std::to_string(resets), false}});
  for (auto& w : workers_) {
    if (w->sweep_timer) asio::post(w->io, [&w = *w] { w.sweep_timer->cancel(); });
    w->io.stop();
  }
}

}  // namespace flowd
