// REMOTE_ACTION_CALL: an action on a connection: `caller->writeBytes(data)`, `caller->close()`, and on a
// tcp:Client `writeBytes(data)`, `readBytes()` (what has arrived; the handler waits without blocking
// others) and `close()`.
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

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

class RemoteActionCallNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "REMOTE_ACTION_CALL"; }
  std::string_view palette_label() const override { return "Remote Action"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "connection", "action", "args", "variable", "type", "check"});
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
}  // namespace

std::unique_ptr<NodeKind> make_remote_action_call() { return std::make_unique<RemoteActionCallNode>(); }

}  // namespace flowd::nodes
