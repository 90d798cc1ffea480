#include "runtime/natives.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string_view>

#include "support/utf8.hpp"

namespace flowd {

namespace {

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

struct NamedNative {
  std::string_view name;
  NativeImpl impl;
};

constexpr std::array kNatives = {
  NamedNative{"string:fromBytes", n_string_from_bytes},
  NamedNative{"string:toBytes", n_string_to_bytes},
  NamedNative{"string:trim", n_string_trim},
  NamedNative{"string:length", n_string_length},
  NamedNative{"string:toUpperAscii", n_string_upper},
  NamedNative{"string:toLowerAscii", n_string_lower},
  NamedNative{"string:startsWith", n_string_starts_with},
  NamedNative{"string:endsWith", n_string_ends_with},
  NamedNative{"string:includes", n_string_includes},
  NamedNative{"string:indexOf", n_string_index_of},
  NamedNative{"string:lastIndexOf", n_string_last_index_of},
  NamedNative{"string:substring", n_string_substring},
  NamedNative{"string:equalsIgnoreCaseAscii", n_string_equals_ignore_case},
  NamedNative{"string:toString", n_to_string},
  NamedNative{"int:fromString", n_int_from_string},
  NamedNative{"int:toString", n_to_string},
  NamedNative{"int:abs", n_int_abs},
  NamedNative{"float:fromString", n_float_from_string},
  NamedNative{"float:toString", n_to_string},
  NamedNative{"float:round", n_float_round},
  NamedNative{"float:floor", n_float_floor},
  NamedNative{"float:ceil", n_float_ceil},
  NamedNative{"boolean:toString", n_to_string},
  NamedNative{"error:message", n_error_message},
  NamedNative{"error:cause", n_error_cause},
  NamedNative{"error", n_error_new},
  NamedNative{"value:toString", n_to_string},
  NamedNative{"array:length", n_array_length},
  NamedNative{"string:split", n_string_split},
  NamedNative{"string:join", n_string_join},
  NamedNative{"array:push", n_array_push},
  NamedNative{"array:pop", n_array_pop},
  NamedNative{"array:remove", n_array_remove},
  NamedNative{"array:indexOf", n_array_index_of},
  NamedNative{"array:sort", n_array_sort},
  NamedNative{"array:reverse", n_array_reverse},
  NamedNative{"map:hasKey", n_map_has_key},
  NamedNative{"map:keys", n_map_keys},
  NamedNative{"map:length", n_map_length},
  NamedNative{"map:toArray", n_map_to_array},
  NamedNative{"map:remove", n_map_remove},
  NamedNative{"map:removeIfHasKey", n_map_remove_if_has_key},
  NamedNative{"map:get", n_map_get},
};

}  // namespace

std::vector<NativeInfo> link_natives(const std::vector<std::string>& names) {
  std::vector<NativeInfo> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    auto it = std::find_if(kNatives.begin(), kNatives.end(), [&](const NamedNative& n) { return n.name == name; });
    if (it == kNatives.end()) throw std::logic_error("no native implementation of " + name);
    out.push_back({name, it->impl});
  }
  return out;
}

}  // namespace flowd
