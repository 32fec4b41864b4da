#pragma once
// The limits a valid credential does not lift (the `limits` group): how fast one allocation may
// add peer addresses, how many permissions and channel bindings it may hold, and the key live
// allocations are counted under per client address. A request over a limit is refused whole and
// counted by the limit, per allocation and in the control plane's counters.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "conf/net.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

// Per allocation; 0 = unlimited throughout. Reloads change them for live allocations too: a lower
// cap applies to the next request, and what an allocation holds above it stays until it expires.
struct AllocationLimits {
  uint32_t new_peers_per_second = 0;  // permissions for an IP address the allocation did not have
  uint32_t new_peers_burst = 0;       // the bucket's depth
  uint32_t permissions = 0;           // live permissions
  uint32_t channels = 0;              // live channel bindings
};

// Which limit refused a CreatePermission or ChannelBind.
enum class LimitRefusal : uint8_t { new_peers_per_second, permissions_per_allocation, channels_per_allocation };
inline constexpr size_t kLimitRefusalCount = 3;
constexpr std::string_view to_string(LimitRefusal refusal) {
  switch (refusal) {
    case LimitRefusal::new_peers_per_second: return "new_peers_per_second";
    case LimitRefusal::permissions_per_allocation: return "permissions_per_allocation";
    case LimitRefusal::channels_per_allocation: return "channels_per_allocation";
  }
  return "unknown";
}

// Requests one allocation had refused, by limit.
struct LimitRefusalCounts {
  std::array<uint64_t, kLimitRefusalCount> by_limit{};
  uint64_t operator[](LimitRefusal r) const { return by_limit[static_cast<size_t>(r)]; }
  void add(LimitRefusal r) { ++by_limit[static_cast<size_t>(r)]; }
};

// limits.new_peers_per_second: a token bucket in the control plane's whole seconds (the clock every
// lifetime uses), full when the allocation is made, so an ICE agent's first burst of candidates
// goes through at once. Rate and depth are read at each use, so a reload applies to it at once.
class NewPeerBucket {
 public:
  explicit NewPeerBucket(dp::TableTime now = 0) : last_(now) {}

  // Whether `peers` new peers fit now. Nothing is taken: the request may still fail for another
  // reason, and then it cost nothing.
  bool fits(uint32_t peers, dp::TableTime now, const AllocationLimits& limits) {
    if (limits.new_peers_per_second == 0) return true;
    refill(now, limits);
    return peers <= tokens_;
  }
  // Takes what fits() allowed.
  void take(uint32_t peers, const AllocationLimits& limits) {
    if (limits.new_peers_per_second != 0) tokens_ -= std::min(peers, tokens_);
  }
  uint32_t tokens() const { return tokens_; }

 private:
  void refill(dp::TableTime now, const AllocationLimits& limits) {
    if (!started_) {
      started_ = true;
      tokens_ = limits.new_peers_burst;
      last_ = std::max(last_, now);
    }
    if (now > last_) {
      const uint64_t added = uint64_t{now - last_} * limits.new_peers_per_second;
      tokens_ = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{tokens_} + added, limits.new_peers_burst));
      last_ = now;
    }
    tokens_ = std::min(tokens_, limits.new_peers_burst);  // a reload may have made the bucket shallower
  }

  dp::TableTime last_ = 0;
  uint32_t tokens_ = 0;
  bool started_ = false;
};

// What limits.allocations_per_address counts a client under: its address, or for IPv6 its /64 —
// one subscriber's prefix, where each host may hold many addresses and pick a new one at will.
IpAddress address_key(const IpAddress& client);

}  // namespace tern::ctl
