#pragma once
// The worker's added latency, stamped with the TSC on the worker's own lcore:
//
//   stamp    an ethdev RX callback on (port, queue): runs inside rte_eth_rx_burst once the PMD
//            has filled the burst, before the worker sees it; writes one rte_rdtsc() into a
//            dynamic mbuf field of every packet of the burst.
//   measure  an ethdev TX callback on (port, tx queue): runs inside rte_eth_tx_burst when the
//            worker hands its output over; records now - stamp for every packet.
//
// So a packet's figure is the time it spent in the worker between the two bursts: classify,
// lookups, rewrite, and waiting for the rest of its burst. The PMD's own RX and TX work, and any
// queueing in front of the worker, are not in it. Both callbacks cost cycles, so the harness
// measures latency in a phase of its own, after throughput.
//
// Packets the worker relays in place (every fast path) keep their mbuf, hence their stamp. A stamp
// older than 100 ms is one the mbuf carried from before the probe was attached, and is skipped.

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct rte_mbuf;

namespace tern::bench {

struct LatencySummary {
  uint64_t samples = 0;
  double p50_ns = 0;
  double p90_ns = 0;
  double p99_ns = 0;
  double p999_ns = 0;
  double max_ns = 0;
  std::vector<std::pair<double, double>> cdf;  // (quantile, ns) from 1% to 99.99%
};

class LatencyProbe {
 public:
  // Registers the dynamic field; false (with a message) if DPDK refuses.
  bool init(std::string& error);
  bool attach(uint16_t port, uint16_t rx_queue, uint16_t tx_queue, std::string& error);
  void detach();
  LatencySummary summary(uint64_t tsc_hz) const;

 private:
  static constexpr unsigned kBucketNsLog2 = 3;   // 8 ns buckets
  static constexpr unsigned kBuckets = 1u << 14;  // up to 131 us; the last bucket holds the rest

  static uint16_t on_rx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n,
                        uint16_t max, void* self);
  static uint16_t on_tx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n,
                        void* self);

  int offset_ = -1;
  double ns_per_cycle_ = 0;
  uint64_t stale_cycles_ = 0;  // older stamps (100 ms) are left over from before attach()
  uint16_t port_ = 0, rx_queue_ = 0, tx_queue_ = 0;
  const void* rx_cb_ = nullptr;
  const void* tx_cb_ = nullptr;
  // Written by the worker lcore only (inside its bursts), read by the main lcore afterwards.
  std::atomic<uint64_t> buckets_[kBuckets] = {};
  std::atomic<uint64_t> max_cycles_{0};
};

}  // namespace tern::bench
