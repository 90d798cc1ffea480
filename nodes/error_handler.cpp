// ERROR_HANDLER (do / on fail): a check or FAIL inside `children` goes to `onFail` with the error
// bound to `onFail.errorVariable`, instead of returning from the function.
#include "flow/compiler.hpp"
#include "nodes/nodes.hpp"

namespace flowd::nodes {

namespace {
class ErrorHandlerNode final : public NodeKind {
 public:
  std::string_view kind() const override { return "ERROR_HANDLER"; }
  std::string_view palette_label() const override { return "Error Handler"; }
  bool compile(const NodeSpec& n, FunctionCompiler& fc) const override {
    fc.check_keys(n, {"node", "id", "label", "description", "children", "onFail"});
    TypeTable& T = fc.types();
    int error_slot = fc.hidden_local(T.error());
    fc.fail_targets().push_back({error_slot, {}});
    bool body_returns = fc.block(n, "children", true);
    FunctionCompiler::FailTarget target = std::move(fc.fail_targets().back());
    fc.fail_targets().pop_back();
    int skip = body_returns ? -1 : fc.emit(Op::Jump);
    for (int j : target.jumps) fc.patch_jump(j, fc.here());
    const Json* on_fail = fc.field(n, "onFail", true, Json::value_t::object);
    bool fail_returns = false;
    if (on_fail) {
      NodeSpec of = n.child("onFail");
      fc.check_keys(of, {"errorVariable", "errorType", "children", "label"});
      fc.begin_scope();
      if (auto name = fc.identifier_field(of, "errorVariable", false)) fc.alias_local(*name, error_slot, T.error());
      fail_returns = fc.block(of, "children", true);
      fc.end_scope();
    }
    if (skip >= 0) fc.patch_jump(skip, fc.here());
    return body_returns && (fail_returns || target.jumps.empty());
  }
};

}  // namespace

std::unique_ptr<NodeKind> make_error_handler() { return std::make_unique<ErrorHandlerNode>(); }

}  // namespace flowd::nodes
