// The flow's LOCK, held across network waits: one handler run owns it, the others wait for it in
// arrival order, whatever thread they run on.
#pragma once
#include <deque>
#include <mutex>

namespace flowd {

class FlowLock {
 public:
  // A handler run that may wait for the lock.
  class Waiter {
   public:
    // Queued behind the owner (under the lock's mutex).
    virtual void lock_queued() = 0;
    // The lock is now this waiter's (called on any thread, under the lock's mutex): resume the handler
    // on its own thread.
    virtual void lock_granted() = 0;

   protected:
    ~Waiter() = default;
  };

  // True when `who` holds the lock now; false when it is queued (lock_granted() follows).
  bool acquire(Waiter* who);
  void release(Waiter* who);
  // A closing connection gives up the lock, or its place in the queue for it.
  void forget(Waiter* who);

 private:
  void grant_next();  // with mutex_ held

  std::mutex mutex_;
  Waiter* owner_ = nullptr;
  std::deque<Waiter*> waiters_;
};

}  // namespace flowd
