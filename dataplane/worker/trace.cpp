// The worker's side of `ternctl trace` (contract/trace.hpp): while a trace runs, a burst goes packet by
// packet through the scalar path, and a packet from or to the traced address has its decision
// recorded.
//
// The decision is read off the worker's own counters: every way a packet can end counts exactly
// one of them (a relay path, an answer, a punt, a wait, a drop reason), so the counters that moved
// while the packet was finished say what became of it. The paths themselves carry no tracing code
// at all, and cost nothing more when no trace runs.

#include <rte_ring.h>

#include "dataplane/worker/worker.hpp"
#include "dataplane/worker/packet.hpp"

namespace tern::dp {
namespace {

TracePacket packet_of(Kind k) {
  switch (k) {
    case Kind::channel_data: return TracePacket::channel_data;
    case Kind::send: return TracePacket::send;
    case Kind::peer: return TracePacket::peer_data;
    case Kind::binding: return TracePacket::binding;
    case Kind::punt: return TracePacket::stun;
    case Kind::arp: return TracePacket::arp;
    case Kind::ndp: return TracePacket::ndp;
    case Kind::icmp_echo: return TracePacket::icmp_echo;
    case Kind::to_kernel: return TracePacket::tcp;
    case Kind::drop: return TracePacket::unclassified;
  }
  return TracePacket::unclassified;
}

TransportAddress address4(uint32_t ip_be, uint16_t port_be) {
  return {IpAddress::v4(rte_be_to_cpu_32(ip_be)), Port{rte_be_to_cpu_16(port_be)}};
}
TransportAddress address6(const Ip6& ip, uint16_t port_be) {
  return {ip.address(), Port{rte_be_to_cpu_16(port_be)}};
}

// Reads an allocation's client address of either family into a hop.
template <class Hop>
void client_of(const Tables& t, AllocId id, Hop& hop) {
  const AllocationSlot& a = t.slot(id);
  // A stream client's data goes to its connection, which the record does not name.
  if (a.flags.load(std::memory_order_acquire) & kStreamClient) return;
  hop.ipv6 = (a.flags.load(std::memory_order_acquire) & kClientIpv6) != 0;
  if (hop.ipv6)
    hop.ip6 = t.slot6(id).client_ip;
  else
    hop.ip = a.client_ip;
  hop.port = a.client_port;
  hop.set = true;
}

}  // namespace

// Where a packet goes if it is relayed or answered: the peer, the client, the sender.
struct Worker::Hop {
  uint32_t ip = 0;  // network order, like the port
  Ip6 ip6{};
  bool ipv6 = false;
  uint16_t port = 0;
  uint16_t channel = 0;
  bool set = false;
};

namespace {

template <class Packet, class Hop>
bool matches(const Packet& p, const Hop& hop, uint64_t filter, const Ip6& traced6) {
  if (TraceFilter::is_ipv4(filter)) {
    const uint32_t t = TraceFilter::ipv4(filter);
    return (!p.ipv6 && (p.src_ip == t || p.dst_ip == t)) || (hop.set && !hop.ipv6 && hop.ip == t);
  }
  return (p.ipv6 && (p.src6 == traced6 || p.dst6 == traced6)) ||
         (hop.set && hop.ipv6 && hop.ip6 == traced6);
}

}  // namespace

void Worker::process_traced(unsigned port, rte_mbuf** pkts, uint16_t n, const Instant& now,
                            uint64_t filter) {
  Ip6 traced6{};
  traced6.w[0] = trace_filter_.ipv6[0].load(std::memory_order_relaxed);
  traced6.w[1] = trace_filter_.ipv6[1].load(std::memory_order_relaxed);
  for (unsigned i = 0; i < std::min<unsigned>(n, kPrefetchAhead); ++i)
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    Packet p;
    classify(p, pkts[i], port);
    find_allocation(p);
    const Hop hop = hop_of(p, now);
    if (!matches(p, hop, filter, traced6)) {
      finish(p, now);
      continue;
    }
    if (!trace_budget_.take(now.tsc)) {
      counters_[CounterId::trace_suppressed].add(1);
      finish(p, now);
      continue;
    }
    finish_traced(p, hop, now);
  }
}

// Fills in what classification leaves out for packets it does not take apart (ARP's addresses,
// the addresses of a packet dropped early), and finds where the packet would go. Reads only: the
// tables, the packet's own headers.
Worker::Hop Worker::hop_of(Packet& p, const Instant& now) const {
  Hop hop;
  const uint8_t* f = rte_pktmbuf_mtod(p.m, const uint8_t*);
  const uint16_t len = rte_pktmbuf_data_len(p.m);
  const uint16_t ether_type = len >= kEtherLen ? reinterpret_cast<const rte_ether_hdr*>(f)->ether_type : 0;
  switch (p.kind) {
    case Kind::arp:
      if (len >= kEtherLen + kArpLen) {
        const auto* a = reinterpret_cast<const rte_arp_hdr*>(f + kEtherLen);
        p.src_ip = a->arp_data.arp_sip;
        p.dst_ip = a->arp_data.arp_tip;
      }
      return hop;
    case Kind::drop:
      if (!p.ipv6 && p.src_ip == 0 && ether_type == kEtherTypeIpv4 && len >= kEtherLen + kIpv4Len) {
        const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(f + kEtherLen);
        p.src_ip = ip->src_addr;
        p.dst_ip = ip->dst_addr;
      } else if (!p.ipv6 && ether_type == kEtherTypeIpv6 && len >= kEtherLen + kIpv6Len) {
        const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(f + kEtherLen);
        p.ipv6 = true;  // only for the record: a dropped packet is not looked at again
        p.src6 = Ip6::load(ip->src_addr);
        p.dst6 = Ip6::load(ip->dst_addr);
      }
      return hop;
    case Kind::binding:
    case Kind::icmp_echo:
      hop.ipv6 = p.ipv6;
      if (p.ipv6)
        hop.ip6 = p.src6;
      else
        hop.ip = p.src_ip;
      hop.port = p.src_port;
      hop.set = true;
      return hop;
    case Kind::punt:
    case Kind::ndp:
    case Kind::to_kernel:
      return hop;
    case Kind::channel_data:
    case Kind::send: {
      if (p.kind == Kind::send) {
        hop = {p.peer_ip, p.peer6, p.peer_ipv6, p.peer_port, 0, true};
        if (!p.peer_ipv6) hop.ip6 = Ip6{};
      }
      if (p.id == kNoAllocation) return hop;
      const AllocationSlot& a = tables_.slot(p.id);
      if (p.kind == Kind::channel_data) {
        hop.channel = p.channel;
        hop.ipv6 = (a.flags.load(std::memory_order_acquire) & kRelayIpv6) != 0;
        hop.set = hop.ipv6 ? tables_.channel_peer(p.id, a, p.channel, now.table, hop.ip6, hop.port)
                           : tables_.channel_peer(p.id, a, p.channel, now.table, hop.ip, hop.port);
      }
      if (!hop.set) return hop;
      // Hairpin: to the client of the allocation that owns the relayed address.
      const int relay = hop.ipv6 ? tables_.relay_index_of(hop.ip6) : tables_.relay_index_of(hop.ip);
      const AllocId other =
          relay >= 0 ? tables_.find_relay(static_cast<unsigned>(relay), hop.port) : kNoAllocation;
      if (other != kNoAllocation) client_of(tables_, other, hop);
      return hop;
    }
    case Kind::peer: {
      if (p.id == kNoAllocation) return hop;
      const AllocationSlot& a = tables_.slot(p.id);
      client_of(tables_, p.id, hop);
      hop.channel = p.ipv6 ? tables_.channel_of_peer(p.id, a, p.src6, p.src_port, now.table)
                           : tables_.channel_of_peer(p.id, a, p.src_ip, p.src_port, now.table);
      return hop;
    }
  }
  return hop;
}

// Finishes the packet and records what became of it.
void Worker::finish_traced(Packet& p, const Hop& hop, const Instant& now) {
  CounterValues before;
  for (size_t c = 0; c < kCounterCount; ++c) before[c] = counters_.values[c].value();
  const Kind kind = p.kind;
  finish(p, now);  // p.m belongs to a TX buffer, a ring or the pool now: not read again
  auto moved = [&](CounterId id) {
    return counters_[id].value() != before[static_cast<size_t>(id)];
  };

  TraceRecord r;
  r.time_ns = now.tsc;  // TraceHub::read_trace() makes it time since start
  r.source = static_cast<uint8_t>(r_.index);
  r.packet = packet_of(kind);
  r.from = p.ipv6 ? address6(p.src6, p.src_port) : address4(p.src_ip, p.src_port);
  r.to = p.ipv6 ? address6(p.dst6, p.dst_port) : address4(p.dst_ip, p.dst_port);
  if (hop.set) r.next = hop.ipv6 ? address6(hop.ip6, hop.port) : address4(hop.ip, hop.port);
  r.allocation = p.id;
  r.channel = kind == Kind::channel_data ? p.channel : hop.channel;
  r.reason = UINT16_MAX;  // unknown, until the counters say

  // First a drop (a relay path may count its packet before it is dropped further on, as a
  // hairpin does); the TX queue's drops belong to the flush, not to this packet.
  bool decided = false;
  for (size_t c = 0; c < kCounterCount && !decided; ++c) {
    const auto id = static_cast<CounterId>(c);
    if (is_drop(id) && id != CounterId::drop_tx_full && moved(id)) {
      r.outcome = TraceOutcome::dropped;
      r.reason = static_cast<uint16_t>(c);
      decided = true;
    }
  }
  if (!decided) {
    if (moved(CounterId::neighbour_wait)) {
      r.outcome = TraceOutcome::waiting;
    } else if (moved(CounterId::hairpin)) {
      r.outcome = TraceOutcome::hairpin;
    } else if (moved(CounterId::channel_data_to_peer) || moved(CounterId::send_to_peer) ||
               moved(CounterId::channel_data_to_client) ||
               moved(CounterId::data_indication_to_client)) {
      r.outcome = TraceOutcome::relayed;
    } else if (moved(CounterId::binding_answered) || moved(CounterId::arp_answered) ||
               moved(CounterId::ndp_answered) || moved(CounterId::icmp_answered)) {
      r.outcome = TraceOutcome::answered;
    } else if (moved(CounterId::to_kernel)) {
      r.outcome = TraceOutcome::to_kernel;
    } else if (moved(CounterId::punted)) {
      r.outcome = TraceOutcome::punted;
      r.reason = static_cast<uint16_t>(kind == Kind::arp   ? PuntReason::arp
                                       : kind == Kind::ndp ? PuntReason::ndp
                                                           : p.punt);
    }
  }
  if (r.outcome != TraceOutcome::relayed && r.outcome != TraceOutcome::hairpin &&
      r.outcome != TraceOutcome::waiting && r.outcome != TraceOutcome::answered)
    r.next = {};
  if (r_.trace_ring == nullptr ||
      rte_ring_sp_enqueue_elem(r_.trace_ring, &r, sizeof r) != 0) {
    counters_[CounterId::trace_suppressed].add(1);
    return;
  }
  counters_[CounterId::trace_records].add(1);
}

}  // namespace tern::dp
