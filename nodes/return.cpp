// RETURN: ends the function, with an optional value.
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class ReturnNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "RETURN"; }
  std::string_view palette_label() const override { return "Return"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "expression"});
    if (n.json.contains("expression") && !n.json["expression"].is_null()) {
      if (fc.expression_field(n, "expression", fc.return_type())) fc.emit(Op::Return);
      return true;
    }
    if (!fc.types().assignable(fc.types().nil(), fc.return_type())) {
      fc.diags().error(DiagId::MissingReturn, n.pointer,
                       "this RETURN needs an \"expression\": the function returns " + fc.return_type()->name);
      return true;
    }
    fc.emit(Op::ReturnNil);
    return true;
  }
};
}  // namespace

std::unique_ptr<NodeKind> make_return() { return std::make_unique<ReturnNode>(); }

}  // namespace flowd::nodes
