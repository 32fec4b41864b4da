#pragma once
// The machinery behind Tracing (trace.hpp): the filter every worker reads once per burst, the
// workers' record rings (one per worker, SP/SC, TraceRecord elements), and the control lcore's
// own records (the data plane's control side and the control plane, both on the control lcore).
//
// The filter is written by the control lcore only and read by workers without synchronisation
// beyond relaxed atomics: a worker may record a packet of the previous address for a burst after
// a change, which read_trace() discards (it checks every record against the current address).

#include <rte_byteorder.h>
#include <rte_ring.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "dataplane/tables/clock.hpp"
#include "dataplane/contract/counters.hpp"
#include "dataplane/contract/trace.hpp"

namespace tern::dp {

inline constexpr unsigned kTraceRingSize = 1024;        // records per worker ring
inline constexpr size_t kControlTraceRecords = 1024;    // the control lcore's own, unread

// A record's address from network-order fields.
inline TransportAddress trace_address(uint32_t ip_be, uint16_t port_be) {
  return {IpAddress::v4(rte_be_to_cpu_32(ip_be)), Port{rte_be_to_cpu_16(port_be)}};
}

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

// A worker's record budget: a token bucket in its virtual-scheduling form (rate_limit.hpp), one
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

class TraceHub final : public Tracing {
 public:
  // rings: the workers' (nullptr entries allowed: a worker without one). Records carry the TSC
  // until read_trace() turns it into time_ns.
  TraceHub(std::vector<rte_ring*> rings, const Clock& clock);
  // Each worker's counters, for trace_suppressed() (the workers are made after the hub).
  void set_worker_counters(std::vector<const WorkerCounters*> counters) {
    counters_ = std::move(counters);
  }

  const TraceFilter& filter() const { return filter_; }

  void set_trace(const std::optional<IpAddress>& address) override;
  std::optional<IpAddress> trace_address() const override { return address_; }
  size_t read_trace(std::span<TraceRecord> out) override;
  void append_trace(const TraceRecord& record) override;
  uint64_t trace_suppressed() const override;

  // The control lcore's side: is a trace running, does it concern a record? Then record() it
  // (time_ns = the TSC now).
  bool active() const { return address_.has_value(); }
  bool traces(const TraceRecord& r) const {
    return address_ && (r.from.ip == *address_ || r.to.ip == *address_ ||
                        (has_next(r) && r.next.ip == *address_));
  }
  void record(const TraceRecord& record);

 private:
  std::vector<rte_ring*> rings_;
  std::vector<const WorkerCounters*> counters_;
  const Clock& clock_;
  TraceFilter filter_;
  std::optional<IpAddress> address_;
  std::deque<TraceRecord> control_;  // at most kControlTraceRecords
  TraceBudget control_budget_;
  uint64_t control_suppressed_ = 0;
};

}  // namespace tern::dp
