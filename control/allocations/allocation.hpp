#pragma once
// The control plane's own model of one allocation (RFC 8656 §6), the shadow of what it published
// in the data plane's tables: "the relayed transport address ..., the 5-tuple ..., the
// authentication information, the time-to-expiry ..., a list of permissions ..., a list of
// channel-to-peer bindings". Times are TableTime seconds; a thing is live while now < expires.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conf/net.hpp"
#include "control/auth/nonce.hpp"
#include "control/allocations/limits.hpp"
#include "control/allocations/port_pool.hpp"
#include "control/stun/channel_data.hpp"
#include "control/stun/message.hpp"
#include "control/stun/turn_attributes.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

// RFC 8656 §9: "Each permission consists of an IP address and an associated time-to-expiry."
struct Permission {
  IpAddress peer;
  dp::TableTime expires = 0;
};

// RFC 8656 §12: a channel number bound to a peer transport address.
struct ChannelBinding {
  stun::ChannelNumber number;
  TransportAddress peer;
  dp::TableTime expires = 0;
};

// RFC 8656 §12: "the client MUST wait 5 minutes after the channel binding expires before attempting
// to bind the channel number to a different transport address or the transport address to a
// different channel number." tern holds the pair for that long and refuses other pairings (400).
inline constexpr uint32_t kChannelCooldown = 300;
struct ChannelCooldown {
  stun::ChannelNumber number;
  TransportAddress peer;
  dp::TableTime until = 0;
};

struct Allocation {
  dp::AllocId id{};
  uint64_t serial = 0;  // unique for the process's life; tells a reused slot from its last owner
  dp::FiveTuple five_tuple;
  ClientTransport client_transport = ClientTransport::udp;
  dp::StreamId stream = dp::StreamId::none;  // a TCP or TLS client's connection: the allocation lives and dies with it
  PortLease lease;
  TransportAddress relayed;     // as bound on our relay address
  TransportAddress advertised;  // as XOR-RELAYED-ADDRESS tells it (relay.external 1:1 NAT)
  std::string username;         // the USERNAME (or USERHASH's user) that created it
  std::string quota_user;       // what the per-user quota counts: the REST user part, or the username
  dp::TableTime created = 0;
  dp::TableTime expires = 0;
  bool dont_fragment = false;
  uint64_t max_bps = 0;
  std::optional<stun::ReservationToken> reservation;  // the token its Allocate handed out

  // RFC 8656 §7.2 / RFC 8489 §6.3.1: a retransmitted Allocate gets its first answer again, never a
  // 437, for as long as the allocation lives.
  stun::TransactionId allocate_id;
  std::vector<uint8_t> allocate_response;

  // The last nonce whose tag verified for this 5-tuple: the same nonce again needs no HMAC.
  Nonce verified_nonce;
  bool has_verified_nonce = false;

  std::vector<Permission> permissions;
  std::vector<ChannelBinding> channels;
  std::vector<ChannelCooldown> cooldowns;

  NewPeerBucket new_peers;         // limits.new_peers_per_second
  LimitRefusalCounts refusals;     // requests a limit refused, shown by ternctl allocation

  dp::TableTime scheduled = 0;  // the earliest pending expiry-wheel entry; 0: none
};

}  // namespace tern::ctl
