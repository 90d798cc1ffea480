// NEW_CONNECTION inside a handler: `tcp:Client upstream = check new (host, port, timeout = 5);`, a
// connection opened per client connection (a relay). The handler waits for the connect without
// blocking other connections; a failure is an error value (`check` returns it or goes to on fail).
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class NewConnectionNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "NEW_CONNECTION"; }
  std::string_view palette_label() const override { return "New Connection"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "variable", "type", "remoteHost", "remotePort", "timeout",
                      "writeTimeout", "secureSocket", "check"});
    TypeTable& T = fc.types();
    if (!n.json.contains("variable")) {
      fc.diags().error(DiagId::MissingField, n.pointer,
                       "NEW_CONNECTION needs \"variable\": the name the tcp:Client is used by");
      return false;
    }
    if (!fc.emit_connect(n)) return false;
    fc.bind_result(n, T.union_of({T.client(), T.error()}), fc.bool_field(n, "check", false), /*must_handle_error=*/true);
    return false;
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_new_connection() { return std::make_unique<NewConnectionNode>(); }

}  // namespace flowd::nodes
