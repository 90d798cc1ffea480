// Compiles a flow's JSON document into its Program: declares the module's names (classes,
// configurables, variables, connections, functions), then listeners, classes with their handlers and
// services, then every function body. module_compiler.cpp has the module-level declarations,
// module_services.cpp what serves (listeners with their TLS settings, classes, services).
#pragma once
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "flow/compiler.hpp"

namespace flowd {

class ModuleCompiler {
 public:
  ModuleCompiler(Program& p, Diagnostics& d, const NodeRegistry& r, const Json& root)
      : ctx_(p, d, r), root_(root) {}

  void run();

 private:
  Program& program() { return ctx_.program; }
  Diagnostics& diags() { return ctx_.diags; }
  void check_keys(const NodeSpec& n, std::vector<std::string_view> known);

  // Iterates the objects of an optional top-level (or nested) array field.
  template <class F>
  void each_object(const NodeSpec& parent, const char* key, F&& f) {
    auto it = parent.json.find(key);
    if (it == parent.json.end() || it->is_null()) return;
    if (!it->is_array()) {
      diags().error(DiagId::WrongFieldType, parent.pointer + "/" + key, std::string("\"") + key + "\" must be an array");
      return;
    }
    NodeSpec list = parent.child(key);
    for (std::size_t i = 0; i < it->size(); ++i) {
      NodeSpec item = list.at(i);
      if (!item.json.is_object()) {
        diags().error(DiagId::WrongFieldType, item.pointer, "each entry of \"" + std::string(key) + "\" must be an object");
        continue;
      }
      f(item);
    }
  }

  std::optional<std::string> name_of(const NodeSpec& n, std::set<std::string>& seen, const char* what);
  void declare_classes();

  // Compiles a module-level expression (a default, a listener port) into a function of no arguments.
  const Function* module_expression(const NodeSpec& n, const char* key, const Type* type, const std::string& name);

  // A declared variable's initial value is "default" on configurables and class variables and
  // "expression" on module variables (as BI writes them). The other name is taken with a warning
  // saying which to write; both at once is an error. Returns the key that holds the value, or null.
  const char* initial_value_key(const NodeSpec& v, const char* canonical, const char* other, const char* what);

  void configurables();

  // Module-level variables, shared by every connection: `map<tcp:Caller> clients = {};`
  void module_variables();

  static bool holds_client(const Type* t);

  // Module-level connections (BI's NEW_CONNECTION in "connections"): `final tcp:Client backend =
  // check new (host, port);`. Each is connected at start, before the flow serves.
  void connections();

  // Signatures first, so handlers and functions can call any function (and recurse).
  void declare_functions();

  void function_bodies();
  void listeners();

  // A listener's secureSocket: { key: {certFile, keyFile, keyPassword}, protocol: {name, versions},
  // ciphers, handshakeTimeout, sessionTimeout }, as Ballerina's ListenerSecureSocket.
  void secure_socket(const NodeSpec& s, ListenerInfo& li, FunctionCompiler& fc);

  struct ParamRule {
    const Type* type;
    const char* example;
  };

  // Declares the parameters of a handler, checking them against the accepted shapes.
  // Returns the number of leading tcp:Caller parameters (0 or 1), or -1 on error.
  int handler_params(const NodeSpec& fn_spec, FunctionCompiler& fc, const char* handler, const Type* required,
                     const char* shapes);

  void classes();
  void services();
  ModuleContext ctx_;
  const Json& root_;
  std::vector<NodeSpec> class_specs_;
  std::vector<NodeSpec> function_specs_;
};

}  // namespace flowd
