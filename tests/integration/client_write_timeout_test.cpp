// A tcp:Client writeBytes that the server does not take is bounded by the client's writeTimeout:
// tests/flows/write_timeout.json writes 16 MiB to a sink that accepts and never reads, with
// writeTimeout 0.5, and reports the error to its own client as an ERR line.

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/line_client.hpp"
#include "support/test_upstream.hpp"

namespace flowd::test {
namespace {

using namespace std::chrono_literals;

TEST(ClientWriteTimeout, AServerThatDoesNotReadFailsTheWriteAfterWriteTimeout) {
  // A listening socket nobody accepts from or reads: the kernel queues the bytes up to its buffers,
  // then the writer must wait.
  TestUpstream sink;
  FlowdProcess flowd;
  flowd.start(std::string(FLOWD_SOURCE_DIR) + "/tests/flows/write_timeout.json",
              {"-Cport=0", "-CsinkPort=" + std::to_string(sink.port())});
  LineClient client(flowd.port());
  ASSERT_TRUE(client.connected());
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send_line("go"));
  auto line = client.read_line(deadline_in(10s));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(line) << flowd.log_tail();
  EXPECT_EQ(*line, "ERR Write timed out after 0.5 s sending to 127.0.0.1:" + std::to_string(sink.port()) +
                       " (the client's writeTimeout)");
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 3s);
  // The connection that saw the failure goes on working.
  ASSERT_TRUE(client.send_line("again"));
  line = client.read_line(deadline_in(10s));
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("Write timed out"), std::string::npos);
}

}  // namespace
}  // namespace flowd::test
