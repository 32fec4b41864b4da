// Packets waiting for their next hop's MAC address (control_port.hpp).

#include "dataplane/control_lcore/control_port.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>

#include "dataplane/control_lcore/datagram.hpp"

namespace tern::dp {

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

}  // namespace tern::dp
