// RFC 8656 §8.2 Receiving a Refresh Request.

#include "control/turn/handlers.hpp"
#include "control/stun/turn_attributes.hpp"

namespace tern::ctl {

using stun::ErrorCode;

void handle_refresh(HandlerContext& ctx, Transaction& tx) {
  // RFC 8656 §5: "if the 5-tuple does not identify an existing allocation, then the message MUST
  // ... be rejected with a 437 Allocation Mismatch error".
  if (tx.allocation == nullptr) {
    tx.reply.error(ErrorCode::kAllocationMismatch);
    return;
  }
  Allocation& a = *tx.allocation;
  const auto lifetime = stun::lifetime(tx.message);
  const auto family = stun::requested_address_family(tx.message);
  if (lifetime.malformed() || family.malformed()) {
    tx.reply.error(ErrorCode::kBadRequest);
    return;
  }
  // "If the server receives a Refresh Request with a REQUESTED-ADDRESS-FAMILY attribute and the
  // attribute value does not match the address family of the allocation, the server MUST reply
  // with a 443 (Peer Address Family Mismatch) Refresh error response."
  if (family && family->family() != a.relayed.ip.family()) {
    tx.reply.error(ErrorCode::kPeerAddressFamilyMismatch);
    return;
  }

  // "if the request contains a LIFETIME attribute and the attribute value is zero, then the
  // "desired lifetime" is zero" -> "the request succeeds and the allocation is deleted."
  if (lifetime && lifetime->seconds == 0) {
    ctx.allocations.remove(a, RemoveReason::deleted);
    tx.allocation = nullptr;
    tx.reply.success().add_lifetime({0});
    return;
  }
  const uint32_t desired = ctx.settings.lifetime(lifetime ? std::optional<uint32_t>(lifetime->seconds) : std::nullopt);
  if (ctx.allocations.refresh(a, ctx.now.mono + desired, ctx.now.mono) != dp::WriteResult::ok) {
    tx.reply.error(ErrorCode::kServerError);
    return;
  }
  // "If the request succeeds, then the server sends a success response containing: A LIFETIME
  // attribute containing the current value of the time-to-expiry timer."
  tx.reply.success().add_lifetime({desired});
}

}  // namespace tern::ctl
