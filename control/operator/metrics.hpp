#pragma once
// The Prometheus text exposition (format 0.0.4) of tern's counters. Names and help come from the
// same X-macro lists as everywhere else (dataplane/contract/counters.hpp, dataplane/contract/control_io.hpp,
// control/base/counters.hpp); a counter added to a list is exported with no change here.
//
//   tern_dataplane_<name>_total{worker="0"}              every worker counter but the drops
//   tern_dataplane_dropped_packets_total{worker,reason}  drop_<reason>
//   tern_control_io_<name>_total                         the control lcore's packet I/O
//   tern_requests_total{method}                          requests_<method>
//   tern_responses_total{code}                           responses_<code> ("success", "401", ...)
//   tern_auth_failures_total{reason}                     auth_<reason> (not auth_challenges)
//   tern_<name>_total / tern_<name>                      the other control plane counters / gauges
//   tern_build_info{version}, tern_uptime_seconds, tern_workers, tern_tsc_hz
//   tern_worker_busy_ratio{worker}                       busy share of the last second
//   tern_worker_punt_ring{worker}, _capacity             messages waiting for the control plane
//   tern_worker_hold_ring{worker}, _capacity             packets waiting for a next hop
//   tern_mempool_in_use{pool,socket}, tern_mempool_size  packet buffers
//   tern_port_info{port,device,driver} 1, tern_port_link_up{port}, tern_port_speed_mbps{port},
//   tern_port_{rx,tx}_{packets,bytes}_total{port}, tern_port_rx_missed_total, _rx_no_buffer_total,
//   tern_port_{rx,tx}_errors_total                      what the NICs report
//
// No label carries a username or a client address: their number has no bound.

#include <string>
#include <vector>

#include "control/base/counters.hpp"
#include "dataplane/contract/control_io.hpp"
#include "dataplane/contract/counters.hpp"
#include "control/transport/stream_transport.hpp"
#include "dataplane/contract/stats.hpp"

namespace tern::ctl {

struct MetricsSnapshot {
  std::string version;
  uint64_t uptime = 0;  // seconds
  uint64_t tsc_hz = 0;
  std::vector<dp::CounterValues> workers;
  std::vector<dp::WorkerRingStats> rings;  // per worker
  std::vector<double> busy_ratio;          // per worker
  dp::ControlCounterValues control_io{};
  CounterValues control_plane{};
  std::optional<StreamStatus> streams;  // TCP and TLS listeners only
  std::vector<dp::PoolStats> pools;
  std::vector<dp::PortStats> ports;
};

std::string render_metrics(const MetricsSnapshot& snapshot);

}  // namespace tern::ctl
