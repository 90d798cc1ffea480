// IF: condition branches (if / else if ...) each with children, and an optional else.
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class IfNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "IF"; }
  std::string_view palette_label() const override { return "If"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "branches", "else"});
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
      fc.check_keys(br, {"condition", "children", "label"});
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
}  // namespace

std::unique_ptr<NodeKind> make_if() { return std::make_unique<IfNode>(); }

}  // namespace flowd::nodes
