#pragma once
// The settings every worker applies to every packet and that a reload may change: SOFTWARE in
// the Binding responses the workers answer themselves (RFC 8489 §14.14), and the per-allocation
// limits `limits.max_bps` and `limits.allocation_pps`. The control lcore publishes a new set;
// workers pick it up at their next burst, and it applies to every allocation, live ones too
// (the allocations' buckets hold only their theoretical arrival times, tables/rate_limit.hpp).

#include <cstdint>
#include <string>

#include "conf/config.hpp"

namespace tern::dp {

struct WorkerSettingsValues {
  std::string software;         // empty: no SOFTWARE attribute
  uint64_t max_bps = 0;         // bits per second per allocation and direction; 0: unlimited
  uint32_t allocation_pps = 0;  // packets per second per allocation and direction; 0: unlimited

  static WorkerSettingsValues from(const conf::Config& config) {
    return {config.software, config.limits.max_bps, config.limits.allocation_pps};
  }
  bool operator==(const WorkerSettingsValues&) const = default;
};

class WorkerSettingsPublisher {
 public:
  virtual ~WorkerSettingsPublisher() = default;
  // Control lcore only. false (nothing changed) when there is no memory for the new set.
  virtual bool publish(const WorkerSettingsValues& values) = 0;
};

}  // namespace tern::dp
