// COMMENT: a note in the diagram; it is checked like any node but compiles to nothing.
#include <gtest/gtest.h>

#include <string>

#include "flow_harness.hpp"

namespace flowd::test {
namespace {

const char* kLog = R"({"node": "FUNCTION_CALL", "function": "log:printInfo", "args": {"msg": "\"hi\""}})";
const char* kComment = R"({"node": "COMMENT", "id": "c1", "label": "Note", "comment": "Say hello first."})";

std::size_t code_size(const Program& p) {
  std::size_t n = 0;
  for (const auto& f : p.functions) n += f.code.size();
  return n;
}

TEST(CommentNode, LoadsWithoutDiagnosticsAndEmitsNoCode) {
  LoadResult plain = load(FlowBuilder({kLog}).text());
  LoadResult commented = load(FlowBuilder({kComment, kLog, kComment}).text());
  ASSERT_TRUE(plain.ok()) << describe(plain);
  ASSERT_TRUE(commented.ok()) << describe(commented);
  EXPECT_TRUE(commented.diags.list().empty()) << describe(commented);
  EXPECT_EQ(code_size(*commented.program), code_size(*plain.program));
}

TEST(CommentNode, RunsAsIfItWereNotThere) {
  LoadResult r = load(FlowBuilder({kComment, kLog}).text());
  ASSERT_TRUE(r.ok()) << describe(r);
  Runner run(*r.program);
  RunOutcome o = run.on_bytes("x");
  EXPECT_FALSE(o.panicked) << o.panic_message;
  EXPECT_EQ(run.host.messages(), std::vector<std::string>{"hi"});
}

TEST(CommentNode, NeedsItsTextAsAString) {
  LoadResult missing = load(FlowBuilder({R"({"node": "COMMENT"})"}).text());
  const Diagnostic* d = single_error(missing);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E101");
  EXPECT_EQ(d->message, "missing field \"comment\"");

  LoadResult number = load(FlowBuilder({R"({"node": "COMMENT", "comment": 7})"}).text());
  d = single_error(number);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(diag_code(d->id), "E102");
}

}  // namespace
}  // namespace flowd::test
