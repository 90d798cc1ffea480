// The flow-language node kinds and module features, run in-process: WHILE, FOREACH, BREAK,
// CONTINUE, MATCH, ERROR_HANDLER, FAIL, LOCK, module-level variables, flow functions, and the
// list/map/string library they are used with.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "flow_harness.hpp"

namespace flowd::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string node(const std::string& json) { return json; }

// Loads the flow text and runs onBytes once; returns the logged messages, or "PANIC: ..." /
// "ERROR: ..." as the last entry when the handler raised or returned an error.
std::vector<std::string> run_text(const std::string& text, const std::string& data = "", std::int64_t budget = 0) {
  LoadResult r = load(text);
  EXPECT_TRUE(r.ok()) << describe(r);
  if (!r.ok()) return {"<load failed>"};
  Runner run(*r.program);
  if (budget > 0) run.interp.step_budget = budget;
  RunOutcome o = run.on_bytes(data);
  std::vector<std::string> out = run.host.messages();
  if (o.panicked) out.push_back("PANIC: " + o.panic_message);
  else if (o.value.is_error()) out.push_back("ERROR: " + o.value.as<ErrorObj>()->message);
  return out;
}

std::vector<std::string> run_nodes(const std::vector<std::string>& nodes, const std::string& data = "",
                                   std::int64_t budget = 0) {
  return run_text(FlowBuilder(nodes).text(), data, budget);
}

std::string error_code_of(const std::vector<std::string>& nodes) {
  LoadResult r = load(FlowBuilder(nodes).text());
  auto codes = error_codes(r);
  return codes.empty() ? "" : codes[0];
}

// ---- WHILE, BREAK, CONTINUE

TEST(WhileNode, RepeatsWhileTheConditionHolds) {
  EXPECT_THAT(run_nodes({variable("i", "int", "0"),
                         node(R"J({"node": "WHILE", "condition": "i < 3", "children": [
                           {"node": "ASSIGN", "variable": "i", "expression": "i + 1"},
                           {"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "string `${i}`"}}]})J")}),
              ElementsAre("1", "2", "3"));
}

TEST(WhileNode, BreakLeavesAndContinueSkips) {
  EXPECT_THAT(run_nodes({variable("i", "int", "0"),
                         node(R"J({"node": "WHILE", "condition": "true", "children": [
                           {"node": "ASSIGN", "variable": "i", "expression": "i + 1"},
                           {"node": "IF", "branches": [{"condition": "i == 2", "children": [{"node": "CONTINUE"}]},
                                                        {"condition": "i > 4", "children": [{"node": "BREAK"}]}]},
                           {"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "string `${i}`"}}]})J")}),
              ElementsAre("1", "3", "4"));
}

TEST(WhileNode, AnEndlessLoopIsStoppedByTheStepBudget) {
  auto out = run_nodes({variable("i", "int", "0"),
                        node(R"J({"node": "WHILE", "id": "w", "condition": "true", "children": [
                          {"node": "ASSIGN", "variable": "i", "expression": "i + 1"}]})J")},
                       "", 10'000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(out[0], HasSubstr("step budget"));
}

TEST(WhileNode, BreakOutsideALoopIsAnError) {
  EXPECT_EQ(error_code_of({node(R"J({"node": "BREAK"})J")}), "E214");
  EXPECT_EQ(error_code_of({node(R"J({"node": "CONTINUE"})J")}), "E214");
}

// ---- FOREACH

std::string foreach_log(const std::string& var, const std::string& type, const std::string& collection) {
  Json n{{"node", "FOREACH"}, {"variable", var}, {"type", type}, {"collection", collection}};
  n["children"] = Json::array({Json{{"node", "FUNCTION_CALL"}, {"function", "log:printInfo"},
                                    {"args", Json{{"msg", "string `${" + var + "}`"}}}}});
  return n.dump();
}

TEST(ForeachNode, GoesOverAListAMapsValuesAndItsKeys) {
  EXPECT_THAT(run_nodes({foreach_log("x", "string", "[\"a\", \"b\"]")}), ElementsAre("a", "b"));
  EXPECT_THAT(run_nodes({variable("m", "map<int>", "{b: 2, a: 1}"), foreach_log("v", "int", "m")}), ElementsAre("2", "1"));
  EXPECT_THAT(run_nodes({variable("m", "map<int>", "{b: 2, a: 1}"), foreach_log("k", "string", "m.keys()")}),
              ElementsAre("b", "a"));
}

TEST(ForeachNode, GoesOverRangesAndBytes) {
  EXPECT_THAT(run_nodes({foreach_log("i", "int", "1 ... 3")}), ElementsAre("1", "2", "3"));
  EXPECT_THAT(run_nodes({foreach_log("i", "int", "0 ..< 3")}), ElementsAre("0", "1", "2"));
  EXPECT_THAT(run_nodes({foreach_log("i", "int", "3 ..< 3")}), ElementsAre());
  EXPECT_THAT(run_nodes({foreach_log("b", "byte", "data")}, "AB"), ElementsAre("65", "66"));
}

TEST(ForeachNode, RefusesAVariableOfTheWrongTypeAndANonCollection) {
  EXPECT_EQ(error_code_of({foreach_log("x", "int", "[\"a\"]")}), "E208");
  EXPECT_EQ(error_code_of({foreach_log("x", "int", "42")}), "E208");
}

// ---- MATCH

std::string match_on(const std::string& target) {
  Json n = Json::parse(R"J({"node": "MATCH", "cases": [
      {"patterns": ["\"/who\""], "children": [{"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "\"who\""}}]},
      {"patterns": ["\"/quit\"", "\"/exit\""], "children": [{"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "\"quit\""}}]}],
    "default": [{"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "\"other\""}}]})J");
  n["target"] = target;
  return n.dump();
}

TEST(MatchNode, RunsTheFirstMatchingCaseOrTheDefault) {
  std::vector<std::string> pre = {node(R"J({"node": "VARIABLE", "variable": "s", "type": "string", "expression": "check string:fromBytes(data)"})J")};
  auto with = [&](const std::string& data) {
    auto ns = pre;
    ns.push_back(match_on("s"));
    return run_nodes(ns, data);
  };
  EXPECT_THAT(with("/who"), ElementsAre("who"));
  EXPECT_THAT(with("/exit"), ElementsAre("quit"));
  EXPECT_THAT(with("/nope"), ElementsAre("other"));
}

TEST(MatchNode, WildcardMatchesAnything) {
  EXPECT_THAT(run_nodes({node(R"J({"node": "MATCH", "target": "3", "cases": [
      {"patterns": ["1"], "children": [{"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "\"one\""}}]},
      {"patterns": ["_"], "children": [{"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "\"any\""}}]}]})J")}),
              ElementsAre("any"));
}

TEST(MatchNode, RefusesAPatternThatCanNeverMatch) {
  EXPECT_EQ(error_code_of({node(R"J({"node": "MATCH", "target": "3", "cases": [
      {"patterns": ["\"three\""], "children": []}]})J")}),
            "E208");
}

// ---- ERROR_HANDLER, FAIL

TEST(ErrorHandlerNode, CheckInsideTheDoBlockGoesToOnFailWithTheError) {
  EXPECT_THAT(run_nodes({node(R"J({"node": "ERROR_HANDLER", "children": [
        {"node": "VARIABLE", "variable": "n", "type": "int", "expression": "check int:fromString(\"x1\")"},
        {"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "\"not reached\""}}],
      "onFail": {"errorVariable": "e", "children": [
        {"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "e.message()"}}]}})J"),
                         log_info("\"after\"")}),
              ElementsAre("'x1' is not an int", "after"));
}

TEST(ErrorHandlerNode, SkipsOnFailWhenNothingFails) {
  EXPECT_THAT(run_nodes({node(R"J({"node": "ERROR_HANDLER", "children": [
        {"node": "VARIABLE", "variable": "n", "type": "int", "expression": "check int:fromString(\"12\")"},
        {"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "string `${n}`"}}],
      "onFail": {"errorVariable": "e", "children": [
        {"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "\"failed\""}}]}})J")}),
              ElementsAre("12"));
}

TEST(ErrorHandlerNode, FailInsideGoesToOnFailAndOutsideReturnsTheError) {
  EXPECT_THAT(run_nodes({node(R"J({"node": "ERROR_HANDLER", "children": [
        {"node": "FAIL", "expression": "error(\"boom\")"}],
      "onFail": {"errorVariable": "e", "children": [
        {"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "string `caught ${e.message()}`"}}]}})J")}),
              ElementsAre("caught boom"));
  EXPECT_THAT(run_nodes({node(R"J({"node": "FAIL", "id": "f", "expression": "error(\"out\")"})J")}), ElementsAre("ERROR: out"));
}

TEST(ErrorHandlerNode, ACheckInOnFailReturnsFromTheFunction) {
  EXPECT_THAT(run_nodes({node(R"J({"node": "ERROR_HANDLER", "children": [
        {"node": "FAIL", "expression": "error(\"first\")"}],
      "onFail": {"errorVariable": "e", "children": [
        {"node": "VARIABLE", "variable": "n", "type": "int", "expression": "check int:fromString(\"second\")"}]}})J")}),
              ElementsAre("ERROR: 'second' is not an int"));
}

TEST(LockNode, RunsItsChildren) {
  EXPECT_THAT(run_nodes({node(R"J({"node": "LOCK", "children": [
        {"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "\"locked\""}}]})J")}),
              ElementsAre("locked"));
}

// ---- module-level variables and flow functions

TEST(ModuleVariables, AreSharedByEveryConnectionsInstance) {
  Json flow = FlowBuilder({assign("count", "count + 1"), log_info("string `${count}`")}).json();
  flow["variables"] = Json::array({Json{{"name", "count"}, {"type", "int"}, {"expression", "10"}}});
  LoadResult r = load(flow.dump());
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_TRUE(r.program->has_module_state);
  Runner run(*r.program);
  run.instance = run.new_instance();
  run.on_bytes("");
  run.instance = run.new_instance();  // a second connection
  run.on_bytes("");
  EXPECT_THAT(run.host.messages(), ElementsAre("11", "12"));
}

TEST(ModuleVariables, ConfigurablesAloneAreNotModuleState) {
  LoadResult r = load(FlowBuilder({log_info("string `${port}`")}).configurable("port", "int", "3000").text());
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_FALSE(r.program->has_module_state);
}

Json with_functions(Json flow) {
  flow["functions"] = Json::parse(R"J([
    {"name": "fact", "parameters": [{"name": "n", "type": "int"}], "returnType": "int", "nodes": [
      {"node": "IF", "branches": [{"condition": "n <= 1", "children": [{"node": "RETURN", "expression": "1"}]}]},
      {"node": "RETURN", "expression": "n * fact(n - 1)"}]},
    {"name": "parse", "parameters": [{"name": "s", "type": "string"}], "returnType": "int|error", "nodes": [
      {"node": "RETURN", "expression": "check int:fromString(s) + 1"}]},
    {"name": "shout", "parameters": [{"name": "s", "type": "string"}], "nodes": [
      {"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "s.toUpperAscii()"}}]}
  ])J");
  return flow;
}

TEST(FlowFunctions, AreCalledFromExpressionsAndNodesAndMayRecurse) {
  Json flow = with_functions(FlowBuilder({log_info("string `${fact(5)}`"), call("shout", {{"s", "\"hi\""}}),
                                          node(R"J({"node": "VARIABLE", "variable": "p", "type": "int|error", "expression": "parse(\"41\")"})J"),
                                          log_info("string `${p is int ? p : -1}`")})
                                 .json());
  EXPECT_THAT(run_text(flow.dump()), ElementsAre("120", "HI", "42"));
}

TEST(FlowFunctions, ACheckInsideReturnsTheErrorToTheCaller) {
  Json flow = with_functions(FlowBuilder({node(R"J({"node": "VARIABLE", "variable": "p", "type": "int|error", "expression": "parse(\"x\")"})J"),
                                          log_info("string `${p is error ? p.message() : \"int\"}`")})
                                 .json());
  EXPECT_THAT(run_text(flow.dump()), ElementsAre("'x' is not an int"));
}

TEST(FlowFunctions, RefuseWrongArgumentsAndAMissingReturn) {
  Json bad_args = with_functions(FlowBuilder({log_info("string `${fact(\"5\")}`")}).json());
  EXPECT_THAT(error_codes(load(bad_args.dump())), ElementsAre("E208"));
  Json no_return = FlowBuilder({log_info("\"x\"")}).json();
  no_return["functions"] = Json::parse(R"J([{"name": "f", "returnType": "int", "nodes": []}])J");
  EXPECT_THAT(error_codes(load(no_return.dump())), ElementsAre("E212"));
}

// ---- list, map and string library

TEST(Library, ListMethods) {
  EXPECT_EQ(eval("[3, 1, 2].sort()", "int[]"), "[1,2,3]");
  EXPECT_EQ(eval("[\"b\", \"a\"].sort(\"descending\")", "string[]"), "[\"b\",\"a\"]");
  EXPECT_EQ(eval("[1, 2, 3].indexOf(2) ?: -1", "int"), "1");
  EXPECT_EQ(eval("[1, 2, 3].indexOf(9) ?: -1", "int"), "-1");
  EXPECT_EQ(eval("[1, 2, 3].reverse()", "int[]"), "[3,2,1]");
  EXPECT_THAT(run_nodes({variable("xs", "int[]", "[]"), call("array:push", {{"arr", "xs"}, {"value", "7"}}),
                         node(R"J({"node": "FUNCTION_CALL", "function": "array:push", "args": {"arr": "xs", "value": "8"}})J"),
                         variable("last", "int", "xs.pop()"), log_info("string `${xs.length()} ${last}`")}),
              ElementsAre("1 8"));
}

TEST(Library, PushChecksTheElementType) {
  EXPECT_EQ(error_code_of({variable("xs", "int[]", "[]"), call("array:push", {{"arr", "xs"}, {"value", "\"s\""}})}), "E208");
}

TEST(Library, MapMethods) {
  EXPECT_EQ(eval("{a: 1, b: 2}.keys()", "string[]"), "[\"a\",\"b\"]");
  EXPECT_EQ(eval("{a: 1}.hasKey(\"a\")", "boolean"), "true");
  EXPECT_EQ(eval("{a: 1, b: 2}.toArray()", "int[]"), "[1,2]");
  EXPECT_EQ(eval("{a: 1}.length()", "int"), "1");
  EXPECT_EQ(eval("{a: 1}.get(\"zz\")", "int"), "ERROR: map:get: the map has no key 'zz'");
  EXPECT_THAT(run_nodes({variable("m", "map<int>", "{a: 1, b: 2}"), variable("gone", "int", "m.remove(\"a\")"),
                         variable("none", "int?", "m.removeIfHasKey(\"zz\")"),
                         log_info("string `${gone} ${m.length()} ${none is () ? \"nil\" : \"?\"}`")}),
              ElementsAre("1 1 nil"));
}

TEST(Library, SplitsAndJoinsStrings) {
  EXPECT_EQ(eval("\"a,b,,c\".split(\",\")", "string[]"), "[\"a\",\"b\",\"\",\"c\"]");
  EXPECT_EQ(eval("string:join(\"-\", [\"x\", \"y\"])", "string"), "x-y");
  EXPECT_EQ(eval("\"abc\".split(\"\")", "string[]"), "ERROR: string:split: string:split needs a non-empty separator");
}

}  // namespace
}  // namespace flowd::test
