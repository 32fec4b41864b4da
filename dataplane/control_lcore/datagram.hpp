#pragma once
// Internal to the control lcore's files: one end of a UDP datagram as the control lcore builds
// and reads them, and the datagram inside a punted frame.

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <optional>

#include "conf/net.hpp"
#include "dataplane/wire/headers.hpp"
#include "dataplane/wire/ip6.hpp"

namespace tern::dp {

// One end of a UDP datagram: an address of either family and a port, network order.
struct Endpoint {
  bool ipv6 = false;
  uint32_t ip = 0;
  Ip6 ip6{};
  uint16_t port = 0;
};

inline IpAddress address_of(const Endpoint& e) {
  return e.ipv6 ? e.ip6.address() : IpAddress::v4(rte_be_to_cpu_32(e.ip));
}
inline TransportAddress transport_of(const Endpoint& e) {
  return {address_of(e), Port{rte_be_to_cpu_16(e.port)}};
}
inline std::optional<Endpoint> endpoint_of(const TransportAddress& a) {
  const uint16_t port = rte_cpu_to_be_16(a.port.value);
  if (a.ip.is_v4()) return Endpoint{false, ipv4_be(a.ip), Ip6{}, port};
  const IpAddress c = a.ip.canonical();
  if (c.is_v4()) return std::nullopt;  // ::ffff:a.b.c.d: neither ours nor a peer's on the wire
  return Endpoint{true, 0, Ip6::of(a.ip), port};
}

// The UDP datagram inside a punted frame (the worker checked every length on the way in).
struct Datagram {
  MacWord src_mac;
  Endpoint src;
  Endpoint dst;
  const uint8_t* payload;
  uint16_t payload_len;
};

inline Datagram datagram_of(rte_mbuf* m) {
  uint8_t* f = frame(m);
  Datagram d{};
  d.src_mac = load_mac(ether(f)->src_addr.addr_bytes);
  const rte_udp_hdr* udp;
  if (ether(f)->ether_type == kEtherTypeIpv6) {
    const rte_ipv6_hdr* ip = ipv6(f);
    d.src.ipv6 = d.dst.ipv6 = true;
    d.src.ip6 = Ip6::load(ip->src_addr);
    d.dst.ip6 = Ip6::load(ip->dst_addr);
    udp = reinterpret_cast<const rte_udp_hdr*>(f + kEtherLen + kIpv6Len);
  } else {
    const rte_ipv4_hdr* ip = ipv4(f);
    d.src.ip = ip->src_addr;
    d.dst.ip = ip->dst_addr;
    udp = reinterpret_cast<const rte_udp_hdr*>(f + kEtherLen + ipv4_header_len(ip));
  }
  d.src.port = udp->src_port;
  d.dst.port = udp->dst_port;
  d.payload = reinterpret_cast<const uint8_t*>(udp) + kUdpLen;
  d.payload_len = static_cast<uint16_t>(rte_be_to_cpu_16(udp->dgram_len) - kUdpLen);
  return d;
}

}  // namespace tern::dp
