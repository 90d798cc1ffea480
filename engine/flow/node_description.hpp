// What a node kind is, as data: its name, BI labels, palette group, help and fields. Each node kind
// (nodes/*.cpp) writes its description once; the loader's key checks, `flowd schema` and `flowd nodes`
// are made from it. The vocabulary is BI's flow model (Property.valueType, Branch, palette categories).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace flowd {

// What a field holds: BI's valueType names, plus NODES, BRANCH and BRANCHES for the node lists and
// branches that BI keeps outside `properties`.
enum class FieldType {
  Expression,         // an expression string; `type` names the expected type when it is fixed
  LvExpression,       // an assignable place: a local, self.field, a[i], m[k]
  Identifier,         // a new variable's name
  Type,               // a type, or "var"
  String,             // plain text, not an expression
  Flag,               // JSON true or false
  SingleSelect,       // one of `options`
  MappingExpressionSet,  // an object: name -> expression (named arguments)
  ExpressionSet,      // an array of expressions
  Nodes,              // an array of nodes, run in order
  Branch,             // one object with `fields`, among them its nodes (ERROR_HANDLER's onFail)
  Branches,           // an array of such objects (IF branches, MATCH cases)
  Inclusion,          // a record of settings (BI's included record parameter); `type` names it
};

// BI's palette categories, in palette order (the order `flowd nodes` and the schema list kinds in).
enum class PaletteGroup { Statement, Control, Connections, ErrorHandling, Concurrency, Documentation };

struct FieldDescription {
  std::string_view key = {};
  FieldType field_type = FieldType::Expression;
  std::string_view type = {};                   // expected type ("boolean", "error") or record type; empty: any
  bool required = false;                        // the schema requires it and editors always write it
  std::string_view default_value = {};          // what the loader assumes when it is absent; empty: nothing
  std::string_view help = {};                   // one line
  std::string_view example = {};                // JSON text of a typical value; empty: none
  std::vector<std::string_view> examples = {};  // values an editor may offer (schema "examples")
  std::vector<std::string_view> options = {};   // SINGLE_SELECT: every allowed value
  std::string_view pattern = {};                // STRING: a regular expression the value matches; empty: any
  bool at_least_one = false;                    // BRANCHES, EXPRESSION_SET: BI's repeatable ONE_OR_MORE
  std::vector<FieldDescription> fields = {};    // BRANCH, BRANCHES: the keys of each branch object
};

struct NodeDescription {
  std::string_view node = {};                 // codedata.node: "VARIABLE"
  std::vector<std::string_view> labels = {};  // BI palette labels, the first is the main one
  PaletteGroup group = PaletteGroup::Statement;
  std::string_view help = {};                 // one line
  std::string_view example = {};              // JSON text of a typical node
  std::vector<FieldDescription> fields = {};  // besides the common keys

  // The field at `key` (a top-level field of the node), or null.
  const FieldDescription* field(std::string_view key) const;
};

std::string_view field_type_name(FieldType t);        // "EXPRESSION", "LV_EXPRESSION", ...
std::string_view palette_group_name(PaletteGroup g);  // "Statement", "Error Handling", ...

// The keys every node has (node, id, label, description), described once.
const std::vector<FieldDescription>& common_node_fields();

// The keys a node of this kind may have: the common keys, then its own, in order.
std::vector<std::string_view> node_keys(const NodeDescription& d);
// The keys of a branch object.
std::vector<std::string_view> field_keys(const std::vector<FieldDescription>& fields);

}  // namespace flowd
