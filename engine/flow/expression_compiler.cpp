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
