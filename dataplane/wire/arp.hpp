#pragma once
// ARP (RFC 826) as the worker and the control lcore answer it: in place, on the request's buffer.

#include <rte_arp.h>
#include <rte_mbuf.h>

#include "dataplane/wire/headers.hpp"

namespace tern::dp {

// RFC 826: "swap fields putting the hardware and protocol addresses of the sender in the target
// fields ... put the local hardware and protocol addresses in the sender fields ... set the opcode
// to reply". Turns the request in `m` (for one of our addresses) into its reply from `ours`,
// addressed to the requester's MAC; what remains is to transmit it.
inline void make_arp_reply(rte_mbuf* m, MacWord ours) {
  uint8_t* f = frame(m);
  rte_arp_hdr* a = arp(f);
  const MacWord sender_mac = load_mac(a->arp_data.arp_sha.addr_bytes);
  const uint32_t sender_ip = a->arp_data.arp_sip;
  const uint32_t target_ip = a->arp_data.arp_tip;
  a->arp_opcode = be16(RTE_ARP_OP_REPLY);
  store_mac(a->arp_data.arp_tha.addr_bytes, sender_mac);
  a->arp_data.arp_tip = sender_ip;
  store_mac(a->arp_data.arp_sha.addr_bytes, ours);
  a->arp_data.arp_sip = target_ip;
  write_ether(f, sender_mac, ours, kEtherTypeArp);
  m->data_len = kEtherLen + kArpLen;
  m->pkt_len = m->data_len;
  m->ol_flags = 0;
}

}  // namespace tern::dp
