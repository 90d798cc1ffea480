// FUNCTION_CALL (Call Function; Log Info/Warn/Error/Debug): a library function with named arguments,
// an optional result variable and type, and check.
#include "flow/compiler.hpp"

namespace flowd::nodes::function_call_node {

namespace {
NodeDescription describe() {
  return {
      .node = "FUNCTION_CALL",
      .labels = {"Call Function", "Log Info", "Log Warn", "Log Error", "Log Debug"},
      .group = PaletteGroup::Statement,
      .help = "Calls a library or flow function with named arguments; Log Info/Warn/Error/Debug call log:printInfo/...",
      .example = R"~({"node": "FUNCTION_CALL", "function": "string:fromBytes", "args": {"bytes": "data"}, "variable": "messageResult", "type": "string", "check": true})~",
      .fields = {
          {.key = "function",
           .field_type = FieldType::String,
           .required = true,
           .help = "Function to call: \"module:name\" for a library function, or a plain name for a flow-defined function.",
           .example = R"~("log:printInfo", "string:fromBytes", "greet")~",
           .examples = {"log:printInfo", "log:printWarn", "log:printError", "log:printDebug", "string:fromBytes"},
           .pattern = "^([A-Za-z_][A-Za-z0-9_]*:)?[A-Za-z_][A-Za-z0-9_]*$"},
          {.key = "args",
           .field_type = FieldType::MappingExpressionSet,
           .help = "Arguments: parameter name -> expression. For log functions: msg (string), optional error; any "
                   "other name becomes a key-value on the line.",
           .example = R"~({"msg": "string `${self.username} connected`"})~"},
          {.key = "variable",
           .field_type = FieldType::Identifier,
           .help = "Name of a new variable that receives the result.",
           .example = R"~("messageResult")~"},
          {.key = "type",
           .field_type = FieldType::Type,
           .default_value = "var",
           .help = "Type of the result variable, or \"var\" for the result's type.",
           .example = R"~("string")~"},
          {.key = "check",
           .field_type = FieldType::Flag,
           .default_value = "false",
           .help = "If true, an error result is returned from the function (or goes to the enclosing onFail) instead "
                   "of being stored (Ballerina `check`).",
           .example = "true"},
      }};
}

class FunctionCallNode final : public NodeKind {
 public:
  FunctionCallNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    const Type* t = fc.named_call(n, "function", "args");
    bool check = fc.bool_field(n, "check", false);
    // Bound even when the call has an error, so later uses of the variable are not reported too.
    fc.bind_result(n, t, check, /*must_handle_error=*/true);
    return false;
  }
};

const NodeKindRegistration registered{make_node_kind<FunctionCallNode>};
}  // namespace

}  // namespace flowd::nodes::function_call_node
