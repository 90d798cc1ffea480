// The node plug-in interface. Each node kind (nodes/*.cpp) checks its own fields and emits its code
// through FunctionCompiler; the engine never names a concrete node class.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/diagnostics.hpp"

namespace flowd {

using Json = nlohmann::ordered_json;
class FunctionCompiler;

// A node (or branch) object of the flow file and its JSON pointer.
struct NodeSpec {
  const Json& json;
  std::string pointer;
  NodeSpec child(std::string_view key) const;   // requires json[key] to exist
  NodeSpec at(std::size_t index) const;          // requires json to be an array
};

class NodeKind {
 public:
  virtual ~NodeKind() = default;
  virtual std::string_view kind() const = 0;           // codedata.node: "VARIABLE"
  virtual std::string_view palette_label() const = 0;  // BI palette name: "Declare Variable"
  // Checks the node and emits its code. Returns true when control never continues past the node
  // (it always returns), so later nodes are unreachable.
  virtual bool compile(const NodeSpec& node, FunctionCompiler& fc) const = 0;
};

class NodeRegistry {
 public:
  void add(std::unique_ptr<NodeKind> kind);
  const NodeKind* find(std::string_view kind) const;
  std::vector<std::string> kinds() const;

 private:
  std::vector<std::unique_ptr<NodeKind>> kinds_;
};

// Implemented in nodes/: registers every built-in node kind.
void register_builtin_nodes(NodeRegistry& registry);
// Implemented in nodes/: the registry with every built-in node kind, built once.
const NodeRegistry& builtin_registry();

}  // namespace flowd
