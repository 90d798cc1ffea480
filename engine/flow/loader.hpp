// Loading a flow: read, bound-check, parse JSON, validate the structure and compile every function.
// Nothing is served unless this reports no errors.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "flow/node_kind.hpp"
#include "runtime/program.hpp"
#include "support/diagnostics.hpp"

namespace flowd {

// Limits on the flow file, checked before parsing deeper (named so the README can cite them).
inline constexpr std::size_t kMaxFlowFileBytes = 4 * 1024 * 1024;
inline constexpr int kMaxJsonDepth = 64;

struct LoadResult {
  std::unique_ptr<Program> program;   // null when the file could not be parsed at all
  Diagnostics diags;
  std::string text;                   // the file's text, for positions
  bool ok() const { return program && !diags.has_errors(); }
};

LoadResult load_flow_file(const std::string& path, const NodeRegistry& registry);
LoadResult load_flow_text(std::string text, const std::string& file_name, const NodeRegistry& registry);

}  // namespace flowd
