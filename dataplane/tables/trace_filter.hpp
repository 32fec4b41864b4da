#pragma once
// ternctl trace's filter: which address the workers record packets of (docs/ARCHITECTURE.md
// "Trace"). Written by the control lcore only (TraceHub), read by every worker once per burst
// with relaxed atomics: a worker may record a packet of the previous address for a burst after a
// change, which TraceHub::read_trace() discards.

#include <atomic>
#include <cstdint>

namespace tern::dp {

struct alignas(64) TraceFilter {
  static constexpr uint64_t kOn = 1ULL << 63;
  static constexpr uint64_t kIpv6 = 1ULL << 62;
  // dp: ro (once per burst), ctl: rw. 0: off; else kOn, kIpv6 for an IPv6 address, and an IPv4
  // address (network order) in the low 32 bits.
  std::atomic<uint64_t> state{0};
  // dp: ro, ctl: rw. The IPv6 address's bytes as two words, as they sit in memory.
  std::atomic<uint64_t> ipv6[2] = {};

  static uint64_t ipv4_state(uint32_t ip_be) { return kOn | ip_be; }
  static bool is_ipv4(uint64_t state) { return (state & kIpv6) == 0; }
  static uint32_t ipv4(uint64_t state) { return static_cast<uint32_t>(state); }
};

}  // namespace tern::dp
