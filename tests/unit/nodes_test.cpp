// The built-in node kinds, run in-process: VARIABLE, ASSIGN, IF, FUNCTION_CALL (and the log calls),
// REMOTE_ACTION_CALL (writeBytes, close), RETURN, and onConnect returning the connection instance.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "flow_harness.hpp"

namespace flowd::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

// Loads `b` (failing the test on diagnostics) and returns a runner for it.
struct Loaded {
  LoadResult result;
  std::unique_ptr<Runner> run;
};
Loaded load_ok(const FlowBuilder& b) {
  Loaded l{load(b.text()), nullptr};
  EXPECT_TRUE(l.result.ok()) << describe(l.result);
  if (l.result.ok()) l.run = std::make_unique<Runner>(*l.result.program);
  return l;
}

// Runs onBytes(data) and returns the logged messages (failing on a panic or an error return).
std::vector<std::string> run_messages(const FlowBuilder& b, const std::string& data = "") {
  Loaded l = load_ok(b);
  if (!l.run) return {"<load failed>"};
  RunOutcome o = l.run->on_bytes(data);
  EXPECT_FALSE(o.panicked) << o.panic_message;
  EXPECT_FALSE(o.value.is_error()) << to_display_string(o.value);
  return l.run->host.messages();
}

// ---- VARIABLE

TEST(VariableNode, DeclaresATypedVariable) {
  EXPECT_THAT(run_messages(FlowBuilder({variable("x", "int", "40 + 2"), log_info("string `${x}`")})),
              ElementsAre("42"));
}

TEST(VariableNode, InfersTheTypeWithVar) {
  EXPECT_THAT(run_messages(FlowBuilder({variable("s", "var", "\"a\" + \"b\""), log_info("s")})), ElementsAre("ab"));
}

TEST(VariableNode, ReadsEarlierVariables) {
  EXPECT_THAT(run_messages(FlowBuilder({variable("a", "int", "2"), variable("b", "int", "a * 10"),
                                        log_info("string `${a},${b}`")})),
              ElementsAre("2,20"));
}

TEST(VariableNode, StoresAnIntLiteralInAFloatVariable) {
  EXPECT_THAT(run_messages(FlowBuilder({variable("f", "float", "2"), log_info("string `${f}`")})), ElementsAre("2.0"));
}

TEST(VariableNode, DecodesTheReceivedBytes) {
  EXPECT_THAT(run_messages(FlowBuilder({variable("s", "string", "check string:fromBytes(data)"), log_info("s.trim()")}),
                           "  hi\r\n"),
              ElementsAre("hi"));
}

// ---- ASSIGN

TEST(AssignNode, UpdatesALocal) {
  EXPECT_THAT(run_messages(FlowBuilder({variable("x", "int", "1"), assign("x", "x + 1"), assign("x", "x * 10"),
                                        log_info("string `${x}`")})),
              ElementsAre("20"));
}

TEST(AssignNode, UpdatesAClassVariableThatOutlivesTheEvent) {
  Loaded l = load_ok(FlowBuilder({assign("self.count", "self.count + data.length()"),
                                  log_info("string `${self.count}`")})
                         .class_variable("count", "int", "0"));
  ASSERT_TRUE(l.run);
  l.run->on_bytes("abc");
  l.run->on_bytes("de");
  EXPECT_THAT(l.run->host.messages(), ElementsAre("3", "5"));
  EXPECT_EQ(l.run->field("count").as_int(), 5);
}

TEST(AssignNode, UpdatesListElementsAndMapEntries) {
  EXPECT_THAT(run_messages(FlowBuilder({variable("xs", "int[]", "[1, 2]"), assign("xs[0]", "9"), assign("xs[2]", "7"),
                                        variable("m", "map<string>", "{a: \"x\"}"), assign("m[\"b\"]", "\"y\""),
                                        log_info("string `${xs[0]} ${xs[2]} ${xs.length()} ${m[\"b\"] ?: \"-\"}`")})),
              ElementsAre("9 7 3 y"));
}

TEST(AssignNode, PanicsOnAListIndexPastTheEnd) {
  Loaded l = load_ok(FlowBuilder({variable("xs", "int[]", "[1]"), assign("xs[5]", "0", "a1")}));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->on_bytes("");
  EXPECT_TRUE(o.panicked);
  EXPECT_EQ(o.panic_message, "index 5 out of range for a list of length 1");
  EXPECT_EQ(l.run->site_id(o), "a1");
}

TEST(AssignNode, RefusesAListAliasedAsAWiderList) {
  // Lists and maps are invariant, so no alias can store a value of another type into them.
  LoadResult r = load(FlowBuilder({variable("s", "string[]", "[\"x\"]"), variable("t", "(string|int)[]", "s")}).text());
  ASSERT_EQ(r.diags.error_count(), 1) << describe(r);
  EXPECT_EQ(diag_code(r.diags.list()[0].id), "E208");
  LoadResult m = load(FlowBuilder({variable("mb", "map<byte>", "{a: 1}"), variable("mi", "map<int>", "mb")}).text());
  ASSERT_EQ(m.diags.error_count(), 1) << describe(m);
  EXPECT_EQ(diag_code(m.diags.list()[0].id), "E208");
}

TEST(AssignNode, RefusesToChangeAByteListElement) {
  LoadResult r = load(FlowBuilder({variable("b", "byte[]", "[1, 2]"), assign("b[0]", "65")}).text());
  ASSERT_EQ(r.diags.error_count(), 1) << describe(r);
  EXPECT_EQ(diag_code(r.diags.list()[0].id), "E210");
  EXPECT_EQ(r.diags.list()[0].pointer, std::string(kOnBytesNodes) + "/1/variable");
  EXPECT_EQ(r.diags.list()[0].message, "byte[] values cannot be changed: build a new list instead");
}




TEST(AssignNode, RefusesAValueOfTheWrongType) {
  LoadResult r = load(FlowBuilder({variable("x", "int", "1"), assign("x", "\"s\"")}).text());
  ASSERT_EQ(r.diags.error_count(), 1) << describe(r);
  EXPECT_EQ(diag_code(r.diags.list()[0].id), "E208");
  EXPECT_EQ(r.diags.list()[0].pointer, std::string(kOnBytesNodes) + "/1/expression");
}

// ---- IF

FlowBuilder grade_flow() {
  return FlowBuilder({variable("n", "int", "data.length()"),
                      if_node({{"n == 0", {log_info("\"empty\"")}},
                               {"n < 3", {log_info("\"short\"")}},
                               {"n < 6", {log_info("\"medium\"")}}},
                              std::vector<std::string>{log_info("\"long\"")}),
                      log_info("\"after\"")});
}

TEST(IfNode, RunsTheFirstBranchWhoseConditionHolds) {
  EXPECT_THAT(run_messages(grade_flow(), ""), ElementsAre("empty", "after"));
  EXPECT_THAT(run_messages(grade_flow(), "ab"), ElementsAre("short", "after"));
  EXPECT_THAT(run_messages(grade_flow(), "abcd"), ElementsAre("medium", "after"));
}

TEST(IfNode, RunsElseWhenNoConditionHolds) {
  EXPECT_THAT(run_messages(grade_flow(), "abcdefgh"), ElementsAre("long", "after"));
}

TEST(IfNode, SkipsEverythingWithoutElse) {
  EXPECT_THAT(run_messages(FlowBuilder({if_node({{"false", {log_info("\"no\"")}}}), log_info("\"after\"")})),
              ElementsAre("after"));
}

TEST(IfNode, ScopesVariablesToTheirBranch) {
  LoadResult r = load(FlowBuilder({if_node({{"true", {variable("x", "int", "1")}}}), log_info("string `${x}`")}).text());
  ASSERT_EQ(r.diags.error_count(), 1) << describe(r);
  EXPECT_EQ(diag_code(r.diags.list()[0].id), "E202");
}

FlowBuilder parse_flow() {
  return FlowBuilder({variable("s", "string", "check string:fromBytes(data)"),
                      call("int:fromString", {{"s", "s.trim()"}}, "n", "int|error"),
                      if_node({{"n is error", {log_info("\"not a number\"", {{"reason", "n.message()"}})}}},
                              std::vector<std::string>{log_info("string `double ${n * 2}`")})});
}

TEST(IfNode, NarrowsAnErrorUnionInEachBranch) {
  EXPECT_THAT(run_messages(parse_flow(), "21\n"), ElementsAre("double 42"));
  Loaded l = load_ok(parse_flow());
  ASSERT_TRUE(l.run);
  l.run->on_bytes("x");
  ASSERT_EQ(l.run->host.entries.size(), 1u);
  EXPECT_EQ(l.run->host.entries[0].message, "not a number");
  EXPECT_THAT(l.run->host.entries[0].values, ElementsAre(Pair("reason", "'x' is not an int")));
}

TEST(IfNode, NarrowsInLaterElseIfBranches) {
  LoadResult r = load(FlowBuilder({call("int:fromString", {{"s", "\"5\""}}, "n", "int|error"),
                                   if_node({{"n is error", {}}, {"n > 3", {log_info("\"big\"")}}})})
                          .text());
  EXPECT_TRUE(r.ok()) << describe(r);
}

TEST(IfNode, NarrowsAfterAGuardThatReturns) {
  FlowBuilder b({call("int:fromString", {{"s", "check string:fromBytes(data)"}}, "n", "int|error"),
                 if_node({{"n is error", {return_node("n")}}}), variable("m", "int", "n + 1"),
                 log_info("string `${m}`")});
  EXPECT_THAT(run_messages(b, "41"), ElementsAre("42"));
  Loaded l = load_ok(b);
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->on_bytes("x");
  ASSERT_TRUE(o.value.is_error());
  EXPECT_EQ(o.value.as<ErrorObj>()->message, "'x' is not an int");
}

TEST(IfNode, RestoresTheDeclaredTypeAfterAnIfThatMayFallThrough) {
  LoadResult r = load(FlowBuilder({call("int:fromString", {{"s", "\"5\""}}, "n", "int|error"),
                                   if_node({{"n is error", {log_info("\"bad\"")}}}), variable("m", "int", "n + 1")})
                          .text());
  ASSERT_EQ(r.diags.error_count(), 1) << describe(r);
  EXPECT_EQ(diag_code(r.diags.list()[0].id), "E208");
  EXPECT_EQ(r.diags.list()[0].message, "operator '+' is not defined for int|error and int");
}

TEST(IfNode, DoesNotNarrowAfterAGuardWithElse) {
  LoadResult r = load(FlowBuilder({call("int:fromString", {{"s", "\"5\""}}, "n", "int|error"),
                                   if_node({{"n is error", {return_node()}}}, std::vector<std::string>{log_info("\"ok\"")}),
                                   variable("m", "int", "n + 1")})
                          .text());
  ASSERT_EQ(r.diags.error_count(), 1) << describe(r);
  EXPECT_EQ(diag_code(r.diags.list()[0].id), "E208");
}

// ---- FUNCTION_CALL

TEST(FunctionCallNode, BindsTheResultToAVariable) {
  EXPECT_THAT(run_messages(FlowBuilder({call("string:toUpperAscii", {{"s", "\"abc\""}}, "u", "string"), log_info("u")})),
              ElementsAre("ABC"));
}

TEST(FunctionCallNode, ReturnsTheErrorWithCheckFromTheNode) {
  Loaded l = load_ok(FlowBuilder({call("string:fromBytes", {{"bytes", "data"}}, "s", "string", true, "b1"),
                                  log_info("s", {}, "b2")}));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->on_bytes("\xff");
  EXPECT_FALSE(o.panicked);
  ASSERT_TRUE(o.value.is_error());
  EXPECT_EQ(o.value.as<ErrorObj>()->message, "invalid UTF-8 sequence at byte offset 0 of 1");
  EXPECT_EQ(l.run->site_id(o), "b1");
  const SourceSite& site = l.run->program().sites.at(o.site);
  EXPECT_EQ(site.kind, "FUNCTION_CALL");
  EXPECT_EQ(site.pointer, std::string(kOnBytesNodes) + "/0");
  EXPECT_GT(site.line, 0);
  EXPECT_THAT(l.run->host.entries, IsEmpty());
}

TEST(FunctionCallNode, ContinuesWithTheValueWhenCheckSucceeds) {
  Loaded l = load_ok(FlowBuilder({call("string:fromBytes", {{"bytes", "data"}}, "s", "string", true, "b1"),
                                  log_info("s", {}, "b2")}));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->on_bytes("ok");
  EXPECT_TRUE(o.value.is_nil());
  EXPECT_THAT(l.run->host.messages(), ElementsAre("ok"));
}

TEST(FunctionCallNode, KeepsAnErrorInAUnionVariable) {
  EXPECT_THAT(run_messages(FlowBuilder({call("string:fromBytes", {{"bytes", "data"}}, "s", "string|error"),
                                        log_info("string `${s is error}`")}),
                           "\xff"),
              ElementsAre("true"));
}

TEST(FunctionCallNode, DropsAResultWithoutVariable) {
  EXPECT_THAT(run_messages(FlowBuilder({call("string:trim", {{"s", "\" a \""}}), log_info("\"done\"")})),
              ElementsAre("done"));
}

// ---- log:print*

TEST(LogCallNode, LogsAtEachLevel) {
  Loaded l = load_ok(FlowBuilder({log_call("log:printDebug", "\"d\""), log_call("log:printInfo", "\"i\""),
                                  log_call("log:printWarn", "\"w\""), log_call("log:printError", "\"e\"")}));
  ASSERT_TRUE(l.run);
  l.run->on_bytes("");
  const auto& es = l.run->host.entries;
  ASSERT_EQ(es.size(), 4u);
  EXPECT_EQ(es[0].level, LogLevel::Debug);
  EXPECT_EQ(es[0].message, "d");
  EXPECT_EQ(es[1].level, LogLevel::Info);
  EXPECT_EQ(es[2].level, LogLevel::Warn);
  EXPECT_EQ(es[3].level, LogLevel::Error);
  EXPECT_EQ(es[3].message, "e");
}

TEST(LogCallNode, TurnsExtraNamedArgumentsIntoKeyValuesInOrder) {
  Loaded l = load_ok(FlowBuilder({log_info("\"received\"", {{"bytes", "data.length()"},
                                                            {"user", "\"bob\""},
                                                            {"ok", "true"},
                                                            {"ratio", "0.5"},
                                                            {"nothing", "()"}})}));
  ASSERT_TRUE(l.run);
  l.run->on_bytes("abcd");
  ASSERT_EQ(l.run->host.entries.size(), 1u);
  const auto& e = l.run->host.entries[0];
  EXPECT_EQ(e.message, "received");
  EXPECT_FALSE(e.has_error);
  EXPECT_THAT(e.values, ElementsAre(Pair("bytes", "4"), Pair("user", "bob"), Pair("ok", "true"), Pair("ratio", "0.5"),
                                    Pair("nothing", "()")));
}

TEST(LogCallNode, PassesTheErrorArgument) {
  Loaded l = load_ok(FlowBuilder({log_call("log:printError", "\"failed\"", {{"error", "error(\"disk full\")"}, {"code", "7"}})}));
  ASSERT_TRUE(l.run);
  l.run->on_bytes("");
  ASSERT_EQ(l.run->host.entries.size(), 1u);
  const auto& e = l.run->host.entries[0];
  EXPECT_EQ(e.level, LogLevel::Error);
  EXPECT_TRUE(e.has_error);
  EXPECT_EQ(e.error, "disk full");
  EXPECT_THAT(e.values, ElementsAre(Pair("code", "7")));
}

TEST(LogCallNode, LogsTheErrorOfOnError) {
  Loaded l = load_ok(FlowBuilder().on_error({log_call("log:printError", "\"Connection error\"", {{"error", "err"}})}));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->on_error(make_error("reset"));
  EXPECT_FALSE(o.panicked);
  ASSERT_EQ(l.run->host.entries.size(), 1u);
  EXPECT_EQ(l.run->host.entries[0].message, "Connection error");
  EXPECT_EQ(l.run->host.entries[0].error, "reset");
}

TEST(LogCallNode, RefusesANonStringMessage) {
  LoadResult r = load(FlowBuilder({log_info("42")}).text());
  ASSERT_EQ(r.diags.error_count(), 1) << describe(r);
  EXPECT_EQ(diag_code(r.diags.list()[0].id), "E208");
  EXPECT_EQ(r.diags.list()[0].message, "the \"msg\" argument must be string, but this is int (use .toString())");
}

// ---- REMOTE_ACTION_CALL

TEST(RemoteActionCallNode, WritesBytesInOrder) {
  Loaded l = load_ok(FlowBuilder({write_bytes("\"one\".toBytes()"), write_bytes("data"),
                                  write_bytes("string `three ${data.length()}`.toBytes()")}));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->on_bytes("two");
  EXPECT_FALSE(o.panicked) << o.panic_message;
  EXPECT_TRUE(o.value.is_nil());
  EXPECT_THAT(l.run->conn->writes, ElementsAre("one", "two", "three 3"));
  EXPECT_EQ(l.run->conn->close_calls, 0);
}

TEST(RemoteActionCallNode, ClosesTheConnection) {
  Loaded l = load_ok(FlowBuilder({write_bytes("\"bye\".toBytes()"), close_action()}));
  ASSERT_TRUE(l.run);
  l.run->on_bytes("");
  EXPECT_THAT(l.run->conn->writes, ElementsAre("bye"));
  EXPECT_EQ(l.run->conn->close_calls, 1);
}

TEST(RemoteActionCallNode, GivesAnErrorValueWhenTheWriteFails) {
  Loaded l = load_ok(FlowBuilder({write_bytes("data", "caller", "e", "error?"),
                                  if_node({{"e is error", {log_info("\"write failed\"", {{"why", "e.message()"}})}}})}));
  ASSERT_TRUE(l.run);
  l.run->conn->fail_writes = true;
  RunOutcome o = l.run->on_bytes("x");
  EXPECT_FALSE(o.panicked);
  EXPECT_TRUE(o.value.is_nil());
  EXPECT_THAT(l.run->conn->writes, IsEmpty());
  ASSERT_EQ(l.run->host.entries.size(), 1u);
  EXPECT_EQ(l.run->host.entries[0].message, "write failed");
  EXPECT_THAT(l.run->host.entries[0].values, ElementsAre(Pair("why", "connection reset by peer")));
}

TEST(RemoteActionCallNode, GivesAnErrorValueWhenTheConnectionIsGone) {
  Loaded l = load_ok(FlowBuilder({write_bytes("data", "caller", "e", "error?"), log_info("string `${e is error}`"),
                                  close_action()}));
  ASSERT_TRUE(l.run);
  l.run->conn.reset();  // the caller's weak_ptr expires
  RunOutcome o = l.run->on_bytes("x");
  EXPECT_FALSE(o.panicked) << o.panic_message;
  EXPECT_TRUE(o.value.is_nil());
  EXPECT_THAT(l.run->host.messages(), ElementsAre("true"));
}

TEST(RemoteActionCallNode, ReportsTheWriteErrorMessageOfAClosedConnection) {
  Loaded l = load_ok(FlowBuilder({write_bytes("data", "caller", "e", "error?"),
                                  if_node({{"e is error", {log_info("e.message()")}}})}));
  ASSERT_TRUE(l.run);
  l.run->conn.reset();
  l.run->on_bytes("x");
  EXPECT_THAT(l.run->host.messages(), ElementsAre("Socket connection already closed."));
}

TEST(RemoteActionCallNode, ReturnsTheWriteErrorWithCheck) {
  Json node = Json::parse(write_bytes("data", "caller", "", "", "w1"));
  node["check"] = true;
  Loaded l = load_ok(FlowBuilder({node.dump(), log_info("\"after\"")}));
  ASSERT_TRUE(l.run);
  l.run->conn->fail_writes = true;
  RunOutcome o = l.run->on_bytes("x");
  ASSERT_TRUE(o.value.is_error());
  EXPECT_EQ(o.value.as<ErrorObj>()->message, "connection reset by peer");
  EXPECT_EQ(l.run->site_id(o), "w1");
  EXPECT_THAT(l.run->host.entries, IsEmpty());
}

TEST(RemoteActionCallNode, WritesThroughTheCallerOfOnConnect) {
  Loaded l = load_ok(FlowBuilder().on_connect({write_bytes("\"welcome\".toBytes()"), return_node("new C()")}));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->connect();
  EXPECT_FALSE(o.panicked);
  EXPECT_THAT(l.run->conn->writes, ElementsAre("welcome"));
}

// ---- RETURN

TEST(ReturnNode, ReturnsBytesFromOnBytes) {
  Loaded l = load_ok(FlowBuilder({return_node("string `echo: ${check string:fromBytes(data)}`.toBytes()", "r1"),
                                  }));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->on_bytes("hi");
  EXPECT_FALSE(o.panicked);
  ASSERT_EQ(o.value.tag(), ValueTag::Bytes);
  EXPECT_EQ(o.value.str(), "echo: hi");
  EXPECT_EQ(l.run->site_id(o), "r1");
}

TEST(ReturnNode, EndsTheHandlerWithoutAValue) {
  Loaded l = load_ok(FlowBuilder({if_node({{"data.length() == 0", {return_node(std::nullopt, "r0")}}}),
                                  log_info("\"not empty\"")}));
  ASSERT_TRUE(l.run);
  RunOutcome empty = l.run->on_bytes("");
  EXPECT_TRUE(empty.value.is_nil());
  EXPECT_EQ(l.run->site_id(empty), "r0");
  EXPECT_THAT(l.run->host.entries, IsEmpty());
  l.run->on_bytes("x");
  EXPECT_THAT(l.run->host.messages(), ElementsAre("not empty"));
}

TEST(ReturnNode, ReturnsAnErrorValue) {
  Loaded l = load_ok(FlowBuilder({return_node("error(\"bad input\")")}));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->on_bytes("");
  EXPECT_FALSE(o.panicked);
  ASSERT_TRUE(o.value.is_error());
  EXPECT_EQ(o.value.as<ErrorObj>()->message, "bad input");
}

// ---- onConnect

TEST(OnConnect, ReturnsANewInstanceWithItsDefaults) {
  Loaded l = load_ok(FlowBuilder({log_info("string `${self.name}:${self.count}:${self.ratio}`")})
                         .class_variable("name", "string", "\"anon\"")
                         .class_variable("count", "int", "2 * 21")
                         .class_variable("ratio", "float", "1"));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->connect();
  EXPECT_FALSE(o.panicked) << o.panic_message;
  ASSERT_EQ(o.value.tag(), ValueTag::Object);
  EXPECT_EQ(o.value.as<InstanceObj>()->cls->name, "C");
  EXPECT_EQ(l.run->field("name").str(), "anon");
  EXPECT_EQ(l.run->field("count").as_int(), 42);
  l.run->on_bytes("");
  EXPECT_THAT(l.run->host.messages(), ElementsAre("anon:42:1.0"));
}

TEST(OnConnect, KeepsConstantDefaultsInTheTemplateAndComputesTheRest) {
  LoadResult r = load(FlowBuilder().class_variable("a", "string", "\"x\"").class_variable("b", "int", "1 + 1").text());
  ASSERT_TRUE(r.ok()) << describe(r);
  const ClassInfo& c = r.program->classes[0];
  ASSERT_EQ(c.field_template.size(), 2u);
  EXPECT_EQ(c.field_template[0].str(), "x");
  EXPECT_TRUE(c.field_template[1].is_nil());
  ASSERT_NE(c.init, nullptr);
  LoadResult constant_only = load(FlowBuilder().class_variable("a", "int", "7").text());
  ASSERT_TRUE(constant_only.ok());
  EXPECT_EQ(constant_only.program->classes[0].init, nullptr);
  EXPECT_EQ(constant_only.program->classes[0].field_template[0].as_int(), 7);
}

TEST(OnConnect, GivesEachConnectionItsOwnInstance) {
  Loaded l = load_ok(FlowBuilder({assign("self.n", "self.n + 1")}).class_variable("n", "int", "0"));
  ASSERT_TRUE(l.run);
  l.run->connect();
  Value first = l.run->instance;
  l.run->on_bytes("");
  l.run->connect();
  EXPECT_NE(first.heap(), l.run->instance.heap());
  EXPECT_EQ(l.run->field("n").as_int(), 0);
  EXPECT_EQ(first.as<InstanceObj>()->fields[0].as_int(), 1);
}

TEST(OnConnect, CanRefuseAConnectionWithAnError) {
  Loaded l = load_ok(FlowBuilder().on_connect(
      {if_node({{"caller.remoteHost == \"127.0.0.1\"", {return_node("error(\"local clients are refused\")")}}}),
       return_node("new C()")}));
  ASSERT_TRUE(l.run);
  RunOutcome o = l.run->connect();
  ASSERT_TRUE(o.value.is_error());
  EXPECT_EQ(o.value.as<ErrorObj>()->message, "local clients are refused");
}

TEST(OnClose, RunsWithTheInstance) {
  Loaded l = load_ok(FlowBuilder().class_variable("name", "string", "\"ann\"").on_close({log_info("string `${self.name} left`")}));
  ASSERT_TRUE(l.run);
  l.run->connect();
  RunOutcome o = l.run->on_close();
  EXPECT_FALSE(o.panicked);
  EXPECT_THAT(l.run->host.messages(), ElementsAre("ann left"));
}

// ---- the chat flow, in-process

TEST(ChatFlow, WelcomesThenEchoes) {
  LoadResult r = load_flow_file(std::string(FLOWD_SOURCE_DIR) + "/flows/chat.json", builtin_registry());
  ASSERT_TRUE(r.ok()) << describe(r);
  Runner run(*r.program);
  run.connect();
  run.on_bytes("ann\n");
  run.on_bytes(" hello ");
  EXPECT_THAT(run.conn->writes, ElementsAre("Enter your username: ", "Welcome ann! Enter your message:",
                                            "Sent: hello. Enter your next message:"));
  EXPECT_THAT(run.host.messages(), ElementsAre("ann connected", "Welcome ann", "ann: hello"));
  RunOutcome bad = run.on_bytes("\xc3");
  ASSERT_TRUE(bad.value.is_error());
  EXPECT_EQ(run.site_id(bad), "b1");
}

}  // namespace
}  // namespace flowd::test
