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
#include "dataplane/contract/stats.hpp"
#include "dataplane/contract/stream_io.hpp"
#include "dataplane/contract/table_writer.hpp"
#include "dataplane/contract/trace.hpp"
#include "dataplane/contract/worker_settings.hpp"

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
  std::vector<TransportAddress> listeners;         // UDP
  std::vector<TransportAddress> stream_listeners;  // TCP and TLS: served through the exception path
  std::vector<IpAddress> relay_addresses;
  uint32_t table_size = conf::kDefaultTableSize;
  uint32_t mbufs = conf::kDefaultMbufs;
  WorkerSettingsValues settings;  // SOFTWARE in the workers' Binding responses, the rates
  // false: start() leaves the workers to launch(), so that what answers before they do (ternd's
  // control socket) is up by the time clients see the server answer.
  bool launch = true;
};

// The data plane's part of tern's configuration (a port's first gateway of each family).
RuntimeConfig runtime_config(const conf::Config& config);

class Runtime final : public Stats, public Tracing {
 public:
  // Everything or nothing: nullptr with a message naming what was wrong.
  static std::unique_ptr<Runtime> start(const RuntimeConfig& config, std::string& error);
  ~Runtime() override;  // stops if still running
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Launches the workers on their lcores (start() does unless RuntimeConfig::launch is false).
  bool launch(std::string& error);
  // Workers drain their TX buffers and exit; ports stop; the EAL is cleaned up.
  void stop();

  TableWriter& tables();
  // Where the control lcore publishes what a reload changes for the workers.
  WorkerSettingsPublisher& worker_settings();
  ControlIo& io();
  // The exception path and the stream rings, for the stream transport's thread; nullptr without
  // TCP or TLS listeners.
  StreamIo* streams();
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
