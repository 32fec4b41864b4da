#include "control/turn/peer_policy.hpp"

#include <algorithm>
#include <cstring>

namespace tern::ctl {
namespace {

IpAddress v4_at(const std::array<uint8_t, 16>& b, size_t at, uint8_t xor_mask = 0) {
  return IpAddress::v4(static_cast<uint8_t>(b[at] ^ xor_mask), static_cast<uint8_t>(b[at + 1] ^ xor_mask),
                       static_cast<uint8_t>(b[at + 2] ^ xor_mask), static_cast<uint8_t>(b[at + 3] ^ xor_mask));
}

bool all_zero(const std::array<uint8_t, 16>& b, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i)
    if (b[i] != 0) return false;
  return true;
}

// Ranges that only exist to carry IPv4 inside IPv6. A peer address in them is either a
// disguise or a path through a tunnel relay we do not control; none is a legitimate peer of a
// relay whose data plane speaks IPv4 natively.
constexpr std::array<std::string_view, 5> kEmbeddingForms = {
    "::ffff:0:0/96",    // IPv4-mapped (RFC 4291 §2.5.5.2)
    "::/96",            // IPv4-compatible, deprecated (RFC 4291 §2.5.5.1); holds :: and ::1 too
    "::ffff:0:0:0/96",  // IPv4-translated, SIIT (RFC 2765)
    "2002::/16",        // 6to4 (RFC 3056)
    "2001::/32",        // Teredo (RFC 4380)
};

}  // namespace

std::string_view to_string(PeerVerdict verdict) {
  switch (verdict) {
    case PeerVerdict::allowed: return "allowed";
    case PeerVerdict::own_relay: return "own_relay";
    case PeerVerdict::allowed_by_config: return "allowed_by_config";
    case PeerVerdict::own_address: return "own_address";
    case PeerVerdict::denied_default: return "denied_default";
    case PeerVerdict::denied_config: return "denied_config";
  }
  return "unknown";
}

EmbeddedIpv4 embedded_ipv4(const IpAddress& ip) {
  EmbeddedIpv4 out;
  if (!ip.is_v6()) return out;
  const auto& b = ip.raw();
  // ::ffff:a.b.c.d
  if (all_zero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff) {
    out.addresses[out.count++] = v4_at(b, 12);
    return out;
  }
  // ::ffff:0:a.b.c.d
  if (all_zero(b, 0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0) {
    out.addresses[out.count++] = v4_at(b, 12);
    return out;
  }
  // ::a.b.c.d, but not :: or ::1
  if (all_zero(b, 0, 12) && !(all_zero(b, 12, 15) && b[15] <= 1)) {
    out.addresses[out.count++] = v4_at(b, 12);
    return out;
  }
  // 64:ff9b::a.b.c.d (RFC 6052 well-known prefix)
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && all_zero(b, 4, 12)) {
    out.addresses[out.count++] = v4_at(b, 12);
    return out;
  }
  // 2002:AABB:CCDD::/48
  if (b[0] == 0x20 && b[1] == 0x02) {
    out.addresses[out.count++] = v4_at(b, 2);
    return out;
  }
  // 2001:0000:SSSS:SSSS:flags:port:CCCC:CCCC, client address obfuscated (XOR 0xff), RFC 4380 §4
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) {
    out.addresses[out.count++] = v4_at(b, 12, 0xff);
    out.addresses[out.count++] = v4_at(b, 4);
    return out;
  }
  return out;
}

IpAddress canonical_peer(const IpAddress& ip) {
  const auto embedded = embedded_ipv4(ip);
  return embedded.count > 0 ? embedded.addresses[0] : ip;
}

std::span<const Prefix> PeerPolicy::builtin_deny() {
  static const std::vector<Prefix> list = [] {
    std::vector<Prefix> out(conf::default_peer_deny().begin(), conf::default_peer_deny().end());
    for (const auto text : kEmbeddingForms) out.push_back(*Prefix::parse(text));
    return out;
  }();
  return list;
}

PeerPolicy PeerPolicy::from_config(const conf::Config& config) {
  PeerPolicy p;
  p.relay_ = config.relay.addresses;
  for (const auto& e : config.relay.external) p.relay_.push_back(e.advertise);
  auto own = [&p](const IpAddress& ip) {
    if (std::find(p.relay_.begin(), p.relay_.end(), ip) == p.relay_.end()) p.own_.push_back(ip);
  };
  for (const auto& l : config.listen.udp) own(l.ip);
  for (const auto& port : config.dataplane.ports)
    for (const auto& a : port.addresses) own(a.ip);
  if (config.control.metrics) own(config.control.metrics->ip);
  p.allow_ = config.peers.allow;
  p.deny_ = config.peers.deny;
  return p;
}

PeerVerdict PeerPolicy::check_one(const IpAddress& ip) const {
  if (std::find(relay_.begin(), relay_.end(), ip) != relay_.end()) return PeerVerdict::own_relay;
  if (std::find(own_.begin(), own_.end(), ip) != own_.end()) return PeerVerdict::own_address;
  for (const auto& prefix : allow_)
    if (prefix.contains(ip)) return PeerVerdict::allowed_by_config;
  for (const auto& prefix : builtin_deny())
    if (prefix.contains(ip)) return PeerVerdict::denied_default;
  for (const auto& prefix : deny_)
    if (prefix.contains(ip)) return PeerVerdict::denied_config;
  return PeerVerdict::allowed;
}

PeerVerdict PeerPolicy::check(const IpAddress& peer) const {
  const auto embedded = embedded_ipv4(peer);
  // An embedded IPv4 address decides first: a disguised loopback is loopback, and a disguised
  // relay address of ours is still not reached natively, so only the outer form's verdict can
  // allow it.
  for (const auto& inner : embedded.span()) {
    const PeerVerdict v = check_one(inner);
    if (!permitted(v)) return v;
  }
  return check_one(peer);
}

}  // namespace tern::ctl
