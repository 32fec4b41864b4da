// Asking for next hops (resolution, refresh, expiry) at a bounded rate.

#include "dataplane/control_lcore/control_port.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>

#include "dataplane/control_lcore/datagram.hpp"
#include "dataplane/wire/ndp.hpp"

namespace tern::dp {

void ControlPort::prepare_route(const IpAddress& destination) {
  const IpAddress ip = destination.canonical();
  NextHop hop;
  MacWord mac;
  if (ip.is_v4()) {
    const uint32_t dst = ipv4_be(ip);
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
