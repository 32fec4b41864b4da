#pragma once
// The control plane's counters and gauges. One X-macro list defines the enum, the names the
// control socket and the metrics endpoint show, the help text and the kind (a counter only
// grows; a gauge is a level that is set). Single-threaded: the control lcore is the only writer.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "control/stun/error_attributes.hpp"
#include "control/stun/message.hpp"
#include "dataplane/contract/counter_list.hpp"

namespace tern::ctl {

// X(name, help) for counters, G(name, help) for gauges.
#define TERN_CTL_COUNTERS(X, G)                                                                  \
  /* requests by method */                                                                       \
  X(requests_binding, "Binding requests handled by the control plane")                          \
  X(requests_allocate, "Allocate requests")                                                      \
  X(requests_refresh, "Refresh requests")                                                        \
  X(requests_create_permission, "CreatePermission requests")                                     \
  X(requests_channel_bind, "ChannelBind requests")                                               \
  X(retransmissions_answered, "retransmitted requests answered from the transaction cache")      \
  X(dropped_malformed, "datagrams that are not a valid STUN message, discarded")                 \
  X(dropped_unsupported, "requests of an unknown method or a class the method does not allow")   \
  X(indications_ignored, "indications reaching the control plane (never answered)")              \
  X(responses_ignored, "success or error responses reaching the control plane")                  \
  /* responses by code */                                                                        \
  X(responses_success, "success responses")                                                      \
  X(responses_300, "300 Try Alternate")                                                          \
  X(responses_400, "400 Bad Request")                                                            \
  X(responses_401, "401 Unauthenticated")                                                        \
  X(responses_403, "403 Forbidden")                                                              \
  X(responses_420, "420 Unknown Attribute")                                                      \
  X(responses_437, "437 Allocation Mismatch")                                                    \
  X(responses_438, "438 Stale Nonce")                                                            \
  X(responses_440, "440 Address Family not Supported")                                           \
  X(responses_441, "441 Wrong Credentials")                                                      \
  X(responses_442, "442 Unsupported Transport Protocol")                                         \
  X(responses_443, "443 Peer Address Family Mismatch")                                           \
  X(responses_486, "486 Allocation Quota Reached")                                               \
  X(responses_500, "500 Server Error")                                                           \
  X(responses_508, "508 Insufficient Capacity")                                                  \
  X(responses_unbuilt, "responses that could not be built (none expected)")                      \
  /* authentication */                                                                           \
  X(auth_challenges, "401 challenges to requests without integrity")                             \
  X(auth_missing_attributes, "integrity without USERNAME/USERHASH, REALM or NONCE (400)")        \
  X(auth_bid_down, "PASSWORD-ALGORITHM(S) not matching what the nonce offered (400)")            \
  X(auth_unknown_user, "unknown USERNAME or USERHASH")                                           \
  X(auth_wrong_realm, "REALM other than ours")                                                   \
  X(auth_rest_expired, "TURN REST API usernames past their expiry")                              \
  X(auth_no_key, "users without a key for the requested password algorithm")                    \
  X(auth_bad_integrity, "MESSAGE-INTEGRITY(-SHA256) that did not verify")                        \
  X(auth_stale_nonce, "expired or foreign nonces (438)")                                         \
  X(auth_wrong_credentials, "requests on an allocation by another username (441)")               \
  X(rest_keys_derived, "TURN REST API keys derived (cache misses)")                              \
  X(unauthenticated_rate_limited, "answers to unauthenticated requests dropped by the rate limit") \
  /* allocations */                                                                              \
  X(allocations_created, "allocations created")                                                  \
  X(allocations_refreshed, "allocations refreshed")                                              \
  X(allocations_deleted, "allocations deleted by their client (Refresh with LIFETIME 0)")        \
  X(allocations_expired, "allocations expired")                                                  \
  X(allocations_killed, "allocations removed by the operator")                                   \
  X(allocations_connection_closed, "allocations of TCP and TLS clients removed with their connection") \
  X(reservations_created, "relayed addresses reserved with a RESERVATION-TOKEN")                 \
  X(reservations_used, "reservations claimed by an Allocate")                                    \
  X(reservations_expired, "reservations expired unused")                                         \
  X(permissions_created, "permissions installed")                                                \
  X(permissions_refreshed, "permissions refreshed")                                              \
  X(permissions_expired, "permissions expired")                                                  \
  X(permissions_revoked, "permissions removed because the peer policy now denies the peer")     \
  X(channels_bound, "channels bound")                                                            \
  X(channels_refreshed, "channel bindings refreshed")                                            \
  X(channels_expired, "channel bindings expired")                                                \
  X(peers_denied, "peers refused by the peer policy (403)")                                      \
  /* refusals by the limits group, by limit */                                                   \
  X(limit_new_peers_per_second, "CreatePermission/ChannelBind refused by limits.new_peers_per_second (508)") \
  X(limit_permissions_per_allocation, "CreatePermission/ChannelBind refused by limits.permissions_per_allocation (508)") \
  X(limit_channels_per_allocation, "ChannelBind refused by limits.channels_per_allocation (508)") \
  X(limit_allocations_per_address, "Allocate refused by limits.allocations_per_address (486)")   \
  X(limit_user_quota, "Allocate refused by limits.user_quota (486)")                             \
  X(limit_total_quota, "Allocate refused by limits.total_quota (486)")                           \
  X(table_write_failures, "data plane table writes that failed")                                 \
  X(transactions_uncacheable, "responses too large for the transaction cache")                   \
  /* gauges */                                                                                   \
  G(allocations_live, "allocations now")                                                         \
  G(permissions_live, "permissions now")                                                         \
  G(channels_live, "channel bindings now")                                                       \
  G(reservations_live, "reserved relayed addresses now")                                         \
  G(slots_awaiting_reclaim, "allocation slots waiting for the data plane's grace period")        \
  G(relay_ports_free, "relay ports free")                                                        \
  G(transactions_cached, "responses held for retransmissions")                                   \
  G(static_users, "configured users")                                                            \
  G(rest_secrets, "TURN REST API secrets")                                                       \
  G(draining, "1 while new allocations are refused")

enum class CounterKind : uint8_t { counter, gauge };

// Every counter and gauge alike, for the enum, the names and the help texts.
#define TERN_CTL_ALL(X) TERN_CTL_COUNTERS(X, X)
TERN_COUNTER_LIST(TERN_CTL_ALL, Counter, kCounterCount, kCounterNames, kCounterHelp);

inline constexpr std::array<CounterKind, kCounterCount> kCounterKinds = {
#define TERN_CTL_C(name, help) CounterKind::counter,
#define TERN_CTL_G(name, help) CounterKind::gauge,
    TERN_CTL_COUNTERS(TERN_CTL_C, TERN_CTL_G)
#undef TERN_CTL_C
#undef TERN_CTL_G
};

using CounterValues = std::array<uint64_t, kCounterCount>;

class Counters {
 public:
  void add(Counter c, uint64_t n = 1) { values_[static_cast<size_t>(c)] += n; }
  void set(Counter c, uint64_t value) { values_[static_cast<size_t>(c)] = value; }
  uint64_t operator[](Counter c) const { return values_[static_cast<size_t>(c)]; }
  const CounterValues& values() const { return values_; }

 private:
  CounterValues values_{};
};

// The counter of a response: responses_success for a success, responses_<code> for an error.
Counter response_counter(stun::MessageClass cls, stun::ErrorCode code);
// The counter of a request of this method; nullopt for methods the control plane does not serve.
std::optional<Counter> request_counter(stun::Method method);

}  // namespace tern::ctl
