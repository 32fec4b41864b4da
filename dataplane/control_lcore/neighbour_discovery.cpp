// What ARP (RFC 826) and neighbour discovery (RFC 4861) teach the neighbour table, and the answers for our addresses the workers leave to the control lcore.

#include "dataplane/control_lcore/control_port.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>

#include "dataplane/control_lcore/datagram.hpp"
#include "dataplane/wire/arp.hpp"
#include "dataplane/wire/ndp.hpp"

namespace tern::dp {

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

}  // namespace tern::dp
