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
// Runtime is the whole process's data plane: EAL can be initialised once per process.
// No DPDK type appears here.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "conf/net.hpp"
#include "dataplane/control_io.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/table_writer.hpp"
#include "dataplane/trace.hpp"

namespace tern::dp {

struct RuntimePort {
  std::string device;  // a vdev string ("net_af_packet0,iface=veth0") or a PCI address
  std::vector<InterfaceAddress> addresses;
  std::optional<IpAddress> gateway;
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

// The data plane's part of tern's configuration (IPv4 gateways only: the data plane relays IPv4).
RuntimeConfig runtime_config(const conf::Config& config);

// Numbers the control socket and the metrics endpoint show; fakeable without an EAL.
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
