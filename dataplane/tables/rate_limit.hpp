#pragma once
// `limits.max_bps` and `limits.allocation_pps`: two buckets per allocation and direction, in
// their virtual-scheduling form (GCRA, ITU-T I.371). A bucket is one 64-bit word holding the
// theoretical arrival time (TAT) in TSC ticks, so a packet is one compare-and-swap per bucket and
// the refill is implicit in the TSC moving on. A packet conforms when TAT <= now + tolerance; it
// then moves TAT to max(TAT, now) + its cost. That is a bucket `tolerance` ticks deep, refilled
// at the rate whose unit costs `ticks_per_unit_q16 >> 16` ticks.
//
// The rates are not in the slot: they are the workers' settings (worker_settings.hpp), the same
// for every allocation and replaced as a whole on reload, so a reload reaches live allocations
// without touching a slot. Only the TAT words are per allocation. A packet must conform to both
// rates; the packet rate is checked first, so a flood of small packets is refused before it costs
// the byte bucket anything, and a packet the byte rate refuses has used its place in the packet
// bucket (it was sent to us: a flooder over both rates gets no more packets through).
//
// Any worker may touch any bucket (RSS keeps one client on one queue, but peers' packets to a
// relayed address arrive on every queue), so the words are atomic.

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace tern::dp {

enum class Direction : uint8_t { to_peer = 0, to_client = 1 };

// Bucket depth: a tenth of a second of the rate (500 packets at the default 5,000 pps: a
// keyframe's burst passes, a flood does not).
inline constexpr uint64_t kRateBurstDivisor = 10;

// One rate, in TSC ticks. ticks_per_unit_q16 == 0: unlimited.
struct Rate {
  uint64_t ticks_per_unit_q16 = 0;  // TSC ticks per unit (byte, packet) << 16
  uint64_t tolerance = 0;           // ticks: the bucket's depth

  bool limited() const { return ticks_per_unit_q16 != 0; }

  // `units` per second on a TSC of tsc_hz; 0: unlimited.
  static Rate per_second(uint64_t units, uint64_t tsc_hz) {
    if (units == 0) return {};
    const unsigned __int128 q = (static_cast<unsigned __int128>(tsc_hz) << 16) / units;
    return {std::max<uint64_t>(static_cast<uint64_t>(std::min<unsigned __int128>(q, UINT64_MAX)), 1),
            tsc_hz / kRateBurstDivisor};
  }
  // max_bps: bits per second, counted in bytes.
  static Rate bits_per_second(uint64_t bps, uint64_t tsc_hz) {
    if (bps == 0) return {};
    const unsigned __int128 q = (static_cast<unsigned __int128>(tsc_hz) * 8u << 16) / bps;
    return {std::max<uint64_t>(static_cast<uint64_t>(std::min<unsigned __int128>(q, UINT64_MAX)), 1),
            tsc_hz / kRateBurstDivisor};
  }
  uint64_t cost(uint32_t units) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(units) * ticks_per_unit_q16) >> 16);
  }
};

// The rates every allocation is held to (WorkerSettings).
struct RateLimits {
  Rate bytes;    // limits.max_bps
  Rate packets;  // limits.allocation_pps

  bool any() const { return bytes.limited() || packets.limited(); }
};

// One rate's buckets for one allocation: a TAT word per direction. An allocation has two, in two
// arrays of the tables: packets (allocation_pps, on by default, so made with the first allocation)
// and bytes (max_bps, off by default, so made only when a max_bps is first published): a table
// that never limits bytes pays 16 bytes a slot, not 32. dp: rw (CAS), ctl: reset before the slot
// is published.
struct alignas(16) RateBuckets {
  std::atomic<uint64_t> tat[2] = {};  // [Direction]

  void reset() {
    for (auto& w : tat) w.store(0, std::memory_order_relaxed);
  }

  // Lock-free: whether `units` (1 packet, or its bytes) may pass in direction d at TSC `now` under
  // `rate` (they are then accounted for).
  bool take(Direction d, const Rate& rate, uint32_t units, uint64_t now) {
    std::atomic<uint64_t>& word = tat[static_cast<unsigned>(d)];
    const uint64_t cost = rate.cost(units);
    uint64_t t = word.load(std::memory_order_relaxed);
    for (;;) {
      if (t > now + rate.tolerance) return false;
      const uint64_t next = std::max(t, now) + cost;
      if (word.compare_exchange_weak(t, next, std::memory_order_relaxed)) return true;
    }
  }
};
static_assert(sizeof(RateBuckets) == 16);

}  // namespace tern::dp
