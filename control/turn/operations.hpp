#pragma once
// The typed requests and answers of the operator surface (ternctl over the control socket, and
// the metrics endpoint). The socket handler and any CLI call the same ControlPlane functions.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "conf/net.hpp"
#include "control/allocations/limits.hpp"
#include "control/stun/turn_attributes.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

// Which allocations a listing shows; every given field must match.
struct AllocationFilter {
  std::optional<std::string> user = {};         // the username that created it
  std::optional<IpAddress> client_ip = {};      // the client's address, any port
  std::optional<TransportAddress> client = {};  // the client's transport address
  size_t limit = std::numeric_limits<size_t>::max();
};

struct AllocationSummary {
  dp::AllocId id{};
  std::string user;
  dp::FiveTuple five_tuple;
  ClientTransport client_transport = ClientTransport::udp;
  TransportAddress relayed;  // as advertised to the client
  TransportAddress bound;    // on our relay address
  uint32_t expires_in = 0;   // seconds
  uint32_t age = 0;          // seconds since it was created
  uint32_t permissions = 0;
  uint32_t channels = 0;
};

struct PermissionState {
  IpAddress peer;
  uint32_t expires_in = 0;
};

struct ChannelState {
  uint16_t number = 0;
  TransportAddress peer;
  uint32_t expires_in = 0;
};

struct AllocationDetail {
  AllocationSummary summary;
  bool dont_fragment = false;
  uint64_t max_bps = 0;
  std::optional<stun::ReservationToken> reservation;
  std::vector<PermissionState> permissions;
  std::vector<ChannelState> channels;
  LimitRefusalCounts refusals;  // requests the limits refused it
};

// What applying a reloaded configuration did.
struct ApplyResult {
  // Settings that changed but take effect only after a restart (they shape the data plane or the
  // keys themselves), of those the control plane reads: realm, listen.udp, relay.addresses,
  // relay.ports, dataplane.table_size. (ternd compares the rest of its own.)
  std::vector<std::string> restart_required;
  size_t users = 0;
  size_t secrets = 0;
  // Permissions removed from live allocations because the new peer policy denies their peer.
  size_t permissions_revoked = 0;
};

}  // namespace tern::ctl
