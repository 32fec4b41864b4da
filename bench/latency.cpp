#include "bench/latency.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <algorithm>
#include <cmath>

namespace tern::bench {

bool LatencyProbe::init(std::string& error) {
  static const rte_mbuf_dynfield field = {"tern_bench_rx_tsc", sizeof(uint64_t), alignof(uint64_t), 0};
  offset_ = rte_mbuf_dynfield_register(&field);
  if (offset_ < 0) {
    error = std::string("cannot register the TSC stamp field: ") + rte_strerror(rte_errno);
    return false;
  }
  return true;
}

bool LatencyProbe::attach(uint16_t port, uint16_t rx_queue, uint16_t tx_queue, std::string& error) {
  ns_per_cycle_ = 1e9 / static_cast<double>(rte_get_tsc_hz());
  stale_cycles_ = rte_get_tsc_hz() / 10;
  port_ = port;
  rx_queue_ = rx_queue;
  tx_queue_ = tx_queue;
  rx_cb_ = rte_eth_add_rx_callback(port, rx_queue, &LatencyProbe::on_rx, this);
  tx_cb_ = rte_eth_add_tx_callback(port, tx_queue, &LatencyProbe::on_tx, this);
  if (rx_cb_ == nullptr || tx_cb_ == nullptr) {
    error = std::string("cannot add the RX/TX callbacks: ") + rte_strerror(rte_errno);
    detach();
    return false;
  }
  return true;
}

// The callbacks' memory is not freed by DPDK on removal (a burst may still be running one), which
// is why `this` must outlive the port.
void LatencyProbe::detach() {
  if (rx_cb_ != nullptr)
    rte_eth_remove_rx_callback(port_, rx_queue_, static_cast<const rte_eth_rxtx_callback*>(rx_cb_));
  if (tx_cb_ != nullptr)
    rte_eth_remove_tx_callback(port_, tx_queue_, static_cast<const rte_eth_rxtx_callback*>(tx_cb_));
  rx_cb_ = tx_cb_ = nullptr;
}

uint16_t LatencyProbe::on_rx(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n, uint16_t, void* self) {
  const auto* p = static_cast<const LatencyProbe*>(self);
  const uint64_t now = rte_rdtsc();
  for (uint16_t i = 0; i < n; ++i) *RTE_MBUF_DYNFIELD(pkts[i], p->offset_, uint64_t*) = now;
  return n;
}

uint16_t LatencyProbe::on_tx(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n, void* self) {
  auto* p = static_cast<LatencyProbe*>(self);
  const uint64_t now = rte_rdtsc();
  uint64_t max = p->max_cycles_.load(std::memory_order_relaxed);
  for (uint16_t i = 0; i < n; ++i) {
    const uint64_t cycles = now - *RTE_MBUF_DYNFIELD(pkts[i], p->offset_, uint64_t*);
    // Received before the RX callback was in place: no stamp of this phase.
    if (cycles > p->stale_cycles_) continue;
    max = std::max(max, cycles);
    const auto ns = static_cast<uint64_t>(static_cast<double>(cycles) * p->ns_per_cycle_);
    const uint64_t b = std::min<uint64_t>(ns >> kBucketNsLog2, kBuckets - 1);
    p->buckets_[b].store(p->buckets_[b].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  p->max_cycles_.store(max, std::memory_order_relaxed);
  return n;
}

LatencySummary LatencyProbe::summary(uint64_t tsc_hz) const {
  LatencySummary s;
  for (const auto& b : buckets_) s.samples += b.load(std::memory_order_relaxed);
  if (s.samples == 0) return s;
  // The upper edge of the bucket holding the q-th sample: never optimistic by more than 8 ns.
  auto quantile = [&](double q) {
    const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(s.samples)));
    uint64_t seen = 0;
    for (unsigned i = 0; i < kBuckets; ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return static_cast<double>((uint64_t{i} + 1) << kBucketNsLog2);
    }
    return static_cast<double>(uint64_t{kBuckets} << kBucketNsLog2);
  };
  s.p50_ns = quantile(0.50);
  s.p90_ns = quantile(0.90);
  s.p99_ns = quantile(0.99);
  s.p999_ns = quantile(0.999);
  for (const double q : {0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995,
                         0.999, 0.9995, 0.9999})
    s.cdf.emplace_back(q, quantile(q));
  s.max_ns = static_cast<double>(max_cycles_.load(std::memory_order_relaxed)) * 1e9 / static_cast<double>(tsc_hz);
  return s;
}

}  // namespace tern::bench
