// COMMENT: a note shown in the diagram (BI's COMMENT node, `// text` in the source). It does nothing
// at run time: no code is emitted for it.
#include "flow/compiler.hpp"

namespace flowd::nodes::comment_node {

namespace {
NodeDescription describe() {
  return {
      .node = "COMMENT",
      .labels = {"Comment"},
      .group = PaletteGroup::Documentation,
      .help = "A note shown in the diagram; it does nothing at run time.",
      .example = R"~({"node": "COMMENT", "comment": "Greet the client before reading its name."})~",
      .fields = {
          {.key = "comment",
           .field_type = FieldType::String,
           .required = true,
           .help = "The text of the note.",
           .example = R"~("Greet the client before reading its name.")~"},
      }};
}

class CommentNode final : public NodeKind {
 public:
  CommentNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.string_field(n, "comment", true);
    return false;
  }
};

const NodeKindRegistration registered{make_node_kind<CommentNode>};
}  // namespace

}  // namespace flowd::nodes::comment_node
