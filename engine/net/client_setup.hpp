// From NEW_CONNECTION's operands to the parameters of a tcp:Client connection; the clients' TLS
// contexts, made once per distinct secureSocket.
#pragma once
#include <utility>

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/client.hpp"
#include "net/tls.hpp"
#include "runtime/program.hpp"
#include "runtime/value.hpp"

namespace flowd {

class ClientTlsCache {
 public:
  // Thread-safe; null with `error` set when the settings are unusable (a missing file...).
  std::shared_ptr<boost::asio::ssl::context> get(const TlsSettings& s, std::string& error);

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> contexts_;
};

// NEW_CONNECTION's kConnectArgs operands (see ConnectArg). False with `error` set to the error value
// the action returns when one of them is invalid.
bool client_params(Value* args, ClientTlsCache& tls, ClientParams& params, Value& error);

// writeBytes, readBytes or close on the tcp:Client args[0]: true when done at once (with `result`),
// false when it waits and `done` will be called with its result.
bool start_client_action(ActionId id, Value* args, Value& result, Client::Done done);

// A setting in seconds (nil: left as it is); false when negative or absurd.
bool seconds_setting(const Value& v, std::chrono::milliseconds& out);
// A string[] setting (anything else: empty).
std::vector<std::string> string_list(const Value& v);

}  // namespace flowd
