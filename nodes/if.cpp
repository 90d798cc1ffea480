// IF: condition branches (if / else if ...) each with children, and an optional else.
#include "flow/compiler.hpp"

namespace flowd::nodes::if_node {

namespace {
NodeDescription describe() {
  return {
      .node = "IF",
      .labels = {"If"},
      .group = PaletteGroup::Control,
      .help = "Runs the first branch whose condition is true (if / else if ...), or else the else nodes.",
      .example = R"~({"node": "IF", "branches": [{"condition": "x > 0", "children": [...]}], "else": [...]})~",
      .fields = {
          {.key = "branches",
           .field_type = FieldType::Branches,
           .required = true,
           .help = "The if branch followed by any else-if branches; the first whose condition is true runs.",
           .example = R"~([{"condition": "self.username == \"\"", "children": [...]}])~",
           .at_least_one = true,
           .fields = {
               {.key = "condition",
                .field_type = FieldType::Expression,
                .type = "boolean",
                .required = true,
                .help = "Condition of the branch.",
                .example = R"~("self.username == \"\"")~"},
               {.key = "children",
                .field_type = FieldType::Nodes,
                .required = true,
                .help = "Nodes run when the condition is true.",
                .example = R"~([{"node": "RETURN"}])~"},
               {.key = "label",
                .field_type = FieldType::String,
                .help = "Label of the branch, shown in the diagram.",
                .example = R"~("Then")~"},
           }},
          {.key = "else",
           .field_type = FieldType::Nodes,
           .help = "Nodes run when no branch condition is true.",
           .example = R"~([{"node": "RETURN"}])~"},
      }};
}

class IfNode final : public NodeKind {
 public:
  IfNode() : NodeKind(describe()) {}
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    const Json* branches = fc.field(n, "branches", true, Json::value_t::array);
    if (!branches) return false;
    if (branches->empty()) {
      fc.diags().error(DiagId::MissingField, n.pointer + "/branches", "an IF needs at least one branch with a condition");
      return false;
    }
    NodeSpec list = n.child("branches");
    std::vector<int> to_end;
    bool all_return = true;
    std::vector<Narrowing> earlier;  // conditions that were false to reach a later branch
    for (std::size_t i = 0; i < branches->size(); ++i) {
      NodeSpec br = list.at(i);
      if (!br.json.is_object()) {
        fc.diags().error(DiagId::WrongFieldType, br.pointer, "a branch must be an object with \"condition\" and \"children\"");
        continue;
      }
      fc.check_branch_keys(br, description().field("branches")->fields);
      fc.begin_scope();
      for (const auto& nr : earlier) fc.narrow(nr, false);
      Narrowing nr;
      fc.condition_field(br, "condition", &nr);
      int skip = fc.emit(Op::JumpIfFalse);
      fc.begin_scope();
      fc.narrow(nr, true);
      bool returns = fc.block(br, "children", true);
      fc.end_scope();
      fc.end_scope();
      all_return = all_return && returns;
      if (!returns) to_end.push_back(fc.emit(Op::Jump));
      fc.patch_jump(skip, fc.here());
      earlier.push_back(nr);
    }
    if (n.json.contains("else") && !n.json["else"].is_null()) {
      fc.begin_scope();
      for (const auto& nr : earlier) fc.narrow(nr, false);
      all_return = fc.block(n, "else", true) && all_return;
      fc.end_scope();
    } else {
      // A guard (`if x is error { return ... }`): when every branch returns, the code after the IF
      // runs only when every condition was false, so the narrowed types hold for the rest of the block.
      if (all_return)
        for (const auto& nr : earlier) fc.narrow(nr, false);
      all_return = false;
    }
    for (int j : to_end) fc.patch_jump(j, fc.here());
    return all_return;
  }
};

const NodeKindRegistration registered{make_node_kind<IfNode>};
}  // namespace


}  // namespace flowd::nodes::if_node
