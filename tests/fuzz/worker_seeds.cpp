// Writes fuzz_worker's seed corpus: one input per kind of frame and per path of the worker, built
// with the golden tests' PacketBuilder over worker_layout.hpp's addresses, so each reaches what it
// is named after (tests/fuzz/README.md lists them with the counter each moves).
//
//   worker_seeds DIR      (tests/fuzz/corpus/worker)

#include <cstdio>
#include <string>
#include <vector>

#include "tests/fuzz/worker_input.hpp"
#include "tests/fuzz/worker_layout.hpp"
#include "tests/packets/packet_builder.hpp"

namespace {

using namespace tern::fuzz;
using tern::test::Bytes;
using tern::test::channel_data;
using tern::test::Mac;
using tern::test::PacketBuilder;
using tern::test::pattern;
using tern::test::StunBuilder;
using tern::test::tcp_syn;
using tern::test::transaction_id;

// RFC 8489 §18.2 / RFC 8656 §18: the method and attribute numbers the seeds use.
constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingIndication = 0x0011;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kAllocateRequest = 0x0003;
constexpr uint16_t kSendIndication = 0x0016;
constexpr uint16_t kUsername = 0x0006;
constexpr uint16_t kPriority = 0x0024;  // RFC 8445: comprehension-required, not the worker's
constexpr uint16_t kSoftware = 0x8022;
constexpr uint16_t kXorPeerAddress = 0x0012;
constexpr uint16_t kData = 0x0013;
constexpr uint16_t kDontFragment = 0x001a;
constexpr uint16_t kRequestedTransport = 0x0019;

const Mac port0 = Mac::of(kPort0Mac);
const Mac port1 = Mac::of(kPort1Mac);
const Mac client_mac = Mac::of(kClientMac);
const Mac gateway_mac = Mac::of(kGatewayMac);
const Mac peer_mac = Mac::of(kPeerMac);

Bytes from_client(const Bytes& payload, uint16_t client_port = kClientPort) {
  PacketBuilder b;
  b.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).udp(client_port, kListenerPort).payload(payload);
  return b.bytes();
}
Bytes from_client6(const Bytes& payload, uint16_t client_port = kClientPort) {
  PacketBuilder b;
  b.ether(client_mac, port0).ipv6(kClientIp6, kListenerIp6).udp(client_port, kListenerPort).payload(payload);
  return b.bytes();
}
Bytes from_peer(std::string_view peer, uint16_t peer_port, std::string_view relay, uint16_t relay_port,
                const Bytes& data) {
  PacketBuilder b;
  b.ether(peer_mac, port1).ipv4(peer, relay).udp(peer_port, relay_port).payload(data);
  return b.bytes();
}
Bytes from_peer6(std::string_view peer, uint16_t peer_port, std::string_view relay, uint16_t relay_port,
                 const Bytes& data) {
  PacketBuilder b;
  b.ether(peer_mac, port1).ipv6(peer, relay).udp(peer_port, relay_port).payload(data);
  return b.bytes();
}

Bytes send_indication(std::string_view peer, uint16_t peer_port, const Bytes& data, bool dont_fragment = false,
                      bool fingerprint = false) {
  StunBuilder s(kSendIndication, transaction_id(3));
  s.xor_address(kXorPeerAddress, peer, peer_port).attribute(kData, data);
  if (dont_fragment) s.attribute(kDontFragment, {});
  if (fingerprint) s.fingerprint();
  return s.bytes();
}

Bytes binding(bool fingerprint = false, uint16_t extra = 0) {
  StunBuilder s(kBindingRequest, transaction_id(1));
  if (extra != 0) s.attribute(extra, tern::test::text("fuzz"));
  if (fingerprint) s.fingerprint();
  return s.bytes();
}

// RFC 4861 §4.3, §4.4: a neighbour solicitation (target, source link-layer option) or an
// advertisement (flags, target, target link-layer option).
Bytes ndp_body(bool solicitation, std::string_view target, const Mac& link_layer) {
  Bytes b(4, 0);
  if (!solicitation) b[0] = 0x60;  // solicited, override
  const auto t = tern::test::ip6_bytes(target);
  b.insert(b.end(), t.begin(), t.end());
  b.push_back(solicitation ? 1 : 2);
  b.push_back(1);
  b.insert(b.end(), link_layer.bytes.begin(), link_layer.bytes.end());
  return b;
}


// A frame without its Ethernet header: what an ICMP error quotes.
Bytes quoted(const PacketBuilder& b) {
  Bytes f = b.bytes();
  return Bytes(f.begin() + 14, f.end());
}

struct Seed {
  std::string name;
  uint8_t trace = 0;
  std::vector<std::pair<Frame, Bytes>> frames;

  Seed& add(Source s, Bytes bytes, RxChecksum ip = RxChecksum::unknown, RxChecksum l4 = RxChecksum::unknown,
            bool stale = false) {
    Frame f;
    f.source = s;
    f.ip_checksum = ip;
    f.l4_checksum = l4;
    f.stale = stale;
    frames.push_back({f, std::move(bytes)});
    return *this;
  }
};

std::vector<Seed> seeds() {
  std::vector<Seed> all;
  all.reserve(256);  // seed() hands out references that later seeds must not move
  const auto seed = [&](std::string name) -> Seed& {
    all.push_back(Seed{std::move(name), 0, {}});
    return all.back();
  };
  const Bytes data = pattern(100, 1);
  const Bytes odd = pattern(33, 7);
  const auto P0 = Source::port0;
  const auto P1 = Source::port1;

  // Client -> peer: ChannelData (RFC 8656 §12.6) and Send indications (§11.2).
  seed("channel_data_to_peer_v4").add(P0, from_client(channel_data(kChannel, data)));
  seed("channel_data_to_peer_v6").add(P0, from_client6(channel_data(kChannel, data)));
  seed("channel_data_v4_client_v6_peer").add(P0, from_client(channel_data(kChannel46, odd), kClientPort46));
  seed("channel_data_v6_client_v4_peer").add(P0, from_client6(channel_data(kChannel64, odd), kClientPort64));
  seed("channel_data_hairpin").add(P0, from_client(channel_data(kHairpinChannel, data)));
  seed("channel_data_next_hop_unknown").add(P0, from_client(channel_data(kUnresolvedChannel, data)));
  seed("channel_data_expired_channel").add(P0, from_client(channel_data(kExpiredChannel, data)));
  seed("channel_data_unbound_channels").add(P0, from_client(channel_data(0x4fff, data)))
      .add(P0, from_client(channel_data(0x5000, data)));
  seed("channel_data_expired_allocation").add(P0, from_client(channel_data(kChannel, data), kClientPortOld));
  seed("channel_data_no_allocation").add(P0, from_client(channel_data(kChannel, data), 5999));
  seed("channel_data_padded_short").add(P0, from_client(channel_data(kChannel, odd, {0, 0, 0})))
      .add(P0, from_client(Bytes{0x40, 0x01, 0x00, 0x40, 1, 2}));
  {
    PacketBuilder b;
    b.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).ttl(1).udp(kClientPort, kListenerPort)
        .payload(channel_data(kChannel, data));
    seed("channel_data_ttl_expired").add(P0, b.bytes());
  }
  {
    PacketBuilder b;
    b.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).df().tos(0xb8).udp(kClientPort, kListenerPort)
        .udp_checksum(0).payload(channel_data(kChannel, odd));
    seed("channel_data_df_dscp_no_checksum").add(P0, b.bytes());
  }
  seed("channel_data_checksum_offloaded").add(P0, from_client(channel_data(kChannel, data)), RxChecksum::good,
                                             RxChecksum::good);
  seed("send_to_far_peer_v4").add(P0, from_client(send_indication(kFarPeerIp, kFarPeerPort, data)));
  seed("send_no_route_v6").add(P0, from_client6(send_indication(kFarPeerIp6, kFarPeerPort, odd)));
  seed("send_dont_fragment_fingerprint").add(P0, from_client(send_indication(kPeerIp, kPeerPort, odd, true, true)));
  seed("send_hairpin_v6").add(P0, from_client6(send_indication(kRelayIp6, kRelayPort6b, data)));
  seed("send_own_port").add(P0, from_client(send_indication(kRelayIp1, 50999, data)));
  seed("send_no_permission").add(P0, from_client(send_indication("192.0.2.77", kPeerPort, data)));
  {
    Bytes bad = send_indication(kPeerIp, kPeerPort, odd, false, true);
    bad.back() ^= 1;
    seed("send_bad_fingerprint").add(P0, from_client(bad));
  }
  seed("send_other_family").add(P0, from_client(send_indication(kPeerIp6, kPeerPort, data)));
  {
    StunBuilder s(kSendIndication, transaction_id(4));
    s.xor_address(kXorPeerAddress, kPeerIp, kPeerPort).attribute(0x7fff, data);
    seed("send_unknown_required_attribute").add(P0, from_client(s.bytes()));
  }

  // Peer -> client (RFC 8656 §11.3, §12.7): ChannelData when a channel is bound, else a Data
  // indication; to UDP clients of both families and to TCP/TLS clients' connections.
  seed("peer_channel_data_v4").add(P1, from_peer(kPeerIp, kPeerPort, kRelayIp, kRelayPort, data));
  seed("peer_data_indication_v4").add(P1, from_peer(kFarPeerIp, kFarPeerPort, kRelayIp, kRelayPort, odd));
  seed("peer_to_client_behind_gateway").add(P1, from_peer(kFarPeerIp, kFarPeerPort, kRelayIp1, kRelayPort2, data));
  seed("peer_channel_data_v6").add(P1, from_peer6(kPeerIp6, kPeerPort, kRelayIp6b, kRelayPort6, data));
  seed("peer_data_indication_v6").add(P1, from_peer6(kFarPeerIp6, kFarPeerPort, kRelayIp6b, kRelayPort6, odd));
  seed("peer_v6_to_v4_client").add(P1, from_peer6(kPeerIp6, 7002, kRelayIp6b, kRelayPort46, data))
      .add(P1, from_peer6(kPeerIp6, 7999, kRelayIp6b, kRelayPort46, odd));
  seed("peer_v4_to_v6_client").add(P1, from_peer(kPeerIp, 7003, kRelayIp1, kRelayPort64, data))
      .add(P1, from_peer(kPeerIp, 7999, kRelayIp1, kRelayPort64, odd));
  seed("peer_to_stream_client_v4").add(P1, from_peer(kPeerIp, kPeerPort, kRelayIp, kStreamRelayPort4, data))
      .add(P1, from_peer(kFarPeerIp, kFarPeerPort, kRelayIp, kStreamRelayPort4, odd));
  seed("peer_to_stream_client_v6").add(P1, from_peer6(kPeerIp6, kPeerPort, kRelayIp6b, kStreamRelayPort6, odd));
  // A Data indication's padding that no longer fits the buffer (an mbuf's whole data room).
  seed("peer_data_indication_too_big")
      .add(P1, from_peer(kFarPeerIp, kFarPeerPort, kRelayIp, kRelayPort, pattern(kMaxFrameLen - 42, 3)));
  seed("peer_no_permission").add(P1, from_peer("192.0.2.77", kPeerPort, kRelayIp, kRelayPort, data));
  seed("peer_no_relay").add(P1, from_peer(kPeerIp, kPeerPort, kRelayIp, 50099, data));
  seed("peer_expired_allocation").add(P1, from_peer(kPeerIp, kPeerPort, kRelayIp, kRelayPortOld, data));

  // The stream transport's messages (from_stream ring): a TCP or TLS client's data to its peers.
  seed("stream_channel_data_v4").add(Source::stream4, channel_data(kHairpinChannel, odd, {0, 0, 0}));
  seed("stream_send_v4").add(Source::stream4, send_indication(kFarPeerIp, kFarPeerPort, data));
  seed("stream_channel_data_v6").add(Source::stream6, channel_data(kChannel, data));
  seed("stream_stale_connection").add(Source::stream4, channel_data(kHairpinChannel, data), RxChecksum::unknown,
                                      RxChecksum::unknown, true);
  seed("stream_not_data").add(Source::stream6, binding());

  // What the worker answers itself (RFC 8489 Binding, RFC 826 ARP, RFC 4861 NDP, echo) or punts.
  seed("binding_v4").add(P0, from_client(binding()));
  seed("binding_v6").add(P0, from_client6(binding()));
  seed("binding_software_fingerprint").add(P0, from_client(binding(true, kSoftware)));
  seed("binding_authenticated").add(P0, from_client(binding(false, kUsername)));
  seed("binding_required_attribute").add(P0, from_client6(binding(false, kPriority)));
  {
    StunBuilder s(kAllocateRequest, transaction_id(2));
    s.attribute(kRequestedTransport, {17, 0, 0, 0});
    seed("allocate_request").add(P0, from_client(s.bytes()));
  }
  seed("stun_indication").add(P0, from_client(StunBuilder(kBindingIndication, transaction_id(5)).bytes()));
  seed("stun_response").add(P0, from_client6(StunBuilder(kBindingSuccess, transaction_id(6)).bytes()));
  {
    PacketBuilder known, unknown, reply;
    known.ether(client_mac, Mac::of("ff:ff:ff:ff:ff:ff"))
        .arp(1, client_mac, kClientIp, Mac::of("00:00:00:00:00:00"), kListenerIp);
    unknown.ether(Mac::of("02:00:00:00:00:77"), Mac::of("ff:ff:ff:ff:ff:ff"))
        .arp(1, Mac::of("02:00:00:00:00:77"), "10.90.0.77", Mac::of("00:00:00:00:00:00"), kRelayIp);
    reply.ether(peer_mac, port1).arp(2, peer_mac, "192.0.2.60", port1, kRelayIp1);
    seed("arp_request_known").add(P0, known.bytes());
    seed("arp_request_unknown").add(P0, unknown.bytes());
    seed("arp_reply").add(P1, reply.bytes());
    PacketBuilder other;
    other.ether(client_mac, Mac::of("ff:ff:ff:ff:ff:ff"))
        .arp(1, client_mac, kClientIp, Mac::of("00:00:00:00:00:00"), "10.90.0.99");
    seed("arp_not_for_us").add(P0, other.bytes());
  }
  {
    PacketBuilder known, unknown, advert;
    known.ether(client_mac, Mac::of("33:33:ff:00:00:01")).ipv6(kClientIp6, "ff02::1:ff00:1").ttl(255)
        .icmp6(135, 0).payload(ndp_body(true, kListenerIp6, client_mac));
    unknown.ether(Mac::of("02:00:00:00:00:77"), Mac::of("33:33:ff:00:00:02")).ipv6("2001:db8::77", "ff02::1:ff00:2")
        .ttl(255).icmp6(135, 0).payload(ndp_body(true, kRelayIp6, Mac::of("02:00:00:00:00:77")));
    advert.ether(peer_mac, port1).ipv6(kUnresolvedPeerIp6, kRelayIp6b).ttl(255).icmp6(136, 0)
        .payload(ndp_body(false, kUnresolvedPeerIp6, peer_mac));
    seed("ndp_solicitation_known").add(P0, known.bytes());
    seed("ndp_solicitation_unknown").add(P0, unknown.bytes());
    seed("ndp_advertisement").add(P1, advert.bytes());
  }
  {
    PacketBuilder echo, echo6;
    echo.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).icmp(8, 0, 0x1234, 1).payload(pattern(56));
    echo6.ether(client_mac, port0).ipv6(kClientIp6, kRelayIp6).icmp6(128, 0).payload(pattern(60));
    seed("icmp_echo_v4").add(P0, echo.bytes());
    seed("icmp6_echo").add(P0, echo6.bytes());
  }

  // TCP and TLS: the kernel's, behind the exception path, with the ICMP errors about it.
  {
    PacketBuilder syn, syn6, closed;
    syn.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).protocol(6).payload(tcp_syn(40000, kTlsPort));
    syn6.ether(client_mac, port0).ipv6(kClientIp6, kListenerIp6).next_header(6).payload(tcp_syn(40001, kTlsPort));
    closed.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).protocol(6).payload(tcp_syn(40000, 80));
    seed("tcp_to_listener_v4").add(P0, syn.bytes());
    seed("tcp_to_listener_v6").add(P0, syn6.bytes());
    seed("tcp_to_closed_port").add(P0, closed.bytes());

    PacketBuilder sent, sent6, error, error6;
    sent.ether(port0, client_mac).ipv4(kListenerIp, kRemoteClientIp).protocol(6).payload(tcp_syn(kTlsPort, 40000));
    error.ether(gateway_mac, port0).ipv4(kGatewayIp, kListenerIp).icmp(3, 4, 0, 1280).payload(quoted(sent));
    sent6.ether(port0, client_mac).ipv6(kListenerIp6, kFarPeerIp6).next_header(6).payload(tcp_syn(kTlsPort, 40001));
    Bytes too_big = {0, 0, 0x05, 0x00};  // RFC 4443 §3.2: the MTU, then what we sent
    const Bytes q6 = quoted(sent6);
    too_big.insert(too_big.end(), q6.begin(), q6.end());
    error6.ether(gateway_mac, port0).ipv6(kRouterIp6, kListenerIp6).icmp6(2, 0).payload(too_big);
    seed("icmp_error_about_tcp_v4").add(P0, error.bytes());
    seed("icmp6_packet_too_big_about_tcp").add(P0, error6.bytes());
    PacketBuilder unreachable;
    unreachable.ether(gateway_mac, port0).ipv4(kGatewayIp, kRelayIp).icmp(3, 3, 0, 0).payload(pattern(28));
    seed("icmp_error_other").add(P0, unreachable.bytes());
  }

  // What is dropped, each with its counter.
  {
    PacketBuilder frag, frag6, vlan, other_mac, bad_ip, closed_port, not_stun, malformed_stun, udp6_zero;
    frag.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).fragment_field(0x2000).udp(kClientPort, kListenerPort)
        .payload(channel_data(kChannel, data));
    frag6.ether(client_mac, port0).ipv6(kClientIp6, kListenerIp6).next_header(44).payload(pattern(64));
    vlan.ether(client_mac, port0, 0x8100).payload(pattern(64));
    other_mac.ether(client_mac, Mac::of("02:00:00:00:00:99")).ipv4(kClientIp, kListenerIp).udp(kClientPort, kListenerPort)
        .payload(binding());
    bad_ip.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).ip_checksum(0x1234).udp(kClientPort, kListenerPort)
        .payload(binding());
    closed_port.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).udp(kClientPort, 9999).payload(data);
    not_stun.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).udp(kClientPort, kListenerPort).payload(pattern(40, 0xc0));
    Bytes bad_length = binding();
    bad_length[3] = 2;
    malformed_stun.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).udp(kClientPort, kListenerPort).payload(bad_length);
    udp6_zero.ether(client_mac, port0).ipv6(kClientIp6, kListenerIp6).udp(kClientPort, kListenerPort).udp_checksum(0)
        .payload(channel_data(kChannel, data));
    seed("fragment_v4").add(P0, frag.bytes());
    seed("fragment_v6").add(P0, frag6.bytes());
    seed("vlan_ethertype").add(P0, vlan.bytes());
    seed("not_our_mac").add(P0, other_mac.bytes());
    seed("bad_ip_checksum").add(P0, bad_ip.bytes()).add(P0, from_client(binding()), RxChecksum::bad);
    seed("bad_udp_checksum").add(P0, from_client(binding()), RxChecksum::good, RxChecksum::bad);
    seed("udp_closed_port").add(P0, closed_port.bytes());
    seed("udp_not_stun").add(P0, not_stun.bytes());
    seed("stun_malformed").add(P0, malformed_stun.bytes());
    seed("udp6_zero_checksum").add(P0, udp6_zero.bytes());
    seed("runt").add(P0, Bytes{0x02, 0, 0, 0, 0, 1});
    seed("segmented").add(P0, from_client(channel_data(kChannel, data))).frames.back().first.segmented = true;
  }

  // Whole bursts: over the allocation's packet rate and bit rate (worker_layout.hpp's limits), the
  // bulk path's group lookups over every kind at once, and a running trace.
  {
    Seed& packets = seed("rate_limited_packets");
    for (int i = 0; i < 24; ++i) packets.add(P0, from_client(channel_data(kChannel, pattern(16, static_cast<uint8_t>(i)))));
    Seed& bytes = seed("rate_limited_bytes");
    for (int i = 0; i < 10; ++i) bytes.add(P1, from_peer(kPeerIp, kPeerPort, kRelayIp, kRelayPort, pattern(1400, static_cast<uint8_t>(i))));
  }
  {
    // More than the worker's rings take in one burst (worker_plane.cpp): each drop_*_full.
    Seed& punts = seed("punt_ring_full");
    Seed& held = seed("hold_ring_full");
    Seed& kernel = seed("exception_ring_full");
    Seed& streams = seed("to_stream_ring_full");
    Seed& tx = seed("tx_queue_full");
    for (int i = 0; i < 20; ++i) {
      punts.add(P0, from_client(binding(false, kUsername)));
      held.add(P0, from_client(channel_data(kUnresolvedChannel, pattern(8, static_cast<uint8_t>(i)))));
      PacketBuilder syn;
      syn.ether(client_mac, port0).ipv4(kClientIp, kListenerIp).protocol(6)
          .payload(tcp_syn(static_cast<uint16_t>(40000 + i), kListenerPort));
      kernel.add(P0, syn.bytes());
      streams.add(P1, from_peer(kPeerIp, kPeerPort, kRelayIp, kStreamRelayPort4, pattern(8, static_cast<uint8_t>(i))));
    }
    for (int i = 0; i < 32; ++i) tx.add(P0, from_client(binding()));
  }
  {
    Seed& burst = seed("burst_mixed");
    for (int i = 0; i < 4; ++i) {
      burst.add(P0, from_client(channel_data(kChannel, pattern(20 + i))))
          .add(P0, from_client6(channel_data(kChannel, pattern(21 + i))))
          .add(P0, from_client(send_indication(kFarPeerIp, kFarPeerPort, pattern(10 + i))))
          .add(P1, from_peer(kPeerIp, kPeerPort, kRelayIp, kRelayPort, pattern(30 + i)))
          .add(P1, from_peer6(kFarPeerIp6, kFarPeerPort, kRelayIp6b, kRelayPort6, pattern(31 + i)))
          .add(P0, from_client(binding()))
          .add(P0, from_client(channel_data(kChannel46, pattern(9 + i)), kClientPort46))
          .add(P0, from_client6(channel_data(kChannel64, pattern(8 + i)), kClientPort64));
    }
    Seed& traced = seed("trace_client_v4");
    traced.trace = kTraceClient4;
    traced.add(P0, from_client(channel_data(kChannel, data))).add(P1, from_peer(kPeerIp, kPeerPort, kRelayIp, kRelayPort, odd))
        .add(P0, from_client(binding())).add(P0, from_client(channel_data(0x5000, data)));
    for (int i = 0; i < 20; ++i) traced.add(P0, from_client(channel_data(kChannel, pattern(4, static_cast<uint8_t>(i)))));
    Seed& traced6 = seed("trace_client_v6");
    traced6.trace = kTraceClient6;
    traced6.add(P0, from_client6(channel_data(kChannel, data))).add(P1, from_peer6(kPeerIp6, kPeerPort, kRelayIp6b, kRelayPort6, odd))
        .add(P0, from_client6(binding()));
  }
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: worker_seeds DIR   (tests/fuzz/corpus/worker)\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::vector<Seed> all = seeds();
  for (const Seed& s : all) {
    Burst b;
    b.trace = s.trace;
    for (const auto& [frame, bytes] : s.frames) {
      Frame f = frame;
      f.bytes = bytes;
      b.frames.push_back(f);
    }
    const std::vector<uint8_t> input = encode(b);
    const std::string path = dir + "/" + s.name + ".bin";
    FILE* out = std::fopen(path.c_str(), "wb");
    if (out == nullptr || std::fwrite(input.data(), 1, input.size(), out) != input.size() || std::fclose(out) != 0) {
      std::fprintf(stderr, "worker_seeds: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::printf("worker_seeds: %zu inputs in %s\n", all.size(), dir.c_str());
  return 0;
}
