// VARIABLE (Declare Variable): `type variable = expression;`
#include "flow/compiler.hpp"

namespace flowd::nodes::variable_node {

namespace {
NodeDescription describe() {
  return {
      .node = "VARIABLE",
      .labels = {"Declare Variable"},
      .group = PaletteGroup::Statement,
      .help = "Declares a local variable: `type variable = expression;`.",
      .example = R"~({"node": "VARIABLE", "variable": "message", "type": "string", "expression": "messageResult.trim()"})~",
      .fields = {
          {.key = "variable",
           .field_type = FieldType::Identifier,
           .required = true,
           .help = "Name of the new local variable.",
           .example = R"~("welcomePrompt")~"},
          {.key = "type",
           .field_type = FieldType::Type,
           .required = true,
           .default_value = "var",
           .help = "Type of the variable, or \"var\" to infer it from the expression.",
           .example = R"~("string", "var")~",
           .examples = {"var", "string", "int", "byte[]"}},
          {.key = "expression",
           .field_type = FieldType::Expression,
           .required = true,
           .help = "Initial value, of the variable's type.",
           .example = R"~("\"Enter your username: \"")~"},
      }};
}

class VariableNode final : public NodeKind {
 public:
  VariableNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
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

const NodeKindRegistration registered{make_node_kind<VariableNode>};
}  // namespace

}  // namespace flowd::nodes::variable_node
