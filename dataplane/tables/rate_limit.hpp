#pragma once
// `limits.max_bps`: a token bucket per allocation and direction, in its virtual-scheduling form
// (GCRA, ITU-T I.371): one 64-bit word per bucket holds the theoretical arrival time (TAT) in TSC
// ticks, so a packet is one compare-and-swap and the refill is implicit in the TSC moving on.
// A packet conforms when TAT <= now + tolerance; it then moves TAT to max(TAT, now) + its cost.
// That is a bucket of depth `tolerance` ticks' worth of bytes, refilled at max_bps.
//
// Any worker may touch any bucket (RSS keeps one client on one queue, but peers' packets to a
// relayed address arrive on every queue), so the word is atomic; it is touched only for
// allocations flagged kRateLimited.

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace tern::dp {

enum class Direction : uint8_t { to_peer = 0, to_client = 1 };

inline constexpr uint64_t kRateBurstDivisor = 10;  // bucket depth: a tenth of a second of max_bps

struct alignas(32) RateLimit {
  std::atomic<uint64_t> tat[2] = {};  // dp: rw (CAS), ctl: reset before publish
  uint64_t ticks_per_byte_q16 = 0;    // dp: ro, ctl: rw before publish. TSC ticks per byte << 16
  uint64_t tolerance = 0;             // dp: ro, ctl: rw before publish. ticks

  // Setup for max_bps bits per second on a TSC of tsc_hz.
  void configure(uint64_t max_bps, uint64_t tsc_hz) {
    const unsigned __int128 q = (static_cast<unsigned __int128>(tsc_hz) * 8u << 16) /
                                std::max<uint64_t>(max_bps, 1);
    ticks_per_byte_q16 = static_cast<uint64_t>(std::min<unsigned __int128>(q, UINT64_MAX));
    tolerance = tsc_hz / kRateBurstDivisor;
    tat[0].store(0, std::memory_order_relaxed);
    tat[1].store(0, std::memory_order_relaxed);
  }

  // Lock-free: true when `bytes` may pass at TSC `now` (they are then accounted for).
  bool conforms(Direction d, uint32_t bytes, uint64_t now) {
    const uint64_t cost =
        static_cast<uint64_t>((static_cast<unsigned __int128>(bytes) * ticks_per_byte_q16) >> 16);
    std::atomic<uint64_t>& word = tat[static_cast<unsigned>(d)];
    uint64_t t = word.load(std::memory_order_relaxed);
    for (;;) {
      if (t > now + tolerance) return false;
      const uint64_t next = std::max(t, now) + cost;
      if (word.compare_exchange_weak(t, next, std::memory_order_relaxed)) return true;
    }
  }
};
static_assert(sizeof(RateLimit) == 32);

}  // namespace tern::dp
