// The relay fast paths (RFC 8656 §11, §12, §14): client -> peer (ChannelData, Send indication),
// peer -> client (ChannelData, Data indication) and the hairpin between two allocations of this
// server. A packet is rewritten in place: the new headers are written just in front of the
// application data, which never moves.

#include <rte_ethdev.h>

#include "dataplane/checksum.hpp"
#include "dataplane/stun_wire.hpp"
#include "dataplane/worker.hpp"
#include "dataplane/worker_packet.hpp"

namespace tern::dp {

void Worker::finish(Packet& p, const Now& now) {
  switch (p.kind) {
    case Kind::channel_data:
    case Kind::send:
      return client_data(p, now);
    case Kind::peer:
      return peer_data(p, now);
    case Kind::binding:
      return binding(p);
    case Kind::punt:
      return punt(p, p.punt);
    case Kind::arp:
      return arp(p);
    case Kind::icmp_echo:
      return icmp_echo(p);
    case Kind::drop:
      return drop(p.m, p.drop);
  }
}

// RFC 8656 §12.6 (ChannelData) and §11.2 (Send indication): the client's 5-tuple names the
// allocation; the channel or XOR-PEER-ADDRESS names the peer; a permission for the peer's IP
// must exist; the application data goes to the peer from the relayed transport address.
void Worker::client_data(Packet& p, const Now& now) {
  if (p.id == kNoAllocation) return drop(p.m, CounterId::drop_no_allocation);
  const Allocation& a = tables_.slot(p.id);
  if (!Tables::live(a, now.table)) return drop_for(p, p.id, Direction::to_peer, CounterId::drop_expired);
  uint32_t peer_ip = p.peer_ip;
  uint16_t peer_port = p.peer_port;
  if (p.kind == Kind::channel_data &&
      !tables_.channel_peer(p.id, a, p.channel, now.table, peer_ip, peer_port))
    return drop_for(p, p.id, Direction::to_peer,
                    stun::valid_channel(p.channel) ? CounterId::drop_unbound_channel
                                                   : CounterId::drop_bad_channel);
  if (!tables_.permitted(p.id, a, peer_ip, now.table))
    return drop_for(p, p.id, Direction::to_peer, CounterId::drop_no_permission);
  // RFC 8656 §14, TTL: 0 is discarded; the relay is a hop, and a hop never sends TTL 0.
  if (p.ttl <= 1) return drop_for(p, p.id, Direction::to_peer, CounterId::drop_ttl_expired);
  const uint8_t flags = a.flags.load(std::memory_order_acquire);
  // RFC 8656 §14, IPv4 fragmentation: DF for a Send indication with DONT-FRAGMENT (and for an
  // allocation made with DONT-FRAGMENT), otherwise the DF bit of the packet that carried the data.
  const bool df = (flags & kDontFragment) != 0 || p.dont_fragment || p.df;
  if ((flags & kRateLimited) &&
      !tables_.rate_limit(p.id).conforms(Direction::to_peer, p.data_len, now.tsc))
    return drop_for(p, p.id, Direction::to_peer, CounterId::drop_rate_limited);

  if (interfaces_.is_local(peer_ip)) {
    // Hairpin: the peer is this server. Only a live relayed address takes the data, handed to
    // its allocation's peer -> client path as if it had come from the network, from our
    // relayed address; anything else of ours (a listener, an unallocated port) is refused.
    const int relay = tables_.relay_index_of(peer_ip);
    const AllocId other = relay >= 0 ? tables_.find_relay(static_cast<unsigned>(relay), peer_port)
                                     : kNoAllocation;
    if (other == kNoAllocation)
      return drop_for(p, p.id, Direction::to_peer, CounterId::drop_denied_own_port);
    AllocationTraffic& t = r_.traffic[p.id];
    bump(t.packets_to_peer, 1u);
    bump(t.bytes_to_peer, uint64_t{p.data_len});
    counters_[CounterId::hairpin].add(1);
    return to_client(p, other, a.relay_ip, a.relay_port, df, now);
  }
  emit_to_peer(p, a, p.id, peer_ip, peer_port, df);
}

// RFC 8656 §11.3 / §12.7: a peer's datagram to a relayed transport address.
void Worker::peer_data(Packet& p, const Now& now) {
  if (p.id == kNoAllocation) return drop(p.m, CounterId::drop_no_relay);
  to_client(p, p.id, p.src_ip, p.src_port, p.df, now);
}

void Worker::to_client(Packet& p, AllocId id, uint32_t from_ip, uint16_t from_port, bool df,
                       const Now& now) {
  const Allocation& a = tables_.slot(id);
  if (!Tables::live(a, now.table)) return drop_for(p, id, Direction::to_client, CounterId::drop_expired);
  // RFC 8656 §11.3: no permission for the peer's IP, no relaying (CreatePermission fixes it).
  if (!tables_.permitted(id, a, from_ip, now.table))
    return drop_for(p, id, Direction::to_client, CounterId::drop_no_permission);
  if (p.ttl <= 1) return drop_for(p, id, Direction::to_client, CounterId::drop_ttl_expired);
  if ((a.flags.load(std::memory_order_acquire) & kRateLimited) &&
      !tables_.rate_limit(id).conforms(Direction::to_client, p.data_len, now.tsc))
    return drop_for(p, id, Direction::to_client, CounterId::drop_rate_limited);
  // RFC 8656 §12.7: a channel bound to the peer's transport address means ChannelData,
  // otherwise §11.3 a Data indication.
  const uint16_t channel = tables_.channel_of_peer(id, a, from_ip, from_port, now.table);

  const Route route = interfaces_.route(a.client_ip);
  if (route.port == kNoPort) return drop_for(p, id, Direction::to_client, CounterId::drop_no_route);
  MacWord mac = 0;
  const bool resolved = neighbours_.find(route.port, route.next_hop, mac);
  const bool offload = interfaces_.port(route.port).tx_checksum_offload;
  uint16_t sum = offload ? 0 : data_sum(p);  // before a byte around the data is written

  uint8_t* data = p.data();
  const uint16_t len = p.data_len;
  const uint16_t prefix_len = channel ? stun::kChannelDataHeaderLen : stun::kDataIndicationPrefixLen;
  // RFC 8656 §12.5: over UDP ChannelData needs no padding; a STUN attribute is always padded.
  const uint16_t pad = channel ? 0 : static_cast<uint16_t>(stun::padded(len) - len);
  uint8_t* prefix = data - prefix_len;
  uint8_t* start = prefix - kUdpHeadersLen;
  uint8_t* end = data + len + pad;
  if (!fits(p.m, start, end)) return drop_for(p, id, Direction::to_client, CounterId::drop_too_big);

  if (channel) {
    // RFC 8656 §12.4: channel number, length of the application data.
    stun::store16(prefix, channel);
    stun::store16(prefix + 2, len);
    counters_[CounterId::channel_data_to_client].add(1);
  } else {
    // RFC 8656 §11.3: a Data indication with XOR-PEER-ADDRESS (the peer's transport address)
    // and DATA.
    stun::store16(prefix, stun::kDataIndication);
    stun::store16(prefix + 2, static_cast<uint16_t>(stun::kXorAddressAttributeLen +
                                                    stun::kAttributeHeaderLen + len + pad));
    stun::store32_raw(prefix + 4, stun::kMagicCookieBe);
    transaction_ids_.next(prefix + 8);
    stun::write_xor_address(prefix + stun::kHeaderLen, stun::kXorPeerAddress, from_ip, from_port);
    uint8_t* data_attribute = prefix + stun::kHeaderLen + stun::kXorAddressAttributeLen;
    stun::store16(data_attribute, stun::kData);
    stun::store16(data_attribute + 2, len);
    for (uint16_t i = 0; i < pad; ++i) data[len + i] = 0;
    counters_[CounterId::data_indication_to_client].add(1);
  }
  if (!offload) sum = csum::add(sum, csum::region(prefix, prefix_len, false));

  Ipv4Fields ip;
  ip.src = a.server_ip;
  ip.dst = a.client_ip;
  ip.tos = p.tos;  // RFC 8656 §14: DSCP and ECN copied across
  ip.ttl = static_cast<uint8_t>(p.ttl - 1);
  ip.dont_fragment = df;
  finish_udp(p.m, start, end, route.port, mac, ip, a.server_port, a.client_port, sum);
  AllocationTraffic& t = r_.traffic[id];
  bump(t.packets_to_client, 1u);
  bump(t.bytes_to_client, uint64_t{len});
  output(route.port, resolved, p.m);
}

void Worker::emit_to_peer(Packet& p, const Allocation& a, AllocId id, uint32_t peer_ip,
                          uint16_t peer_port, bool df) {
  const Route route = interfaces_.route(peer_ip);
  if (route.port == kNoPort) return drop_for(p, id, Direction::to_peer, CounterId::drop_no_route);
  MacWord mac = 0;
  const bool resolved = neighbours_.find(route.port, route.next_hop, mac);
  const bool offload = interfaces_.port(route.port).tx_checksum_offload;
  const uint16_t sum = offload ? 0 : data_sum(p);
  uint8_t* data = p.data();
  uint8_t* start = data - kUdpHeadersLen;
  uint8_t* end = data + p.data_len;
  if (!fits(p.m, start, end)) return drop_for(p, id, Direction::to_peer, CounterId::drop_too_big);

  Ipv4Fields ip;
  ip.src = a.relay_ip;
  ip.dst = peer_ip;
  ip.tos = p.tos;  // RFC 8656 §14: DSCP and ECN copied across
  ip.ttl = static_cast<uint8_t>(p.ttl - 1);
  ip.dont_fragment = df;
  finish_udp(p.m, start, end, route.port, mac, ip, a.relay_port, peer_port, sum);
  AllocationTraffic& t = r_.traffic[id];
  bump(t.packets_to_peer, 1u);
  bump(t.bytes_to_peer, uint64_t{p.data_len});
  counters_[p.kind == Kind::channel_data ? CounterId::channel_data_to_peer
                                         : CounterId::send_to_peer]
      .add(1);
  output(route.port, resolved, p.m);
}

// The one's-complement sum of the application data, derived from the checksum that arrived
// (RFC 1624 eqn. 3): take away the pseudo-header and UDP header, the bytes before the data
// (ChannelData header; Send's header and attributes) and the bytes after it (padding, later
// attributes). The data starts at an even offset in every message, so its words line up the same
// way in the datagram that leaves. A sender that computed no checksum (0, RFC 768) gets its data
// summed once here: the datagram that leaves carries a real one.
uint16_t Worker::data_sum(const Packet& p) const {
  if (p.udp_checksum == 0) return csum::region(p.data(), p.data_len, false);
  const uint16_t length = rte_cpu_to_be_16(static_cast<uint16_t>(p.payload_len + kUdpLen));
  uint16_t s = static_cast<uint16_t>(~p.udp_checksum);
  s = csum::sub(s, csum::udp_envelope(p.src_ip, p.dst_ip, p.src_port, p.dst_port, length));
  if (p.data_off > 0) s = csum::sub(s, csum::region(p.payload, p.data_off, false));
  const uint16_t tail = static_cast<uint16_t>(p.data_off + p.data_len);
  if (tail < p.payload_len)
    s = csum::sub(s, csum::region(p.payload + tail, p.payload_len - tail, (tail & 1) != 0));
  return s;
}

void Worker::finish_udp(rte_mbuf* m, uint8_t* start, uint8_t* end, unsigned port, MacWord dst_mac,
                        const Ipv4Fields& fields, uint16_t src_port, uint16_t dst_port,
                        uint16_t payload_sum) {
  const PortView& out = interfaces_.port(port);
  const uint16_t udp_len = static_cast<uint16_t>(end - start - kEtherLen - kIpv4Len);
  write_ether(start, dst_mac, out.mac, kEtherTypeIpv4);
  rte_ipv4_hdr* ip = ipv4(start);
  Ipv4Fields f = fields;
  f.total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kIpv4Len + udp_len));
  f.id = next_ip_id();
  write_ipv4(ip, f);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(start + kEtherLen + kIpv4Len);
  const uint16_t udp_len_be = rte_cpu_to_be_16(udp_len);
  write_udp(udp, src_port, dst_port, udp_len_be);
  set_frame(m, start, static_cast<uint16_t>(end - start));
  if (out.tx_checksum_offload) {
    // The NIC sums the header and the datagram; it expects the pseudo-header sum in place.
    m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
    m->l2_len = kEtherLen;
    m->l3_len = kIpv4Len;
    udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
  } else {
    m->ol_flags = 0;
    ip->hdr_checksum = ipv4_checksum(f);
    udp->dgram_cksum = csum::udp_field(csum::add(
        payload_sum, csum::udp_envelope(f.src, f.dst, src_port, dst_port, udp_len_be)));
  }
}

}  // namespace tern::dp
