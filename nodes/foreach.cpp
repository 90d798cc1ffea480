// FOREACH: runs its children for each element of a list, each value of a map, or each int of a
// range (a ... b inclusive, a ..< b exclusive).
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class ForeachNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "FOREACH"; }
  std::string_view palette_label() const override { return "Foreach"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "variable", "type", "collection", "children"});
    auto name = fc.identifier_field(n, "variable", true);
    bool type_ok = true;
    const Type* declared = fc.type_field(n, "type", type_ok);
    fc.begin_scope();  // the hidden collection and index locals live as long as the loop
    auto it = fc.foreach_collection(n, "collection");
    if (it && declared && !fc.types().assignable(it->elem, declared)) {
      fc.diags().error(DiagId::TypeMismatch, n.pointer + "/type",
                       "the elements are " + it->elem->name + ", which cannot be stored in '" + name.value_or("?") +
                           "' of type " + declared->name);
    }
    int top = fc.here();
    int next = fc.emit(Op::IterNext, it ? it->slot : 0, 0, it ? static_cast<int>(it->kind) : 0);
    fc.begin_scope();
    int slot = name ? fc.declare_local(n, "variable", *name, !type_ok ? nullptr : declared ? declared : it ? it->elem : nullptr)
                    : fc.hidden_local(nullptr);
    fc.emit(Op::StoreLocal, slot < 0 ? 0 : slot);
    fc.loops().push_back({top, {}});
    fc.block(n, "children", true);
    fc.emit(Op::Jump, 0, top);
    FunctionCompiler::Loop loop = std::move(fc.loops().back());
    fc.loops().pop_back();
    fc.end_scope();
    fc.end_scope();
    fc.patch_jump(next, fc.here());
    for (int j : loop.break_jumps) fc.patch_jump(j, fc.here());
    return false;
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_foreach() { return std::make_unique<ForeachNode>(); }

}  // namespace flowd::nodes
