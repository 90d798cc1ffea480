// What is made from the node kinds' descriptions: the flow format's JSON Schema (`flowd schema`,
// flows/flow.schema.json) and the node reference (`flowd nodes`, as a table or as JSON for tools).
#pragma once
#include <string>

#include "flow/node_kind.hpp"

namespace flowd {

// The JSON Schema (draft 2020-12) of a flow file: the hand-kept template with one definition per
// node kind of the registry. The text ends with a newline.
std::string flow_schema(const NodeRegistry& registry);

// Every node kind by palette group: its labels, help and fields (key, field type, required, default,
// help), preceded by the keys every node has.
std::string node_reference_table(const NodeRegistry& registry);

// The same as JSON, with stable keys: {"commonFields": [field...], "nodes": [{"node", "label",
// "labels", "group", "help", "example", "fields": [{"key", "fieldType", "type", "required", "default",
// "help", "example", "options", "fields"}]}]}. Absent values are null (or [] for lists).
Json node_reference_json(const NodeRegistry& registry);

}  // namespace flowd
