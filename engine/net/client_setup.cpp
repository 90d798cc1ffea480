#include "net/client_setup.hpp"

namespace flowd {

std::shared_ptr<boost::asio::ssl::context> ClientTlsCache::get(const TlsSettings& s, std::string& error) {
  std::string key = s.cert_file + '\n' + std::to_string(s.session_timeout.count());
  for (const auto& v : s.versions) key += '\n' + v;
  key += "\n--";
  for (const auto& c : s.ciphers) key += '\n' + c;
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = contexts_.find(key);
  if (it != contexts_.end()) return it->second;
  auto ctx = make_client_tls(s, error);
  if (ctx) contexts_.emplace(key, ctx);
  return ctx;
}

std::vector<std::string> string_list(const Value& v) {
  std::vector<std::string> out;
  if (v.tag() == ValueTag::Array)
    for (const Value& e : v.as<ArrayObj>()->items) out.emplace_back(e.str());
  return out;
}

bool seconds_setting(const Value& v, std::chrono::milliseconds& out) {
  if (v.is_nil()) return true;
  double d = v.as_float();
  if (!(d >= 0) || d > 1e9) return false;
  out = std::chrono::milliseconds(static_cast<long long>(d * 1000));
  return true;
}

bool start_client_action(ActionId id, Value* args, Value& result, Client::Done done) {
  auto* client = static_cast<Client*>(args[0].as<ClientObj>()->link.get());
  switch (id) {
    case ActionId::ClientWrite: return client->write(args[1], result, std::move(done));
    case ActionId::ClientRead: return client->read(result, std::move(done));
    case ActionId::ClientClose: client->close(); return true;
    default: return true;
  }
}

bool client_params(Value* args, ClientTlsCache& tls, ClientParams& p, Value& error) {
  auto arg = [&](ConnectArg a) -> Value& { return args[static_cast<int>(a)]; };
  p.host = arg(ConnectArg::RemoteHost).str();
  std::int64_t port = arg(ConnectArg::RemotePort).as_int();
  std::string where = p.host + ":" + std::to_string(port);
  if (port < 1 || port > 65535) {
    error = make_error("cannot connect to " + where + ": the port is not between 1 and 65535");
    return false;
  }
  p.port = static_cast<int>(port);
  if (!seconds_setting(arg(ConnectArg::Timeout), p.timeout) ||
      !seconds_setting(arg(ConnectArg::WriteTimeout), p.write_timeout)) {
    error = make_error("cannot connect to " + where + ": timeout and writeTimeout are seconds, 0 or more");
    return false;
  }
  if (!arg(ConnectArg::Secure).as_bool()) return true;
  TlsSettings t;
  if (!arg(ConnectArg::Cert).is_nil()) t.cert_file = arg(ConnectArg::Cert).str();
  t.versions = string_list(arg(ConnectArg::Versions));
  t.ciphers = string_list(arg(ConnectArg::Ciphers));
  if (!seconds_setting(arg(ConnectArg::HandshakeTimeout), p.handshake_timeout) ||
      !seconds_setting(arg(ConnectArg::SessionTimeout), t.session_timeout)) {
    error = make_error("cannot connect to " + where + ": handshakeTimeout and sessionTimeout are seconds, 0 or more");
    return false;
  }
  p.verify_host = arg(ConnectArg::VerifyHostName).is_nil() || arg(ConnectArg::VerifyHostName).as_bool();
  std::string why;
  p.tls = tls.get(t, why);
  if (!p.tls) {
    error = make_error("cannot connect to " + where + ": secureSocket " + why);
    return false;
  }
  return true;
}

}  // namespace flowd
