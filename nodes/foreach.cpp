// FOREACH: runs its children for each element of a list, each value of a map, or each int of a
// range (a ... b inclusive, a ..< b exclusive).
#include "flow/compiler.hpp"

namespace flowd::nodes::foreach_node {

namespace {
NodeDescription describe() {
  return {
      .node = "FOREACH",
      .labels = {"Foreach"},
      .group = PaletteGroup::Control,
      .help = "Runs its children for each element of a list, value of a map, or int of a range (a ... b, a ..< b).",
      .example = R"~({"node": "FOREACH", "variable": "u", "type": "string", "collection": "users", "children": [...]})~",
      .fields = {
          {.key = "variable",
           .field_type = FieldType::Identifier,
           .required = true,
           .help = "Name of the loop variable.",
           .example = R"~("user")~"},
          {.key = "type",
           .field_type = FieldType::Type,
           .required = true,
           .default_value = "var",
           .help = "Type of the loop variable, or \"var\" for the element type.",
           .example = R"~("string")~"},
          {.key = "collection",
           .field_type = FieldType::Expression,
           .required = true,
           .help = "What to iterate: a list, a map or a range.",
           .example = R"~("users", "0 ..< 10")~"},
          {.key = "children",
           .field_type = FieldType::Nodes,
           .required = true,
           .help = "Loop body.",
           .example = R"~([{"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "user"}}])~"},
      }};
}

class ForeachNode final : public NodeKind {
 public:
  ForeachNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
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

const NodeKindRegistration registered{make_node_kind<ForeachNode>};
}  // namespace

}  // namespace flowd::nodes::foreach_node
