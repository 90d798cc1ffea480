// WHILE: repeats its children while the condition holds. The per-event step budget stops a loop
// that never ends.
#include "flow/compiler.hpp"

namespace flowd::nodes::while_node {

namespace {
NodeDescription describe() {
  return {
      .node = "WHILE",
      .labels = {"While"},
      .group = PaletteGroup::Control,
      .help = "Repeats its children while the condition holds; the per-event step budget stops a loop that never ends.",
      .example = R"~({"node": "WHILE", "condition": "i < 10", "children": [...]})~",
      .fields = {
          {.key = "condition",
           .field_type = FieldType::Expression,
           .type = "boolean",
           .required = true,
           .help = "Loop condition, tested before each iteration.",
           .example = R"~("i < 10")~"},
          {.key = "children",
           .field_type = FieldType::Nodes,
           .required = true,
           .help = "Loop body.",
           .example = R"~([{"node": "ASSIGN", "variable": "i", "expression": "i + 1"}])~"},
      }};
}

class WhileNode final : public NodeKind {
 public:
  WhileNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    int top = fc.here();
    Narrowing nr;
    fc.condition_field(n, "condition", &nr);
    int exit = fc.emit(Op::JumpIfFalse);
    fc.loops().push_back({top, {}});
    fc.begin_scope();
    fc.narrow(nr, true);
    fc.block(n, "children", true);
    fc.end_scope();
    fc.emit(Op::Jump, 0, top);
    FunctionCompiler::Loop loop = std::move(fc.loops().back());
    fc.loops().pop_back();
    fc.patch_jump(exit, fc.here());
    for (int j : loop.break_jumps) fc.patch_jump(j, fc.here());
    return false;
  }
};

const NodeKindRegistration registered{make_node_kind<WhileNode>};
}  // namespace


}  // namespace flowd::nodes::while_node
