// A listener's settings, shared by the listener and its connections.
#pragma once
#include <utility>

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "net/line_framer.hpp"
#include "net/tls.hpp"
#include "runtime/program.hpp"

namespace flowd {

// Defaults of the listener limits (each a named listener setting in the flow: maxConnections,
// maxOutputBytes, lineTimeout).
inline constexpr std::size_t kDefaultMaxConnections = 10'000;
inline constexpr std::size_t kDefaultMaxOutputBytes = 1024 * 1024;
inline constexpr double kDefaultLineTimeoutSeconds = 30;

// A listener's settings, evaluated once at start (they may use configurables).
struct ListenerSettings {
  std::string name;
  const ServiceInfo* service = nullptr;
  Framing framing = Framing::Raw;
  std::size_t max_line = kDefaultMaxLineLength;
  std::size_t max_connections = kDefaultMaxConnections;
  std::size_t max_output_bytes = kDefaultMaxOutputBytes;
  std::chrono::milliseconds idle_timeout{0};   // 0: off, as in Ballerina
  std::chrono::milliseconds line_timeout{static_cast<long>(kDefaultLineTimeoutSeconds * 1000)};
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain TCP
  std::chrono::milliseconds handshake_timeout = kDefaultHandshakeTimeout;
};

}  // namespace flowd
