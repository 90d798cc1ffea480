#include "flow/node_kind.hpp"

#include <algorithm>
#include <tuple>

namespace flowd {

NodeSpec NodeSpec::child(std::string_view key) const {
  return NodeSpec{json.at(std::string(key)), pointer + "/" + escape_pointer_token(key)};
}

NodeSpec NodeSpec::at(std::size_t index) const {
  return NodeSpec{json.at(index), pointer + "/" + std::to_string(index)};
}

// Kept sorted, so every listing (schema, `flowd nodes`, suggestions) has one order whatever the
// order in which the kinds' files were linked.
void NodeRegistry::add(std::unique_ptr<NodeKind> kind) {
  auto order = [](const NodeKind& k) { return std::make_tuple(k.description().group, k.kind()); };
  auto at = std::upper_bound(kinds_.begin(), kinds_.end(), kind,
                             [&](const auto& a, const auto& b) { return order(*a) < order(*b); });
  kinds_.insert(at, std::move(kind));
}

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

std::vector<const NodeKind*> NodeRegistry::all() const {
  std::vector<const NodeKind*> out;
  for (const auto& k : kinds_) out.push_back(k.get());
  return out;
}

namespace {
// A function-local static: registrations run during static initialisation, in any order.
std::vector<NodeKindRegistration::Factory>& factories() {
  static std::vector<NodeKindRegistration::Factory> list;
  return list;
}
}  // namespace

NodeKindRegistration::NodeKindRegistration(Factory make) { factories().push_back(make); }

const NodeRegistry& builtin_registry() {
  static const NodeRegistry registry = [] {
    NodeRegistry r;
    for (auto make : factories()) r.add(make());
    return r;
  }();
  return registry;
}

}  // namespace flowd
