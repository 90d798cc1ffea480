// BREAK and CONTINUE: leave or restart the innermost WHILE or FOREACH.
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class LoopJumpNode final : public NodeKind {
 public:
  explicit LoopJumpNode(bool is_break) : is_break_(is_break) {}
  std::string_view kind() const override { return is_break_ ? "BREAK" : "CONTINUE"; }
  std::string_view palette_label() const override { return is_break_ ? "Break" : "Continue"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description"});
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
}  // namespace

std::unique_ptr<NodeKind> make_break() { return std::make_unique<LoopJumpNode>(true); }
std::unique_ptr<NodeKind> make_continue() { return std::make_unique<LoopJumpNode>(false); }

}  // namespace flowd::nodes
