// RFC 8656 §10.2 Receiving a CreatePermission Request, and the peer checks it shares with
// ChannelBind (§12.2).

#include <array>

#include "control/turn/handlers.hpp"
#include "control/stun/address_attributes.hpp"

namespace tern::ctl {

using stun::ErrorCode;

bool peer_permitted(HandlerContext& ctx, const Allocation& a, const IpAddress& peer) {
  const PeerVerdict verdict = ctx.policy.check(peer);
  if (permitted(verdict)) return true;
  ctx.counters.add(Counter::peers_denied);
  ctx.logger.line(LogLevel::info, "peer_denied")
      .kv("user", a.username)
      .kv(a.five_tuple)
      .kv("peer", peer)
      .kv("verdict", to_string(verdict));
  return false;
}

ErrorCode refusal_error(const PeerChange& change) {
  // RFC 8656 §10.2 and §12.2: "If the request is valid, but the server is unable to fulfill the
  // request due to some capacity limit or similar, the server replies with a 508 (Insufficient
  // Capacity) error." The limits are such a capacity, held per allocation: the client may retry
  // later (new peers per second) or once permissions or channels have expired. (403 would tell it
  // not to retry "until it believes the problem has been fixed", and 486 answers Allocates.)
  if (change.refused) return ErrorCode::kInsufficientCapacity;
  return capacity_error(change.result);
}

ErrorCode capacity_error(dp::WriteResult result) {
  // no_room: the allocation's or the data plane's sets are full. unsupported cannot follow the
  // family check, and not_found would be the model and the tables disagreeing: neither is the
  // client's doing.
  return result == dp::WriteResult::no_room ? ErrorCode::kInsufficientCapacity : ErrorCode::kServerError;
}

void handle_create_permission(HandlerContext& ctx, Transaction& tx) {
  if (tx.allocation == nullptr) {
    tx.reply.error(ErrorCode::kAllocationMismatch);
    return;
  }
  Allocation& a = *tx.allocation;

  // "The CreatePermission request MUST contain at least one XOR-PEER-ADDRESS attribute and MAY
  // contain multiple such attributes. If no such attribute exists, or if any of these attributes
  // are invalid, then a 400 (Bad Request) error is returned."
  std::array<IpAddress, stun::kMaxAttributes> peers{};
  size_t count = 0;
  for (const auto attribute : tx.message.all(stun::AttributeType::xor_peer_address)) {
    const auto peer = stun::decode_xor_address(attribute.value, tx.message.transaction_id());
    if (!peer) {
      tx.reply.error(ErrorCode::kBadRequest);
      return;
    }
    peers[count++] = peer->ip;
  }
  if (count == 0) {
    tx.reply.error(ErrorCode::kBadRequest);
    return;
  }
  // "If an XOR-PEER-ADDRESS attribute contains an address of an address family that is not the same
  // as that of a relayed transport address for the allocation, the server MUST generate an error
  // response with the 443 (Peer Address Family Mismatch) response code."
  for (size_t i = 0; i < count; ++i) {
    if (peers[i].family() != a.relayed.ip.family()) {
      tx.reply.error(ErrorCode::kPeerAddressFamilyMismatch);
      return;
    }
  }
  // "The server MAY impose restrictions on the IP address allowed in the XOR-PEER-ADDRESS attribute;
  // if a value is not allowed, the server rejects the request with a 403 (Forbidden) error."
  for (size_t i = 0; i < count; ++i) {
    if (!peer_permitted(ctx, a, peers[i])) {
      tx.reply.error(ErrorCode::kForbidden);
      return;
    }
  }
  // "If the message is valid and the server is capable of carrying out the request, then the server
  // installs or refreshes a permission for the IP address contained in each XOR-PEER-ADDRESS
  // attribute" — all of them or, when the limits refuse the new ones or one does not fit, none
  // ("508 (Insufficient Capacity)").
  const auto change = ctx.allocations.install_permissions(a, std::span<const IpAddress>(peers.data(), count),
                                                          ctx.now.mono + ctx.settings.permission_lifetime,
                                                          ctx.now.mono);
  if (!change.ok()) {
    tx.reply.error(refusal_error(change));
    return;
  }
  // "The server then responds with a CreatePermission success response. There are no mandatory
  // attributes in the success response."
  tx.reply.success();
}

}  // namespace tern::ctl
