// ERROR_HANDLER (do / on fail): a check or FAIL inside `children` goes to `onFail` with the error
// bound to `onFail.errorVariable`, instead of returning from the function.
#include "flow/compiler.hpp"

namespace flowd::nodes::error_handler_node {

namespace {
NodeDescription describe() {
  return {
      .node = "ERROR_HANDLER",
      .labels = {"Error Handler"},
      .group = PaletteGroup::ErrorHandling,
      .help = "Runs its children; a check or FAIL among them goes to onFail (Ballerina `do { } on fail error e { }`).",
      .example = R"~({"node": "ERROR_HANDLER", "children": [...], "onFail": {"errorVariable": "e", "children": [...]}})~",
      .fields = {
          {.key = "children",
           .field_type = FieldType::Nodes,
           .required = true,
           .help = "Nodes run under the handler (the `do` block).",
           .example = R"~([{"node": "FUNCTION_CALL", "function": "string:fromBytes", "args": {"bytes": "data"}, "variable": "s", "type": "string", "check": true}])~"},
          {.key = "onFail",
           .field_type = FieldType::Branch,
           .required = true,
           .help = "Run when a node in children fails (check or FAIL); BI's On Failure branch.",
           .example = R"~({"errorVariable": "e", "children": [...]})~",
           .fields = {
               {.key = "errorVariable",
                .field_type = FieldType::Identifier,
                .required = true,
                .help = "Name of the variable bound to the error; without it the error is not bound.",
                .example = R"~("e")~"},
               {.key = "errorType",
                .field_type = FieldType::Type,
                .default_value = "error",
                .help = "Type of the error variable, as BI writes it; it is always error.",
                .example = R"~("error")~"},
               {.key = "children",
                .field_type = FieldType::Nodes,
                .required = true,
                .help = "Nodes run on failure.",
                .example = R"~([{"node": "FUNCTION_CALL", "function": "log:printError", "args": {"msg": "\"failed\"", "error": "e"}}])~"},
               {.key = "label",
                .field_type = FieldType::String,
                .help = "Label of the branch, shown in the diagram.",
                .example = R"~("On Failure")~"},
           }},
      }};
}

class ErrorHandlerNode final : public NodeKind {
 public:
  ErrorHandlerNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    TypeTable& T = fc.types();
    int error_slot = fc.hidden_local(T.error());
    fc.fail_targets().push_back({error_slot, {}});
    bool body_returns = fc.block(n, "children", true);
    FunctionCompiler::FailTarget target = std::move(fc.fail_targets().back());
    fc.fail_targets().pop_back();
    int skip = body_returns ? -1 : fc.emit(Op::Jump);
    for (int j : target.jumps) fc.patch_jump(j, fc.here());
    const Json* on_fail = fc.field(n, "onFail", true, Json::value_t::object);
    bool fail_returns = false;
    if (on_fail) {
      NodeSpec of = n.child("onFail");
      fc.check_branch_keys(of, description().field("onFail")->fields);
      fc.begin_scope();
      if (auto name = fc.identifier_field(of, "errorVariable", false)) fc.alias_local(*name, error_slot, T.error());
      fail_returns = fc.block(of, "children", true);
      fc.end_scope();
    }
    if (skip >= 0) fc.patch_jump(skip, fc.here());
    return body_returns && (fail_returns || target.jumps.empty());
  }
};

const NodeKindRegistration registered{make_node_kind<ErrorHandlerNode>};
}  // namespace

}  // namespace flowd::nodes::error_handler_node
