// Deadlines for the black-box tests: every wait in the tests is bounded by one of these.
#pragma once

#include <algorithm>
#include <chrono>

namespace flowd::test {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline constexpr std::chrono::milliseconds kDefaultTimeout{5000};

// Now + d.
inline Deadline deadline_in(std::chrono::milliseconds d) { return Clock::now() + d; }

// Milliseconds left until `deadline`, rounded up, clamped to [0, INT_MAX-ish]: suitable for poll().
inline int poll_timeout_ms(Deadline deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<long long>(ms, 1'000'000'000LL));
}

}  // namespace flowd::test
