// RETURN: ends the function, with an optional value.
#include "flow/compiler.hpp"

namespace flowd::nodes::return_node {

namespace {
NodeDescription describe() {
  return {
      .node = "RETURN",
      .labels = {"Return"},
      .group = PaletteGroup::Control,
      .help = "Returns from the enclosing function, with a value when the function has one.",
      .example = R"~({"node": "RETURN", "expression": "new ChatService()"})~",
      .fields = {
          {.key = "expression",
           .field_type = FieldType::Expression,
           .help = "Value to return, of the function's return type; omit it to return nothing.",
           .example = R"~("new ChatService()")~"},
      }};
}

class ReturnNode final : public NodeKind {
 public:
  ReturnNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    if (n.json.contains("expression") && !n.json["expression"].is_null()) {
      if (fc.expression_field(n, "expression", fc.return_type())) fc.emit(Op::Return);
      return true;
    }
    if (!fc.types().assignable(fc.types().nil(), fc.return_type())) {
      fc.diags().error(DiagId::MissingReturn, n.pointer,
                       "this RETURN needs an \"expression\": the function returns " + fc.return_type()->name);
      return true;
    }
    fc.emit(Op::ReturnNil);
    return true;
  }
};

const NodeKindRegistration registered{make_node_kind<ReturnNode>};
}  // namespace


}  // namespace flowd::nodes::return_node
