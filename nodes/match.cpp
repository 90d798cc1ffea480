// MATCH: runs the first case with a pattern equal to the target ("_" matches anything), or the
// default.
#include "flow/compiler.hpp"

namespace flowd::nodes::match_node {

namespace {
NodeDescription describe() {
  return {
      .node = "MATCH",
      .labels = {"Match"},
      .group = PaletteGroup::Control,
      .help = "Runs the first case with a pattern equal to the target (\"_\" matches anything), or the default nodes.",
      .example = R"~({"node": "MATCH", "target": "command", "cases": [{"patterns": ["\"/quit\""], "children": [...]}], "default": [...]})~",
      .fields = {
          {.key = "target",
           .field_type = FieldType::Expression,
           .required = true,
           .help = "Value to match.",
           .example = R"~("command")~"},
          {.key = "cases",
           .field_type = FieldType::Branches,
           .required = true,
           .help = "Cases, tried in order; the first with a matching pattern runs.",
           .example = R"~([{"patterns": ["\"/quit\"", "\"/exit\""], "children": [...]}])~",
           .fields = {
               {.key = "patterns",
                .field_type = FieldType::ExpressionSet,
                .required = true,
                .help = "Patterns, expressions of the target's type; the case runs if any equals the target. \"_\" matches anything.",
                .example = R"~(["\"/quit\""])~",
                .at_least_one = true},
               {.key = "children",
                .field_type = FieldType::Nodes,
                .required = true,
                .help = "Nodes run when the case matches.",
                .example = R"~([{"node": "RETURN"}])~"},
               {.key = "label",
                .field_type = FieldType::String,
                .help = "Label of the case, shown in the diagram.",
                .example = R"~("Quit")~"},
           }},
          {.key = "default",
           .field_type = FieldType::Nodes,
           .help = "Nodes run when no case matches (Ballerina `_ => {}`).",
           .example = R"~([{"node": "RETURN"}])~"},
      }};
}

class MatchNode final : public NodeKind {
 public:
  MatchNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    TypeTable& T = fc.types();
    fc.begin_scope();
    const Type* target = fc.expression_field(n, "target", nullptr);
    int slot = fc.hidden_local(target);
    fc.emit(Op::StoreLocal, slot);
    const Json* cases = fc.field(n, "cases", true, Json::value_t::array);
    std::vector<int> to_end;
    bool all_return = true;
    if (cases) {
      NodeSpec list = n.child("cases");
      for (std::size_t i = 0; i < cases->size(); ++i) {
        NodeSpec c = list.at(i);
        if (!c.json.is_object()) {
          fc.diags().error(DiagId::WrongFieldType, c.pointer, "a case must be an object with \"patterns\" and \"children\"");
          continue;
        }
        fc.check_branch_keys(c, description().field("cases")->fields);
        const Json* pats = fc.field(c, "patterns", true, Json::value_t::array);
        std::vector<int> to_body;
        if (pats) {
          if (pats->empty())
            fc.diags().error(DiagId::MissingField, c.pointer + "/patterns", "a case needs at least one pattern");
          NodeSpec plist = c.child("patterns");
          for (std::size_t k = 0; k < pats->size(); ++k) {
            NodeSpec p = plist.at(k);
            if (p.json.is_string() && p.json.get<std::string>() == "_") {
              to_body.push_back(fc.emit(Op::Jump));
              continue;
            }
            fc.emit(Op::LoadLocal, slot);
            const Type* pt = fc.expression_value(p, target);
            if (pt && target && !T.assignable(pt, target) && !T.assignable(target, pt))
              fc.diags().error(DiagId::TypeMismatch, p.pointer,
                               "a pattern of type " + pt->name + " can never match a target of type " + target->name);
            fc.emit(Op::Eq);
            to_body.push_back(fc.emit(Op::JumpIfTrue));
          }
        }
        int next_case = fc.emit(Op::Jump);
        for (int j : to_body) fc.patch_jump(j, fc.here());
        bool returns = fc.block(c, "children", true);
        all_return = all_return && returns;
        if (!returns) to_end.push_back(fc.emit(Op::Jump));
        fc.patch_jump(next_case, fc.here());
      }
    }
    if (n.json.contains("default") && !n.json["default"].is_null()) {
      all_return = fc.block(n, "default", true) && all_return;
    } else {
      all_return = false;
    }
    for (int j : to_end) fc.patch_jump(j, fc.here());
    fc.end_scope();
    return all_return;
  }
};

const NodeKindRegistration registered{make_node_kind<MatchNode>};
}  // namespace


}  // namespace flowd::nodes::match_node
