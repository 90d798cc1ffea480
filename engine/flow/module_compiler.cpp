#include "flow/module_compiler.hpp"

#include <algorithm>

namespace flowd {

void ModuleCompiler::run() {
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

void ModuleCompiler::check_keys(const NodeSpec& n, std::vector<std::string_view> known) {
  Function scratch;
  FunctionCompiler fc(ctx_, scratch, nullptr, program().types->nil());
  fc.check_keys(n, known);
}

std::optional<std::string> ModuleCompiler::name_of(const NodeSpec& n, std::set<std::string>& seen, const char* what) {
  Function scratch;
  FunctionCompiler fc(ctx_, scratch, nullptr, program().types->nil());
  auto name = fc.identifier_field(n, "name", true);
  if (!name) return std::nullopt;
  if (!seen.insert(*name).second) {
    diags().error(DiagId::DuplicateName, n.pointer + "/name", std::string(what) + " '" + *name + "' is declared twice");
    return std::nullopt;
  }
  return name;
}

void ModuleCompiler::declare_classes() {
  NodeSpec top{root_, ""};
  std::set<std::string> seen;
  each_object(top, "classes", [&](const NodeSpec& c) {
    auto name = name_of(c, seen, "class");
    if (!name) return;
    ClassInfo& ci = program().classes.emplace_back();
    ci.name = *name;
    ci.index = static_cast<int>(program().classes.size() - 1);
    ci.type = program().types->object(ci.index, ci.name);
    class_specs_.emplace_back(c);
  });
}

// Compiles a module-level expression (a default, a listener port) into a function of no arguments.
const Function* ModuleCompiler::module_expression(const NodeSpec& n, const char* key, const Type* type, const std::string& name) {
  Function& fn = program().functions.emplace_back();
  fn.name = name;
  FunctionCompiler fc(ctx_, fn, nullptr, type);
  if (!fc.expression_field(n, key, type)) return nullptr;
  fc.emit(Op::Return);
  if (auto it = n.json.find(key); it != n.json.end() && it->is_string()) {
    int g = ctx_.global_index(it->get<std::string>());
    if (g >= 0 && program().globals[static_cast<std::size_t>(g)].configurable) fn.reads_configurable = g;
  }
  return &fn;
}

// A declared variable's initial value is "default" on configurables and class variables and
// "expression" on module variables (as BI writes them). The other name is taken with a warning
// saying which to write; both at once is an error. Returns the key that holds the value, or null.
const char* ModuleCompiler::initial_value_key(const NodeSpec& v, const char* canonical, const char* other, const char* what) {
  auto given = [&](const char* key) {
    auto it = v.json.find(key);
    return it != v.json.end() && !it->is_null();
  };
  if (given(canonical) && given(other)) {
    diags().error(DiagId::InitialValueTwice, v.pointer + "/" + other,
                  std::string("both \"") + canonical + "\" and \"" + other + "\" give the initial value of " + what +
                  ": keep only \"" + canonical + "\"");
    return canonical;
  }
  if (given(other)) {
    diags().warning(DiagId::InitialValueKey, v.pointer + "/" + other,
                    std::string("the initial value of ") + what + " is written \"" + canonical + "\", not \"" + other +
                    "\" (taken as \"" + canonical + "\")");
    return other;
  }
  return given(canonical) ? canonical : nullptr;
}

void ModuleCompiler::configurables() {
  NodeSpec top{root_, ""};
  std::set<std::string> seen;
  each_object(top, "configurables", [&](const NodeSpec& c) {
    check_keys(c, {"name", "type", "default", "expression", "description"});
    const char* init_key = initial_value_key(c, "default", "expression", "a configurable");
    auto name = name_of(c, seen, "configurable");
    Function scratch;
    FunctionCompiler fc(ctx_, scratch, nullptr, program().types->nil());
    auto type_text = fc.string_field(c, "type", true);
    if (!name || !type_text) return;
    const Type* t = ctx_.resolve_type(*type_text, c.pointer + "/type");
    if (!t) return;
    if (t->kind != TypeKind::Int && t->kind != TypeKind::Float && t->kind != TypeKind::String &&
        t->kind != TypeKind::Boolean) {
      diags().error(DiagId::WrongFieldType, c.pointer + "/type",
                    "a configurable must be int, float, string or boolean, not " + t->name);
      return;
    }
    GlobalInfo g;
    g.name = *name;
    g.type = t;
    g.configurable = true;
    g.pointer = c.pointer;
    if (init_key) g.init = module_expression(c, init_key, t, "configurable " + *name);
    program().globals.push_back(std::move(g));
  });
}

// Module-level variables, shared by every connection: `map<tcp:Caller> clients = {};`
void ModuleCompiler::module_variables() {
  NodeSpec top{root_, ""};
  std::set<std::string> seen;
  for (const auto& g : program().globals) seen.insert(g.name);
  each_object(top, "variables", [&](const NodeSpec& v) {
    check_keys(v, {"name", "type", "expression", "default", "description"});
    const char* init_key = initial_value_key(v, "expression", "default", "a module variable");
    auto name = name_of(v, seen, "module variable");
    Function scratch;
    FunctionCompiler fc(ctx_, scratch, nullptr, program().types->nil());
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
    if (holds_client(t)) program().shares_clients = true;
    program().globals.push_back(std::move(g));
  });
}

bool ModuleCompiler::holds_client(const Type* t) {
  if (t->kind == TypeKind::Client) return true;
  if (t->elem && holds_client(t->elem)) return true;
  for (const Type* m : t->members)
    if (holds_client(m)) return true;
  return false;
}

// Module-level connections (BI's NEW_CONNECTION in "connections"): `final tcp:Client backend =
// check new (host, port);`. Each is connected at start, before the flow serves.
void ModuleCompiler::connections() {
  NodeSpec top{root_, ""};
  std::set<std::string> seen;
  for (const auto& g : program().globals) seen.insert(g.name);
  each_object(top, "connections", [&](const NodeSpec& c) {
    check_keys(c, {"name", "node", "id", "label", "description", "type", "remoteHost", "remotePort", "timeout",
                   "writeTimeout", "secureSocket"});
    auto name = name_of(c, seen, "connection");
    Function scratch;
    FunctionCompiler probe(ctx_, scratch, nullptr, program().types->nil());
    if (auto node = probe.string_field(c, "node", false); node && *node != "NEW_CONNECTION")
      diags().error(DiagId::WrongFieldType, c.pointer + "/node", "a connection is a \"NEW_CONNECTION\" node, not \"" + *node + "\"");
    if (auto type = probe.string_field(c, "type", false); type && *type != "tcp:Client")
      diags().error(DiagId::WrongFieldType, c.pointer + "/type", "a connection is of type \"tcp:Client\", not \"" + *type + "\"");
    if (!name) return;
    Function& fn = program().functions.emplace_back();
    fn.name = "connection " + *name;
    FunctionCompiler fc(ctx_, fn, nullptr, program().types->union_of({program().types->client(), program().types->error()}));
    if (!fc.emit_connect(c)) return;
    fc.emit(Op::Return);
    GlobalInfo g;
    g.name = *name;
    g.type = program().types->client();
    g.pointer = c.pointer;
    g.init = &fn;
    g.connection = true;
    program().shares_clients = true;
    program().globals.push_back(std::move(g));
  });
}

// Signatures first, so handlers and functions can call any function (and recurse).
void ModuleCompiler::declare_functions() {
  NodeSpec top{root_, ""};
  std::set<std::string> seen;
  TypeTable& T = *program().types;
  each_object(top, "functions", [&](const NodeSpec& f) {
    check_keys(f, {"name", "parameters", "returnType", "nodes", "description"});
    auto name = name_of(f, seen, "function");
    if (!name) return;
    if (ctx_.builtins.find(*name)) {
      diags().error(DiagId::DuplicateName, f.pointer + "/name", "'" + *name + "' is a library function's name");
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
        diags().error(DiagId::WrongFieldType, f.pointer + "/parameters", "\"parameters\" must be an array");
        return;
      }
      NodeSpec ps = f.child("parameters");
      std::set<std::string> pnames;
      for (std::size_t i = 0; i < pit->size(); ++i) {
        NodeSpec p = ps.at(i);
        if (!p.json.is_object()) {
          diags().error(DiagId::WrongFieldType, p.pointer, "a parameter must be an object with \"name\" and \"type\"");
          ok = false;
          continue;
        }
        auto pname = fc.identifier_field(p, "name", true);
        auto ptype = fc.string_field(p, "type", true);
        const Type* t = ptype ? ctx_.resolve_type(*ptype, p.pointer + "/type") : nullptr;
        if (!pname || !t) { ok = false; continue; }
        if (!pnames.insert(*pname).second) {
          diags().error(DiagId::DuplicateName, p.pointer + "/name", "parameter '" + *pname + "' is declared twice");
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
    Function& fn = program().functions.emplace_back();
    fn.name = *name;
    uf.function_index = static_cast<int>(program().functions.size() - 1);
    Builtin sig;
    sig.name = uf.name;
    for (const auto& [pn, pt] : uf.params) sig.params.push_back({pn, pt, false});
    sig.ret = uf.ret;
    sig.user_function = uf.function_index;
    ctx_.user_signatures.push_back(std::move(sig));
    program().user_functions.push_back(std::move(uf));
    function_specs_.emplace_back(f);
  });
}

void ModuleCompiler::function_bodies() {
  for (std::size_t i = 0; i < function_specs_.size(); ++i) {
    const UserFunction& uf = program().user_functions[i];
    Function& fn = program().functions[static_cast<std::size_t>(uf.function_index)];
    const NodeSpec& f = function_specs_[i];
    FunctionCompiler fc(ctx_, fn, nullptr, uf.ret);
    for (std::size_t k = 0; k < uf.params.size(); ++k)
      fc.declare_local(f.child("parameters").at(k), "name", uf.params[k].first, uf.params[k].second);
    fn.nparams = static_cast<int>(uf.params.size());
    fc.body(f);
  }
}

}  // namespace flowd
