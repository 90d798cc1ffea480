#include "flow/node_description.hpp"

namespace flowd {

const FieldDescription* NodeDescription::field(std::string_view key) const {
  for (const auto& f : fields)
    if (f.key == key) return &f;
  return nullptr;
}

std::string_view field_type_name(FieldType t) {
  switch (t) {
    case FieldType::Expression: return "EXPRESSION";
    case FieldType::LvExpression: return "LV_EXPRESSION";
    case FieldType::Identifier: return "IDENTIFIER";
    case FieldType::Type: return "TYPE";
    case FieldType::String: return "STRING";
    case FieldType::Flag: return "FLAG";
    case FieldType::SingleSelect: return "SINGLE_SELECT";
    case FieldType::MappingExpressionSet: return "MAPPING_EXPRESSION_SET";
    case FieldType::ExpressionSet: return "EXPRESSION_SET";
    case FieldType::Nodes: return "NODES";
    case FieldType::Branch: return "BRANCH";
    case FieldType::Branches: return "BRANCHES";
    case FieldType::Inclusion: return "INCLUSION";
  }
  return "?";
}

std::string_view palette_group_name(PaletteGroup g) {
  switch (g) {
    case PaletteGroup::Statement: return "Statement";
    case PaletteGroup::Control: return "Control";
    case PaletteGroup::Connections: return "Connections";
    case PaletteGroup::ErrorHandling: return "Error Handling";
    case PaletteGroup::Concurrency: return "Concurrency";
    case PaletteGroup::Documentation: return "Documentation";
  }
  return "?";
}

const std::vector<FieldDescription>& common_node_fields() {
  static const std::vector<FieldDescription> fields = {
      {.key = "node",
       .field_type = FieldType::SingleSelect,
       .required = true,
       .help = "Node kind (BI flow-model codedata.node).",
       .example = R"~("VARIABLE", "FUNCTION_CALL", "IF")~"},
      {.key = "id",
       .field_type = FieldType::String,
       .help = "Node id, unique within the flow, shown in logs and diagnostics.",
       .example = R"~("b3")~"},
      {.key = "label",
       .field_type = FieldType::String,
       .help = "Human-readable label, shown in logs and diagnostics.",
       .example = R"~("Declare Variable")~"},
      {.key = "description",
       .field_type = FieldType::String,
       .help = "Free text describing the node.",
       .example = R"~("Trim the message.")~"},
  };
  return fields;
}

std::vector<std::string_view> field_keys(const std::vector<FieldDescription>& fields) {
  std::vector<std::string_view> keys;
  keys.reserve(fields.size());
  for (const auto& f : fields) keys.push_back(f.key);
  return keys;
}

std::vector<std::string_view> node_keys(const NodeDescription& d) {
  std::vector<std::string_view> keys = field_keys(common_node_fields());
  for (const auto& f : d.fields) keys.push_back(f.key);
  return keys;
}

}  // namespace flowd
