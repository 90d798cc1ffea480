// Expression syntax tree, produced once at load time.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lang/lexer.hpp"

namespace flowd {

enum class ExprKind : std::uint8_t {
  NilLit, BoolLit, IntLit, FloatLit, StringLit,
  Template,     // strings: n+1 literal pieces; kids: n interpolated expressions
  Name,         // name
  Self,         // self
  Field,        // kids[0].name
  MethodCall,   // kids[0].name(kids[1..])
  Call,         // name(kids...)  name may be qualified (string:fromBytes)
  Unary,        // op kids[0]   (Minus, Bang)
  Binary,       // kids[0] op kids[1]
  Check,        // check kids[0]
  New,          // new name(kids...)
  Is,           // kids[0] is type_text
  Cast,         // <type_text> kids[0]
  Conditional,  // kids[0] ? kids[1] : kids[2]
  Elvis,        // kids[0] ?: kids[1]
  ArrayLit,     // [kids...]
  MapLit,       // {keys[i]: kids[i]}
  Index,        // kids[0][kids[1]]
  Range,        // kids[0] ... kids[1]  (op DotDotDot or DotDotLt)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind{};
  int pos = 0;   // byte offset in the expression source
  int len = 1;
  int depth = 1;  // of the subtree, bounded by kMaxExpressionTreeDepth
  Tok op = Tok::End;
  std::string name;
  bool bval = false;
  std::int64_t ival = 0;
  double fval = 0;
  std::string sval;
  std::vector<ExprPtr> kids;
  std::vector<std::string> strings;  // Template pieces, MapLit keys
  std::string type_text;             // Is, Cast
  int type_pos = 0;                  // Is/Cast: the type; Field/Method/New: the name; Binary: the operator
};

// A type written in the flow: "string|error", "map<int>", "tcp:Caller", "ChatService", "int[]", "error?".
struct TypeSyntax {
  enum class Kind : std::uint8_t { Named, Nil, Array, Map, Union, Optional } kind = Kind::Named;
  std::string name;  // Named (may be qualified: tcp:Caller)
  int pos = 0, len = 1;
  std::vector<TypeSyntax> args;
};

}  // namespace flowd
