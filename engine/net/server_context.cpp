#include "net/server_context.hpp"

#include <cstdio>
#include <random>

namespace flowd {

std::uint64_t ServerContext::seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

std::string ServerContext::next_connection_id() {
  std::uint64_t v = id_base_ + (connection_serial_.fetch_add(1) + 1) * 0x9E3779B97F4A7C15ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace flowd
