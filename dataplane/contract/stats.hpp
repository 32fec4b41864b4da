#pragma once
// The data plane's figures as the control socket and the metrics endpoint read them: per-worker
// counters, an allocation's traffic, the NICs, the packet pools and the rings to the control lcore.
// No DPDK type appears here; the operator surface reads a running data plane through Stats and its
// tests fake it.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/contract/counters.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

// One data-plane port as the NIC reports it (rte_eth_stats, rte_eth_link).
struct PortStats {
  std::string device;                  // as configured ("net_af_packet0,iface=...", a PCI address)
  std::string driver;                  // "net_af_packet", "net_ice", ...
  uint16_t port_id = 0;                // DPDK port id
  std::array<uint8_t, 6> mac{};
  bool link_up = false;
  uint32_t speed_mbps = 0;             // 0: unknown
  bool full_duplex = false;
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint64_t rx_missed = 0;              // imissed: dropped by the NIC, RX queues full (workers too slow)
  uint64_t rx_errors = 0;              // ierrors: bad frames
  uint64_t tx_errors = 0;              // oerrors
  uint64_t rx_no_buffer = 0;           // rx_nombuf: no mbuf to receive into (pool exhausted)
};

// A packet buffer pool. in_use counts buffers out of the pool (in queues, rings, being processed);
// buffers in the per-lcore caches count as free. Exact when the data plane is idle, a moment's
// estimate under load; back at its idle value after load (nothing leaks).
struct PoolStats {
  std::string name;
  int socket = 0;
  uint32_t size = 0;
  uint32_t in_use = 0;
};

// A worker's rings to the control lcore: how full they are now (element counts).
struct WorkerRingStats {
  uint32_t punt = 0;             // STUN messages and ARP waiting for the control lcore
  uint32_t punt_capacity = 0;
  uint32_t hold = 0;             // packets waiting for a next hop, not yet taken by the control lcore
  uint32_t hold_capacity = 0;
  uint32_t trace = 0;            // trace records not yet read
  uint32_t trace_capacity = 0;
};

// Numbers the control socket and the metrics endpoint show; fakeable without an EAL (the
// methods with a body are optional for a fake).
//
// CPU per packet: a worker's busy_cycles / (packets it handled) / tsc_hz() seconds, where
// busy_cycles counts the TSC cycles of its loop iterations that received packets and
// total_cycles all of them (busy_cycles / total_cycles: how busy it is).
class Stats {
 public:
  virtual ~Stats() = default;
  virtual unsigned workers() const = 0;
  virtual CounterValues worker_counters(unsigned worker) const = 0;
  CounterValues counters() const {  // the sum over workers
    CounterValues sum{};
    for (unsigned w = 0; w < workers(); ++w) {
      const CounterValues c = worker_counters(w);
      for (size_t i = 0; i < kCounterCount; ++i) sum[i] += c[i];
    }
    return sum;
  }
  // An allocation slot's traffic, summed over every worker's shard (counters.hpp).
  virtual AllocationTrafficValues allocation_traffic(AllocId id) const = 0;

  virtual std::vector<PortStats> ports() const { return {}; }
  virtual std::vector<PoolStats> pools() const { return {}; }
  virtual WorkerRingStats worker_rings(unsigned /*worker*/) const { return {}; }
  virtual uint64_t tsc_hz() const { return 0; }  // TSC ticks per second: the cycle counters' unit
};

}  // namespace tern::dp
