// RFC 8656 §7.2 Receiving an Allocate Request: the checks in the RFC's order, then the allocation.

#include "control/turn/handlers.hpp"
#include "control/stun/address_attributes.hpp"
#include "control/stun/turn_attributes.hpp"

namespace tern::ctl {
namespace {

using stun::ErrorCode;

// What the checks settled before anything is taken.
struct AllocatePlan {
  Family family = Family::ipv4;
  bool dont_fragment = false;
  std::optional<stun::EvenPort> even_port;
  std::optional<stun::ReservationToken> token;
  bool additional_ipv6 = false;  // ADDITIONAL-ADDRESS-FAMILY asked for a second, IPv6 address
  uint32_t lifetime = 0;
};

// 486 Allocation Quota Reached for a limit of the `limits` group, counted by limit and logged.
std::nullopt_t refuse(HandlerContext& ctx, Transaction& tx, Counter counter, std::string_view limit) {
  ctx.counters.add(counter);
  ctx.logger.line(LogLevel::info, "limit_refused")
      .kv("limit", limit)
      .kv("method", "Allocate")
      .kv("user", tx.auth.username)
      .kv(tx.five_tuple);
  tx.reply.error(ErrorCode::kAllocationQuotaReached);
  return std::nullopt;
}

// Runs checks 2-10; on failure the error is in the reply and nullopt returned.
std::optional<AllocatePlan> check(HandlerContext& ctx, Transaction& tx) {
  const stun::Message& m = tx.message;
  AllocatePlan plan;
  auto fail = [&tx](ErrorCode code, std::string_view reason = {}) -> std::optional<AllocatePlan> {
    tx.reply.error(code, reason);
    return std::nullopt;
  };

  // 2. "The server checks if the 5-tuple is currently in use by an existing allocation. If yes, the
  // server rejects the request with a 437 (Allocation Mismatch) error." (A retransmission of the
  // Allocate that made it never gets here: it is answered from the transaction cache or the
  // allocation's stored answer.)
  if (tx.allocation != nullptr) return fail(ErrorCode::kAllocationMismatch);

  // 11. "at any point, the server MAY choose to reject the request with a 300 (Try Alternate)
  // error if it wishes to redirect the client to a different server." While draining, new
  // allocations go to the alternate server when one is configured (RFC 8489 §10 requires
  // ALTERNATE-SERVER with 300); otherwise they get 508, after which a client "SHOULD wait at least
  // 1 minute before trying to create any more allocations on this server" (§7.4).
  if (ctx.draining) {
    if (const auto& alternate = ctx.settings.alternate_server.of(tx.transport)) {
      tx.reply.error(ErrorCode::kTryAlternate).add_alternate_server(*alternate);
      return std::nullopt;
    }
    return fail(ErrorCode::kInsufficientCapacity);
  }

  // 3. "If the REQUESTED-TRANSPORT attribute is not included or is malformed, the server rejects the
  // request with a 400 (Bad Request) error. Otherwise, if the attribute is included but specifies a
  // protocol that is not supported by the server, the server rejects the request with a 442
  // (Unsupported Transport Protocol) error."
  const auto transport = stun::requested_transport(m);
  if (!transport) return fail(ErrorCode::kBadRequest);
  if (transport->protocol != stun::RequestedTransport::kUdp) return fail(ErrorCode::kUnsupportedTransportProtocol);

  // 4. DONT-FRAGMENT: supported; the data plane sets DF on what it sends to peers.
  const auto dont_fragment = stun::dont_fragment(m);
  if (dont_fragment.malformed()) return fail(ErrorCode::kBadRequest);
  plan.dont_fragment = dont_fragment.present();

  const auto token = stun::reservation_token(m);
  const auto even = stun::even_port(m);
  const auto requested = stun::requested_address_family(m);
  const auto additional = stun::additional_address_family(m);
  const auto lifetime = stun::lifetime(m);
  if (token.malformed() || even.malformed() || requested.malformed() || additional.malformed() ||
      lifetime.malformed()) {
    return fail(ErrorCode::kBadRequest);
  }

  // 5. "If yes, and the request also contains an EVEN-PORT or REQUESTED-ADDRESS-FAMILY or
  // ADDITIONAL-ADDRESS-FAMILY attribute, the server rejects the request with a 400 (Bad Request)
  // error. Otherwise, it checks to see if the token is valid ... If the token is not valid for some
  // reason, the server rejects the request with a 508 (Insufficient Capacity) error."
  if (token) {
    if (even || requested || additional) return fail(ErrorCode::kBadRequest);
    const auto reserved = ctx.reservations.peek(*token, ctx.now.mono);
    if (!reserved) return fail(ErrorCode::kInsufficientCapacity);
    plan.token = *token;
    plan.family = ctx.ports.address(reserved->address).family();
  }

  // 6. "both REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY ... 400 (Bad Request)"
  if (requested && additional) return fail(ErrorCode::kBadRequest);

  // 7. "If the server does not support the address family requested by the client in
  // REQUESTED-ADDRESS-FAMILY ... 440 (Address Family not Supported) ... If the
  // REQUESTED-ADDRESS-FAMILY attribute is absent and the server does not support the IPv4 address
  // family, the server MUST include an ERROR-CODE attribute with the 440".
  if (requested) {
    const auto family = requested->family();
    if (!family || !ctx.ports.has_family(*family)) return fail(ErrorCode::kAddressFamilyNotSupported);
    plan.family = *family;
  } else if (plan.token) {
    // The reserved address decides the family.
  } else if (!ctx.ports.has_family(Family::ipv4)) {
    return fail(ErrorCode::kAddressFamilyNotSupported);
  }

  // 8. "EVEN-PORT attribute with the R bit set to 1. If yes, and the request also contains an
  // ADDITIONAL-ADDRESS-FAMILY attribute, the server rejects the request with a 400 (Bad Request)
  // error." (Whether it can be satisfied is known when the port is taken: 508 then.)
  if (even) {
    if (even->reserve && additional) return fail(ErrorCode::kBadRequest);
    plan.even_port = *even;
  }

  // 9. "If yes, and the attribute value is 0x01 (IPv4 address family), then the server rejects the
  // request with a 400 (Bad Request) error." Any value other than IPv6 is as wrong. tern relays
  // one address per allocation (the data plane maps a 5-tuple to one relayed address), so a dual
  // allocation is met partially: IPv4 only, and ADDRESS-ERROR-CODE 440 for IPv6.
  if (additional) {
    if (additional->family() != Family::ipv6) return fail(ErrorCode::kBadRequest);
    plan.additional_ipv6 = true;
  }

  // 10. "the server MAY choose to reject the request with a 486 (Allocation Quota Reached) error ...
  // based on the username used to authenticate the request".
  if (ctx.settings.total_quota != 0 && ctx.allocations.size() >= ctx.settings.total_quota)
    return refuse(ctx, tx, Counter::limit_total_quota, "total_quota");
  if (ctx.settings.user_quota != 0 && ctx.allocations.count_for(tx.auth.quota_user) >= ctx.settings.user_quota)
    return refuse(ctx, tx, Counter::limit_user_quota, "user_quota");
  // "The server is free to define this allocation quota any way it wishes, but it SHOULD define it
  // based on the username used to authenticate the request and not on the client's transport
  // address": many users share an address behind a NAT. limits.allocations_per_address is that
  // quota's backstop against one address holding the table (a leaked credential, a bot), so its
  // default is far above what a carrier NAT puts behind one address, and exempt prefixes lift it.
  // 486 rather than 508: the server has room, this client has used its share, and either way the
  // client "SHOULD wait at least 1 minute" (§7.4).
  if (ctx.settings.address_limited(tx.five_tuple.client.ip) &&
      ctx.allocations.count_from(tx.five_tuple.client.ip) >= ctx.settings.allocations_per_address)
    return refuse(ctx, tx, Counter::limit_allocations_per_address, "allocations_per_address");

  plan.lifetime = ctx.settings.lifetime(lifetime ? std::optional<uint32_t>(lifetime->seconds) : std::nullopt);
  return plan;
}

}  // namespace

void handle_allocate(HandlerContext& ctx, Transaction& tx) {
  const auto plan = check(ctx, tx);
  if (!plan) return;
  if (!ctx.allocations.has_free_slot()) {
    tx.reply.error(ErrorCode::kInsufficientCapacity);
    return;
  }

  // The relayed transport address: the reserved one, or a random free port (even when asked,
  // with N+1 reserved for a later Allocate when R is set).
  std::optional<PortLease> lease;
  bool reserve_next = false;
  if (plan->token) {
    lease = ctx.reservations.take(*plan->token, ctx.now.mono);
    if (lease) ctx.counters.add(Counter::reservations_used);
  } else {
    const bool even = plan->even_port.has_value();
    reserve_next = even && plan->even_port->reserve;
    lease = ctx.ports.acquire(plan->family, even, reserve_next);
  }
  if (!lease) {
    tx.reply.error(ErrorCode::kInsufficientCapacity);
    return;
  }

  Allocation proto;
  proto.five_tuple = tx.five_tuple;
  proto.client_transport = tx.transport;
  proto.stream = tx.stream;
  proto.lease = *lease;
  proto.relayed = {ctx.ports.address(lease->address), lease->port};
  proto.advertised = ctx.settings.advertise(proto.relayed);
  proto.username = std::string(tx.auth.username);
  proto.quota_user = std::string(tx.auth.quota_user);
  proto.expires = ctx.now.mono + plan->lifetime;
  proto.dont_fragment = plan->dont_fragment;
  proto.max_bps = ctx.settings.max_bps;
  proto.allocate_id = tx.message.transaction_id();
  const PortLease next{lease->address, Port{static_cast<uint16_t>(lease->port.value + 1)}};

  const auto added = ctx.allocations.add(std::move(proto), ctx.now.mono);
  if (added.result != dp::WriteResult::ok) {
    ctx.ports.release(*lease);
    if (reserve_next) ctx.ports.release(next);
    // unsupported: the data plane has no relay address of the family asked for.
    tx.reply.error(added.result == dp::WriteResult::unsupported ? ErrorCode::kAddressFamilyNotSupported
                                                               : ErrorCode::kInsufficientCapacity);
    return;
  }
  Allocation& a = *added.allocation;
  if (reserve_next) {
    a.reservation = ctx.reservations.add(next, ctx.now.mono);
    ctx.counters.add(Counter::reservations_created);
  }

  // "The success response contains: An XOR-RELAYED-ADDRESS attribute ..., A LIFETIME attribute
  // ..., A RESERVATION-TOKEN attribute (if a second relayed transport address was reserved), An
  // XOR-MAPPED-ADDRESS attribute containing the client's IP address and port (from the 5-tuple)."
  stun::Builder& b = tx.reply.success();
  b.add_xor_relayed_address(a.advertised);
  if (plan->additional_ipv6) b.add_address_error_code(Family::ipv6, ErrorCode::kAddressFamilyNotSupported);
  b.add_lifetime({plan->lifetime});
  if (a.reservation) b.add_reservation_token(*a.reservation);
  b.add_xor_mapped_address(tx.five_tuple.client);
}

}  // namespace tern::ctl
