// RFC 8656 §12.2 Receiving a ChannelBind Request.

#include <optional>

#include "control/turn/handlers.hpp"
#include "control/stun/address_attributes.hpp"
#include "control/stun/turn_attributes.hpp"

namespace tern::ctl {

using stun::ErrorCode;

namespace {

// "The channel number is not currently bound to a different transport address (same transport
// address is OK); The transport address is not currently bound to a different channel number."
// Bindings that expired less than 5 minutes ago still count (RFC 8656 §12). The binding in the
// way, if any.
struct Conflict {
  stun::ChannelNumber number;
  TransportAddress peer;
  bool recently_expired;
};

std::optional<Conflict> conflict(const Allocation& a, stun::ChannelNumber number, const TransportAddress& peer) {
  for (const auto& c : a.channels)
    if ((c.number == number) != (c.peer == peer)) return Conflict{c.number, c.peer, false};
  for (const auto& cd : a.cooldowns)
    if ((cd.number == number) != (cd.peer == peer)) return Conflict{cd.number, cd.peer, true};
  return std::nullopt;
}

}  // namespace

void handle_channel_bind(HandlerContext& ctx, Transaction& tx) {
  if (tx.allocation == nullptr) {
    tx.reply.error(ErrorCode::kAllocationMismatch);
    return;
  }
  Allocation& a = *tx.allocation;

  // "The request contains both a CHANNEL-NUMBER and an XOR-PEER-ADDRESS attribute; The channel
  // number is in the range 0x4000 through 0x4FFF (inclusive); ... If any of these tests fail, the
  // server replies with a 400 (Bad Request) error."
  const auto number = stun::channel_number(tx.message);
  const auto peer = stun::xor_peer_address(tx.message);
  const bool in_range =
      number && (number->valid() || (ctx.settings.rfc5766_channels && number->valid_rfc5766()));
  if (number && !in_range && number->valid_rfc5766()) {
    // An RFC 5766 client: say which setting would accept it, so the 400 is not a mystery.
    ctx.logger.line(LogLevel::notice, "channel_bind_refused")
        .kv(tx.five_tuple)
        .kv("channel", number->value)
        .kv("reason", "rfc5766_range")
        .kv("hint", "compat.rfc5766_channels = true accepts 0x5000-0x7FFF");
  }
  if (!peer || !in_range) {
    tx.reply.error(ErrorCode::kBadRequest);
    return;
  }
  if (const auto c = conflict(a, *number, *peer)) {
    // A client's own mistake, and a puzzling one from its side: name the binding in the way.
    ctx.logger.line(LogLevel::info, "channel_bind_refused")
        .kv(tx.five_tuple)
        .kv("channel", number->value)
        .kv("peer", *peer)
        .kv("reason", c->number == *number ? "channel_bound_to_another_peer" : "peer_bound_to_another_channel")
        .kv("bound_channel", c->number.value)
        .kv("bound_peer", c->peer)
        .kv("bound", c->recently_expired ? "expired_within_5_min" : "live");
    tx.reply.error(ErrorCode::kBadRequest);
    return;
  }
  // "If the XOR-PEER-ADDRESS attribute contains an address of an address family that is not the same
  // as that of a relayed transport address for the allocation, the server MUST generate an error
  // response with the 443 (Peer Address Family Mismatch) response code."
  if (peer->ip.family() != a.relayed.ip.family()) {
    tx.reply.error(ErrorCode::kPeerAddressFamilyMismatch);
    return;
  }
  // "The server MAY impose restrictions on the IP address and port values allowed in the
  // XOR-PEER-ADDRESS attribute; if a value is not allowed, the server rejects the request with a 403
  // (Forbidden) error."
  if (!peer_permitted(ctx, a, peer->ip)) {
    tx.reply.error(ErrorCode::kForbidden);
    return;
  }
  // "If the server can satisfy the request, then the server creates or refreshes the channel binding
  // ... The server also installs or refreshes a permission for the IP address in the
  // XOR-PEER-ADDRESS attribute". Both or neither, within the limits: "508 (Insufficient Capacity)".
  const auto change = ctx.allocations.bind_channel(a, *number, *peer, ctx.now.mono + ctx.settings.channel_lifetime,
                                                   ctx.now.mono + ctx.settings.permission_lifetime, ctx.now.mono);
  if (!change.ok()) {
    tx.reply.error(refusal_error(change));
    return;
  }
  // "There are no required attributes in a successful ChannelBind response."
  tx.reply.success();
}

}  // namespace tern::ctl
