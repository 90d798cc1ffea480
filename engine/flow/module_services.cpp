// ModuleCompiler, what serves: listeners with their TLS settings, classes with their handlers, services.
#include "flow/module_compiler.hpp"

#include <algorithm>

namespace flowd {

void ModuleCompiler::listeners() {
  NodeSpec top{root_, ""};
  std::set<std::string> seen;
  each_object(top, "listeners", [&](const NodeSpec& l) {
    check_keys(l, {"name", "kind", "port", "localHost", "description", "framing", "maxLineLength", "maxConnections",
                   "maxOutputBytes", "idleTimeout", "lineTimeout", "secureSocket"});
    auto name = name_of(l, seen, "listener");
    Function scratch;
    FunctionCompiler fc(ctx_, scratch, nullptr, program().types->nil());
    auto kind = fc.string_field(l, "kind", true);
    if (kind && *kind != "tcp")
      diags().error(DiagId::BadListener, l.pointer + "/kind", "unknown listener kind \"" + *kind + "\" (flowd serves \"tcp\")");
    ListenerInfo li;
    li.name = name.value_or("");
    li.pointer = l.pointer;
    li.port = module_expression(l, "port", program().types->integer(), "listener " + li.name + " port");
    if (l.json.contains("localHost") && !l.json["localHost"].is_null())
      li.host = module_expression(l, "localHost", program().types->string(), "listener " + li.name + " localHost");
    if (auto framing = fc.string_field(l, "framing", false)) {
      if (*framing == "line") li.framing = Framing::Line;
      else if (*framing != "raw")
        diags().error(DiagId::BadListener, l.pointer + "/framing",
                      "\"framing\" is \"raw\" (chunks as read, the default) or \"line\", not \"" + *framing + "\"");
    }
    if (l.json.contains("maxLineLength") && !l.json["maxLineLength"].is_null()) {
      if (li.framing != Framing::Line)
        diags().warning(DiagId::BadListener, l.pointer + "/maxLineLength", "\"maxLineLength\" only applies with \"framing\": \"line\"");
      li.max_line_length = module_expression(l, "maxLineLength", program().types->integer(), "listener " + li.name + " maxLineLength");
    }
    auto setting = [&](const char* key, const Type* type) -> const Function* {
      if (!l.json.contains(key) || l.json[key].is_null()) return nullptr;
      return module_expression(l, key, type, "listener " + li.name + " " + key);
    };
    li.max_connections = setting("maxConnections", program().types->integer());
    li.max_output_bytes = setting("maxOutputBytes", program().types->integer());
    li.idle_timeout = setting("idleTimeout", program().types->floating());
    li.line_timeout = setting("lineTimeout", program().types->floating());
    if (li.line_timeout && li.framing != Framing::Line)
      diags().warning(DiagId::BadListener, l.pointer + "/lineTimeout", "\"lineTimeout\" only applies with \"framing\": \"line\"");
    if (fc.field(l, "secureSocket", false, Json::value_t::object)) secure_socket(l.child("secureSocket"), li, fc);
    program().listeners.push_back(std::move(li));
  });
}

// A listener's secureSocket: { key: {certFile, keyFile, keyPassword}, protocol: {name, versions},
// ciphers, handshakeTimeout, sessionTimeout }, as Ballerina's ListenerSecureSocket.
void ModuleCompiler::secure_socket(const NodeSpec& s, ListenerInfo& li, FunctionCompiler& fc) {
  check_keys(s, {"key", "protocol", "ciphers", "handshakeTimeout", "sessionTimeout", "description"});
  li.secure = true;
  TypeTable& T = *program().types;
  std::string what = "listener " + li.name + " secureSocket ";
  auto expr = [&](const NodeSpec& at, const char* key, const Type* t, bool required) -> const Function* {
    if (!at.json.contains(key) || at.json[key].is_null()) {
      if (required)
        diags().error(DiagId::MissingField, at.pointer,
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
      diags().error(DiagId::WrongFieldType, at.pointer + "/" + key,
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
      diags().error(DiagId::BadListener, p.pointer + "/name", "protocol \"name\" is \"TLS\" (SSL is not supported)");
    list(p, "versions", li.tls.versions, li.tls.versions_list);
  }
  list(s, "ciphers", li.tls.ciphers, li.tls.ciphers_list);
  li.tls.handshake_timeout = expr(s, "handshakeTimeout", T.floating(), false);
  li.tls.session_timeout = expr(s, "sessionTimeout", T.floating(), false);
}

// Declares the parameters of a handler, checking them against the accepted shapes.
// Returns the number of leading tcp:Caller parameters (0 or 1), or -1 on error.
int ModuleCompiler::handler_params(const NodeSpec& fn_spec, FunctionCompiler& fc, const char* handler, const Type* required,
                                 const char* shapes) {
  TypeTable& T = *program().types;
  std::vector<std::pair<std::string, const Type*>> params;
  auto it = fn_spec.json.find("parameters");
  if (it != fn_spec.json.end() && !it->is_null()) {
    if (!it->is_array()) {
      diags().error(DiagId::WrongFieldType, fn_spec.pointer + "/parameters", "\"parameters\" must be an array");
      return -1;
    }
    NodeSpec ps = fn_spec.child("parameters");
    for (std::size_t i = 0; i < it->size(); ++i) {
      NodeSpec p = ps.at(i);
      if (!p.json.is_object()) {
        diags().error(DiagId::WrongFieldType, p.pointer, "a parameter must be an object with \"name\" and \"type\"");
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
    diags().error(DiagId::BadHandlerSignature, fn_spec.pointer + "/parameters",
                  std::string(handler) + " takes " + shapes);
    return -1;
  }
  return callers;
}

void ModuleCompiler::classes() {
  TypeTable& T = *program().types;
  for (std::size_t ci_index = 0; ci_index < class_specs_.size(); ++ci_index) {
    const NodeSpec& c = class_specs_[ci_index];
    ClassInfo& ci = program().classes[ci_index];
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
          diags().error(DiagId::MissingField, v.pointer,
                        "class variable '" + *name + "' of type " + t->name + " needs a \"default\"");
        return;
      }
      computed.push_back({v, idx, init_key});
    });
    // Defaults: a literal goes into the instance template, anything else into the initializer.
    if (!computed.empty()) {
      Function& init = program().functions.emplace_back();
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
            case Op::Const: constant = program().constants[in.a]; break;
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
      diags().error(DiagId::MissingField, c.pointer, "class " + ci.name + " needs \"methods\" with at least onBytes");
      continue;
    }
    if (!mit->is_object()) {
      diags().error(DiagId::WrongFieldType, c.pointer + "/methods", "\"methods\" must be an object");
      continue;
    }
    NodeSpec methods = c.child("methods");
    for (auto m = mit->begin(); m != mit->end(); ++m) {
      const std::string& mname = m.key();
      NodeSpec ms = methods.child(mname);
      if (mname != "onBytes" && mname != "onClose" && mname != "onError") {
        std::string near = closest_name(mname, {"onBytes", "onClose", "onError"});
        diags().error(DiagId::UnknownHandler, ms.pointer,
                      "unknown method '" + mname + "': a connection class has onBytes, onClose and onError" +
                      (near.empty() || near == mname ? "" : " (did you mean '" + near + "'?)"));
        continue;
      }
      if (!ms.json.is_object()) {
        diags().error(DiagId::WrongFieldType, ms.pointer, "a method must be an object with \"nodes\"");
        continue;
      }
      check_keys(ms, {"parameters", "nodes", "returnType", "description"});
      Function& fn = program().functions.emplace_back();
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
      diags().error(DiagId::MissingField, c.pointer + "/methods", "class " + ci.name + " needs an onBytes method");
  }
}

void ModuleCompiler::services() {
  TypeTable& T = *program().types;
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
      for (std::size_t i = 0; i < program().listeners.size(); ++i)
        if (program().listeners[i].name == *lname) si.listener = static_cast<int>(i);
      if (si.listener < 0) {
        std::vector<std::string> names;
        for (const auto& l : program().listeners) names.push_back(l.name);
        std::string near = closest_name(*lname, names);
        diags().error(DiagId::UnknownListener, s.pointer + "/listener",
                      "unknown listener '" + *lname + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
      }
    }
    const Json* oc = probe.field(s, "onConnect", true, Json::value_t::object);
    if (!oc) return;
    NodeSpec ocs = s.child("onConnect");
    check_keys(ocs, {"parameters", "nodes", "returnType", "description"});
    std::vector<const Type*> rets{T.error(), T.nil()};
    for (const auto& c : program().classes) rets.push_back(c.type);
    Function& fn = program().functions.emplace_back();
    fn.name = "onConnect";
    FunctionCompiler fc(ctx_, fn, nullptr, T.union_of(rets));
    // onConnect(tcp:Caller caller): the caller parameter may be left out.
    handler_params(ocs, fc, "onConnect", nullptr, "(tcp:Caller caller)");
    fn.nparams = fn.nlocals;
    fc.body(ocs);
    si.on_connect = &fn;
    for (auto& other : program().services)
      if (other.listener == si.listener && si.listener >= 0)
        diags().error(DiagId::DuplicateName, s.pointer + "/listener", "listener '" + *lname + "' already has a service");
    program().services.push_back(si);
  });
  if (count == 0)
    diags().error(DiagId::NoService, "", "the flow has no service: add one to \"services\" with a listener and onConnect");
}

}  // namespace flowd
