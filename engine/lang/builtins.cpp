#include "lang/builtins.hpp"


#include "lang/parser.hpp"

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

BuiltinTable::BuiltinTable(TypeTable& types) : types_(types) {
  add("string:fromBytes", "byte[] bytes", "string|error");
  add("string:toBytes", "string s", "byte[]");
  add("string:trim", "string s", "string");
  add("string:length", "string s", "int");
  add("string:toUpperAscii", "string s", "string");
  add("string:toLowerAscii", "string s", "string");
  add("string:startsWith", "string s, string substr", "boolean");
  add("string:endsWith", "string s, string substr", "boolean");
  add("string:includes", "string s, string substr, int startIndex?", "boolean");
  add("string:indexOf", "string s, string substr, int startIndex?", "int?");
  add("string:lastIndexOf", "string s, string substr", "int?");
  add("string:substring", "string s, int startIndex, int endIndex?", "string");
  add("string:equalsIgnoreCaseAscii", "string s1, string s2", "boolean");
  add("string:toString", "string s", "string");
  add("int:fromString", "string s", "int|error");
  add("int:toString", "int n", "string");
  add("int:abs", "int n", "int");
  add("float:fromString", "string s", "float|error");
  add("float:toString", "float x", "string");
  add("float:round", "float x", "float");
  add("float:floor", "float x", "float");
  add("float:ceil", "float x", "float");
  add("boolean:toString", "boolean b", "string");
  add("error:message", "error e", "string");
  add("error:cause", "error e", "error?");
  add("error", "string message, error cause?", "error");
  add_generic("value:toString", {"v"}, 1,
              [](TypeTable& t, const std::vector<const Type*>&, std::string&) { return t.string(); });
  add_generic("array:length", {"arr"}, 1,
              [](TypeTable& t, const std::vector<const Type*>& a, std::string& err) -> const Type* {
                if (a[0]->kind != TypeKind::Array) {
                  err = "array:length needs an array, not " + a[0]->name;
                  return nullptr;
                }
                return t.integer();
              });
  add("string:split", "string s, string separator", "string[]");
  add("string:join", "string separator, string[] strs", "string");
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
  add_generic("array:push", {"arr", "value"}, 2, needs(TypeKind::Array, "push", [](TypeTable& t, const Type*) { return t.nil(); }));
  list_.back().params[1].receiver_element = true;
  list_.back().mutates_receiver = true;
  add_generic("array:pop", {"arr"}, 1, needs(TypeKind::Array, "pop", [](TypeTable&, const Type* a) { return a->elem; }));
  list_.back().mutates_receiver = true;
  add_generic("array:remove", {"arr", "index"}, 2, needs(TypeKind::Array, "remove", [](TypeTable&, const Type* a) { return a->elem; }));
  list_.back().params[1].type = types_.integer();
  list_.back().mutates_receiver = true;
  add_generic("array:indexOf", {"arr", "value"}, 2,
              needs(TypeKind::Array, "indexOf", [](TypeTable& t, const Type*) { return t.optional(t.integer()); }));
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
              });
  list_.back().params[1].type = types_.string();
  add_generic("array:reverse", {"arr"}, 1, needs(TypeKind::Array, "reverse", [](TypeTable&, const Type* a) { return a; }));
  add_generic("map:hasKey", {"m", "k"}, 2, needs(TypeKind::Map, "hasKey", [](TypeTable& t, const Type*) { return t.boolean(); }));
  list_.back().params[1].type = types_.string();
  add_generic("map:keys", {"m"}, 1, needs(TypeKind::Map, "keys", [](TypeTable& t, const Type*) { return t.array_of(t.string()); }));
  add_generic("map:length", {"m"}, 1, needs(TypeKind::Map, "length", [](TypeTable& t, const Type*) { return t.integer(); }));
  add_generic("map:toArray", {"m"}, 1, needs(TypeKind::Map, "toArray", [](TypeTable& t, const Type* m) { return t.array_of(m->elem); }));
  add_generic("map:remove", {"m", "k"}, 2, needs(TypeKind::Map, "remove", [](TypeTable&, const Type* m) { return m->elem; }));
  list_.back().params[1].type = types_.string();
  list_.back().mutates_receiver = true;
  add_generic("map:removeIfHasKey", {"m", "k"}, 2,
              needs(TypeKind::Map, "removeIfHasKey", [](TypeTable& t, const Type* m) { return t.optional(m->elem); }));
  list_.back().params[1].type = types_.string();
  add_generic("map:get", {"m", "k"}, 2, needs(TypeKind::Map, "get", [](TypeTable&, const Type* m) { return m->elem; }));
  list_.back().params[1].type = types_.string();
  const char* levels[] = {"log:printDebug", "log:printInfo", "log:printWarn", "log:printError"};
  for (int i = 0; i < 4; ++i) {
    Builtin b;
    b.name = levels[i];
    b.params = {{"msg", types_.string(), false}, {"error", types_.error(), true}};
    b.ret = types_.nil();
    b.is_log = true;
    b.level = static_cast<LogLevel>(i);
    list_.push_back(std::move(b));
  }
}

void BuiltinTable::add(std::string name, std::string params, std::string ret) {
  Builtin b;
  b.name = std::move(name);
  TypeTable& types = types_;
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
  b.native = static_cast<int>(native_names_.size());
  native_names_.push_back(b.name);
  list_.push_back(std::move(b));
}

void BuiltinTable::add_generic(std::string name, std::vector<std::string> param_names, int required,
                               decltype(Builtin::typer) typer) {
  Builtin b;
  b.name = std::move(name);
  for (std::size_t i = 0; i < param_names.size(); ++i)
    b.params.push_back({param_names[i], nullptr, static_cast<int>(i) >= required});
  b.typer = std::move(typer);
  b.native = static_cast<int>(native_names_.size());
  native_names_.push_back(b.name);
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
