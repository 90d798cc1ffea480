#include "flow/node_reference.hpp"

#include <algorithm>
#include <cctype>

namespace flowd {

extern const std::string_view kFlowSchemaTemplate;

namespace {

std::string str(std::string_view s) { return std::string(s); }

// "FUNCTION_CALL" -> "functionCallNode": the name of a kind's definition in the schema.
std::string definition_name(std::string_view kind) {
  std::string out;
  bool upper = false;
  for (char c : kind) {
    if (c == '_') {
      upper = true;
      continue;
    }
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : lower;
    upper = false;
  }
  return out + "Node";
}

// "tcp:ClientSecureSocket" -> "clientSecureSocket": an INCLUSION's record definition in the template.
std::string record_definition(std::string_view type) {
  std::string name = str(type.substr(type.find(':') + 1));
  if (!name.empty()) name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  return name;
}

std::string field_text(const FieldDescription& f) {
  std::string text = str(f.help);
  if (f.field_type == FieldType::Expression && !f.type.empty()) text += " An expression of type " + str(f.type) + ".";
  if (!f.default_value.empty()) text += " Default: " + str(f.default_value) + ".";
  if (!f.example.empty()) text += " Example: " + str(f.example) + ".";
  return text;
}

Json default_value(const FieldDescription& f) {
  if (f.default_value.empty()) return nullptr;
  if (f.field_type == FieldType::Flag) return f.default_value == "true";
  return str(f.default_value);
}

Json field_schema(const FieldDescription& f);

Json object_schema(const std::vector<FieldDescription>& fields) {
  Json s = Json::object();
  s["type"] = "object";
  Json required = Json::array();
  for (const auto& f : fields)
    if (f.required) required.push_back(str(f.key));
  if (!required.empty()) s["required"] = required;
  Json props = Json::object();
  for (const auto& f : fields) props[str(f.key)] = field_schema(f);
  s["properties"] = props;
  return s;
}

Json field_schema(const FieldDescription& f) {
  Json s = Json::object();
  s["description"] = field_text(f);
  auto ref = [&](const std::string& def) { s["$ref"] = "#/$defs/" + def; };
  switch (f.field_type) {
    case FieldType::Expression: ref("expression"); break;
    case FieldType::LvExpression:
      s["type"] = "string";
      s["minLength"] = 1;
      break;
    case FieldType::Identifier: ref("identifier"); break;
    case FieldType::Type: ref("type"); break;
    case FieldType::String:
      s["type"] = "string";
      if (!f.pattern.empty()) s["pattern"] = str(f.pattern);
      break;
    case FieldType::Flag: s["type"] = "boolean"; break;
    case FieldType::SingleSelect: {
      Json options = Json::array();
      for (auto o : f.options) options.push_back(str(o));
      s["enum"] = options;
      break;
    }
    case FieldType::MappingExpressionSet: ref("callArgs"); break;
    case FieldType::ExpressionSet:
      s["type"] = "array";
      if (f.at_least_one) s["minItems"] = 1;
      s["items"] = Json{{"$ref", "#/$defs/expression"}};
      break;
    case FieldType::Nodes: ref("nodes"); break;
    case FieldType::Branch: s.update(object_schema(f.fields)); break;
    case FieldType::Branches:
      s["type"] = "array";
      if (f.at_least_one) s["minItems"] = 1;
      s["items"] = object_schema(f.fields);
      break;
    case FieldType::Inclusion: ref(record_definition(f.type)); break;
  }
  if (!f.default_value.empty()) s["default"] = default_value(f);
  if (!f.examples.empty()) {
    Json examples = Json::array();
    for (auto e : f.examples) examples.push_back(str(e));
    s["examples"] = examples;
  }
  return s;
}

// The "node" field of the common keys selects among the registered kinds.
FieldDescription with_kinds(FieldDescription f, const NodeRegistry& registry) {
  if (f.key == "node")
    for (const NodeKind* k : registry.all()) f.options.push_back(k->kind());
  return f;
}

Json kind_schema(const NodeDescription& d) {
  Json s = Json::object();
  s["description"] = str(d.labels.at(0)) + ": " + str(d.help) + " Example: " + str(d.example) + ".";
  s.update(object_schema(d.fields));
  Json required = Json::array({str("node")});
  if (auto it = s.find("required"); it != s.end())
    for (const auto& r : *it) required.push_back(r);
  s["required"] = required;
  Json props = Json::object();
  props["node"] = Json{{"const", str(d.node)}};
  props.update(s["properties"]);
  s["properties"] = props;
  // Keys in a fixed order (description, type, required, properties), as in the template.
  Json out = Json::object();
  for (const char* k : {"description", "type", "required", "properties"}) out[k] = s[k];
  return out;
}

Json node_schema(const NodeRegistry& registry) {
  Json s = Json::object();
  s["description"] =
      "A node (a step of the flow). The \"node\" property selects the kind; the other required properties depend on "
      "it. Example: {\"id\": \"b1\", \"label\": \"Declare Variable\", \"node\": \"VARIABLE\", \"variable\": \"message\", "
      "\"type\": \"string\", \"expression\": \"\\\"hi\\\"\"}.";
  s["type"] = "object";
  s["required"] = Json::array({"node"});
  Json props = Json::object();
  for (const auto& f : common_node_fields()) props[str(f.key)] = field_schema(with_kinds(f, registry));
  s["properties"] = props;
  Json all_of = Json::array();
  for (const NodeKind* k : registry.all()) {
    Json condition = Json::object();
    condition["properties"] = Json{{"node", Json{{"const", str(k->kind())}}}};
    condition["required"] = Json::array({"node"});
    Json branch = Json::object();
    branch["if"] = condition;
    branch["then"] = Json{{"$ref", "#/$defs/" + definition_name(k->kind())}};
    all_of.push_back(branch);
  }
  s["allOf"] = all_of;
  return s;
}

Json field_json(const FieldDescription& f) {
  Json j = Json::object();
  j["key"] = str(f.key);
  j["fieldType"] = str(field_type_name(f.field_type));
  j["type"] = f.type.empty() ? Json(nullptr) : Json(str(f.type));
  j["required"] = f.required;
  j["default"] = default_value(f);
  j["help"] = str(f.help);
  j["example"] = f.example.empty() ? Json(nullptr) : Json(str(f.example));
  Json options = Json::array();
  for (auto o : f.options) options.push_back(str(o));
  j["options"] = options;
  Json fields = Json::array();
  for (const auto& sub : f.fields) fields.push_back(field_json(sub));
  j["fields"] = fields;
  return j;
}

// One row of the table: the key (with its branch's key: "branches[].condition"), what it holds,
// whether it is required, its default and its help.
struct Row {
  std::string key, holds, need, dflt, help;
};

void field_rows(const FieldDescription& f, const std::string& prefix, std::vector<Row>& rows) {
  std::string holds = str(field_type_name(f.field_type));
  if (!f.type.empty()) holds += " " + str(f.type);
  std::string help = str(f.help);
  if (!f.options.empty()) {
    help += " One of:";
    for (std::size_t i = 0; i < f.options.size(); ++i) help += (i ? ", " : " ") + str(f.options[i]);
    help += ".";
  }
  rows.push_back({prefix + str(f.key), holds, f.required ? "required" : "optional",
                  f.default_value.empty() ? "" : "default " + str(f.default_value), help});
  std::string sub = prefix + str(f.key) + (f.field_type == FieldType::Branches ? "[]." : ".");
  for (const auto& s : f.fields) field_rows(s, sub, rows);
}

}  // namespace

std::string flow_schema(const NodeRegistry& registry) {
  Json root = Json::parse(kFlowSchemaTemplate);
  Json& defs = root["$defs"];
  defs["node"] = node_schema(registry);
  for (const NodeKind* k : registry.all()) defs[definition_name(k->kind())] = kind_schema(k->description());
  return root.dump(2) + "\n";
}

Json node_reference_json(const NodeRegistry& registry) {
  Json common = Json::array();
  for (const auto& f : common_node_fields()) common.push_back(field_json(with_kinds(f, registry)));
  Json nodes = Json::array();
  for (const NodeKind* k : registry.all()) {
    const NodeDescription& d = k->description();
    Json n = Json::object();
    n["node"] = str(d.node);
    n["label"] = str(d.labels.at(0));
    Json labels = Json::array();
    for (auto l : d.labels) labels.push_back(str(l));
    n["labels"] = labels;
    n["group"] = str(palette_group_name(d.group));
    n["help"] = str(d.help);
    n["example"] = str(d.example);
    Json fields = Json::array();
    for (const auto& f : d.fields) fields.push_back(field_json(f));
    n["fields"] = fields;
    nodes.push_back(n);
  }
  Json out = Json::object();
  out["commonFields"] = common;
  out["nodes"] = nodes;
  return out;
}

std::string node_reference_table(const NodeRegistry& registry) {
  // Rows first, so every field of every kind lines up in the same columns.
  std::vector<Row> common;
  for (const auto& f : common_node_fields()) field_rows(f, "", common);
  std::vector<std::vector<Row>> kinds;
  for (const NodeKind* k : registry.all()) {
    kinds.emplace_back();
    for (const auto& f : k->description().fields) field_rows(f, "", kinds.back());
  }
  std::size_t wk = 0, wh = 0, wd = 0;
  auto measure = [&](const std::vector<Row>& rows) {
    for (const auto& r : rows) {
      wk = std::max(wk, r.key.size());
      wh = std::max(wh, r.holds.size());
      wd = std::max(wd, r.dflt.size());
    }
  };
  measure(common);
  for (const auto& rows : kinds) measure(rows);
  auto pad = [](const std::string& s, std::size_t w) { return s + std::string(w - s.size() + 2, ' '); };
  auto print = [&](const std::vector<Row>& rows, std::string& out) {
    for (const auto& r : rows)
      out += "    " + pad(r.key, wk) + pad(r.holds, wh) + pad(r.need, 8) + pad(r.dflt, wd) + r.help + "\n";
  };

  std::string out = "Every node has these keys:\n";
  print(common, out);
  std::size_t i = 0;
  bool first = true;
  PaletteGroup group{};
  for (const NodeKind* k : registry.all()) {
    const NodeDescription& d = k->description();
    if (first || d.group != group) out += "\n" + str(palette_group_name(d.group)) + "\n";
    first = false;
    group = d.group;
    out += "  " + str(d.node) + " (" + str(d.labels.at(0));
    for (std::size_t l = 1; l < d.labels.size(); ++l) out += ", " + str(d.labels[l]);
    out += "): " + str(d.help) + "\n";
    print(kinds[i++], out);
  }
  return out;
}

}  // namespace flowd
