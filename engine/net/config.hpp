// Configuring a flow's module state before it serves: the configurables (from the environment,
// -C options or their defaults), then the module-level variables and connections, in order.
#pragma once
#include <string>
#include <vector>

#include "net/server_context.hpp"
#include "net/worker.hpp"
#include "runtime/program.hpp"

namespace flowd {

// A configurable's value given from outside: "-Cport=4000" or BAL_CONFIG_VAR_PORT=4000.
struct ConfigOverride {
  std::string name;
  std::string value;
  std::string source;  // "-Cport=4000", for error messages
};

// Sets every configurable: environment (BAL_CONFIG_VAR_NAME), then overrides, then the default; then,
// if all is well, every module-level variable, running its initializer on `worker` (a module-level
// tcp:Client connects there, serving the worker's event loop while it waits). `given_as` gets, per
// global, the option or variable that set it ("" for a default). False with one message per problem.
bool configure_module(ServerContext& context, Worker& worker, std::vector<Value>& globals,
                      std::vector<std::string>& given_as, const std::vector<ConfigOverride>& overrides,
                      std::vector<std::string>& errors);

}  // namespace flowd
