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

ControlPort::ControlPort(ControlPortSetup setup)
    : setup_(std::move(setup)),
      interfaces_(*setup_.interfaces),
      neighbours_(*setup_.neighbours),
      ip_id_(setup_.first_ip_id),
      hold_ticks_(setup_.clock->hz() / 1000 * kHoldTimeMs) {
  setup_.held_total = std::min(setup_.held_total, kHeldTotal);
}

ControlPort::~ControlPort() {
  for (unsigned i = 0; i < held_count_; ++i) rte_pktmbuf_free(held_[(held_head_ + i) % kHeldTotal].m);
}

size_t ControlPort::receive_at(std::span<PuntedMessage> out, const Now& now) {
  if (now.table != last_upkeep_) upkeep(now);
  expire_held(now.tsc);

  for (rte_ring* ring : setup_.hold_rings) {
    rte_mbuf* pkts[32];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), std::size(pkts),
                                          nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) hold_from_worker(pkts[i], now);
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
  SendResult r;
  rte_mbuf* out = build_udp(port, d.src_mac, d.dst_ip, d.dst_port, d.src_ip, d.src_port, payload, r);
  if (out != nullptr) r = transmit(port, out);
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
  MacWord mac = 0;
  const bool resolved = neighbours_.find(route.port, route.next_hop, mac);
  SendResult r;
  rte_mbuf* m = build_udp(route.port, mac, src, rte_cpu_to_be_16(from.port.value), dst,
                          rte_cpu_to_be_16(to.port.value), payload, r);
  if (m != nullptr) {
    if (resolved)
      r = transmit(route.port, m);
    else
      r = hold(m, route.port, route.next_hop, setup_.clock->now()) ? SendResult::sent
                                                                   : SendResult::no_neighbour;
  }
  if (r == SendResult::sent) count(ControlCounterId::datagrams_sent);
  return r;
}

rte_mbuf* ControlPort::build_udp(unsigned port, MacWord dst_mac, uint32_t src_ip,
                                 uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
                                 std::span<const uint8_t> payload, SendResult& result) {
  rte_mbuf* m = rte_pktmbuf_alloc(setup_.pools[port]);
  if (m == nullptr) {
    count(ControlCounterId::mempool_empty);
    result = SendResult::no_buffer;
    return nullptr;
  }
  const size_t length = kUdpHeadersLen + payload.size();
  auto* f = length <= rte_pktmbuf_tailroom(m)
                ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(length)))
                : nullptr;
  if (f == nullptr) {
    rte_pktmbuf_free(m);
    result = SendResult::too_big;
    return nullptr;
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

// ---- packets waiting for a next hop ----

// A worker's packet: routed again from its own destination address (the routes never change
// while workers run, so this is the next hop the worker found unresolved).
void ControlPort::hold_from_worker(rte_mbuf* m, const Now& now) {
  uint8_t* f = frame(m);
  const Route route =
      ether(f)->ether_type == kEtherTypeIpv4 ? interfaces_.route(ipv4(f)->dst_addr) : Route{};
  if (route.port == kNoPort) {  // cannot happen: the worker routed it
    rte_pktmbuf_free(m);
    count(ControlCounterId::send_no_route);
    return;
  }
  hold(m, route.port, route.next_hop, now);
}

// Queues a finished packet until its next hop's MAC is known (sent at once if it is by now), and
// asks for the next hop. false when there was no room (the packet is then freed).
bool ControlPort::hold(rte_mbuf* m, unsigned port, uint32_t next_hop, const Now& now) {
  count(ControlCounterId::held);
  MacWord mac;
  if (neighbours_.find(port, next_hop, mac)) {  // learnt since the worker looked
    store_mac(ether(frame(m))->dst_addr.addr_bytes, mac);
    transmit_burst(port, &m, 1);
    return true;
  }
  const uint64_t key = asked_key(port, next_hop);
  resolve(port, next_hop, now.table);
  const auto [it, fresh] = waiting_.try_emplace(key, 0);
  if (held_count_ >= setup_.held_total || it->second >= setup_.held_per_neighbour) {
    if (fresh) waiting_.erase(it);
    trace_held(m, TraceOutcome::wait_overflow);
    rte_pktmbuf_free(m);
    count(ControlCounterId::held_overflow);
    return false;
  }
  ++it->second;
  held_[(held_head_ + held_count_++) % kHeldTotal] = {m, key, now.tsc + hold_ticks_};
  return true;
}

// The next hop is known now: its packets leave, oldest first; the others close ranks.
void ControlPort::release_held(unsigned port, uint32_t next_hop, MacWord mac) {
  const uint64_t key = asked_key(port, next_hop);
  if (waiting_.erase(key) == 0) return;
  rte_mbuf* burst[32];
  unsigned n = 0;
  unsigned kept = 0;
  for (unsigned i = 0; i < held_count_; ++i) {
    const Held h = held_[(held_head_ + i) % kHeldTotal];
    if (h.key != key) {
      held_[(held_head_ + kept++) % kHeldTotal] = h;
      continue;
    }
    store_mac(ether(frame(h.m))->dst_addr.addr_bytes, mac);
    trace_held(h.m, TraceOutcome::sent_after_wait);
    burst[n++] = h.m;
    if (n == std::size(burst)) {
      transmit_burst(port, burst, n);
      n = 0;
    }
  }
  held_count_ = kept;
  if (n > 0) transmit_burst(port, burst, n);
}

void ControlPort::expire_held(uint64_t tsc) {
  while (held_count_ > 0 && tsc >= held_[held_head_].deadline) {
    const Held& h = held_[held_head_];
    trace_held(h.m, TraceOutcome::wait_expired);
    rte_pktmbuf_free(h.m);
    forget_waiting(h.key);
    count(ControlCounterId::held_expired);
    held_head_ = (held_head_ + 1) % kHeldTotal;
    --held_count_;
  }
}

void ControlPort::trace_held(rte_mbuf* m, TraceOutcome outcome) {
  if (setup_.trace == nullptr || !setup_.trace->active()) return;
  uint8_t* f = frame(m);
  if (ether(f)->ether_type != kEtherTypeIpv4) return;
  const rte_ipv4_hdr* ip = ipv4(f);
  const auto* udp = reinterpret_cast<const rte_udp_hdr*>(f + kEtherLen + ipv4_header_len(ip));
  TraceRecord r;
  r.packet = TracePacket::datagram;
  r.outcome = outcome;
  r.from = trace_address(ip->src_addr, udp->src_port);
  r.to = trace_address(ip->dst_addr, udp->dst_port);
  if (outcome == TraceOutcome::sent_after_wait) r.next = r.to;
  if (setup_.trace->traces(r)) setup_.trace->record(r);
}

void ControlPort::forget_waiting(uint64_t key) {
  const auto it = waiting_.find(key);
  if (it != waiting_.end() && --it->second == 0) waiting_.erase(it);
}

void ControlPort::prepare_route(const IpAddress& destination) {
  const IpAddress ip = destination.canonical();
  if (!ip.is_v4()) return;
  const uint32_t dst = be_ip(ip);
  if (interfaces_.is_local(dst)) return;
  const Route route = interfaces_.route(dst);
  MacWord mac;
  if (route.port == kNoPort || neighbours_.find(route.port, route.next_hop, mac)) return;
  if (resolve(route.port, route.next_hop, now())) count(ControlCounterId::resolutions_primed);
}

// RFC 826's merge: learn the sender when the packet is for us or the sender is known; answer a
// request for one of our addresses.
void ControlPort::handle_arp(rte_mbuf* m, uint16_t port_id, const Now& now) {
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
    switch (neighbours_.learn(port, sender_ip, sender_mac, now.table)) {
      case Neighbours::Learned::added: count(ControlCounterId::arp_learned); break;
      case Neighbours::Learned::changed: count(ControlCounterId::arp_changed); break;
      case Neighbours::Learned::full: count(ControlCounterId::neighbour_table_full); break;
      case Neighbours::Learned::confirmed:
      case Neighbours::Learned::invalid: break;
    }
    asked_.erase(asked_key(port, sender_ip));
    // Even when the table was full: what waited for this neighbour has its MAC now.
    release_held(port, sender_ip, sender_mac);
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

// Asks who has `ip` unless it was asked this second already; true when a request went out.
bool ControlPort::resolve(unsigned port, uint32_t ip, TableTime now) {
  if (port >= interfaces_.port_count()) return false;
  const auto [it, fresh] = asked_.try_emplace(asked_key(port, ip), now);
  if (!fresh && now - it->second < 1) return false;
  if (!arp_request(port, ip, kBroadcastMac, now)) return false;
  it->second = now;
  return true;
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

void ControlPort::upkeep(const Now& clock) {
  const TableTime now = clock.table;
  last_upkeep_ = now;
  // Next hops that packets wait for are asked again each second until they answer.
  for (const auto& [key, n] : waiting_)
    resolve(static_cast<unsigned>(key >> 32), static_cast<uint32_t>(key), now);
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
