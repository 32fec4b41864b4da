// Replies to punted requests and datagrams of the control plane's own, on the control TX queues.

#include "dataplane/control_lcore/control_port.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>

#include "dataplane/control_lcore/datagram.hpp"
#include "dataplane/wire/checksum.hpp"

namespace tern::dp {

SendResult ControlPort::reply(const PuntedMessage& to, std::span<const uint8_t> payload) {
  auto* m = reinterpret_cast<rte_mbuf*>(to.handle);
  const unsigned port = interfaces_.index_of(to.port);
  if (port == kNoPort) return SendResult::no_route;
  const Datagram d = datagram_of(m);
  SendResult r;
  rte_mbuf* out = build_udp(port, d.src_mac, d.dst, d.src, payload, r);
  if (out != nullptr) r = transmit(port, out);
  if (r == SendResult::sent) count(ControlCounterId::replies_sent);
  return r;
}

SendResult ControlPort::send(const TransportAddress& from, const TransportAddress& to,
                             std::span<const uint8_t> payload) {
  const std::optional<Endpoint> src = endpoint_of(from);
  const std::optional<Endpoint> dst = endpoint_of(to);
  if (!src || !dst || src->ipv6 != dst->ipv6) return SendResult::unsupported;
  if (src->ipv6 ? !interfaces_.is_local(src->ip6) : !interfaces_.is_local(src->ip))
    return SendResult::not_local;
  NextHop hop;
  if (dst->ipv6) {
    const Route6 route = interfaces_.route(dst->ip6);
    hop = NextHop::v6(route.port, route.next_hop);
  } else {
    const Route route = interfaces_.route(dst->ip);
    hop = NextHop::v4(route.port, route.next_hop);
  }
  if (hop.port == kNoPort) {
    count(ControlCounterId::send_no_route);
    return SendResult::no_route;
  }
  MacWord mac = 0;
  const bool resolved = hop.ipv6 ? neighbours_.find(hop.port, hop.ip6, mac)
                                 : neighbours_.find(hop.port, hop.ip, mac);
  SendResult r;
  rte_mbuf* m = build_udp(hop.port, mac, *src, *dst, payload, r);
  if (m != nullptr) {
    if (resolved)
      r = transmit(hop.port, m);
    else
      r = hold(m, hop, setup_.clock->now()) ? SendResult::sent : SendResult::no_neighbour;
  }
  if (r == SendResult::sent) count(ControlCounterId::datagrams_sent);
  return r;
}

rte_mbuf* ControlPort::build_udp(unsigned port, MacWord dst_mac, const Endpoint& src,
                                 const Endpoint& dst, std::span<const uint8_t> payload,
                                 SendResult& result) {
  rte_mbuf* m = rte_pktmbuf_alloc(setup_.pools[port]);
  if (m == nullptr) {
    count(ControlCounterId::mempool_empty);
    result = SendResult::no_buffer;
    return nullptr;
  }
  const uint16_t headers = src.ipv6 ? kUdp6HeadersLen : kUdpHeadersLen;
  const size_t length = headers + payload.size();
  auto* f = length <= rte_pktmbuf_tailroom(m)
                ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(length)))
                : nullptr;
  if (f == nullptr) {
    rte_pktmbuf_free(m);
    result = SendResult::too_big;
    return nullptr;
  }
  const uint16_t udp_len = static_cast<uint16_t>(kUdpLen + payload.size());
  const uint16_t udp_len_be = rte_cpu_to_be_16(udp_len);
  rte_udp_hdr* udp;
  uint16_t envelope;
  if (src.ipv6) {
    write_ether(f, dst_mac, interfaces_.port(port).mac, kEtherTypeIpv6);
    Ipv6Fields fields;
    fields.src = reinterpret_cast<const uint8_t*>(src.ip6.w);
    fields.dst = reinterpret_cast<const uint8_t*>(dst.ip6.w);
    fields.payload_length = udp_len_be;
    write_ipv6(ipv6(f), fields);
    udp = reinterpret_cast<rte_udp_hdr*>(f + kEtherLen + kIpv6Len);
    envelope = csum::udp6_envelope(src.ip6.w, dst.ip6.w, src.port, dst.port, udp_len_be);
  } else {
    write_ether(f, dst_mac, interfaces_.port(port).mac, kEtherTypeIpv4);
    Ipv4Fields fields;
    fields.src = src.ip;
    fields.dst = dst.ip;
    fields.total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kIpv4Len + udp_len));
    fields.id = rte_cpu_to_be_16(ip_id_++);
    rte_ipv4_hdr* ip = ipv4(f);
    write_ipv4(ip, fields);
    ip->hdr_checksum = ipv4_checksum(fields);
    udp = reinterpret_cast<rte_udp_hdr*>(f + kEtherLen + kIpv4Len);
    envelope = csum::udp_envelope(src.ip, dst.ip, src.port, dst.port, udp_len_be);
  }
  write_udp(udp, src.port, dst.port, udp_len_be);
  std::memcpy(f + headers, payload.data(), payload.size());
  udp->dgram_cksum = csum::udp_field(
      csum::add(envelope, csum::region(payload.data(), payload.size(), false)));
  result = SendResult::sent;
  return m;
}

SendResult ControlPort::transmit(unsigned port, rte_mbuf* m) {
  if (rte_eth_tx_burst(interfaces_.port(port).port_id, setup_.tx_queue, &m, 1) == 1)
    return SendResult::sent;
  rte_pktmbuf_free(m);
  count(ControlCounterId::tx_full);
  return SendResult::tx_full;
}

void ControlPort::transmit_burst(unsigned port, rte_mbuf** pkts, unsigned n) {
  const uint16_t sent = rte_eth_tx_burst(interfaces_.port(port).port_id, setup_.tx_queue, pkts,
                                         static_cast<uint16_t>(n));
  if (sent < n) {
    rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    count(ControlCounterId::tx_full, n - sent);
  }
  count(ControlCounterId::held_sent, sent);
}

}  // namespace tern::dp
