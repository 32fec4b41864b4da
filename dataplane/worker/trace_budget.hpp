#pragma once
// How many trace records a worker may write: kTraceRate a second, bursts of kTraceBurst
// (contract/trace.hpp); the rest is counted as suppressed.

#include <algorithm>
#include <cstdint>

namespace tern::dp {

// A worker's record budget: a token bucket in its virtual-scheduling form (tables/rate_limit.hpp), one
// writer, plain integers.
class TraceBudget {
 public:
  TraceBudget() = default;
  TraceBudget(uint64_t tsc_hz, uint32_t rate, uint32_t burst)
      : cost_(tsc_hz / std::max<uint32_t>(rate, 1)), tolerance_(cost_ * burst) {}
  bool take(uint64_t tsc) {
    if (tat_ > tsc + tolerance_) return false;
    tat_ = std::max(tat_, tsc) + cost_;
    return true;
  }

 private:
  uint64_t tat_ = 0;
  uint64_t cost_ = 0;
  uint64_t tolerance_ = 0;
};

}  // namespace tern::dp
