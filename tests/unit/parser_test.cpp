// Parser: precedence and associativity (checked through an S-expression rendering of the tree),
// postfix chains, literals, error positions, the nesting limit, and the type syntax.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "lang/parser.hpp"

namespace flowd {
namespace {

const char* op_str(Tok t) {
  switch (t) {
    case Tok::Plus: return "+";
    case Tok::Minus: return "-";
    case Tok::Star: return "*";
    case Tok::Slash: return "/";
    case Tok::Percent: return "%";
    case Tok::Lt: return "<";
    case Tok::Le: return "<=";
    case Tok::Gt: return ">";
    case Tok::Ge: return ">=";
    case Tok::EqEq: return "==";
    case Tok::NotEq: return "!=";
    case Tok::EqEqEq: return "===";
    case Tok::NotEqEq: return "!==";
    case Tok::AndAnd: return "&&";
    case Tok::OrOr: return "||";
    case Tok::Bang: return "!";
    case Tok::DotDotDot: return "...";
    case Tok::DotDotLt: return "..<";
    default: return "?op";
  }
}

std::string sexpr(const Expr& e) {
  auto kids_from = [&](std::size_t first) {
    std::string s;
    for (std::size_t i = first; i < e.kids.size(); ++i) s += " " + sexpr(*e.kids[i]);
    return s;
  };
  switch (e.kind) {
    case ExprKind::NilLit: return "()";
    case ExprKind::BoolLit: return e.bval ? "true" : "false";
    case ExprKind::IntLit: return std::to_string(e.ival);
    case ExprKind::FloatLit: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%gf", e.fval);
      return buf;
    }
    case ExprKind::StringLit: return "\"" + e.sval + "\"";
    case ExprKind::Template: {
      std::string s = "(template";
      for (std::size_t i = 0; i < e.strings.size(); ++i) {
        s += " \"" + e.strings[i] + "\"";
        if (i < e.kids.size()) s += " " + sexpr(*e.kids[i]);
      }
      return s + ")";
    }
    case ExprKind::Name: return e.name;
    case ExprKind::Self: return "self";
    case ExprKind::Field: return "(. " + sexpr(*e.kids[0]) + " " + e.name + ")";
    case ExprKind::MethodCall: return "(.call " + sexpr(*e.kids[0]) + " " + e.name + kids_from(1) + ")";
    case ExprKind::Call: return "(call " + e.name + kids_from(0) + ")";
    case ExprKind::Unary: return std::string("(") + op_str(e.op) + " " + sexpr(*e.kids[0]) + ")";
    case ExprKind::Binary: return std::string("(") + op_str(e.op) + " " + sexpr(*e.kids[0]) + " " + sexpr(*e.kids[1]) + ")";
    case ExprKind::Check: return "(check " + sexpr(*e.kids[0]) + ")";
    case ExprKind::New: return "(new " + e.name + kids_from(0) + ")";
    case ExprKind::Is: return "(is " + sexpr(*e.kids[0]) + " " + e.type_text + ")";
    case ExprKind::Cast: return "(<" + e.type_text + "> " + sexpr(*e.kids[0]) + ")";
    case ExprKind::Conditional: return "(?" + kids_from(0) + ")";
    case ExprKind::Elvis: return "(?:" + kids_from(0) + ")";
    case ExprKind::ArrayLit: return "[" + (e.kids.empty() ? std::string() : kids_from(0).substr(1)) + "]";
    case ExprKind::MapLit: {
      std::string s = "{";
      for (std::size_t i = 0; i < e.kids.size(); ++i) s += (i ? " " : "") + e.strings[i] + ": " + sexpr(*e.kids[i]);
      return s + "}";
    }
    case ExprKind::Index: return "(index " + sexpr(*e.kids[0]) + " " + sexpr(*e.kids[1]) + ")";
    case ExprKind::Range: return std::string("(") + op_str(e.op) + " " + sexpr(*e.kids[0]) + " " + sexpr(*e.kids[1]) + ")";
  }
  return "?";
}

// The S-expression of `src`, or "error@POS: message".
std::string parse(std::string_view src) {
  ParseResult r = parse_expression(src);
  if (r.error) return "error@" + std::to_string(r.error->pos) + ": " + r.error->message;
  return sexpr(*r.expr);
}

ParseError parse_error(std::string_view src) {
  ParseResult r = parse_expression(src);
  EXPECT_TRUE(r.error.has_value()) << src;
  EXPECT_EQ(r.expr, nullptr) << src;
  return r.error.value_or(ParseError{-1, 0, "no error"});
}

std::string type_str(const TypeSyntax& t) {
  switch (t.kind) {
    case TypeSyntax::Kind::Named: return t.name;
    case TypeSyntax::Kind::Nil: return "()";
    case TypeSyntax::Kind::Array: return "(array " + type_str(t.args[0]) + ")";
    case TypeSyntax::Kind::Map: return "(map " + type_str(t.args[0]) + ")";
    case TypeSyntax::Kind::Optional: return "(optional " + type_str(t.args[0]) + ")";
    case TypeSyntax::Kind::Union: {
      std::string s = "(union";
      for (const auto& a : t.args) s += " " + type_str(a);
      return s + ")";
    }
  }
  return "?";
}

std::string parse_t(std::string_view src) {
  TypeParseResult r = parse_type(src);
  if (r.error) return "error@" + std::to_string(r.error->pos) + ": " + r.error->message;
  return type_str(*r.type);
}

// ---- precedence and associativity

TEST(Parser, MultipliesBeforeAdding) {
  EXPECT_EQ(parse("1 + 2 * 3"), "(+ 1 (* 2 3))");
  EXPECT_EQ(parse("1 * 2 + 3"), "(+ (* 1 2) 3)");
  EXPECT_EQ(parse("(1 + 2) * 3"), "(* (+ 1 2) 3)");
  EXPECT_EQ(parse("7 % 4 / 2"), "(/ (% 7 4) 2)");
}

TEST(Parser, AssociatesBinaryOperatorsToTheLeft) {
  EXPECT_EQ(parse("1 - 2 - 3"), "(- (- 1 2) 3)");
  EXPECT_EQ(parse("8 / 4 / 2"), "(/ (/ 8 4) 2)");
  EXPECT_EQ(parse("a == b != c"), "(!= (== a b) c)");
}

TEST(Parser, BindsAndTighterThanOr) {
  EXPECT_EQ(parse("a || b && c"), "(|| a (&& b c))");
  EXPECT_EQ(parse("a && b || c"), "(|| (&& a b) c)");
}

TEST(Parser, OrdersComparisonEqualityAndLogic) {
  EXPECT_EQ(parse("a < b == c >= d"), "(== (< a b) (>= c d))");
  EXPECT_EQ(parse("a == b && c != d"), "(&& (== a b) (!= c d))");
  EXPECT_EQ(parse("1 + 2 < 3 * 4"), "(< (+ 1 2) (* 3 4))");
}

TEST(Parser, BindsUnaryOperatorsTighterThanBinaryOnes) {
  EXPECT_EQ(parse("!a == b"), "(== (! a) b)");
  EXPECT_EQ(parse("-a * b"), "(* (- a) b)");
  EXPECT_EQ(parse("!!a"), "(! (! a))");
  EXPECT_EQ(parse("+a"), "a");
}

TEST(Parser, BindsPostfixTighterThanUnaryMinus) {
  EXPECT_EQ(parse("-x.length()"), "(- (.call x length))");
  EXPECT_EQ(parse("!s.startsWith(\"a\")"), "(! (.call s startsWith \"a\"))");
}

TEST(Parser, AppliesCheckToTheOperandOnly) {
  EXPECT_EQ(parse("check f(x) + 1"), "(+ (check (call f x)) 1)");
  EXPECT_EQ(parse("check string:fromBytes(data)"), "(check (call string:fromBytes data))");
}

TEST(Parser, ParsesConditionalsRightAssociative) {
  EXPECT_EQ(parse("a ? b : c"), "(? a b c)");
  EXPECT_EQ(parse("a ? b : c ? d : e"), "(? a b (? c d e))");
  EXPECT_EQ(parse("a ? b ? c : d : e"), "(? a (? b c d) e)");
  EXPECT_EQ(parse("x > 1 ? \"big\" : \"small\""), "(? (> x 1) \"big\" \"small\")");
}

TEST(Parser, ParsesElvisRightAssociative) {
  EXPECT_EQ(parse("a ?: b"), "(?: a b)");
  EXPECT_EQ(parse("a ?: b ?: c"), "(?: a (?: b c))");
  EXPECT_EQ(parse("a + 1 ?: b || c"), "(?: (+ a 1) (|| b c))");
}

TEST(Parser, BindsIsAsARelationalOperator) {
  EXPECT_EQ(parse("x is error"), "(is x error)");
  EXPECT_EQ(parse("x is error && y"), "(&& (is x error) y)");
  EXPECT_EQ(parse("!(x is int|string)"), "(! (is x int|string))");
  EXPECT_EQ(parse("x is int[]"), "(is x int[])");
}

TEST(Parser, ParsesCasts) {
  EXPECT_EQ(parse("<int>f"), "(<int> f)");
  EXPECT_EQ(parse("<float>x + 1"), "(+ (<float> x) 1)");
  EXPECT_EQ(parse("<int>x.y"), "(<int> (. x y))");
  EXPECT_EQ(parse("a < <int>b"), "(< a (<int> b))");
}

// ---- postfix and primaries

TEST(Parser, ChainsFieldsMethodsAndIndexes) {
  EXPECT_EQ(parse("self.name.trim().toUpperAscii()"), "(.call (.call (. self name) trim) toUpperAscii)");
  EXPECT_EQ(parse("a.b(1, 2).c"), "(. (.call a b 1 2) c)");
  EXPECT_EQ(parse("xs[0][i + 1]"), "(index (index xs 0) (+ i 1))");
  EXPECT_EQ(parse("m[\"k\"].length()"), "(.call (index m \"k\") length)");
}

TEST(Parser, ParsesCallsOfPlainAndQualifiedNames) {
  EXPECT_EQ(parse("f()"), "(call f)");
  EXPECT_EQ(parse("string:fromBytes(data)"), "(call string:fromBytes data)");
  EXPECT_EQ(parse("error(\"boom\")"), "(call error \"boom\")");
}

TEST(Parser, ParsesNewWithAndWithoutParentheses) {
  EXPECT_EQ(parse("new C()"), "(new C)");
  EXPECT_EQ(parse("new C"), "(new C)");
  EXPECT_EQ(parse("new C(1, x)"), "(new C 1 x)");
}

TEST(Parser, ParsesLiterals) {
  EXPECT_EQ(parse("true"), "true");
  EXPECT_EQ(parse("null"), "()");
  EXPECT_EQ(parse("()"), "()");
  EXPECT_EQ(parse("2.5"), "2.5f");
  EXPECT_EQ(parse("\"a\\tb\""), "\"a\tb\"");
  EXPECT_EQ(parse("self"), "self");
}

TEST(Parser, ParsesListAndMapLiterals) {
  EXPECT_EQ(parse("[]"), "[]");
  EXPECT_EQ(parse("[1, 2 + 3, [4]]"), "[1 (+ 2 3) [4]]");
  EXPECT_EQ(parse("{}"), "{}");
  EXPECT_EQ(parse("{a: 1, \"b c\": x}"), "{a: 1 b c: x}");
  EXPECT_EQ(parse("{\"k\": [1]}[\"k\"]"), "(index {k: [1]} \"k\")");
}

TEST(Parser, ParsesRanges) {
  EXPECT_EQ(parse("0 ..< n"), "(..< 0 n)");
  EXPECT_EQ(parse("1 ... n + 1"), "(... 1 (+ n 1))");
}

TEST(Parser, SplitsTemplatesIntoPiecesAndExpressions) {
  EXPECT_EQ(parse("string `a ${b} c`"), "(template \"a \" b \" c\")");
  EXPECT_EQ(parse("string `${x}`"), "(template \"\" x \"\")");
  EXPECT_EQ(parse("string `plain`"), "(template \"plain\")");
  EXPECT_EQ(parse("string `${a + 1}${m[\"}\"] ?: 0}!`"), "(template \"\" (+ a 1) \"\" (?: (index m \"}\") 0) \"!\")");
}

TEST(Parser, PositionsTemplateExpressionsInTheWholeSource) {
  ParseResult r = parse_expression("string `ab ${x.y} ${f(z)}`");
  ASSERT_FALSE(r.error) << r.error->message;
  const Expr& t = *r.expr;
  ASSERT_EQ(t.kids.size(), 2u);
  EXPECT_EQ(t.kids[0]->kind, ExprKind::Field);
  EXPECT_EQ(t.kids[0]->pos, 13);
  EXPECT_EQ(t.kids[0]->type_pos, 15);  // the field name
  EXPECT_EQ(t.kids[1]->kind, ExprKind::Call);
  EXPECT_EQ(t.kids[1]->pos, 20);
  EXPECT_EQ(t.kids[1]->kids[0]->pos, 22);
}

TEST(Parser, ReportsErrorsInsideTemplatesAtTheirSourcePosition) {
  ParseError e = parse_error("string `ab ${x +} c`");
  EXPECT_EQ(e.pos, 16);  // the end of "x +", just before the '}'
  EXPECT_EQ(e.message, "the expression ends too early");
  ParseError empty = parse_error("string `a ${ } b`");
  EXPECT_EQ(empty.pos, 10);
  EXPECT_EQ(empty.message, "empty ${} in string template");
}

TEST(Parser, RecordsSpansOfNodes) {
  ParseResult r = parse_expression("foo.bar(1) + 22");
  ASSERT_FALSE(r.error);
  const Expr& plus = *r.expr;
  EXPECT_EQ(plus.pos, 0);
  EXPECT_EQ(plus.len, 15);
  EXPECT_EQ(plus.type_pos, 11);  // the operator
  const Expr& m = *plus.kids[0];
  EXPECT_EQ(m.kind, ExprKind::MethodCall);
  EXPECT_EQ(m.pos, 0);
  EXPECT_EQ(m.len, 10);
  EXPECT_EQ(m.type_pos, 4);
  EXPECT_EQ(plus.kids[1]->pos, 13);
  EXPECT_EQ(plus.kids[1]->len, 2);
}

TEST(Parser, RecordsTheTypePositionOfIsAndCasts) {
  ParseResult r = parse_expression("v is  string|error");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.expr->type_pos, 6);
  EXPECT_EQ(r.expr->type_text, "string|error");
  ParseResult c = parse_expression("< int >x");
  ASSERT_FALSE(c.error);
  EXPECT_EQ(c.expr->type_pos, 2);
  EXPECT_EQ(c.expr->type_text, "int");
}

TEST(Parser, DoesNotParseNamedArguments) {
  // Named arguments exist only as FUNCTION_CALL "args" objects, not in expressions.
  ParseError e = parse_error("f(a = 1)");
  EXPECT_EQ(e.pos, 4);
  EXPECT_EQ(e.message, "expected ')' closing the argument list, found '='");
}

// ---- errors

TEST(Parser, ReportsAnExpressionThatEndsTooEarly) {
  ParseError e = parse_error("1 +");
  EXPECT_EQ(e.pos, 3);
  EXPECT_EQ(e.message, "the expression ends too early");
}

TEST(Parser, ReportsAnUnclosedParenthesis) {
  ParseError e = parse_error("(1");
  EXPECT_EQ(e.pos, 2);
  EXPECT_EQ(e.message, "expected ')', found end of expression");
}

TEST(Parser, ReportsTwoDotsAsAMissingName) {
  ParseError e = parse_error("a..b");
  EXPECT_EQ(e.pos, 2);
  EXPECT_EQ(e.message, "expected a field or method name after '.'");
}

TEST(Parser, ReportsTrailingTokens) {
  ParseError e = parse_error("a b");
  EXPECT_EQ(e.pos, 2);
  EXPECT_EQ(e.message, "unexpected 'b' after the expression");
}

TEST(Parser, ReportsAnEmptyExpression) {
  ParseError e = parse_error("  ");
  EXPECT_EQ(e.pos, 2);
  EXPECT_EQ(e.message, "empty expression");
}

TEST(Parser, ReportsLexerErrorsWithTheirMessage) {
  ParseError e = parse_error("a + \"x\\q\"");
  EXPECT_EQ(e.pos, 6);
  EXPECT_EQ(e.len, 2);
  EXPECT_EQ(e.message, "unknown escape sequence '\\q'");
}

TEST(Parser, RequiresTheColonOfAConditional) {
  ParseError e = parse_error("a ? b");
  EXPECT_EQ(e.pos, 5);
  EXPECT_EQ(e.message, "expected ':' of the conditional expression, found end of expression");
}

TEST(Parser, RequiresACallForAQualifiedName) {
  ParseError e = parse_error("1 + string:trim");
  EXPECT_EQ(e.pos, 4);
  EXPECT_EQ(e.message, "'string:trim' is a function: call it with (...)");
}

TEST(Parser, RequiresAClassNameAfterNew) {
  ParseError e = parse_error("new 1");
  EXPECT_EQ(e.pos, 4);
  EXPECT_EQ(e.message, "expected a class name after 'new'");
}

TEST(Parser, RequiresKeysInMapLiterals) {
  ParseError e = parse_error("{1: 2}");
  EXPECT_EQ(e.pos, 1);
  EXPECT_EQ(e.message, "expected a key (a name or a string)");
}

TEST(Parser, RequiresTheClosingAngleOfACast) {
  ParseError e = parse_error("<int x");
  EXPECT_EQ(e.pos, 5);
  EXPECT_EQ(e.message, "expected '>' closing the type cast, found 'x'");
}

// ---- nesting limit

std::string nested_parens(int n) { return std::string(static_cast<std::size_t>(n), '(') + "1" + std::string(static_cast<std::size_t>(n), ')'); }

TEST(Parser, AcceptsModerateNesting) {
  EXPECT_EQ(parse(nested_parens(20)), "1");
  EXPECT_EQ(parse("[[[[[[[[[[1]]]]]]]]]]"), "[[[[[[[[[[1]]]]]]]]]]");
}

TEST(Parser, RefusesDeepParenthesesWithAnError) {
  ParseError e = parse_error(nested_parens(200));
  EXPECT_EQ(e.message, "expression nests too deeply");
  // Each parenthesis level counts twice (the group and the expression inside it).
  EXPECT_EQ(e.pos, kMaxExpressionDepth / 2);
}

TEST(Parser, RefusesVeryDeepInputWithoutCrashing) {
  EXPECT_EQ(parse_error(nested_parens(100000)).message, "expression nests too deeply");
  EXPECT_EQ(parse_error(std::string(100000, '[') + "1" + std::string(100000, ']')).message,
            "expression nests too deeply");
  EXPECT_EQ(parse_error(std::string(100000, '!') + "a").message, "expression nests too deeply");
  EXPECT_EQ(parse_error(std::string(100000, '-') + "1").message, "expression nests too deeply");
  std::string checks;
  for (int i = 0; i < 10000; ++i) checks += "check ";
  EXPECT_EQ(parse_error(checks + "x").message, "expression nests too deeply");
}

TEST(Parser, CountsTemplateNestingAgainstTheLimit) {
  std::string src = "x";
  for (int i = 0; i < 100; ++i) src = "string `${" + src + "}`";
  EXPECT_EQ(parse_error(src).message, "expression nests too deeply");
}

TEST(Parser, ParsesALongOperatorChainWithoutOverflowingTheStack) {
  // The tree of a chain is as deep as the chain is long, and the checker and ~Expr recurse over
  // it: kMaxExpressionTreeDepth refuses a long chain instead of overflowing the stack.
  std::string src = "1";
  for (int i = 0; i < 300000; ++i) src += "+1";
  ParseResult r = parse_expression(src);
  EXPECT_TRUE(r.error.has_value());
}

TEST(Parser, CountsNestedCastsAgainstTheLimit) {
  std::string src;
  for (int i = 0; i < 1000; ++i) src += "<int>";
  src += "1";
  ParseResult r = parse_expression(src);
  ASSERT_TRUE(r.error.has_value()) << "1000 nested casts must hit the nesting limit";
  EXPECT_EQ(r.error->message, "expression nests too deeply");
}

// ---- types

TEST(Parser, ParsesNamedAndQualifiedTypes) {
  EXPECT_EQ(parse_t("string"), "string");
  EXPECT_EQ(parse_t("tcp:Caller"), "tcp:Caller");
  EXPECT_EQ(parse_t("ChatService"), "ChatService");
  EXPECT_EQ(parse_t("()"), "()");
}

TEST(Parser, ParsesUnionTypes) {
  EXPECT_EQ(parse_t("string|error"), "(union string error)");
  EXPECT_EQ(parse_t("int | string | ()"), "(union int string ())");
}

TEST(Parser, ParsesArrayAndOptionalSuffixes) {
  EXPECT_EQ(parse_t("byte[]"), "(array byte)");
  EXPECT_EQ(parse_t("int[]?"), "(optional (array int))");
  EXPECT_EQ(parse_t("int?[]"), "(array (optional int))");
  EXPECT_EQ(parse_t("int[][]"), "(array (array int))");
  EXPECT_EQ(parse_t("error?"), "(optional error)");
}

TEST(Parser, ParsesMapTypes) {
  EXPECT_EQ(parse_t("map<string>"), "(map string)");
  EXPECT_EQ(parse_t("map<map<int>>"), "(map (map int))");
  EXPECT_EQ(parse_t("map<int|string>[]"), "(array (map (union int string)))");
}

TEST(Parser, ParsesParenthesizedTypes) {
  EXPECT_EQ(parse_t("(int|string)[]"), "(array (union int string))");
  EXPECT_EQ(parse_t("(string|error)?"), "(optional (union string error))");
}

TEST(Parser, RecordsTypePositions) {
  TypeParseResult r = parse_type("int | tcp:Caller");
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.type->args.size(), 2u);
  EXPECT_EQ(r.type->args[1].pos, 6);
  EXPECT_EQ(r.type->args[1].len, 10);
  EXPECT_EQ(r.type->len, 16);
}

TEST(Parser, ReportsTypeSyntaxErrors) {
  EXPECT_EQ(parse_t(""), "error@0: empty type");
  EXPECT_EQ(parse_t("int|"), "error@4: expected a type, found end of expression");
  EXPECT_EQ(parse_t("map<int"), "error@7: expected '>' closing map<...>, found end of expression");
  EXPECT_EQ(parse_t("int string"), "error@4: unexpected 'string' after the type");
  EXPECT_EQ(parse_t("(int"), "error@4: expected ')', found end of expression");
  EXPECT_EQ(parse_t("int[3]"), "error@3: unexpected '[' after the type");
}

TEST(Parser, RefusesDeeplyNestedTypes) {
  std::string deep = std::string(1000, '(') + "int" + std::string(1000, ')');
  TypeParseResult r = parse_type(deep);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->message, "type nests too deeply");
}

}  // namespace
}  // namespace flowd
