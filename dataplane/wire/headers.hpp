#pragma once
// Header access and header building over rte_mbuf: Ethernet, IPv4, IPv6, UDP, ARP, ICMP(v6).
//
// Every field stays in network byte order as it is on the wire; the few conversions the data
// plane needs (lengths, ethertypes, ports compared with constants) go through be16()/be32()
// here. Frames are single-segment (scattered RX is never configured); a chained mbuf is refused
// before anything here is used on it.

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstdint>
#include <cstring>

#include "conf/net.hpp"

namespace tern::dp {

inline constexpr uint16_t kEtherLen = sizeof(rte_ether_hdr);   // 14
inline constexpr uint16_t kIpv4Len = sizeof(rte_ipv4_hdr);     // 20, no options
inline constexpr uint16_t kUdpLen = sizeof(rte_udp_hdr);       // 8
inline constexpr uint16_t kArpLen = sizeof(rte_arp_hdr);       // 28
inline constexpr uint16_t kIcmpLen = sizeof(rte_icmp_hdr);     // 8
inline constexpr uint16_t kTcpLen = 20;                         // RFC 9293 §3.1, no options
inline constexpr uint16_t kUdpHeadersLen = kEtherLen + kIpv4Len + kUdpLen;  // 42
inline constexpr uint16_t kIpv6Len = sizeof(rte_ipv6_hdr);     // 40, no extension headers
inline constexpr uint16_t kUdp6HeadersLen = kEtherLen + kIpv6Len + kUdpLen;  // 62

inline constexpr uint8_t kDefaultTtl = 64;  // packets the server originates

// Network-order constants, converted at compile time.
constexpr uint16_t be16(uint16_t host) { return RTE_BE16(host); }
// An IPv4 address as the headers carry it (network order).
inline uint32_t ipv4_be(const IpAddress& ip) { return rte_cpu_to_be_32(ip.v4_host_order()); }
constexpr uint32_t be32(uint32_t host) { return RTE_BE32(host); }

// ICMPv6 (RFC 4443) and neighbour discovery (RFC 4861 §4.3, §4.4, §4.6.1).
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;
inline constexpr uint8_t kIcmp6NeighbourSolicitation = 135;
inline constexpr uint8_t kIcmp6NeighbourAdvertisement = 136;
inline constexpr uint16_t kNdpMessageLen = 24;       // type, code, checksum, flags, target
inline constexpr uint16_t kNdpLinkLayerOptionLen = 8;  // type, length 1, six bytes of MAC
inline constexpr uint8_t kNdpSourceLinkLayer = 1;
inline constexpr uint8_t kNdpTargetLinkLayer = 2;
inline constexpr uint8_t kNdpHopLimit = 255;
inline constexpr uint32_t kNaSolicited = be32(0x40000000);
inline constexpr uint32_t kNaOverride = be32(0x20000000);

inline constexpr uint16_t kEtherTypeIpv4 = be16(RTE_ETHER_TYPE_IPV4);
inline constexpr uint16_t kEtherTypeArp = be16(RTE_ETHER_TYPE_ARP);
inline constexpr uint16_t kEtherTypeIpv6 = be16(RTE_ETHER_TYPE_IPV6);
inline constexpr uint16_t kIpv4DontFragment = be16(RTE_IPV4_HDR_DF_FLAG);
// More Fragments and the fragment offset: non-zero only in a fragment.
inline constexpr uint16_t kIpv4FragmentMask = be16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK);

// A MAC address as one integer: the six bytes in wire order in the low 48 bits of a
// little-endian word, so comparing or storing one is a single operation.
using MacWord = uint64_t;
static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN, "MacWord keeps the wire bytes in the low 48 bits");
inline constexpr MacWord kBroadcastMac = 0xffffffffffffULL;
// RFC 2464 §7: IPv6 multicast goes to 33:33 and the address's last four bytes.
constexpr bool ipv6_multicast_mac(MacWord w) { return (w & 0xffff) == 0x3333; }

// From/to the six bytes of an address (rte_ether_addr::addr_bytes, also inside packed headers).
// Loaded as a 4-byte and a 2-byte word combined in a register: a 6-byte memcpy into a uint64_t is
// compiled as two stores to the stack and an 8-byte load of them, which waits for the stores to
// retire (a failed store-to-load forward) on every received frame.
// A 16-bit field as it sits in the packet (network order), from any alignment.
inline uint16_t load_u16_raw(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline MacWord load_mac(const uint8_t* bytes) {
  uint32_t low;
  uint16_t high;
  std::memcpy(&low, bytes, 4);
  std::memcpy(&high, bytes + 4, 2);
  return low | (uint64_t{high} << 32);
}
inline void store_mac(uint8_t* bytes, MacWord w) { std::memcpy(bytes, &w, RTE_ETHER_ADDR_LEN); }

inline uint8_t* frame(rte_mbuf* m) { return rte_pktmbuf_mtod(m, uint8_t*); }
inline rte_ether_hdr* ether(uint8_t* frame) { return reinterpret_cast<rte_ether_hdr*>(frame); }
inline rte_ipv4_hdr* ipv4(uint8_t* frame) {
  return reinterpret_cast<rte_ipv4_hdr*>(frame + kEtherLen);
}
inline rte_arp_hdr* arp(uint8_t* frame) { return reinterpret_cast<rte_arp_hdr*>(frame + kEtherLen); }
inline rte_ipv6_hdr* ipv6(uint8_t* frame) {
  return reinterpret_cast<rte_ipv6_hdr*>(frame + kEtherLen);
}
inline uint8_t ipv4_header_len(const rte_ipv4_hdr* ip) {
  return static_cast<uint8_t>((ip->version_ihl & 0x0f) * 4);
}

inline void write_ether(uint8_t* at, MacWord dst, MacWord src, uint16_t ether_type_be) {
  rte_ether_hdr* e = ether(at);
  store_mac(e->dst_addr.addr_bytes, dst);
  store_mac(e->src_addr.addr_bytes, src);
  e->ether_type = ether_type_be;
}

// An IPv4 header without options. Everything in network order; the checksum is left zero for
// the caller to fill (software) or the NIC (offload).
struct Ipv4Fields {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint16_t total_length = 0;  // network order
  uint16_t id = 0;            // network order
  uint8_t tos = 0;            // DSCP and ECN
  uint8_t ttl = kDefaultTtl;
  bool dont_fragment = false;
  uint8_t protocol = IPPROTO_UDP;
};

inline void write_ipv4(rte_ipv4_hdr* ip, const Ipv4Fields& f) {
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = f.tos;
  ip->total_length = f.total_length;
  ip->packet_id = f.id;
  ip->fragment_offset = f.dont_fragment ? kIpv4DontFragment : 0;
  ip->time_to_live = f.ttl;
  ip->next_proto_id = f.protocol;
  ip->hdr_checksum = 0;
  ip->src_addr = f.src;
  ip->dst_addr = f.dst;
}

// RFC 791 header checksum of the header write_ipv4() writes, summed from the fields rather than
// read back from memory (reading back the bytes just stored as 16-bit words stalls on store
// forwarding). Each term is the 16-bit word as a native load of the wire bytes would see it.
inline uint16_t ipv4_checksum(const Ipv4Fields& f) {
  uint64_t sum = be16(static_cast<uint16_t>((RTE_IPV4_VHL_DEF << 8) | f.tos));
  sum += f.total_length;
  sum += f.id;
  sum += f.dont_fragment ? kIpv4DontFragment : 0;
  sum += be16(static_cast<uint16_t>((f.ttl << 8) | f.protocol));
  sum += (f.src & 0xffff) + (f.src >> 16) + (f.dst & 0xffff) + (f.dst >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// An IPv6 header without extension headers. The flow label is zero: every relayed packet starts
// a flow of the server's own.
struct Ipv6Fields {
  const uint8_t* src = nullptr;  // 16 bytes each, network order
  const uint8_t* dst = nullptr;
  uint16_t payload_length = 0;   // network order
  uint8_t traffic_class = 0;     // DSCP and ECN
  uint8_t hop_limit = kDefaultTtl;
  uint8_t next_header = IPPROTO_UDP;
};

inline void write_ipv6(rte_ipv6_hdr* ip, const Ipv6Fields& f) {
  ip->vtc_flow = rte_cpu_to_be_32((6u << 28) | (uint32_t{f.traffic_class} << 20));
  ip->payload_len = f.payload_length;
  ip->proto = f.next_header;
  ip->hop_limits = f.hop_limit;
  std::memcpy(ip->src_addr, f.src, 16);
  std::memcpy(ip->dst_addr, f.dst, 16);
}
inline uint8_t ipv6_traffic_class(const rte_ipv6_hdr* ip) {
  return static_cast<uint8_t>(rte_be_to_cpu_32(ip->vtc_flow) >> 20);
}

inline void write_udp(rte_udp_hdr* udp, uint16_t src_port, uint16_t dst_port, uint16_t length_be) {
  udp->src_port = src_port;
  udp->dst_port = dst_port;
  udp->dgram_len = length_be;
  udp->dgram_cksum = 0;
}

// Points the mbuf at [start, start + length) of its own buffer: the frame now begins at start.
// Both ends must lie inside the buffer (callers check with fits()).
inline void set_frame(rte_mbuf* m, uint8_t* start, uint16_t length) {
  m->data_off = static_cast<uint16_t>(start - static_cast<uint8_t*>(m->buf_addr));
  m->data_len = length;
  m->pkt_len = length;
}
inline bool fits(const rte_mbuf* m, const uint8_t* start, const uint8_t* end) {
  const auto* buf = static_cast<const uint8_t*>(m->buf_addr);
  return start >= buf && end <= buf + m->buf_len;
}

}  // namespace tern::dp
