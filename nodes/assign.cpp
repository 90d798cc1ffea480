// ASSIGN (Update Variable): `variable = expression;` where variable is a local, self.field, a[i] or m[k].
#include "flow/compiler.hpp"

namespace flowd::nodes::assign_node {

namespace {
NodeDescription describe() {
  return {
      .node = "ASSIGN",
      .labels = {"Update Variable", "Assign"},
      .group = PaletteGroup::Statement,
      .help = "Assigns a new value: `variable = expression;`.",
      .example = R"~({"node": "ASSIGN", "variable": "self.username", "expression": "message"})~",
      .fields = {
          {.key = "variable",
           .field_type = FieldType::LvExpression,
           .required = true,
           .help = "What to assign: a local variable, a class field self.<name>, an element a[i] or m[k].",
           .example = R"~("count", "self.username")~",
           .examples = {"count", "self.username"}},
          {.key = "expression",
           .field_type = FieldType::Expression,
           .required = true,
           .help = "New value.",
           .example = R"~("count + 1")~"},
      }};
}

class AssignNode final : public NodeKind {
 public:
  AssignNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    if (!n.json.contains("expression")) {
      fc.diags().error(DiagId::MissingField, n.pointer, "missing field \"expression\"");
      return false;
    }
    fc.assignment(n, "variable", "expression");
    return false;
  }
};

const NodeKindRegistration registered{make_node_kind<AssignNode>};
}  // namespace

}  // namespace flowd::nodes::assign_node
