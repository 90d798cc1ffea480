// Calls in expressions: methods (`s.trim()` is `string:trim(s)`), flow-defined functions and the
// library functions, with their arguments checked against the signatures in lang/builtins.hpp.
#include "flow/compiler.hpp"
#include "lang/parser.hpp"

namespace flowd {

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

}  // namespace flowd
