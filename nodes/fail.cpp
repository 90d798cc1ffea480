#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
// FAIL: raises an error: to the enclosing ERROR_HANDLER's on-fail block, or returned from the function.
class FailNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "FAIL"; }
  std::string_view palette_label() const override { return "Fail"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "expression"});
    if (fc.expression_field(n, "expression", fc.types().error())) fc.emit_fail(n.pointer);
    return true;
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_fail() { return std::make_unique<FailNode>(); }

}  // namespace flowd::nodes
