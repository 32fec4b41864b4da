#pragma once
// IPv6 neighbour discovery (RFC 4861), the part a host needs: reading a neighbour solicitation or
// advertisement, and writing the two frames a host sends, an advertisement (the answer for one of
// our addresses) and a solicitation (to resolve a neighbour). Shared by the workers (answers to
// known neighbours) and the control lcore (learning, answering, resolving).

#include <cstdint>
#include <cstring>

#include "dataplane/wire/checksum.hpp"
#include "dataplane/wire/ip6.hpp"
#include "dataplane/wire/headers.hpp"

namespace tern::dp {

// RFC 4861 §4.3 / §4.4: the fixed part, then options of 8-byte units; we read the link-layer
// address option (source in a solicitation, target in an advertisement).
struct NdpMessage {
  bool valid = false;
  uint8_t type = 0;
  uint32_t flags = 0;  // advertisement: R, S, O (network order)
  Ip6 target{};
  bool has_link_layer = false;
  MacWord link_layer = 0;
};

// msg: the ICMPv6 message (checked to be at least kNdpMessageLen by classification).
inline NdpMessage parse_ndp(const uint8_t* msg, uint16_t len) {
  NdpMessage m;
  m.type = msg[0];
  std::memcpy(&m.flags, msg + 4, 4);
  m.target = Ip6::load(msg + 8);
  // RFC 4861 §7.1.1 / §7.1.2: a target that is multicast is invalid; every option has a length.
  if (m.target.multicast()) return m;
  const uint8_t want = m.type == kIcmp6NeighbourSolicitation ? kNdpSourceLinkLayer : kNdpTargetLinkLayer;
  for (uint16_t at = kNdpMessageLen; at < len;) {
    if (len - at < 2 || msg[at + 1] == 0 || msg[at + 1] * 8u > unsigned{len} - at) return m;
    if (msg[at] == want && msg[at + 1] == 1) {
      m.has_link_layer = true;
      m.link_layer = load_mac(msg + at + 2);
    }
    at = static_cast<uint16_t>(at + msg[at + 1] * 8);
  }
  m.valid = true;
  return m;
}

// RFC 2464 §7: an IPv6 multicast group's MAC address: 33:33 and the group's last four bytes.
inline MacWord multicast_mac(const Ip6& group) {
  return 0x3333 | (uint64_t{group.byte(12)} << 16) | (uint64_t{group.byte(13)} << 24) |
         (uint64_t{group.byte(14)} << 32) | (uint64_t{group.byte(15)} << 40);
}

inline constexpr uint16_t kNdpFrameLen = kEtherLen + kIpv6Len + kNdpMessageLen + kNdpLinkLayerOptionLen;

// Writes a whole solicitation or advertisement frame at `at` (kNdpFrameLen bytes): Ethernet,
// IPv6 with hop limit 255, the message with our link-layer address as its option, the checksum.
inline void write_ndp(uint8_t* at, uint8_t type, uint32_t flags, MacWord dst_mac, MacWord our_mac,
                      const Ip6& src, const Ip6& dst, const Ip6& target) {
  write_ether(at, dst_mac, our_mac, kEtherTypeIpv6);
  constexpr uint16_t kLen = kNdpMessageLen + kNdpLinkLayerOptionLen;
  Ipv6Fields f;
  f.src = reinterpret_cast<const uint8_t*>(src.w);
  f.dst = reinterpret_cast<const uint8_t*>(dst.w);
  f.payload_length = be16(kLen);
  f.hop_limit = kNdpHopLimit;
  f.next_header = IPPROTO_ICMPV6;
  write_ipv6(ipv6(at), f);
  uint8_t* msg = at + kEtherLen + kIpv6Len;
  msg[0] = type;
  msg[1] = 0;
  msg[2] = msg[3] = 0;
  std::memcpy(msg + 4, &flags, 4);
  target.store(msg + 8);
  msg[24] = type == kIcmp6NeighbourSolicitation ? kNdpSourceLinkLayer : kNdpTargetLinkLayer;
  msg[25] = 1;
  store_mac(msg + 26, our_mac);
  const uint16_t sum = csum::add(csum::ipv6_pseudo(src.w, dst.w, be16(kLen), IPPROTO_ICMPV6),
                                 csum::region(msg, kLen, false));
  const uint16_t check = static_cast<uint16_t>(~sum);
  std::memcpy(msg + 2, &check, 2);
}

// RFC 4861 §7.2.4: the advertisement answering a solicitation for our `target`: solicited and
// override set, to the soliciting address (all nodes when it came from ::).
inline void write_advertisement(uint8_t* at, MacWord dst_mac, MacWord our_mac, const Ip6& target,
                                const Ip6& to) {
  const bool from_unspecified = to.zero();
  write_ndp(at, kIcmp6NeighbourAdvertisement,
            from_unspecified ? kNaOverride : (kNaSolicited | kNaOverride),
            from_unspecified ? multicast_mac(all_nodes()) : dst_mac, our_mac, target,
            from_unspecified ? all_nodes() : to, target);
}

// RFC 4861 §7.2.2: who has `target`? To its solicited-node multicast group when resolving, to its
// known MAC (unicast) when confirming a neighbour that has gone quiet.
inline void write_solicitation(uint8_t* at, MacWord dst_mac, MacWord our_mac, const Ip6& src,
                               const Ip6& target, bool unicast) {
  const Ip6 group = target.solicited_node();
  write_ndp(at, kIcmp6NeighbourSolicitation, 0, unicast ? dst_mac : multicast_mac(group), our_mac,
            src, unicast ? target : group, target);
}

}  // namespace tern::dp
