#include "control/operator/traffic_baselines.hpp"

namespace tern::ctl {

TrafficBaselines::TrafficBaselines(dp::TableWriter& inner, const dp::Stats& stats, uint32_t capacity)
    : inner_(inner), stats_(stats), baselines_(capacity) {}

dp::WriteResult TrafficBaselines::add_allocation(dp::AllocId id, const dp::AllocationEntry& entry) {
  if (dp::slot_index(id) < baselines_.size()) baselines_[dp::slot_index(id)] = stats_.allocation_traffic(id);
  return inner_.add_allocation(id, entry);
}

dp::AllocationTrafficValues TrafficBaselines::traffic(dp::AllocId id) const {
  const dp::AllocationTrafficValues now = stats_.allocation_traffic(id);
  if (dp::slot_index(id) >= baselines_.size()) return now;
  const dp::AllocationTrafficValues& base = baselines_[dp::slot_index(id)];
  // Unsigned subtraction: the difference is right across a wrap of the 32-bit counts.
  dp::AllocationTrafficValues d;
  d.bytes_to_peer = now.bytes_to_peer - base.bytes_to_peer;
  d.bytes_to_client = now.bytes_to_client - base.bytes_to_client;
  d.packets_to_peer = now.packets_to_peer - base.packets_to_peer;
  d.packets_to_client = now.packets_to_client - base.packets_to_client;
  for (size_t i = 0; i < dp::kAllocationDropCount; ++i) {
    d.drops_to_peer[i] = now.drops_to_peer[i] - base.drops_to_peer[i];
    d.drops_to_client[i] = now.drops_to_client[i] - base.drops_to_client[i];
  }
  return d;
}

}  // namespace tern::ctl
