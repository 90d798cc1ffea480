// A node's expression fields: where a node kind hands an expression string to the compiler (a value, a
// condition, a FOREACH collection, a call, an assignment target) and gets its type back.
#include "flow/compiler.hpp"
#include "lang/parser.hpp"

namespace flowd {

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

}  // namespace flowd
