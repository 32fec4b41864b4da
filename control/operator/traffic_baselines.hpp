#pragma once
// Per-allocation traffic since the allocation was created. The data plane counts traffic per
// allocation slot and a slot's counters carry on from its previous allocation
// (dataplane/contract/counters.hpp), so the count at the moment a slot is published is its baseline. This
// TableWriter sits between the control plane and the data plane's writer: it forwards every call
// and samples the slot's counters just before an allocation is published in it. No worker counts
// for that slot then: a slot is reused only after the grace period of its last removal.
//
//   TrafficBaselines baselines(dataplane->tables(), dataplane->stats(), config.dataplane.table_size);
//   ControlPlane plane(config, baselines, engine, logger);
//   dp::AllocationTrafficValues t = baselines.traffic(id);   // since `id` was created

#include <vector>

#include "dataplane/contract/counters.hpp"
#include "dataplane/contract/stats.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

class TrafficBaselines final : public dp::TableWriter {
 public:
  TrafficBaselines(dp::TableWriter& inner, const dp::Stats& stats, uint32_t capacity);

  // The slot's traffic since its allocation was published (the 32-bit counts modulo 2^32).
  dp::AllocationTrafficValues traffic(dp::AllocId id) const;

  dp::WriteResult add_allocation(dp::AllocId id, const dp::AllocationEntry& entry) override;
  dp::WriteResult set_allocation_expiry(dp::AllocId id, dp::TableTime expires) override {
    return inner_.set_allocation_expiry(id, expires);
  }
  dp::WriteResult remove_allocation(dp::AllocId id) override { return inner_.remove_allocation(id); }
  dp::WriteResult set_permission(dp::AllocId id, const IpAddress& peer, dp::TableTime expires) override {
    return inner_.set_permission(id, peer, expires);
  }
  dp::WriteResult remove_permission(dp::AllocId id, const IpAddress& peer) override {
    return inner_.remove_permission(id, peer);
  }
  dp::WriteResult set_channel(dp::AllocId id, uint16_t channel, const TransportAddress& peer,
                              dp::TableTime expires) override {
    return inner_.set_channel(id, channel, peer, expires);
  }
  dp::WriteResult remove_channel(dp::AllocId id, uint16_t channel) override {
    return inner_.remove_channel(id, channel);
  }
  size_t reclaimed(std::span<dp::AllocId> out) override { return inner_.reclaimed(out); }

 private:
  dp::TableWriter& inner_;
  const dp::Stats& stats_;
  std::vector<dp::AllocationTrafficValues> baselines_;  // by AllocId
};

}  // namespace tern::ctl
