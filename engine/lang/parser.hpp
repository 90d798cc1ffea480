// Pratt parser for expressions and types. One syntax error per expression is reported; the caller
// goes on with the next field so a check run still reports every broken expression.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "lang/ast.hpp"

namespace flowd {

struct ParseError {
  int pos = 0;
  int len = 1;
  std::string message;
  bool overflow = false;  // a numeric literal out of range (E213), not a syntax error
};

struct ParseResult {
  ExprPtr expr;                     // null when error is set
  std::optional<ParseError> error;
};

// Nesting limit for expressions: deeper input is refused instead of recursing without bound.
inline constexpr int kMaxExpressionDepth = 64;
// Depth of the syntax tree (a chain a + b + c ... is as deep as it is long).
inline constexpr int kMaxExpressionTreeDepth = 512;

ParseResult parse_expression(std::string_view source);

struct TypeParseResult {
  std::optional<TypeSyntax> type;
  std::optional<ParseError> error;
};
TypeParseResult parse_type(std::string_view source);

}  // namespace flowd
