#include <gtest/gtest.h>

#include "support/utf8.hpp"

namespace flowd {
namespace {

TEST(Utf8, AcceptsAsciiAndMultiByte) {
  EXPECT_TRUE(utf8::is_valid("hello"));
  EXPECT_TRUE(utf8::is_valid("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));
}

TEST(Utf8, RejectsOverlongsSurrogatesAndStrayBytes) {
  EXPECT_FALSE(utf8::is_valid("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(utf8::is_valid("\xED\xA0\x80"));      // UTF-16 surrogate
  EXPECT_FALSE(utf8::is_valid("\xFF"));
  EXPECT_FALSE(utf8::is_valid("ok\x80"));
  EXPECT_EQ(utf8::valid_prefix("ok\x80rest"), 2u);
}

TEST(Utf8, FindsAnIncompleteTail) {
  EXPECT_EQ(utf8::incomplete_tail("abc\xE2\x82"), 2u);
  EXPECT_EQ(utf8::incomplete_tail("abc\xE2\x82\xAC"), 0u);
  EXPECT_EQ(utf8::incomplete_tail("abc"), 0u);
}

TEST(Utf8, IndexesByCodePoint) {
  std::string s = "a\xC3\xA9z";  // aéz
  EXPECT_EQ(utf8::code_points(s), 3u);
  EXPECT_EQ(utf8::byte_offset(s, 2), 3u);
  EXPECT_EQ(utf8::byte_offset(s, 3), 4u);
  EXPECT_EQ(utf8::byte_offset(s, 4), std::string::npos);
  EXPECT_EQ(utf8::cp_index(s, 3), 2u);
}

}  // namespace
}  // namespace flowd
