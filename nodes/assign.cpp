// ASSIGN (Update Variable): `variable = expression;` where variable is a local, self.field, a[i] or m[k].
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class AssignNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "ASSIGN"; }
  std::string_view palette_label() const override { return "Update Variable"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "variable", "expression"});
    if (!n.json.contains("expression")) {
      fc.diags().error(DiagId::MissingField, n.pointer, "missing field \"expression\"");
      return false;
    }
    fc.assignment(n, "variable", "expression");
    return false;
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_assign() { return std::make_unique<AssignNode>(); }

}  // namespace flowd::nodes
