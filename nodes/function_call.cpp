// FUNCTION_CALL (Call Function; Log Info/Warn/Error/Debug): a library function with named arguments,
// an optional result variable and type, and check.
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class FunctionCallNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "FUNCTION_CALL"; }
  std::string_view palette_label() const override { return "Call Function"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "function", "args", "variable", "type", "check"});
    const Type* t = fc.named_call(n, "function", "args");
    bool check = fc.bool_field(n, "check", false);
    // Bound even when the call has an error, so later uses of the variable are not reported too.
    fc.bind_result(n, t, check, /*must_handle_error=*/true);
    return false;
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_function_call() { return std::make_unique<FunctionCallNode>(); }

}  // namespace flowd::nodes
