#pragma once
// The Prometheus text exposition (format 0.0.4) of tern's counters. Names and help come from the
// same X-macro lists as everywhere else (dataplane/counters.hpp, dataplane/control_io.hpp,
// control/counters.hpp); a counter added to a list is exported with no change here.
//
//   tern_dataplane_<name>_total{worker="0"}              every worker counter but the drops
//   tern_dataplane_dropped_packets_total{worker,reason}  drop_<reason>
//   tern_control_io_<name>_total                         the control lcore's packet I/O
//   tern_requests_total{method}                          requests_<method>
//   tern_responses_total{code}                           responses_<code> ("success", "401", ...)
//   tern_auth_failures_total{reason}                     auth_<reason> (not auth_challenges)
//   tern_<name>_total / tern_<name>                      the other control plane counters / gauges
//   tern_build_info{version}, tern_uptime_seconds, tern_workers
//
// No label carries a username or a client address: their number has no bound.

#include <string>
#include <vector>

#include "control/counters.hpp"
#include "dataplane/control_io.hpp"
#include "dataplane/counters.hpp"

namespace tern::ctl {

struct MetricsSnapshot {
  std::string version;
  uint64_t uptime = 0;  // seconds
  std::vector<dp::CounterValues> workers;
  dp::ControlCounterValues control_io{};
  CounterValues control_plane{};
};

std::string render_metrics(const MetricsSnapshot& snapshot);

}  // namespace tern::ctl
