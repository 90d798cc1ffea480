// REMOTE_ACTION_CALL: an action on a connection, `caller->writeBytes(data)` and `caller->close()`.
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
struct ActionSpec {
  const char* name;
  ActionId id;
  std::vector<const char*> params;  // all of type byte[] for now
};

const ActionSpec kCallerActions[] = {
    {"writeBytes", ActionId::WriteBytes, {"data"}},
    {"close", ActionId::Close, {}},
};

class RemoteActionCallNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "REMOTE_ACTION_CALL"; }
  std::string_view palette_label() const override { return "Remote Action"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "connection", "action", "args", "variable", "type", "check"});
    TypeTable& T = fc.types();
    auto action = fc.string_field(n, "action", true);
    const Type* ct = fc.expression_field(n, "connection", T.caller());
    if (!action || !ct) return false;
    const ActionSpec* spec = nullptr;
    std::vector<std::string> names;
    for (const auto& a : kCallerActions) {
      names.emplace_back(a.name);
      if (*action == a.name) spec = &a;
    }
    if (!spec) {
      std::string near = closest_name(*action, names);
      fc.diags().error(DiagId::UnknownMethod, n.pointer + "/action",
                       "tcp:Caller has no action '" + *action + "' (it has writeBytes and close)" +
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
    fc.bind_result(n, T.optional_error(), fc.bool_field(n, "check", false), /*must_handle_error=*/false);
    return false;
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_remote_action_call() { return std::make_unique<RemoteActionCallNode>(); }

}  // namespace flowd::nodes
