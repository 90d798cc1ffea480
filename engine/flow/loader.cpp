#include "flow/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "flow/compiler.hpp"

namespace flowd {

namespace {

// Finds the first place where arrays/objects nest deeper than the limit (strings skipped).
std::size_t find_too_deep(std::string_view t, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > limit) return i;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::string_view::npos;
}

std::string clean_json_error(const std::string& what) {
  // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error while parsing ..."
  std::string m = what;
  auto colon = m.find(": ", m.find("parse error"));
  if (colon != std::string::npos) m = m.substr(colon + 2);
  if (m.rfind("syntax error while parsing ", 0) == 0) m = "invalid JSON while parsing " + m.substr(27);
  return m;
}

// The line of `text` that holds byte `at`, without its line break.
std::string line_at(std::string_view text, std::size_t at) {
  std::size_t start = at == 0 ? 0 : text.rfind('\n', at - 1);
  start = start == std::string_view::npos || at == 0 ? 0 : start + 1;
  std::size_t end = text.find('\n', at);
  std::string line(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Offset of the first byte of the JSON token whose last byte is at `last` (a string, a number, a
// literal or one punctuation character).
std::size_t token_start(std::string_view t, std::size_t last) {
  if (t[last] == '"') {
    // Back to the opening quote: the first quote before it that no backslash escapes.
    for (std::size_t i = last; i-- > 0;) {
      if (t[i] != '"') continue;
      std::size_t slashes = 0;
      while (i > slashes && t[i - 1 - slashes] == '\\') ++slashes;
      if (slashes % 2 == 0) return i;
    }
    return last;
  }
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-'; };
  std::size_t i = last;
  if (word(t[i]))
    while (i > 0 && word(t[i - 1])) --i;
  return i;
}

// nlohmann reports a trailing or missing comma at the token after it: find the comma (or where it
// belongs) so the error can be reported there. Returns the offset and the message, or npos.
std::pair<std::size_t, std::string> find_comma_mistake(std::string_view t, std::size_t at, const std::string& what) {
  if (at >= t.size()) return {std::string_view::npos, ""};
  std::size_t start = token_start(t, at);
  std::size_t before = start;
  while (before > 0 && is_json_space(t[before - 1])) --before;
  if (before == 0) return {std::string_view::npos, ""};
  char prev = t[before - 1];
  char c = t[start];
  if ((c == '}' || c == ']') && prev == ',')
    return {before - 1, std::string("a trailing comma before '") + c + "': JSON allows none after the last " +
                            (c == '}' ? "member of an object" : "element of a list") + "; remove it"};
  bool value_start = c == '"' || c == '{' || c == '[' || c == '-' || std::isalnum(static_cast<unsigned char>(c));
  bool after_value = prev == '"' || prev == '}' || prev == ']' || std::isalnum(static_cast<unsigned char>(prev));
  if (value_start && after_value) {
    if (what.find("expected '}'") != std::string::npos)
      return {before, "a comma is missing here: a ',' must separate the members of an object"};
    if (what.find("expected ']'") != std::string::npos)
      return {before, "a comma is missing here: a ',' must separate the elements of a list"};
  }
  return {std::string_view::npos, ""};
}

class ModuleCompiler {
 public:
  ModuleCompiler(Program& p, Diagnostics& d, const NodeRegistry& r, const Json& root)
      : ctx_(p, d, r), root_(root) {}

  void run() {
    NodeSpec top{root_, ""};
    check_keys(top, {"$schema", "name", "description", "configurables", "listeners", "services", "classes",
                     "functions", "variables", "connections"});
    declare_classes();
    configurables();
    module_variables();
    connections();
    declare_functions();
    listeners();
    classes();
    services();
    function_bodies();
  }

 private:
  Program& P() { return ctx_.program; }
  Diagnostics& D() { return ctx_.diags; }

  void check_keys(const NodeSpec& n, std::vector<std::string_view> known) {
    Function scratch;
    FunctionCompiler fc(ctx_, scratch, nullptr, P().types->nil());
    fc.check_keys(n, known);
  }

  // Iterates the objects of an optional top-level (or nested) array field.
  template <class F>
  void each_object(const NodeSpec& parent, const char* key, F&& f) {
    auto it = parent.json.find(key);
    if (it == parent.json.end() || it->is_null()) return;
    if (!it->is_array()) {
      D().error(DiagId::WrongFieldType, parent.pointer + "/" + key, std::string("\"") + key + "\" must be an array");
      return;
    }
    NodeSpec list = parent.child(key);
    for (std::size_t i = 0; i < it->size(); ++i) {
      NodeSpec item = list.at(i);
      if (!item.json.is_object()) {
        D().error(DiagId::WrongFieldType, item.pointer, "each entry of \"" + std::string(key) + "\" must be an object");
        continue;
      }
      f(item);
    }
  }

  std::optional<std::string> name_of(const NodeSpec& n, std::set<std::string>& seen, const char* what) {
    Function scratch;
    FunctionCompiler fc(ctx_, scratch, nullptr, P().types->nil());
    auto name = fc.identifier_field(n, "name", true);
    if (!name) return std::nullopt;
    if (!seen.insert(*name).second) {
      D().error(DiagId::DuplicateName, n.pointer + "/name", std::string(what) + " '" + *name + "' is declared twice");
      return std::nullopt;
    }
    return name;
  }

  void declare_classes() {
    NodeSpec top{root_, ""};
    std::set<std::string> seen;
    each_object(top, "classes", [&](const NodeSpec& c) {
      auto name = name_of(c, seen, "class");
      if (!name) return;
      ClassInfo& ci = P().classes.emplace_back();
      ci.name = *name;
      ci.index = static_cast<int>(P().classes.size() - 1);
      ci.type = P().types->object(ci.index, ci.name);
      class_specs_.emplace_back(c);
    });
  }

  // Compiles a module-level expression (a default, a listener port) into a function of no arguments.
  const Function* module_expression(const NodeSpec& n, const char* key, const Type* type, const std::string& name) {
    Function& fn = P().functions.emplace_back();
    fn.name = name;
    FunctionCompiler fc(ctx_, fn, nullptr, type);
    if (!fc.expression_field(n, key, type)) return nullptr;
    fc.emit(Op::Return);
    if (auto it = n.json.find(key); it != n.json.end() && it->is_string()) {
      int g = ctx_.global_index(it->get<std::string>());
      if (g >= 0 && P().globals[static_cast<std::size_t>(g)].configurable) fn.reads_configurable = g;
    }
    return &fn;
  }

  // A declared variable's initial value is "default" on configurables and class variables and
  // "expression" on module variables (as BI writes them). The other name is taken with a warning
  // saying which to write; both at once is an error. Returns the key that holds the value, or null.
  const char* initial_value_key(const NodeSpec& v, const char* canonical, const char* other, const char* what) {
    auto given = [&](const char* key) {
      auto it = v.json.find(key);
      return it != v.json.end() && !it->is_null();
    };
    if (given(canonical) && given(other)) {
      D().error(DiagId::InitialValueTwice, v.pointer + "/" + other,
                std::string("both \"") + canonical + "\" and \"" + other + "\" give the initial value of " + what +
                    ": keep only \"" + canonical + "\"");
      return canonical;
    }
    if (given(other)) {
      D().warning(DiagId::InitialValueKey, v.pointer + "/" + other,
                  std::string("the initial value of ") + what + " is written \"" + canonical + "\", not \"" + other +
                      "\" (taken as \"" + canonical + "\")");
      return other;
    }
    return given(canonical) ? canonical : nullptr;
  }

  void configurables() {
    NodeSpec top{root_, ""};
    std::set<std::string> seen;
    each_object(top, "configurables", [&](const NodeSpec& c) {
      check_keys(c, {"name", "type", "default", "expression", "description"});
      const char* init_key = initial_value_key(c, "default", "expression", "a configurable");
      auto name = name_of(c, seen, "configurable");
      Function scratch;
      FunctionCompiler fc(ctx_, scratch, nullptr, P().types->nil());
      auto type_text = fc.string_field(c, "type", true);
      if (!name || !type_text) return;
      const Type* t = ctx_.resolve_type(*type_text, c.pointer + "/type");
      if (!t) return;
      if (t->kind != TypeKind::Int && t->kind != TypeKind::Float && t->kind != TypeKind::String &&
          t->kind != TypeKind::Boolean) {
        D().error(DiagId::WrongFieldType, c.pointer + "/type",
                  "a configurable must be int, float, string or boolean, not " + t->name);
        return;
      }
      GlobalInfo g;
      g.name = *name;
      g.type = t;
      g.configurable = true;
      g.pointer = c.pointer;
      if (init_key) g.init = module_expression(c, init_key, t, "configurable " + *name);
      P().globals.push_back(std::move(g));
    });
  }

  // Module-level variables, shared by every connection: `map<tcp:Caller> clients = {};`
  void module_variables() {
    NodeSpec top{root_, ""};
    std::set<std::string> seen;
    for (const auto& g : P().globals) seen.insert(g.name);
    each_object(top, "variables", [&](const NodeSpec& v) {
      check_keys(v, {"name", "type", "expression", "default", "description"});
      const char* init_key = initial_value_key(v, "expression", "default", "a module variable");
      auto name = name_of(v, seen, "module variable");
      Function scratch;
      FunctionCompiler fc(ctx_, scratch, nullptr, P().types->nil());
      auto type_text = fc.string_field(v, "type", true);
      if (!name || !type_text) return;
      const Type* t = ctx_.resolve_type(*type_text, v.pointer + "/type");
      if (!t) return;
      GlobalInfo g;
      g.name = *name;
      g.type = t;
      g.pointer = v.pointer;
      // Without either key, "expression" is reported missing.
      g.init = module_expression(v, init_key ? init_key : "expression", t, "variable " + *name);
      if (holds_client(t)) P().shares_clients = true;
      P().globals.push_back(std::move(g));
    });
  }

  static bool holds_client(const Type* t) {
    if (t->kind == TypeKind::Client) return true;
    if (t->elem && holds_client(t->elem)) return true;
    for (const Type* m : t->members)
      if (holds_client(m)) return true;
    return false;
  }

  // Module-level connections (BI's NEW_CONNECTION in "connections"): `final tcp:Client backend =
  // check new (host, port);`. Each is connected at start, before the flow serves.
  void connections() {
    NodeSpec top{root_, ""};
    std::set<std::string> seen;
    for (const auto& g : P().globals) seen.insert(g.name);
    each_object(top, "connections", [&](const NodeSpec& c) {
      check_keys(c, {"name", "node", "id", "label", "description", "type", "remoteHost", "remotePort", "timeout",
                     "writeTimeout", "secureSocket"});
      auto name = name_of(c, seen, "connection");
      Function scratch;
      FunctionCompiler probe(ctx_, scratch, nullptr, P().types->nil());
      if (auto node = probe.string_field(c, "node", false); node && *node != "NEW_CONNECTION")
        D().error(DiagId::WrongFieldType, c.pointer + "/node", "a connection is a \"NEW_CONNECTION\" node, not \"" + *node + "\"");
      if (auto type = probe.string_field(c, "type", false); type && *type != "tcp:Client")
        D().error(DiagId::WrongFieldType, c.pointer + "/type", "a connection is of type \"tcp:Client\", not \"" + *type + "\"");
      if (!name) return;
      Function& fn = P().functions.emplace_back();
      fn.name = "connection " + *name;
      FunctionCompiler fc(ctx_, fn, nullptr, P().types->union_of({P().types->client(), P().types->error()}));
      if (!fc.emit_connect(c)) return;
      fc.emit(Op::Return);
      GlobalInfo g;
      g.name = *name;
      g.type = P().types->client();
      g.pointer = c.pointer;
      g.init = &fn;
      g.connection = true;
      P().shares_clients = true;
      P().globals.push_back(std::move(g));
    });
  }

  // Signatures first, so handlers and functions can call any function (and recurse).
  void declare_functions() {
    NodeSpec top{root_, ""};
    std::set<std::string> seen;
    TypeTable& T = *P().types;
    each_object(top, "functions", [&](const NodeSpec& f) {
      check_keys(f, {"name", "parameters", "returnType", "nodes", "description"});
      auto name = name_of(f, seen, "function");
      if (!name) return;
      if (ctx_.builtins.find(*name)) {
        D().error(DiagId::DuplicateName, f.pointer + "/name", "'" + *name + "' is a library function's name");
        return;
      }
      UserFunction uf;
      uf.name = *name;
      Function scratch;
      FunctionCompiler fc(ctx_, scratch, nullptr, T.nil());
      bool ok = true;
      auto pit = f.json.find("parameters");
      if (pit != f.json.end() && !pit->is_null()) {
        if (!pit->is_array()) {
          D().error(DiagId::WrongFieldType, f.pointer + "/parameters", "\"parameters\" must be an array");
          return;
        }
        NodeSpec ps = f.child("parameters");
        std::set<std::string> pnames;
        for (std::size_t i = 0; i < pit->size(); ++i) {
          NodeSpec p = ps.at(i);
          if (!p.json.is_object()) {
            D().error(DiagId::WrongFieldType, p.pointer, "a parameter must be an object with \"name\" and \"type\"");
            ok = false;
            continue;
          }
          auto pname = fc.identifier_field(p, "name", true);
          auto ptype = fc.string_field(p, "type", true);
          const Type* t = ptype ? ctx_.resolve_type(*ptype, p.pointer + "/type") : nullptr;
          if (!pname || !t) { ok = false; continue; }
          if (!pnames.insert(*pname).second) {
            D().error(DiagId::DuplicateName, p.pointer + "/name", "parameter '" + *pname + "' is declared twice");
            ok = false;
            continue;
          }
          uf.params.emplace_back(*pname, t);
        }
      }
      uf.ret = T.nil();
      if (auto rt = fc.string_field(f, "returnType", false)) {
        uf.ret = ctx_.resolve_type(*rt, f.pointer + "/returnType");
        if (!uf.ret) ok = false;
      }
      if (!ok) return;
      Function& fn = P().functions.emplace_back();
      fn.name = *name;
      uf.function_index = static_cast<int>(P().functions.size() - 1);
      Builtin sig;
      sig.name = uf.name;
      for (const auto& [pn, pt] : uf.params) sig.params.push_back({pn, pt, false});
      sig.ret = uf.ret;
      sig.user_function = uf.function_index;
      ctx_.user_signatures.push_back(std::move(sig));
      P().user_functions.push_back(std::move(uf));
      function_specs_.emplace_back(f);
    });
  }

  void function_bodies() {
    for (std::size_t i = 0; i < function_specs_.size(); ++i) {
      const UserFunction& uf = P().user_functions[i];
      Function& fn = P().functions[static_cast<std::size_t>(uf.function_index)];
      const NodeSpec& f = function_specs_[i];
      FunctionCompiler fc(ctx_, fn, nullptr, uf.ret);
      for (std::size_t k = 0; k < uf.params.size(); ++k)
        fc.declare_local(f.child("parameters").at(k), "name", uf.params[k].first, uf.params[k].second);
      fn.nparams = static_cast<int>(uf.params.size());
      fc.body(f);
    }
  }

  void listeners() {
    NodeSpec top{root_, ""};
    std::set<std::string> seen;
    each_object(top, "listeners", [&](const NodeSpec& l) {
      check_keys(l, {"name", "kind", "port", "localHost", "description", "framing", "maxLineLength", "maxConnections",
                     "maxOutputBytes", "idleTimeout", "lineTimeout", "secureSocket"});
      auto name = name_of(l, seen, "listener");
      Function scratch;
      FunctionCompiler fc(ctx_, scratch, nullptr, P().types->nil());
      auto kind = fc.string_field(l, "kind", true);
      if (kind && *kind != "tcp")
        D().error(DiagId::BadListener, l.pointer + "/kind", "unknown listener kind \"" + *kind + "\" (flowd serves \"tcp\")");
      ListenerInfo li;
      li.name = name.value_or("");
      li.pointer = l.pointer;
      li.port = module_expression(l, "port", P().types->integer(), "listener " + li.name + " port");
      if (l.json.contains("localHost") && !l.json["localHost"].is_null())
        li.host = module_expression(l, "localHost", P().types->string(), "listener " + li.name + " localHost");
      if (auto framing = fc.string_field(l, "framing", false)) {
        if (*framing == "line") li.framing = Framing::Line;
        else if (*framing != "raw")
          D().error(DiagId::BadListener, l.pointer + "/framing",
                    "\"framing\" is \"raw\" (chunks as read, the default) or \"line\", not \"" + *framing + "\"");
      }
      if (l.json.contains("maxLineLength") && !l.json["maxLineLength"].is_null()) {
        if (li.framing != Framing::Line)
          D().warning(DiagId::BadListener, l.pointer + "/maxLineLength", "\"maxLineLength\" only applies with \"framing\": \"line\"");
        li.max_line_length = module_expression(l, "maxLineLength", P().types->integer(), "listener " + li.name + " maxLineLength");
      }
      auto setting = [&](const char* key, const Type* type) -> const Function* {
        if (!l.json.contains(key) || l.json[key].is_null()) return nullptr;
        return module_expression(l, key, type, "listener " + li.name + " " + key);
      };
      li.max_connections = setting("maxConnections", P().types->integer());
      li.max_output_bytes = setting("maxOutputBytes", P().types->integer());
      li.idle_timeout = setting("idleTimeout", P().types->floating());
      li.line_timeout = setting("lineTimeout", P().types->floating());
      if (li.line_timeout && li.framing != Framing::Line)
        D().warning(DiagId::BadListener, l.pointer + "/lineTimeout", "\"lineTimeout\" only applies with \"framing\": \"line\"");
      if (fc.field(l, "secureSocket", false, Json::value_t::object)) secure_socket(l.child("secureSocket"), li, fc);
      P().listeners.push_back(std::move(li));
    });
  }

  // A listener's secureSocket: { key: {certFile, keyFile, keyPassword}, protocol: {name, versions},
  // ciphers, handshakeTimeout, sessionTimeout }, as Ballerina's ListenerSecureSocket.
  void secure_socket(const NodeSpec& s, ListenerInfo& li, FunctionCompiler& fc) {
    check_keys(s, {"key", "protocol", "ciphers", "handshakeTimeout", "sessionTimeout", "description"});
    li.secure = true;
    TypeTable& T = *P().types;
    std::string what = "listener " + li.name + " secureSocket ";
    auto expr = [&](const NodeSpec& at, const char* key, const Type* t, bool required) -> const Function* {
      if (!at.json.contains(key) || at.json[key].is_null()) {
        if (required)
          D().error(DiagId::MissingField, at.pointer,
                    std::string("secureSocket's key needs \"") + key + "\" (the path of a PEM file)");
        return nullptr;
      }
      return module_expression(at, key, t, what + key);
    };
    auto list = [&](const NodeSpec& at, const char* key, const Function*& fn, std::vector<std::string>& literal) {
      auto it = at.json.find(key);
      if (it == at.json.end() || it->is_null()) return;
      if (it->is_string()) {
        fn = module_expression(at, key, T.array_of(T.string()), what + key);
        return;
      }
      bool ok = it->is_array();
      for (std::size_t i = 0; ok && i < it->size(); ++i) ok = (*it)[i].is_string();
      if (!ok) {
        D().error(DiagId::WrongFieldType, at.pointer + "/" + key,
                  std::string("\"") + key + "\" is a list of strings, such as [\"TLSv1.2\", \"TLSv1.3\"], or an expression of type string[]");
        return;
      }
      for (const auto& e : *it) literal.push_back(e.get<std::string>());
    };
    if (!fc.field(s, "key", true, Json::value_t::object)) return;
    NodeSpec key = s.child("key");
    check_keys(key, {"certFile", "keyFile", "keyPassword"});
    li.tls.cert_file = expr(key, "certFile", T.string(), true);
    li.tls.key_file = expr(key, "keyFile", T.string(), true);
    li.tls.key_password = expr(key, "keyPassword", T.string(), false);
    if (fc.field(s, "protocol", false, Json::value_t::object)) {
      NodeSpec p = s.child("protocol");
      check_keys(p, {"name", "versions"});
      auto name = fc.string_field(p, "name", false);
      if (name && *name != "TLS")
        D().error(DiagId::BadListener, p.pointer + "/name", "protocol \"name\" is \"TLS\" (SSL is not supported)");
      list(p, "versions", li.tls.versions, li.tls.versions_list);
    }
    list(s, "ciphers", li.tls.ciphers, li.tls.ciphers_list);
    li.tls.handshake_timeout = expr(s, "handshakeTimeout", T.floating(), false);
    li.tls.session_timeout = expr(s, "sessionTimeout", T.floating(), false);
  }

  struct ParamRule {
    const Type* type;
    const char* example;
  };

  // Declares the parameters of a handler, checking them against the accepted shapes.
  // Returns the number of leading tcp:Caller parameters (0 or 1), or -1 on error.
  int handler_params(const NodeSpec& fn_spec, FunctionCompiler& fc, const char* handler, const Type* required,
                     const char* shapes) {
    TypeTable& T = *P().types;
    std::vector<std::pair<std::string, const Type*>> params;
    auto it = fn_spec.json.find("parameters");
    if (it != fn_spec.json.end() && !it->is_null()) {
      if (!it->is_array()) {
        D().error(DiagId::WrongFieldType, fn_spec.pointer + "/parameters", "\"parameters\" must be an array");
        return -1;
      }
      NodeSpec ps = fn_spec.child("parameters");
      for (std::size_t i = 0; i < it->size(); ++i) {
        NodeSpec p = ps.at(i);
        if (!p.json.is_object()) {
          D().error(DiagId::WrongFieldType, p.pointer, "a parameter must be an object with \"name\" and \"type\"");
          return -1;
        }
        auto pname = fc.identifier_field(p, "name", true);
        auto ptype = fc.string_field(p, "type", true);
        if (!pname || !ptype) return -1;
        std::string text = *ptype;
        if (text.rfind("readonly & ", 0) == 0) text = text.substr(11);
        const Type* t = ctx_.resolve_type(text, p.pointer + "/type");
        if (!t) return -1;
        params.emplace_back(*pname, t);
      }
    }
    bool shape_ok = false;
    int callers = 0;
    if (params.size() == (required ? 1u : 0u)) {
      shape_ok = !required || params[0].second == required;
    } else if (params.size() == (required ? 2u : 1u) && params[0].second == T.caller()) {
      callers = 1;
      shape_ok = !required || params[1].second == required;
    }
    // Declared even when the shape is wrong, so the body is still checked against them.
    for (std::size_t i = 0; i < params.size(); ++i) {
      NodeSpec p = fn_spec.child("parameters").at(i);
      fc.declare_local(p, "name", params[i].first, params[i].second);
    }
    if (!shape_ok) {
      D().error(DiagId::BadHandlerSignature, fn_spec.pointer + "/parameters",
                std::string(handler) + " takes " + shapes);
      return -1;
    }
    return callers;
  }

  void classes() {
    TypeTable& T = *P().types;
    for (std::size_t ci_index = 0; ci_index < class_specs_.size(); ++ci_index) {
      const NodeSpec& c = class_specs_[ci_index];
      ClassInfo& ci = P().classes[ci_index];
      check_keys(c, {"name", "variables", "methods", "description"});
      // Fields first (methods refer to them).
      std::set<std::string> seen;
      struct Initial {
        NodeSpec spec;
        int field;
        const char* key;  // "default", or "expression" taken with a warning
      };
      std::vector<Initial> computed;  // non-constant defaults
      each_object(c, "variables", [&](const NodeSpec& v) {
        check_keys(v, {"name", "type", "default", "expression", "description"});
        const char* init_key = initial_value_key(v, "default", "expression", "a class variable");
        auto name = name_of(v, seen, "class variable");
        Function scratch;
        FunctionCompiler fc(ctx_, scratch, nullptr, T.nil());
        auto type_text = fc.string_field(v, "type", true);
        if (!name || !type_text) return;
        const Type* t = ctx_.resolve_type(*type_text, v.pointer + "/type");
        if (!t) return;
        ci.fields.push_back({*name, t});
        ci.field_template.emplace_back();
        int idx = static_cast<int>(ci.fields.size() - 1);
        if (!init_key) {
          if (!T.assignable(T.nil(), t))
            D().error(DiagId::MissingField, v.pointer,
                      "class variable '" + *name + "' of type " + t->name + " needs a \"default\"");
          return;
        }
        computed.push_back({v, idx, init_key});
      });
      // Defaults: a literal goes into the instance template, anything else into the initializer.
      if (!computed.empty()) {
        Function& init = P().functions.emplace_back();
        init.name = ci.name + ".init";
        FunctionCompiler fc(ctx_, init, &ci, T.nil());
        init.nparams = 1;
        bool any_code = false;
        for (auto& [v, idx, key] : computed) {
          int start = fc.here();
          const Type* t = fc.expression_field(v, key, ci.fields[static_cast<std::size_t>(idx)].type);
          if (!t) continue;
          if (fc.here() == start + 1) {
            const Instr& in = init.code.back();
            Value constant;
            bool is_const = true;
            switch (in.op) {
              case Op::Const: constant = P().constants[in.a]; break;
              case Op::SmallInt: constant = Value::integer(in.b); break;
              case Op::True: constant = Value::boolean(true); break;
              case Op::False: constant = Value::boolean(false); break;
              case Op::Nil: break;
              default: is_const = false;
            }
            if (is_const) {
              ci.field_template[static_cast<std::size_t>(idx)] = constant;
              init.code.pop_back();
              init.sites.pop_back();
              continue;
            }
          }
          fc.emit(Op::StoreSelfField, idx);
          any_code = true;
        }
        fc.emit(Op::ReturnNil);
        if (any_code) ci.init = &init;
      }
      // Methods: the TCP lifecycle handlers.
      auto mit = c.json.find("methods");
      if (mit == c.json.end() || mit->is_null()) {
        D().error(DiagId::MissingField, c.pointer, "class " + ci.name + " needs \"methods\" with at least onBytes");
        continue;
      }
      if (!mit->is_object()) {
        D().error(DiagId::WrongFieldType, c.pointer + "/methods", "\"methods\" must be an object");
        continue;
      }
      NodeSpec methods = c.child("methods");
      for (auto m = mit->begin(); m != mit->end(); ++m) {
        const std::string& mname = m.key();
        NodeSpec ms = methods.child(mname);
        if (mname != "onBytes" && mname != "onClose" && mname != "onError") {
          std::string near = closest_name(mname, {"onBytes", "onClose", "onError"});
          D().error(DiagId::UnknownHandler, ms.pointer,
                    "unknown method '" + mname + "': a connection class has onBytes, onClose and onError" +
                        (near.empty() || near == mname ? "" : " (did you mean '" + near + "'?)"));
          continue;
        }
        if (!ms.json.is_object()) {
          D().error(DiagId::WrongFieldType, ms.pointer, "a method must be an object with \"nodes\"");
          continue;
        }
        check_keys(ms, {"parameters", "nodes", "returnType", "description"});
        Function& fn = P().functions.emplace_back();
        fn.name = ci.name + "." + mname;
        const Type* ret = mname == "onBytes" ? T.union_of({T.bytes(), T.error(), T.nil()}) : T.optional_error();
        FunctionCompiler fc(ctx_, fn, &ci, ret);
        int callers;
        if (mname == "onBytes") {
          callers = handler_params(ms, fc, "onBytes", T.bytes(), "(byte[] data) or (tcp:Caller caller, byte[] data)");
          ci.on_bytes = &fn;
          ci.on_bytes_takes_caller = callers == 1;
        } else if (mname == "onClose") {
          callers = handler_params(ms, fc, "onClose", nullptr, "no parameters, or (tcp:Caller caller)");
          ci.on_close = &fn;
          ci.on_close_takes_caller = callers == 1;
        } else {
          callers = handler_params(ms, fc, "onError", T.error(), "(error err) or (tcp:Caller caller, error err)");
          ci.on_error = &fn;
          ci.on_error_takes_caller = callers == 1;
        }
        fn.nparams = fn.nlocals;
        fc.body(ms);
      }
      if (!ci.on_bytes)
        D().error(DiagId::MissingField, c.pointer + "/methods", "class " + ci.name + " needs an onBytes method");
    }
  }

  void services() {
    TypeTable& T = *P().types;
    NodeSpec top{root_, ""};
    int count = 0;
    each_object(top, "services", [&](const NodeSpec& s) {
      ++count;
      check_keys(s, {"listener", "onConnect", "description", "name"});
      Function scratch;
      FunctionCompiler probe(ctx_, scratch, nullptr, T.nil());
      auto lname = probe.string_field(s, "listener", true);
      ServiceInfo si;
      si.listener = -1;
      if (lname) {
        for (std::size_t i = 0; i < P().listeners.size(); ++i)
          if (P().listeners[i].name == *lname) si.listener = static_cast<int>(i);
        if (si.listener < 0) {
          std::vector<std::string> names;
          for (const auto& l : P().listeners) names.push_back(l.name);
          std::string near = closest_name(*lname, names);
          D().error(DiagId::UnknownListener, s.pointer + "/listener",
                    "unknown listener '" + *lname + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
        }
      }
      const Json* oc = probe.field(s, "onConnect", true, Json::value_t::object);
      if (!oc) return;
      NodeSpec ocs = s.child("onConnect");
      check_keys(ocs, {"parameters", "nodes", "returnType", "description"});
      std::vector<const Type*> rets{T.error(), T.nil()};
      for (const auto& c : P().classes) rets.push_back(c.type);
      Function& fn = P().functions.emplace_back();
      fn.name = "onConnect";
      FunctionCompiler fc(ctx_, fn, nullptr, T.union_of(rets));
      // onConnect(tcp:Caller caller): the caller parameter may be left out.
      handler_params(ocs, fc, "onConnect", nullptr, "(tcp:Caller caller)");
      fn.nparams = fn.nlocals;
      fc.body(ocs);
      si.on_connect = &fn;
      for (auto& other : P().services)
        if (other.listener == si.listener && si.listener >= 0)
          D().error(DiagId::DuplicateName, s.pointer + "/listener", "listener '" + *lname + "' already has a service");
      P().services.push_back(si);
    });
    if (count == 0)
      D().error(DiagId::NoService, "", "the flow has no service: add one to \"services\" with a listener and onConnect");
  }

  ModuleContext ctx_;
  const Json& root_;
  std::vector<NodeSpec> class_specs_;
  std::vector<NodeSpec> function_specs_;
};

}  // namespace

LoadResult load_flow_text(std::string text, const std::string& file_name, const NodeRegistry& registry) {
  LoadResult r;
  r.text = std::move(text);
  if (r.text.size() > kMaxFlowFileBytes) {
    r.diags.error(DiagId::FileTooLarge, "",
                  "the flow file is " + std::to_string(r.text.size()) + " bytes; the limit is " +
                      std::to_string(kMaxFlowFileBytes) + " bytes (kMaxFlowFileBytes)");
    return r;
  }
  SourceIndex index(r.text);
  if (std::size_t at = find_too_deep(r.text, kMaxJsonDepth); at != std::string_view::npos) {
    auto& d = r.diags.error(DiagId::JsonTooDeep, "",
                            "the flow nests deeper than " + std::to_string(kMaxJsonDepth) + " levels (kMaxJsonDepth)");
    auto pos = index.position_of_offset(at);
    d.line = pos.line;
    d.column = pos.column;
    return r;
  }
  Json root;
  try {
    root = Json::parse(r.text);
  } catch (const Json::parse_error& e) {
    std::size_t at = std::min(e.byte > 0 ? e.byte - 1 : 0, r.text.size());
    std::string what = clean_json_error(e.what());
    auto pos = index.position_of_offset(at);
    // nlohmann reports a comma mistake at the next token: the error names the comma, at the comma (or
    // where it belongs), and a note shows where the parser stopped.
    if (auto [comma, message] = find_comma_mistake(r.text, at, what); comma != std::string_view::npos) {
      auto& d = r.diags.error(DiagId::JsonSyntax, "", message);
      auto cpos = index.position_of_offset(comma);
      d.line = cpos.line;
      d.column = cpos.column;
      d.line_text = line_at(r.text, comma);
      d.notes.push_back({"the JSON parser stopped here: " + what, pos.line, pos.column, line_at(r.text, at)});
      return r;
    }
    auto& d = r.diags.error(DiagId::JsonSyntax, "", what);
    d.line = pos.line;
    d.column = pos.column;
    d.line_text = line_at(r.text, at);
    return r;
  } catch (const Json::exception& e) {
    // Valid JSON syntax that nlohmann cannot hold, e.g. a number too large for a double (found by
    // fuzz_flow_loader): reported, never thrown out of the loader.
    std::string what = e.what();
    auto close = what.find("] ");
    auto& d = r.diags.error(DiagId::JsonSyntax, "", close == std::string::npos ? what : what.substr(close + 2));
    // The message quotes the offending text: point at it.
    auto q1 = what.find('\'');
    auto q2 = q1 == std::string::npos ? q1 : what.find('\'', q1 + 1);
    if (q2 != std::string::npos) {
      auto at = r.text.find(what.substr(q1 + 1, q2 - q1 - 1));
      if (at != std::string::npos) {
        auto pos = index.position_of_offset(at);
        d.line = pos.line;
        d.column = pos.column;
      }
    }
    return r;
  }
  if (!root.is_object()) {
    r.diags.error(DiagId::WrongFieldType, "", "a flow must be a JSON object");
    return r;
  }
  r.program = std::make_unique<Program>();
  Program& p = *r.program;
  p.file = file_name;
  if (auto it = root.find("name"); it != root.end() && it->is_string()) p.module = it->get<std::string>();
  else p.module = std::filesystem::path(file_name).stem().string();
  // The module name is written unquoted in log lines (module=chat): keep it to a safe alphabet.
  bool safe = !p.module.empty() && std::all_of(p.module.begin(), p.module.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/';
  });
  if (!safe) {
    if (root.contains("name"))
      r.diags.error(DiagId::BadName, "/name", "the flow's name appears in log lines: use letters, digits, _ - . or /");
    else
      p.module = "flow";
  }
  ModuleCompiler(p, r.diags, registry, root).run();
  r.diags.resolve_positions(index);
  for (auto& s : p.sites) {
    auto pos = index.locate(s.pointer);
    s.line = pos.line;
    s.column = pos.column;
  }
  return r;
}

LoadResult load_flow_file(const std::string& path, const NodeRegistry& registry) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    LoadResult r;
    r.diags.error(DiagId::FileUnreadable, "", "cannot read the flow file: it is a directory");
    return r;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.diags.error(DiagId::FileUnreadable, "", std::string("cannot read the flow file: ") + std::strerror(errno));
    return r;
  }
  // The size first, so a huge file is refused without loading it (and no buffer is over-sized).
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) size = 0;
  if (static_cast<std::size_t>(size) > kMaxFlowFileBytes) {
    LoadResult r;
    r.diags.error(DiagId::FileTooLarge, "", "the flow file is " + std::to_string(size) + " bytes; the limit is " +
                                                std::to_string(kMaxFlowFileBytes) + " bytes (kMaxFlowFileBytes)");
    return r;
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), size);
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) {
    LoadResult r;
    r.diags.error(DiagId::FileUnreadable, "", std::string("cannot read the flow file: ") + std::strerror(errno));
    return r;
  }
  return load_flow_text(std::move(text), path, registry);
}

}  // namespace flowd
