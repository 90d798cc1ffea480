// libFuzzer target: the line framer, fed the input in fuzzer-chosen pieces, yields exactly the lines
// of a reference split, never holds more than maxLine + 1 bytes, and refuses over-long lines.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/line_framer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t max_line = 1 + data[0] % 64;
  std::size_t piece = 1 + data[1] % 16;
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  // Reference: split on '\n', strip one '\r', stop at the first over-long line.
  std::vector<std::string> want;
  bool want_too_long = false;
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = input.find('\n', start);
    std::string_view rest = input.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (nl == std::string_view::npos) {
      if (rest.size() > max_line && !(rest.size() == max_line + 1 && rest.back() == '\r')) want_too_long = true;
      break;
    }
    if (!rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
    if (rest.size() > max_line) {
      want_too_long = true;
      break;
    }
    want.emplace_back(rest);
    start = nl + 1;
  }

  flowd::LineFramer framer(max_line);
  std::vector<std::string> got;
  bool too_long = false;
  for (std::size_t at = 0; at < input.size() && !too_long; at += piece) {
    auto r = framer.feed(input.substr(at, piece), [&](std::string_view line) {
      got.emplace_back(line);
      return true;
    });
    if (r == flowd::LineFramer::Result::TooLong) too_long = true;
    if (framer.buffered() > max_line + 1) __builtin_trap();
  }
  if (too_long != want_too_long) __builtin_trap();
  // When refused, the lines before the long one may or may not have been delivered, depending on
  // where the pieces fell; they must still be a prefix of the reference.
  if (got.size() > want.size()) __builtin_trap();
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i]) __builtin_trap();
  if (!too_long && got.size() != want.size()) __builtin_trap();
  return 0;
}
