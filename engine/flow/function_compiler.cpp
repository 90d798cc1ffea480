// FunctionCompiler: the API node kinds use (fields, blocks, locals, binding results, assignments).
// Expressions are compiled in expression_compiler.cpp.
#include <algorithm>

#include "flow/compiler.hpp"

namespace flowd {

const Type* ModuleContext::class_type(std::string_view name) const {
  for (const auto& c : program.classes)
    if (c.name == name) return c.type;
  return nullptr;
}

int ModuleContext::global_index(std::string_view name) const {
  for (std::size_t i = 0; i < program.globals.size(); ++i)
    if (program.globals[i].name == name) return static_cast<int>(i);
  return -1;
}

const UserFunction* ModuleContext::user_function(std::string_view name) const {
  for (const auto& f : program.user_functions)
    if (f.name == name) return &f;
  return nullptr;
}

const Builtin* ModuleContext::callable(std::string_view name) const {
  if (const Builtin* b = builtins.find(name)) return b;
  for (const auto& u : user_signatures)
    if (u.name == name) return &u;
  return nullptr;
}

std::vector<std::string> ModuleContext::callable_names() const {
  std::vector<std::string> names = builtins.all_names();
  for (const auto& u : user_signatures) names.push_back(u.name);
  return names;
}

const Type* ModuleContext::resolve_type(const std::string& text, const std::string& pointer) {
  std::string err;
  int pos = 0;
  const Type* t = resolve_type_text(*program.types, text, [this](std::string_view n) { return class_type(n); },
                                    err, pos);
  if (!t) diags.expr_error(DiagId::UnknownType, pointer, text, pos, 1, err);
  return t;
}

FunctionCompiler::FunctionCompiler(ModuleContext& module, Function& fn, const ClassInfo* self_class,
                                   const Type* return_type)
    : module_(module), fn_(fn), self_class_(self_class), return_type_(return_type) {
  if (self_class_) next_slot_ = 1;  // slot 0 holds self
  fn_.nlocals = next_slot_;
  fn_.ret = return_type;
  scopes_.push_back(0);
}

// ---- fields

static const char* json_kind_name(Json::value_t t) {
  switch (t) {
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "true or false";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    case Json::value_t::null: return "null";
    default: return "a number";
  }
}

const Json* FunctionCompiler::field(const NodeSpec& n, std::string_view key, bool required, Json::value_t expected) {
  auto it = n.json.find(std::string(key));
  if (it == n.json.end() || it->is_null()) {
    if (required)
      diags().error(DiagId::MissingField, n.pointer, "missing field \"" + std::string(key) + "\"");
    return nullptr;
  }
  bool ok = it->type() == expected ||
            (expected == Json::value_t::number_integer && it->is_number_integer());
  if (!ok) {
    diags().error(DiagId::WrongFieldType, n.pointer + "/" + std::string(key),
                  "\"" + std::string(key) + "\" must be " + json_kind_name(expected) + ", not " +
                      json_kind_name(it->type()) +
                      (expected == Json::value_t::string && it->is_number() ? " (values are expression strings: write \"" + it->dump() + "\")" : ""));
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> FunctionCompiler::string_field(const NodeSpec& n, std::string_view key, bool required) {
  const Json* j = field(n, key, required, Json::value_t::string);
  if (!j) return std::nullopt;
  return j->get<std::string>();
}

bool is_reserved_word(std::string_view s) {
  // The expression language's keywords (lang/tokens.def), and the names of types, modules and statements.
  static const char* const kReserved[] = {"int", "float", "string", "boolean", "byte", "error", "map", "any",
                                          "anydata", "var", "tcp", "log", "array", "value", "function", "return",
                                          "if", "else", "while", "foreach", "match", "fail", "lock", "break",
                                          "continue"};
  return keyword_or_identifier(s) != Tok::Ident ||
         std::find(std::begin(kReserved), std::end(kReserved), s) != std::end(kReserved);
}

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!start(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

std::optional<std::string> FunctionCompiler::identifier_field(const NodeSpec& n, std::string_view key, bool required) {
  auto s = string_field(n, key, required);
  if (!s) return s;
  if (!is_identifier(*s)) {
    diags().error(DiagId::BadName, n.pointer + "/" + std::string(key),
                  "\"" + *s + "\" is not a valid name (letters, digits and _, not starting with a digit)");
    return std::nullopt;
  }
  if (is_reserved_word(*s)) {
    diags().error(DiagId::BadName, n.pointer + "/" + std::string(key),
                  "\"" + *s + "\" is a reserved word of the expression language and cannot be a name");
    return std::nullopt;
  }
  return s;
}

bool FunctionCompiler::bool_field(const NodeSpec& n, std::string_view key, bool default_value) {
  const Json* j = field(n, key, false, Json::value_t::boolean);
  return j ? j->get<bool>() : default_value;
}

const Type* FunctionCompiler::type_field(const NodeSpec& n, std::string_view key, bool& ok) {
  ok = true;
  auto s = string_field(n, key, false);
  if (!s || *s == "var") return nullptr;
  const Type* t = module_.resolve_type(*s, n.pointer + "/" + std::string(key));
  ok = t != nullptr;
  return t;
}

void FunctionCompiler::check_keys(const NodeSpec& n, const std::vector<std::string_view>& known) {
  if (!n.json.is_object()) return;
  std::vector<std::string> names(known.begin(), known.end());
  for (auto it = n.json.begin(); it != n.json.end(); ++it) {
    const std::string& k = it.key();
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    std::string near = closest_name(k, names);
    if (!near.empty() && n.json.find(near) == n.json.end())
      diags().warning(DiagId::UnknownKey, n.pointer + "/" + k,
                      "unknown field \"" + k + "\" is ignored (did you mean \"" + near + "\"?)");
  }
}

// ---- locals

int FunctionCompiler::declare_local(const NodeSpec& n, std::string_view key, const std::string& name,
                                    const Type* type) {
  // As in Ballerina, a local may not redeclare any visible one (a parameter, an outer block's).
  if (auto it = by_name_.find(name); it != by_name_.end() && !it->second.empty()) {
    diags().error(DiagId::DuplicateName, n.pointer + "/" + std::string(key),
                  "variable '" + name + "' is already declared (here or in an enclosing block): choose another name");
    return -1;
  }
  return new_slot(n, name, type);
}

int FunctionCompiler::new_slot(const NodeSpec& n, const std::string& name, const Type* type) {
  if (next_slot_ >= kMaxLocals) {
    if (next_slot_ == kMaxLocals)
      diags().error(DiagId::TooComplex, n.pointer, "the function has more than " + std::to_string(kMaxLocals) +
                                                       " local variables (kMaxLocals)");
    ++next_slot_;
    return -1;
  }
  int slot = next_slot_++;
  fn_.nlocals = std::max(fn_.nlocals, next_slot_);
  push_local({name, slot, type, false});
  return slot;
}

int FunctionCompiler::hidden_local(const Type* type) {
  NodeSpec none{Json(), ""};
  int slot = new_slot(none, "", type);
  return slot < 0 ? 0 : slot;
}

void FunctionCompiler::alias_local(const std::string& name, int slot, const Type* type) {
  push_local({name, slot, type, false});
}

// Locals are also indexed by name, so lookups stay constant-time in functions with thousands of them.
void FunctionCompiler::push_local(Local l) {
  if (!l.name.empty()) by_name_[l.name].push_back(locals_.size());
  locals_.push_back(std::move(l));
}

bool FunctionCompiler::emit_check(const std::string& pointer) {
  if (!fail_targets_.empty()) {
    FailTarget& ft = fail_targets_.back();
    ft.jumps.push_back(emit(Op::CheckJump, ft.error_slot));
    return true;
  }
  if (!return_type_->contains(TypeKind::Error)) {
    diags().error(DiagId::BadCheck, pointer,
                  "check returns an error from the function, but it returns " + return_type_->name +
                      " (put it inside an ERROR_HANDLER, or let the function return error)");
    return false;
  }
  emit(Op::Check);
  return true;
}

bool FunctionCompiler::emit_fail(const std::string& pointer) {
  if (!fail_targets_.empty()) {
    FailTarget& ft = fail_targets_.back();
    ft.jumps.push_back(emit(Op::CheckJump, ft.error_slot));
    return true;
  }
  if (!return_type_->contains(TypeKind::Error)) {
    diags().error(DiagId::MisplacedStatement, pointer,
                  "FAIL outside an ERROR_HANDLER returns the error, but the function returns " + return_type_->name);
    return false;
  }
  emit(Op::Return);
  return true;
}

void FunctionCompiler::begin_scope() { scopes_.push_back(locals_.size()); }

void FunctionCompiler::end_scope() {
  while (locals_.size() > scopes_.back()) {
    if (!locals_.back().name.empty()) by_name_[locals_.back().name].pop_back();
    locals_.pop_back();
  }
  scopes_.pop_back();
}

void FunctionCompiler::narrow(const Narrowing& nr, bool when_true) {
  const Type* t = when_true ? nr.when_true : nr.when_false;
  if (nr.slot < 0 || !t) return;
  push_local({nr.name, nr.slot, t, true});
}

const FunctionCompiler::Local* FunctionCompiler::find_local(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end() || it->second.empty()) return nullptr;
  return &locals_[it->second.back()];
}

std::vector<std::string> FunctionCompiler::visible_names() const {
  std::vector<std::string> out;
  for (const auto& l : locals_) out.push_back(l.name);
  for (const auto& g : module_.program.globals) out.push_back(g.name);
  return out;
}

// ---- code

void FunctionCompiler::set_site(const NodeSpec& node) {
  SourceSite s;
  if (node.json.is_object()) {
    if (auto it = node.json.find("id"); it != node.json.end() && it->is_string()) s.node_id = it->get<std::string>();
    if (auto it = node.json.find("label"); it != node.json.end() && it->is_string()) s.label = it->get<std::string>();
    if (auto it = node.json.find("node"); it != node.json.end() && it->is_string()) s.kind = it->get<std::string>();
  }
  s.pointer = node.pointer;
  program().sites.push_back(std::move(s));
  site_ = static_cast<std::uint32_t>(program().sites.size() - 1);
}

int FunctionCompiler::emit(Op op, int a, int b, int u8) {
  if (a < 0 || a > 0xFFFF) {
    // Operands are 16 bits (slots, constants, functions, classes): a flow this large is refused.
    if (!too_large_reported_)
      diags().error(DiagId::TooComplex, "", "the flow is too large to compile: an operand passed 65535 (kMaxLocals)");
    too_large_reported_ = true;
    a = 0;
  }
  fn_.code.push_back(Instr{op, static_cast<std::uint8_t>(u8), static_cast<std::uint16_t>(a), b});
  fn_.sites.push_back(site_);
  return here() - 1;
}

int FunctionCompiler::constant(Value v) {
  auto& cs = program().constants;
  // Equal literals share one constant (keyed by tag and content, so loading stays linear).
  std::string key(1, static_cast<char>(v.tag()));
  if (v.tag() == ValueTag::String || v.tag() == ValueTag::Bytes) key += v.str();
  else if (v.tag() == ValueTag::Int) key += std::to_string(v.as_int());
  else if (v.tag() == ValueTag::Float) key.append(reinterpret_cast<const char*>(&v), sizeof(Value));
  auto [it, fresh] = module_.constant_index.try_emplace(std::move(key), static_cast<int>(cs.size()));
  if (!fresh) return it->second;
  if (cs.size() >= kMaxConstants) {
    if (cs.size() == kMaxConstants)
      diags().error(DiagId::TooComplex, "", "the flow has more than " + std::to_string(kMaxConstants) + " distinct literals (kMaxConstants)");
    cs.push_back(Value());
    return 0;
  }
  cs.push_back(std::move(v));
  return it->second;
}

bool FunctionCompiler::block(const NodeSpec& parent, std::string_view key, bool required) {
  const Json* list = field(parent, key, required, Json::value_t::array);
  if (!list) return false;
  NodeSpec nodes = parent.child(key);
  begin_scope();
  bool returned = false;
  bool reported_unreachable = false;
  for (std::size_t i = 0; i < list->size(); ++i) {
    NodeSpec node = nodes.at(i);
    if (!node.json.is_object()) {
      diags().error(DiagId::WrongFieldType, node.pointer, "a node must be an object");
      continue;
    }
    if (returned && !reported_unreachable) {
      diags().error(DiagId::UnreachableNode, node.pointer,
                    "this node can never run: the node before it always returns");
      reported_unreachable = true;
    }
    auto kind_name = string_field(node, "node", true);
    if (!kind_name) continue;
    const NodeKind* kind = registry().find(*kind_name);
    if (!kind) {
      // A misspelt kind may still declare a variable: keep it known so its uses are not reported too.
      if (auto v = node.json.find("variable"); v != node.json.end() && v->is_string() && !find_local(v->get<std::string>()))
        declare_local(node, "variable", v->get<std::string>(), nullptr);
      std::string near = closest_name(*kind_name, registry().kinds());
      diags().error(DiagId::UnknownNodeKind, node.pointer + "/node",
                    "unknown node kind \"" + *kind_name + "\"" +
                        (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
      continue;
    }
    ++program().node_count;
    set_site(node);
    check_keys(node, node_keys(kind->description()));
    if (kind->compile(node, *this)) returned = true;
  }
  end_scope();
  return returned;
}

void FunctionCompiler::body(const NodeSpec& fn_spec) {
  bool returns = block(fn_spec, "nodes", true);
  if (!returns) {
    if (types().assignable(types().nil(), return_type_)) {
      emit(Op::ReturnNil);
    } else {
      diags().error(DiagId::MissingReturn, fn_spec.pointer + "/nodes",
                    "the function must return a value of type " + return_type_->name +
                        ", but its last node can be reached without a RETURN");
    }
  }
}

// ---- results and assignment

void FunctionCompiler::bind_result(const NodeSpec& n, const Type* t, bool check, bool must_handle_error) {
  if (t && check) {
    if (!t->contains(TypeKind::Error)) {
      diags().error(DiagId::BadCheck, n.pointer + "/check",
                    t->kind == TypeKind::Nil ? std::string("\"check\" is set, but the call returns nothing, so there is no error to check")
                                             : "\"check\" is set, but the result (" + t->name + ") can never be an error");
    } else if (emit_check(n.pointer + "/check")) {
      t = types().without(t, TypeKind::Error);
    }
  }
  bool has_var = n.json.contains("variable") && !n.json["variable"].is_null();
  if (has_var) {
    auto name = identifier_field(n, "variable", true);
    bool ok = true;
    const Type* declared = type_field(n, "type", ok);
    if (!name) return;
    if (!ok || !t) {
      declare_local(n, "variable", *name, ok ? declared : nullptr);  // poisoned: uses are not reported again
      return;
    }
    if (declared && !types().assignable(t, declared)) {
      std::string hint;
      if (t->contains(TypeKind::Error) && types().assignable(types().without(t, TypeKind::Error), declared))
        hint = " (set \"check\": true to return the error from the function, or declare it as " + t->name + ")";
      diags().error(DiagId::TypeMismatch, n.pointer + "/type",
                    "the result is " + t->name + ", which cannot be stored in '" + *name + "' of type " +
                        declared->name + hint);
      declare_local(n, "variable", *name, declared);
      return;
    }
    int slot = declare_local(n, "variable", *name, declared ? declared : t);
    if (slot >= 0) emit(Op::StoreLocal, slot);
    return;
  }
  if (t && must_handle_error && t->contains(TypeKind::Error)) {
    diags().error(DiagId::TypeMismatch, n.pointer,
                  "the result may be an error (" + t->name +
                      "): set \"check\": true or store it with \"variable\"");
  }
  emit(Op::Pop);
}

}  // namespace flowd

namespace flowd {

bool FunctionCompiler::string_list(const NodeSpec& n, std::string_view key) {
  auto it = n.json.find(key);
  if (it == n.json.end() || it->is_null()) {
    emit(Op::Nil);
    return true;
  }
  if (it->is_string()) return expression_field(n, key, types().array_of(types().string())) != nullptr;
  if (!it->is_array()) {
    diags().error(DiagId::WrongFieldType, n.pointer + "/" + std::string(key),
                  "\"" + std::string(key) + "\" is a list of strings, such as [\"TLSv1.2\", \"TLSv1.3\"], or an expression of type string[]");
    return false;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    if (!e.is_string()) {
      diags().error(DiagId::WrongFieldType, n.pointer + "/" + std::string(key) + "/" + std::to_string(i),
                    "\"" + std::string(key) + "\" holds strings only");
      return false;
    }
    emit(Op::Const, constant(Value::string(e.get<std::string>())));
  }
  emit(Op::MakeArray, 0, static_cast<int>(it->size()));
  return true;
}

bool FunctionCompiler::emit_connect(const NodeSpec& n) {
  TypeTable& T = types();
  bool ok = true;
  auto optional = [&](const NodeSpec& at, const char* key, const Type* t) {
    auto it = at.json.find(key);
    if (it == at.json.end() || it->is_null()) emit(Op::Nil);
    else if (!expression_field(at, key, t)) ok = false;
  };
  // A boolean written as JSON true/false, or as an expression.
  auto flag = [&](const NodeSpec& at, const char* key, bool dflt) {
    auto it = at.json.find(key);
    if (it == at.json.end() || it->is_null()) emit(dflt ? Op::True : Op::False);
    else if (it->is_boolean()) emit(it->get<bool>() ? Op::True : Op::False);
    else if (!expression_field(at, key, T.boolean())) ok = false;
  };
  if (!expression_field(n, "remoteHost", T.string())) ok = false;
  if (!expression_field(n, "remotePort", T.integer())) ok = false;
  optional(n, "timeout", T.floating());
  optional(n, "writeTimeout", T.floating());
  const Json* ss = field(n, "secureSocket", false, Json::value_t::object);
  if (!ss) {
    emit(Op::False);
    for (int i = static_cast<int>(ConnectArg::Cert); i < kConnectArgs; ++i) emit(Op::Nil);
  } else {
    NodeSpec s = n.child("secureSocket");
    check_keys(s, {"enable", "cert", "protocol", "ciphers", "handshakeTimeout", "sessionTimeout", "verifyHostName"});
    flag(s, "enable", true);
    optional(s, "cert", T.string());
    const Json* proto = field(s, "protocol", false, Json::value_t::object);
    if (proto) {
      NodeSpec p = s.child("protocol");
      check_keys(p, {"name", "versions"});
      auto name = string_field(p, "name", false);
      if (name && *name != "TLS") {
        diags().error(DiagId::BadListener, p.pointer + "/name", "protocol \"name\" is \"TLS\" (SSL is not supported)");
        ok = false;
      }
      if (!string_list(p, "versions")) ok = false;
    } else {
      emit(Op::Nil);
    }
    if (!string_list(s, "ciphers")) ok = false;
    optional(s, "handshakeTimeout", T.floating());
    optional(s, "sessionTimeout", T.floating());
    flag(s, "verifyHostName", true);
  }
  emit(Op::Connect);
  return ok;
}

}  // namespace flowd
