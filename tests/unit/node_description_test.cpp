// The node kinds' descriptions: complete and consistent, the only source of the loader's key checks,
// of `flowd schema` and of `flowd nodes`.
#include <fstream>
#include <set>
#include <sstream>

#include "flow/node_reference.hpp"
#include "flow_harness.hpp"

namespace flowd::test {
namespace {

void expect_fields_well_formed(const std::string& where, const std::vector<FieldDescription>& fields,
                               std::set<std::string> taken) {
  for (const auto& f : fields) {
    std::string at = where + "." + std::string(f.key);
    EXPECT_FALSE(f.key.empty()) << where;
    EXPECT_TRUE(taken.insert(std::string(f.key)).second) << at << " is described twice";
    EXPECT_FALSE(f.help.empty()) << at << " has no help";
    if (f.field_type == FieldType::SingleSelect) {
      EXPECT_FALSE(f.options.empty()) << at;
    }
    if (f.field_type == FieldType::Inclusion) {
      EXPECT_FALSE(f.type.empty()) << at;
    }
    bool has_branch = f.field_type == FieldType::Branch || f.field_type == FieldType::Branches;
    EXPECT_EQ(has_branch, !f.fields.empty()) << at << ": only BRANCH and BRANCHES have fields";
    if (has_branch) expect_fields_well_formed(at, f.fields, {});
  }
}

TEST(NodeDescription, EveryKindIsDescribedWithHelpLabelsAndWellFormedFields) {
  std::set<std::string> common;
  for (const auto& f : common_node_fields()) common.insert(std::string(f.key));
  EXPECT_EQ(common, (std::set<std::string>{"node", "id", "label", "description"}));
  for (const NodeKind* k : builtin_registry().all()) {
    const NodeDescription& d = k->description();
    std::string kind(d.node);
    EXPECT_FALSE(d.labels.empty()) << kind;
    EXPECT_EQ(k->palette_label(), d.labels.at(0)) << kind;
    EXPECT_FALSE(d.help.empty()) << kind;
    EXPECT_EQ(d.example.rfind("{\"node\": \"" + kind + "\"", 0), 0u) << kind << "'s example is not one of its nodes";
    expect_fields_well_formed(kind, d.fields, common);
  }
}

TEST(NodeDescription, KindsAreListedByPaletteGroupThenName) {
  auto all = builtin_registry().all();
  ASSERT_GE(all.size(), 15u);
  for (std::size_t i = 1; i < all.size(); ++i) {
    auto a = std::make_pair(all[i - 1]->description().group, all[i - 1]->kind());
    auto b = std::make_pair(all[i]->description().group, all[i]->kind());
    EXPECT_LT(a, b);
  }
  for (const char* kind : {"VARIABLE", "ASSIGN", "IF", "FUNCTION_CALL", "REMOTE_ACTION_CALL", "RETURN", "WHILE",
                           "FOREACH", "BREAK", "CONTINUE", "MATCH", "ERROR_HANDLER", "FAIL", "LOCK", "NEW_CONNECTION"})
    EXPECT_NE(builtin_registry().find(kind), nullptr) << kind;
}

// A key one letter short of a described one, alone in a node or branch, is reported with the
// described key as the suggestion: the loader's known keys are the description's.
void expect_misspelling_warned(const std::string& node_json, const std::string& misspelt, std::string_view key) {
  LoadResult r = load(FlowBuilder({node_json}).text());
  bool found = false;
  for (const auto& d : r.diags.list())
    found = found || (d.id == DiagId::UnknownKey &&
                      d.message == "unknown field \"" + misspelt + "\" is ignored (did you mean \"" +
                                       std::string(key) + "\"?)");
  EXPECT_TRUE(found) << node_json << "\n" << describe(r);
}

TEST(NodeDescription, TheLoaderKnowsExactlyTheDescribedKeys) {
  for (const NodeKind* k : builtin_registry().all()) {
    const NodeDescription& d = k->description();
    for (const auto& f : d.fields) {
      std::string misspelt(f.key.substr(0, f.key.size() - 1));
      if (d.field(misspelt)) continue;  // (no such kind today)
      Json node{{"node", std::string(d.node)}, {misspelt, "x"}};
      expect_misspelling_warned(node.dump(), misspelt, f.key);
    }
  }
  expect_misspelling_warned(R"({"node": "IF", "branches": [{"conditio": "true", "children": []}]})", "conditio",
                            "condition");
  expect_misspelling_warned(R"({"node": "MATCH", "target": "1", "cases": [{"pattern": ["1"], "children": []}]})",
                            "pattern", "patterns");
  expect_misspelling_warned(
      R"({"node": "ERROR_HANDLER", "children": [], "onFail": {"errorVariabl": "e", "children": []}})",
      "errorVariabl", "errorVariable");
}

TEST(NodeDescription, TheSchemaHasOneDefinitionPerKindAndIsTheFileInTheRepository) {
  std::string text = flow_schema(builtin_registry());
  Json schema = Json::parse(text);
  const Json& defs = schema["$defs"];
  Json kinds = defs["node"]["properties"]["node"]["enum"];
  EXPECT_EQ(kinds.get<std::vector<std::string>>(), builtin_registry().kinds());
  EXPECT_EQ(defs["node"]["allOf"].size(), builtin_registry().all().size());
  EXPECT_EQ(defs["variableNode"]["required"], Json::array({"node", "variable", "type", "expression"}));
  EXPECT_EQ(defs["ifNode"]["properties"]["branches"]["minItems"], 1);
  EXPECT_EQ(defs["remoteActionCallNode"]["properties"]["action"]["enum"],
            Json::array({"writeBytes", "close", "readBytes"}));
  EXPECT_EQ(defs["newConnectionNode"]["properties"]["secureSocket"]["$ref"], "#/$defs/clientSecureSocket");
  std::ifstream in(std::string(FLOWD_SOURCE_DIR) + "/flows/flow.schema.json", std::ios::binary);
  std::stringstream kept;
  kept << in.rdbuf();
  EXPECT_TRUE(kept.str() == text) << "flows/flow.schema.json is not what `flowd schema` prints: regenerate it";
}

TEST(NodeDescription, TheJsonReferenceHasStableKeysForEveryKindAndField) {
  Json ref = node_reference_json(builtin_registry());
  ASSERT_EQ(ref["nodes"].size(), builtin_registry().all().size());
  EXPECT_EQ(ref["commonFields"][0]["key"], "node");
  EXPECT_EQ(ref["commonFields"][0]["options"].size(), builtin_registry().all().size());
  std::vector<std::string> node_keys{"node", "label", "labels", "group", "help", "example", "fields"};
  std::vector<std::string> field_keys{"key", "fieldType", "type", "required", "default",
                                      "help", "example", "options", "fields"};
  auto keys = [](const Json& o) {
    std::vector<std::string> out;
    for (auto it = o.begin(); it != o.end(); ++it) out.push_back(it.key());
    return out;
  };
  for (const Json& n : ref["nodes"]) {
    EXPECT_EQ(keys(n), node_keys) << n["node"];
    for (const Json& f : n["fields"]) EXPECT_EQ(keys(f), field_keys) << n["node"] << "." << f["key"];
  }
  EXPECT_EQ(ref["nodes"][0]["group"], "Statement");
}

TEST(NodeDescription, TheTableListsEveryKindUnderItsGroup) {
  std::string table = node_reference_table(builtin_registry());
  EXPECT_NE(table.find("Every node has these keys:\n    node "), std::string::npos) << table;
  for (const NodeKind* k : builtin_registry().all())
    EXPECT_NE(table.find("\n  " + std::string(k->kind()) + " (" + std::string(k->palette_label())), std::string::npos)
        << k->kind();
  EXPECT_NE(table.find("\nError Handling\n"), std::string::npos) << table;
  EXPECT_NE(table.find("branches[].condition"), std::string::npos) << table;
}

}  // namespace
}  // namespace flowd::test
