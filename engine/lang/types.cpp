#include "lang/types.hpp"

#include <algorithm>

namespace flowd {

bool Type::contains(TypeKind k) const {
  if (kind == k) return true;
  if (kind == TypeKind::Union)
    return std::any_of(members.begin(), members.end(), [k](const Type* m) { return m->kind == k; });
  return false;
}

TypeTable::TypeTable() {
  any_ = intern({TypeKind::Any, nullptr, {}, -1, "any"});
  never_ = intern({TypeKind::Never, nullptr, {}, -1, "never"});
  nil_ = intern({TypeKind::Nil, nullptr, {}, -1, "()"});
  boolean_ = intern({TypeKind::Boolean, nullptr, {}, -1, "boolean"});
  int_ = intern({TypeKind::Int, nullptr, {}, -1, "int"});
  float_ = intern({TypeKind::Float, nullptr, {}, -1, "float"});
  byte_ = intern({TypeKind::Byte, nullptr, {}, -1, "byte"});
  string_ = intern({TypeKind::String, nullptr, {}, -1, "string"});
  error_ = intern({TypeKind::Error, nullptr, {}, -1, "error"});
  caller_ = intern({TypeKind::Caller, nullptr, {}, -1, "tcp:Caller"});
  client_ = intern({TypeKind::Client, nullptr, {}, -1, "tcp:Client"});
  bytes_ = array_of(byte_);
  optional_error_ = union_of({error_, nil_});
}

const Type* TypeTable::intern(Type t) {
  // Classes are keyed apart from built-in types, so no class can alias one (e.g. a class "int").
  std::string key = t.kind == TypeKind::Object ? "class:" + t.name : t.name;
  auto it = by_name_.find(key);
  if (it != by_name_.end()) return it->second;
  storage_.push_back(std::move(t));
  const Type* p = &storage_.back();
  by_name_.emplace(std::move(key), p);
  return p;
}

static std::string wrap_for_suffix(const Type* t) {
  return t->kind == TypeKind::Union ? "(" + t->name + ")" : t->name;
}

const Type* TypeTable::array_of(const Type* elem) {
  return intern({TypeKind::Array, elem, {}, -1, wrap_for_suffix(elem) + "[]"});
}

const Type* TypeTable::map_of(const Type* elem) {
  return intern({TypeKind::Map, elem, {}, -1, "map<" + elem->name + ">"});
}

const Type* TypeTable::object(int class_index, const std::string& name) {
  return intern({TypeKind::Object, nullptr, {}, class_index, name});
}

const Type* TypeTable::union_of(std::vector<const Type*> members) {
  std::vector<const Type*> flat;
  for (const Type* m : members) {
    if (m->kind == TypeKind::Never) continue;
    if (m->kind == TypeKind::Any) return any_;
    if (m->kind == TypeKind::Union) flat.insert(flat.end(), m->members.begin(), m->members.end());
    else flat.push_back(m);
  }
  // Keep first-seen order for printing, but drop duplicates, and byte where int is present.
  bool has_int = std::find(flat.begin(), flat.end(), int_) != flat.end();
  std::vector<const Type*> uniq;
  for (const Type* m : flat)
    if (std::find(uniq.begin(), uniq.end(), m) == uniq.end() && !(has_int && m == byte_)) uniq.push_back(m);
  if (uniq.empty()) return never_;
  if (uniq.size() == 1) return uniq[0];
  // Canonical key: sorted names, so string|error and error|string are one type.
  std::vector<std::string> names;
  for (const Type* m : uniq) names.push_back(m->name);
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  std::string key = "union:";
  for (auto& n : sorted) key += n + "|";
  auto it = by_name_.find(key);
  if (it != by_name_.end()) return it->second;
  // Printable name: T? for T|(), else members joined by |.
  std::string printable;
  bool has_nil = std::find(uniq.begin(), uniq.end(), nil_) != uniq.end();
  std::vector<std::string> non_nil;
  for (const Type* m : uniq)
    if (m != nil_) non_nil.push_back(m->name);
  for (std::size_t i = 0; i < non_nil.size(); ++i) printable += (i ? "|" : "") + non_nil[i];
  if (has_nil) printable = non_nil.size() > 1 ? "(" + printable + ")?" : printable + "?";
  storage_.push_back(Type{TypeKind::Union, nullptr, uniq, -1, printable});
  const Type* p = &storage_.back();
  by_name_.emplace(key, p);
  return p;
}

const Type* TypeTable::without(const Type* t, TypeKind k) {
  if (t->kind == k) return never_;
  if (t->kind != TypeKind::Union) return t;
  std::vector<const Type*> keep;
  for (const Type* m : t->members)
    if (m->kind != k) keep.push_back(m);
  return union_of(keep);
}

const Type* TypeTable::without(const Type* t, const Type* removed) {
  if (t == removed) return never_;
  if (t->kind != TypeKind::Union) return t;
  std::vector<const Type*> keep;
  for (const Type* m : t->members)
    if (!assignable(m, removed)) keep.push_back(m);
  return union_of(keep);
}

bool TypeTable::assignable(const Type* from, const Type* to) const {
  if (from == to || to->kind == TypeKind::Any || from->kind == TypeKind::Never) return true;
  if (from->kind == TypeKind::Union)
    return std::all_of(from->members.begin(), from->members.end(),
                       [&](const Type* m) { return assignable(m, to); });
  if (to->kind == TypeKind::Union)
    return std::any_of(to->members.begin(), to->members.end(),
                       [&](const Type* m) { return assignable(from, m); });
  // byte is a subtype of int, as in Ballerina.
  if (from->kind == TypeKind::Byte && to->kind == TypeKind::Int) return true;
  // Lists and maps are invariant: flowd has no run-time element types, so a covariant alias
  // (string[] seen as (string|int)[]) could store a value of the wrong type.
  return false;
}

bool TypeTable::is_simple(const Type* t) {
  switch (t->kind) {
    case TypeKind::Int:
    case TypeKind::Float:
    case TypeKind::Byte:
    case TypeKind::Boolean:
    case TypeKind::String:
      return true;
    default:
      return false;
  }
}

}  // namespace flowd
