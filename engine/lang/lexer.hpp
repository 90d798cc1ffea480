// Lexer for the expression language (a small subset of Ballerina's expression syntax).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flowd {

enum class Tok : std::uint8_t {
#define TOKEN(name, description) name,
#define PUNCT(name, spelling) name,
#define KEYWORD(name, spelling) name,
#include "lang/tokens.def"
#undef TOKEN
#undef PUNCT
#undef KEYWORD
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

// How messages name a token: "identifier", "'+'", "'true'".
const char* token_name(Tok t);
// The source text of an operator, punctuator or keyword ("+", "true"); "" for a class of tokens.
const char* token_spelling(Tok t);
// The keyword spelled `name`, or Tok::Ident.
Tok keyword_or_identifier(std::string_view name);

}  // namespace flowd
