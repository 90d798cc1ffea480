// VARIABLE (Declare Variable): `type variable = expression;`
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class VariableNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "VARIABLE"; }
  std::string_view palette_label() const override { return "Declare Variable"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "variable", "type", "expression"});
    auto name = fc.identifier_field(n, "variable", true);
    bool type_ok = true;
    const Type* declared = fc.type_field(n, "type", type_ok);
    if (!n.json.contains("expression")) {
      fc.diags().error(DiagId::MissingField, n.pointer,
                       "missing field \"expression\": a declared variable needs an initial value");
      if (name) fc.declare_local(n, "variable", *name, type_ok ? declared : nullptr);
      return false;
    }
    // The variable is declared after its expression, so the expression cannot read it.
    const Type* t = fc.declared_variable_value(n, "expression", declared, name.value_or(""));
    if (!name) return false;
    // Declared even when its expression is wrong (null type: uses are not reported again).
    const Type* type = type_ok ? t : nullptr;
    int slot = fc.declare_local(n, "variable", *name, type);
    if (slot >= 0) fc.emit(Op::StoreLocal, slot);
    return false;
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_variable() { return std::make_unique<VariableNode>(); }

}  // namespace flowd::nodes
