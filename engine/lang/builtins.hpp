// The library functions a flow can call (Ballerina's langlib subset): their signatures, for the type
// checker. Their implementations are in runtime/natives.cpp, found by name. `s.trim()` is
// `string:trim(s)`.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/types.hpp"
#include "support/log_level.hpp"

namespace flowd {

struct BuiltinParam {
  std::string name;
  const Type* type = nullptr;   // null: checked by the typer
  bool optional = false;
  bool receiver_element = false; // generic: expects the receiver's element type (push(T[] a, T v))
};

struct Builtin {
  std::string name;                 // "string:trim"
  std::vector<BuiltinParam> params;
  const Type* ret = nullptr;
  // Generic signatures (array:push and friends): computes the result type from the argument types,
  // or returns null and sets the message.
  std::function<const Type*(TypeTable&, const std::vector<const Type*>&, std::string&)> typer;
  int native = -1;                  // index into native_names() (and so into Program::natives)
  int user_function = -1;           // a flow-defined function: index into Program::functions
  bool is_log = false;              // log:print*: msg, error?, then key-values by name
  bool mutates_receiver = false;    // array:push and friends (not allowed on byte[], which is immutable)
  LogLevel level = LogLevel::Info;
};

class BuiltinTable {
 public:
  explicit BuiltinTable(TypeTable& types);
  const Builtin* find(std::string_view qualified) const;
  // The module whose functions are methods of values of type t ("string", "int", "array"...).
  static std::string_view method_module(const Type* t);
  std::vector<std::string> names_in(std::string_view module) const;
  std::vector<std::string> all_names() const;
  // The functions with a native implementation, in the order of Builtin::native.
  const std::vector<std::string>& native_names() const { return native_names_; }

 private:
  void add(std::string name, std::string params, std::string ret);
  void add_generic(std::string name, std::vector<std::string> param_names, int required,
                   decltype(Builtin::typer) typer);
  TypeTable& types_;
  std::vector<Builtin> list_;
  std::vector<std::string> native_names_;
};

// Resolves a written type against the flow's classes; returns null and sets error on failure.
const Type* resolve_type_text(TypeTable& types, std::string_view text,
                              const std::function<const Type*(std::string_view)>& class_lookup,
                              std::string& error, int& error_pos);

}  // namespace flowd
