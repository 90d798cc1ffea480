// libFuzzer target: the flow loader and checker must report, never crash, on any input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "flow/loader.hpp"
#include "flow/node_kind.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  flowd::LoadResult r = flowd::load_flow_text(std::move(text), "fuzz.json", flowd::builtin_registry());
  // Formatting walks every position and caret line: it must hold for any diagnostic.
  std::string out = r.diags.format("fuzz.json");
  if (r.ok() && r.program->services.empty()) __builtin_trap();  // a sound flow always has a service
  return 0;
}
