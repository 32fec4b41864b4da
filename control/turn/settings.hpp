#pragma once
// The settings request handling reads, taken from a conf::Config once (at start and on every
// reload) and kept in the units the handlers use.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "conf/net.hpp"
#include "control/allocations/limits.hpp"

namespace tern::ctl {

struct Settings {
  std::string realm;
  std::string software;  // empty: no SOFTWARE attribute
  conf::AlternateServer alternate_server;  // per client transport
  // RFC 8656 §7.2 / §8.2: the default and maximum allocation lifetimes, seconds.
  uint32_t lifetime_default = 600;
  uint32_t lifetime_max = 3600;
  uint32_t permission_lifetime = 300;  // RFC 8656 §9
  uint32_t channel_lifetime = 600;     // RFC 8656 §12
  uint32_t user_quota = 0;             // 0 = unlimited
  uint32_t total_quota = 0;
  uint64_t max_bps = 0;
  uint32_t allocation_pps = 0;         // packets per second per allocation and direction; 0 = unlimited
  AllocationLimits allocation_limits;  // limits.new_peers_*, permissions_/channels_per_allocation
  // limits.allocations_per_address (0 = unlimited) and the client prefixes it does not apply to.
  uint32_t allocations_per_address = 0;
  std::vector<Prefix> allocations_per_address_exempt;
  std::vector<conf::ExternalAddress> external;
  bool rfc5766_channels = false;  // compat.rfc5766_channels: also accept channels 0x5000-0x7FFF

  static Settings from(const conf::Config& config);

  // RFC 8656 §7.2 and §8.2: "If the request contains a LIFETIME attribute, then the server computes
  // the minimum of the client's proposed lifetime and the server's maximum allowed lifetime. If
  // this computed value is greater than the default lifetime, then the server uses the computed
  // lifetime ... Otherwise, the server uses the default lifetime." (A Refresh's 0 is handled by
  // the caller.)
  uint32_t lifetime(std::optional<uint32_t> requested) const;

  // The address clients are told (relay.external 1:1 NAT), for a relayed address we bound.
  TransportAddress advertise(const TransportAddress& relayed) const;

  // Whether limits.allocations_per_address applies to a client at this address.
  bool address_limited(const IpAddress& client) const;
};

}  // namespace tern::ctl
