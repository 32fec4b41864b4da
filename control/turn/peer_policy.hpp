#pragma once
// Which peers a client may reach through its allocation (RFC 8656 §10.2 and §12.2: "The server MAY
// impose restrictions on the IP address ... allowed in the XOR-PEER-ADDRESS attribute; if a value
// is not allowed, the server rejects the request with a 403 (Forbidden) error").
//
// A relay must not become a way into the networks behind it. Every decision is made on the
// address's canonical form first: IPv6 has several encodings that carry an IPv4 address
// (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, SIIT ::ffff:0:a.b.c.d, NAT64
// 64:ff9b::a.b.c.d, 6to4 2002:AABB:CCDD::, Teredo 2001:0::), and a deny list written for IPv4 is
// dodged by re-encoding the target unless the embedded IPv4 is checked too. That is the class of
// bug behind CVE-2020-26262 (0.0.0.0 and :: reaching loopback) and CVE-2026-27624 (IPv4-in-IPv6
// encodings other than ::ffff: bypassing denied-peer-ip) in another TURN server.
//
// Order of the checks, first match wins:
//   1. our own relay addresses (bound or advertised): allowed, always (two allocations on this
//      server relay to each other; the data plane hairpins them)
//   2. our other own addresses (listeners, data plane ports, metrics): denied, always
//   3. peers.allow: allowed ("allow punches holes")
//   4. the built-in deny list, peers.deny, and the IPv4-in-IPv6 encodings: denied
//   5. anything else: allowed
// Steps 1 to 4 look at the address as given and at every IPv4 address it embeds.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "conf/net.hpp"

namespace tern::ctl {

enum class PeerVerdict : uint8_t {
  allowed,
  own_relay,       // allowed: one of our relayed addresses (hairpin)
  allowed_by_config,
  own_address,     // denied: a non-relay address of this server
  denied_default,  // denied: built-in range (loopback, private, link-local, ...)
  denied_config,   // denied: peers.deny
};
constexpr bool permitted(PeerVerdict v) {
  return v == PeerVerdict::allowed || v == PeerVerdict::own_relay || v == PeerVerdict::allowed_by_config;
}
std::string_view to_string(PeerVerdict verdict);

// The IPv4 addresses an IPv6 address carries, in the order the forms are listed above (a Teredo
// address carries two: the client's, de-obfuscated, and the Teredo server's). Empty for IPv4 and for
// native IPv6. :: and ::1 are not IPv4-compatible addresses; they stay themselves.
struct EmbeddedIpv4 {
  std::array<IpAddress, 2> addresses{};
  uint8_t count = 0;
  std::span<const IpAddress> span() const { return {addresses.data(), count}; }
};
EmbeddedIpv4 embedded_ipv4(const IpAddress& ip);

// The address policy decisions are made on: the IPv4 address an IPv4-in-IPv6 form carries (the
// first of embedded_ipv4()), otherwise the address itself.
IpAddress canonical_peer(const IpAddress& ip);

class PeerPolicy {
 public:
  PeerPolicy() = default;
  // relay.addresses and relay.external advertise addresses are ours to relay to; listen.udp,
  // dataplane.ports[].addresses and the metrics address are ours to protect.
  static PeerPolicy from_config(const conf::Config& config);

  PeerVerdict check(const IpAddress& peer) const;

  // The built-in list this policy denies (conf::default_peer_deny() plus the IPv4-in-IPv6 forms).
  static std::span<const Prefix> builtin_deny();

 private:
  PeerVerdict check_one(const IpAddress& ip) const;

  std::vector<IpAddress> relay_;
  std::vector<IpAddress> own_;
  std::vector<Prefix> allow_;
  std::vector<Prefix> deny_;
};

}  // namespace tern::ctl
