#pragma once
// What the RCU stress test (rcu_stress_test.cpp) publishes: every allocation, and every permission
// and channel of it, derives from one number, the allocation's serial. A reader that finds an entry
// can so tell whether the entry is whole (every field from the same serial) and whose it is (the
// serial it looked up, not another allocation's reusing the slot, the pool entry or the port).
//
//   serial s            client 5-tuple, relayed transport address, families, peers, channels
//   peer (s, j)         j < 32: the j-th peer of s; its IP carries s and j
//   channel 0x4000 + j  bound to peer (s, j), on port kStablePort + j or, for the channels that
//                       come and go, a port in [kToggledPort, kToggledPort + 1000)
//   expiry of a         j + 64 * m: the low six bits name the peer, so a permission word or a
//   permission/channel  channel's expiry paired with another peer's entry shows
//
// Families, from the serial's low two bits: client IPv4 or IPv6, relayed address IPv4 or IPv6 (RFC
// 8656 §7.2: they may differ). Addresses and ports in the tables are in network order; here
// everything is in host order, converted where it meets the tables.

#include <rte_byteorder.h>

#include <cstdint>

#include "dataplane/tables/tables.hpp"

namespace tern::dp::stress {

inline constexpr uint32_t kSerialLimit = 1u << 24;  // a serial fits the low 24 bits of an IPv4 address
inline constexpr TableTime kNow = 100;              // the readers' clock: time does not pass

// An allocation's expiry: published but not ready (its permissions and channels still coming),
// ready (everything below is in place), or expired but not yet removed.
inline constexpr TableTime kPending = 150;
inline constexpr TableTime kReady = 1000;  // kReady .. kReady + 999
inline constexpr TableTime kExpired = 90;

inline constexpr unsigned kRelays4 = 2;  // relay indexes 0 and 1; the IPv6 relay address is index 2
inline constexpr uint16_t kServerPort = 3478;
inline constexpr uint16_t kStablePort = 20000;
inline constexpr uint16_t kToggledPort = 30000;
inline constexpr uint16_t kChannelBase = 0x4000;  // RFC 8656 §12: 0x4000 - 0x4FFF

// Peers of an allocation: [0, stable) are granted before it is ready and stay until it is removed;
// [kToggledFirst, kToggledEnd) come and go; [kExpiredFirst, kExpiredEnd) are only ever granted
// already expired, so no reader may ever see them permitted.
inline constexpr unsigned kToggledFirst = 16, kToggledEnd = 20;
inline constexpr unsigned kExpiredFirst = 24, kExpiredEnd = 28;

inline bool client_v6(uint32_t s) { return (s & 1) != 0; }
inline bool relay_v6(uint32_t s) { return (s & 2) != 0; }

// 1 to 9 permissions (IPv4: the five inline words, then the overflow hash) and 1 to 7 channels
// (IPv4: four inline entries, then the overflow pool); an IPv6 relayed address has all of them in
// the hashes and the IPv6 pool.
inline unsigned stable_permissions(uint32_t s) { return 1 + s % 9; }
inline unsigned stable_channels(uint32_t s) { return 1 + (s / 9) % 7; }

// ---- the allocation ----
inline uint32_t client_ip4(uint32_t s) { return 0x0A000000u | s; }  // 10.x.y.z
inline Ip6 client_ip6(uint32_t s) {                                  // 2001:db8:c::<s>
  const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c, 0, 0, 0, 0, 0, 0,
                         static_cast<uint8_t>(s >> 24), static_cast<uint8_t>(s >> 16),
                         static_cast<uint8_t>(s >> 8), static_cast<uint8_t>(s)};
  return Ip6::load(b);
}
// A different function of s than relay_port(): a slot holding one serial's client port and another
// serial's relayed port is caught.
inline uint16_t client_port(uint32_t s) { return static_cast<uint16_t>(1024 + (s * 40503u) % 64512); }
inline uint16_t relay_port(uint32_t s) { return static_cast<uint16_t>(1024 + s % 64512); }
inline unsigned relay_index(uint32_t s) { return relay_v6(s) ? kRelays4 : (s >> 2) % kRelays4; }
inline uint32_t relay_endpoint(uint32_t s) { return (relay_index(s) << 16) | relay_port(s); }

inline constexpr uint32_t kServerIp4 = 0x0A5A0001u;  // 10.90.0.1
inline constexpr uint32_t kRelayIp4[kRelays4] = {0x0A5A0101u, 0x0A5A0102u};  // 10.90.1.1, .2
inline Ip6 server_ip6() {  // 2001:db8::1
  const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return Ip6::load(b);
}
inline Ip6 relay_ip6() {  // 2001:db8:1::1
  const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return Ip6::load(b);
}

// The serial an allocation's client address carries; kSerialLimit when it carries none.
inline uint32_t serial_of_client(uint32_t ip4_host) {
  return (ip4_host & 0xFF000000u) == 0x0A000000u ? ip4_host & 0x00FFFFFFu : kSerialLimit;
}
inline uint32_t serial_of_client(const Ip6& ip) {
  const Ip6 base = client_ip6(0);
  if (ip.w[0] != base.w[0] || (ip.w[1] & 0xFFFFFFFFu) != 0) return kSerialLimit;
  const uint32_t s = rte_be_to_cpu_32(static_cast<uint32_t>(ip.w[1] >> 32));
  return s < kSerialLimit ? s : kSerialLimit;
}

inline ClientKey client_key4(uint32_t s) {
  return make_client_key(rte_cpu_to_be_32(client_ip4(s)), rte_cpu_to_be_16(client_port(s)),
                         rte_cpu_to_be_32(kServerIp4), rte_cpu_to_be_16(kServerPort));
}
inline ClientKey6 client_key6(uint32_t s) {
  return make_client_key(client_ip6(s), rte_cpu_to_be_16(client_port(s)), server_ip6(),
                         rte_cpu_to_be_16(kServerPort));
}

inline AllocationEntry allocation(uint32_t s) {
  AllocationEntry e;
  const Port server_port{kServerPort};
  e.five_tuple.client = client_v6(s) ? TransportAddress{client_ip6(s).address(), Port{client_port(s)}}
                                     : TransportAddress{IpAddress::v4(client_ip4(s)), Port{client_port(s)}};
  e.five_tuple.server = client_v6(s) ? TransportAddress{server_ip6().address(), server_port}
                                     : TransportAddress{IpAddress::v4(kServerIp4), server_port};
  e.five_tuple.transport = Transport::udp;
  e.relayed = relay_v6(s) ? TransportAddress{relay_ip6().address(), Port{relay_port(s)}}
                          : TransportAddress{IpAddress::v4(kRelayIp4[relay_index(s)]), Port{relay_port(s)}};
  e.expires = kPending;
  return e;
}

// ---- its peers ----
inline uint32_t peer_ip4(uint32_t s, unsigned j) { return 0x80000000u | (s << 5) | j; }
inline Ip6 peer_ip6(uint32_t s, unsigned j) {  // 2001:db8:9::<s>:<j>
  const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0, 0, 0, 0,
                         static_cast<uint8_t>(s >> 24), static_cast<uint8_t>(s >> 16),
                         static_cast<uint8_t>(s >> 8), static_cast<uint8_t>(s), 0,
                         static_cast<uint8_t>(j)};
  return Ip6::load(b);
}
inline IpAddress peer_address(uint32_t s, unsigned j) {
  return relay_v6(s) ? peer_ip6(s, j).address() : IpAddress::v4(peer_ip4(s, j));
}
// Whose peer an IPv4 peer address (network order) is: false when it is nobody's.
inline bool peer_of(uint32_t ip_be, uint32_t& s, unsigned& j) {
  const uint32_t ip = rte_be_to_cpu_32(ip_be);
  if ((ip >> 29) != 4) return false;
  s = (ip >> 5) & 0x00FFFFFFu;
  j = ip & 31;
  return true;
}
inline bool peer_of(const Ip6& ip, uint32_t& s, unsigned& j) {
  uint8_t b[16];
  ip.store(b);
  const Ip6 base = peer_ip6(0, 0);
  uint8_t p[16];
  base.store(p);
  for (unsigned i = 0; i < 10; ++i)
    if (b[i] != p[i]) return false;
  if (b[14] != 0 || b[15] >= 32) return false;
  s = (uint32_t{b[10]} << 24) | (uint32_t{b[11]} << 16) | (uint32_t{b[12]} << 8) | b[13];
  j = b[15];
  return s < kSerialLimit;
}

// Expiry of peer j's permission or channel: live for m >= 2 (j + 64 * m > kNow).
inline TableTime peer_expiry(unsigned j, unsigned m) { return j + 64 * m; }
inline bool expiry_names(TableTime expires, unsigned j) { return expires % 64 == j; }

inline uint16_t channel_number(unsigned j) { return static_cast<uint16_t>(kChannelBase + j); }
inline bool channel_index(uint16_t channel, unsigned& j) {
  if (channel < kChannelBase || channel >= kChannelBase + 32) return false;
  j = channel - kChannelBase;
  return true;
}
// The port a channel's peer has: fixed for a stable channel, one of a thousand for a toggled one
// (each binding after a removal takes the next, so a reused entry shows).
inline uint16_t channel_port(unsigned j, unsigned version) {
  return j < kToggledFirst ? static_cast<uint16_t>(kStablePort + j)
                           : static_cast<uint16_t>(kToggledPort + version % 1000);
}
inline bool channel_port_fits(unsigned j, uint16_t port_host) {
  return j < kToggledFirst ? port_host == kStablePort + j
                           : port_host >= kToggledPort && port_host < kToggledPort + 1000;
}

}  // namespace tern::dp::stress
