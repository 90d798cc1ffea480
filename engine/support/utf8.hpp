// UTF-8 helpers: validation (strict: no overlongs, no surrogates) and code-point indexing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace flowd::utf8 {

bool is_ascii(std::string_view s);
// Length of the longest valid prefix; == s.size() when the whole string is valid.
std::size_t valid_prefix(std::string_view s);
inline bool is_valid(std::string_view s) { return valid_prefix(s) == s.size(); }
// Length of an incomplete (but so far valid) sequence at the very end of s, 0 if none.
std::size_t incomplete_tail(std::string_view s);
std::size_t code_points(std::string_view s);
// Byte offset of the code point with index cp (may equal s.size()); npos when out of range.
std::size_t byte_offset(std::string_view s, std::size_t cp);
// Code-point index of a byte offset that starts a code point.
std::size_t cp_index(std::string_view s, std::size_t byte_off);

}  // namespace flowd::utf8
