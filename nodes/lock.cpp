#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
// LOCK: runs its children atomically. A flow's handlers run one at a time between network waits;
// the block's lock also holds across a wait inside it (a write and read on a shared tcp:Client), so
// another handler's LOCK waits for it. Leaving the block early (return, break, on fail) keeps the
// lock until the handler ends.
class LockNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "LOCK"; }
  std::string_view palette_label() const override { return "Lock"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "children"});
    fc.emit(Op::LockEnter);
    fc.emit(Op::Pop);
    bool returns = fc.block(n, "children", true);
    if (!returns) fc.emit(Op::LockExit);
    return returns;
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_lock() { return std::make_unique<LockNode>(); }

}  // namespace flowd::nodes
