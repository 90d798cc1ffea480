#include "nodes/nodes.hpp"

namespace flowd {

void register_builtin_nodes(NodeRegistry& registry) {
  registry.add(nodes::make_variable());
  registry.add(nodes::make_assign());
  registry.add(nodes::make_if());
  registry.add(nodes::make_function_call());
  registry.add(nodes::make_remote_action_call());
  registry.add(nodes::make_return());
  registry.add(nodes::make_while());
  registry.add(nodes::make_foreach());
  registry.add(nodes::make_break());
  registry.add(nodes::make_continue());
  registry.add(nodes::make_match());
  registry.add(nodes::make_error_handler());
  registry.add(nodes::make_fail());
  registry.add(nodes::make_lock());
  registry.add(nodes::make_new_connection());
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
