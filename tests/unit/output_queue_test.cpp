// OutputQueue: bytes queued for one socket, gathered from the front and consumed as the socket takes them.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/output_queue.hpp"

namespace flowd {
namespace {

std::string gathered(const OutputQueue& q) {
  std::vector<boost::asio::const_buffer> bufs;
  q.gather(bufs);
  std::string out;
  for (const auto& b : bufs) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

TEST(OutputQueue, PartialSendsResumeInsideTheFirstBuffer) {
  OutputQueue q;
  q.push(Value::bytes("hello "));
  q.push(Value::bytes("world"));
  EXPECT_EQ(q.bytes(), 11u);
  q.consume(3);
  EXPECT_EQ(gathered(q), "lo world");
  EXPECT_EQ(q.bytes(), 8u);
  q.consume(4);  // the rest of the first and one byte of the second
  EXPECT_EQ(gathered(q), "orld");
  q.consume(4);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(OutputQueue, GatherTakesAtMostMaxGatherBuffers) {
  OutputQueue q;
  for (int i = 0; i < 40; ++i) q.push(Value::bytes("x"));
  std::vector<boost::asio::const_buffer> bufs;
  q.gather(bufs);
  EXPECT_EQ(bufs.size(), OutputQueue::kMaxGather);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

}  // namespace
}  // namespace flowd
