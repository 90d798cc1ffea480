// LOCK: runs its children atomically. A flow's handlers run one at a time between network waits;
// the block's lock also holds across a wait inside it (a write and read on a shared tcp:Client), so
// another handler's LOCK waits for it. Leaving the block early (return, break, on fail) keeps the
// lock until the handler ends.
#include "flow/compiler.hpp"

namespace flowd::nodes::lock_node {

namespace {
NodeDescription describe() {
  return {
      .node = "LOCK",
      .labels = {"Lock"},
      .group = PaletteGroup::Concurrency,
      .help = "Runs its children atomically, also across network waits inside it (Ballerina `lock { ... }`).",
      .example = R"~({"node": "LOCK", "children": [...]})~",
      .fields = {
          {.key = "children",
           .field_type = FieldType::Nodes,
           .required = true,
           .help = "Nodes run under the lock.",
           .example = R"~([{"node": "ASSIGN", "variable": "count", "expression": "count + 1"}])~"},
      }};
}

class LockNode final : public NodeKind {
 public:
  LockNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.emit(Op::LockEnter);
    fc.emit(Op::Pop);
    bool returns = fc.block(n, "children", true);
    if (!returns) fc.emit(Op::LockExit);
    return returns;
  }
};

const NodeKindRegistration registered{make_node_kind<LockNode>};
}  // namespace

}  // namespace flowd::nodes::lock_node
