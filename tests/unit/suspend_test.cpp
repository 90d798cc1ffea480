// A handler that waits on the network: the interpreter suspends its fiber at NEW_CONNECTION and at a
// tcp:Client action, and resume() continues it where it stopped, with its locals, its nested frames
// and what is left of its step budget.
#include <gtest/gtest.h>

#include "unit/flow_harness.hpp"

namespace flowd::test {
namespace {

class FakeLink final : public ClientLink {
 public:
  std::string describe() const override { return "fake:1"; }
  void close() override { ++closes; }
  int closes = 0;
};

// onBytes: connect (check), send the data, read the answer in a flow function (a nested frame),
// count loop rounds around the wait, and write the answer back to the caller.
const char* kFlow = R"FLOW({
  "configurables": [ { "name": "upHost", "type": "string", "default": "\"up.example\"" } ],
  "listeners": [ { "name": "l", "kind": "tcp", "port": "0" } ],
  "services": [ { "listener": "l", "onConnect": { "nodes": [ { "node": "RETURN", "expression": "new S()" } ] } } ],
  "functions": [ { "name": "ask", "parameters": [ { "name": "c", "type": "tcp:Client" }, { "name": "q", "type": "byte[]" } ],
    "returnType": "byte[]|error",
    "nodes": [
      { "node": "REMOTE_ACTION_CALL", "connection": "c", "action": "writeBytes", "args": { "data": "q" }, "check": true },
      { "node": "REMOTE_ACTION_CALL", "connection": "c", "action": "readBytes", "variable": "a", "type": "byte[]", "check": true },
      { "node": "RETURN", "expression": "a" } ] } ],
  "classes": [ { "name": "S", "variables": [ { "name": "rounds", "type": "int", "default": "0" } ], "methods": {
    "onBytes": { "parameters": [ { "name": "caller", "type": "tcp:Caller" }, { "name": "data", "type": "byte[]" } ],
      "nodes": [
        { "node": "NEW_CONNECTION", "variable": "up", "type": "tcp:Client", "check": true,
          "remoteHost": "upHost", "remotePort": "7000", "timeout": "2.5" },
        { "node": "FOREACH", "variable": "i", "type": "int", "collection": "0 ..< 2", "children": [
          { "node": "FUNCTION_CALL", "function": "ask", "args": { "c": "up", "q": "data" },
            "variable": "answer", "type": "byte[]", "check": true },
          { "node": "ASSIGN", "variable": "self.rounds", "expression": "self.rounds + 1" },
          { "node": "REMOTE_ACTION_CALL", "connection": "caller", "action": "writeBytes", "args": { "data": "answer" } } ] },
        { "node": "REMOTE_ACTION_CALL", "connection": "up", "action": "close" } ] } } } ]
})FLOW";

TEST(Suspend, HandlerWaitsAtConnectAndReadAndResumesWithItsState) {
  auto r = load(kFlow);
  ASSERT_TRUE(r.ok()) << describe(r);
  Runner run(*r.program);
  ASSERT_FALSE(run.connect().panicked);
  auto link = std::make_shared<FakeLink>();
  std::vector<std::string> sent;
  int reads = 0;
  std::string host;
  std::int64_t port = 0;
  double timeout = 0;
  run.host.on_connect = [&](Value* args, Value&) {
    host = args[static_cast<int>(ConnectArg::RemoteHost)].str();
    port = args[static_cast<int>(ConnectArg::RemotePort)].as_int();
    timeout = args[static_cast<int>(ConnectArg::Timeout)].as_float();
    EXPECT_FALSE(args[static_cast<int>(ConnectArg::Secure)].as_bool());
    return false;  // wait
  };
  run.host.on_client_action = [&](ActionId id, Value* args, int, Value&) {
    if (id == ActionId::ClientWrite) {
      sent.emplace_back(args[1].str());
      return true;
    }
    if (id == ActionId::ClientRead) {
      ++reads;
      return false;  // wait
    }
    return true;  // close
  };
  RunOutcome o = run.on_bytes("ping");
  ASSERT_TRUE(o.suspended);
  EXPECT_EQ(host, "up.example");
  EXPECT_EQ(port, 7000);
  EXPECT_DOUBLE_EQ(timeout, 2.5);

  o = run.interp.resume(run.fiber, Value::adopt(ValueTag::Client, new ClientObj(link)));
  ASSERT_TRUE(o.suspended);  // now in readBytes, two frames deep
  EXPECT_EQ(sent, std::vector<std::string>{"ping"});
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(run.fiber.frames.size(), 2u);

  o = run.interp.resume(run.fiber, Value::bytes("pong 1"));
  ASSERT_TRUE(o.suspended);  // the second round's read
  EXPECT_EQ(run.conn->writes, std::vector<std::string>{"pong 1"});
  o = run.interp.resume(run.fiber, Value::bytes("pong 2"));
  ASSERT_FALSE(o.suspended);
  ASSERT_FALSE(o.panicked) << o.panic_message;
  EXPECT_EQ(run.conn->writes, (std::vector<std::string>{"pong 1", "pong 2"}));
  EXPECT_EQ(run.field("rounds").as_int(), 2);
  EXPECT_EQ(sent.size(), 2u);
}

TEST(Suspend, AnErrorResumedIntoACheckGoesToTheHandlersResult) {
  auto r = load(kFlow);
  ASSERT_TRUE(r.ok()) << describe(r);
  Runner run(*r.program);
  ASSERT_FALSE(run.connect().panicked);
  run.host.on_connect = [&](Value*, Value&) { return false; };
  RunOutcome o = run.on_bytes("ping");
  ASSERT_TRUE(o.suspended);
  o = run.interp.resume(run.fiber, make_error("cannot connect to up.example:7000: Connection refused"));
  ASSERT_FALSE(o.suspended);
  ASSERT_TRUE(o.value.is_error());
  EXPECT_EQ(o.value.as<ErrorObj>()->message, "cannot connect to up.example:7000: Connection refused");
}

TEST(Suspend, TheStepBudgetCountsAcrossWaits) {
  auto r = load(kFlow);
  ASSERT_TRUE(r.ok()) << describe(r);
  Runner run(*r.program);
  ASSERT_FALSE(run.connect().panicked);
  auto link = std::make_shared<FakeLink>();
  run.host.on_connect = [&](Value*, Value&) { return false; };
  run.host.on_client_action = [&](ActionId id, Value*, int, Value&) { return id != ActionId::ClientRead; };
  RunOutcome o = run.on_bytes("ping");
  ASSERT_TRUE(o.suspended);
  std::int64_t after_first = run.fiber.budget;
  EXPECT_LT(after_first, run.interp.step_budget);
  o = run.interp.resume(run.fiber, Value::adopt(ValueTag::Client, new ClientObj(link)));
  ASSERT_TRUE(o.suspended);
  EXPECT_LT(run.fiber.budget, after_first);  // not reset by the wait
}

TEST(Suspend, TheClientClosesWhenTheFlowNoLongerHoldsIt) {
  auto link = std::make_shared<FakeLink>();
  {
    Value v = Value::adopt(ValueTag::Client, new ClientObj(link));
    Value copy = v;
  }
  EXPECT_EQ(link->closes, 1);
}

TEST(Suspend, WithoutANetworkClientActionsAreErrors) {
  auto r = load(kFlow);
  ASSERT_TRUE(r.ok()) << describe(r);
  Runner run(*r.program);
  ASSERT_FALSE(run.connect().panicked);
  RunOutcome o = run.on_bytes("ping");
  ASSERT_FALSE(o.suspended);
  ASSERT_TRUE(o.value.is_error());
  EXPECT_EQ(o.value.as<ErrorObj>()->message, "tcp:Client connections are not available here");
}

}  // namespace
}  // namespace flowd::test
