#include "net/flow_lock.hpp"

#include <algorithm>

namespace flowd {

bool FlowLock::acquire(Waiter* who) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (!owner_ || owner_ == who) {
    owner_ = who;
    return true;
  }
  waiters_.push_back(who);
  who->lock_queued();
  return false;
}

void FlowLock::release(Waiter* who) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (owner_ != who) return;
  owner_ = nullptr;
  grant_next();
}

void FlowLock::forget(Waiter* who) {
  std::lock_guard<std::mutex> guard(mutex_);
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), who), waiters_.end());
  if (owner_ == who) {
    owner_ = nullptr;
    grant_next();
  }
}

void FlowLock::grant_next() {
  if (waiters_.empty()) return;
  owner_ = waiters_.front();
  waiters_.pop_front();
  owner_->lock_granted();
}

}  // namespace flowd
