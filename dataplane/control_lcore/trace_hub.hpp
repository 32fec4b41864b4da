#pragma once
// The machinery behind Tracing (contract/trace.hpp): the filter every worker reads once per burst, the
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
#include "dataplane/tables/trace_filter.hpp"
#include "dataplane/worker/trace_budget.hpp"

namespace tern::dp {

inline constexpr unsigned kTraceRingSize = 1024;        // records per worker ring
inline constexpr size_t kControlTraceRecords = 1024;    // the control lcore's own, unread

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
