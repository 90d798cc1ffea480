// Type-checks expressions and emits their bytecode. Every error names the expression column.
#include <algorithm>

#include "flow/compiler.hpp"
#include "lang/parser.hpp"

namespace flowd {

namespace {
bool is_numeric(const Type* t) {
  return t->kind == TypeKind::Int || t->kind == TypeKind::Float || t->kind == TypeKind::Byte;
}
bool is_intlike(const Type* t) { return t->kind == TypeKind::Int || t->kind == TypeKind::Byte; }

const char* op_text(Tok op) {
  const char* spelling = token_spelling(op);
  return *spelling ? spelling : "?";
}
}  // namespace

// ---- diagnostics helpers

namespace {
// `text` as it is written inside a JSON string: "\"Hi!\"".
std::string as_json_string(std::string_view text) { return Json(std::string(text)).dump(); }

// The JSON escapes (\r\n) that put these control characters into the expression.
std::string json_escapes(std::string_view control) {
  std::string out;
  for (char ch : control) {
    switch (ch) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        auto u = static_cast<unsigned char>(ch);
        out += std::string("\\u00") + kHex[u >> 4] + kHex[u & 15];
      }
    }
  }
  return out;
}

bool is_control(char ch) { return static_cast<unsigned char>(ch) < 0x20 && ch != ' '; }

// A hint for the mistakes people make writing an expression inside a JSON string, or "". May move
// the caret of `e` onto the characters the hint is about.
std::string syntax_hint(std::string_view src, ParseError& e) {
  auto at = static_cast<std::size_t>(std::clamp(e.pos, 0, static_cast<int>(src.size())));
  // A JSON escape such as \r\n put a real line break into a string literal.
  if (e.message == "unterminated string literal") {
    auto brk = src.find('\n', at);
    if (brk != std::string_view::npos) {
      std::size_t from = brk, to = brk + 1;
      while (from > at + 1 && is_control(src[from - 1]) && src[from - 1] != '\t') --from;
      while (to < src.size() && is_control(src[to]) && src[to] != '\t') ++to;
      e.pos = static_cast<int>(from);
      e.len = static_cast<int>(to - from);
      std::string escapes = json_escapes(src.substr(from, to - from));
      std::string twice;
      for (char ch : escapes) twice += ch == '\\' ? std::string("\\\\") : std::string(1, ch);
      return ": JSON turned " + escapes + " into a real line break; write " + twice + " inside the expression";
    }
  }
  bool quoted = src.find('"') != std::string_view::npos || src.find('`') != std::string_view::npos;
  if (quoted || e.message.rfind("unexpected", 0) != 0) return "";
  if (src.find("${") != std::string_view::npos)
    return "; a template is written in backticks after string: " + as_json_string("string `" + std::string(src) + "`");
  return "; if this is text, a string is written with its quotes inside the JSON string: " +
         as_json_string("\"" + std::string(src) + "\"");
}
}  // namespace

void FunctionCompiler::syntax_error(ExprCtx& c, const ParseError& e) {
  if (e.overflow) {
    error_span(c, DiagId::ConstantOverflow, e.pos, e.len, e.message);
    return;
  }
  ParseError shown = e;
  std::string hint = syntax_hint(c.src, shown);
  error_span(c, DiagId::ExprSyntax, shown.pos, shown.len, shown.message + hint);
}

void FunctionCompiler::error_span(ExprCtx& c, DiagId id, int pos, int len, std::string msg) {
  diags().expr_error(id, c.pointer, c.src, pos, len, std::move(msg));
}

void FunctionCompiler::error_at(ExprCtx& c, DiagId id, const Expr& e, std::string msg) {
  error_span(c, id, e.pos, e.len, std::move(msg));
}

void FunctionCompiler::mismatch(ExprCtx& c, const Expr& e, const Type* got, const Type* want, std::string_view what) {
  std::string msg = std::string(what) + " must be " + want->name + ", but this is " + got->name;
  if (got->contains(TypeKind::Error) && types().assignable(types().without(got, TypeKind::Error), want))
    msg += " (use check to return the error, or test it with 'is error')";
  else if (want->kind == TypeKind::Array && want->elem->kind == TypeKind::Byte && got->kind == TypeKind::String)
    msg += " (use .toBytes())";
  else if (want->kind == TypeKind::String && got->kind == TypeKind::Array && got->elem->kind == TypeKind::Byte)
    msg += " (use string:fromBytes(...))";
  else if (want->kind == TypeKind::String && TypeTable::is_simple(got))
    msg += " (use .toString())";
  error_at(c, DiagId::TypeMismatch, e, std::move(msg));
}

const Type* FunctionCompiler::resolve_type_in(const std::string& text, ExprCtx& c, int pos) {
  std::string err;
  int epos = 0;
  const Type* t = resolve_type_text(types(), text,
                                    [this](std::string_view n) { return module_.class_type(n); }, err, epos);
  if (!t) error_span(c, DiagId::UnknownType, pos + epos, 1, err);
  return t;
}

// ---- entry points

const Type* FunctionCompiler::compile_expression_text(const NodeSpec& n, std::string_view key, const std::string& src,
                                                      const Type* expected, Narrowing* narrowing) {
  ExprCtx c{&n, key, src, n.pointer + "/" + std::string(key)};
  ParseResult r = parse_expression(src);
  if (r.error) {
    syntax_error(c, *r.error);
    return nullptr;
  }
  const Expr& e = *r.expr;
  const Type* t = expr(e, c, expected);
  if (!t) return nullptr;
  if (expected && !types().assignable(t, expected)) {
    mismatch(c, e, t, expected, "the value of \"" + std::string(key) + "\"");
    return nullptr;
  }
  if (narrowing) *narrowing = narrowing_of(e);
  return t;
}

// `x is T` on a local x: its type where the test held, and where it did not.
Narrowing FunctionCompiler::narrowing_of(const Expr& e) {
  Narrowing nr;
  if (e.kind != ExprKind::Is || e.kids[0]->kind != ExprKind::Name) return nr;
  const Local* l = find_local(e.kids[0]->name);
  if (!l || !l->type) return nr;
  std::string err;
  int pos = 0;
  const Type* tested = resolve_type_text(types(), e.type_text,
                                         [this](std::string_view nm) { return module_.class_type(nm); }, err, pos);
  if (!tested) return nr;
  nr.slot = l->slot;
  nr.name = l->name;
  // Narrow to the members of the declared type that the test accepts.
  std::vector<const Type*> yes;
  const auto& members = l->type->kind == TypeKind::Union ? l->type->members : std::vector<const Type*>{l->type};
  for (const Type* m : members)
    if (types().assignable(m, tested)) yes.push_back(m);
  nr.when_true = yes.empty() ? tested : types().union_of(yes);
  nr.when_false = types().without(l->type, tested);
  return nr;
}

const Type* FunctionCompiler::expression_value(const NodeSpec& v, const Type* expected) {
  if (!v.json.is_string()) {
    diags().error(DiagId::WrongFieldType, v.pointer, "must be an expression string");
    return nullptr;
  }
  // The holder is the parent pointer; the key is the last token.
  auto slash = v.pointer.rfind('/');
  NodeSpec holder{v.json, v.pointer.substr(0, slash)};
  std::string key = v.pointer.substr(slash + 1);
  return compile_expression_text(holder, key, v.json.get<std::string>(), expected, nullptr);
}

std::optional<FunctionCompiler::Iteration> FunctionCompiler::foreach_collection(const NodeSpec& n, std::string_view key) {
  const Json* j = field(n, key, true, Json::value_t::string);
  if (!j) return std::nullopt;
  std::string src = j->get<std::string>();
  ExprCtx c{&n, key, src, n.pointer + "/" + std::string(key)};
  ParseResult r = parse_expression(src);
  if (r.error) {
    syntax_error(c, *r.error);
    return std::nullopt;
  }
  const Expr& e = *r.expr;
  TypeTable& T = types();
  int slot = hidden_local(nullptr);
  hidden_local(nullptr);  // slot + 1: the index
  if (e.kind == ExprKind::Range) {
    // a ... b (inclusive) or a ..< b: locals[slot] = end (exclusive), locals[slot+1] = start.
    const Type* end_t = expr(*e.kids[1], c, T.integer());
    if (!end_t) return std::nullopt;
    if (!T.assignable(end_t, T.integer())) {
      mismatch(c, *e.kids[1], end_t, T.integer(), "the end of a range");
      return std::nullopt;
    }
    if (e.op == Tok::DotDotDot) {
      emit(Op::SmallInt, 0, 1);
      emit(Op::AddInt);
    }
    emit(Op::StoreLocal, slot);
    const Type* start_t = expr(*e.kids[0], c, T.integer());
    if (!start_t) return std::nullopt;
    if (!T.assignable(start_t, T.integer())) {
      mismatch(c, *e.kids[0], start_t, T.integer(), "the start of a range");
      return std::nullopt;
    }
    emit(Op::StoreLocal, slot + 1);
    return Iteration{IterKind::Range, slot, T.integer()};
  }
  const Type* t = expr(e, c, nullptr);
  if (!t) return std::nullopt;
  emit(Op::StoreLocal, slot);
  emit(Op::SmallInt, 0, 0);
  emit(Op::StoreLocal, slot + 1);
  if (t->kind == TypeKind::Array)
    return Iteration{t->elem->kind == TypeKind::Byte ? IterKind::Bytes : IterKind::List, slot,
                     t->elem->kind == TypeKind::Byte ? T.byte() : t->elem};
  if (t->kind == TypeKind::Map) return Iteration{IterKind::MapValues, slot, t->elem};
  error_at(c, DiagId::TypeMismatch, e,
           "FOREACH goes over a list, a map's values (m.keys() for its keys) or a range such as 0 ..< n, not " + t->name);
  return std::nullopt;
}

const Type* FunctionCompiler::expression_field(const NodeSpec& n, std::string_view key, const Type* expected) {
  const Json* j = field(n, key, true, Json::value_t::string);
  if (!j) return nullptr;
  return compile_expression_text(n, key, j->get<std::string>(), expected, nullptr);
}

const Type* FunctionCompiler::declared_variable_value(const NodeSpec& n, std::string_view key, const Type* declared,
                                                      const std::string& name) {
  const Json* j = field(n, key, true, Json::value_t::string);
  if (!j) return declared;
  std::string src = j->get<std::string>();
  ExprCtx c{&n, key, src, n.pointer + "/" + std::string(key)};
  ParseResult r = parse_expression(src);
  if (r.error) {
    syntax_error(c, *r.error);
    return declared;
  }
  const Expr& e = *r.expr;
  const Type* t = expr(e, c, declared);
  if (!t) return declared;
  if (!declared) return t;
  if (types().assignable(t, declared)) return declared;
  bool literal = e.kind == ExprKind::NilLit || e.kind == ExprKind::BoolLit || e.kind == ExprKind::IntLit ||
                 e.kind == ExprKind::FloatLit || e.kind == ExprKind::StringLit || e.kind == ExprKind::Template ||
                 e.kind == ExprKind::ArrayLit || e.kind == ExprKind::MapLit;
  bool check_fits = t->contains(TypeKind::Error) && types().assignable(types().without(t, TypeKind::Error), declared);
  if (literal || check_fits || name.empty()) {
    mismatch(c, e, t, declared, "the value of \"" + std::string(key) + "\"");
    return declared;
  }
  // The value was computed: the declaration is the likelier slip, and the uses follow the value.
  std::string type_text = n.json.value("type", std::string());
  std::string convert;
  if (declared->kind == TypeKind::Array && declared->elem->kind == TypeKind::Byte && t->kind == TypeKind::String)
    convert = " (.toBytes())";
  else if (declared->kind == TypeKind::String && t->kind == TypeKind::Array && t->elem->kind == TypeKind::Byte)
    convert = " (string:fromBytes(...))";
  else if (declared->kind == TypeKind::String && TypeTable::is_simple(t))
    convert = " (.toString())";
  diags().expr_error(DiagId::TypeMismatch, n.pointer + "/type", type_text, 0, static_cast<int>(type_text.size()),
                     "'" + name + "' is declared " + declared->name + ", but its expression is " + t->name +
                         ": declare it as " + t->name + " (or leave \"type\" out), or convert the value" + convert);
  return nullptr;
}

const Type* FunctionCompiler::condition_field(const NodeSpec& n, std::string_view key, Narrowing* narrowing) {
  const Json* j = field(n, key, true, Json::value_t::string);
  if (!j) return nullptr;
  return compile_expression_text(n, key, j->get<std::string>(), types().boolean(), narrowing);
}

const Type* FunctionCompiler::named_call(const NodeSpec& n, std::string_view function_key, std::string_view args_key) {
  auto fname = string_field(n, function_key, true);
  if (!fname) return nullptr;
  const Json* args = field(n, args_key, false, Json::value_t::object);
  // Parse every argument first (each is its own expression string with its own pointer).
  struct Parsed { std::string name; std::string src; ExprPtr expr; std::unique_ptr<ExprCtx> ctx; };
  std::vector<Parsed> parsed;
  bool ok = true;
  if (args) {
    NodeSpec args_spec = n.child(args_key);
    // Reserved up front: each context points into its entry's source string, which must not move.
    parsed.reserve(args->size());
    for (auto it = args->begin(); it != args->end(); ++it) {
      if (!it->is_string()) {
        diags().error(DiagId::WrongFieldType, args_spec.pointer + "/" + escape_pointer_token(it.key()),
                      "argument \"" + it.key() + "\" must be an expression string" +
                          (it->is_number() || it->is_boolean() ? " (write \"" + it->dump() + "\")" : ""));
        ok = false;
        continue;
      }
      Parsed& p = parsed.emplace_back();
      p.name = it.key();
      p.src = it->get<std::string>();
      p.ctx = std::make_unique<ExprCtx>(ExprCtx{&n, p.name, p.src, args_spec.pointer + "/" + escape_pointer_token(p.name)});
      ParseResult r = parse_expression(p.src);
      if (r.error) {
        syntax_error(*p.ctx, *r.error);
        ok = false;
        continue;
      }
      p.expr = std::move(r.expr);
    }
  }
  if (!ok) return nullptr;
  const Builtin* b = module_.callable(*fname);
  if (!b) {
    std::string near = closest_name(*fname, module_.callable_names());
    diags().error(DiagId::UnknownFunction, n.pointer + "/" + std::string(function_key),
                  "unknown function '" + *fname + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
    return nullptr;
  }
  // Named arguments: each carries its own context for diagnostics.
  std::vector<Arg> list;
  for (auto& p : parsed) list.push_back(Arg{p.name, p.expr.get(), p.ctx.get()});
  ExprCtx call_ctx{&n, function_key, *fname, n.pointer + "/" + std::string(function_key)};
  Expr at;
  at.pos = 0;
  at.len = static_cast<int>(fname->size());
  return call_builtin(*b, nullptr, list, call_ctx, at);
}

void FunctionCompiler::assignment(const NodeSpec& n, std::string_view target_key, std::string_view expr_key) {
  auto target = string_field(n, target_key, true);
  if (!target) return;
  ExprCtx c{&n, target_key, *target, n.pointer + "/" + std::string(target_key)};
  ParseResult r = parse_expression(*target);
  if (r.error) {
    syntax_error(c, *r.error);
    return;
  }
  const Expr& e = *r.expr;
  switch (e.kind) {
    case ExprKind::Name: {
      if (const Local* l = find_local(e.name)) {
        for (std::size_t i : by_name_[e.name]) {
          if (locals_[i].narrowed) {
            error_at(c, DiagId::NotAssignable, e,
                     "'" + e.name + "' cannot be assigned here: its type is narrowed by an 'is' test around this node "
                     "(store the new value in another variable)");
            return;
          }
        }
        int slot = l->slot;
        if (expression_field(n, expr_key, l->type)) emit(Op::StoreLocal, slot);
        return;
      }
      int g = module_.global_index(e.name);
      if (g >= 0) {
        const GlobalInfo& gi = program().globals[static_cast<std::size_t>(g)];
        if (gi.configurable) {
          error_at(c, DiagId::NotAssignable, e, "'" + e.name + "' is a configurable and cannot be changed");
          return;
        }
        program().has_module_state = true;
        if (expression_field(n, expr_key, gi.type)) emit(Op::StoreGlobal, g);
        return;
      }
      std::string near = closest_name(e.name, visible_names());
      error_at(c, DiagId::UnknownVariable, e,
               "unknown variable '" + e.name + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
      return;
    }
    case ExprKind::Field: {
      const Expr& recv = *e.kids[0];
      if (recv.kind == ExprKind::Self) {
        if (!self_class_) {
          error_at(c, DiagId::UnknownVariable, recv, "'self' is only available in a class method");
          return;
        }
        int idx = self_class_->field_index(e.name);
        if (idx < 0) {
          std::vector<std::string> names;
          for (const auto& f : self_class_->fields) names.push_back(f.name);
          std::string near = closest_name(e.name, names);
          error_span(c, DiagId::UnknownField, e.type_pos, static_cast<int>(e.name.size()),
                     "class " + self_class_->name + " has no variable '" + e.name + "'" +
                         (near.empty() ? "" : " (did you mean '" + near + "'?)"));
          return;
        }
        if (expression_field(n, expr_key, self_class_->fields[static_cast<std::size_t>(idx)].type))
          emit(Op::StoreSelfField, idx);
        return;
      }
      const Type* rt = expr(recv, c, nullptr);
      if (!rt) return;
      if (rt->kind != TypeKind::Object) {
        error_at(c, DiagId::NotAssignable, e, "only class variables can be assigned with '.', not fields of " + rt->name);
        return;
      }
      const ClassInfo& ci = program().classes[static_cast<std::size_t>(rt->class_index)];
      int idx = ci.field_index(e.name);
      if (idx < 0) {
        error_span(c, DiagId::UnknownField, e.type_pos, static_cast<int>(e.name.size()),
                   "class " + ci.name + " has no variable '" + e.name + "'");
        return;
      }
      if (expression_field(n, expr_key, ci.fields[static_cast<std::size_t>(idx)].type)) emit(Op::StoreField, idx);
      return;
    }
    case ExprKind::Index: {
      const Type* ct = expr(*e.kids[0], c, nullptr);
      if (!ct) return;
      if (ct->kind == TypeKind::Array) {
        if (ct->elem->kind == TypeKind::Byte) {
          error_at(c, DiagId::NotAssignable, e, "byte[] values cannot be changed: build a new list instead");
          return;
        }
        if (!expr(*e.kids[1], c, types().integer())) return;
        if (expression_field(n, expr_key, ct->elem)) emit(Op::IndexSet);
        return;
      }
      if (ct->kind == TypeKind::Map) {
        const Type* kt = expr(*e.kids[1], c, types().string());
        if (!kt) return;
        if (kt->kind != TypeKind::String) {
          mismatch(c, *e.kids[1], kt, types().string(), "a map key");
          return;
        }
        if (expression_field(n, expr_key, ct->elem)) emit(Op::IndexSet);
        return;
      }
      error_at(c, DiagId::NotAssignable, e, "only array elements and map entries can be assigned with [...], not " + ct->name);
      return;
    }
    default:
      error_at(c, DiagId::NotAssignable, e,
               "cannot assign to this expression: use a variable, self.field, a[i] or m[key]");
  }
}

// ---- expressions

const Type* FunctionCompiler::expr(const Expr& e, ExprCtx& c, const Type* expected) {
  TypeTable& T = types();
  switch (e.kind) {
    case ExprKind::NilLit: emit(Op::Nil); return T.nil();
    case ExprKind::BoolLit: emit(e.bval ? Op::True : Op::False); return T.boolean();
    case ExprKind::IntLit:
      // Numeric literals take the expected type, as in Ballerina (float f = 1;).
      if (expected && !expected->contains(TypeKind::Int) && expected->contains(TypeKind::Float)) {
        emit(Op::Const, constant(Value::floating(static_cast<double>(e.ival))));
        return T.floating();
      }
      if (e.ival >= INT32_MIN && e.ival <= INT32_MAX) emit(Op::SmallInt, 0, static_cast<int>(e.ival));
      else emit(Op::Const, constant(Value::integer(e.ival)));
      if (expected && expected->kind == TypeKind::Byte && e.ival >= 0 && e.ival <= 255) return T.byte();
      return T.integer();
    case ExprKind::FloatLit: emit(Op::Const, constant(Value::floating(e.fval))); return T.floating();
    case ExprKind::StringLit: emit(Op::Const, constant(Value::string(e.sval))); return T.string();
    case ExprKind::Template: return expr_template(e, c);
    case ExprKind::Name: return expr_name(e, c);
    case ExprKind::Self:
      if (!self_class_) {
        error_at(c, DiagId::UnknownVariable, e, "'self' is only available in a class method");
        return nullptr;
      }
      emit(Op::LoadLocal, 0);
      return self_class_->type;
    case ExprKind::Field: return expr_field(e, c);
    case ExprKind::MethodCall: return expr_method(e, c);
    case ExprKind::Call: return expr_call(e, c);
    case ExprKind::Unary: {
      if (e.op == Tok::Bang) {
        const Type* t = expr(*e.kids[0], c, T.boolean());
        if (!t) return nullptr;
        if (t->kind != TypeKind::Boolean) {
          mismatch(c, *e.kids[0], t, T.boolean(), "the operand of '!'");
          return nullptr;
        }
        emit(Op::Not);
        return t;
      }
      const Type* t = expr(*e.kids[0], c, expected);
      if (!t) return nullptr;
      if (is_intlike(t)) { emit(Op::NegInt); return T.integer(); }
      if (t->kind == TypeKind::Float) { emit(Op::NegFloat); return t; }
      error_at(c, DiagId::TypeMismatch, e, "unary '-' needs an int or a float, not " + t->name);
      return nullptr;
    }
    case ExprKind::Binary: return expr_binary(e, c);
    case ExprKind::Check: {
      const Type* t = expr(*e.kids[0], c, nullptr);
      if (!t) return nullptr;
      if (!t->contains(TypeKind::Error)) {
        error_at(c, DiagId::BadCheck, e, "check is applied to " + t->name + ", which can never be an error");
        return nullptr;
      }
      if (fail_targets_.empty() && !return_type_->contains(TypeKind::Error)) {
        error_at(c, DiagId::BadCheck, e,
                 "check returns an error from the function, but it returns " + return_type_->name +
                     " (put it inside an ERROR_HANDLER, or let the function return error)");
        return nullptr;
      }
      emit_check(c.pointer);
      return T.without(t, TypeKind::Error);
    }
    case ExprKind::New: {
      const Type* ct = module_.class_type(e.name);
      if (!ct) {
        std::vector<std::string> names;
        for (const auto& cl : program().classes) names.push_back(cl.name);
        std::string near = closest_name(e.name, names);
        error_span(c, DiagId::UnknownClass, e.type_pos, static_cast<int>(e.name.size()),
                   "unknown class '" + e.name + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
        return nullptr;
      }
      if (!e.kids.empty()) {
        error_at(c, DiagId::BadArguments, e, "class " + e.name + " takes no constructor arguments");
        return nullptr;
      }
      emit(Op::New, ct->class_index);
      return ct;
    }
    case ExprKind::Is: {
      const Type* t = expr(*e.kids[0], c, nullptr);
      const Type* tested = resolve_type_in(e.type_text, c, e.type_pos);
      if (!t || !tested) return nullptr;
      auto& tests = program().type_tests;
      auto it = std::find(tests.begin(), tests.end(), tested);
      int idx = static_cast<int>(it - tests.begin());
      if (it == tests.end()) tests.push_back(tested);
      emit(Op::IsType, idx);
      return T.boolean();
    }
    case ExprKind::Cast: return expr_cast(e, c);
    case ExprKind::Conditional: {
      if (!expr(*e.kids[0], c, T.boolean())) return nullptr;
      // `x is T ? a : b` narrows x in a and in b, as an IF does.
      Narrowing nr = narrowing_of(*e.kids[0]);
      int jf = emit(Op::JumpIfFalse);
      begin_scope();
      narrow(nr, true);
      const Type* a = expr(*e.kids[1], c, expected);
      end_scope();
      int jend = emit(Op::Jump);
      patch_jump(jf, here());
      begin_scope();
      narrow(nr, false);
      const Type* b = expr(*e.kids[2], c, expected);
      end_scope();
      patch_jump(jend, here());
      if (!a || !b) return nullptr;
      return T.union_of({a, b});
    }
    case ExprKind::Elvis: {
      const Type* a = expr(*e.kids[0], c, expected ? T.optional(expected) : nullptr);
      if (!a) return nullptr;
      int j = emit(Op::ElvisJump);
      const Type* b = expr(*e.kids[1], c, expected);
      patch_jump(j, here());
      if (!b) return nullptr;
      return T.union_of({T.without(a, TypeKind::Nil), b});
    }
    case ExprKind::ArrayLit:
    case ExprKind::MapLit: return expr_literal_list(e, c, expected);
    case ExprKind::Index: return expr_index(e, c);
    case ExprKind::Range:
      error_at(c, DiagId::TypeMismatch, e, "a range (a ... b) can only be the collection of a FOREACH");
      return nullptr;
  }
  return nullptr;
}

const Type* FunctionCompiler::expr_name(const Expr& e, ExprCtx& c) {
  if (const Local* l = find_local(e.name)) {
    emit(Op::LoadLocal, l->slot);
    return l->type;  // null for a variable whose declaration had an error (already reported)
  }
  int g = module_.global_index(e.name);
  if (g >= 0) {
    emit(Op::LoadGlobal, g);
    if (!program().globals[static_cast<std::size_t>(g)].configurable) program().has_module_state = true;
    return program().globals[static_cast<std::size_t>(g)].type;
  }
  std::string near = closest_name(e.name, visible_names());
  std::string hint;
  if (!near.empty()) hint = " (did you mean '" + near + "'?)";
  else if (self_class_ && self_class_->field_index(e.name) >= 0) hint = " (class variables are read as self." + e.name + ")";
  error_at(c, DiagId::UnknownVariable, e, "unknown variable '" + e.name + "'" + hint);
  return nullptr;
}

const Type* FunctionCompiler::expr_field(const Expr& e, ExprCtx& c) {
  const Expr& recv = *e.kids[0];
  int name_len = static_cast<int>(e.name.size());
  if (recv.kind == ExprKind::Self) {
    if (!self_class_) {
      error_at(c, DiagId::UnknownVariable, recv, "'self' is only available in a class method");
      return nullptr;
    }
    int idx = self_class_->field_index(e.name);
    if (idx < 0) {
      std::vector<std::string> names;
      for (const auto& f : self_class_->fields) names.push_back(f.name);
      std::string near = closest_name(e.name, names);
      error_span(c, DiagId::UnknownField, e.type_pos, name_len,
                 "class " + self_class_->name + " has no variable '" + e.name + "'" +
                     (near.empty() ? "" : " (did you mean '" + near + "'?)"));
      return nullptr;
    }
    emit(Op::LoadSelfField, idx);
    return self_class_->fields[static_cast<std::size_t>(idx)].type;
  }
  const Type* rt = expr(recv, c, nullptr);
  if (!rt) return nullptr;
  if (rt->kind == TypeKind::Caller) {
    static const std::pair<const char*, CallerField> fields[] = {
        {"remoteHost", CallerField::RemoteHost}, {"remotePort", CallerField::RemotePort},
        {"localHost", CallerField::LocalHost},   {"localPort", CallerField::LocalPort},
        {"id", CallerField::Id}};
    for (const auto& [name, f] : fields) {
      if (e.name == name) {
        emit(Op::LoadCallerField, static_cast<int>(f));
        bool is_port = f == CallerField::RemotePort || f == CallerField::LocalPort;
        return is_port ? types().integer() : types().string();
      }
    }
    std::string near = closest_name(e.name, {"remoteHost", "remotePort", "localHost", "localPort", "id"});
    error_span(c, DiagId::UnknownField, e.type_pos, name_len,
               "tcp:Caller has no field '" + e.name + "' (it has remoteHost, remotePort, localHost, localPort, id)" +
                   (near.empty() ? "" : "; did you mean '" + near + "'?"));
    return nullptr;
  }
  if (rt->kind == TypeKind::Object) {
    const ClassInfo& ci = program().classes[static_cast<std::size_t>(rt->class_index)];
    int idx = ci.field_index(e.name);
    if (idx >= 0) {
      emit(Op::LoadField, idx);
      return ci.fields[static_cast<std::size_t>(idx)].type;
    }
    error_span(c, DiagId::UnknownField, e.type_pos, name_len, "class " + ci.name + " has no variable '" + e.name + "'");
    return nullptr;
  }
  std::string msg = "a value of type " + rt->name + " has no field '" + e.name + "'";
  if (!BuiltinTable::method_module(rt).empty()) msg += " (methods are called with (): ." + e.name + "())";
  error_span(c, DiagId::UnknownField, e.type_pos, name_len, std::move(msg));
  return nullptr;
}

const Type* FunctionCompiler::expr_method(const Expr& e, ExprCtx& c) {
  const Expr& recv = *e.kids[0];
  // The receiver's type decides the library module; its code is the first argument.
  const Type* rt = expr(recv, c, nullptr);
  if (!rt) return nullptr;
  std::string_view module = BuiltinTable::method_module(rt);
  const Builtin* b = nullptr;
  if (!module.empty()) b = module_.builtins.find(std::string(module) + ":" + e.name);
  if (!b && e.name == "toString" && rt->kind != TypeKind::Union) b = module_.builtins.find("value:toString");
  if (!b) {
    std::string msg;
    if (rt->kind == TypeKind::Union && rt->contains(TypeKind::Error))
      msg = "this value may be an error (" + rt->name + "): use check, or test it with 'is error', before calling ." + e.name + "()";
    else if (rt->kind == TypeKind::Union && rt->contains(TypeKind::Nil))
      msg = "this value may be () (" + rt->name + "): test it with 'is', or give a default with ?:, before calling ." + e.name + "()";
    else if (rt->kind == TypeKind::Caller)
      msg = "'" + e.name + "' is a remote action of tcp:Caller: use a REMOTE_ACTION_CALL node";
    else {
      std::vector<std::string> names = module.empty() ? std::vector<std::string>{} : module_.builtins.names_in(module);
      std::string near = closest_name(e.name, names);
      msg = "a value of type " + rt->name + " has no method '" + e.name + "'" +
            (near.empty() ? "" : " (did you mean '" + near + "'?)");
    }
    error_span(c, DiagId::UnknownMethod, e.type_pos, static_cast<int>(e.name.size()), std::move(msg));
    return nullptr;
  }
  std::vector<Arg> args;
  for (std::size_t i = 1; i < e.kids.size(); ++i)
    args.push_back(Arg{e.strings.size() > i - 1 ? e.strings[i - 1] : "", e.kids[i].get(), nullptr});
  return call_builtin(*b, rt, args, c, e);
}

const Type* FunctionCompiler::expr_call(const Expr& e, ExprCtx& c) {
  const Builtin* b = module_.callable(e.name);
  if (!b) {
    std::string near = closest_name(e.name, module_.callable_names());
    error_span(c, DiagId::UnknownFunction, e.pos, static_cast<int>(e.name.size()),
               "unknown function '" + e.name + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
    return nullptr;
  }
  std::vector<Arg> args;
  for (std::size_t i = 0; i < e.kids.size(); ++i)
    args.push_back(Arg{e.strings.size() > i ? e.strings[i] : "", e.kids[i].get(), nullptr});
  return call_builtin(*b, nullptr, args, c, e);
}

const Type* FunctionCompiler::call_builtin(const Builtin& b, const Type* receiver, const std::vector<Arg>& args,
                                          ExprCtx& c, const Expr& at) {
  TypeTable& T = types();
  // Argument i's own context: named_call() gives each argument its own field.
  auto ctx_of = [&](std::size_t i) -> ExprCtx& { return args[i].ctx ? *args[i].ctx : c; };
  std::string fname = b.name;
  // Assign arguments to parameters: receiver, positional, then named.
  std::vector<const Expr*> slots(b.params.size(), nullptr);
  std::vector<ExprCtx*> slot_ctx(b.params.size(), &c);
  std::vector<std::pair<std::string, std::pair<const Expr*, ExprCtx*>>> extra;  // log key-values
  std::size_t next = 0;
  if (receiver) slots[next++] = &at;  // already compiled: its type is `receiver`
  bool seen_named = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const Arg& a = args[i];
    ExprCtx& ac = ctx_of(i);
    if (a.name.empty()) {
      if (seen_named) {
        error_at(ac, DiagId::BadArguments, *a.expr, "a positional argument cannot follow a named one");
        return nullptr;
      }
      if (next >= b.params.size()) {
        error_at(ac, DiagId::BadArguments, *a.expr, fname + " takes at most " + std::to_string(b.params.size() - (receiver ? 1 : 0)) + " argument(s)");
        return nullptr;
      }
      slot_ctx[next] = &ac;
      slots[next++] = a.expr;
      continue;
    }
    seen_named = true;
    auto p = std::find_if(b.params.begin(), b.params.end(), [&](const BuiltinParam& bp) { return bp.name == a.name; });
    if (p == b.params.end()) {
      if (b.is_log) {
        // Key names go into log lines unquoted: keep them to plain names.
        if (!is_identifier(a.name)) {
          diags().expr_error(DiagId::BadName, ac.pointer, ac.src, 0, static_cast<int>(ac.src.size()),
                             "a log key must be a plain name (letters, digits and _), not \"" + a.name + "\"");
          return nullptr;
        }
        extra.push_back({a.name, {a.expr, &ac}});
        continue;
      }
      std::vector<std::string> names;
      for (const auto& bp : b.params) names.push_back(bp.name);
      std::string near = closest_name(a.name, names);
      std::string list;
      for (std::size_t k = receiver ? 1 : 0; k < b.params.size(); ++k) list += (list.empty() ? "" : ", ") + b.params[k].name;
      diags().expr_error(DiagId::BadArguments, ac.pointer, ac.src, 0, static_cast<int>(ac.src.size()),
                         fname + " has no parameter '" + a.name + "'" +
                             (near.empty() ? "" : " (did you mean '" + near + "'?)") + "; its parameters are: " + list);
      return nullptr;
    }
    std::size_t idx = static_cast<std::size_t>(p - b.params.begin());
    if (slots[idx]) {
      error_at(ac, DiagId::BadArguments, *a.expr, "parameter '" + a.name + "' is given twice");
      return nullptr;
    }
    slots[idx] = a.expr;
    slot_ctx[idx] = &ac;
  }
  std::size_t given = 0;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i]) {
      if (given != i) {
        error_at(c, DiagId::BadArguments, at, fname + ": give '" + b.params[given].name + "' too, since '" + b.params[i].name + "' is given");
        return nullptr;
      }
      ++given;
    } else if (!b.params[i].optional) {
      error_span(c, DiagId::BadArguments, at.pos, at.len, fname + " needs the argument '" + b.params[i].name + "'");
      return nullptr;
    }
  }
  if (b.is_log) {
    // msg, error (or nil), then the key-values in order.
    const Type* mt = expr(*slots[0], *slot_ctx[0], T.string());
    if (!mt) return nullptr;
    if (!T.assignable(mt, T.string())) {
      mismatch(*slot_ctx[0], *slots[0], mt, T.string(), "the \"msg\" argument");
      return nullptr;
    }
    std::vector<std::string> keys;
    if (slots[1]) {
      const Type* et = expr(*slots[1], *slot_ctx[1], T.error());
      if (!et) return nullptr;
      if (!T.assignable(et, T.error())) {
        mismatch(*slot_ctx[1], *slots[1], et, T.error(), "the \"error\" argument");
        return nullptr;
      }
    } else {
      emit(Op::Nil);
    }
    for (auto& [k, v] : extra) {
      if (!expr(*v.first, *v.second, nullptr)) return nullptr;
      keys.push_back(k);
    }
    program().key_sets.push_back(std::move(keys));
    emit(Op::Log, static_cast<int>(program().key_sets.size() - 1), static_cast<int>(extra.size()),
         static_cast<int>(b.level));
    return T.nil();
  }
  std::vector<const Type*> arg_types;
  for (std::size_t i = 0; i < given; ++i) {
    // The first argument is the receiver (written v.f() or f(v)); generic parameters follow its type.
    const Type* recv = receiver ? receiver : arg_types.empty() ? nullptr : arg_types[0];
    const Type* want = b.params[i].type;
    if (b.params[i].receiver_element && recv && (recv->kind == TypeKind::Array || recv->kind == TypeKind::Map))
      want = recv->elem;
    const Type* t = (receiver && i == 0) ? receiver : expr(*slots[i], *slot_ctx[i], want);
    if (!t) return nullptr;
    if (want && !T.assignable(t, want)) {
      std::string what = (receiver && i == 0) ? "the receiver of ." + b.name.substr(b.name.find(':') + 1) + "()"
                                              : "argument '" + b.params[i].name + "' of " + fname;
      mismatch(*slot_ctx[i], (receiver && i == 0) ? *at.kids[0] : *slots[i], t, want, what);
      return nullptr;
    }
    arg_types.push_back(t);
  }
  if (b.mutates_receiver && !arg_types.empty() && arg_types[0]->kind == TypeKind::Array &&
      arg_types[0]->elem->kind == TypeKind::Byte) {
    error_at(c, DiagId::TypeMismatch, at, "byte[] values cannot be changed: build a new list instead");
    return nullptr;
  }
  const Type* ret = b.ret;
  if (b.typer) {
    std::string err;
    ret = b.typer(T, arg_types, err);
    if (!ret) {
      error_at(c, DiagId::TypeMismatch, at, err);
      return nullptr;
    }
  }
  if (b.user_function >= 0) emit(Op::Call, b.user_function, static_cast<int>(given));
  else emit(Op::CallNative, b.native, static_cast<int>(given));
  return ret;
}

const Type* FunctionCompiler::expr_binary(const Expr& e, ExprCtx& c) {
  TypeTable& T = types();
  Tok op = e.op;
  int op_pos = e.type_pos;
  int op_len = static_cast<int>(std::string_view(op_text(op)).size());
  if (op == Tok::AndAnd || op == Tok::OrOr) {
    const Type* a = expr(*e.kids[0], c, T.boolean());
    if (!a) return nullptr;
    if (a->kind != TypeKind::Boolean) { mismatch(c, *e.kids[0], a, T.boolean(), std::string("the left operand of '") + op_text(op) + "'"); return nullptr; }
    int j = emit(op == Tok::AndAnd ? Op::AndJump : Op::OrJump);
    const Type* b = expr(*e.kids[1], c, T.boolean());
    if (!b) return nullptr;
    if (b->kind != TypeKind::Boolean) { mismatch(c, *e.kids[1], b, T.boolean(), std::string("the right operand of '") + op_text(op) + "'"); return nullptr; }
    patch_jump(j, here());
    return T.boolean();
  }
  // Numeric literals follow the other operand's type (1.5 * 2 is float arithmetic).
  const Expr& L = *e.kids[0];
  const Expr& R = *e.kids[1];
  int left_start = here();
  const Type* a = expr(L, c, R.kind == ExprKind::FloatLit ? T.floating() : nullptr);
  if (!a) return nullptr;
  const Type* b = expr(R, c, a->kind == TypeKind::Float ? T.floating() : nullptr);
  if (!b) return nullptr;
  if (a->kind == TypeKind::Int && b->kind == TypeKind::Float && L.kind == ExprKind::IntLit) {
    // The left literal becomes a float: patch its load (the first instruction of the left side).
    Instr& in = fn_.code[static_cast<std::size_t>(left_start)];
    in.op = Op::Const;
    in.a = static_cast<std::uint16_t>(constant(Value::floating(static_cast<double>(L.ival))));
    a = T.floating();
  }
  auto fail = [&]() -> const Type* {
    error_span(c, DiagId::TypeMismatch, op_pos, op_len,
               std::string("operator '") + op_text(op) + "' is not defined for " + a->name + " and " + b->name +
                   (is_numeric(a) && is_numeric(b) ? " (convert one side with <float> or <int>)" : ""));
    return nullptr;
  };
  switch (op) {
    case Tok::Plus:
    case Tok::Minus:
    case Tok::Star:
    case Tok::Slash:
    case Tok::Percent: {
      if (is_intlike(a) && is_intlike(b)) {
        static const Op ops[] = {Op::AddInt, Op::SubInt, Op::MulInt, Op::DivInt, Op::ModInt};
        emit(ops[op == Tok::Plus ? 0 : op == Tok::Minus ? 1 : op == Tok::Star ? 2 : op == Tok::Slash ? 3 : 4]);
        return T.integer();
      }
      if (a->kind == TypeKind::Float && b->kind == TypeKind::Float) {
        static const Op ops[] = {Op::AddFloat, Op::SubFloat, Op::MulFloat, Op::DivFloat, Op::ModFloat};
        emit(ops[op == Tok::Plus ? 0 : op == Tok::Minus ? 1 : op == Tok::Star ? 2 : op == Tok::Slash ? 3 : 4]);
        return T.floating();
      }
      if (op == Tok::Plus && a->kind == TypeKind::String && b->kind == TypeKind::String) {
        emit(Op::Concat);
        return T.string();
      }
      return fail();
    }
    case Tok::Lt:
    case Tok::Le:
    case Tok::Gt:
    case Tok::Ge: {
      Cmp cmp = op == Tok::Lt ? Cmp::Lt : op == Tok::Le ? Cmp::Le : op == Tok::Gt ? Cmp::Gt : Cmp::Ge;
      if (is_intlike(a) && is_intlike(b)) emit(Op::CmpInt, static_cast<int>(cmp));
      else if (a->kind == TypeKind::Float && b->kind == TypeKind::Float) emit(Op::CmpFloat, static_cast<int>(cmp));
      else if (a->kind == TypeKind::String && b->kind == TypeKind::String) emit(Op::CmpString, static_cast<int>(cmp));
      else return fail();
      return T.boolean();
    }
    case Tok::EqEq:
    case Tok::NotEq:
    case Tok::EqEqEq:
    case Tok::NotEqEq: {
      // The two sides must be able to hold the same value.
      auto members = [](const Type* t) { return t->kind == TypeKind::Union ? t->members : std::vector<const Type*>{t}; };
      bool overlap = a->kind == TypeKind::Any || b->kind == TypeKind::Any;
      for (const Type* x : members(a))
        for (const Type* y : members(b))
          if (T.assignable(x, y) || T.assignable(y, x)) overlap = true;
      if (!overlap) {
        error_span(c, DiagId::TypeMismatch, op_pos, op_len,
                   "a value of type " + a->name + " can never equal one of type " + b->name);
        return nullptr;
      }
      emit(op == Tok::EqEq ? Op::Eq : op == Tok::NotEq ? Op::Ne : op == Tok::EqEqEq ? Op::RefEq : Op::RefNe);
      return T.boolean();
    }
    default: return fail();
  }
}

const Type* FunctionCompiler::expr_template(const Expr& e, ExprCtx& c) {
  int pushed = 0;
  for (std::size_t i = 0; i < e.strings.size(); ++i) {
    if (!e.strings[i].empty()) {
      emit(Op::Const, constant(Value::string(e.strings[i])));
      ++pushed;
    }
    if (i < e.kids.size()) {
      const Expr& k = *e.kids[i];
      const Type* t = expr(k, c, nullptr);
      if (!t) return nullptr;
      if (!TypeTable::is_simple(t)) {
        error_at(c, DiagId::TypeMismatch, k,
                 "a string template can only insert int, float, boolean, byte or string values, not " + t->name +
                     (t->contains(TypeKind::Error) ? " (use check, or .message() of an error)" : ""));
        return nullptr;
      }
      ++pushed;
    }
  }
  if (pushed == 0) emit(Op::Const, constant(Value::string("")));
  else if (pushed > 1 || (e.kids.size() == 1 && e.strings[0].empty() && e.strings[1].empty())) emit(Op::Template, pushed);
  return types().string();
}

const Type* FunctionCompiler::expr_literal_list(const Expr& e, ExprCtx& c, const Type* expected) {
  TypeTable& T = types();
  bool is_map = e.kind == ExprKind::MapLit;
  // The expected type, if it has exactly one array (or map) member, gives the element type.
  const Type* want = nullptr;
  if (expected) {
    auto members = expected->kind == TypeKind::Union ? expected->members : std::vector<const Type*>{expected};
    for (const Type* m : members)
      if (m->kind == (is_map ? TypeKind::Map : TypeKind::Array)) want = want ? nullptr : m;
  }
  const Type* elem = want ? want->elem : nullptr;
  std::vector<const Type*> seen;
  for (const auto& k : e.kids) {
    const Type* t = expr(*k, c, elem);
    if (!t) return nullptr;
    if (elem && !T.assignable(t, elem)) {
      mismatch(c, *k, t, elem, is_map ? "a value of this map" : "an element of this list");
      return nullptr;
    }
    seen.push_back(t);
  }
  if (!elem) {
    if (seen.empty()) {
      error_at(c, DiagId::TypeMismatch, e,
               std::string("the type of an empty ") + (is_map ? "{}" : "[]") + " cannot be inferred: declare the variable's type");
      return nullptr;
    }
    elem = T.union_of(seen);
  }
  bool bytes = !is_map && elem->kind == TypeKind::Byte;
  if (is_map) {
    program().key_sets.push_back(e.strings);
    emit(Op::MakeMap, static_cast<int>(program().key_sets.size() - 1), static_cast<int>(e.kids.size()));
    return T.map_of(elem);
  }
  emit(Op::MakeArray, 0, static_cast<int>(e.kids.size()), bytes ? 1 : 0);
  return T.array_of(elem);
}

const Type* FunctionCompiler::expr_index(const Expr& e, ExprCtx& c) {
  TypeTable& T = types();
  const Type* ct = expr(*e.kids[0], c, nullptr);
  if (!ct) return nullptr;
  if (ct->kind == TypeKind::Map) {
    const Type* kt = expr(*e.kids[1], c, T.string());
    if (!kt) return nullptr;
    if (kt->kind != TypeKind::String) { mismatch(c, *e.kids[1], kt, T.string(), "a map key"); return nullptr; }
    emit(Op::IndexGet);
    return T.optional(ct->elem);
  }
  if (ct->kind == TypeKind::Array || ct->kind == TypeKind::String) {
    const Type* it = expr(*e.kids[1], c, T.integer());
    if (!it) return nullptr;
    if (!is_intlike(it)) { mismatch(c, *e.kids[1], it, T.integer(), "an index"); return nullptr; }
    emit(Op::IndexGet);
    if (ct->kind == TypeKind::String) return T.string();
    return ct->elem->kind == TypeKind::Byte ? T.byte() : ct->elem;
  }
  error_at(c, DiagId::TypeMismatch, *e.kids[0], "a value of type " + ct->name + " cannot be indexed with [...]");
  return nullptr;
}

const Type* FunctionCompiler::expr_cast(const Expr& e, ExprCtx& c) {
  TypeTable& T = types();
  const Type* target = resolve_type_in(e.type_text, c, e.type_pos);
  if (!target) return nullptr;
  const Type* t = expr(*e.kids[0], c, nullptr);
  if (!t) return nullptr;
  if (T.assignable(t, target) && !(t->kind == TypeKind::Byte && target->kind == TypeKind::Int)) return target;
  if (is_numeric(t) && is_numeric(target)) {
    emit(Op::Cast, static_cast<int>(target->kind));
    return target;
  }
  // A downcast from a union to some of its members: checked at run time.
  if (t->kind == TypeKind::Union) {
    bool any = false;
    for (const Type* m : t->members)
      if (T.assignable(m, target)) any = true;
    if (any) {
      auto& tests = program().type_tests;
      auto it = std::find(tests.begin(), tests.end(), target);
      int idx = static_cast<int>(it - tests.begin());
      if (it == tests.end()) tests.push_back(target);
      emit(Op::Cast, idx, 0, 1);
      return target;
    }
  }
  error_at(c, DiagId::TypeMismatch, e, "a value of type " + t->name + " cannot be converted to " + target->name +
                                           (target->kind == TypeKind::String ? " (use .toString())" : ""));
  return nullptr;
}

}  // namespace flowd
