// NEW_CONNECTION inside a handler: `tcp:Client upstream = check new (host, port, timeout = 5);`, a
// connection opened per client connection (a relay). The handler waits for the connect without
// blocking other connections; a failure is an error value (`check` returns it or goes to on fail).
#include "flow/compiler.hpp"

namespace flowd::nodes::new_connection_node {

namespace {
NodeDescription describe() {
  return {
      .node = "NEW_CONNECTION",
      .labels = {"New Connection"},
      .group = PaletteGroup::Connections,
      .help = "Opens a tcp:Client for this client connection (a relay); the handler waits without blocking others.",
      .example = R"~({"node": "NEW_CONNECTION", "variable": "upstream", "type": "tcp:Client|error", "remoteHost": "upstreamHost", "remotePort": "upstreamPort"})~",
      .fields = {
          {.key = "variable",
           .field_type = FieldType::Identifier,
           .required = true,
           .help = "Name of the new variable the tcp:Client is used by.",
           .example = R"~("upstream")~"},
          {.key = "type",
           .field_type = FieldType::Type,
           .default_value = "var",
           .help = "Its type: \"tcp:Client|error\", or \"tcp:Client\" with \"check\": true.",
           .example = R"~("tcp:Client|error")~"},
          {.key = "remoteHost",
           .field_type = FieldType::Expression,
           .type = "string",
           .required = true,
           .help = "Host to connect to.",
           .example = R"~("upstreamHost")~",
           .examples = {"upstreamHost"}},
          {.key = "remotePort",
           .field_type = FieldType::Expression,
           .type = "int",
           .required = true,
           .help = "Port to connect to.",
           .example = R"~("upstreamPort")~",
           .examples = {"upstreamPort"}},
          {.key = "timeout",
           .field_type = FieldType::Expression,
           .type = "float",
           .default_value = "300.0",
           .help = "Seconds to wait for the connection, and for each readBytes (as in Ballerina).",
           .example = R"~("5.0")~",
           .examples = {"5.0"}},
          {.key = "writeTimeout",
           .field_type = FieldType::Expression,
           .type = "float",
           .default_value = "300.0",
           .help = "Seconds a writeBytes may wait for the server to take its bytes.",
           .example = R"~("5.0")~",
           .examples = {"5.0"}},
          {.key = "secureSocket",
           .field_type = FieldType::Inclusion,
           .type = "tcp:ClientSecureSocket",
           .help = "TLS settings (Ballerina ClientSecureSocket); without them the connection is plain TCP.",
           .example = R"~({"cert": "caFile"})~"},
          {.key = "check",
           .field_type = FieldType::Flag,
           .default_value = "false",
           .help = "If true, a failure to connect is returned from the function (or goes to the enclosing onFail).",
           .example = "true"},
      }};
}

class NewConnectionNode final : public NodeKind {
 public:
  NewConnectionNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
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

const NodeKindRegistration registered{make_node_kind<NewConnectionNode>};
}  // namespace


}  // namespace flowd::nodes::new_connection_node
