#pragma once
// The one builder of a data plane: given ports that are configured and started, it makes
// everything the workers and the control lcore share and own (the interfaces, the allocation
// tables and their writer, the neighbour table, the RCU variable, each worker's rings and traffic
// shard, the workers themselves, the trace hub and the control lcore's ControlPort) and wires them
// together. ternd's Runtime builds one over real ports and launches the workers on their lcores;
// the golden tests and the micro-benchmarks build one over net_ring ports and poll a worker by
// hand. The same wiring everywhere, so what the tests prove is what ternd runs.
//
//   AssemblyConfig c;  c.interfaces = ...; c.pools = ...; c.rx_queues = ...; c.workers = 1;
//   auto dp = Assembly::build(c, clock, error);
//   dp->worker(0).poll(now);               // or launch it on an lcore (Runtime)
//   dp->writer().add_allocation(...);      // the control plane's writer
//
// Queues, by convention: worker w transmits on TX queue w of every port, the control lcore on
// TX queue `workers`, the stream transport (with TCP or TLS listeners) on `workers` + 1; worker w
// polls RX queue w of every port, and a port configured with more RX queues than workers
// (net_af_packet, net_tap: their TX queues are also receive endpoints) has each extra queue q
// polled by worker (p + q - workers) % workers.

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "conf/net.hpp"
#include "dataplane/contract/counters.hpp"
#include "dataplane/contract/table_writer.hpp"
#include "dataplane/control_lcore/control_port.hpp"
#include "dataplane/control_lcore/neighbour_priming.hpp"
#include "dataplane/control_lcore/trace_hub.hpp"
#include "dataplane/tables/clock.hpp"
#include "dataplane/tables/interfaces.hpp"
#include "dataplane/tables/neighbours.hpp"
#include "dataplane/tables/rcu_writer.hpp"
#include "dataplane/tables/tables.hpp"
#include "dataplane/tables/worker_settings.hpp"
#include "dataplane/worker/worker.hpp"

namespace tern::dp {

inline constexpr unsigned kPuntRingSize = 1024;
inline constexpr unsigned kHoldRingSize = 512;
inline constexpr unsigned kNeighboursPerPort = 4096;
inline constexpr unsigned kStreamRingSize = 1024;

// Fixed per-worker seeds (tests compare packets byte for byte); random ones otherwise.
struct WorkerSeeds {
  uint64_t transaction_id_seed = 0;  // Data indications' transaction IDs
  uint16_t first_ip_id = 0;          // the first IPv4 Identification a worker sends
  uint16_t control_first_ip_id = 0;  // the control lcore's
};

struct AssemblyConfig {
  std::string name = "tern";            // prefix of every DPDK object's name (unique per assembly)
  InterfacesConfig interfaces;          // the configured ports, their addresses, the listeners
  std::vector<rte_mempool*> pools;      // per port: where the control lcore's packets come from
  std::vector<uint16_t> rx_queues;      // per port: RX queues configured (workers, or workers + 1)
  unsigned workers = 1;
  std::vector<int> worker_sockets;      // NUMA node per worker; empty: `socket` for all
  int socket = 0;                       // NUMA node of the shared tables
  bool rcu = true;                      // false: no RCU (one thread polls and writes: tests)
  uint32_t table_size = conf::kDefaultTableSize;
  uint32_t permission_overflow = 0;     // 0: the tables' default (TablesConfig)
  uint32_t channel_overflow = 0;        // 0: the tables' default
  std::vector<IpAddress> relay_addresses;  // each must be an address of a port
  WorkerSettingsValues settings;        // SOFTWARE in the workers' Binding responses, the rates
  unsigned punt_ring_size = kPuntRingSize;
  unsigned hold_ring_size = kHoldRingSize;
  unsigned trace_ring_size = kTraceRingSize;
  unsigned neighbours_per_port = kNeighboursPerPort;
  // TCP or TLS listeners: the rings of the exception path and the stream transport, and one more
  // RCU reader (the transport's thread, number `workers`).
  bool streams = false;
  unsigned stream_ring_size = kStreamRingSize;
  unsigned held_per_neighbour = kHeldPerNeighbour;
  unsigned held_total = kHeldTotal;
  std::optional<WorkerSeeds> seeds;     // empty: random
};

class Assembly {
 public:
  // Everything or nothing: nullptr with a message naming what was wrong. `clock` must outlive
  // the assembly.
  static std::unique_ptr<Assembly> build(const AssemblyConfig& config, const Clock& clock,
                                         std::string& error);
  // Frees what is left in the rings (punted and waiting packets) and everything built.
  ~Assembly();
  Assembly(const Assembly&) = delete;
  Assembly& operator=(const Assembly&) = delete;

  unsigned workers() const { return static_cast<unsigned>(workers_.size()); }
  Worker& worker(unsigned w) { return *workers_[w]; }
  const Worker& worker(unsigned w) const { return *workers_[w]; }
  // The writer the control plane gets: the tables' own, resolving next hops ahead of traffic.
  TableWriter& writer() { return *priming_; }
  // The tables' writer alone (no neighbour priming): tests and benchmarks that publish directly.
  TableWriter& table_writer() { return *writer_; }
  const Tables& tables() const { return *tables_; }
  // SOFTWARE and the rates, as the control lcore republishes them on reload.
  WorkerSettingsBoard& worker_settings() { return *settings_; }
  Interfaces& interfaces() { return *interfaces_; }
  Neighbours& neighbours() { return *neighbours_; }
  ControlPort& control() { return *control_; }
  TraceHub& trace() { return *trace_; }
  rte_rcu_qsbr* rcu() const { return rcu_; }
  int punt_offset() const { return punt_offset_; }
  rte_ring* punt_ring(unsigned w) const { return punt_rings_[w]; }
  rte_ring* hold_ring(unsigned w) const { return hold_rings_[w]; }
  rte_ring* trace_ring(unsigned w) const { return trace_rings_[w]; }
  // The exception path's and the stream transport's rings (empty without streams).
  const std::vector<rte_ring*>& exception_rings() const { return exception_rings_; }
  const std::vector<rte_ring*>& to_stream_rings() const { return to_stream_rings_; }
  const std::vector<rte_ring*>& from_stream_rings() const { return from_stream_rings_; }
  rte_ring* stream_hold_ring() const { return stream_hold_ring_; }
  int stream_offset() const { return stream_offset_; }
  // An allocation slot's traffic summed over every worker's shard.
  AllocationTrafficValues allocation_traffic(AllocId id) const;

 private:
  Assembly() = default;
  bool build_tables(const AssemblyConfig& config, const Clock& clock, std::string& error);
  bool build_workers(const AssemblyConfig& config, const Clock& clock, std::string& error);
  bool build_control(const AssemblyConfig& config, const Clock& clock, std::string& error);

  std::optional<Interfaces> interfaces_;
  rte_rcu_qsbr* rcu_ = nullptr;
  std::unique_ptr<Tables> tables_;
  std::unique_ptr<RcuTableWriter> writer_;
  std::unique_ptr<Neighbours> neighbours_;
  std::unique_ptr<WorkerSettingsBoard> settings_;  // outlives the workers (declared before them)
  int punt_offset_ = -1;
  std::vector<rte_ring*> punt_rings_;
  std::vector<rte_ring*> hold_rings_;
  std::vector<rte_ring*> trace_rings_;
  std::vector<rte_ring*> exception_rings_;
  std::vector<rte_ring*> to_stream_rings_;
  std::vector<rte_ring*> from_stream_rings_;
  rte_ring* stream_hold_ring_ = nullptr;
  int stream_offset_ = -1;
  std::vector<AllocationTraffic*> traffic_;
  std::unique_ptr<TraceHub> trace_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<ControlPort> control_;
  std::unique_ptr<NeighbourPrimingWriter> priming_;
};

}  // namespace tern::dp
