// WHILE: repeats its children while the condition holds. The per-event step budget stops a loop
// that never ends.
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class WhileNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "WHILE"; }
  std::string_view palette_label() const override { return "While"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "condition", "children"});
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
}  // namespace

std::unique_ptr<NodeKind> make_while() { return std::make_unique<WhileNode>(); }

}  // namespace flowd::nodes
