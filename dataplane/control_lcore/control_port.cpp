#include "dataplane/control_lcore/control_port.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>

#include "dataplane/wire/arp.hpp"
#include "dataplane/wire/checksum.hpp"
#include "dataplane/wire/ndp.hpp"
#include "dataplane/wire/headers.hpp"
#include "dataplane/worker/punt.hpp"

namespace tern::dp {
namespace {

using Endpoint = ControlPort::Endpoint;

uint32_t be_ip(const IpAddress& ip) { return rte_cpu_to_be_32(ip.v4_host_order()); }

IpAddress address_of(const Endpoint& e) {
  return e.ipv6 ? e.ip6.address() : IpAddress::v4(rte_be_to_cpu_32(e.ip));
}
TransportAddress transport_of(const Endpoint& e) {
  return {address_of(e), Port{rte_be_to_cpu_16(e.port)}};
}
std::optional<Endpoint> endpoint_of(const TransportAddress& a) {
  const uint16_t port = rte_cpu_to_be_16(a.port.value);
  if (a.ip.is_v4()) return Endpoint{false, be_ip(a.ip), Ip6{}, port};
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

Datagram datagram_of(rte_mbuf* m) {
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

size_t ControlPort::receive_at(std::span<PuntedMessage> out, const Instant& now) {
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
        if (meta.reason == PuntReason::ndp) {
          handle_ndp(m, meta.port, now);
          continue;
        }
        const Datagram d = datagram_of(m);
        PuntedMessage& msg = out[filled++];
        msg.five_tuple.client = transport_of(d.src);
        msg.five_tuple.server = transport_of(d.dst);
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

// ---- packets waiting for a next hop ----

// A worker's packet: routed again from its own destination address (the routes never change
// while workers run, so this is the next hop the worker found unresolved).
void ControlPort::hold_from_worker(rte_mbuf* m, const Instant& now) {
  uint8_t* f = frame(m);
  NextHop hop;
  if (ether(f)->ether_type == kEtherTypeIpv4) {
    const Route route = interfaces_.route(ipv4(f)->dst_addr);
    hop = NextHop::v4(route.port, route.next_hop);
  } else if (ether(f)->ether_type == kEtherTypeIpv6) {
    const Route6 route = interfaces_.route(Ip6::load(ipv6(f)->dst_addr));
    hop = NextHop::v6(route.port, route.next_hop);
  }
  if (hop.port == kNoPort) {  // cannot happen: the worker routed it
    rte_pktmbuf_free(m);
    count(ControlCounterId::send_no_route);
    return;
  }
  hold(m, hop, now);
}

// Queues a finished packet until its next hop's MAC is known (sent at once if it is by now), and
// asks for the next hop. false when there was no room (the packet is then freed).
bool ControlPort::hold(rte_mbuf* m, const NextHop& hop, const Instant& now) {
  count(ControlCounterId::held);
  MacWord mac;
  if (hop.ipv6 ? neighbours_.find(hop.port, hop.ip6, mac) : neighbours_.find(hop.port, hop.ip, mac)) {
    store_mac(ether(frame(m))->dst_addr.addr_bytes, mac);  // learnt since the worker looked
    transmit_burst(hop.port, &m, 1);
    return true;
  }
  resolve(hop, now.table);
  const auto [it, fresh] = waiting_.try_emplace(hop, 0);
  if (held_count_ >= setup_.held_total || it->second >= setup_.held_per_neighbour) {
    if (fresh) waiting_.erase(it);
    trace_held(m, TraceOutcome::wait_overflow);
    rte_pktmbuf_free(m);
    count(ControlCounterId::held_overflow);
    return false;
  }
  ++it->second;
  held_[(held_head_ + held_count_++) % kHeldTotal] = {m, hop, now.tsc + hold_ticks_};
  return true;
}

// The next hop is known now: its packets leave, oldest first; the others close ranks.
void ControlPort::release_held(const NextHop& hop, MacWord mac) {
  if (waiting_.erase(hop) == 0) return;
  rte_mbuf* burst[32];
  unsigned n = 0;
  unsigned kept = 0;
  for (unsigned i = 0; i < held_count_; ++i) {
    const Held h = held_[(held_head_ + i) % kHeldTotal];
    if (!(h.hop == hop)) {
      held_[(held_head_ + kept++) % kHeldTotal] = h;
      continue;
    }
    store_mac(ether(frame(h.m))->dst_addr.addr_bytes, mac);
    trace_held(h.m, TraceOutcome::sent_after_wait);
    burst[n++] = h.m;
    if (n == std::size(burst)) {
      transmit_burst(hop.port, burst, n);
      n = 0;
    }
  }
  held_count_ = kept;
  if (n > 0) transmit_burst(hop.port, burst, n);
}

void ControlPort::expire_held(uint64_t tsc) {
  while (held_count_ > 0 && tsc >= held_[held_head_].deadline) {
    const Held& h = held_[held_head_];
    trace_held(h.m, TraceOutcome::wait_expired);
    rte_pktmbuf_free(h.m);
    forget_waiting(h.hop);
    count(ControlCounterId::held_expired);
    held_head_ = (held_head_ + 1) % kHeldTotal;
    --held_count_;
  }
}

void ControlPort::trace_held(rte_mbuf* m, TraceOutcome outcome) {
  if (setup_.trace == nullptr || !setup_.trace->active()) return;
  uint8_t* f = frame(m);
  Endpoint src, dst;
  const rte_udp_hdr* udp;
  if (ether(f)->ether_type == kEtherTypeIpv6) {
    src.ipv6 = dst.ipv6 = true;
    src.ip6 = Ip6::load(ipv6(f)->src_addr);
    dst.ip6 = Ip6::load(ipv6(f)->dst_addr);
    udp = reinterpret_cast<const rte_udp_hdr*>(f + kEtherLen + kIpv6Len);
  } else {
    const rte_ipv4_hdr* ip = ipv4(f);
    src.ip = ip->src_addr;
    dst.ip = ip->dst_addr;
    udp = reinterpret_cast<const rte_udp_hdr*>(f + kEtherLen + ipv4_header_len(ip));
  }
  src.port = udp->src_port;
  dst.port = udp->dst_port;
  TraceRecord r;
  r.packet = TracePacket::datagram;
  r.outcome = outcome;
  r.from = transport_of(src);
  r.to = transport_of(dst);
  if (outcome == TraceOutcome::sent_after_wait) r.next = r.to;
  if (setup_.trace->traces(r)) setup_.trace->record(r);
}

void ControlPort::forget_waiting(const NextHop& hop) {
  const auto it = waiting_.find(hop);
  if (it != waiting_.end() && --it->second == 0) waiting_.erase(it);
}

void ControlPort::prepare_route(const IpAddress& destination) {
  const IpAddress ip = destination.canonical();
  NextHop hop;
  MacWord mac;
  if (ip.is_v4()) {
    const uint32_t dst = be_ip(ip);
    if (interfaces_.is_local(dst)) return;
    const Route route = interfaces_.route(dst);
    hop = NextHop::v4(route.port, route.next_hop);
    if (hop.port == kNoPort || neighbours_.find(hop.port, hop.ip, mac)) return;
  } else {
    const Ip6 dst = Ip6::of(ip);
    if (interfaces_.is_local(dst)) return;
    const Route6 route = interfaces_.route(dst);
    hop = NextHop::v6(route.port, route.next_hop);
    if (hop.port == kNoPort || neighbours_.find(hop.port, hop.ip6, mac)) return;
  }
  if (resolve(hop, now())) count(ControlCounterId::resolutions_primed);
}

// ---- neighbours ----

void ControlPort::learned(const NextHop& hop, MacWord mac, Neighbours::Learned result, bool ipv6) {
  switch (result) {
    case Neighbours::Learned::added:
      count(ipv6 ? ControlCounterId::ndp_learned : ControlCounterId::arp_learned);
      break;
    case Neighbours::Learned::changed:
      count(ipv6 ? ControlCounterId::ndp_changed : ControlCounterId::arp_changed);
      break;
    case Neighbours::Learned::full: count(ControlCounterId::neighbour_table_full); break;
    case Neighbours::Learned::confirmed:
    case Neighbours::Learned::invalid: break;
  }
  asked_.erase(hop);
  // Even when the table was full: what waited for this neighbour has its MAC now.
  release_held(hop, mac);
}

// RFC 826's merge: learn the sender when the packet is for us or the sender is known; answer a
// request for one of our addresses.
void ControlPort::handle_arp(rte_mbuf* m, uint16_t port_id, const Instant& now) {
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
  if (sender_ip != 0 && !interfaces_.is_local(sender_ip) && (for_us || known))
    learned(NextHop::v4(port, sender_ip), sender_mac,
            neighbours_.learn(port, sender_ip, sender_mac, now.table), false);
  if (op != RTE_ARP_OP_REQUEST || !for_us) {
    rte_pktmbuf_free(m);
    return;
  }
  make_arp_reply(m, interfaces_.port(port).mac);
  if (transmit(port, m) == SendResult::sent) count(ControlCounterId::arp_answered);
}

// RFC 4861 §7.2.3-§7.2.5: a solicitation for one of our addresses teaches the solicitor's MAC
// (its source link-layer option) and is answered; an advertisement teaches the target's MAC when
// it is for us (the answer to our solicitation) or about a neighbour we know.
void ControlPort::handle_ndp(rte_mbuf* m, uint16_t port_id, const Instant& now) {
  const unsigned port = interfaces_.index_of(port_id);
  uint8_t* f = frame(m);
  const rte_ipv6_hdr* ip = ipv6(f);
  const uint8_t* icmp = f + kEtherLen + kIpv6Len;
  const NdpMessage msg = parse_ndp(icmp, rte_be_to_cpu_16(ip->payload_len));
  if (port == kNoPort || !msg.valid) {
    rte_pktmbuf_free(m);
    return;
  }
  const Ip6 src = Ip6::load(ip->src_addr);
  const Ip6 dst = Ip6::load(ip->dst_addr);
  MacWord known_mac;
  if (msg.type == kIcmp6NeighbourSolicitation) {
    if (!interfaces_.owns(port, msg.target)) {
      rte_pktmbuf_free(m);
      return;
    }
    if (!src.zero() && msg.has_link_layer && !interfaces_.is_local(src))
      learned(NextHop::v6(port, src), msg.link_layer,
              neighbours_.learn(port, src, msg.link_layer, now.table), true);
    const MacWord to =
        msg.has_link_layer ? msg.link_layer : load_mac(ether(f)->src_addr.addr_bytes);
    write_advertisement(f, to, interfaces_.port(port).mac, msg.target, src);
    m->data_len = kNdpFrameLen;
    m->pkt_len = m->data_len;
    m->ol_flags = 0;
    if (transmit(port, m) == SendResult::sent) count(ControlCounterId::ndp_answered);
    return;
  }
  const NextHop hop = NextHop::v6(port, msg.target);
  const bool asked = asked_.count(hop) > 0 || waiting_.count(hop) > 0;
  const bool known = neighbours_.find(port, msg.target, known_mac);
  if (msg.has_link_layer && !interfaces_.is_local(msg.target) &&
      ((interfaces_.owns(port, dst) && asked) || known))
    learned(hop, msg.link_layer, neighbours_.learn(port, msg.target, msg.link_layer, now.table), true);
  rte_pktmbuf_free(m);
}

// Asks who has the next hop unless it was asked this second already; true when a request went
// out.
bool ControlPort::resolve(const NextHop& hop, TableTime now) {
  if (hop.port >= interfaces_.port_count()) return false;
  const auto [it, fresh] = asked_.try_emplace(hop, now);
  if (!fresh && now - it->second < 1) return false;
  const bool sent = hop.ipv6 ? solicit(hop.port, hop.ip6, 0, false, now)
                             : arp_request(hop.port, hop.ip, kBroadcastMac, now);
  if (!sent) return false;
  it->second = now;
  return true;
}

// kArpRequestsPerSecond requests of both kinds a second.
bool ControlPort::request_budget(TableTime now) {
  if (now != request_window_) {
    request_window_ = now;
    requests_in_window_ = 0;
  }
  if (requests_in_window_ >= kArpRequestsPerSecond) {
    count(ControlCounterId::arp_requests_limited);
    return false;
  }
  return true;
}

// RFC 826: who has `ip`? tell our address on that subnet. Broadcast to resolve, unicast to
// refresh (RFC 1122 §2.3.2.1).
bool ControlPort::arp_request(unsigned port, uint32_t ip, MacWord dst_mac, TableTime now) {
  if (!request_budget(now)) return false;
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
  ++requests_in_window_;
  count(ControlCounterId::arp_requests_sent);
  return true;
}

// RFC 4861 §7.2.2: a neighbour solicitation, from our address on the target's subnet (any of the
// port's when the target is a link-local router), to the target's solicited-node group when
// resolving, to its known MAC when confirming.
bool ControlPort::solicit(unsigned port, const Ip6& target, MacWord dst_mac, bool unicast,
                          TableTime now) {
  const Ip6 src = interfaces_.source_for(port, target);
  if (src.zero() || !request_budget(now)) return false;
  rte_mbuf* m = rte_pktmbuf_alloc(setup_.pools[port]);
  if (m == nullptr) {
    count(ControlCounterId::mempool_empty);
    return false;
  }
  auto* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kNdpFrameLen));
  if (f == nullptr) {
    rte_pktmbuf_free(m);
    return false;
  }
  write_solicitation(f, dst_mac, interfaces_.port(port).mac, src, target, unicast);
  if (transmit(port, m) != SendResult::sent) return false;
  ++requests_in_window_;
  count(ControlCounterId::ndp_solicitations_sent);
  return true;
}

void ControlPort::upkeep(const Instant& clock) {
  const TableTime now = clock.table;
  last_upkeep_ = now;
  // Next hops that packets wait for are asked again each second until they answer.
  for (const auto& [hop, n] : waiting_) resolve(hop, now);
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
  // RFC 4861 §7.3: reachability confirmed by a unicast solicitation, like ARP's refresh.
  for (const Neighbours::Known6& n : neighbours_.known6()) {
    const TableTime age = now - n.confirmed;
    if (age >= kNeighbourStale + kNeighbourProbeTime) {
      neighbours_.forget(n.port, n.ip);
      count(ControlCounterId::neighbours_forgotten);
    } else if (age >= kNeighbourStale) {
      solicit(n.port, n.ip, n.mac, true, now);
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
