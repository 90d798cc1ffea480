// Lexer: every token kind, literals and their errors, qualified names, string templates.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lang/lexer.hpp"

namespace flowd {
namespace {

std::vector<Tok> kinds(std::string_view src) {
  std::vector<Tok> out;
  for (const auto& t : lex_expression(src)) out.push_back(t.kind);
  return out;
}

// The single token of `src` (followed by End); fails the test otherwise.
Token only(std::string_view src) {
  auto toks = lex_expression(src);
  EXPECT_EQ(toks.size(), 2u) << src;
  EXPECT_EQ(toks.back().kind, Tok::End) << src;
  return toks.empty() ? Token{} : toks[0];
}

// The Error token that ends the lexing of `src`; fails the test when there is none.
Token error_token(std::string_view src) {
  auto toks = lex_expression(src);
  EXPECT_EQ(toks.back().kind, Tok::Error) << src;
  return toks.back();
}

TEST(Lexer, EmptyInputIsJustEnd) {
  auto toks = lex_expression("   ");
  ASSERT_EQ(toks.size(), 1u);
  EXPECT_EQ(toks[0].kind, Tok::End);
  EXPECT_EQ(toks[0].pos, 3);
}

TEST(Lexer, ProducesEveryOperatorAndPunctuation) {
  std::string src = "( ) [ ] { } . , : ? ?: ! + - * / % < > <= >= == != === !== && || = | -> ... ..<";
  std::vector<Tok> want = {Tok::LParen,   Tok::RParen, Tok::LBracket, Tok::RBracket, Tok::LBrace,  Tok::RBrace,
                           Tok::Dot,      Tok::Comma,  Tok::Colon,    Tok::Question, Tok::Elvis,   Tok::Bang,
                           Tok::Plus,     Tok::Minus,  Tok::Star,     Tok::Slash,    Tok::Percent, Tok::Lt,
                           Tok::Gt,       Tok::Le,     Tok::Ge,       Tok::EqEq,     Tok::NotEq,   Tok::EqEqEq,
                           Tok::NotEqEq,  Tok::AndAnd, Tok::OrOr,     Tok::Assign,   Tok::Pipe,    Tok::Arrow,
                           Tok::DotDotDot, Tok::DotDotLt, Tok::End};
  EXPECT_EQ(kinds(src), want);
}

TEST(Lexer, RecordsPositionAndLengthOfMultiCharOperators) {
  auto toks = lex_expression("a ?: b === c !== d -> e ..< f");
  ASSERT_EQ(toks.size(), 12u);
  EXPECT_EQ(toks[1].kind, Tok::Elvis);
  EXPECT_EQ(toks[1].pos, 2);
  EXPECT_EQ(toks[1].len, 2);
  EXPECT_EQ(toks[3].kind, Tok::EqEqEq);
  EXPECT_EQ(toks[3].pos, 7);
  EXPECT_EQ(toks[3].len, 3);
  EXPECT_EQ(toks[5].kind, Tok::NotEqEq);
  EXPECT_EQ(toks[5].pos, 13);
  EXPECT_EQ(toks[5].len, 3);
  EXPECT_EQ(toks[7].kind, Tok::Arrow);
  EXPECT_EQ(toks[7].pos, 19);
  EXPECT_EQ(toks[7].len, 2);
  EXPECT_EQ(toks[9].kind, Tok::DotDotLt);
  EXPECT_EQ(toks[9].pos, 24);
  EXPECT_EQ(toks[9].len, 3);
  EXPECT_EQ(toks[11].kind, Tok::End);
  EXPECT_EQ(toks[11].pos, 29);
}

TEST(Lexer, PrefersTheLongestOperator) {
  EXPECT_EQ(kinds("a==b"), (std::vector<Tok>{Tok::Ident, Tok::EqEq, Tok::Ident, Tok::End}));
  EXPECT_EQ(kinds("a===b"), (std::vector<Tok>{Tok::Ident, Tok::EqEqEq, Tok::Ident, Tok::End}));
  EXPECT_EQ(kinds("a====b"), (std::vector<Tok>{Tok::Ident, Tok::EqEqEq, Tok::Assign, Tok::Ident, Tok::End}));
  EXPECT_EQ(kinds("a?:b"), (std::vector<Tok>{Tok::Ident, Tok::Elvis, Tok::Ident, Tok::End}));
  EXPECT_EQ(kinds("a? :b"), (std::vector<Tok>{Tok::Ident, Tok::Question, Tok::Colon, Tok::Ident, Tok::End}));
  EXPECT_EQ(kinds("x-->y"), (std::vector<Tok>{Tok::Ident, Tok::Minus, Tok::Arrow, Tok::Ident, Tok::End}));
  // ".." followed by neither '.' nor '<' is two dots.
  EXPECT_EQ(kinds("a..b"), (std::vector<Tok>{Tok::Ident, Tok::Dot, Tok::Dot, Tok::Ident, Tok::End}));
}

TEST(Lexer, RecognizesKeywords) {
  EXPECT_EQ(kinds("true false null new check is self"),
            (std::vector<Tok>{Tok::KwTrue, Tok::KwFalse, Tok::KwNull, Tok::KwNew, Tok::KwCheck, Tok::KwIs,
                              Tok::KwSelf, Tok::End}));
  // A keyword prefix of a longer name is a name.
  Token t = only("newer");
  EXPECT_EQ(t.kind, Tok::Ident);
  EXPECT_EQ(t.text, "newer");
}

TEST(Lexer, ReadsIdentifiersWithUnderscoresAndDigits) {
  Token t = only("_user_2");
  EXPECT_EQ(t.kind, Tok::Ident);
  EXPECT_EQ(t.text, "_user_2");
  EXPECT_EQ(t.len, 7);
}

TEST(Lexer, SkipsSpacesTabsAndNewlines) {
  auto toks = lex_expression(" \t\n\r a");
  ASSERT_EQ(toks.size(), 2u);
  EXPECT_EQ(toks[0].kind, Tok::Ident);
  EXPECT_EQ(toks[0].pos, 5);
}

// ---- strings

TEST(Lexer, DecodesStringEscapes) {
  Token t = only(R"("a\nb\tc\"d\\e\u{1F600}\u{e9}\r\'\0")");
  ASSERT_EQ(t.kind, Tok::StringLit);
  EXPECT_EQ(t.text, std::string("a\nb\tc\"d\\e\xF0\x9F\x98\x80\xC3\xA9\r'") + std::string(1, '\0'));
  EXPECT_EQ(t.pos, 0);
  EXPECT_EQ(t.len, 36);
}

TEST(Lexer, KeepsRawUtf8InStrings) {
  Token t = only("\"h\xC3\xA9llo\"");
  ASSERT_EQ(t.kind, Tok::StringLit);
  EXPECT_EQ(t.text, "h\xC3\xA9llo");
}

TEST(Lexer, ReportsAnUnknownEscapeAtTheBackslash) {
  Token t = error_token(R"(x + "ab\q")");
  EXPECT_EQ(t.pos, 7);
  EXPECT_EQ(t.len, 2);
  EXPECT_EQ(t.text, "unknown escape sequence '\\q'");
}

TEST(Lexer, ReportsABadUnicodeEscape) {
  Token braces = error_token(R"("\u0041")");
  EXPECT_EQ(braces.pos, 1);
  EXPECT_EQ(braces.text, "a unicode escape is written \\u{XXXX}");

  Token surrogate = error_token(R"("ok\u{D800}")");
  EXPECT_EQ(surrogate.pos, 3);
  EXPECT_EQ(surrogate.text, "invalid unicode escape");

  Token too_big = error_token(R"("\u{110000}")");
  EXPECT_EQ(too_big.pos, 1);
  EXPECT_EQ(too_big.text, "invalid unicode escape");

  Token unclosed = error_token(R"("\u{41")");
  EXPECT_EQ(unclosed.pos, 1);
  EXPECT_EQ(unclosed.text, "invalid unicode escape");

  Token empty = error_token(R"("\u{}")");
  EXPECT_EQ(empty.pos, 1);
  EXPECT_EQ(empty.text, "invalid unicode escape");
}

TEST(Lexer, ReportsAnUnterminatedStringAtItsQuote) {
  Token t = error_token("a + \"abc");
  EXPECT_EQ(t.pos, 4);
  EXPECT_EQ(t.text, "unterminated string literal");
  EXPECT_EQ(t.len, 4);

  Token nl = error_token("\"ab\ncd\"");
  EXPECT_EQ(nl.pos, 0);
  EXPECT_EQ(nl.text, "unterminated string literal");
}

TEST(Lexer, ReportsABackslashAtTheEndOfTheInputWithinItsBounds) {
  // A string that ends with a lone backslash is unterminated; the error stays within the input.
  Token t = error_token("\"ab\\");
  EXPECT_EQ(t.pos, 0);
  EXPECT_LE(t.pos + t.len, 4);
  EXPECT_EQ(t.text, "unterminated string literal");
}

// ---- numbers

TEST(Lexer, ReadsIntegerLiterals) {
  Token t = only("42");
  EXPECT_EQ(t.kind, Tok::IntLit);
  EXPECT_EQ(t.ival, 42);
  EXPECT_EQ(t.len, 2);
  EXPECT_EQ(only("9223372036854775807").ival, INT64_MAX);
  EXPECT_EQ(only("007").ival, 7);
}

TEST(Lexer, ReadsHexLiterals) {
  Token t = only("0xFF");
  EXPECT_EQ(t.kind, Tok::IntLit);
  EXPECT_EQ(t.ival, 255);
  EXPECT_EQ(t.len, 4);
  EXPECT_EQ(only("0X1a").ival, 26);
  EXPECT_EQ(only("0x7FFFFFFFFFFFFFFF").ival, INT64_MAX);
}

TEST(Lexer, ReadsFloatLiterals) {
  Token t = only("1.5");
  EXPECT_EQ(t.kind, Tok::FloatLit);
  EXPECT_DOUBLE_EQ(t.fval, 1.5);
  EXPECT_DOUBLE_EQ(only("2e3").fval, 2000.0);
  EXPECT_EQ(only("2e3").kind, Tok::FloatLit);
  EXPECT_DOUBLE_EQ(only("1.25E-2").fval, 0.0125);
  EXPECT_DOUBLE_EQ(only("6e+1").fval, 60.0);
  Token suffixed = only("3f");
  EXPECT_EQ(suffixed.kind, Tok::FloatLit);
  EXPECT_DOUBLE_EQ(suffixed.fval, 3.0);
  EXPECT_EQ(suffixed.len, 2);
  EXPECT_EQ(only("4d").kind, Tok::FloatLit);
}

TEST(Lexer, TreatsADotWithoutDigitsAsAMemberAccess) {
  EXPECT_EQ(kinds("1.x"), (std::vector<Tok>{Tok::IntLit, Tok::Dot, Tok::Ident, Tok::End}));
  EXPECT_EQ(kinds("1..<3"), (std::vector<Tok>{Tok::IntLit, Tok::DotDotLt, Tok::IntLit, Tok::End}));
}

TEST(Lexer, ReportsIntegerOverflow) {
  Token t = error_token("1 + 9223372036854775808");
  EXPECT_EQ(t.pos, 4);
  EXPECT_EQ(t.len, 19);
  EXPECT_EQ(t.text, "integer literal out of range");
  EXPECT_EQ(error_token("0x8000000000000000").text, "integer literal out of range");
  EXPECT_EQ(error_token("0x10000000000000000").text, "integer literal out of range");
}

TEST(Lexer, ReportsHexWithoutDigits) {
  Token t = error_token("0x");
  EXPECT_EQ(t.pos, 0);
  EXPECT_EQ(t.text, "a hexadecimal literal needs digits after 0x");
}

TEST(Lexer, ReportsANumberRunIntoALetter) {
  Token t = error_token("x + 12abc");
  EXPECT_EQ(t.pos, 4);
  EXPECT_EQ(t.text, "a number cannot be followed by a letter");
  // An exponent without digits is not an exponent.
  EXPECT_EQ(error_token("1e").text, "a number cannot be followed by a letter");
}

// ---- qualified names

TEST(Lexer, JoinsAModulePrefixAndNameWithoutSpaces) {
  Token t = only("string:fromBytes");
  EXPECT_EQ(t.kind, Tok::QualIdent);
  EXPECT_EQ(t.text, "string:fromBytes");
  EXPECT_EQ(t.len, 16);
  EXPECT_EQ(only("log:printInfo").kind, Tok::QualIdent);
  EXPECT_EQ(only("tcp:Caller").text, "tcp:Caller");
  EXPECT_EQ(only("int:fromString").kind, Tok::QualIdent);
}

TEST(Lexer, KeepsColonsWithSpacesOrUnknownPrefixesSeparate) {
  EXPECT_EQ(kinds("a : b"), (std::vector<Tok>{Tok::Ident, Tok::Colon, Tok::Ident, Tok::End}));
  EXPECT_EQ(kinds("a:b"), (std::vector<Tok>{Tok::Ident, Tok::Colon, Tok::Ident, Tok::End}));
  EXPECT_EQ(kinds("string : trim"), (std::vector<Tok>{Tok::Ident, Tok::Colon, Tok::Ident, Tok::End}));
  EXPECT_EQ(kinds("string:1"), (std::vector<Tok>{Tok::Ident, Tok::Colon, Tok::IntLit, Tok::End}));
  // The conditional's ':' before a name is not a qualifier unless the name before it is a module.
  EXPECT_EQ(kinds("c ? x:y"),
            (std::vector<Tok>{Tok::Ident, Tok::Question, Tok::Ident, Tok::Colon, Tok::Ident, Tok::End}));
}

// ---- templates

TEST(Lexer, ReadsAStringTemplateAsRawContent) {
  Token t = only("string `a ${b} c`");
  ASSERT_EQ(t.kind, Tok::Template);
  EXPECT_EQ(t.text, "a ${b} c");
  EXPECT_EQ(t.pos, 0);
  EXPECT_EQ(t.content_pos, 8);
  EXPECT_EQ(t.len, 17);
}

TEST(Lexer, AllowsSpacesBetweenStringAndTheBacktick) {
  Token t = only("string   `x`");
  ASSERT_EQ(t.kind, Tok::Template);
  EXPECT_EQ(t.text, "x");
  EXPECT_EQ(t.content_pos, 10);
}

TEST(Lexer, KeepsEscapesRawInTemplates) {
  Token t = only(R"(string `a\nb`)");
  ASSERT_EQ(t.kind, Tok::Template);
  EXPECT_EQ(t.text, R"(a\nb)");
}

TEST(Lexer, SkipsNestedBracesAndStringsInsideInterpolations) {
  // The '}' and '`' inside the string literal and the map braces do not end the interpolation.
  Token t = only(R"(string `v=${ {"k": "}`"}["k"] ?: "" } end`)");
  ASSERT_EQ(t.kind, Tok::Template);
  EXPECT_EQ(t.text, R"(v=${ {"k": "}`"}["k"] ?: "" } end)");
}

TEST(Lexer, ContinuesAfterATemplate) {
  auto toks = lex_expression("string `x`.length() + 1");
  std::vector<Tok> got;
  for (auto& t : toks) got.push_back(t.kind);
  EXPECT_EQ(got, (std::vector<Tok>{Tok::Template, Tok::Dot, Tok::Ident, Tok::LParen, Tok::RParen, Tok::Plus,
                                   Tok::IntLit, Tok::End}));
  EXPECT_EQ(toks[1].pos, 10);
}

TEST(Lexer, ReportsAnUnterminatedTemplate) {
  Token t = error_token("x + string `abc");
  EXPECT_EQ(t.pos, 4);
  EXPECT_EQ(t.text, "unterminated string template (missing closing `)");
  Token interp = error_token("string `a ${b`");
  EXPECT_EQ(interp.pos, 0);
  EXPECT_EQ(interp.text, "unterminated ${ in string template");
}

TEST(Lexer, RejectsABareBacktick) {
  Token t = error_token("a + `x`");
  EXPECT_EQ(t.pos, 4);
  EXPECT_EQ(t.text, "a string template is written string `...`");
}

// ---- other errors

TEST(Lexer, RejectsASingleAmpersand) {
  Token t = error_token("a & b");
  EXPECT_EQ(t.pos, 2);
  EXPECT_EQ(t.text, "unexpected '&' (did you mean '&&'?)");
}

TEST(Lexer, RejectsUnknownAndNonAsciiCharacters) {
  Token hash = error_token("a # b");
  EXPECT_EQ(hash.pos, 2);
  EXPECT_EQ(hash.text, "unexpected character '#'");
  Token e = error_token("a \xC3\xA9");
  EXPECT_EQ(e.pos, 2);
  EXPECT_EQ(e.text, "unexpected non-ASCII character outside a string");
}

TEST(Lexer, StopsAtTheFirstError) {
  auto toks = lex_expression("a # b c");
  ASSERT_EQ(toks.size(), 2u);
  EXPECT_EQ(toks[0].kind, Tok::Ident);
  EXPECT_EQ(toks[1].kind, Tok::Error);
}

TEST(Lexer, NamesEveryTokenKind) {
  EXPECT_STREQ(token_name(Tok::Elvis), "'?:'");
  EXPECT_STREQ(token_name(Tok::DotDotLt), "'..<'");
  EXPECT_STREQ(token_name(Tok::End), "end of expression");
  EXPECT_STREQ(token_name(Tok::QualIdent), "qualified name");
}

}  // namespace
}  // namespace flowd
