// The load-time checker (load_flow_text): every diagnostic has its stable id, the JSON pointer of
// the field, and (for expressions) the column inside the expression; positions resolve to the
// file's line:column.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "flow_harness.hpp"

#ifndef FLOWD_SOURCE_DIR
#error "FLOWD_SOURCE_DIR must be defined"
#endif

namespace flowd::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ElementsAre;

std::string on_bytes_node(int i) { return std::string(kOnBytesNodes) + "/" + std::to_string(i); }

LoadResult load_nodes(std::vector<std::string> nodes) { return load(FlowBuilder(std::move(nodes)).text()); }

// ---- positions in a literal flow (line:column are 1-based, columns in bytes)

// A flow whose onBytes nodes are on lines 10.. ; `nodes` is inserted verbatim.
std::string literal_flow(const std::string& nodes) {
  return "{\n"                                                                                  // 1
         "  \"name\": \"pos\",\n"                                                               // 2
         "  \"listeners\": [ { \"name\": \"l\", \"kind\": \"tcp\", \"port\": \"0\" } ],\n"       // 3
         "  \"services\": [ { \"listener\": \"l\", \"onConnect\": { \"nodes\": [\n"              // 4
         "    { \"node\": \"RETURN\", \"expression\": \"new C()\" } ] } } ],\n"                  // 5
         "  \"classes\": [ { \"name\": \"C\",\n"                                                 // 6
         "    \"variables\": [ { \"name\": \"count\", \"type\": \"int\", \"default\": \"0\" } ],\n"  // 7
         "    \"methods\": { \"onBytes\": {\n"                                                   // 8
         "      \"parameters\": [ { \"name\": \"data\", \"type\": \"byte[]\" } ],\n"             // 9
         "      \"nodes\": [\n" +                                                                // 10
         nodes +                                                                                 // 11..
         "\n      ] } } } ]\n"
         "}\n";
}

TEST(Checker, LocatesAnUnknownVariableInsideItsExpression) {
  std::string text = literal_flow(
      R"(        { "node": "VARIABLE", "variable": "total", "type": "int", "expression": "1" },
        { "node": "VARIABLE", "variable": "sum", "type": "int", "expression": "2 * totl" })");
  LoadResult r = load(text);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E202");
  EXPECT_EQ(d->pointer, on_bytes_node(1) + "/expression");
  EXPECT_EQ(d->message, "unknown variable 'totl' (did you mean 'total'?)");
  EXPECT_EQ(d->expr_offset, 4);
  EXPECT_EQ(d->expr_length, 4);
  EXPECT_EQ(d->line, 12);
  EXPECT_EQ(d->column, 84);
  TextPos p = pos_of(text, "totl");
  EXPECT_EQ(p.line, d->line);
  EXPECT_EQ(p.column, d->column);
}

TEST(Checker, LocatesAnUnknownSelfFieldAtItsName) {
  std::string text = literal_flow(
      R"(        { "node": "ASSIGN", "variable": "self.count", "expression": "self.cont + 1" })");
  LoadResult r = load(text);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E203");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/expression");
  EXPECT_EQ(d->message, "class C has no variable 'cont' (did you mean 'count'?)");
  EXPECT_EQ(d->expr_offset, 5);
  EXPECT_EQ(d->line, 11);
  EXPECT_EQ(d->column, 75);
  EXPECT_EQ(pos_of(text, "cont +").column, d->column);
}

TEST(Checker, LocatesAnUnknownStringMethod) {
  std::string text = literal_flow(
      R"J(        { "node": "VARIABLE", "variable": "s", "type": "string", "expression": "\"abc\".trimm()" })J");
  LoadResult r = load(text);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E204");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/expression");
  EXPECT_EQ(d->message, "a value of type string has no method 'trimm' (did you mean 'trim'?)");
  EXPECT_EQ(d->expr_offset, 6);
  EXPECT_EQ(d->expr_length, 5);
  // The escaped quotes take two bytes each in the file: column of "trimm", not offset + start.
  EXPECT_EQ(d->line, 11);
  EXPECT_EQ(d->column, 89);
  EXPECT_EQ(pos_of(text, "trimm").column, d->column);
}

TEST(Checker, LocatesATypeMismatchAtTheExpressionStart) {
  std::string text = literal_flow(
      R"(        { "node": "VARIABLE", "variable": "n", "type": "int",
          "expression": "\"x\"" })");
  LoadResult r = load(text);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/expression");
  EXPECT_EQ(d->message, "the value of \"expression\" must be int, but this is string");
  EXPECT_EQ(d->expr_offset, 0);
  EXPECT_EQ(d->line, 12);
  EXPECT_EQ(d->column, 26);
}

TEST(Checker, LocatesAnUnknownFunctionInACall) {
  std::string text = literal_flow(
      R"J(        { "node": "VARIABLE", "variable": "s", "type": "string",
          "expression": "string:trimm(\"a\")" })J");
  LoadResult r = load(text);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E205");
  EXPECT_EQ(d->message, "unknown function 'string:trimm' (did you mean 'string:trim'?)");
  EXPECT_EQ(d->expr_offset, 0);
  EXPECT_EQ(d->expr_length, 12);
  EXPECT_EQ(d->line, 12);
  EXPECT_EQ(d->column, 26);
}

TEST(Checker, LocatesAMissingFieldAtItsNode) {
  std::string text = literal_flow(R"(        { "node": "VARIABLE", "variable": "x", "type": "int" })");
  LoadResult r = load(text);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E101");
  EXPECT_EQ(d->pointer, on_bytes_node(0));
  EXPECT_EQ(d->message, "missing field \"expression\": a declared variable needs an initial value");
  EXPECT_EQ(d->expr_offset, -1);
  EXPECT_EQ(d->line, 11);
  EXPECT_EQ(d->column, 9);
}

TEST(Checker, LocatesExpressionColumnsAfterUnicodeEscapes) {
  // "\u00e9" is one JSON escape of six characters that decodes to two bytes of UTF-8.
  std::string text = literal_flow(
      R"(        { "node": "VARIABLE", "variable": "s", "type": "string", "expression": "\"\u00e9\" + y" })");
  LoadResult r = load(text);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E202");
  EXPECT_EQ(d->expr_offset, 7);
  TextPos y = pos_of(text, "y\" }");
  EXPECT_EQ(d->line, y.line);
  EXPECT_EQ(d->column, y.column);
}

// ---- JSON-level errors

TEST(Checker, ReportsJsonSyntaxErrorsWithLineAndColumn) {
  std::string text = "{\n  \"name\": \"x\",\n  \"listeners\": [ } ]\n}\n";
  LoadResult r = load(text);
  EXPECT_EQ(r.program, nullptr);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E003");
  EXPECT_EQ(d->pointer, "");
  EXPECT_EQ(d->line, 3);
  EXPECT_EQ(d->column, 18);
  EXPECT_THAT(d->message, HasSubstr("invalid JSON"));
}

TEST(Checker, ReportsATrailingComma) {
  std::string text = "{\n  \"name\": \"x\",\n}\n";
  LoadResult r = load(text);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E003");
  // At the comma itself, named as a trailing comma (the parser itself stops at the '}' after it).
  EXPECT_EQ(d->line, 2);
  EXPECT_EQ(d->column, 14);
  EXPECT_THAT(d->message, HasSubstr("trailing comma"));
}

TEST(Checker, ReportsATruncatedFile) {
  std::string full = FlowBuilder({variable("x", "int", "1")}).text();
  std::string text = full.substr(0, full.size() / 2);
  LoadResult r = load(text);
  EXPECT_EQ(r.program, nullptr);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E003");
  // At the end of the text.
  TextPos end = pos_of(text + "\x01", "\x01");
  EXPECT_EQ(d->line, end.line);
  EXPECT_EQ(d->column, end.column);
  EXPECT_THAT(d->message, HasSubstr("unexpected end of input"));
}

TEST(Checker, RefusesNestingDeeperThanTheLimitAtTheFirstTooDeepBracket) {
  std::string deep = std::string(static_cast<std::size_t>(kMaxJsonDepth), '[') +
                     std::string(static_cast<std::size_t>(kMaxJsonDepth), ']');
  std::string text = "{\n  \"x\": " + deep + "\n}\n";
  LoadResult r = load(text);
  EXPECT_EQ(r.program, nullptr);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E004");
  EXPECT_EQ(d->line, 2);
  // The object is level 1, so the (kMaxJsonDepth)th '[' (the first at column 8) is level kMaxJsonDepth + 1.
  EXPECT_EQ(d->column, 8 + kMaxJsonDepth - 1);
  EXPECT_THAT(d->message, HasSubstr("64 levels"));
}

TEST(Checker, AcceptsNestingAtTheLimit) {
  std::string ok = std::string(static_cast<std::size_t>(kMaxJsonDepth - 1), '[') +
                   std::string(static_cast<std::size_t>(kMaxJsonDepth - 1), ']');
  Json flow = FlowBuilder({variable("x", "int", "1")}).json();
  LoadResult r = load(flow.dump().insert(1, "\"editor\": " + ok + ","));
  EXPECT_TRUE(r.ok()) << describe(r);
}

TEST(Checker, IgnoresBracketsInsideStringsWhenMeasuringDepth) {
  std::string brackets(200, '[');
  LoadResult r = load(FlowBuilder({variable("x", "string", "\"" + brackets + "\"")}).text());
  EXPECT_TRUE(r.ok()) << describe(r);
}

TEST(Checker, RefusesAFileLargerThanTheLimit) {
  std::string text = FlowBuilder({variable("x", "int", "1")}).text();
  text.append(kMaxFlowFileBytes + 1 - text.size(), ' ');
  LoadResult r = load(text);
  EXPECT_EQ(r.program, nullptr);
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E002");
  EXPECT_THAT(d->message, HasSubstr(std::to_string(kMaxFlowFileBytes + 1) + " bytes"));
}

TEST(Checker, AcceptsAFileExactlyAtTheLimit) {
  std::string text = FlowBuilder({variable("x", "int", "1")}).text();
  text.append(kMaxFlowFileBytes - text.size(), ' ');
  LoadResult r = load(text);
  EXPECT_TRUE(r.ok()) << describe(r);
}

TEST(Checker, RequiresATopLevelObject) {
  LoadResult r = load("[1, 2]");
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E102");
  EXPECT_EQ(d->message, "a flow must be a JSON object");
}

// ---- structure

TEST(Checker, LoadsTheChatFlowWithoutDiagnostics) {
  LoadResult r = load_flow_file(std::string(FLOWD_SOURCE_DIR) + "/flows/chat.json", builtin_registry());
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_TRUE(r.diags.list().empty()) << describe(r);
  EXPECT_EQ(r.program->module, "chat");
  ASSERT_EQ(r.program->classes.size(), 1u);
  EXPECT_EQ(r.program->classes[0].name, "ChatService");
  EXPECT_TRUE(r.program->classes[0].on_bytes_takes_caller);
  EXPECT_FALSE(r.program->classes[0].on_error_takes_caller);
  EXPECT_EQ(r.program->globals.size(), 2u);
  EXPECT_EQ(r.program->services.size(), 1u);
  EXPECT_NE(r.program->classes[0].on_close, nullptr);
  EXPECT_NE(r.program->classes[0].on_error, nullptr);
}

TEST(Checker, AcceptsTheMinimalBuilderFlow) {
  LoadResult r = load(FlowBuilder().text());
  EXPECT_TRUE(r.ok()) << describe(r);
  EXPECT_TRUE(r.diags.list().empty()) << describe(r);
  EXPECT_EQ(r.program->module, "test");
}

TEST(Checker, UsesTheFileStemWhenTheFlowHasNoName) {
  Json flow = FlowBuilder().json();
  flow.erase("name");
  LoadResult r = load_flow_text(flow.dump(), "dir/echo.json", builtin_registry());
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.program->module, "echo");
}

TEST(Checker, SuggestsTheNodeKindForAMisspeltOne) {
  LoadResult r = load_nodes({R"({"node": "VARIABEL", "variable": "x", "type": "int", "expression": "1"})",
                             log_info("string `${x}`")});
  const Diagnostic* d = single_error(r);  // x stays declared: its use is not reported again
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E103");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/node");
  EXPECT_EQ(d->message, "unknown node kind \"VARIABEL\" (did you mean \"VARIABLE\"?)");
}

TEST(Checker, ReportsAMissingNodeKind) {
  LoadResult r = load_nodes({R"({"variable": "x"})"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E101");
  EXPECT_EQ(d->pointer, on_bytes_node(0));
  EXPECT_EQ(d->message, "missing field \"node\"");
}

TEST(Checker, ReportsANodeThatIsNotAnObject) {
  LoadResult r = load_nodes({"42"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E102");
  EXPECT_EQ(d->pointer, on_bytes_node(0));
}

TEST(Checker, ReportsANumberWhereAnExpressionStringIsExpected) {
  LoadResult r = load_nodes({R"({"node": "VARIABLE", "variable": "x", "type": "int", "expression": 5})"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E102");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/expression");
  EXPECT_EQ(d->message, "\"expression\" must be a string, not a number (values are expression strings: write \"5\")");
}

TEST(Checker, ReportsANumberAsAFunctionArgument) {
  LoadResult r = load_nodes({R"({"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": 7}})"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E102");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/args/msg");
  EXPECT_EQ(d->message, "argument \"msg\" must be an expression string (write \"7\")");
}

TEST(Checker, WarnsAboutAMisspeltFieldAndReportsTheMissingOne) {
  LoadResult r = load_nodes({R"({"node": "VARIABLE", "variable": "x", "type": "int", "expresion": "1"})"});
  ASSERT_EQ(r.diags.list().size(), 2u) << describe(r);
  const Diagnostic& w = r.diags.list()[0];
  EXPECT_EQ(w.severity, Severity::Warning);
  EXPECT_EQ(diag_code(w.id), "W101");
  EXPECT_EQ(w.pointer, on_bytes_node(0) + "/expresion");
  EXPECT_EQ(w.message, "unknown field \"expresion\" is ignored (did you mean \"expression\"?)");
  const Diagnostic& e = r.diags.list()[1];
  EXPECT_EQ(e.severity, Severity::Error);
  EXPECT_EQ(diag_code(e.id), "E101");
  EXPECT_EQ(r.diags.error_count(), 1);
  EXPECT_EQ(r.diags.warning_count(), 1);
}

TEST(Checker, IgnoresUnknownKeysThatLookLikeNothing) {
  LoadResult r = load_nodes({R"({"node": "VARIABLE", "variable": "x", "type": "int", "expression": "1",
                                "editorPosition": {"x": 10, "y": 20}})"});
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.diags.list().empty()) << describe(r);
}

TEST(Checker, ReportsAVariableDeclaredTwiceInOneScope) {
  LoadResult r = load_nodes({variable("x", "int", "1"), variable("x", "int", "2")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E104");
  EXPECT_EQ(d->pointer, on_bytes_node(1) + "/variable");
  EXPECT_EQ(d->message, "variable 'x' is already declared (here or in an enclosing block): choose another name");
}

TEST(Checker, ReportsAVariableThatShadowsAParameter) {
  LoadResult r = load_nodes({variable("data", "int", "1")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E104");
}

TEST(Checker, AllowsTheSameNameInSeparateBranches) {
  LoadResult r = load_nodes({if_node({{"true", {variable("x", "int", "1")}}}, std::vector<std::string>{variable("x", "string", "\"a\"")}),
                             variable("x", "boolean", "true")});
  EXPECT_TRUE(r.ok()) << describe(r);
}

TEST(Checker, ReportsAnInvalidVariableName) {
  LoadResult r = load_nodes({variable("2x", "int", "1")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E105");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/variable");
}

TEST(Checker, RefusesAKeywordAsAVariableName) {
  LoadResult r = load_nodes({variable("self", "int", "1")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E105");
}

TEST(Checker, ReportsAnUnreachableNodeOnce) {
  LoadResult r = load_nodes({return_node(), log_info("\"a\""), log_info("\"b\"")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E110");
  EXPECT_EQ(d->pointer, on_bytes_node(1));
  EXPECT_EQ(d->message, "this node can never run: the node before it always returns");
}

TEST(Checker, ReportsANodeAfterAnIfWhoseBranchesAllReturn) {
  LoadResult r = load_nodes({if_node({{"data.length() > 0", {return_node()}}}, std::vector<std::string>{return_node()}),
                             log_info("\"never\"")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E110");
  EXPECT_EQ(d->pointer, on_bytes_node(1));
}

TEST(Checker, DoesNotReportANodeAfterAnIfWithoutElse) {
  LoadResult r = load_nodes({if_node({{"data.length() > 0", {return_node()}}}), log_info("\"reached\"")});
  EXPECT_TRUE(r.ok()) << describe(r);
}

// ---- expressions

TEST(Checker, ReportsAnUnknownVariableWithoutSuggestionWhenNothingIsClose) {
  LoadResult r = load_nodes({variable("x", "int", "zzzzzz")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E202");
  EXPECT_EQ(d->message, "unknown variable 'zzzzzz'");
}

TEST(Checker, HintsThatClassVariablesAreReadThroughSelf) {
  LoadResult r = load(FlowBuilder({variable("x", "int", "counter + 1")}).class_variable("counter", "int", "0").text());
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E202");
  EXPECT_EQ(d->message, "unknown variable 'counter' (class variables are read as self.counter)");
}

TEST(Checker, ReportsAVariableUsedInItsOwnInitializer) {
  LoadResult r = load_nodes({variable("x", "int", "x + 1")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E202");
  EXPECT_EQ(d->expr_offset, 0);
}

TEST(Checker, ReportsAnUnknownClassInNew) {
  LoadResult r = load(FlowBuilder().on_connect({return_node("new Chat()")}).text());
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E206");
  EXPECT_EQ(d->pointer, "/services/0/onConnect/nodes/0/expression");
  EXPECT_EQ(d->message, "unknown class 'Chat'");
  EXPECT_EQ(d->expr_offset, 4);
  EXPECT_EQ(d->expr_length, 4);
}

TEST(Checker, SuggestsAClassNameInNew) {
  LoadResult r = load(FlowBuilder().on_connect({return_node("new CC()")}).text());
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E206");
  EXPECT_EQ(d->message, "unknown class 'CC' (did you mean 'C'?)");
}

TEST(Checker, ReportsAStringWrittenAsBytesWithAHint) {
  LoadResult r = load_nodes({write_bytes("\"hello\"")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/args/data");
  EXPECT_EQ(d->message, "the value of \"data\" must be byte[], but this is string (use .toBytes())");
}

TEST(Checker, ReportsCheckOnAnExpressionThatCannotFail) {
  LoadResult r = load_nodes({variable("x", "int", "1 + check 2")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E211");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/expression");
  EXPECT_EQ(d->message, "check is applied to int, which can never be an error");
  EXPECT_EQ(d->expr_offset, 4);
  EXPECT_EQ(d->expr_length, 7);
}

TEST(Checker, ReportsTheCheckFlagOnACallThatCannotFail) {
  LoadResult r = load_nodes({call("string:trim", {{"s", "\"a\""}}, "t", "string", true)});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E211");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/check");
  EXPECT_EQ(d->message, "\"check\" is set, but the result (string) can never be an error");
}

TEST(Checker, AllowsCheckInOnConnect) {
  LoadResult r = load(FlowBuilder().on_connect({variable("n", "int", "check int:fromString(\"1\")"),
                                                return_node("new C()")})
                          .text());
  // onConnect returns C|error|(): check is allowed there.
  EXPECT_TRUE(r.ok()) << describe(r);
}

TEST(Checker, RequiresAFallibleCallResultToBeHandled) {
  LoadResult r = load_nodes({call("string:fromBytes", {{"bytes", "data"}})});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->pointer, on_bytes_node(0));
  EXPECT_EQ(d->message, "the result may be an error (string|error): set \"check\": true or store it with \"variable\"");
}

TEST(Checker, AcceptsAFallibleCallResultInAVariableOfTheUnionType) {
  LoadResult r = load_nodes({call("string:fromBytes", {{"bytes", "data"}}, "s", "string|error")});
  EXPECT_TRUE(r.ok()) << describe(r);
}

TEST(Checker, SuggestsCheckWhenAFallibleResultIsStoredInTheSuccessType) {
  LoadResult r = load_nodes({call("string:fromBytes", {{"bytes", "data"}}, "s", "string")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/type");
  EXPECT_EQ(d->message,
            "the result is string|error, which cannot be stored in 's' of type string (set \"check\": true to return "
            "the error from the function, or declare it as string|error)");
}

TEST(Checker, ReportsAConditionThatIsNotBoolean) {
  LoadResult r = load_nodes({if_node({{"data.length()", {}}})});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/branches/0/condition");
  EXPECT_EQ(d->message, "the value of \"condition\" must be boolean, but this is int");
}

TEST(Checker, ReportsAnIfWithoutBranches) {
  LoadResult r = load_nodes({R"({"node": "IF", "branches": []})"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E101");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/branches");
}

TEST(Checker, ReportsAnUnknownType) {
  LoadResult r = load_nodes({variable("x", "strng", "\"a\"")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E207");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/type");
  EXPECT_EQ(d->message, "unknown type 'strng'");
}

TEST(Checker, ReportsASyntaxErrorInAnExpression) {
  LoadResult r = load_nodes({variable("x", "int", "1 +")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E201");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/expression");
  EXPECT_EQ(d->expr_offset, 3);
  EXPECT_EQ(d->message, "the expression ends too early");
}

TEST(Checker, ReportsAnIntegerLiteralOutOfRangeWithItsOwnId) {
  LoadResult r = load_nodes({variable("x", "int", "9223372036854775808")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E213");
}

TEST(Checker, ReportsAssigningAConfigurable) {
  LoadResult r = load(FlowBuilder({assign("port", "1")}).configurable("port", "int", "3000").text());
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E210");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/variable");
  EXPECT_EQ(d->message, "'port' is a configurable and cannot be changed");
}

TEST(Checker, ReportsAnUnknownAssignmentTarget) {
  LoadResult r = load_nodes({variable("total", "int", "0"), assign("totl", "1")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E202");
  EXPECT_EQ(d->pointer, on_bytes_node(1) + "/variable");
  EXPECT_EQ(d->message, "unknown variable 'totl' (did you mean 'total'?)");
}

TEST(Checker, ReportsAnAssignmentToAnExpression) {
  LoadResult r = load_nodes({assign("1 + 2", "3")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E210");
}

TEST(Checker, ReportsAnUnknownParameterOfAFunction) {
  LoadResult r = load_nodes({call("string:fromBytes", {{"byts", "data"}}, "s", "string|error")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E209");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/args/byts");
  EXPECT_EQ(d->message, "string:fromBytes has no parameter 'byts' (did you mean 'bytes'?); its parameters are: bytes");
}

TEST(Checker, ReportsAMissingLogMessage) {
  LoadResult r = load_nodes({R"({"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"user": "\"x\""}})"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E209");
  EXPECT_EQ(d->message, "log:printInfo needs the argument 'msg'");
}

TEST(Checker, ReportsAnUnknownNodeFunction) {
  LoadResult r = load_nodes({R"({"node": "FUNCTION_CALL", "function": "log:printInfoo", "args": {"msg": "\"x\""}})"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E205");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/function");
  EXPECT_EQ(d->message, "unknown function 'log:printInfoo' (did you mean 'log:printInfo'?)");
}

TEST(Checker, EscapesArgumentNamesInPointers) {
  // An argument named "a/b": its pointer escapes the '/' (RFC 6901), so the position is exact.
  LoadResult r = load_nodes({R"({"node": "FUNCTION_CALL", "function": "string:trim", "args": {"s": "\"x\"", "a/b": "1"}})"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E209");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/args/a~1b");
}

TEST(Checker, RefusesALogKeyThatIsNotAPlainName) {
  // Log keys are written unquoted (key=value): a key with a '/' or a space could break the line.
  LoadResult r = load_nodes({log_info("\"m\"", {{"a/b", "1"}})});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E105");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/args/a~1b");
}

TEST(Checker, ReportsAnUnknownRemoteAction) {
  LoadResult r = load_nodes({R"({"node": "REMOTE_ACTION_CALL", "connection": "caller", "action": "writeByte",
                                 "args": {"data": "data"}})"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E204");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/action");
  EXPECT_EQ(d->message, "tcp:Caller has no action 'writeByte' (it has writeBytes and close); did you mean 'writeBytes'?");
}

TEST(Checker, ReportsAnArgumentOfClose) {
  LoadResult r = load_nodes({R"({"node": "REMOTE_ACTION_CALL", "connection": "caller", "action": "close",
                                 "args": {"data": "data"}})"});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E209");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/args/data");
  EXPECT_EQ(d->message, "close has no parameter 'data' (it takes none)");
}

TEST(Checker, ReportsAMethodCallOnAPossibleError) {
  LoadResult r = load_nodes({call("string:fromBytes", {{"bytes", "data"}}, "s", "string|error"),
                             variable("t", "string", "s.trim()")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E204");
  EXPECT_EQ(d->pointer, on_bytes_node(1) + "/expression");
  EXPECT_EQ(d->message,
            "this value may be an error (string|error): use check, or test it with 'is error', before calling .trim()");
  EXPECT_EQ(d->expr_offset, 2);
}

TEST(Checker, ReportsOperatorsOnMismatchedTypesAtTheOperator) {
  LoadResult r = load_nodes({variable("x", "int", "1 + \"a\"")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->message, "operator '+' is not defined for int and string");
  EXPECT_EQ(d->expr_offset, 2);
  EXPECT_EQ(d->expr_length, 1);
}

TEST(Checker, ReportsAnEqualityThatCanNeverHold) {
  LoadResult r = load_nodes({variable("b", "boolean", "1 == \"1\"")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->message, "a value of type int can never equal one of type string");
  EXPECT_EQ(d->expr_offset, 2);
  EXPECT_EQ(d->expr_length, 2);
}

TEST(Checker, ReportsAnErrorInsertedIntoATemplate) {
  LoadResult r = load_nodes({call("int:fromString", {{"s", "\"1\""}}, "n", "int|error"), log_info("string `n=${n}`")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->pointer, on_bytes_node(1) + "/args/msg");
  EXPECT_EQ(d->message,
            "a string template can only insert int, float, boolean, byte or string values, not int|error (use check, "
            "or .message() of an error)");
  EXPECT_EQ(d->expr_offset, 12);
}

TEST(Checker, ReportsSelfOutsideAClass) {
  LoadResult r = load(FlowBuilder().on_connect({variable("x", "string", "self.name"), return_node("new C()")}).text());
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E202");
  EXPECT_EQ(d->message, "'self' is only available in a class method");
}

TEST(Checker, ReportsAReturnValueOfTheWrongType) {
  LoadResult r = load_nodes({return_node("\"text\"")});
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->pointer, on_bytes_node(0) + "/expression");
  EXPECT_EQ(d->message, "the value of \"expression\" must be (byte[]|error)?, but this is string");
}

// ---- handlers, listeners and services

TEST(Checker, ReportsABadOnBytesSignature) {
  Json flow = FlowBuilder().json();
  flow["classes"][0]["methods"]["onBytes"]["parameters"] = Json::array({Json{{"name", "data"}, {"type", "string"}}});
  LoadResult r = load(flow.dump(2));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E108");
  EXPECT_EQ(d->pointer, "/classes/0/methods/onBytes/parameters");
  EXPECT_EQ(d->message, "onBytes takes (byte[] data) or (tcp:Caller caller, byte[] data)");
}

TEST(Checker, ReportsABadOnErrorSignature) {
  Json flow = FlowBuilder().on_error({}).json();
  flow["classes"][0]["methods"]["onError"]["parameters"] = Json::array();
  LoadResult r = load(flow.dump(2));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E108");
  EXPECT_EQ(d->pointer, "/classes/0/methods/onError/parameters");
  EXPECT_EQ(d->message, "onError takes (error err) or (tcp:Caller caller, error err)");
}

TEST(Checker, AcceptsEveryHandlerShape) {
  LoadResult a = load(FlowBuilder().without_caller().on_error({}, true).on_close({}, true).text());
  ASSERT_TRUE(a.ok()) << describe(a);
  EXPECT_FALSE(a.program->classes[0].on_bytes_takes_caller);
  EXPECT_TRUE(a.program->classes[0].on_error_takes_caller);
  EXPECT_TRUE(a.program->classes[0].on_close_takes_caller);
  LoadResult b = load(FlowBuilder().on_error({}, false).on_close({}, false).text());
  ASSERT_TRUE(b.ok()) << describe(b);
  EXPECT_TRUE(b.program->classes[0].on_bytes_takes_caller);
  EXPECT_FALSE(b.program->classes[0].on_error_takes_caller);
  EXPECT_FALSE(b.program->classes[0].on_close_takes_caller);
}

TEST(Checker, ReportsAnUnknownHandlerWithASuggestion) {
  Json flow = FlowBuilder().json();
  flow["classes"][0]["methods"]["onByte"] = Json{{"nodes", Json::array()}};
  LoadResult r = load(flow.dump(2));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E107");
  EXPECT_EQ(d->pointer, "/classes/0/methods/onByte");
  EXPECT_EQ(d->message, "unknown method 'onByte': a connection class has onBytes, onClose and onError (did you mean 'onBytes'?)");
}

TEST(Checker, RequiresOnBytes) {
  Json flow = FlowBuilder().on_close({}).json();
  flow["classes"][0]["methods"].erase("onBytes");
  LoadResult r = load(flow.dump(2));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E101");
  EXPECT_EQ(d->pointer, "/classes/0/methods");
  EXPECT_EQ(d->message, "class C needs an onBytes method");
}

TEST(Checker, ReportsAnUnknownListener) {
  Json flow = FlowBuilder().json();
  flow["services"][0]["listener"] = "lx";
  LoadResult r = load(flow.dump(2));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E106");
  EXPECT_EQ(d->pointer, "/services/0/listener");
  EXPECT_EQ(d->message, "unknown listener 'lx' (did you mean 'l'?)");
}

TEST(Checker, ReportsAFlowWithoutService) {
  Json flow = FlowBuilder().json();
  flow.erase("services");
  LoadResult r = load(flow.dump(2));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E109");
  EXPECT_EQ(d->pointer, "");
  EXPECT_EQ(d->line, 1);  // the whole document
  EXPECT_EQ(d->column, 1);
}

TEST(Checker, ReportsTwoServicesOnOneListener) {
  Json flow = FlowBuilder().json();
  flow["services"].push_back(flow["services"][0]);
  LoadResult r = load(flow.dump(2));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E104");
  EXPECT_EQ(d->pointer, "/services/1/listener");
}

TEST(Checker, ReportsAnUnknownListenerKind) {
  Json flow = FlowBuilder().json();
  flow["listeners"][0]["kind"] = "udp";
  LoadResult r = load(flow.dump(2));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E112");
  EXPECT_EQ(d->pointer, "/listeners/0/kind");
}

TEST(Checker, ReportsAListenerPortOfTheWrongType) {
  Json flow = FlowBuilder().json();
  flow["listeners"][0]["port"] = "\"3000\"";
  LoadResult r = load(flow.dump(2));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E208");
  EXPECT_EQ(d->pointer, "/listeners/0/port");
}

TEST(Checker, ReportsAClassVariableWithoutDefault) {
  LoadResult r = load(FlowBuilder().class_variable("name", "string").class_variable("maybe", "string?").text());
  const Diagnostic* d = single_error(r);  // an optional variable may leave the default out
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E101");
  EXPECT_EQ(d->pointer, "/classes/0/variables/0");
  EXPECT_EQ(d->message, "class variable 'name' of type string needs a \"default\"");
}

TEST(Checker, ReportsAConfigurableOfAnUnsupportedType) {
  LoadResult r = load(FlowBuilder().configurable("ids", "int[]").text());
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E102");
  EXPECT_EQ(d->pointer, "/configurables/0/type");
}

TEST(Checker, ReportsADuplicateClass) {
  Json flow = FlowBuilder().json();
  flow["classes"].push_back(flow["classes"][0]);
  LoadResult r = load(flow.dump(2));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(error_codes(r), ElementsAre("E104"));
  EXPECT_EQ(errors_of(r)[0]->pointer, "/classes/1/name");
}

TEST(Checker, RefusesAClassNamedLikeABuiltinType) {
  Json flow = FlowBuilder().json();
  flow["classes"][0]["name"] = "string";
  flow["services"][0]["onConnect"]["nodes"][0]["expression"] = "new string()";
  LoadResult r = load(flow.dump(2));
  EXPECT_FALSE(r.ok());
}

// ---- several errors

TEST(Checker, ReportsEveryIndependentError) {
  LoadResult r = load_nodes({
      variable("a", "int", "nope"),                                                      // E202
      variable("b", "int", "\"x\""),                                                     // E208
      R"({"node": "VARIABEL", "variable": "c", "type": "int", "expression": "1"})",       // E103
      variable("d", "string", "\"s\".trimm()"),                                          // E204
      write_bytes("\"text\""),                                                           // E208
      variable("a", "int", "2"),                                                         // E104
  });
  EXPECT_EQ(r.diags.error_count(), 6) << describe(r);
  EXPECT_THAT(error_codes(r), ElementsAre("E202", "E208", "E103", "E204", "E208", "E104"));
  std::vector<std::string> pointers;
  for (const Diagnostic* d : errors_of(r)) pointers.push_back(d->pointer);
  EXPECT_THAT(pointers, ElementsAre(on_bytes_node(0) + "/expression", on_bytes_node(1) + "/expression",
                                    on_bytes_node(2) + "/node", on_bytes_node(3) + "/expression",
                                    on_bytes_node(4) + "/args/data", on_bytes_node(5) + "/variable"));
}

TEST(Checker, ReportsErrorsInEveryFunction) {
  LoadResult r = load(FlowBuilder({variable("a", "int", "x1")})
                          .on_error({variable("b", "int", "x2")})
                          .on_close({variable("c", "int", "x3")})
                          .on_connect({variable("d", "int", "x4"), return_node("new C()")})
                          .text());
  EXPECT_THAT(error_codes(r), ElementsAre("E202", "E202", "E202", "E202")) << describe(r);
  EXPECT_FALSE(r.ok());
}

TEST(Checker, FormatsDiagnosticsWithFileLineAndCaret) {
  std::string text = literal_flow(
      R"(        { "node": "VARIABLE", "variable": "sum", "type": "int", "expression": "2 * totl" })");
  LoadResult r = load(text);
  std::string out = r.diags.format("test.json");
  EXPECT_EQ(out,
            "test.json:11:84: error E202: unknown variable 'totl'\n"
            "    at /classes/0/methods/onBytes/nodes/0/expression, column 5 of the expression\n"
            "    | 2 * totl\n"
            "    |     ^~~~\n");
}


// ---- one name for an initial value: "default" (configurables, class variables) or "expression"
// (module variables); the other name is taken with W102, both at once is E114.

std::string flow_with_declarations(const std::string& configurable, const std::string& module_variable,
                                   const std::string& class_variable) {
  return R"J({ "name": "init",
  "configurables": [ )J" + configurable + R"J( ],
  "variables": [ )J" + module_variable + R"J( ],
  "listeners": [ { "name": "l", "kind": "tcp", "port": "port" } ],
  "services": [ { "listener": "l", "onConnect": { "nodes": [ { "node": "RETURN", "expression": "new C()" } ] } } ],
  "classes": [ { "name": "C", "variables": [ )J" + class_variable + R"J( ],
    "methods": { "onBytes": { "parameters": [ { "name": "data", "type": "byte[]" } ], "nodes": [] } } } ] })J";
}

TEST(Checker, TakesTheOtherNameForAnInitialValueWithAWarning) {
  LoadResult r = load(flow_with_declarations(R"({ "name": "port", "type": "int", "expression": "0" })",
                                             R"({ "name": "users", "type": "string[]", "default": "[]" })",
                                             R"({ "name": "count", "type": "int", "expression": "1" })"));
  EXPECT_TRUE(r.ok()) << describe(r);
  ASSERT_EQ(r.diags.list().size(), 3u) << describe(r);
  for (const Diagnostic& w : r.diags.list()) {
    EXPECT_EQ(w.severity, Severity::Warning);
    EXPECT_EQ(diag_code(w.id), "W102");
  }
  EXPECT_EQ(r.diags.list()[0].pointer, "/configurables/0/expression");
  EXPECT_EQ(r.diags.list()[0].message,
            "the initial value of a configurable is written \"default\", not \"expression\" (taken as \"default\")");
  EXPECT_EQ(r.diags.list()[1].pointer, "/variables/0/default");
  EXPECT_EQ(r.diags.list()[1].message,
            "the initial value of a module variable is written \"expression\", not \"default\" (taken as \"expression\")");
  EXPECT_EQ(r.diags.list()[2].pointer, "/classes/0/variables/0/expression");
}

TEST(Checker, RefusesAnInitialValueGivenUnderBothNames) {
  LoadResult r = load(flow_with_declarations(R"({ "name": "port", "type": "int", "default": "0", "expression": "1" })",
                                             R"({ "name": "users", "type": "string[]", "expression": "[]" })",
                                             R"({ "name": "count", "type": "int", "default": "1" })"));
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr) << describe(r);
  EXPECT_EQ(diag_code(d->id), "E114");
  EXPECT_EQ(d->pointer, "/configurables/0/expression");
  EXPECT_EQ(d->message, "both \"default\" and \"expression\" give the initial value of a configurable: keep only \"default\"");
}

TEST(Checker, ShowsTheCommaThatAJsonErrorIsAbout) {
  LoadResult r = load("{\n  \"name\": \"x\",\n}\n");
  const Diagnostic* d = single_error(r);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->line, 2);
  EXPECT_EQ(d->column, 14);
  EXPECT_EQ(d->line_text, "  \"name\": \"x\",");
  // The note shows where the parser stopped: the '}' after the comma.
  ASSERT_EQ(d->notes.size(), 1u);
  EXPECT_EQ(d->notes[0].line, 3);
  EXPECT_EQ(d->notes[0].column, 1);
  EXPECT_THAT(d->notes[0].message, HasSubstr("the JSON parser stopped here"));
}

}  // namespace
}  // namespace flowd::test
