#include "control/turn/settings.hpp"

#include <algorithm>

namespace tern::ctl {
namespace {

uint32_t seconds(std::chrono::seconds s) { return static_cast<uint32_t>(std::max<int64_t>(s.count(), 0)); }

}  // namespace

Settings Settings::from(const conf::Config& config) {
  Settings s;
  s.realm = config.realm;
  s.software = config.software;
  s.alternate_server = config.alternate_server;
  s.lifetime_default = seconds(config.lifetimes.allocation_default);
  s.lifetime_max = std::max(seconds(config.lifetimes.allocation_max), s.lifetime_default);
  s.permission_lifetime = seconds(config.lifetimes.permission);
  s.channel_lifetime = seconds(config.lifetimes.channel);
  s.user_quota = config.limits.user_quota;
  s.total_quota = config.limits.total_quota;
  s.max_bps = config.limits.max_bps;
  s.allocation_pps = config.limits.allocation_pps;
  s.allocation_limits = {config.limits.new_peers_per_second, config.limits.new_peers_burst,
                         config.limits.permissions_per_allocation, config.limits.channels_per_allocation};
  s.allocations_per_address = config.limits.allocations_per_address;
  s.allocations_per_address_exempt = config.limits.allocations_per_address_exempt;
  s.external = config.relay.external;
  s.rfc5766_channels = config.compat.rfc5766_channels;
  return s;
}

uint32_t Settings::lifetime(std::optional<uint32_t> requested) const {
  if (!requested) return lifetime_default;
  const uint32_t capped = std::min(*requested, lifetime_max);
  return capped > lifetime_default ? capped : lifetime_default;
}

TransportAddress Settings::advertise(const TransportAddress& relayed) const {
  for (const auto& e : external)
    if (e.relay == relayed.ip) return {e.advertise, relayed.port};
  return relayed;
}

bool Settings::address_limited(const IpAddress& client) const {
  if (allocations_per_address == 0) return false;
  const IpAddress canonical = client.canonical();
  for (const auto& p : allocations_per_address_exempt)
    if (p.contains(canonical)) return false;
  return true;
}

}  // namespace tern::ctl
