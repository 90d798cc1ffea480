// Lexer for the expression language (a small subset of Ballerina's expression syntax).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flowd {

enum class Tok : std::uint8_t {
  End, Error,
  Ident,          // name, also type keywords (string, int, ...)
  QualIdent,      // module:name, e.g. string:fromBytes (no spaces around ':')
  IntLit, FloatLit, StringLit,
  Template,       // string `...` ; text is the raw content between the backticks
  LParen, RParen, LBracket, RBracket, LBrace, RBrace,
  Dot, Comma, Colon, Question, Elvis /* ?: */,
  Bang, Plus, Minus, Star, Slash, Percent,
  Lt, Gt, Le, Ge, EqEq, NotEq, EqEqEq, NotEqEq,
  AndAnd, OrOr, Assign, Pipe, Arrow /* -> */, DotDotDot, DotDotLt,
  // keywords
  KwTrue, KwFalse, KwNull, KwNew, KwCheck, KwIs, KwSelf,
};

struct Token {
  Tok kind = Tok::End;
  int pos = 0;           // byte offset in the expression
  int len = 0;
  std::string text;      // identifier name, decoded string literal, template raw text, error message
  std::int64_t ival = 0;
  double fval = 0;
  int content_pos = 0;   // Template: offset of the first byte after the opening backtick
  bool overflow = false; // Error: a numeric literal out of range
};

// Splits the whole expression up front (expressions are short); the last token is End or Error.
std::vector<Token> lex_expression(std::string_view src);

const char* token_name(Tok t);

}  // namespace flowd
