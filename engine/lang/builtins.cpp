#include "lang/builtins.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <span>

#include "lang/parser.hpp"
#include "support/utf8.hpp"

namespace flowd {

namespace {

const Type* resolve(TypeTable& types, const TypeSyntax& ts,
                    const std::function<const Type*(std::string_view)>& class_lookup, std::string& error,
                    int& error_pos) {
  switch (ts.kind) {
    case TypeSyntax::Kind::Nil: return types.nil();
    case TypeSyntax::Kind::Array: {
      const Type* e = resolve(types, ts.args[0], class_lookup, error, error_pos);
      return e ? types.array_of(e) : nullptr;
    }
    case TypeSyntax::Kind::Map: {
      const Type* e = resolve(types, ts.args[0], class_lookup, error, error_pos);
      return e ? types.map_of(e) : nullptr;
    }
    case TypeSyntax::Kind::Optional: {
      const Type* e = resolve(types, ts.args[0], class_lookup, error, error_pos);
      return e ? types.optional(e) : nullptr;
    }
    case TypeSyntax::Kind::Union: {
      std::vector<const Type*> members;
      for (const auto& a : ts.args) {
        const Type* m = resolve(types, a, class_lookup, error, error_pos);
        if (!m) return nullptr;
        members.push_back(m);
      }
      return types.union_of(members);
    }
    case TypeSyntax::Kind::Named: break;
  }
  const std::string& n = ts.name;
  if (n == "int") return types.integer();
  if (n == "float") return types.floating();
  if (n == "string") return types.string();
  if (n == "boolean") return types.boolean();
  if (n == "byte") return types.byte();
  if (n == "error" || n == "tcp:Error") return types.error();
  if (n == "tcp:Caller") return types.caller();
  if (n == "tcp:Client") return types.client();
  if (n == "any" || n == "anydata") return types.any();
  if (const Type* c = class_lookup ? class_lookup(n) : nullptr) return c;
  error = "unknown type '" + n + "'";
  if (n == "Caller" || n == "tcp") error += " (did you mean 'tcp:Caller'?)";
  else if (n == "Client") error += " (did you mean 'tcp:Client'?)";
  else if (n == "str" || n == "String") error += " (did you mean 'string'?)";
  else if (n == "bool" || n == "Boolean") error += " (did you mean 'boolean'?)";
  error_pos = ts.pos;
  return nullptr;
}

// ---- native implementations. Arguments were type-checked at load time.

bool n_string_from_bytes(NativeContext&, Value* a, int, Value& out) {
  std::string_view b = a[0].str();
  std::size_t ok = utf8::valid_prefix(b);
  if (ok == b.size()) {
    out = a[0].retagged(ValueTag::String);  // shares the buffer: no copy
  } else {
    out = make_error("invalid UTF-8 sequence at byte offset " + std::to_string(ok) + " of " +
                     std::to_string(b.size()));
  }
  return true;
}

bool n_string_to_bytes(NativeContext&, Value* a, int, Value& out) {
  out = a[0].retagged(ValueTag::Bytes);
  return true;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool n_string_trim(NativeContext&, Value* a, int, Value& out) {
  std::string_view s = a[0].str();
  std::size_t b = 0, e = s.size();
  while (b < e && is_ws(s[b])) ++b;
  while (e > b && is_ws(s[e - 1])) --e;
  if (b == 0 && e == s.size()) out = a[0];
  else out = Value::string(s.substr(b, e - b));
  return true;
}

bool n_string_length(NativeContext&, Value* a, int, Value& out) {
  std::string_view s = a[0].str();
  out = Value::integer(static_cast<std::int64_t>(utf8::code_points(s)));
  return true;
}

bool n_string_upper(NativeContext&, Value* a, int, Value& out) {
  StrObj* r = StrObj::make(a[0].str());
  for (char& c : std::span<char>(r->chars(), r->size))
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  out = Value::adopt(ValueTag::String, r);
  return true;
}

bool n_string_lower(NativeContext&, Value* a, int, Value& out) {
  StrObj* r = StrObj::make(a[0].str());
  for (char& c : std::span<char>(r->chars(), r->size))
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  out = Value::adopt(ValueTag::String, r);
  return true;
}

bool n_string_starts_with(NativeContext&, Value* a, int, Value& out) {
  out = Value::boolean(a[0].str().starts_with(a[1].str()));
  return true;
}

bool n_string_ends_with(NativeContext&, Value* a, int, Value& out) {
  out = Value::boolean(a[0].str().ends_with(a[1].str()));
  return true;
}

bool start_byte(NativeContext& ctx, std::string_view s, Value* a, int argc, int idx, std::size_t& out) {
  if (argc <= idx) { out = 0; return true; }
  std::int64_t cp = a[idx].as_int();
  std::size_t off = cp < 0 ? std::string::npos : utf8::byte_offset(s, static_cast<std::size_t>(cp));
  if (off == std::string::npos)
    return ctx.raise("string index out of range: index " + std::to_string(cp) + ", length " +
                     std::to_string(utf8::code_points(s)));
  out = off;
  return true;
}

bool n_string_includes(NativeContext& ctx, Value* a, int argc, Value& out) {
  std::string_view s = a[0].str();
  std::size_t from;
  if (!start_byte(ctx, s, a, argc, 2, from)) return false;
  out = Value::boolean(s.find(a[1].str(), from) != std::string::npos);
  return true;
}

bool n_string_index_of(NativeContext& ctx, Value* a, int argc, Value& out) {
  std::string_view s = a[0].str();
  std::size_t from;
  if (!start_byte(ctx, s, a, argc, 2, from)) return false;
  std::size_t at = s.find(a[1].str(), from);
  out = at == std::string::npos ? Value() : Value::integer(static_cast<std::int64_t>(utf8::cp_index(s, at)));
  return true;
}

bool n_string_last_index_of(NativeContext&, Value* a, int, Value& out) {
  std::string_view s = a[0].str();
  std::size_t at = s.rfind(a[1].str());
  out = at == std::string::npos ? Value() : Value::integer(static_cast<std::int64_t>(utf8::cp_index(s, at)));
  return true;
}

bool n_string_substring(NativeContext& ctx, Value* a, int argc, Value& out) {
  std::string_view s = a[0].str();
  std::int64_t start = a[1].as_int();
  bool ascii = utf8::is_ascii(s);
  std::int64_t len = ascii ? static_cast<std::int64_t>(s.size()) : static_cast<std::int64_t>(utf8::code_points(s));
  std::int64_t end = argc > 2 ? a[2].as_int() : len;
  if (start < 0 || end > len || start > end)
    return ctx.raise("substring index out of range: start " + std::to_string(start) + ", end " +
                     std::to_string(end) + ", length " + std::to_string(len));
  if (ascii) {
    out = Value::string(s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start)));
  } else {
    std::size_t b = utf8::byte_offset(s, static_cast<std::size_t>(start));
    std::size_t e = utf8::byte_offset(s, static_cast<std::size_t>(end));
    out = Value::string(s.substr(b, e - b));
  }
  return true;
}

bool n_string_equals_ignore_case(NativeContext&, Value* a, int, Value& out) {
  std::string_view x = a[0].str();
  std::string_view y = a[1].str();
  bool eq = x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](char p, char q) {
              auto low = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
              return low(p) == low(q);
            });
  out = Value::boolean(eq);
  return true;
}

// Drops one leading '+' (Ballerina accepts "+5"), but not before another sign.
std::string_view without_plus(std::string_view v) {
  if (v.size() > 1 && v[0] == '+' && v[1] != '-' && v[1] != '+') v.remove_prefix(1);
  return v;
}

bool n_int_from_string(NativeContext&, Value* a, int, Value& out) {
  std::string_view s = a[0].str();
  std::string_view v = without_plus(s);
  std::int64_t r = 0;
  auto res = std::from_chars(v.data(), v.data() + v.size(), r);
  if (v.empty() || res.ec != std::errc() || res.ptr != v.data() + v.size())
    out = make_error("'" + std::string(s) + "' is not an int");
  else
    out = Value::integer(r);
  return true;
}

bool n_float_from_string(NativeContext&, Value* a, int, Value& out) {
  std::string_view s = a[0].str();
  std::string_view v = without_plus(s);
  // Ballerina's spellings of the special values; from_chars would also take "inf" and "nan".
  if (v == "NaN") { out = Value::floating(std::nan("")); return true; }
  if (v == "Infinity") { out = Value::floating(HUGE_VAL); return true; }
  if (v == "-Infinity") { out = Value::floating(-HUGE_VAL); return true; }
  double r = 0;
  auto res = std::from_chars(v.data(), v.data() + v.size(), r);
  bool letters = v.find_first_of("iInN") != std::string_view::npos;
  if (v.empty() || letters || res.ec != std::errc() || res.ptr != v.data() + v.size())
    out = make_error("'" + std::string(s) + "' is not a float");
  else
    out = Value::floating(r);
  return true;
}

bool n_to_string(NativeContext&, Value* a, int, Value& out) {
  if (a[0].tag() == ValueTag::String) out = a[0];
  else out = Value::string(to_display_string(a[0]));
  return true;
}

bool n_int_abs(NativeContext& ctx, Value* a, int, Value& out) {
  std::int64_t v = a[0].as_int();
  if (v == INT64_MIN) return ctx.raise("arithmetic overflow in int:abs");
  out = Value::integer(v < 0 ? -v : v);
  return true;
}

bool n_float_round(NativeContext&, Value* a, int, Value& out) {
  out = Value::floating(std::nearbyint(a[0].as_float()));
  return true;
}
bool n_float_floor(NativeContext&, Value* a, int, Value& out) {
  out = Value::floating(std::floor(a[0].as_float()));
  return true;
}
bool n_float_ceil(NativeContext&, Value* a, int, Value& out) {
  out = Value::floating(std::ceil(a[0].as_float()));
  return true;
}

bool n_array_length(NativeContext&, Value* a, int, Value& out) {
  if (a[0].tag() == ValueTag::Bytes) out = Value::integer(static_cast<std::int64_t>(a[0].str().size()));
  else out = Value::integer(static_cast<std::int64_t>(a[0].as<ArrayObj>()->items.size()));
  return true;
}

bool n_error_message(NativeContext&, Value* a, int, Value& out) {
  out = Value::string(a[0].as<ErrorObj>()->message);
  return true;
}

bool n_error_new(NativeContext&, Value* a, int argc, Value& out) {
  out = make_error(std::string(a[0].str()), argc > 1 ? a[1] : Value());
  return true;
}

bool n_error_cause(NativeContext&, Value* a, int, Value& out) {
  out = a[0].as<ErrorObj>()->cause;
  return true;
}

bool n_array_push(NativeContext&, Value* a, int, Value& out) {
  a[0].as<ArrayObj>()->items.push_back(a[1]);
  out = Value();
  return true;
}

bool n_array_pop(NativeContext& ctx, Value* a, int, Value& out) {
  auto& items = a[0].as<ArrayObj>()->items;
  if (items.empty()) return ctx.raise("cannot pop from an empty list");
  out = std::move(items.back());
  items.pop_back();
  return true;
}

bool n_array_remove(NativeContext& ctx, Value* a, int, Value& out) {
  auto& items = a[0].as<ArrayObj>()->items;
  std::int64_t i = a[1].as_int();
  if (i < 0 || static_cast<std::size_t>(i) >= items.size())
    return ctx.raise("index " + std::to_string(i) + " out of range for a list of length " + std::to_string(items.size()));
  out = std::move(items[static_cast<std::size_t>(i)]);
  items.erase(items.begin() + i);
  return true;
}

bool n_array_index_of(NativeContext&, Value* a, int, Value& out) {
  if (a[0].tag() == ValueTag::Bytes) {
    std::size_t at = a[0].str().find(static_cast<char>(a[1].as_int()));
    out = at == std::string::npos ? Value() : Value::integer(static_cast<std::int64_t>(at));
    return true;
  }
  const auto& items = a[0].as<ArrayObj>()->items;
  out = Value();
  for (std::size_t i = 0; i < items.size(); ++i)
    if (values_equal(items[i], a[1])) {
      out = Value::integer(static_cast<std::int64_t>(i));
      break;
    }
  return true;
}

bool value_less(const Value& x, const Value& y) {
  switch (x.tag()) {
    case ValueTag::Int: return x.as_int() < y.as_int();
    case ValueTag::Float: return x.as_float() < y.as_float();
    case ValueTag::String: return x.str() < y.str();
    case ValueTag::Boolean: return !x.as_bool() && y.as_bool();
    default: return false;
  }
}

Value new_array(std::vector<Value> items) {
  auto* arr = new ArrayObj();
  arr->items = std::move(items);
  return Value::adopt(ValueTag::Array, arr);
}

bool n_array_sort(NativeContext&, Value* a, int argc, Value& out) {
  std::vector<Value> items = a[0].as<ArrayObj>()->items;
  bool descending = argc > 1 && a[1].str() == "descending";
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    return descending ? value_less(y, x) : value_less(x, y);
  });
  out = new_array(std::move(items));
  return true;
}

bool n_array_reverse(NativeContext&, Value* a, int, Value& out) {
  if (a[0].tag() == ValueTag::Bytes) {
    std::string b(a[0].str().rbegin(), a[0].str().rend());
    out = Value::bytes(std::move(b));
    return true;
  }
  std::vector<Value> items = a[0].as<ArrayObj>()->items;
  std::reverse(items.begin(), items.end());
  out = new_array(std::move(items));
  return true;
}

bool n_map_keys(NativeContext&, Value* a, int, Value& out) {
  std::vector<Value> keys;
  for (const auto& e : a[0].as<MapObj>()->entries) keys.push_back(Value::string(e.first));
  out = new_array(std::move(keys));
  return true;
}

bool n_map_to_array(NativeContext&, Value* a, int, Value& out) {
  std::vector<Value> values;
  for (const auto& e : a[0].as<MapObj>()->entries) values.push_back(e.second);
  out = new_array(std::move(values));
  return true;
}

bool n_map_has_key(NativeContext&, Value* a, int, Value& out) {
  out = Value::boolean(a[0].as<MapObj>()->find(a[1].str()) != nullptr);
  return true;
}

bool n_map_length(NativeContext&, Value* a, int, Value& out) {
  out = Value::integer(static_cast<std::int64_t>(a[0].as<MapObj>()->entries.size()));
  return true;
}

bool remove_key(Value& m, std::string_view key, Value& out) {
  auto& entries = m.as<MapObj>()->entries;
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it->first == key) {
      out = std::move(it->second);
      entries.erase(it);
      return true;
    }
  }
  return false;
}

bool n_map_remove(NativeContext& ctx, Value* a, int, Value& out) {
  if (!remove_key(a[0], a[1].str(), out)) return ctx.raise("the map has no key '" + std::string(a[1].str()) + "'");
  return true;
}

bool n_map_remove_if_has_key(NativeContext&, Value* a, int, Value& out) {
  out = Value();
  remove_key(a[0], a[1].str(), out);
  return true;
}

bool n_map_get(NativeContext& ctx, Value* a, int, Value& out) {
  Value* v = a[0].as<MapObj>()->find(a[1].str());
  if (!v) return ctx.raise("the map has no key '" + std::string(a[1].str()) + "'");
  out = *v;
  return true;
}

bool n_string_split(NativeContext& ctx, Value* a, int, Value& out) {
  std::string_view s = a[0].str();
  std::string_view sep = a[1].str();
  if (sep.empty()) return ctx.raise("string:split needs a non-empty separator");
  std::vector<Value> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = s.find(sep, start);
    if (at == std::string::npos) {
      parts.push_back(Value::string(s.substr(start)));
      break;
    }
    parts.push_back(Value::string(s.substr(start, at - start)));
    start = at + sep.size();
  }
  out = new_array(std::move(parts));
  return true;
}

bool n_string_join(NativeContext&, Value* a, int, Value& out) {
  std::string_view sep = a[0].str();
  const auto& items = a[1].as<ArrayObj>()->items;
  // Sized first, then built in place.
  std::size_t len = items.empty() ? 0 : sep.size() * (items.size() - 1);
  for (const auto& v : items) len += v.str().size();
  StrObj* r = StrObj::make(len);
  char* p = r->chars();
  bool first = true;
  for (const auto& v : items) {
    if (!first) p = std::copy(sep.begin(), sep.end(), p);
    first = false;
    p = std::copy(v.str().begin(), v.str().end(), p);
  }
  out = Value::adopt(ValueTag::String, r);
  return true;
}

}  // namespace

const Type* resolve_type_text(TypeTable& types, std::string_view text,
                              const std::function<const Type*(std::string_view)>& class_lookup,
                              std::string& error, int& error_pos) {
  TypeParseResult r = parse_type(text);
  if (r.error) {
    error = r.error->message;
    error_pos = r.error->pos;
    return nullptr;
  }
  return resolve(types, *r.type, class_lookup, error, error_pos);
}

BuiltinTable::BuiltinTable(Program& program) : program_(program) {
  add("string:fromBytes", "byte[] bytes", "string|error", n_string_from_bytes);
  add("string:toBytes", "string s", "byte[]", n_string_to_bytes);
  add("string:trim", "string s", "string", n_string_trim);
  add("string:length", "string s", "int", n_string_length);
  add("string:toUpperAscii", "string s", "string", n_string_upper);
  add("string:toLowerAscii", "string s", "string", n_string_lower);
  add("string:startsWith", "string s, string substr", "boolean", n_string_starts_with);
  add("string:endsWith", "string s, string substr", "boolean", n_string_ends_with);
  add("string:includes", "string s, string substr, int startIndex?", "boolean", n_string_includes);
  add("string:indexOf", "string s, string substr, int startIndex?", "int?", n_string_index_of);
  add("string:lastIndexOf", "string s, string substr", "int?", n_string_last_index_of);
  add("string:substring", "string s, int startIndex, int endIndex?", "string", n_string_substring);
  add("string:equalsIgnoreCaseAscii", "string s1, string s2", "boolean", n_string_equals_ignore_case);
  add("string:toString", "string s", "string", n_to_string);
  add("int:fromString", "string s", "int|error", n_int_from_string);
  add("int:toString", "int n", "string", n_to_string);
  add("int:abs", "int n", "int", n_int_abs);
  add("float:fromString", "string s", "float|error", n_float_from_string);
  add("float:toString", "float x", "string", n_to_string);
  add("float:round", "float x", "float", n_float_round);
  add("float:floor", "float x", "float", n_float_floor);
  add("float:ceil", "float x", "float", n_float_ceil);
  add("boolean:toString", "boolean b", "string", n_to_string);
  add("error:message", "error e", "string", n_error_message);
  add("error:cause", "error e", "error?", n_error_cause);
  add("error", "string message, error cause?", "error", n_error_new);
  add_generic("value:toString", {"v"}, 1,
              [](TypeTable& t, const std::vector<const Type*>&, std::string&) { return t.string(); }, n_to_string);
  add_generic("array:length", {"arr"}, 1,
              [](TypeTable& t, const std::vector<const Type*>& a, std::string& err) -> const Type* {
                if (a[0]->kind != TypeKind::Array) {
                  err = "array:length needs an array, not " + a[0]->name;
                  return nullptr;
                }
                return t.integer();
              },
              n_array_length);
  add("string:split", "string s, string separator", "string[]", n_string_split);
  add("string:join", "string separator, string[] strs", "string", n_string_join);
  // Generic signatures: typed from the receiver.
  auto needs = [](TypeKind kind, const char* fn, auto result) {
    return [kind, fn, result](TypeTable& t, const std::vector<const Type*>& a, std::string& err) -> const Type* {
      if (a[0]->kind != kind) {
        err = std::string(fn) + " needs a " + (kind == TypeKind::Array ? "list" : "map") + ", not " + a[0]->name;
        return nullptr;
      }
      return result(t, a[0]);
    };
  };
  add_generic("array:push", {"arr", "value"}, 2, needs(TypeKind::Array, "push", [](TypeTable& t, const Type*) { return t.nil(); }), n_array_push);
  list_.back().params[1].receiver_element = true;
  list_.back().mutates_receiver = true;
  add_generic("array:pop", {"arr"}, 1, needs(TypeKind::Array, "pop", [](TypeTable&, const Type* a) { return a->elem; }), n_array_pop);
  list_.back().mutates_receiver = true;
  add_generic("array:remove", {"arr", "index"}, 2, needs(TypeKind::Array, "remove", [](TypeTable&, const Type* a) { return a->elem; }), n_array_remove);
  list_.back().params[1].type = program_.types->integer();
  list_.back().mutates_receiver = true;
  add_generic("array:indexOf", {"arr", "value"}, 2,
              needs(TypeKind::Array, "indexOf", [](TypeTable& t, const Type*) { return t.optional(t.integer()); }), n_array_index_of);
  list_.back().params[1].receiver_element = true;
  add_generic("array:sort", {"arr", "direction"}, 1,
              [](TypeTable&, const std::vector<const Type*>& a, std::string& err) -> const Type* {
                if (a[0]->kind != TypeKind::Array) {
                  err = "sort needs a list, not " + a[0]->name;
                  return nullptr;
                }
                TypeKind k = a[0]->elem->kind;
                if (k != TypeKind::Int && k != TypeKind::Float && k != TypeKind::String && k != TypeKind::Boolean) {
                  err = "sort needs a list of int, float, string or boolean, not " + a[0]->name;
                  return nullptr;
                }
                return a[0];
              },
              n_array_sort);
  list_.back().params[1].type = program_.types->string();
  add_generic("array:reverse", {"arr"}, 1, needs(TypeKind::Array, "reverse", [](TypeTable&, const Type* a) { return a; }), n_array_reverse);
  add_generic("map:hasKey", {"m", "k"}, 2, needs(TypeKind::Map, "hasKey", [](TypeTable& t, const Type*) { return t.boolean(); }), n_map_has_key);
  list_.back().params[1].type = program_.types->string();
  add_generic("map:keys", {"m"}, 1, needs(TypeKind::Map, "keys", [](TypeTable& t, const Type*) { return t.array_of(t.string()); }), n_map_keys);
  add_generic("map:length", {"m"}, 1, needs(TypeKind::Map, "length", [](TypeTable& t, const Type*) { return t.integer(); }), n_map_length);
  add_generic("map:toArray", {"m"}, 1, needs(TypeKind::Map, "toArray", [](TypeTable& t, const Type* m) { return t.array_of(m->elem); }), n_map_to_array);
  add_generic("map:remove", {"m", "k"}, 2, needs(TypeKind::Map, "remove", [](TypeTable&, const Type* m) { return m->elem; }), n_map_remove);
  list_.back().params[1].type = program_.types->string();
  list_.back().mutates_receiver = true;
  add_generic("map:removeIfHasKey", {"m", "k"}, 2,
              needs(TypeKind::Map, "removeIfHasKey", [](TypeTable& t, const Type* m) { return t.optional(m->elem); }), n_map_remove_if_has_key);
  list_.back().params[1].type = program_.types->string();
  add_generic("map:get", {"m", "k"}, 2, needs(TypeKind::Map, "get", [](TypeTable&, const Type* m) { return m->elem; }), n_map_get);
  list_.back().params[1].type = program_.types->string();
  const char* levels[] = {"log:printDebug", "log:printInfo", "log:printWarn", "log:printError"};
  for (int i = 0; i < 4; ++i) {
    Builtin b;
    b.name = levels[i];
    b.params = {{"msg", program_.types->string(), false}, {"error", program_.types->error(), true}};
    b.ret = program_.types->nil();
    b.is_log = true;
    b.level = static_cast<LogLevel>(i);
    list_.push_back(std::move(b));
  }
}

void BuiltinTable::add(std::string name, std::string params, std::string ret, NativeImpl impl) {
  Builtin b;
  b.name = std::move(name);
  TypeTable& types = *program_.types;
  std::string err;
  int pos = 0;
  std::size_t start = 0;
  while (start < params.size()) {
    std::size_t comma = params.find(", ", start);
    std::string p = params.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? params.size() : comma + 2;
    std::size_t sp = p.rfind(' ');
    BuiltinParam bp;
    bp.name = p.substr(sp + 1);
    if (!bp.name.empty() && bp.name.back() == '?') {
      bp.optional = true;
      bp.name.pop_back();
    }
    bp.type = resolve_type_text(types, p.substr(0, sp), nullptr, err, pos);
    b.params.push_back(std::move(bp));
  }
  b.ret = resolve_type_text(types, ret, nullptr, err, pos);
  b.native = static_cast<int>(program_.natives.size());
  program_.natives.push_back({b.name, impl});
  list_.push_back(std::move(b));
}

void BuiltinTable::add_generic(std::string name, std::vector<std::string> param_names, int required,
                               decltype(Builtin::typer) typer, NativeImpl impl) {
  Builtin b;
  b.name = std::move(name);
  for (std::size_t i = 0; i < param_names.size(); ++i)
    b.params.push_back({param_names[i], nullptr, static_cast<int>(i) >= required});
  b.typer = std::move(typer);
  b.native = static_cast<int>(program_.natives.size());
  program_.natives.push_back({b.name, impl});
  list_.push_back(std::move(b));
}

const Builtin* BuiltinTable::find(std::string_view qualified) const {
  for (const auto& b : list_)
    if (b.name == qualified) return &b;
  return nullptr;
}

std::string_view BuiltinTable::method_module(const Type* t) {
  switch (t->kind) {
    case TypeKind::String: return "string";
    case TypeKind::Int:
    case TypeKind::Byte: return "int";
    case TypeKind::Float: return "float";
    case TypeKind::Boolean: return "boolean";
    case TypeKind::Error: return "error";
    case TypeKind::Array: return "array";
    case TypeKind::Map: return "map";
    default: return "";
  }
}

std::vector<std::string> BuiltinTable::names_in(std::string_view module) const {
  std::vector<std::string> out;
  for (const auto& b : list_) {
    auto colon = b.name.find(':');
    if (colon != std::string::npos && std::string_view(b.name).substr(0, colon) == module)
      out.push_back(b.name.substr(colon + 1));
  }
  return out;
}

std::vector<std::string> BuiltinTable::all_names() const {
  std::vector<std::string> out;
  for (const auto& b : list_) out.push_back(b.name);
  return out;
}

}  // namespace flowd
