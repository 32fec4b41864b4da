// Golden packets for the relay paths over IPv6 (RFC 8656 §11, §12, §14; RFC 8200): every pairing
// of the client's family and the relayed address's, ChannelData and Send/Data both ways, the
// hairpin, IPv6 header rules (hop limit, traffic class copied, flow label zero, no fragment
// header), the mandatory UDP checksum both in software and by offload, and the drops of each.

#include <rte_ip.h>

#include "dataplane/worker/transaction_ids.hpp"
#include "tests/packets/golden6.hpp"

namespace tern::test {
namespace {

using dp::CounterId;

constexpr uint16_t kSend = 0x0016;
constexpr uint16_t kDataIndication = 0x0017;
constexpr uint16_t kXorPeerAddress = 0x0012;
constexpr uint16_t kData = 0x0013;
constexpr uint16_t kDontFragment = 0x001A;

Bytes send_indication(std::string_view peer_ip, uint16_t peer_port, const Bytes& data,
                      bool dont_fragment = false) {
  StunBuilder s(kSend, transaction_id(1));
  s.xor_address(kXorPeerAddress, peer_ip, peer_port).attribute(kData, data);
  if (dont_fragment) s.attribute(kDontFragment, {});
  return s.bytes();
}

Bytes data_indication(dp::TransactionIds& ids, std::string_view peer_ip, uint16_t peer_port,
                      const Bytes& data) {
  TransactionId id;
  ids.next(id.data());
  return StunBuilder(kDataIndication, id).xor_address(kXorPeerAddress, peer_ip, peer_port).attribute(kData, data).bytes();
}

using Relay6 = Golden6;

TEST_F(Relay6, ChannelDataFromClientGoesToThePeer) {
  const Bytes data = text("hello over IPv6");  // 15 bytes: odd
  PacketBuilder in = from_client6(channel_data(kChannel, data));
  in.tos(0xb8).flow_label(0x12345);
  inject(0, in.bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 1u);
  EXPECT_EQ(out[0].queue, 0u);
  // Traffic class copied, flow label the server's own (zero), hop limit one less.
  EXPECT_FRAME(out[0].bytes, to_peer6(data).tos(0xb8).bytes());
  EXPECT_EQ(counter(CounterId::channel_data_to_peer), 1u);
  EXPECT_EQ(traffic(kAlloc6).packets_to_peer, 1u);
  EXPECT_EQ(traffic(kAlloc6).bytes_to_peer, data.size());
}

TEST_F(Relay6, SendIndicationToAPeerBehindTheLinkLocalGateway) {
  const Bytes data = pattern(101);
  inject(0, from_client6(send_indication(kFarPeerIp6, kFarPeerPort, data, true)).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 0u);
  PacketBuilder expected;
  expected.ether(kPort0Mac, kGatewayMac).ipv6(kRelayIp6b, kFarPeerIp6).ttl(63)
      .udp(kRelayPort6, kFarPeerPort).payload(data);
  EXPECT_FRAME(out[0].bytes, expected.bytes());  // DONT-FRAGMENT: nothing to set over IPv6
  EXPECT_EQ(counter(CounterId::send_to_peer), 1u);
}

TEST_F(Relay6, PeerDataReachesTheClientAsChannelDataOrDataIndication) {
  inject(1, from_peer6(text("bound")).bytes());
  PacketBuilder unbound = from_peer6(text("unbound, odd"));
  unbound.udp(kPeerPort + 1, kRelayPort6);  // no channel for :7001, same permitted IP
  inject(1, unbound.bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FRAME(out[0].bytes, to_client6(channel_data(kChannel, text("bound"))).bytes());
  dp::TransactionIds ids(kTransactionSeed);
  EXPECT_FRAME(out[1].bytes,
               to_client6(data_indication(ids, kPeerIp6, kPeerPort + 1, text("unbound, odd"))).bytes());
  EXPECT_EQ(counter(CounterId::channel_data_to_client), 1u);
  EXPECT_EQ(counter(CounterId::data_indication_to_client), 1u);
  EXPECT_EQ(traffic(kAlloc6).packets_to_client, 2u);
}

// RFC 8656 §7.2: an IPv4 client with an IPv6 relayed address, and the other way round.
TEST_F(Relay6, ClientAndPeersOfDifferentFamilies) {
  // IPv4 client -> IPv6 peer, and back as a Data indication inside IPv4.
  PacketBuilder from4 = from_client(send_indication(kPeerIp6, kPeerPort, text("4 to 6")));
  from4.udp(5001, kListenerPort);
  inject(0, from4.bytes());
  auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FRAME(out[0].bytes, to_peer6(text("4 to 6"), 50012).bytes());
  inject(1, from_peer6(text("6 to 4"), 50012).bytes());
  out = run();
  ASSERT_EQ(out.size(), 1u);
  dp::TransactionIds ids(kTransactionSeed);
  PacketBuilder to4;
  to4.ether(kPort0Mac, kClientMac).ipv4(kListenerIp, kClientIp).ttl(63).id(kFirstIpId)
      .udp(kListenerPort, 5001).payload(data_indication(ids, kPeerIp6, kPeerPort, text("6 to 4")));
  EXPECT_FRAME(out[0].bytes, to4.bytes());

  // IPv6 client -> IPv4 peer, and back as a Data indication inside IPv6.
  inject(0, from_client6(send_indication(kPeerIp, kPeerPort, text("6 to 4")), 5002).bytes());
  out = run();
  ASSERT_EQ(out.size(), 1u);
  PacketBuilder to_peer4;
  to_peer4.ether(kPort1Mac, kPeerMac).ipv4(kRelayIp1, kPeerIp).ttl(63).id(kFirstIpId + 1)
      .udp(50013, kPeerPort).payload(text("6 to 4"));
  EXPECT_FRAME(out[0].bytes, to_peer4.bytes());
  PacketBuilder from_peer4;
  from_peer4.ether(kPeerMac, kPort1Mac).ipv4(kPeerIp, kRelayIp1).udp(kPeerPort, 50013).payload(text("4 to 6"));
  inject(1, from_peer4.bytes());
  out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FRAME(out[0].bytes, to_client6(data_indication(ids, kPeerIp, kPeerPort, text("4 to 6")), 5002).bytes());
}

// Both ends of a call relayed through this server over IPv6: never on the wire in between.
TEST_F(Relay6, Hairpin) {
  ASSERT_EQ(writer().set_permission(kAlloc6, *IpAddress::parse(kRelayIp6), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(kAlloc6b, *IpAddress::parse(kRelayIp6b), kExpires), dp::WriteResult::ok);
  inject(0, from_client6(send_indication(kRelayIp6, 50014, text("both ends"))).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  dp::TransactionIds ids(kTransactionSeed);
  EXPECT_FRAME(out[0].bytes,
               to_client6(data_indication(ids, kRelayIp6b, kRelayPort6, text("both ends")), 5003).bytes());
  EXPECT_EQ(counter(CounterId::hairpin), 1u);
}

// The NIC computes the UDP checksum when it can: the pseudo-header sum is left in place.
TEST_F(Relay6, ChecksumOffload) {
  GoldenOptions options;
  options.offload = true;
  build6(options);
  inject(0, from_client6(channel_data(kChannel, text("offloaded"))).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ol_flags, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM);
  EXPECT_EQ(out[0].l2_len, 14u);
  EXPECT_EQ(out[0].l3_len, 40u);
  Bytes expected = to_peer6(text("offloaded")).bytes();
  // The checksum field holds the pseudo-header's sum, not complemented (rte_ipv6_phdr_cksum).
  rte_ipv6_hdr ip{};
  std::memcpy(&ip, expected.data() + 14, 40);
  const uint16_t phdr = rte_ipv6_phdr_cksum(&ip, 0);
  std::memcpy(expected.data() + 14 + 40 + 6, &phdr, 2);
  EXPECT_FRAME(out[0].bytes, expected);
}

TEST_F(Relay6, DropsSayWhy) {
  struct Case {
    const char* what;
    unsigned port;
    Bytes frame;
    CounterId counter;
  };
  std::vector<Case> cases;
  {
    PacketBuilder b = from_client6(channel_data(kChannel, text("x")));
    b.ttl(1);
    cases.push_back({"hop limit 1", 0, b.bytes(), CounterId::drop_ttl_expired});
  }
  {
    PacketBuilder b = from_client6(channel_data(kChannel, text("x")));
    b.udp_checksum(0);
    cases.push_back({"no UDP checksum", 0, b.bytes(), CounterId::drop_bad_checksum});
  }
  {
    PacketBuilder b;
    b.ether(kClientMac, kPort0Mac).ipv6(kClientIp6, kListenerIp6).next_header(44).payload(pattern(16));
    cases.push_back({"fragment header", 0, b.bytes(), CounterId::drop_fragment});
  }
  {
    PacketBuilder b = from_client6(channel_data(kChannel, text("x")));
    b.payload_length(400);
    cases.push_back({"payload length past the frame", 0, b.bytes(), CounterId::drop_malformed});
  }
  cases.push_back({"no permission", 0,
                   from_client6(send_indication("2001:db8:1::99", 1, text("x"))).bytes(),
                   CounterId::drop_no_permission});
  cases.push_back({"an IPv4 peer of an IPv6 relayed address", 0,
                   from_client6(send_indication(kPeerIp, kPeerPort, text("x"))).bytes(),
                   CounterId::drop_unsupported_family});
  {
    PacketBuilder b = from_peer6(text("x"));
    b.ipv6("2001:db8:1::77", kRelayIp6b);
    cases.push_back({"peer without permission", 1, b.bytes(), CounterId::drop_no_permission});
  }
  cases.push_back({"no allocation on the relayed port", 1, from_peer6(text("x"), 50999).bytes(),
                   CounterId::drop_no_relay});
  {
    PacketBuilder b = from_client6(channel_data(kChannel, text("x")));
    b.udp(kClientPort, 9999);
    cases.push_back({"closed port", 0, b.bytes(), CounterId::drop_closed_port});
  }
  {
    PacketBuilder b = from_client6(channel_data(kChannel, text("x")));
    b.ipv6(kClientIp6, "2001:db8::99");
    cases.push_back({"not ours", 0, b.bytes(), CounterId::drop_not_ours});
  }
  {
    PacketBuilder b;
    b.ether(kClientMac, kPort0Mac).ipv6(kClientIp6, kListenerIp6).icmp6(128, 0).payload(pattern(8));
    Bytes f = b.bytes();
    f[14 + 40 + 2] ^= 1;
    cases.push_back({"ICMPv6 checksum", 0, f, CounterId::drop_bad_checksum});
  }
  {
    PacketBuilder b;
    b.ether(kClientMac, kPort0Mac).ipv6(kClientIp6, kListenerIp6).icmp6(1, 0).payload(pattern(8));
    cases.push_back({"ICMPv6 unreachable", 0, b.bytes(), CounterId::drop_icmp});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const uint64_t before = counter(c.counter);
    inject(c.port, c.frame);
    EXPECT_TRUE(run().empty());
    EXPECT_EQ(counter(c.counter), before + 1);
  }
}

// The bulk path (v4 and v6 client keys looked up in separate bulk lookups) and the scalar path
// produce the same bytes.
TEST_F(Relay6, BulkEqualsScalar) {
  std::vector<Bytes> frames;
  for (int i = 0; i < 24; ++i) {
    const Bytes d = pattern(static_cast<size_t>(10 + i), static_cast<uint8_t>(i));
    switch (i % 4) {
      case 0: frames.push_back(from_client6(channel_data(kChannel, d)).bytes()); break;
      case 1: frames.push_back(from_client(channel_data(kChannel, d)).bytes()); break;
      case 2: frames.push_back(from_client6(send_indication(kFarPeerIp6, kFarPeerPort, d)).bytes()); break;
      case 3: frames.push_back(from_client6(send_indication(kPeerIp, kPeerPort, d), 5002).bytes()); break;
    }
  }
  inject(0, frames);
  std::vector<Bytes> bulk;
  for (const Sent& s : run(dp::Worker::Mode::bulk)) bulk.push_back(s.bytes);
  build6(GoldenOptions{});
  inject(0, frames);
  std::vector<Bytes> scalar;
  for (const Sent& s : run(dp::Worker::Mode::scalar)) scalar.push_back(s.bytes);
  ASSERT_EQ(bulk.size(), frames.size());
  EXPECT_EQ(bulk, scalar);
}

}  // namespace
}  // namespace tern::test
