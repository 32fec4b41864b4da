#include "control/auth/rate_limiter.hpp"

#include <algorithm>

#include "control/base/hash.hpp"

namespace tern::ctl {

SourceRateLimiter::SourceRateLimiter(uint32_t rate, uint32_t burst, uint32_t total_rate, size_t sources)
    : rate_(rate), burst_(std::max<uint32_t>(burst, 1)), total_rate_(total_rate) {
  size_t sets = 1;
  while (sets * kWays < sources) sets <<= 1;
  set_mask_ = sets - 1;
  buckets_.resize(sets * kWays);
}

void SourceRateLimiter::configure(uint32_t rate, uint32_t burst) {
  rate_ = rate;
  burst_ = std::max<uint32_t>(burst, 1);
  for (auto& b : buckets_) b.tokens = std::min(b.tokens, burst_);
}

uint32_t SourceRateLimiter::refilled(const Bucket& b, dp::TableTime now) const {
  const uint64_t elapsed = now > b.last ? now - b.last : 0;
  return static_cast<uint32_t>(std::min<uint64_t>(burst_, b.tokens + elapsed * rate_));
}

bool SourceRateLimiter::allow(const IpAddress& source, dp::TableTime now) {
  if (rate_ == 0) return true;
  if (total_rate_ != 0) {
    if (now != total_second_) {
      total_second_ = now;
      total_used_ = 0;
    }
    if (total_used_ >= total_rate_) return false;
  }
  Bucket* set = &buckets_[(IpAddressHash{}(source) & set_mask_) * kWays];
  Bucket* bucket = nullptr;
  for (size_t w = 0; w < kWays && bucket == nullptr; ++w)
    if (set[w].last != 0 && set[w].source == source) bucket = &set[w];
  if (bucket == nullptr) {
    // The idlest way: free, or the one that would hold the most tokens now, the least recently
    // used among equals.
    bucket = &set[0];
    uint32_t best = set[0].last == 0 ? burst_ + 1 : refilled(set[0], now);
    for (size_t w = 1; w < kWays; ++w) {
      const uint32_t t = set[w].last == 0 ? burst_ + 1 : refilled(set[w], now);
      if (t > best || (t == best && set[w].last < bucket->last)) {
        best = t;
        bucket = &set[w];
      }
    }
    *bucket = {source, now, burst_};
  } else {
    bucket->tokens = refilled(*bucket, now);
    bucket->last = now;
  }
  if (bucket->tokens == 0) return false;
  --bucket->tokens;
  ++total_used_;
  return true;
}

}  // namespace tern::ctl
