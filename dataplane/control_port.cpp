#include "dataplane/control_port.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>

#include "dataplane/checksum.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/punt.hpp"

namespace tern::dp {
namespace {

uint32_t be_ip(const IpAddress& ip) { return rte_cpu_to_be_32(ip.v4_host_order()); }
IpAddress from_be(uint32_t ip) { return IpAddress::v4(rte_be_to_cpu_32(ip)); }
uint64_t asked_key(unsigned port, uint32_t ip) { return (uint64_t{port} << 32) | ip; }

// The UDP datagram inside a punted frame (the worker checked every length on the way in).
struct Datagram {
  MacWord src_mac;
  uint32_t src_ip;
  uint32_t dst_ip;
  uint16_t src_port;
  uint16_t dst_port;
  const uint8_t* payload;
  uint16_t payload_len;
};

Datagram datagram_of(rte_mbuf* m) {
  uint8_t* f = frame(m);
  const rte_ipv4_hdr* ip = ipv4(f);
  const auto* udp = reinterpret_cast<const rte_udp_hdr*>(f + kEtherLen + ipv4_header_len(ip));
  return {load_mac(ether(f)->src_addr.addr_bytes),
          ip->src_addr,
          ip->dst_addr,
          udp->src_port,
          udp->dst_port,
          reinterpret_cast<const uint8_t*>(udp) + kUdpLen,
          static_cast<uint16_t>(rte_be_to_cpu_16(udp->dgram_len) - kUdpLen)};
}

}  // namespace

std::string_view to_string(PuntReason reason) {
  switch (reason) {
    case PuntReason::stun_request: return "stun_request";
    case PuntReason::binding_authenticated: return "binding_authenticated";
    case PuntReason::binding_attributes: return "binding_attributes";
    case PuntReason::stun_indication: return "stun_indication";
    case PuntReason::stun_response: return "stun_response";
    case PuntReason::arp: return "arp";
  }
  return "unknown";
}

std::string_view to_string(SendResult result) {
  switch (result) {
    case SendResult::sent: return "sent";
    case SendResult::not_local: return "not_local";
    case SendResult::unsupported: return "unsupported";
    case SendResult::no_route: return "no_route";
    case SendResult::no_neighbour: return "no_neighbour";
    case SendResult::too_big: return "too_big";
    case SendResult::no_buffer: return "no_buffer";
    case SendResult::tx_full: return "tx_full";
  }
  return "unknown";
}

ControlPort::ControlPort(ControlPortSetup setup)
    : setup_(std::move(setup)),
      interfaces_(*setup_.interfaces),
      neighbours_(*setup_.neighbours),
      ip_id_(setup_.first_ip_id) {}

size_t ControlPort::receive_at(std::span<PuntedMessage> out, TableTime now) {
  if (now != last_upkeep_) upkeep(now);

  for (size_t w = 0; w < setup_.resolve_rings.size(); ++w) {
    ResolveRequest requests[32];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst_elem(setup_.resolve_rings[w], requests, sizeof(requests[0]),
                                               std::size(requests), nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) handle_resolve(requests[i].port, requests[i].ip, now);
    }
  }

  size_t filled = 0;
  const size_t rings = setup_.punt_rings.size();
  for (size_t k = 0; k < rings && filled < out.size(); ++k) {
    rte_ring* ring = setup_.punt_rings[(next_ring_ + k) % rings];
    rte_mbuf* pkts[32];
    unsigned n;
    while (filled < out.size() &&
           (n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts),
                                          static_cast<unsigned>(std::min<size_t>(
                                              std::size(pkts), out.size() - filled)),
                                          nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const PuntMeta meta = punt_meta(m, setup_.punt_offset);
        if (meta.reason == PuntReason::arp) {
          handle_arp(m, meta.port, now);
          continue;
        }
        const Datagram d = datagram_of(m);
        PuntedMessage& msg = out[filled++];
        msg.five_tuple.client = {from_be(d.src_ip), Port{rte_be_to_cpu_16(d.src_port)}};
        msg.five_tuple.server = {from_be(d.dst_ip), Port{rte_be_to_cpu_16(d.dst_port)}};
        msg.five_tuple.transport = Transport::udp;
        msg.message = {d.payload, d.payload_len};
        msg.reason = meta.reason;
        msg.port = meta.port;
        msg.worker = meta.worker;
        msg.handle = reinterpret_cast<PuntHandle>(m);
        count(ControlCounterId::punts_received);
      }
    }
  }
  next_ring_ = rings ? static_cast<unsigned>((next_ring_ + 1) % rings) : 0;
  return filled;
}

void ControlPort::release(PuntHandle handle) {
  rte_pktmbuf_free(reinterpret_cast<rte_mbuf*>(handle));
}

SendResult ControlPort::reply(const PuntedMessage& to, std::span<const uint8_t> payload) {
  auto* m = reinterpret_cast<rte_mbuf*>(to.handle);
  const unsigned port = interfaces_.index_of(to.port);
  if (port == kNoPort) return SendResult::no_route;
  const Datagram d = datagram_of(m);
  const SendResult r = send_udp(port, d.src_mac, d.dst_ip, d.dst_port, d.src_ip, d.src_port, payload);
  if (r == SendResult::sent) count(ControlCounterId::replies_sent);
  return r;
}

SendResult ControlPort::send(const TransportAddress& from, const TransportAddress& to,
                             std::span<const uint8_t> payload) {
  if (!from.ip.is_v4() || !to.ip.is_v4()) return SendResult::unsupported;
  const uint32_t src = be_ip(from.ip);
  const uint32_t dst = be_ip(to.ip);
  if (!interfaces_.is_local(src)) return SendResult::not_local;
  const Route route = interfaces_.route(dst);
  if (route.port == kNoPort) {
    count(ControlCounterId::send_no_route);
    return SendResult::no_route;
  }
  MacWord mac;
  if (!neighbours_.find(route.port, route.next_hop, mac)) {
    handle_resolve(route.port, route.next_hop, now());
    count(ControlCounterId::send_no_neighbour);
    return SendResult::no_neighbour;
  }
  const SendResult r = send_udp(route.port, mac, src, rte_cpu_to_be_16(from.port.value), dst,
                                rte_cpu_to_be_16(to.port.value), payload);
  if (r == SendResult::sent) count(ControlCounterId::datagrams_sent);
  return r;
}

SendResult ControlPort::send_udp(unsigned port, MacWord dst_mac, uint32_t src_ip,
                                 uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
                                 std::span<const uint8_t> payload) {
  rte_mbuf* m = rte_pktmbuf_alloc(setup_.pools[port]);
  if (m == nullptr) {
    count(ControlCounterId::mempool_empty);
    return SendResult::no_buffer;
  }
  const size_t length = kUdpHeadersLen + payload.size();
  auto* f = length <= rte_pktmbuf_tailroom(m)
                ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(length)))
                : nullptr;
  if (f == nullptr) {
    rte_pktmbuf_free(m);
    return SendResult::too_big;
  }
  write_ether(f, dst_mac, interfaces_.port(port).mac, kEtherTypeIpv4);
  const uint16_t udp_len = static_cast<uint16_t>(kUdpLen + payload.size());
  Ipv4Fields fields;
  fields.src = src_ip;
  fields.dst = dst_ip;
  fields.total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kIpv4Len + udp_len));
  fields.id = rte_cpu_to_be_16(ip_id_++);
  rte_ipv4_hdr* ip = ipv4(f);
  write_ipv4(ip, fields);
  ip->hdr_checksum = ipv4_checksum(fields);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(f + kEtherLen + kIpv4Len);
  const uint16_t udp_len_be = rte_cpu_to_be_16(udp_len);
  write_udp(udp, src_port, dst_port, udp_len_be);
  std::memcpy(f + kUdpHeadersLen, payload.data(), payload.size());
  udp->dgram_cksum = csum::udp_field(
      csum::add(csum::udp_envelope(src_ip, dst_ip, src_port, dst_port, udp_len_be),
                csum::region(payload.data(), payload.size(), false)));
  return transmit(port, m);
}

SendResult ControlPort::transmit(unsigned port, rte_mbuf* m) {
  if (rte_eth_tx_burst(interfaces_.port(port).port_id, setup_.tx_queue, &m, 1) == 1)
    return SendResult::sent;
  rte_pktmbuf_free(m);
  count(ControlCounterId::tx_full);
  return SendResult::tx_full;
}

// RFC 826's merge: learn the sender when the packet is for us or the sender is known; answer a
// request for one of our addresses.
void ControlPort::handle_arp(rte_mbuf* m, uint16_t port_id, TableTime now) {
  const unsigned port = interfaces_.index_of(port_id);
  if (port == kNoPort) {
    rte_pktmbuf_free(m);
    return;
  }
  uint8_t* f = frame(m);
  rte_arp_hdr* a = arp(f);
  const uint16_t op = rte_be_to_cpu_16(a->arp_opcode);
  const uint32_t sender_ip = a->arp_data.arp_sip;
  const uint32_t target_ip = a->arp_data.arp_tip;
  const MacWord sender_mac = load_mac(a->arp_data.arp_sha.addr_bytes);
  const bool for_us = interfaces_.owns(port, target_ip);
  MacWord known_mac;
  const bool known = neighbours_.find(port, sender_ip, known_mac);
  if (sender_ip != 0 && !interfaces_.is_local(sender_ip) && (for_us || known)) {
    switch (neighbours_.learn(port, sender_ip, sender_mac, now)) {
      case Neighbours::Learned::added: count(ControlCounterId::arp_learned); break;
      case Neighbours::Learned::changed: count(ControlCounterId::arp_changed); break;
      case Neighbours::Learned::full: count(ControlCounterId::neighbour_table_full); break;
      case Neighbours::Learned::confirmed:
      case Neighbours::Learned::invalid: break;
    }
    asked_.erase(asked_key(port, sender_ip));
  }
  if (op != RTE_ARP_OP_REQUEST || !for_us) {
    rte_pktmbuf_free(m);
    return;
  }
  const MacWord ours = interfaces_.port(port).mac;
  a->arp_opcode = be16(RTE_ARP_OP_REPLY);
  store_mac(a->arp_data.arp_tha.addr_bytes, sender_mac);
  a->arp_data.arp_tip = sender_ip;
  store_mac(a->arp_data.arp_sha.addr_bytes, ours);
  a->arp_data.arp_sip = target_ip;
  write_ether(f, sender_mac, ours, kEtherTypeArp);
  m->data_len = kEtherLen + kArpLen;
  m->pkt_len = m->data_len;
  m->ol_flags = 0;
  if (transmit(port, m) == SendResult::sent) count(ControlCounterId::arp_answered);
}

void ControlPort::handle_resolve(unsigned port, uint32_t ip, TableTime now) {
  count(ControlCounterId::resolve_requests);
  MacWord mac;
  if (port >= interfaces_.port_count() || neighbours_.find(port, ip, mac)) return;
  const auto [it, fresh] = asked_.try_emplace(asked_key(port, ip), now);
  if (!fresh && now - it->second < 1) return;  // asked this second already
  if (arp_request(port, ip, kBroadcastMac, now)) it->second = now;
}

// RFC 826: who has `ip`? tell our address on that subnet. Broadcast to resolve, unicast to
// refresh (RFC 1122 §2.3.2.1).
bool ControlPort::arp_request(unsigned port, uint32_t ip, MacWord dst_mac, TableTime now) {
  if (now != arp_window_) {
    arp_window_ = now;
    arp_sent_in_window_ = 0;
  }
  if (arp_sent_in_window_ >= kArpRequestsPerSecond) {
    count(ControlCounterId::arp_requests_limited);
    return false;
  }
  rte_mbuf* m = rte_pktmbuf_alloc(setup_.pools[port]);
  if (m == nullptr) {
    count(ControlCounterId::mempool_empty);
    return false;
  }
  auto* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kEtherLen + kArpLen));
  if (f == nullptr) {  // a pool of buffers too small for an ARP packet
    rte_pktmbuf_free(m);
    return false;
  }
  const MacWord ours = interfaces_.port(port).mac;
  write_ether(f, dst_mac, ours, kEtherTypeArp);
  rte_arp_hdr* a = arp(f);
  a->arp_hardware = be16(RTE_ARP_HRD_ETHER);
  a->arp_protocol = kEtherTypeIpv4;
  a->arp_hlen = RTE_ETHER_ADDR_LEN;
  a->arp_plen = 4;
  a->arp_opcode = be16(RTE_ARP_OP_REQUEST);
  store_mac(a->arp_data.arp_sha.addr_bytes, ours);
  a->arp_data.arp_sip = interfaces_.source_for(port, ip);
  store_mac(a->arp_data.arp_tha.addr_bytes, 0);
  a->arp_data.arp_tip = ip;
  if (transmit(port, m) != SendResult::sent) return false;
  ++arp_sent_in_window_;
  count(ControlCounterId::arp_requests_sent);
  return true;
}

void ControlPort::upkeep(TableTime now) {
  last_upkeep_ = now;
  neighbours_.reclaim();
  for (const Neighbours::Known& n : neighbours_.known()) {
    const TableTime age = now - n.confirmed;
    if (age >= kNeighbourStale + kNeighbourProbeTime) {
      neighbours_.forget(n.port, n.ip);
      count(ControlCounterId::neighbours_forgotten);
    } else if (age >= kNeighbourStale) {
      arp_request(n.port, n.ip, n.mac, now);
    }
  }
  for (auto it = asked_.begin(); it != asked_.end();) {
    if (now - it->second > kNeighbourStale)
      it = asked_.erase(it);
    else
      ++it;
  }
}

}  // namespace tern::dp
