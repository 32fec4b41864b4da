#include "dataplane/control_lcore/trace_hub.hpp"

#include <cstring>

namespace tern::dp {

TraceHub::TraceHub(std::vector<rte_ring*> rings, const Clock& clock)
    : rings_(std::move(rings)),
      clock_(clock),
      control_budget_(clock.hz(), kTraceRate, kTraceBurst) {}

void TraceHub::set_trace(const std::optional<IpAddress>& address) {
  address_.reset();
  if (address) {
    const IpAddress ip = address->canonical();
    address_ = ip;
    if (ip.is_v4()) {
      uint32_t be;
      std::memcpy(&be, ip.bytes().data(), 4);
      filter_.state.store(TraceFilter::ipv4_state(be), std::memory_order_relaxed);
    } else {
      uint64_t words[2];
      std::memcpy(words, ip.raw().data(), 16);
      filter_.ipv6[0].store(words[0], std::memory_order_relaxed);
      filter_.ipv6[1].store(words[1], std::memory_order_relaxed);
      filter_.state.store(TraceFilter::kOn | TraceFilter::kIpv6, std::memory_order_release);
    }
  } else {
    filter_.state.store(0, std::memory_order_relaxed);
  }
  // What was recorded for the previous address is of no interest any more.
  control_.clear();
  for (rte_ring* ring : rings_) {
    TraceRecord r[32];
    while (ring != nullptr &&
           rte_ring_sc_dequeue_burst_elem(ring, r, sizeof(TraceRecord), std::size(r), nullptr) > 0) {
    }
  }
}

void TraceHub::record(const TraceRecord& record) {
  const uint64_t tsc = rte_rdtsc();
  if (control_.size() >= kControlTraceRecords || !control_budget_.take(tsc)) {
    ++control_suppressed_;
    return;
  }
  control_.push_back(record);
  control_.back().time_ns = tsc;
  control_.back().source = kTraceControl;
}

void TraceHub::append_trace(const TraceRecord& record) {
  if (!traces(record)) return;
  TraceRecord r = record;
  r.outcome = TraceOutcome::control;
  this->record(r);
}

size_t TraceHub::read_trace(std::span<TraceRecord> out) {
  size_t n = 0;
  while (n < out.size() && !control_.empty()) {
    out[n++] = control_.front();
    control_.pop_front();
  }
  for (rte_ring* ring : rings_) {
    if (ring == nullptr) continue;
    while (n < out.size()) {
      const unsigned got = rte_ring_sc_dequeue_burst_elem(
          ring, &out[n], sizeof(TraceRecord), static_cast<unsigned>(out.size() - n), nullptr);
      if (got == 0) break;
      n += got;
    }
  }
  // Keep only the traced address's records (a worker may have recorded the previous one's just
  // after a change), with the time since start.
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!traces(out[i])) continue;
    out[kept] = out[i];
    out[kept].time_ns = clock_.ns_since_start(out[i].time_ns);
    ++kept;
  }
  return kept;
}

uint64_t TraceHub::trace_suppressed() const {
  uint64_t n = control_suppressed_;
  for (const WorkerCounters* c : counters_)
    if (c != nullptr) n += (*c)[CounterId::trace_suppressed].value();
  return n;
}

}  // namespace tern::dp
