#pragma once
// The data plane as ternd sees it: start it from the configuration, hand the control plane its
// handles (the table writer, the packet I/O, the statistics), stop it.
//
//   auto config = conf::load_file(path, errors);
//   auto dataplane = dp::Runtime::start(dp::runtime_config(*config), error);
//   control::run(*config, dataplane->tables(), dataplane->io(), dataplane->stats(), ...);
//   dataplane->stop();
//
// start(): EAL from `dataplane.eal`; every port's device probed and configured with one RX and
// one TX queue per worker plus the control lcore's TX queue, RSS across the workers' RX queues
// where the device has it, TX checksum offload where it has that; a packet pool per NUMA socket
// of `dataplane.mbufs` buffers; the RCU variable with every worker registered; the tables
// (`dataplane.table_size` slots over the relay addresses); the neighbour table; a worker launched
// on every lcore but the main one, which stays the control plane's. One worker on `-l 0-1`; more
// lcores, more workers, no code change.
//
// stop(): the workers finish the iteration they are in, flush their TX buffers and leave; the
// packets still punted, waiting or queued are freed; the ports stop and close; the EAL cleans up.
// ternd calls it on SIGTERM/SIGINT, also under full load.
//
// Runtime is the whole process's data plane: EAL can be initialised once per process.
// No DPDK type appears here.
//
// What an operator must know about DPDK's runtime files (tests/unit/dataplane/processes_test):
// - Without --no-shconf the EAL keeps a runtime directory, /var/run/dpdk/<file-prefix>/ ("rte"
//   without --file-prefix), and holds a lock on its `config` file while it runs. Two ternd on one
//   host need two --file-prefix values; a second one on the same prefix refuses to start
//   ("Cannot create lock on ... Is another primary process running?") and exits 1.
// - After kill -9 (or a crash) the directory stays but its lock died with the process: ternd
//   starts again on the same prefix, nothing to clean up. The files stay after a clean stop too.
// - With --no-shconf (ternd.conf's default) there is no shared configuration to lock, so two
//   processes on one prefix are not told apart: give each its own --file-prefix all the same.
// - Memory: --in-memory (hugepages without a hugetlbfs mount) and --no-huge leave no files. With
//   hugepages from a hugetlbfs mount (neither flag) a killed process's page files stay in the
//   mount until the next start on the same prefix, which removes the ones no process holds.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "conf/net.hpp"
#include "dataplane/contract/control_io.hpp"
#include "dataplane/contract/counters.hpp"
#include "dataplane/contract/table_writer.hpp"
#include "dataplane/contract/trace.hpp"

namespace tern::dp {

struct RuntimePort {
  std::string device;  // a vdev string ("net_af_packet0,iface=veth0") or a PCI address
  std::vector<InterfaceAddress> addresses;
  std::optional<IpAddress> gateway;   // IPv4
  std::optional<IpAddress> gateway6;  // IPv6: on-link or link-local
};

struct RuntimeConfig {
  std::vector<std::string> eal;  // EAL arguments, program name excluded
  std::vector<RuntimePort> ports;
  std::vector<TransportAddress> listeners;
  std::vector<IpAddress> relay_addresses;
  uint32_t table_size = conf::kDefaultTableSize;
  uint32_t mbufs = conf::kDefaultMbufs;
  std::string software;  // SOFTWARE in the Binding responses the workers send; empty: none
};

// The data plane's part of tern's configuration (a port's first gateway of each family).
RuntimeConfig runtime_config(const conf::Config& config);

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

class Runtime final : public Stats, public Tracing {
 public:
  // Everything or nothing: nullptr with a message naming what was wrong.
  static std::unique_ptr<Runtime> start(const RuntimeConfig& config, std::string& error);
  ~Runtime() override;  // stops if still running
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Workers drain their TX buffers and exit; ports stop; the EAL is cleaned up.
  void stop();

  TableWriter& tables();
  ControlIo& io();
  Stats& stats() { return *this; }
  Tracing& tracing() { return *this; }

  unsigned workers() const override;
  CounterValues worker_counters(unsigned worker) const override;
  AllocationTrafficValues allocation_traffic(AllocId id) const override;
  std::vector<PortStats> ports() const override;
  std::vector<PoolStats> pools() const override;
  WorkerRingStats worker_rings(unsigned worker) const override;
  uint64_t tsc_hz() const override;

  void set_trace(const std::optional<IpAddress>& address) override;
  std::optional<IpAddress> trace_address() const override;
  size_t read_trace(std::span<TraceRecord> out) override;
  void append_trace(const TraceRecord& record) override;
  uint64_t trace_suppressed() const override;

  struct State;

 private:
  explicit Runtime(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace tern::dp
