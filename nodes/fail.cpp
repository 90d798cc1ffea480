// FAIL: raises an error: to the enclosing ERROR_HANDLER's on-fail block, or returned from the function.
#include "flow/compiler.hpp"

namespace flowd::nodes::fail_node {

namespace {
NodeDescription describe() {
  return {
      .node = "FAIL",
      .labels = {"Fail"},
      .group = PaletteGroup::ErrorHandling,
      .help = "Raises an error: to the enclosing ERROR_HANDLER's onFail, else returned from the function (`fail e;`).",
      .example = R"~({"node": "FAIL", "expression": "error(\"bad input\")"})~",
      .fields = {
          {.key = "expression",
           .field_type = FieldType::Expression,
           .type = "error",
           .required = true,
           .help = "The error.",
           .example = R"~("error(\"bad input\")")~"},
      }};
}

class FailNode final : public NodeKind {
 public:
  FailNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    if (fc.expression_field(n, "expression", fc.types().error())) fc.emit_fail(n.pointer);
    return true;
  }
};

const NodeKindRegistration registered{make_node_kind<FailNode>};
}  // namespace

}  // namespace flowd::nodes::fail_node
