#pragma once
// The TURN and STUN request handlers (RFC 8656 §7-§12, RFC 8489 §6.3.1). Each runs after the
// request authenticated and passed the checks common to every request (unknown
// comprehension-required attributes, 441 Wrong Credentials); it decides the answer, changes the
// model through Allocations, and leaves the integrity attributes to the burst's sealing.

#include <cstdint>

#include "control/allocations/allocations.hpp"
#include "control/auth/authenticator.hpp"
#include "control/base/clock.hpp"
#include "control/base/counters.hpp"
#include "control/base/log.hpp"
#include "control/turn/peer_policy.hpp"
#include "control/allocations/port_pool.hpp"
#include "control/turn/reply.hpp"
#include "control/allocations/reservations.hpp"
#include "control/turn/settings.hpp"
#include "control/stun/parser.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

struct HandlerContext {
  const Settings& settings;
  Allocations& allocations;
  PortPool& ports;
  Reservations& reservations;
  const PeerPolicy& policy;
  Counters& counters;
  const Logger& logger;
  Now now;
  bool draining = false;
};

struct Transaction {
  const dp::FiveTuple& five_tuple;
  ClientTransport transport;  // how the request came: UDP, or a TCP or TLS connection (stream)
  dp::StreamId stream;
  const stun::Message& message;
  const AuthResult& auth;   // outcome ok for every handler but an unauthenticated Binding
  Allocation* allocation;   // the 5-tuple's live allocation, if any
  Reply& reply;
};

void handle_allocate(HandlerContext& ctx, Transaction& tx);
void handle_refresh(HandlerContext& ctx, Transaction& tx);
void handle_create_permission(HandlerContext& ctx, Transaction& tx);
void handle_channel_bind(HandlerContext& ctx, Transaction& tx);
void handle_binding(HandlerContext& ctx, Transaction& tx);

// Shared by CreatePermission and ChannelBind: the peer policy's verdict, counted and logged when
// it refuses; and the error for a permission or channel a limit refused or the tables could not
// take.
bool peer_permitted(HandlerContext& ctx, const Allocation& a, const IpAddress& peer);
stun::ErrorCode capacity_error(dp::WriteResult result);
stun::ErrorCode refusal_error(const PeerChange& change);

}  // namespace tern::ctl
