// The relay fast paths (RFC 8656 §11, §12, §14): client -> peer (ChannelData, Send indication),
// peer -> client (ChannelData, Data indication) and the hairpin between two allocations of this
// server. A packet is rewritten in place: the new headers are written just in front of the
// application data, which never moves.
//
// Each side of an allocation is IPv4 or IPv6 (the client's 5-tuple; the relayed address and so
// every peer). The paths are templates on the families (V4, V6 in packet.hpp): the peer
// side's family picks the tables' permission and channel lookups and the XOR-PEER-ADDRESS, the
// output side's the headers written. A packet takes one branch on the allocation's flags to its
// instance.

#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dataplane/wire/checksum.hpp"
#include "dataplane/wire/stun.hpp"
#include "dataplane/worker/worker.hpp"
#include "dataplane/worker/packet.hpp"
#include "dataplane/worker/stream_meta.hpp"

namespace tern::dp {
namespace {

// An allocation's addresses in the family of their side.
template <class F>
typename F::Address client_ip(const Tables& t, AllocId id, const AllocationSlot& a) {
  if constexpr (F::kIpv6) return t.slot6(id).client_ip;
  else return a.client_ip;
}
template <class F>
typename F::Address server_ip(const Tables& t, AllocId id, const AllocationSlot& a) {
  if constexpr (F::kIpv6) return t.slot6(id).server_ip;
  else return a.server_ip;
}
template <class F>
typename F::Address relay_ip(const Tables& t, AllocId id, const AllocationSlot& a) {
  if constexpr (F::kIpv6) return t.slot6(id).relay_ip;
  else return a.relay_ip;
}

}  // namespace

void Worker::finish(Packet& p, const Instant& now) {
  switch (p.kind) {
    case Kind::channel_data:
    case Kind::send:
      return client_data(p, now);
    case Kind::peer:
      return peer_data(p, now);
    case Kind::binding:
      return p.ipv6 ? binding<V6>(p) : binding<V4>(p);
    case Kind::punt:
      return punt(p, p.punt);
    case Kind::arp:
      return arp(p);
    case Kind::ndp:
      return ndp(p);
    case Kind::icmp_echo:
      return p.ipv6 ? icmp6_echo(p) : icmp_echo(p);
    case Kind::to_kernel:
      return to_kernel(p);
    case Kind::drop:
      return drop(p.m, p.drop);
  }
}

// RFC 8656 §12.6 (ChannelData) and §11.2 (Send indication): the client's 5-tuple names the
// allocation; the channel or XOR-PEER-ADDRESS names the peer; a permission for the peer's IP
// must exist; the application data goes to the peer from the relayed transport address.
void Worker::client_data(Packet& p, const Instant& now) {
  if (p.id == kNoAllocation) return drop(p.m, CounterId::drop_no_allocation);
  const AllocationSlot& a = tables_.slot(p.id);
  if (!Tables::live(a, now.table)) return drop_for(p, p.id, Direction::to_peer, CounterId::drop_expired);
  const uint8_t flags = a.flags.load(std::memory_order_acquire);
  if (flags & kRelayIpv6) return client_to_peer<V6>(p, a, flags, now);
  client_to_peer<V4>(p, a, flags, now);
}

template <class Peer>
void Worker::client_to_peer(Packet& p, const AllocationSlot& a, uint8_t flags, const Instant& now) {
  typename Peer::Address peer_ip;
  uint16_t peer_port = p.peer_port;
  if (p.kind == Kind::channel_data) {
    if (!tables_.channel_peer(p.id, a, p.channel, now.table, peer_ip, peer_port))
      return drop_for(p, p.id, Direction::to_peer,
                      stun_wire::valid_channel(p.channel) ? CounterId::drop_unbound_channel
                                                     : CounterId::drop_bad_channel);
  } else {
    // RFC 8656 §9.1: peers are of the relayed address's family; an indication naming another
    // one is discarded.
    if (p.peer_ipv6 != Peer::kIpv6)
      return drop_for(p, p.id, Direction::to_peer, CounterId::drop_unsupported_family);
    if constexpr (Peer::kIpv6)
      peer_ip = p.peer6;
    else
      peer_ip = p.peer_ip;
  }
  if (!tables_.permitted(p.id, a, peer_ip, now.table))
    return drop_for(p, p.id, Direction::to_peer, CounterId::drop_no_permission);
  // RFC 8656 §14, TTL / hop limit: 0 is discarded; the relay is a hop, and a hop never sends 0.
  if (p.ttl <= 1) return drop_for(p, p.id, Direction::to_peer, CounterId::drop_ttl_expired);
  // RFC 8656 §14, IPv4 fragmentation: DF for a Send indication with DONT-FRAGMENT (and for an
  // allocation made with DONT-FRAGMENT), otherwise the DF bit of the packet that carried the data.
  const bool df = (flags & kDontFragment) != 0 || p.dont_fragment || p.df;
  if (!within_rate(p, p.id, Direction::to_peer, now)) return;

  if (interfaces_.is_local(peer_ip)) {
    // Hairpin: the peer is this server. Only a live relayed address takes the data, handed to
    // its allocation's peer -> client path as if it had come from the network, from our
    // relayed address; anything else of ours (a listener, an unallocated port) is refused.
    const int relay = tables_.relay_index_of(peer_ip);
    const AllocId other = relay >= 0 ? tables_.find_relay(static_cast<unsigned>(relay), peer_port)
                                     : kNoAllocation;
    if (other == kNoAllocation)
      return drop_for(p, p.id, Direction::to_peer, CounterId::drop_denied_own_port);
    return to_client<Peer>(p, other, relay_ip<Peer>(tables_, p.id, a), a.relay_port, df, now, p.id);
  }
  emit_to_peer<Peer>(p, a, p.id, peer_ip, peer_port, df);
}

// RFC 8656 §11.3 / §12.7: a peer's datagram to a relayed transport address (of the packet's own
// family: the relay index of an IPv6 address holds IPv6 allocations only).
void Worker::peer_data(Packet& p, const Instant& now) {
  if (p.id == kNoAllocation) return drop(p.m, CounterId::drop_no_relay);
  if (p.ipv6) return to_client<V6>(p, p.id, p.src6, p.src_port, p.df, now);
  to_client<V4>(p, p.id, p.src_ip, p.src_port, p.df, now);
}

// hairpin_from: the allocation whose client sent the data, when it did not come from the network;
// counted as sent by it (and as a hairpin) only once it is delivered.
template <class Peer>
void Worker::to_client(Packet& p, AllocId id, const typename Peer::Address& from_ip,
                       uint16_t from_port, bool df, const Instant& now, AllocId hairpin_from) {
  const AllocationSlot& a = tables_.slot(id);
  if (!Tables::live(a, now.table)) return drop_for(p, id, Direction::to_client, CounterId::drop_expired);
  // RFC 8656 §11.3: no permission for the peer's IP, no relaying (CreatePermission fixes it).
  if (!tables_.permitted(id, a, from_ip, now.table))
    return drop_for(p, id, Direction::to_client, CounterId::drop_no_permission);
  if (p.ttl <= 1) return drop_for(p, id, Direction::to_client, CounterId::drop_ttl_expired);
  const uint8_t flags = a.flags.load(std::memory_order_acquire);
  if (!within_rate(p, id, Direction::to_client, now)) return;
  // RFC 8656 §12.7: a channel bound to the peer's transport address means ChannelData,
  // otherwise §11.3 a Data indication.
  const uint16_t channel = tables_.channel_of_peer(id, a, from_ip, from_port, now.table);
  if (flags & kStreamClient) return deliver_stream<Peer>(p, id, a, from_ip, from_port, channel, hairpin_from);
  if (flags & kClientIpv6)
    return deliver<Peer, V6>(p, id, a, from_ip, from_port, channel, df, hairpin_from);
  deliver<Peer, V4>(p, id, a, from_ip, from_port, channel, df, hairpin_from);
}

// RFC 8656 §12.4 / §11.3: what a client receives in front of a peer's data (ChannelData's header,
// or a Data indication's header, XOR-PEER-ADDRESS and DATA's attribute header) written at
// `prefix`, just before the data, and `pad` zero bytes after it. Returns the prefix's length.
template <class Peer>
uint16_t Worker::write_to_client(Packet& p, uint8_t* prefix, uint16_t pad, uint16_t channel,
                                 const typename Peer::Address& from_ip, uint16_t from_port) {
  uint8_t* data = p.data();
  const uint16_t len = p.data_len;
  for (uint16_t i = 0; i < pad; ++i) data[len + i] = 0;
  if (channel) {
    // RFC 8656 §12.4: channel number, length of the application data.
    stun_wire::store16(prefix, channel);
    stun_wire::store16(prefix + 2, len);
    counters_[CounterId::channel_data_to_client].add(1);
    return stun_wire::kChannelDataHeaderLen;
  }
  // RFC 8656 §11.3: a Data indication with XOR-PEER-ADDRESS (the peer's transport address) and
  // DATA. The header and the transaction ID first: an IPv6 X-Address is XORed with it.
  stun_wire::store16(prefix, stun_wire::kDataIndication);
  stun_wire::store16(prefix + 2, static_cast<uint16_t>(Peer::kXorAddressAttribute +
                                                       stun_wire::kAttributeHeaderLen + len + pad));
  stun_wire::store32_raw(prefix + 4, stun_wire::kMagicCookieBe);
  transaction_ids_.next(prefix + 8);
  if constexpr (Peer::kIpv6)
    stun_wire::write_xor_address(prefix + stun_wire::kHeaderLen, stun::AttributeType::xor_peer_address,
                                 from_ip, from_port, prefix + 8);
  else
    stun_wire::write_xor_address(prefix + stun_wire::kHeaderLen, stun::AttributeType::xor_peer_address,
                                 from_ip, from_port);
  uint8_t* data_attribute = prefix + stun_wire::kHeaderLen + Peer::kXorAddressAttribute;
  stun_wire::store16(data_attribute, stun::AttributeType::data);
  stun_wire::store16(data_attribute + 2, len);
  counters_[CounterId::data_indication_to_client].add(1);
  return static_cast<uint16_t>(stun_wire::kHeaderLen + Peer::kXorAddressAttribute +
                               stun_wire::kAttributeHeaderLen);
}

// Data delivered to an allocation's client: its traffic, and the sender's when it hairpinned.
void Worker::count_to_client(AllocId id, uint16_t len, AllocId hairpin_from) {
  AllocationTraffic& t = r_.traffic[slot_index(id)];
  bump(t.packets_to_client, 1u);
  bump(t.bytes_to_client, uint64_t{len});
  if (hairpin_from != kNoAllocation) {
    AllocationTraffic& sender = r_.traffic[slot_index(hairpin_from)];
    bump(sender.packets_to_peer, 1u);
    bump(sender.bytes_to_peer, uint64_t{len});
    counters_[CounterId::hairpin].add(1);
  }
}

template <class Peer, class Client>
void Worker::deliver(Packet& p, AllocId id, const AllocationSlot& a,
                     const typename Peer::Address& from_ip, uint16_t from_port, uint16_t channel,
                     bool df, AllocId hairpin_from) {
  const typename Client::Address to = client_ip<Client>(tables_, id, a);
  const auto route = interfaces_.route(to);
  if (route.port == kNoPort) return drop_for(p, id, Direction::to_client, CounterId::drop_no_route);
  MacWord mac = 0;
  const bool resolved = neighbours_.find(route.port, route.next_hop, mac);
  const bool offload = interfaces_.port(route.port).tx_checksum_offload;
  uint16_t sum = offload ? 0 : data_sum(p);  // before a byte around the data is written

  uint8_t* data = p.data();
  const uint16_t len = p.data_len;
  constexpr uint16_t kDataPrefix =
      stun_wire::kHeaderLen + Peer::kXorAddressAttribute + stun_wire::kAttributeHeaderLen;
  const uint16_t prefix_len = channel ? stun_wire::kChannelDataHeaderLen : kDataPrefix;
  // RFC 8656 §12.5: over UDP ChannelData needs no padding; a STUN attribute is always padded.
  const uint16_t pad = channel ? 0 : static_cast<uint16_t>(stun_wire::padded(len) - len);
  uint8_t* prefix = data - prefix_len;
  uint8_t* start = prefix - Client::kUdpHeaders;
  uint8_t* end = data + len + pad;
  if (!fits(p.m, start, end)) return drop_for(p, id, Direction::to_client, CounterId::drop_too_big);
  write_to_client<Peer>(p, prefix, pad, channel, from_ip, from_port);
  if (!offload) sum = csum::add(sum, csum::region(prefix, prefix_len, false));

  UdpHeaders<Client> h;
  h.src = server_ip<Client>(tables_, id, a);
  h.dst = to;
  h.src_port = a.server_port;
  h.dst_port = a.client_port;
  h.tos = p.tos;  // RFC 8656 §14: DSCP and ECN (traffic class) copied across
  h.ttl = static_cast<uint8_t>(p.ttl - 1);
  h.df = df;
  finish_udp(p.m, start, end, route.port, mac, h, sum);
  count_to_client(id, len, hairpin_from);
  output(route.port, resolved, p.m);
}

// The same for a TCP or TLS client: the message alone, padded to four bytes (RFC 8656 §12.5:
// "Over TCP and TLS-over-TCP, the ChannelData message MUST be padded to a multiple of four
// bytes"), handed to the stream transport, which writes it on the client's connection.
template <class Peer>
void Worker::deliver_stream(Packet& p, AllocId id, const AllocationSlot& a,
                            const typename Peer::Address& from_ip, uint16_t from_port, uint16_t channel,
                            AllocId hairpin_from) {
  uint8_t* data = p.data();
  const uint16_t len = p.data_len;
  constexpr uint16_t kDataPrefix =
      stun_wire::kHeaderLen + Peer::kXorAddressAttribute + stun_wire::kAttributeHeaderLen;
  const uint16_t pad = static_cast<uint16_t>(stun_wire::padded(len) - len);
  uint8_t* prefix = data - (channel ? stun_wire::kChannelDataHeaderLen : kDataPrefix);
  uint8_t* end = data + len + pad;
  if (!fits(p.m, prefix, end)) return drop_for(p, id, Direction::to_client, CounterId::drop_too_big);
  write_to_client<Peer>(p, prefix, pad, channel, from_ip, from_port);
  set_frame(p.m, prefix, static_cast<uint16_t>(end - prefix));
  p.m->ol_flags = 0;
  stream_meta(p.m, r_.stream_offset) = {id, a.stream()};
  if (rte_ring_sp_enqueue(r_.to_stream_ring, p.m) != 0)
    return drop_for(p, id, Direction::to_client, CounterId::drop_stream_ring_full);
  count_to_client(id, len, hairpin_from);
}

template <class Peer>
void Worker::emit_to_peer(Packet& p, const AllocationSlot& a, AllocId id,
                          const typename Peer::Address& peer_ip, uint16_t peer_port, bool df) {
  const auto route = interfaces_.route(peer_ip);
  if (route.port == kNoPort) return drop_for(p, id, Direction::to_peer, CounterId::drop_no_route);
  MacWord mac = 0;
  const bool resolved = neighbours_.find(route.port, route.next_hop, mac);
  const bool offload = interfaces_.port(route.port).tx_checksum_offload;
  const uint16_t sum = offload ? 0 : data_sum(p);
  uint8_t* data = p.data();
  uint8_t* start = data - Peer::kUdpHeaders;
  uint8_t* end = data + p.data_len;
  if (!fits(p.m, start, end)) return drop_for(p, id, Direction::to_peer, CounterId::drop_too_big);

  UdpHeaders<Peer> h;
  h.src = relay_ip<Peer>(tables_, id, a);
  h.dst = peer_ip;
  h.src_port = a.relay_port;
  h.dst_port = peer_port;
  h.tos = p.tos;  // RFC 8656 §14: DSCP and ECN (traffic class) copied across
  h.ttl = static_cast<uint8_t>(p.ttl - 1);
  h.df = df;
  finish_udp(p.m, start, end, route.port, mac, h, sum);
  AllocationTraffic& t = r_.traffic[slot_index(id)];
  bump(t.packets_to_peer, 1u);
  bump(t.bytes_to_peer, uint64_t{p.data_len});
  counters_[p.kind == Kind::channel_data ? CounterId::channel_data_to_peer
                                         : CounterId::send_to_peer]
      .add(1);
  output(route.port, resolved, p.m);
}

// The sum of the received datagram's pseudo-header and UDP header (its checksum field as zero).
uint16_t Worker::received_envelope(const Packet& p) const {
  const uint16_t length = rte_cpu_to_be_16(static_cast<uint16_t>(p.payload_len + kUdpLen));
  if (p.ipv6) return csum::udp6_envelope(p.src6.w, p.dst6.w, p.src_port, p.dst_port, length);
  return csum::udp_envelope(p.src_ip, p.dst_ip, p.src_port, p.dst_port, length);
}

// The one's-complement sum of the application data, derived from the checksum that arrived
// (RFC 1624 eqn. 3): take away the pseudo-header and UDP header, the bytes before the data
// (ChannelData header; Send's header and attributes) and the bytes after it (padding, later
// attributes). The data starts at an even offset in every message, so its words line up the same
// way in the datagram that leaves. A sender that computed no checksum (0, RFC 768; IPv4 only)
// gets its data summed once here: the datagram that leaves carries a real one.
uint16_t Worker::data_sum(const Packet& p) const {
  if (p.udp_checksum == 0) return csum::region(p.data(), p.data_len, false);
  uint16_t s = static_cast<uint16_t>(~p.udp_checksum);
  s = csum::sub(s, received_envelope(p));
  if (p.data_off > 0) s = csum::sub(s, csum::region(p.payload, p.data_off, false));
  const uint16_t tail = static_cast<uint16_t>(p.data_off + p.data_len);
  if (tail < p.payload_len)
    s = csum::sub(s, csum::region(p.payload + tail, p.payload_len - tail, (tail & 1) != 0));
  return s;
}

void Worker::finish_udp(rte_mbuf* m, uint8_t* start, uint8_t* end, unsigned port, MacWord dst_mac,
                        const UdpHeaders<V4>& h, uint16_t payload_sum) {
  const PortView& out = interfaces_.port(port);
  const uint16_t udp_len = static_cast<uint16_t>(end - start - kEtherLen - kIpv4Len);
  write_ether(start, dst_mac, out.mac, kEtherTypeIpv4);
  rte_ipv4_hdr* ip = ipv4(start);
  Ipv4Fields f;
  f.src = h.src;
  f.dst = h.dst;
  f.tos = h.tos;
  f.ttl = h.ttl;
  f.dont_fragment = h.df;
  f.total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kIpv4Len + udp_len));
  f.id = next_ip_id();
  write_ipv4(ip, f);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(start + kEtherLen + kIpv4Len);
  const uint16_t udp_len_be = rte_cpu_to_be_16(udp_len);
  write_udp(udp, h.src_port, h.dst_port, udp_len_be);
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
        payload_sum, csum::udp_envelope(f.src, f.dst, h.src_port, h.dst_port, udp_len_be)));
  }
}

// RFC 8656 §14 over IPv6: traffic class copied, flow label zero, no fragment header (the server
// never fragments); the UDP checksum is mandatory (RFC 8200 §8.1).
void Worker::finish_udp(rte_mbuf* m, uint8_t* start, uint8_t* end, unsigned port, MacWord dst_mac,
                        const UdpHeaders<V6>& h, uint16_t payload_sum) {
  const PortView& out = interfaces_.port(port);
  const uint16_t udp_len = static_cast<uint16_t>(end - start - kEtherLen - kIpv6Len);
  const uint16_t udp_len_be = rte_cpu_to_be_16(udp_len);
  write_ether(start, dst_mac, out.mac, kEtherTypeIpv6);
  rte_ipv6_hdr* ip = ipv6(start);
  Ipv6Fields f;
  f.src = reinterpret_cast<const uint8_t*>(h.src.w);
  f.dst = reinterpret_cast<const uint8_t*>(h.dst.w);
  f.payload_length = udp_len_be;
  f.traffic_class = h.tos;
  f.hop_limit = h.ttl;
  write_ipv6(ip, f);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(start + kEtherLen + kIpv6Len);
  write_udp(udp, h.src_port, h.dst_port, udp_len_be);
  set_frame(m, start, static_cast<uint16_t>(end - start));
  if (out.tx_checksum_offload) {
    m->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
    m->l2_len = kEtherLen;
    m->l3_len = kIpv6Len;
    udp->dgram_cksum = rte_ipv6_phdr_cksum(ip, m->ol_flags);
  } else {
    m->ol_flags = 0;
    udp->dgram_cksum = csum::udp_field(csum::add(
        payload_sum, csum::udp6_envelope(h.src.w, h.dst.w, h.src_port, h.dst_port, udp_len_be)));
  }
}

}  // namespace tern::dp
