// FlowLock: the flow's LOCK across network waits; one owner, waiters granted in arrival order.
#include <vector>

#include <gtest/gtest.h>

#include "net/flow_lock.hpp"

namespace flowd {
namespace {

struct Recorder final : FlowLock::Waiter {
  int queued = 0, granted = 0;
  void lock_queued() override { ++queued; }
  void lock_granted() override { ++granted; }
};

TEST(FlowLock, WaitersAreGrantedInArrivalOrder) {
  FlowLock lock;
  Recorder a, b, c;
  EXPECT_TRUE(lock.acquire(&a));
  EXPECT_TRUE(lock.acquire(&a)) << "the owner acquires again at once";
  EXPECT_FALSE(lock.acquire(&b));
  EXPECT_FALSE(lock.acquire(&c));
  EXPECT_EQ(b.queued + c.queued, 2);
  lock.release(&a);
  EXPECT_EQ(b.granted, 1);
  EXPECT_EQ(c.granted, 0);
  lock.release(&c);  // not the owner: nothing happens
  EXPECT_EQ(c.granted, 0);
  lock.release(&b);
  EXPECT_EQ(c.granted, 1);
}

TEST(FlowLock, AForgottenOwnerPassesTheLockOnAndAForgottenWaiterLeavesTheQueue) {
  FlowLock lock;
  Recorder a, b, c;
  EXPECT_TRUE(lock.acquire(&a));
  EXPECT_FALSE(lock.acquire(&b));
  EXPECT_FALSE(lock.acquire(&c));
  lock.forget(&b);
  lock.forget(&a);
  EXPECT_EQ(b.granted, 0);
  EXPECT_EQ(c.granted, 1);
}

}  // namespace
}  // namespace flowd
