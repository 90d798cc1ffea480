#include "flow/node_kind.hpp"

namespace flowd {

NodeSpec NodeSpec::child(std::string_view key) const {
  return NodeSpec{json.at(std::string(key)), pointer + "/" + escape_pointer_token(key)};
}

NodeSpec NodeSpec::at(std::size_t index) const {
  return NodeSpec{json.at(index), pointer + "/" + std::to_string(index)};
}

void NodeRegistry::add(std::unique_ptr<NodeKind> kind) { kinds_.push_back(std::move(kind)); }

const NodeKind* NodeRegistry::find(std::string_view kind) const {
  for (const auto& k : kinds_)
    if (k->kind() == kind) return k.get();
  return nullptr;
}

std::vector<std::string> NodeRegistry::kinds() const {
  std::vector<std::string> out;
  for (const auto& k : kinds_) out.emplace_back(k->kind());
  return out;
}

}  // namespace flowd
