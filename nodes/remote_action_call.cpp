// REMOTE_ACTION_CALL: an action on a connection: `caller->writeBytes(data)`, `caller->close()`, and on a
// tcp:Client `writeBytes(data)`, `readBytes()` (what has arrived; the handler waits without blocking
// others) and `close()`.
#include <algorithm>

#include "flow/compiler.hpp"

namespace flowd::nodes::remote_action_call_node {

namespace {
enum class Result : std::uint8_t { OptionalError, BytesOrError };

struct ActionSpec {
  const char* name;
  ActionId id;
  std::vector<const char*> params;  // all of type byte[] for now
  Result result;
};

const std::vector<ActionSpec> kCallerActions = {
    {"writeBytes", ActionId::WriteBytes, {"data"}, Result::OptionalError},
    {"close", ActionId::Close, {}, Result::OptionalError},
};

const std::vector<ActionSpec> kClientActions = {
    {"writeBytes", ActionId::ClientWrite, {"data"}, Result::OptionalError},
    {"readBytes", ActionId::ClientRead, {}, Result::BytesOrError},
    {"close", ActionId::ClientClose, {}, Result::OptionalError},
};

// Every action name, of either connection type: the options of the "action" field.
std::vector<std::string_view> action_names() {
  std::vector<std::string_view> names;
  for (const auto* table : {&kCallerActions, &kClientActions})
    for (const auto& a : *table)
      if (std::find(names.begin(), names.end(), a.name) == names.end()) names.emplace_back(a.name);
  return names;
}

NodeDescription describe() {
  return {
      .node = "REMOTE_ACTION_CALL",
      .labels = {"Remote Action"},
      .group = PaletteGroup::Connections,
      .help = "Calls an action on a connection: writeBytes and close on a tcp:Caller; also readBytes on a tcp:Client.",
      .example = R"~({"node": "REMOTE_ACTION_CALL", "connection": "caller", "action": "writeBytes", "args": {"data": "welcomePrompt.toBytes()"}})~",
      .fields = {
          {.key = "connection",
           .field_type = FieldType::Expression,
           .type = "tcp:Caller|tcp:Client",
           .required = true,
           .help = "The connection.",
           .example = R"~("caller", "upstream")~"},
          {.key = "action",
           .field_type = FieldType::SingleSelect,
           .required = true,
           .help = "writeBytes (args {\"data\": byte[]}), close, and on a tcp:Client readBytes (result byte[]|error; "
                   "the handler waits without blocking others, up to the client's timeout).",
           .example = R"~("writeBytes")~",
           .options = action_names()},
          {.key = "args",
           .field_type = FieldType::MappingExpressionSet,
           .help = "Arguments: parameter name -> expression.",
           .example = R"~({"data": "message.toBytes()"})~"},
          {.key = "variable",
           .field_type = FieldType::Identifier,
           .help = "Name of a new variable that receives the result.",
           .example = R"~("received")~"},
          {.key = "type",
           .field_type = FieldType::Type,
           .default_value = "var",
           .help = "Type of the result variable, or \"var\" for the result's type.",
           .example = R"~("byte[]")~"},
          {.key = "check",
           .field_type = FieldType::Flag,
           .default_value = "false",
           .help = "If true, an error result is returned from the function (or goes to the enclosing onFail).",
           .example = "true"},
      }};
}

class RemoteActionCallNode final : public NodeKind {
 public:
  RemoteActionCallNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    TypeTable& T = fc.types();
    auto action = fc.string_field(n, "action", true);
    const Type* ct = fc.expression_field(n, "connection", nullptr);
    if (!action || !ct) return false;
    if (ct->kind != TypeKind::Caller && ct->kind != TypeKind::Client) {
      std::string hint;
      if (ct->contains(TypeKind::Client) || ct->contains(TypeKind::Caller))
        hint = ": test it first (an If with \"<name> is tcp:Client\", or a Declare Variable with \"check\")";
      fc.diags().error(DiagId::TypeMismatch, n.pointer + "/connection",
                       "the connection must be a tcp:Caller or a tcp:Client, not " + ct->name + hint);
      return false;
    }
    bool client = ct->kind == TypeKind::Client;
    const auto& actions = client ? kClientActions : kCallerActions;
    const ActionSpec* spec = nullptr;
    std::vector<std::string> names;
    for (const auto& a : actions) {
      names.emplace_back(a.name);
      if (*action == a.name) spec = &a;
    }
    if (!spec) {
      std::string near = closest_name(*action, names);
      fc.diags().error(DiagId::UnknownMethod, n.pointer + "/action",
                       ct->name + " has no action '" + *action + "' (" +
                           (client ? "it has writeBytes, readBytes and close" : "it has writeBytes and close") + ")" +
                           (near.empty() ? "" : "; did you mean '" + near + "'?"));
      return false;
    }
    const Json* args = fc.field(n, "args", false, Json::value_t::object);
    if (args) {
      for (auto it = args->begin(); it != args->end(); ++it) {
        bool known = false;
        for (const char* p : spec->params) known = known || it.key() == p;
        if (!known) {
          fc.diags().error(DiagId::BadArguments, n.pointer + "/args/" + it.key(),
                           std::string(spec->name) + " has no parameter '" + it.key() + "'" +
                               (spec->params.empty() ? " (it takes none)" : " (it takes data)"));
          return false;
        }
      }
    }
    for (const char* p : spec->params) {
      if (!args || !args->contains(p)) {
        fc.diags().error(DiagId::BadArguments, n.pointer + (args ? "/args" : ""),
                         std::string(spec->name) + " needs the argument \"" + p + "\" in \"args\"");
        return false;
      }
      if (!fc.expression_field(n.child("args"), p, T.bytes())) return false;
    }
    fc.emit(Op::Action, static_cast<int>(spec->id), static_cast<int>(spec->params.size()));
    const Type* result = spec->result == Result::BytesOrError ? T.union_of({T.bytes(), T.error()}) : T.optional_error();
    // What readBytes returns must be used; an unchecked write error is dropped, as for tcp:Caller.
    fc.bind_result(n, result, fc.bool_field(n, "check", false), spec->result == Result::BytesOrError);
    return false;
  }
};

const NodeKindRegistration registered{make_node_kind<RemoteActionCallNode>};
}  // namespace


}  // namespace flowd::nodes::remote_action_call_node
