// Static types of the expression language: interned, so a type is compared by pointer.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace flowd {

enum class TypeKind : std::uint8_t {
  Any,      // internal: accepts everything (log key-values, toString receivers)
  Never,    // the type of an expression that cannot complete
  Nil,      // ()
  Boolean,
  Int,
  Float,
  Byte,
  String,
  Error,
  Caller,   // tcp:Caller
  Client,   // tcp:Client
  Object,   // an instance of a flow class
  Array,    // T[]   (byte[] is Array of Byte, stored as bytes)
  Map,      // map<T>
  Union,    // A|B|...
};

struct Type {
  TypeKind kind;
  const Type* elem = nullptr;              // Array, Map
  std::vector<const Type*> members;        // Union (flattened, no duplicates, no nested unions)
  int class_index = -1;                    // Object
  std::string name;                        // printable form
  bool is(TypeKind k) const { return kind == k; }
  bool contains(TypeKind k) const;         // the type or one of its members is of kind k
};

class TypeTable {
 public:
  TypeTable();
  TypeTable(const TypeTable&) = delete;
  TypeTable& operator=(const TypeTable&) = delete;

  const Type* any() const { return any_; }
  const Type* never() const { return never_; }
  const Type* nil() const { return nil_; }
  const Type* boolean() const { return boolean_; }
  const Type* integer() const { return int_; }
  const Type* floating() const { return float_; }
  const Type* byte() const { return byte_; }
  const Type* string() const { return string_; }
  const Type* error() const { return error_; }
  const Type* caller() const { return caller_; }
  const Type* client() const { return client_; }
  const Type* bytes() const { return bytes_; }
  const Type* optional_error() const { return optional_error_; }

  const Type* array_of(const Type* elem);
  const Type* map_of(const Type* elem);
  const Type* object(int class_index, const std::string& name);
  const Type* union_of(std::vector<const Type*> members);
  const Type* optional(const Type* t) { return union_of({t, nil_}); }
  // The type without the members of kind `k` (e.g. string|error minus Error = string).
  const Type* without(const Type* t, TypeKind k);
  const Type* without(const Type* t, const Type* removed);

  // Can a value of static type `from` be stored where `to` is expected?
  bool assignable(const Type* from, const Type* to) const;
  // Simple (template-interpolable) types: int, float, byte, boolean, string.
  static bool is_simple(const Type* t);

 private:
  const Type* intern(Type t);
  std::deque<Type> storage_;
  std::map<std::string, const Type*> by_name_;
  const Type *any_, *never_, *nil_, *boolean_, *int_, *float_, *byte_, *string_, *error_, *caller_, *client_, *bytes_,
      *optional_error_;
};

}  // namespace flowd
