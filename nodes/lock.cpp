#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
// LOCK: runs its children atomically. A flow's handlers that use module-level state already run
// one at a time, so the block needs no lock of its own; it is accepted so BI flows load unchanged.
class LockNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "LOCK"; }
  std::string_view palette_label() const override { return "Lock"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "children"});
    return fc.block(n, "children", true);
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_lock() { return std::make_unique<LockNode>(); }

}  // namespace flowd::nodes
