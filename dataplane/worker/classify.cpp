// Classification: what a received frame is, and everything the fast paths need from its headers.
// Every length is checked against the one that contains it before it is used; a frame that does
// not add up is dropped with a reason, never trusted.

#include <rte_ethdev.h>

#include "dataplane/wire/checksum.hpp"
#include "dataplane/wire/stun.hpp"
#include "dataplane/worker/worker.hpp"
#include "dataplane/worker/packet.hpp"

namespace tern::dp {

void Worker::classify(Packet& p, rte_mbuf* m, unsigned port) {
  p.m = m;
  p.port = port;
  if (m->nb_segs != 1) return p.drop_as(CounterId::drop_segmented);
  uint8_t* f = frame(m);
  const uint16_t len = rte_pktmbuf_data_len(m);
  if (len < kEtherLen) return p.drop_as(CounterId::drop_malformed);
  const rte_ether_hdr* e = ether(f);
  const MacWord dst = load_mac(e->dst_addr.addr_bytes);
  if (dst != interfaces_.port(port).mac && dst != kBroadcastMac && !ipv6_multicast_mac(dst))
    return p.drop_as(CounterId::drop_not_ours);
  if (e->ether_type == kEtherTypeIpv4) return classify_ipv4(p, f, len);
  if (e->ether_type == kEtherTypeIpv6) return classify_ipv6(p, f, len);
  if (e->ether_type == kEtherTypeArp) {
    p.kind = Kind::arp;
    return;
  }
  p.drop_as(CounterId::drop_ethertype);
}

// A UDP datagram whose lengths and checksum are good (src, dst: its addresses, of either family;
// key: the client key of that family): STUN or ChannelData to a listener, a peer's datagram to a
// relayed address, or nothing of ours.
template <class Address, class Key>
void Worker::classify_udp(Packet& p, uint8_t* l4, uint16_t udp_len, const Address& src,
                          const Address& dst, Key& key) {
  const auto* udp = reinterpret_cast<const rte_udp_hdr*>(l4);
  p.src_port = udp->src_port;
  p.dst_port = udp->dst_port;
  p.udp_checksum = udp->dgram_cksum;
  p.payload = l4 + kUdpLen;
  p.payload_len = static_cast<uint16_t>(udp_len - kUdpLen);

  if (interfaces_.is_listener(dst, p.dst_port)) {
    classify_listener(p);
    if (from_client(p.kind)) key = make_client_key(src, p.src_port, dst, p.dst_port);
    return;
  }
  const int relay = tables_.relay_index_of(dst);
  if (relay >= 0) {
    // RFC 8656 §11.3 / §12.7: a peer's datagram to a relayed transport address.
    p.kind = Kind::peer;
    p.relay_index = static_cast<uint8_t>(relay);
    p.data_off = 0;
    p.data_len = p.payload_len;
    return;
  }
  p.drop_as(interfaces_.is_local(dst) ? CounterId::drop_closed_port : CounterId::drop_not_ours);
}

void Worker::classify_ipv4(Packet& p, uint8_t* f, uint16_t len) {
  rte_mbuf* m = p.m;
  if (len < kEtherLen + kIpv4Len) return p.drop_as(CounterId::drop_malformed);
  const rte_ipv4_hdr* ip = ipv4(f);
  const uint8_t ihl = ipv4_header_len(ip);
  const uint16_t total = rte_be_to_cpu_16(ip->total_length);
  if ((ip->version_ihl >> 4) != 4 || ihl < kIpv4Len || total < ihl || kEtherLen + total > len)
    return p.drop_as(CounterId::drop_malformed);
  // Ethernet pads short frames: the datagram ends where IPv4 says it does.
  if (kEtherLen + total < len) {
    m->data_len = static_cast<uint16_t>(kEtherLen + total);
    m->pkt_len = m->data_len;
  }
  const uint64_t ip_flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (ip_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
      (ip_flags == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN &&
       (ihl == kIpv4Len ? csum::ipv4_header20(ip) : rte_raw_cksum(ip, ihl)) != 0xffff))
    return p.drop_as(CounterId::drop_bad_checksum);
  if (ip->fragment_offset & kIpv4FragmentMask) return p.drop_as(CounterId::drop_fragment);

  p.src_ip = ip->src_addr;
  p.dst_ip = ip->dst_addr;
  p.tos = ip->type_of_service;
  p.ttl = ip->time_to_live;
  p.df = (ip->fragment_offset & kIpv4DontFragment) != 0;
  uint8_t* l4 = f + kEtherLen + ihl;
  const uint16_t l4_len = static_cast<uint16_t>(total - ihl);

  if (ip->next_proto_id == IPPROTO_ICMP) {
    if (!interfaces_.is_local(p.dst_ip)) return p.drop_as(CounterId::drop_not_ours);
    if (l4_len < kIcmpLen) return p.drop_as(CounterId::drop_malformed);
    const auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(l4);
    // RFC 792: a destination unreachable (fragmentation needed among them, RFC 1191) or time
    // exceeded quotes the IP header and 8 bytes of what we sent: about one of our TCP listeners'
    // connections, the kernel's TCP needs it (path MTU discovery).
    if ((icmp->icmp_type == 3 || icmp->icmp_type == 11) && quotes_our_tcp(l4 + kIcmpLen, l4_len - kIcmpLen)) {
      p.kind = Kind::to_kernel;
      return;
    }
    if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
      return p.drop_as(CounterId::drop_icmp);
    p.payload = l4;
    p.payload_len = l4_len;
    p.kind = Kind::icmp_echo;
    return;
  }
  // TURN over TCP and TLS: a segment for a TCP or TLS listener is the kernel's (RFC 9293 §3.1:
  // the destination port follows the source port).
  if (ip->next_proto_id == IPPROTO_TCP && interfaces_.has_stream_listeners() && l4_len >= kTcpLen &&
      interfaces_.is_stream_listener(p.dst_ip, load_u16_raw(l4 + 2))) {
    p.kind = Kind::to_kernel;
    return;
  }
  if (ip->next_proto_id != IPPROTO_UDP)
    return p.drop_as(interfaces_.is_local(p.dst_ip) ? CounterId::drop_protocol
                                                    : CounterId::drop_not_ours);
  if (l4_len < kUdpLen) return p.drop_as(CounterId::drop_malformed);
  const auto* udp = reinterpret_cast<const rte_udp_hdr*>(l4);
  const uint16_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
  if (udp_len < kUdpLen || udp_len > l4_len) return p.drop_as(CounterId::drop_malformed);
  if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)
    return p.drop_as(CounterId::drop_bad_checksum);
  classify_udp(p, l4, udp_len, p.src_ip, p.dst_ip, p.key);
}

// RFC 8200: an IPv6 packet without extension headers (a fragment header or any other is dropped,
// counted); UDP and ICMPv6 for us, UDP for a relayed address. The multicast a neighbour
// solicitation goes to is accepted here and judged by the ICMPv6 code.
void Worker::classify_ipv6(Packet& p, uint8_t* f, uint16_t len) {
  rte_mbuf* m = p.m;
  if (len < kEtherLen + kIpv6Len) return p.drop_as(CounterId::drop_malformed);
  const rte_ipv6_hdr* ip = ipv6(f);
  const uint16_t payload = rte_be_to_cpu_16(ip->payload_len);
  if ((f[kEtherLen] >> 4) != 6 || kEtherLen + kIpv6Len + payload > len)
    return p.drop_as(CounterId::drop_malformed);
  if (kEtherLen + kIpv6Len + payload < len) {
    m->data_len = static_cast<uint16_t>(kEtherLen + kIpv6Len + payload);
    m->pkt_len = m->data_len;
  }
  p.ipv6 = true;
  p.src6 = Ip6::load(ip->src_addr);
  p.dst6 = Ip6::load(ip->dst_addr);
  p.tos = ipv6_traffic_class(ip);
  p.ttl = ip->hop_limits;
  p.df = false;  // IPv6 has no DF: an allocation's or a Send's DONT-FRAGMENT decides for IPv4
  uint8_t* l4 = f + kEtherLen + kIpv6Len;

  if (ip->proto == IPPROTO_ICMPV6) return classify_icmp6(p, l4, payload);
  if (ip->proto == IPPROTO_TCP && interfaces_.has_stream_listeners() && payload >= kTcpLen &&
      interfaces_.is_stream_listener(p.dst6, load_u16_raw(l4 + 2))) {
    p.kind = Kind::to_kernel;
    return;
  }
  if (ip->proto != IPPROTO_UDP) {
    if (!interfaces_.is_local(p.dst6)) return p.drop_as(CounterId::drop_not_ours);
    return p.drop_as(ip->proto == IPPROTO_FRAGMENT ? CounterId::drop_fragment
                                                   : CounterId::drop_protocol);
  }
  if (payload < kUdpLen) return p.drop_as(CounterId::drop_malformed);
  const auto* udp = reinterpret_cast<const rte_udp_hdr*>(l4);
  const uint16_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
  if (udp_len < kUdpLen || udp_len > payload) return p.drop_as(CounterId::drop_malformed);
  // RFC 8200 §8.1: the UDP checksum is mandatory over IPv6; a zero one is discarded.
  if (udp->dgram_cksum == 0 ||
      (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)
    return p.drop_as(CounterId::drop_bad_checksum);
  classify_udp(p, l4, udp_len, p.src6, p.dst6, p.key6);
}

// RFC 4443: ICMPv6, its checksum over the pseudo-header checked first. Echo requests to our
// addresses are answered; neighbour solicitations and advertisements (RFC 4861 §7.1: hop limit
// 255, code 0, at least 24 bytes) go to neighbour discovery; the rest is dropped.
void Worker::classify_icmp6(Packet& p, uint8_t* l4, uint16_t len) {
  if (len < 8) return p.drop_as(CounterId::drop_malformed);
  const uint16_t sum = csum::add(
      csum::ipv6_pseudo(p.src6.w, p.dst6.w, rte_cpu_to_be_16(len), IPPROTO_ICMPV6),
      csum::region(l4, len, false));
  if (sum != 0xffff) return p.drop_as(CounterId::drop_bad_checksum);
  p.payload = l4;
  p.payload_len = len;
  const uint8_t type = l4[0];
  if (type == kIcmp6EchoRequest && l4[1] == 0) {
    if (!interfaces_.is_local(p.dst6)) return p.drop_as(CounterId::drop_not_ours);
    p.kind = Kind::icmp_echo;
    return;
  }
  // RFC 4443 §3.1-§3.4: destination unreachable, packet too big (RFC 8201 path MTU discovery),
  // time exceeded and parameter problem quote what we sent: the kernel's, when one of our TCP
  // listeners' connections sent it.
  if (type >= 1 && type <= 4 && quotes_our_tcp6(l4 + 8, static_cast<uint16_t>(len - 8))) {
    p.kind = Kind::to_kernel;
    return;
  }
  if (type == kIcmp6NeighbourSolicitation || type == kIcmp6NeighbourAdvertisement) {
    if (p.ttl != 255 || l4[1] != 0 || len < kNdpMessageLen) return p.drop_as(CounterId::drop_icmp);
    p.kind = Kind::ndp;
    return;
  }
  p.drop_as(interfaces_.is_local(p.dst6) ? CounterId::drop_icmp : CounterId::drop_not_ours);
}

// The packet an ICMP error quotes (its IPv4 header, then at least 8 bytes): TCP from one of our TCP
// or TLS listeners?
bool Worker::quotes_our_tcp(const uint8_t* quoted, uint16_t len) const {
  if (!interfaces_.has_stream_listeners() || len < kIpv4Len + 8) return false;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(quoted);
  const uint8_t ihl = ipv4_header_len(ip);
  if ((ip->version_ihl >> 4) != 4 || ihl < kIpv4Len || len < ihl + 8 || ip->next_proto_id != IPPROTO_TCP)
    return false;
  return interfaces_.is_stream_listener(ip->src_addr, load_u16_raw(quoted + ihl));
}

// The same for ICMPv6: the quoted IPv6 header, TCP right after it.
bool Worker::quotes_our_tcp6(const uint8_t* quoted, uint16_t len) const {
  if (!interfaces_.has_stream_listeners() || len < kIpv6Len + 8) return false;
  const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(quoted);
  if ((quoted[0] >> 4) != 6 || ip->proto != IPPROTO_TCP) return false;
  return interfaces_.is_stream_listener(Ip6::load(ip->src_addr), load_u16_raw(quoted + kIpv6Len));
}

// A datagram to a TURN listener: RFC 8656 §12 / RFC 7983: the first two bits tell ChannelData
// (0b01) from STUN (0b00).
void Worker::classify_listener(Packet& p) {
  const uint8_t* s = p.payload;
  if (p.payload_len < stun_wire::kChannelDataHeaderLen) return p.drop_as(CounterId::drop_not_stun);
  const uint8_t top = s[0] & 0xc0;
  if (top == 0x40) {
    // RFC 8656 §12.4: channel number, length, data. §12.5 over UDP: a datagram too short for
    // the length is discarded; bytes past it (padding) are not part of the data.
    // Any 0b01 number is looked up: the control plane binds only the numbers it accepts
    // (0x4000-0x4FFF, or 0x4000-0x7FFF with compat.rfc5766_channels).
    p.channel = stun_wire::load16(s);
    const uint16_t length = stun_wire::load16(s + 2);
    if (uint32_t{stun_wire::kChannelDataHeaderLen} + length > p.payload_len)
      return p.drop_as(CounterId::drop_malformed);
    p.data_off = stun_wire::kChannelDataHeaderLen;
    p.data_len = length;
    p.kind = Kind::channel_data;
    return;
  }
  // RFC 8489 §6.3: first two bits zero, the magic cookie, a length that is a multiple of four
  // and accounts for the whole datagram.
  if (top != 0 || p.payload_len < stun_wire::kHeaderLen) return p.drop_as(CounterId::drop_not_stun);
  const stun_wire::Header h = stun_wire::header(s);
  if (h.cookie_be != stun_wire::kMagicCookieBe) return p.drop_as(CounterId::drop_not_stun);
  if ((h.length & 3) != 0 || stun_wire::kHeaderLen + h.length != p.payload_len)
    return p.drop_as(CounterId::drop_stun_malformed);
  if (h.type == stun_wire::kSendIndication) return classify_send(p);
  // Everything else is answered by us or by the control plane: check what the relay paths
  // leave to the peer's own checksum.
  if (!udp_checksum_ok(p)) return p.drop_as(CounterId::drop_bad_checksum);
  if (h.type == stun_wire::kBindingRequest) return classify_binding(p);
  switch (h.type & stun_wire::kClassMask) {
    case stun_wire::kClassRequest:
      return p.punt_as(PuntReason::stun_request);
    case stun_wire::kClassIndication:
      return p.punt_as(PuntReason::stun_indication);
    default:
      return p.punt_as(PuntReason::stun_response);
  }
}

// RFC 8656 §11.2: a Send indication needs XOR-PEER-ADDRESS and DATA; DONT-FRAGMENT asks for DF;
// RFC 8489 §7.3.2: an unknown comprehension-required attribute discards an indication silently.
void Worker::classify_send(Packet& p) {
  stun_wire::AttributeWalker w(p.payload, p.payload_len);
  bool have_peer = false;
  bool have_data = false;
  int fingerprint_at = -1;
  while (w.next()) {
    if (fingerprint_at >= 0) return p.drop_as(CounterId::drop_stun_malformed);  // §14.7: last
    switch (w.type()) {
      case stun::AttributeType::xor_peer_address: {
        if (have_peer) break;  // RFC 8489 §14: only the first of a type counts
        if (w.length() < 4) return p.drop_as(CounterId::drop_stun_malformed);
        const uint8_t family = w.value()[1];
        p.peer_ipv6 = family == stun_wire::kFamilyIpv6;
        if (p.peer_ipv6 ? w.length() != stun_wire::kXorAddressIpv6Len
                        : family != stun_wire::kFamilyIpv4 || w.length() != stun_wire::kXorAddressIpv4Len)
          return p.drop_as(CounterId::drop_stun_malformed);
        uint16_t xport;
        std::memcpy(&xport, w.value() + 2, 2);
        p.peer_port = xport ^ stun_wire::kXorPortBe;
        if (p.peer_ipv6)
          p.peer6 = stun_wire::read_xor_address6(w.value(), p.payload + 8);
        else
          p.peer_ip = stun_wire::load32_raw(w.value() + 4) ^ stun_wire::kMagicCookieBe;
        have_peer = true;
        break;
      }
      case stun::AttributeType::data:
        if (have_data) break;
        p.data_off = w.value_offset();
        p.data_len = w.length();
        have_data = true;
        break;
      case stun::AttributeType::dont_fragment:
        p.dont_fragment = true;
        break;
      case stun::AttributeType::fingerprint:
        if (w.length() != 4) return p.drop_as(CounterId::drop_stun_malformed);
        fingerprint_at = w.attribute_offset();
        break;
      default:
        if (stun_wire::unknown_required(w.type()))
          return p.drop_as(CounterId::drop_unknown_attribute);
        break;
    }
  }
  if (w.malformed() || !have_peer || !have_data) return p.drop_as(CounterId::drop_stun_malformed);
  if (fingerprint_at >= 0 && !fingerprint_ok(p.payload, static_cast<uint16_t>(fingerprint_at)))
    return p.drop_as(CounterId::drop_bad_fingerprint);
  p.kind = Kind::send;
}

// RFC 8489: a Binding request the worker answers itself carries nothing but comprehension-
// optional attributes (SOFTWARE, FINGERPRINT, ...). Authentication and anything comprehension-
// required is the control plane's.
void Worker::classify_binding(Packet& p) {
  stun_wire::AttributeWalker w(p.payload, p.payload_len);
  int fingerprint_at = -1;
  while (w.next()) {
    if (fingerprint_at >= 0) return p.drop_as(CounterId::drop_stun_malformed);
    switch (w.type()) {
      case stun::AttributeType::username:
      case stun::AttributeType::userhash:
      case stun::AttributeType::message_integrity:
      case stun::AttributeType::message_integrity_sha256:
        return p.punt_as(PuntReason::binding_authenticated);
      case stun::AttributeType::fingerprint:
        if (w.length() != 4) return p.drop_as(CounterId::drop_stun_malformed);
        fingerprint_at = w.attribute_offset();
        break;
      default:
        if (stun::is_comprehension_required(w.type()))
          return p.punt_as(PuntReason::binding_attributes);
        break;
    }
  }
  if (w.malformed()) return p.drop_as(CounterId::drop_stun_malformed);
  if (fingerprint_at >= 0 && !fingerprint_ok(p.payload, static_cast<uint16_t>(fingerprint_at)))
    return p.drop_as(CounterId::drop_bad_fingerprint);
  p.fingerprint = fingerprint_at >= 0;
  p.kind = Kind::binding;
}

// RFC 768: a zero checksum is "none"; otherwise the datagram must sum to all ones. Used on the
// messages the data plane answers or punts; relayed data keeps its own checksum end to end.
bool Worker::udp_checksum_ok(const Packet& p) const {
  if (p.udp_checksum == 0) return true;  // IPv4 only: IPv6 refused it on the way in
  if ((p.m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) return true;
  const uint16_t envelope = received_envelope(p);
  const uint16_t sum = csum::add(csum::add(envelope, p.udp_checksum),
                                 csum::region(p.payload, p.payload_len, false));
  return sum == 0xffff;
}

// RFC 8489 §14.7: CRC-32 of the message up to the FINGERPRINT attribute, XOR 0x5354554e.
bool Worker::fingerprint_ok(const uint8_t* message, uint16_t fingerprint_at) {
  const uint32_t crc = r_.engine->crc32({message, fingerprint_at}) ^ stun::kFingerprintXor;
  const uint32_t carried = rte_be_to_cpu_32(stun_wire::load32_raw(message + fingerprint_at + 4));
  return crc == carried;
}

}  // namespace tern::dp
