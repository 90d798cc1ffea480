#include "runtime/value.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace flowd {

Value* MapObj::find(std::string_view key) {
  for (auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

bool values_equal(const Value& a, const Value& b) {
  if (a.tag() != b.tag()) {
    return false;
  }
  switch (a.tag()) {
    case ValueTag::Nil: return true;
    case ValueTag::Boolean: return a.as_bool() == b.as_bool();
    case ValueTag::Int: return a.as_int() == b.as_int();
    case ValueTag::Float: return a.as_float() == b.as_float() || (std::isnan(a.as_float()) && std::isnan(b.as_float()));
    case ValueTag::String:
    case ValueTag::Bytes: return a.heap() == b.heap() || a.str() == b.str();
    case ValueTag::Array: {
      auto& x = a.as<ArrayObj>()->items;
      auto& y = b.as<ArrayObj>()->items;
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!values_equal(x[i], y[i])) return false;
      return true;
    }
    case ValueTag::Map: {
      auto* x = a.as<MapObj>();
      auto* y = b.as<MapObj>();
      if (x->entries.size() != y->entries.size()) return false;
      for (auto& [k, v] : x->entries) {
        Value* w = y->find(k);
        if (!w || !values_equal(v, *w)) return false;
      }
      return true;
    }
    case ValueTag::Error:
    case ValueTag::Object:
    case ValueTag::Caller:
    case ValueTag::Client: return a.heap() == b.heap();
  }
  return false;
}

void append_float(std::string& out, double d) {
  if (std::isnan(d)) { out += "NaN"; return; }
  if (std::isinf(d)) { out += d > 0 ? "Infinity" : "-Infinity"; return; }
  // Ballerina (like Java) writes the shortest round-trip digits: plain between 1e-3 and 1e7,
  // otherwise as d.dddE±n; always with a fraction ("1.0", "1.0E21").
  double mag = std::fabs(d);
  char buf[64];
  if (d == 0 || (mag >= 1e-3 && mag < 1e7)) {
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
    out += s;
    if (s.find('.') == std::string_view::npos) out += ".0";
    return;
  }
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
  auto e = s.find('e');
  std::string_view mantissa = s.substr(0, e);
  int exponent = std::atoi(std::string(s.substr(e + 1)).c_str());
  out += mantissa;
  if (mantissa.find('.') == std::string_view::npos) out += ".0";
  out += 'E';
  out += std::to_string(exponent);
}

namespace {
void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  out += s;
  out += '"';
}
}  // namespace

void append_display_string(std::string& out, const Value& v) {
  switch (v.tag()) {
    case ValueTag::Nil: break;
    case ValueTag::Boolean: out += v.as_bool() ? "true" : "false"; break;
    case ValueTag::Int: {
      char buf[24];
      auto res = std::to_chars(buf, buf + sizeof buf, v.as_int());
      out.append(buf, res.ptr);
      break;
    }
    case ValueTag::Float: append_float(out, v.as_float()); break;
    case ValueTag::String: out += v.str(); break;
    case ValueTag::Bytes: {
      out += '[';
      bool first = true;
      for (unsigned char c : v.str()) {
        if (!first) out += ',';
        first = false;
        out += std::to_string(c);
      }
      out += ']';
      break;
    }
    case ValueTag::Error: {
      auto* e = v.as<ErrorObj>();
      out += "error(\"" + e->message + "\"";
      if (!e->cause.is_nil()) {
        out += ",";
        append_display_string(out, e->cause);
      }
      out += ")";
      break;
    }
    case ValueTag::Object: out += "object"; break;
    case ValueTag::Caller: out += "tcp:Caller " + v.as<CallerObj>()->id; break;
    case ValueTag::Client: out += "tcp:Client " + v.as<ClientObj>()->link->describe(); break;
    case ValueTag::Array: {
      out += '[';
      bool first = true;
      for (auto& x : v.as<ArrayObj>()->items) {
        if (!first) out += ',';
        first = false;
        if (x.tag() == ValueTag::String) append_quoted(out, x.str());
        else append_display_string(out, x);
      }
      out += ']';
      break;
    }
    case ValueTag::Map: {
      out += '{';
      bool first = true;
      for (auto& [k, x] : v.as<MapObj>()->entries) {
        if (!first) out += ',';
        first = false;
        out += '"' + k + "\":";
        if (x.tag() == ValueTag::String) append_quoted(out, x.str());
        else append_display_string(out, x);
      }
      out += '}';
      break;
    }
  }
}

std::string to_display_string(const Value& v) {
  std::string s;
  append_display_string(s, v);
  return s;
}

}  // namespace flowd
