// What a worker answers itself — ARP and neighbour solicitations for our addresses from known
// neighbours, ICMP and ICMPv6 echo, STUN Binding requests — and the slow path: everything else
// that needs a decision goes to the control lcore with a reason.

#include <rte_ring.h>

#include "dataplane/wire/arp.hpp"
#include "dataplane/wire/checksum.hpp"
#include "dataplane/wire/ndp.hpp"
#include "dataplane/worker/punt.hpp"
#include "dataplane/wire/stun.hpp"
#include "dataplane/worker/worker.hpp"
#include "dataplane/worker/packet.hpp"

namespace tern::dp {

void Worker::punt(Packet& p, PuntReason reason) {
  PuntMeta& meta = punt_meta(p.m, r_.punt_offset);
  meta.reason = reason;
  meta.worker = static_cast<uint8_t>(r_.index);
  meta.port = interfaces_.port(p.port).port_id;
  if (rte_ring_sp_enqueue(r_.punt_ring, p.m) != 0) return drop(p.m, CounterId::drop_punt_ring_full);
  counters_[CounterId::punted].add(1);
}

// RFC 826. Workers never write the neighbour table: a request for one of our addresses from a
// neighbour we already know by the same MAC is answered here; whatever teaches something (a new
// neighbour, a changed MAC, the answer to our own request) goes to the control lcore, which
// learns it and answers if asked.
void Worker::arp(Packet& p) {
  rte_mbuf* m = p.m;
  if (rte_pktmbuf_data_len(m) < kEtherLen + kArpLen) return drop(m, CounterId::drop_malformed);
  uint8_t* f = frame(m);
  rte_arp_hdr* a = dp::arp(f);
  if (a->arp_hardware != be16(RTE_ARP_HRD_ETHER) || a->arp_protocol != kEtherTypeIpv4 ||
      a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4)
    return drop(m, CounterId::drop_malformed);
  const uint16_t op = rte_be_to_cpu_16(a->arp_opcode);
  const uint32_t sender_ip = a->arp_data.arp_sip;
  const uint32_t target_ip = a->arp_data.arp_tip;
  const MacWord sender_mac = load_mac(a->arp_data.arp_sha.addr_bytes);
  const bool for_us = interfaces_.owns(p.port, target_ip);
  MacWord known_mac = 0;
  const bool known = sender_ip != 0 && neighbours_.find(p.port, sender_ip, known_mac);

  if (op == RTE_ARP_OP_REQUEST && for_us) {
    if (!known || known_mac != sender_mac) return punt(p, PuntReason::arp);
    make_arp_reply(m, interfaces_.port(p.port).mac);
    counters_[CounterId::arp_answered].add(1);
    return transmit(p.port, m);
  }
  if ((known && known_mac != sender_mac) || (op == RTE_ARP_OP_REPLY && for_us))
    return punt(p, PuntReason::arp);
  drop(m, CounterId::drop_arp_ignored);
}

// RFC 4861 §7.2.3-§7.2.5, like ARP above: a solicitation for one of our addresses from a
// neighbour we know by the same MAC is answered here; whatever teaches something (a new or
// changed neighbour, an advertisement answering us, duplicate address detection from ::) goes to
// the control lcore.
void Worker::ndp(Packet& p) {
  rte_mbuf* m = p.m;
  const NdpMessage msg = parse_ndp(p.payload, p.payload_len);
  if (!msg.valid) return drop(m, CounterId::drop_malformed);
  uint8_t* f = frame(m);
  MacWord known_mac = 0;
  const bool known = !p.src6.zero() && neighbours_.find(p.port, p.src6, known_mac);
  if (msg.type == kIcmp6NeighbourSolicitation) {
    if (!interfaces_.owns(p.port, msg.target)) return drop(m, CounterId::drop_arp_ignored);
    const MacWord sender =
        msg.has_link_layer ? msg.link_layer : load_mac(ether(f)->src_addr.addr_bytes);
    if (!known || known_mac != sender) return punt(p, PuntReason::ndp);
    const MacWord ours = interfaces_.port(p.port).mac;
    write_advertisement(f, sender, ours, msg.target, p.src6);
    m->data_len = kNdpFrameLen;
    m->pkt_len = m->data_len;
    m->ol_flags = 0;
    counters_[CounterId::ndp_answered].add(1);
    return transmit(p.port, m);
  }
  // An advertisement: for us (the answer to our solicitation), or changing a neighbour we know.
  MacWord target_mac = 0;
  const bool target_known = neighbours_.find(p.port, msg.target, target_mac);
  const bool to_us = interfaces_.owns(p.port, p.dst6);
  if (msg.has_link_layer && (to_us || (target_known && target_mac != msg.link_layer)))
    return punt(p, PuntReason::ndp);
  drop(m, CounterId::drop_arp_ignored);
}

// RFC 792: echo reply = the request with type 0, addresses swapped; the ICMP checksum updated
// for the one changed word (RFC 1624 §4's own example). The reply leaves towards the MAC the
// request came from, with a header of our own (no options).
void Worker::icmp_echo(Packet& p) {
  rte_mbuf* m = p.m;
  uint8_t* f = frame(m);
  const MacWord requester = load_mac(ether(f)->src_addr.addr_bytes);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(p.payload);
  uint16_t old_word;
  std::memcpy(&old_word, icmp, 2);
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  uint16_t new_word;
  std::memcpy(&new_word, icmp, 2);
  icmp->icmp_cksum = static_cast<uint16_t>(
      ~csum::add(csum::sub(static_cast<uint16_t>(~icmp->icmp_cksum), old_word), new_word));

  uint8_t* start = p.payload - kEtherLen - kIpv4Len;
  const MacWord ours = interfaces_.port(p.port).mac;
  write_ether(start, requester, ours, kEtherTypeIpv4);
  Ipv4Fields fields;
  fields.src = p.dst_ip;
  fields.dst = p.src_ip;
  fields.tos = p.tos;
  fields.protocol = IPPROTO_ICMP;
  fields.total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kIpv4Len + p.payload_len));
  fields.id = next_ip_id();
  rte_ipv4_hdr* ip = ipv4(start);
  write_ipv4(ip, fields);
  ip->hdr_checksum = ipv4_checksum(fields);
  set_frame(m, start, static_cast<uint16_t>(kEtherLen + kIpv4Len + p.payload_len));
  m->ol_flags = 0;
  counters_[CounterId::icmp_answered].add(1);
  transmit(p.port, m);
}

// RFC 4443 §4.2: echo reply = the request with type 129, addresses swapped, a header of our own.
// The pseudo-header sums the same with the addresses swapped, so the checksum changes only by the
// type (RFC 1624).
void Worker::icmp6_echo(Packet& p) {
  rte_mbuf* m = p.m;
  uint8_t* f = frame(m);
  const MacWord requester = load_mac(ether(f)->src_addr.addr_bytes);
  uint8_t* icmp = p.payload;
  uint16_t old_word;
  std::memcpy(&old_word, icmp, 2);
  icmp[0] = kIcmp6EchoReply;
  uint16_t new_word;
  std::memcpy(&new_word, icmp, 2);
  uint16_t check;
  std::memcpy(&check, icmp + 2, 2);
  check = static_cast<uint16_t>(~csum::add(csum::sub(static_cast<uint16_t>(~check), old_word), new_word));
  std::memcpy(icmp + 2, &check, 2);

  uint8_t* start = p.payload - kEtherLen - kIpv6Len;
  write_ether(start, requester, interfaces_.port(p.port).mac, kEtherTypeIpv6);
  const Ip6 src = p.dst6;  // copies: the header about to be written holds the originals
  const Ip6 dst = p.src6;
  Ipv6Fields fields;
  fields.src = reinterpret_cast<const uint8_t*>(src.w);
  fields.dst = reinterpret_cast<const uint8_t*>(dst.w);
  fields.payload_length = rte_cpu_to_be_16(p.payload_len);
  fields.traffic_class = p.tos;
  fields.next_header = IPPROTO_ICMPV6;
  write_ipv6(ipv6(start), fields);
  set_frame(m, start, static_cast<uint16_t>(kEtherLen + kIpv6Len + p.payload_len));
  m->ol_flags = 0;
  counters_[CounterId::icmp_answered].add(1);
  transmit(p.port, m);
}

// RFC 8489 §3, §8: a Binding success response with the request's transaction ID and
// XOR-MAPPED-ADDRESS = the request's source transport address; SOFTWARE when configured
// (§14.14); FINGERPRINT when the request had one (§14.7), so clients that demultiplex on it
// accept the answer.
template <class F>
void Worker::binding(Packet& p) {
  rte_mbuf* m = p.m;
  uint8_t response[stun_wire::kHeaderLen + stun_wire::kXorAddress6AttributeLen + kMaxSoftwareAttribute +
                   stun_wire::kFingerprintAttributeLen];
  uint16_t n = stun_wire::kHeaderLen;
  std::memcpy(response + 4, p.payload + 4, 4 + stun_wire::kTransactionIdLen);  // cookie, transaction
  if constexpr (F::kIpv6)
    stun_wire::write_xor_address(response + n, stun::AttributeType::xor_mapped_address, p.src6, p.src_port, response + 8);
  else
    stun_wire::write_xor_address(response + n, stun::AttributeType::xor_mapped_address, p.src_ip, p.src_port);
  n += F::kXorAddressAttribute;
  std::memcpy(response + n, settings_->software_attribute, settings_->software_attribute_len);
  n = static_cast<uint16_t>(n + settings_->software_attribute_len);
  stun_wire::store16(response, stun_wire::kBindingSuccess);
  const uint16_t total = static_cast<uint16_t>(n + (p.fingerprint ? stun_wire::kFingerprintAttributeLen : 0));
  stun_wire::store16(response + 2, static_cast<uint16_t>(total - stun_wire::kHeaderLen));
  if (p.fingerprint) {
    const uint32_t crc = r_.engine->crc32({response, n}) ^ stun::kFingerprintXor;
    stun_wire::store16(response + n, stun::AttributeType::fingerprint);
    stun_wire::store16(response + n + 2, 4);
    stun_wire::store32_raw(response + n + 4, rte_cpu_to_be_32(crc));
    n = total;
  }

  uint8_t* f = frame(m);
  const MacWord requester = load_mac(ether(f)->src_addr.addr_bytes);
  uint8_t* start = p.payload - F::kUdpHeaders;
  uint8_t* end = p.payload + n;
  if (!fits(m, start, end)) return drop(m, CounterId::drop_too_big);
  std::memcpy(p.payload, response, n);
  const bool offload = interfaces_.port(p.port).tx_checksum_offload;
  const uint16_t sum = offload ? 0 : csum::region(response, n, false);
  UdpHeaders<F> h;
  if constexpr (F::kIpv6) {
    h.src = p.dst6;
    h.dst = p.src6;
  } else {
    h.src = p.dst_ip;
    h.dst = p.src_ip;
  }
  h.src_port = p.dst_port;
  h.dst_port = p.src_port;
  counters_[CounterId::binding_answered].add(1);
  finish_udp(m, start, end, p.port, requester, h, sum);
  transmit(p.port, m);
}

template void Worker::binding<V4>(Packet& p);
template void Worker::binding<V6>(Packet& p);

}  // namespace tern::dp
