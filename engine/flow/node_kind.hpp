// The node plug-in interface. Each node kind (nodes/*.cpp) describes itself (NodeDescription), checks
// its own fields and emits its code through FunctionCompiler; the engine never names a concrete node
// class. A kind registers itself with a static NodeKindRegistration in its own file, so adding a kind
// is adding a file.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "flow/node_description.hpp"
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
  explicit NodeKind(NodeDescription description) : description_(std::move(description)) {}
  virtual ~NodeKind() = default;
  const NodeDescription& description() const { return description_; }
  std::string_view kind() const { return description_.node; }                 // codedata.node: "VARIABLE"
  std::string_view palette_label() const { return description_.labels.at(0); }  // BI palette name: "Declare Variable"
  // Checks the node and emits its code. Returns true when control never continues past the node
  // (it always returns), so later nodes are unreachable.
  virtual bool compile(const NodeSpec& node, FunctionCompiler& fc) const = 0;

 private:
  NodeDescription description_;
};

// The node kinds, in palette order (group, then name).
class NodeRegistry {
 public:
  void add(std::unique_ptr<NodeKind> kind);
  const NodeKind* find(std::string_view kind) const;
  std::vector<std::string> kinds() const;
  std::vector<const NodeKind*> all() const;

 private:
  std::vector<std::unique_ptr<NodeKind>> kinds_;
};

// One per node kind, at namespace scope in the kind's file:
//   const NodeKindRegistration registered{make_node_kind<IfNode>};
// The nodes library is linked as objects (nodes/CMakeLists.txt), so no registration is dropped.
struct NodeKindRegistration {
  using Factory = std::unique_ptr<NodeKind> (*)();
  explicit NodeKindRegistration(Factory make);
};

template <class Kind>
std::unique_ptr<NodeKind> make_node_kind() {
  return std::make_unique<Kind>();
}

// The registry with every registered node kind, built once on first use.
const NodeRegistry& builtin_registry();

}  // namespace flowd
