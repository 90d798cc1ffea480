// Factories of the built-in node kinds; register_builtin_nodes() is the only place that lists them.
#pragma once
#include <memory>

#include "flow/node_kind.hpp"

namespace flowd::nodes {
std::unique_ptr<NodeKind> make_variable();
std::unique_ptr<NodeKind> make_assign();
std::unique_ptr<NodeKind> make_if();
std::unique_ptr<NodeKind> make_function_call();
std::unique_ptr<NodeKind> make_remote_action_call();
std::unique_ptr<NodeKind> make_return();
std::unique_ptr<NodeKind> make_while();
std::unique_ptr<NodeKind> make_foreach();
std::unique_ptr<NodeKind> make_break();
std::unique_ptr<NodeKind> make_continue();
std::unique_ptr<NodeKind> make_match();
std::unique_ptr<NodeKind> make_error_handler();
std::unique_ptr<NodeKind> make_fail();
std::unique_ptr<NodeKind> make_lock();
std::unique_ptr<NodeKind> make_new_connection();
}  // namespace flowd::nodes
