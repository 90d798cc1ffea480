// Compiles one function (a handler, a class initializer, a module-level expression) from the
// flow's JSON into bytecode: names become slots, expressions are parsed and type-checked once,
// and nodes are compiled by their registered NodeKind.
#pragma once
#include <deque>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flow/node_kind.hpp"
#include "lang/ast.hpp"
#include "lang/builtins.hpp"
#include "runtime/natives.hpp"
#include "runtime/program.hpp"
#include "support/diagnostics.hpp"

namespace flowd {

struct ParseError;

// What every function compiler of one flow shares.
struct ModuleContext {
  Program& program;
  Diagnostics& diags;
  const NodeRegistry& registry;
  BuiltinTable builtins;
  explicit ModuleContext(Program& p, Diagnostics& d, const NodeRegistry& r)
      : program(p), diags(d), registry(r), builtins(*p.types) {
    program.natives = link_natives(builtins.native_names());
  }
  const Type* class_type(std::string_view name) const;
  const Type* resolve_type(const std::string& text, const std::string& pointer);
  int global_index(std::string_view name) const;
  const UserFunction* user_function(std::string_view name) const;
  // A library function or a flow-defined one (whose signature is kept as a Builtin with user_function set).
  const Builtin* callable(std::string_view name) const;
  std::vector<std::string> callable_names() const;
  std::deque<Builtin> user_signatures;
  std::unordered_map<std::string, int> constant_index;
};

// Operand fields of an instruction are 16 bits: the compiler refuses flows that would not fit.
inline constexpr int kMaxLocals = 65535;
inline constexpr std::size_t kMaxConstants = 65535;

bool is_identifier(std::string_view s);
bool is_reserved_word(std::string_view s);

// A local whose type is narrowed inside a branch (`if x is error`).
struct Narrowing {
  int slot = -1;
  std::string name;
  const Type* when_true = nullptr;
  const Type* when_false = nullptr;
};

class FunctionCompiler {
 public:
  FunctionCompiler(ModuleContext& module, Function& fn, const ClassInfo* self_class, const Type* return_type);

  // ---- context
  Program& program() { return module_.program; }
  TypeTable& types() { return *module_.program.types; }
  Diagnostics& diags() { return module_.diags; }
  const Type* return_type() const { return return_type_; }
  const NodeRegistry& registry() const { return module_.registry; }

  // ---- fields of a node (reports E101/E102 and returns nullopt / null when missing or wrong)
  const Json* field(const NodeSpec& n, std::string_view key, bool required, Json::value_t expected);
  std::optional<std::string> string_field(const NodeSpec& n, std::string_view key, bool required);
  std::optional<std::string> identifier_field(const NodeSpec& n, std::string_view key, bool required);
  bool bool_field(const NodeSpec& n, std::string_view key, bool default_value);
  // A "type" field; "var" or absent gives null with ok = true.
  const Type* type_field(const NodeSpec& n, std::string_view key, bool& ok);
  // Warns about keys that look like misspellings of known ones.
  void check_keys(const NodeSpec& n, const std::vector<std::string_view>& known);
  // The same for a branch object (an IF branch, a MATCH case, onFail), whose keys its kind describes.
  void check_branch_keys(const NodeSpec& n, const std::vector<FieldDescription>& fields) { check_keys(n, field_keys(fields)); }

  // ---- expressions: each leaves exactly one value on the operand stack
  // Compiles the expression string at n[key]; checks it is assignable to `expected` (if given).
  // Returns its static type, or null when an error was reported.
  const Type* expression_field(const NodeSpec& n, std::string_view key, const Type* expected);
  const Type* condition_field(const NodeSpec& n, std::string_view key, Narrowing* narrowing);
  // The initial value of a variable declared `declared` (null: no type given) named `name`. A
  // computed value that does not fit is reported once, at the "type" field; a literal that does
  // not fit, or a value that fits once its error is checked, at the expression. Returns the type to
  // declare the variable with (null: its uses are not checked again).
  const Type* declared_variable_value(const NodeSpec& n, std::string_view key, const Type* declared,
                                      const std::string& name);
  // A call written as a node: function name and named arguments as a JSON object of expressions.
  const Type* named_call(const NodeSpec& n, std::string_view function_key, std::string_view args_key);
  // Binds the value on the stack to n["variable"] (declared with n["type"]), or pops it.
  // `check` first returns an error value from the function. Reports when an error would be dropped.
  void bind_result(const NodeSpec& n, const Type* t, bool check, bool must_handle_error);
  // Assignment target at n[target_key] = expression at n[expr_key].
  void assignment(const NodeSpec& n, std::string_view target_key, std::string_view expr_key);

  // ---- locals and scopes
  int declare_local(const NodeSpec& n, std::string_view key, const std::string& name, const Type* type);
  void begin_scope();
  void end_scope();
  void narrow(const Narrowing& nr, bool when_true);

  // ---- code
  int emit(Op op, int a = 0, int b = 0, int u8 = 0);
  int here() const { return static_cast<int>(fn_.code.size()); }
  void patch_jump(int at, int target) { fn_.code[static_cast<std::size_t>(at)].b = target; }
  // Compiles the node list at n[key] in a new scope. Returns true when it always returns.
  bool block(const NodeSpec& n, std::string_view key, bool required);
  // Compiles a whole function body (the node list at n["nodes"]) and its implicit return.
  void body(const NodeSpec& fn_spec);
  int constant(Value v);
  // An expression string that is itself the JSON value at v (an element of an array).
  const Type* expression_value(const NodeSpec& v, const Type* expected);
  // Emits `check` of the value on the stack: inside ERROR_HANDLER it jumps to the on-fail block,
  // elsewhere it returns the error from the function. Returns false (after reporting) if neither is possible.
  bool emit_check(const std::string& pointer);
  // Emits a FAIL of the error on the stack (same targets as check).
  bool emit_fail(const std::string& pointer);
  int hidden_local(const Type* type);
  // A local that names an existing slot (the error variable of an on-fail block).
  void alias_local(const std::string& name, int slot, const Type* type);

  // NEW_CONNECTION: compiles the connection settings of n (remoteHost, remotePort, timeout,
  // writeTimeout, secureSocket) onto the stack and emits Op::Connect, which leaves tcp:Client|error.
  // Returns false when an error was reported.
  bool emit_connect(const NodeSpec& n);
  // A list of strings given as a JSON array of plain strings, or as an expression of type string[].
  bool string_list(const NodeSpec& n, std::string_view key);

  // Loop bookkeeping for BREAK/CONTINUE.
  struct Loop { int continue_target; std::vector<int> break_jumps; };
  std::vector<Loop>& loops() { return loops_; }
  // do / on fail: where check and FAIL go while compiling a do block.
  struct FailTarget { int error_slot; std::vector<int> jumps; };
  std::vector<FailTarget>& fail_targets() { return fail_targets_; }

  // FOREACH: compiles the collection at n[key] into hidden locals; returns the element type.
  struct Iteration { IterKind kind; int slot; const Type* elem; };
  std::optional<Iteration> foreach_collection(const NodeSpec& n, std::string_view key);

 private:
  // narrowed: an entry made by an `is` test; the variable cannot be assigned while it is visible.
  struct Local { std::string name; int slot; const Type* type; bool narrowed; };
  struct ExprCtx { const NodeSpec* node; std::string_view key; std::string_view src; std::string pointer; };

  void set_site(const NodeSpec& node);
  int new_slot(const NodeSpec& n, const std::string& name, const Type* type);
  void push_local(Local l);
  const Local* find_local(std::string_view name) const;
  std::vector<std::string> visible_names() const;

  const Type* expr(const Expr& e, ExprCtx& c, const Type* expected);
  const Type* expr_name(const Expr& e, ExprCtx& c);
  const Type* expr_field(const Expr& e, ExprCtx& c);
  const Type* expr_method(const Expr& e, ExprCtx& c);
  const Type* expr_call(const Expr& e, ExprCtx& c);
  const Type* expr_binary(const Expr& e, ExprCtx& c);
  const Type* expr_template(const Expr& e, ExprCtx& c);
  const Type* expr_literal_list(const Expr& e, ExprCtx& c, const Type* expected);
  const Type* expr_index(const Expr& e, ExprCtx& c);
  const Type* expr_cast(const Expr& e, ExprCtx& c);
  // Checks and emits a call of a builtin; args are (name or "", expression) pairs.
  struct Arg { std::string name; const Expr* expr; ExprCtx* ctx; };  // ctx null: the call's own
  // `receiver`: the type of an already-compiled receiver (a method call), or null.
  const Type* call_builtin(const Builtin& b, const Type* receiver, const std::vector<Arg>& args, ExprCtx& c,
                           const Expr& at);
  const Type* resolve_type_in(const std::string& text, ExprCtx& c, int pos);
  void error_at(ExprCtx& c, DiagId id, const Expr& e, std::string msg);
  void error_span(ExprCtx& c, DiagId id, int pos, int len, std::string msg);
  // E201 (or E213 for a literal out of range), with a hint for the usual slips of writing an
  // expression inside a JSON string.
  void syntax_error(ExprCtx& c, const ParseError& e);
  void mismatch(ExprCtx& c, const Expr& e, const Type* got, const Type* want, std::string_view what);
  Narrowing narrowing_of(const Expr& is_test);
  const Type* compile_expression_text(const NodeSpec& n, std::string_view key, const std::string& src,
                                      const Type* expected, Narrowing* narrowing);

  ModuleContext& module_;
  Function& fn_;
  const ClassInfo* self_class_;
  const Type* return_type_;
  std::vector<Local> locals_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_name_;  // indexes into locals_
  std::vector<std::size_t> scopes_;
  std::vector<Loop> loops_;
  std::vector<FailTarget> fail_targets_;
  std::uint32_t site_ = 0;
  int next_slot_ = 0;
  bool too_large_reported_ = false;
};

}  // namespace flowd
