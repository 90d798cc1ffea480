#include "runtime/interpreter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "support/utf8.hpp"

namespace flowd {

bool value_has_type(const Value& v, const Type* t) {
  switch (t->kind) {
    case TypeKind::Any: return true;
    case TypeKind::Never: return false;
    case TypeKind::Nil: return v.tag() == ValueTag::Nil;
    case TypeKind::Boolean: return v.tag() == ValueTag::Boolean;
    case TypeKind::Int: return v.tag() == ValueTag::Int;
    case TypeKind::Byte: return v.tag() == ValueTag::Int && v.as_int() >= 0 && v.as_int() <= 255;
    case TypeKind::Float: return v.tag() == ValueTag::Float;
    case TypeKind::String: return v.tag() == ValueTag::String;
    case TypeKind::Error: return v.tag() == ValueTag::Error;
    case TypeKind::Caller: return v.tag() == ValueTag::Caller;
    case TypeKind::Client: return v.tag() == ValueTag::Client;
    case TypeKind::Object:
      return v.tag() == ValueTag::Object && v.as<InstanceObj>()->cls->index == t->class_index;
    case TypeKind::Array:
      if (v.tag() == ValueTag::Bytes) return t->elem->kind == TypeKind::Byte || t->elem->kind == TypeKind::Int;
      return v.tag() == ValueTag::Array;
    case TypeKind::Map: return v.tag() == ValueTag::Map;
    case TypeKind::Union:
      for (const Type* m : t->members)
        if (value_has_type(v, m)) return true;
      return false;
  }
  return false;
}

namespace {
// Longest log line built in the interpreter's reused buffer.
constexpr std::size_t kLogLineRoom = 64 * 1024;

// Pops n values, inline: vector::resize is an out-of-line call, on the path of every native call,
// template and log.
inline void drop(std::vector<Value>& st, std::size_t n) {
  for (; n > 0; --n) st.pop_back();
}
}  // namespace

RunOutcome Interpreter::call(Fiber& fiber, const Function& fn, Value* args, int argc, InterpreterHost& host) {
  host_ = &host;
  fiber.stack.clear();
  fiber.frames.clear();
  for (int i = 0; i < argc; ++i) fiber.stack.push_back(std::move(args[i]));
  fiber.stack.resize(static_cast<std::size_t>(fn.nlocals));
  fiber.frames.push_back(Frame{&fn, 0, 0, false});
  fiber.budget = step_budget;
  fiber.locks = 0;
  return run(fiber);
}

RunOutcome Interpreter::resume(Fiber& fiber, Value result, InterpreterHost& host) {
  host_ = &host;
  fiber.stack.push_back(std::move(result));
  return run(fiber);
}

namespace {
std::int64_t round_half_even(double d) { return static_cast<std::int64_t>(std::nearbyint(d)); }
}  // namespace

// Op::Template: replaces the top n values with the concatenation of their display strings. Out of
// line, so that run() stays small enough for the compiler to inline its stack pushes.
void Interpreter::concat_parts(std::vector<Value>& st, std::size_t n, bool only_logged) {
  std::size_t first = st.size() - n;
  std::size_t len = 0;
  bool all_strings = true;
  for (std::size_t i = first; i < st.size(); ++i) {
    if (st[i].tag() == ValueTag::String) len += st[i].str().size();
    else all_strings = false;
  }
  thread_local std::string scratch;
  if (!all_strings) {
    scratch.clear();
    for (std::size_t i = first; i < st.size(); ++i) append_display_string(scratch, st[i]);
    len = scratch.size();
  }
  if (len > kLogLineRoom) only_logged = false;
  StrObj* s = only_logged ? log_line(len) : StrObj::make(len);
  if (all_strings) {
    // The usual case: the parts are copied straight into the result.
    char* p = s->chars();
    for (std::size_t i = first; i < st.size(); ++i) {
      std::string_view part = st[i].str();
      std::memcpy(p, part.data(), part.size());
      p += part.size();
    }
  } else {
    std::memcpy(s->chars(), scratch.data(), len);
  }
  drop(st, n);
  if (only_logged) st.push_back(log_line_);
  else st.push_back(Value::adopt(ValueTag::String, s));
}

// A string of len characters (to be filled in) for a template that goes straight to the log: the
// interpreter's own buffer when no one else holds it (the usual case: the log call only reads it,
// then it is popped), so a log line costs no allocation.
StrObj* Interpreter::log_line(std::size_t len) {
  StrObj* s = log_line_.is_nil() ? nullptr : log_line_.as<StrObj>();
  if (!s || len > log_line_room_ || s->refs.load(std::memory_order_acquire) != 1) {
    log_line_room_ = std::max<std::size_t>(len, 256);
    s = StrObj::make(len, log_line_room_);
    log_line_ = Value::adopt(ValueTag::String, s);
  }
  s->size = len;
  s->chars()[len] = '\0';
  return s;
}

RunOutcome Interpreter::run(Fiber& fiber) {
  std::vector<Value>& st = fiber.stack;
  Frame* fr = &fiber.frames.back();
  const Instr* code = fr->fn->code.data();
  std::uint32_t pc = fr->pc;
  std::int64_t budget = fiber.budget;
  RunOutcome out;
  NativeContext nctx;
  nctx.program = &program_;

  auto site_of = [&](std::uint32_t at) { return fr->fn->sites[at]; };
// The message is built out of line: run() stays small enough for the compiler to inline its
// stack pushes.
#define PANIC(msg)                                                                            \
  do {                                                                                        \
    out.panicked = true;                                                                      \
    out.panic_message = [&]() __attribute__((noinline, cold)) -> std::string { return (msg); }(); \
    out.site = site_of(pc - 1);                                                               \
    return out;                                                                               \
  } while (0)
#define POP() (st.pop_back())
#define TOP() (st.back())
#define LOCAL(i) (st[fr->base + (i)])

  for (;;) {
    const Instr& in = code[pc++];
    if (--budget < 0)
      PANIC("the event used more than " + std::to_string(step_budget) +
            " evaluation steps (the per-event step budget); a loop may never end");
    switch (in.op) {
      case Op::Const: st.push_back(program_.constants[in.a]); break;
      case Op::Nil: st.emplace_back(); break;
      case Op::True: st.push_back(Value::boolean(true)); break;
      case Op::False: st.push_back(Value::boolean(false)); break;
      case Op::SmallInt: st.push_back(Value::integer(in.b)); break;
      case Op::LoadLocal: st.push_back(LOCAL(in.a)); break;
      case Op::StoreLocal: LOCAL(in.a) = std::move(TOP()); POP(); break;
      case Op::LoadField: {
        Value obj = std::move(TOP());
        TOP() = obj.as<InstanceObj>()->fields[in.a];
        break;
      }
      case Op::StoreField: {
        Value v = std::move(TOP());
        POP();
        TOP().as<InstanceObj>()->fields[in.a] = std::move(v);
        POP();
        break;
      }
      case Op::LoadSelfField: st.push_back(LOCAL(0).as<InstanceObj>()->fields[in.a]); break;
      case Op::StoreSelfField:
        LOCAL(0).as<InstanceObj>()->fields[in.a] = std::move(TOP());
        POP();
        break;
      case Op::LoadGlobal: st.push_back(globals_[in.a]); break;
      case Op::StoreGlobal: globals_[in.a] = std::move(TOP()); POP(); break;
      case Op::LoadCallerField: {
        const CallerObj* c = TOP().as<CallerObj>();
        Value v;
        switch (static_cast<CallerField>(in.a)) {
          case CallerField::RemoteHost: v = Value::string(c->remote_host); break;
          case CallerField::RemotePort: v = Value::integer(c->remote_port); break;
          case CallerField::LocalHost: v = Value::string(c->local_host); break;
          case CallerField::LocalPort: v = Value::integer(c->local_port); break;
          case CallerField::Id: v = Value::string(c->id); break;
        }
        TOP() = std::move(v);
        break;
      }
      case Op::Pop: POP(); break;
      case Op::AddInt:
      case Op::SubInt:
      case Op::MulInt:
      case Op::DivInt:
      case Op::ModInt: {
        std::int64_t b = TOP().as_int();
        POP();
        std::int64_t a = TOP().as_int();
        std::int64_t r = 0;
        bool overflow = false;
        switch (in.op) {
          case Op::AddInt: overflow = __builtin_add_overflow(a, b, &r); break;
          case Op::SubInt: overflow = __builtin_sub_overflow(a, b, &r); break;
          case Op::MulInt: overflow = __builtin_mul_overflow(a, b, &r); break;
          case Op::DivInt:
            if (b == 0) PANIC("division by zero");
            if (a == INT64_MIN && b == -1) overflow = true;
            else r = a / b;
            break;
          default:
            if (b == 0) PANIC("division by zero");
            r = (b == -1) ? 0 : a % b;
            break;
        }
        if (overflow) PANIC("arithmetic overflow: the result does not fit in an int");
        TOP() = Value::integer(r);
        break;
      }
      case Op::NegInt: {
        std::int64_t a = TOP().as_int();
        if (a == INT64_MIN) PANIC("arithmetic overflow: the result does not fit in an int");
        TOP() = Value::integer(-a);
        break;
      }
      case Op::AddFloat:
      case Op::SubFloat:
      case Op::MulFloat:
      case Op::DivFloat:
      case Op::ModFloat: {
        double b = TOP().as_float();
        POP();
        double a = TOP().as_float();
        double r = in.op == Op::AddFloat   ? a + b
                   : in.op == Op::SubFloat ? a - b
                   : in.op == Op::MulFloat ? a * b
                   : in.op == Op::DivFloat ? a / b
                                           : std::fmod(a, b);
        TOP() = Value::floating(r);
        break;
      }
      case Op::NegFloat: TOP() = Value::floating(-TOP().as_float()); break;
      case Op::Concat: {
        Value b = std::move(TOP());
        POP();
        std::string_view x = TOP().str(), y = b.str();
        StrObj* s = StrObj::make(x.size() + y.size());
        std::memcpy(s->chars(), x.data(), x.size());
        std::memcpy(s->chars() + x.size(), y.data(), y.size());
        TOP() = Value::adopt(ValueTag::String, s);
        break;
      }
      case Op::Not: TOP() = Value::boolean(!TOP().as_bool()); break;
      case Op::Eq:
      case Op::Ne: {
        Value b = std::move(TOP());
        POP();
        bool eq = values_equal(TOP(), b);
        TOP() = Value::boolean(in.op == Op::Eq ? eq : !eq);
        break;
      }
      case Op::RefEq:
      case Op::RefNe: {
        Value b = std::move(TOP());
        POP();
        const Value& a = TOP();
        bool eq = (a.tag() == b.tag()) &&
                  ((a.is_heap() && a.tag() != ValueTag::String) ? a.heap() == b.heap() : values_equal(a, b));
        TOP() = Value::boolean(in.op == Op::RefEq ? eq : !eq);
        break;
      }
      case Op::CmpInt:
      case Op::CmpFloat:
      case Op::CmpString: {
        Value b = std::move(TOP());
        POP();
        const Value& a = TOP();
        int c;
        if (in.op == Op::CmpInt) c = a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
        else if (in.op == Op::CmpFloat) c = a.as_float() < b.as_float() ? -1 : a.as_float() > b.as_float() ? 1 : 0;
        else c = a.str().compare(b.str());
        bool r = false;
        switch (static_cast<Cmp>(in.a)) {
          case Cmp::Lt: r = c < 0; break;
          case Cmp::Le: r = c <= 0; break;
          case Cmp::Gt: r = c > 0; break;
          case Cmp::Ge: r = c >= 0; break;
        }
        // NaN compares false with everything.
        if (in.op == Op::CmpFloat && (std::isnan(a.as_float()) || std::isnan(b.as_float()))) r = false;
        TOP() = Value::boolean(r);
        break;
      }
      case Op::Jump: pc = static_cast<std::uint32_t>(in.b); break;
      case Op::JumpIfFalse: {
        bool v = TOP().as_bool();
        POP();
        if (!v) pc = static_cast<std::uint32_t>(in.b);
        break;
      }
      case Op::JumpIfTrue: {
        bool v = TOP().as_bool();
        POP();
        if (v) pc = static_cast<std::uint32_t>(in.b);
        break;
      }
      case Op::AndJump:
        if (!TOP().as_bool()) pc = static_cast<std::uint32_t>(in.b);
        else POP();
        break;
      case Op::OrJump:
        if (TOP().as_bool()) pc = static_cast<std::uint32_t>(in.b);
        else POP();
        break;
      case Op::ElvisJump:
        if (!TOP().is_nil()) pc = static_cast<std::uint32_t>(in.b);
        else POP();
        break;
      case Op::Template: {
        // log:print*(string `...`) with no other arguments: the string is only read by the log call.
        bool only_logged = pc + 1 < fr->fn->code.size() && code[pc].op == Op::Nil && code[pc + 1].op == Op::Log &&
                           code[pc + 1].b == 0;
        concat_parts(st, in.a, only_logged);
        break;
      }
      case Op::CallNative: {
        const NativeInfo& nat = program_.natives[in.a];
        int argc = in.b;
        Value* args = st.data() + (st.size() - static_cast<std::size_t>(argc));
        Value result;
        if (!nat.impl(nctx, args, argc, result)) PANIC(nat.name + ": " + nctx.panic);
        if (argc > 0) {
          // The result takes the first argument's slot.
          drop(st, static_cast<std::size_t>(argc - 1));
          TOP() = std::move(result);
        } else {
          st.push_back(std::move(result));
        }
        break;
      }
      case Op::Call: {
        if (fiber.frames.size() >= static_cast<std::size_t>(kMaxCallDepth))
          PANIC("function calls nest deeper than " + std::to_string(kMaxCallDepth) + " (kMaxCallDepth)");
        const Function* callee = &program_.functions[in.a];
        fr->pc = pc;
        std::uint32_t base = static_cast<std::uint32_t>(st.size() - static_cast<std::size_t>(in.b));
        st.resize(base + static_cast<std::size_t>(callee->nlocals));
        fiber.frames.push_back(Frame{callee, 0, base, false});
        fr = &fiber.frames.back();
        code = callee->code.data();
        pc = 0;
        break;
      }
      case Op::New: {
        const ClassInfo& ci = program_.classes[in.a];
        st.push_back(Value::adopt(ValueTag::Object, new InstanceObj(&ci, ci.field_template)));
        if (ci.init) {
          if (fiber.frames.size() >= static_cast<std::size_t>(kMaxCallDepth))
            PANIC("function calls nest deeper than " + std::to_string(kMaxCallDepth) + " (kMaxCallDepth)");
          fr->pc = pc;
          std::uint32_t base = static_cast<std::uint32_t>(st.size() - 1);
          st.resize(base + static_cast<std::size_t>(ci.init->nlocals));
          fiber.frames.push_back(Frame{ci.init, 0, base, true});
          fr = &fiber.frames.back();
          code = ci.init->code.data();
          pc = 0;
        }
        break;
      }
      case Op::Check:
        if (!TOP().is_error()) break;
        [[fallthrough]];
      case Op::Return:
      case Op::ReturnNil: {
        Value result;
        if (in.op != Op::ReturnNil) {
          result = std::move(TOP());
          POP();
        }
        std::uint32_t base = fr->base;
        bool keep_self = fr->keep_self;
        std::uint32_t here = site_of(pc - 1);
        fiber.frames.pop_back();
        if (fiber.frames.empty()) {
          out.value = std::move(result);
          out.site = here;
          return out;
        }
        st.resize(keep_self ? base + 1 : base);
        if (!keep_self) st.push_back(std::move(result));
        fr = &fiber.frames.back();
        code = fr->fn->code.data();
        pc = fr->pc;
        break;
      }
      case Op::CheckJump: {
        if (!TOP().is_error()) break;
        Value e = std::move(TOP());
        // The on-fail block starts with an empty operand stack.
        st.resize(fr->base + static_cast<std::size_t>(fr->fn->nlocals));
        LOCAL(in.a) = std::move(e);
        pc = static_cast<std::uint32_t>(in.b);
        break;
      }
      case Op::IterNext: {
        Value& coll = LOCAL(in.a);
        Value& index = LOCAL(in.a + 1);
        std::int64_t i = index.as_int();
        Value next;
        bool done = false;
        switch (static_cast<IterKind>(in.u8)) {
          case IterKind::List: {
            const auto& items = coll.as<ArrayObj>()->items;
            if (static_cast<std::size_t>(i) >= items.size()) done = true;
            else next = items[static_cast<std::size_t>(i)];
            break;
          }
          case IterKind::Bytes: {
            std::string_view b = coll.str();
            if (static_cast<std::size_t>(i) >= b.size()) done = true;
            else next = Value::integer(static_cast<unsigned char>(b[static_cast<std::size_t>(i)]));
            break;
          }
          case IterKind::MapValues: {
            const auto& entries = coll.as<MapObj>()->entries;
            if (static_cast<std::size_t>(i) >= entries.size()) done = true;
            else next = entries[static_cast<std::size_t>(i)].second;
            break;
          }
          case IterKind::Range:
            if (i >= coll.as_int()) done = true;
            else next = Value::integer(i);
            break;
        }
        if (done) {
          pc = static_cast<std::uint32_t>(in.b);
        } else {
          index = Value::integer(i + 1);
          st.push_back(std::move(next));
        }
        break;
      }
      case Op::IsType: TOP() = Value::boolean(value_has_type(TOP(), program_.type_tests[in.a])); break;
      case Op::Cast: {
        Value& v = TOP();
        if (in.u8 == 1) {
          const Type* t = program_.type_tests[in.a];
          if (!value_has_type(v, t)) PANIC("cannot convert " + to_display_string(v) + " to " + t->name);
          break;
        }
        switch (static_cast<TypeKind>(in.a)) {
          case TypeKind::Float:
            if (v.tag() == ValueTag::Int) v = Value::floating(static_cast<double>(v.as_int()));
            break;
          case TypeKind::Int:
            if (v.tag() == ValueTag::Float) {
              double d = v.as_float();
              if (!std::isfinite(d) || d >= 9.2233720368547758e18 || d < -9.2233720368547758e18)
                PANIC("cannot convert " + to_display_string(v) + " to int");
              v = Value::integer(round_half_even(d));
            }
            break;
          case TypeKind::Byte: {
            std::int64_t i = v.tag() == ValueTag::Float ? round_half_even(v.as_float()) : v.as_int();
            if (i < 0 || i > 255) PANIC("cannot convert " + to_display_string(v) + " to byte");
            v = Value::integer(i);
            break;
          }
          default: break;
        }
        break;
      }
      case Op::Action:
      case Op::Connect:
      case Op::LockEnter:
        // Out of line, so that run() stays small enough for its stack pushes to be inlined.
        if (!run_suspendable(fiber, in)) {
          fr->pc = pc;
          fiber.budget = budget;
          out.suspended = true;
          out.site = site_of(pc - 1);
          return out;
        }
        break;
      case Op::Log: {
        int count = in.b;
        std::size_t first = st.size() - static_cast<std::size_t>(count);
        host_->log(static_cast<LogLevel>(in.u8), st[first - 2], st[first - 1], program_.key_sets[in.a],
                  st.data() + first, count);
        drop(st, static_cast<std::size_t>(count) + 1);
        TOP() = Value();
        break;
      }
      case Op::MakeArray: {
        std::size_t n = static_cast<std::size_t>(in.b);
        std::size_t first = st.size() - n;
        Value v;
        if (in.u8 == 1) {
          std::string bytes;
          bytes.reserve(n);
          for (std::size_t i = first; i < st.size(); ++i) bytes += static_cast<char>(st[i].as_int());
          v = Value::bytes(std::move(bytes));
        } else {
          auto* arr = new ArrayObj();
          arr->items.assign(std::make_move_iterator(st.begin() + static_cast<std::ptrdiff_t>(first)),
                            std::make_move_iterator(st.end()));
          v = Value::adopt(ValueTag::Array, arr);
        }
        st.resize(first);
        st.push_back(std::move(v));
        break;
      }
      case Op::MakeMap: {
        std::size_t n = static_cast<std::size_t>(in.b);
        std::size_t first = st.size() - n;
        const auto& keys = program_.key_sets[in.a];
        auto* m = new MapObj();
        for (std::size_t i = 0; i < n; ++i) {
          if (Value* existing = m->find(keys[i])) *existing = std::move(st[first + i]);
          else m->entries.emplace_back(keys[i], std::move(st[first + i]));
        }
        st.resize(first);
        st.push_back(Value::adopt(ValueTag::Map, m));
        break;
      }
      case Op::IndexGet: {
        Value idx = std::move(TOP());
        POP();
        Value& c = TOP();
        Value r;
        switch (c.tag()) {
          case ValueTag::Map: {
            Value* found = c.as<MapObj>()->find(idx.str());
            if (found) r = *found;
            break;
          }
          case ValueTag::Array: {
            auto& items = c.as<ArrayObj>()->items;
            std::int64_t i = idx.as_int();
            if (i < 0 || static_cast<std::size_t>(i) >= items.size())
              PANIC("index " + std::to_string(i) + " out of range for a list of length " + std::to_string(items.size()));
            r = items[static_cast<std::size_t>(i)];
            break;
          }
          case ValueTag::Bytes: {
            std::string_view b = c.str();
            std::int64_t i = idx.as_int();
            if (i < 0 || static_cast<std::size_t>(i) >= b.size())
              PANIC("index " + std::to_string(i) + " out of range for byte[] of length " + std::to_string(b.size()));
            r = Value::integer(static_cast<unsigned char>(b[static_cast<std::size_t>(i)]));
            break;
          }
          case ValueTag::String: {
            // s[i]: the i-th code point, as a string.
            std::string_view s = c.str();
            std::int64_t i = idx.as_int();
            std::size_t from = i < 0 ? std::string::npos : utf8::byte_offset(s, static_cast<std::size_t>(i));
            std::size_t to = from == std::string::npos ? from : utf8::byte_offset(s, static_cast<std::size_t>(i) + 1);
            if (to == std::string::npos)
              PANIC("string index " + std::to_string(i) + " out of range");
            r = Value::string(s.substr(from, to - from));
            break;
          }
          default: PANIC("cannot index this value");
        }
        TOP() = std::move(r);
        break;
      }
      case Op::IndexSet: {
        Value v = std::move(TOP());
        POP();
        Value idx = std::move(TOP());
        POP();
        Value& c = TOP();
        if (c.tag() == ValueTag::Map) {
          auto* m = c.as<MapObj>();
          if (Value* found = m->find(idx.str())) *found = std::move(v);
          else m->entries.emplace_back(idx.str(), std::move(v));
        } else if (c.tag() == ValueTag::Array) {
          auto& items = c.as<ArrayObj>()->items;
          std::int64_t i = idx.as_int();
          if (i < 0 || static_cast<std::size_t>(i) > items.size())
            PANIC("index " + std::to_string(i) + " out of range for a list of length " + std::to_string(items.size()));
          if (static_cast<std::size_t>(i) == items.size()) items.push_back(std::move(v));
          else items[static_cast<std::size_t>(i)] = std::move(v);
        } else {
          PANIC("cannot assign into this value");
        }
        POP();
        break;
      }
      case Op::Panic: {
        Value e = std::move(TOP());
        PANIC(e.is_error() ? e.as<ErrorObj>()->message : to_display_string(e));
      }
      case Op::LockExit:
        if (fiber.locks > 0 && --fiber.locks == 0) host_->lock_release(fiber);
        break;
    }
  }
#undef PANIC
#undef POP
#undef TOP
#undef LOCAL
}

}  // namespace flowd
