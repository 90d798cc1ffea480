#include "nodes/nodes.hpp"

namespace flowd {

void register_builtin_nodes(NodeRegistry& registry) {
  registry.add(nodes::make_variable());
  registry.add(nodes::make_assign());
  registry.add(nodes::make_if());
  registry.add(nodes::make_function_call());
  registry.add(nodes::make_remote_action_call());
  registry.add(nodes::make_return());
}

const NodeRegistry& builtin_registry() {
  static const NodeRegistry registry = [] {
    NodeRegistry r;
    register_builtin_nodes(r);
    return r;
  }();
  return registry;
}

}  // namespace flowd
