// BREAK and CONTINUE: leave or restart the innermost WHILE or FOREACH.
#include "flow/compiler.hpp"

namespace flowd::nodes::break_continue_node {

namespace {
NodeDescription describe(bool is_break) {
  if (is_break)
    return {.node = "BREAK",
            .labels = {"Break"},
            .group = PaletteGroup::Control,
            .help = "Leaves the innermost WHILE or FOREACH.",
            .example = R"~({"node": "BREAK"})~"};
  return {.node = "CONTINUE",
          .labels = {"Continue"},
          .group = PaletteGroup::Control,
          .help = "Goes on with the next iteration of the innermost WHILE or FOREACH.",
          .example = R"~({"node": "CONTINUE"})~"};
}

class LoopJumpNode final : public NodeKind {
 public:
  explicit LoopJumpNode(bool is_break) : NodeKind(describe(is_break)), is_break_(is_break) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    if (fc.loops().empty()) {
      fc.diags().error(DiagId::MisplacedStatement, n.pointer,
                       std::string(kind()) + " can only be used inside a WHILE or FOREACH");
      return true;
    }
    auto& loop = fc.loops().back();
    if (is_break_) loop.break_jumps.push_back(fc.emit(Op::Jump));
    else fc.emit(Op::Jump, 0, loop.continue_target);
    return true;  // nothing after it in the same block runs
  }

 private:
  bool is_break_;
};

const NodeKindRegistration registered_break{[]() -> std::unique_ptr<NodeKind> {
  return std::make_unique<LoopJumpNode>(true);
}};
const NodeKindRegistration registered_continue{[]() -> std::unique_ptr<NodeKind> {
  return std::make_unique<LoopJumpNode>(false);
}};
}  // namespace

}  // namespace flowd::nodes::break_continue_node
