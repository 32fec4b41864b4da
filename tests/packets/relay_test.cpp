// Golden packets for the relay fast paths (RFC 8656 §11, §12, §14): client -> peer (ChannelData,
// Send indication), peer -> client (ChannelData, Data indication), hairpin, IP header rules,
// both checksum paths, odd lengths and ChannelData padding, max_bps.

#include <rte_ip.h>

#include "dataplane/worker/transaction_ids.hpp"
#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::AllocationDrop;
using dp::CounterId;
using dp::count_of;
using dp::total;

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

using Relay = Golden;

// RFC 8656 §12.6: client -> peer ChannelData: header stripped, sent from the relayed address.
TEST_F(Relay, ChannelDataFromClientGoesToThePeer) {
  const Bytes data = text("hello, peer");  // 11 bytes: odd
  inject(0, from_client(channel_data(kChannel, data)).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 1u);
  EXPECT_EQ(out[0].queue, 0u);
  EXPECT_FRAME(out[0].bytes, to_peer(data, kFirstIpId).bytes());
  EXPECT_EQ(counter(CounterId::channel_data_to_peer), 1u);
  EXPECT_EQ(traffic(kAlloc).packets_to_peer, 1u);
  EXPECT_EQ(traffic(kAlloc).bytes_to_peer, data.size());
}

// compat.rfc5766_channels: the control plane may bind an RFC 5766 number (0x5000-0x7FFF); the
// worker relays whatever is bound, and a reserved number that is not bound is a bad channel.
TEST_F(Relay, BoundRfc5766ChannelIsRelayed) {
  ASSERT_EQ(writer().remove_channel(kAlloc, kChannel), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_channel(kAlloc, 0x6a00, *TransportAddress::parse("192.0.2.50:7000"), kExpires),
            dp::WriteResult::ok);
  const Bytes data = text("from an RFC 5766 client");
  inject(0, from_client(channel_data(0x6a00, data)).bytes());
  inject(0, from_client(channel_data(0x6a01, data)).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FRAME(out[0].bytes, to_peer(data, kFirstIpId).bytes());
  EXPECT_EQ(counter(CounterId::drop_bad_channel), 1u);
}

// RFC 8656 §12.5: over UDP the padding is optional and whatever follows the ChannelData length
// is not data; the software checksum is updated for the removed bytes at odd and even offsets.
TEST_F(Relay, ChannelDataPaddingAndOddLengthsAreHandled) {
  uint16_t id = kFirstIpId;
  for (size_t len = 0; len <= 9; ++len) {
    for (const Bytes& padding : {Bytes{}, Bytes{0xaa}, Bytes{0xde, 0xad, 0xbe}, pattern(13, 0x70)}) {
      const Bytes data = pattern(len, static_cast<uint8_t>(0x31 + len));
      inject(0, from_client(channel_data(kChannel, data, padding)).bytes());
      const auto out = run();
      ASSERT_EQ(out.size(), 1u) << len;
      EXPECT_FRAME(out[0].bytes, to_peer(data, id++).bytes()) << "length " << len << " padding " << padding.size();
    }
  }
}

// RFC 8656 §12.4 and §12.5: a datagram shorter than the ChannelData length is discarded.
TEST_F(Relay, ShortChannelDataIsMalformed) {
  Bytes cd = channel_data(kChannel, text("12345678"));
  cd.resize(cd.size() - 1);
  inject(0, from_client(cd).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_malformed), 1u);
}

// RFC 8656 §11.2: Send indication -> UDP with the DATA bytes to XOR-PEER-ADDRESS, here a peer
// behind the gateway; DONT-FRAGMENT sets DF (§14).
TEST_F(Relay, SendIndicationGoesToThePeerThroughTheGateway) {
  const Bytes data = pattern(37, 0x10);
  inject(0, from_client(send_indication(kFarPeerIp, kFarPeerPort, data, true)).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 0u);
  PacketBuilder expected;
  expected.ether(kPort0Mac, kGatewayMac).ipv4(kRelayIp, kFarPeerIp).ttl(63).df().id(kFirstIpId)
      .udp(kRelayPort, kFarPeerPort).payload(data);
  EXPECT_FRAME(out[0].bytes, expected.bytes());
  EXPECT_EQ(counter(CounterId::send_to_peer), 1u);
}

// Attributes after DATA (SOFTWARE, FINGERPRINT) are removed from the checksum like padding.
TEST_F(Relay, SendIndicationWithTrailingAttributesAndFingerprint) {
  const Bytes data = pattern(5, 0x41);
  const Bytes message = StunBuilder(kSend, transaction_id(3))
                            .xor_address(kXorPeerAddress, kPeerIp, kPeerPort)
                            .attribute(kData, data, 0xee)
                            .attribute(0x8022, text("client 1.0"))
                            .fingerprint()
                            .bytes();
  inject(0, from_client(message).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FRAME(out[0].bytes, to_peer(data, kFirstIpId).bytes());
}

// RFC 8656 §12.7: a peer bound to a channel gets ChannelData, unpadded over UDP, sent from the
// listener to the client.
TEST_F(Relay, PeerDataOnABoundChannelReachesTheClientAsChannelData) {
  const Bytes data = text("odd-length reply");  // 16
  for (const Bytes& d : {data, pattern(7, 1)}) {
    inject(1, from_peer(d).bytes());
  }
  const auto out = run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].port, 0u);
  EXPECT_FRAME(out[0].bytes, to_client(channel_data(kChannel, data), kFirstIpId).bytes());
  EXPECT_FRAME(out[1].bytes, to_client(channel_data(kChannel, pattern(7, 1)), kFirstIpId + 1).bytes());
  EXPECT_EQ(counter(CounterId::channel_data_to_client), 2u);
  EXPECT_EQ(traffic(kAlloc).packets_to_client, 2u);
  EXPECT_EQ(traffic(kAlloc).bytes_to_client, data.size() + 7);
}

// RFC 8656 §11.3: no channel for the peer: a Data indication with XOR-PEER-ADDRESS and a padded
// DATA attribute.
TEST_F(Relay, PeerDataWithoutAChannelBecomesADataIndication) {
  dp::TransactionIds ids(kTransactionSeed);
  for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u, 300u}) {
    const Bytes data = pattern(len, 0x20);
    PacketBuilder in;
    in.ether(kGatewayMac, kPort0Mac).ipv4(kFarPeerIp, kRelayIp).ttl(50).udp(kFarPeerPort, kRelayPort).payload(data);
    inject(0, in.bytes());
  }
  const auto out = run();
  ASSERT_EQ(out.size(), 7u);
  uint16_t id = kFirstIpId;
  size_t i = 0;
  for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u, 300u}) {
    PacketBuilder expected;
    expected.ether(kPort0Mac, kClientMac).ipv4(kListenerIp, kClientIp).ttl(49).id(id++)
        .udp(kListenerPort, kClientPort).payload(data_indication(ids, kFarPeerIp, kFarPeerPort, pattern(len, 0x20)));
    EXPECT_FRAME(out[i++].bytes, expected.bytes()) << len;
  }
  EXPECT_EQ(counter(CounterId::data_indication_to_client), 7u);
}

// RFC 8656 §14: TTL one less; DSCP and ECN copied; DF copied from the packet that carried the
// data, or set for an allocation made with DONT-FRAGMENT.
TEST_F(Relay, IpHeaderFieldsFollowSection14) {
  const Bytes data = text("qos");
  PacketBuilder in = from_client(channel_data(kChannel, data));
  in.ttl(10).tos(0xb9).df();  // EF + ECT(1)
  inject(0, in.bytes());
  PacketBuilder peer_in = from_peer(data);
  peer_in.ttl(2).tos(0x03);  // CE
  inject(1, peer_in.bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 2u);
  // drain_tx() lists port 0 (towards the client) before port 1 (towards the peer).
  EXPECT_FRAME(out[1].bytes, to_peer(data, kFirstIpId).ttl(9).tos(0xb9).df().bytes());
  EXPECT_FRAME(out[0].bytes, to_client(channel_data(kChannel, data), kFirstIpId + 1).ttl(1).tos(0x03).bytes());

  // An allocation with DONT-FRAGMENT sets DF on what it sends to peers, not towards its client.
  ASSERT_EQ(writer().remove_allocation(kAlloc), dp::WriteResult::ok);
  dp::AllocId reclaimed[4];
  ASSERT_EQ(writer().reclaimed(reclaimed), 1u);
  dp::AllocationEntry e;
  e.five_tuple = {*TransportAddress::parse("10.90.0.10:5000"), *TransportAddress::parse("10.90.0.1:3478")};
  e.relayed = *TransportAddress::parse("10.90.0.2:50000");
  e.expires = kExpires;
  e.dont_fragment = true;
  ASSERT_EQ(writer().add_allocation(kAlloc, e), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
  inject(0, from_client(send_indication(kPeerIp, kPeerPort, data)).bytes());
  inject(1, from_peer(data).bytes());
  const auto out2 = run();
  ASSERT_EQ(out2.size(), 2u);
  EXPECT_FRAME(out2[1].bytes, to_peer(data, kFirstIpId + 2).df().bytes());
  dp::TransactionIds ids(kTransactionSeed);
  EXPECT_FRAME(out2[0].bytes, to_client(data_indication(ids, kPeerIp, kPeerPort, data), kFirstIpId + 3).bytes());
}

// RFC 8656 §14: an incoming TTL of 0 is discarded, and 1 would leave as 0.
TEST_F(Relay, ExpiringTtlIsDropped) {
  for (uint8_t ttl : {0, 1}) {
    PacketBuilder in = from_client(channel_data(kChannel, text("x")));
    in.ttl(ttl);
    inject(0, in.bytes());
    PacketBuilder peer_in = from_peer(text("y"));
    peer_in.ttl(ttl);
    inject(1, peer_in.bytes());
  }
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_ttl_expired), 4u);
  EXPECT_EQ(count_of(traffic(kAlloc).drops_to_peer, AllocationDrop::other), 2u);
  EXPECT_EQ(count_of(traffic(kAlloc).drops_to_client, AllocationDrop::other), 2u);
}

// RFC 768: a client that sent no checksum gets a real one on the relayed datagram.
TEST_F(Relay, ZeroUdpChecksumFromTheClientGetsAFullChecksum) {
  const Bytes data = pattern(33, 0x80);
  PacketBuilder in = from_client(channel_data(kChannel, data, {0x11, 0x22, 0x33}));
  in.udp_checksum(0);
  inject(0, in.bytes());
  PacketBuilder peer_in = from_peer(data);
  peer_in.udp_checksum(0);
  inject(1, peer_in.bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FRAME(out[1].bytes, to_peer(data, kFirstIpId).bytes());
  EXPECT_FRAME(out[0].bytes, to_client(channel_data(kChannel, data), kFirstIpId + 1).bytes());
}

// The incremental update carries a corrupted datagram's error forward instead of hiding it.
TEST_F(Relay, IncrementalChecksumKeepsAnErrorDetectable) {
  Bytes frame = from_client(channel_data(kChannel, text("payload!"))).bytes();
  frame.back() ^= 0x01;  // corrupted after the client summed it
  inject(0, frame);
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& b = out[0].bytes;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(b.data() + 14);
  EXPECT_NE(rte_ipv4_udptcp_cksum_verify(ip, b.data() + 34), 0);
}

// With TX checksum offload the NIC sums: the worker leaves the IPv4 checksum 0, puts the
// pseudo-header sum in the UDP checksum and describes the headers in the mbuf.
TEST_F(Relay, OffloadLeavesChecksumsToTheNic) {
  GoldenOptions options;
  options.offload = true;
  build(options);
  const Bytes data = pattern(21, 3);
  inject(0, from_client(channel_data(kChannel, data, {9})).bytes());
  inject(1, from_peer(data).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 2u);
  const Bytes expected[2] = {to_client(channel_data(kChannel, data), kFirstIpId + 1).bytes(),
                             to_peer(data, kFirstIpId).bytes()};  // port 0, then port 1
  for (int i = 0; i < 2; ++i) {
    const Sent& s = out[i];
    EXPECT_EQ(s.ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM),
              RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
    EXPECT_EQ(s.l2_len, 14u);
    EXPECT_EQ(s.l3_len, 20u);
    Bytes b = s.bytes;
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(b.data() + 14);
    EXPECT_EQ(ip->hdr_checksum, 0);
    uint16_t udp_sum;
    std::memcpy(&udp_sum, b.data() + 40, 2);
    EXPECT_EQ(udp_sum, rte_ipv4_phdr_cksum(ip, 0));
    // Everything else is the golden frame: fill in what the NIC would and compare.
    Bytes want = expected[i];
    want[24] = want[25] = 0;
    std::memcpy(want.data() + 40, &udp_sum, 2);
    EXPECT_FRAME(b, want);
  }
}

// Hairpin: a client sends to another allocation's relayed address on this server. The data
// never touches the wire between the two; it reaches the other allocation's client as if it had
// come from the first allocation's relayed address.
TEST_F(Relay, HairpinDeliversToTheOtherAllocationsClient) {
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kRelayIp1), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(kAlloc2, *IpAddress::parse(kRelayIp), kExpires), dp::WriteResult::ok);
  const Bytes data = text("both ends of one call");
  inject(0, from_client(send_indication(kRelayIp1, kRelayPort1, data)).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  dp::TransactionIds ids(kTransactionSeed);
  PacketBuilder expected;
  expected.ether(kPort0Mac, kGatewayMac).ipv4(kListenerIp, kRemoteClientIp).ttl(63).id(kFirstIpId)
      .udp(kListenerPort, kRemoteClientPort).payload(data_indication(ids, kRelayIp, kRelayPort, data));
  EXPECT_FRAME(out[0].bytes, expected.bytes());
  EXPECT_EQ(counter(CounterId::hairpin), 1u);
  EXPECT_EQ(traffic(kAlloc).packets_to_peer, 1u);
  EXPECT_EQ(traffic(kAlloc2).packets_to_client, 1u);

  // With a channel on the receiving side the same data arrives as ChannelData.
  ASSERT_EQ(writer().set_channel(kAlloc2, 0x4abc, *TransportAddress::parse("10.90.0.2:50000"), kExpires),
            dp::WriteResult::ok);
  inject(0, from_client(send_indication(kRelayIp1, kRelayPort1, data)).bytes());
  const auto out2 = run();
  ASSERT_EQ(out2.size(), 1u);
  PacketBuilder expected2;
  expected2.ether(kPort0Mac, kGatewayMac).ipv4(kListenerIp, kRemoteClientIp).ttl(63).id(kFirstIpId + 1)
      .udp(kListenerPort, kRemoteClientPort).payload(channel_data(0x4abc, data));
  EXPECT_FRAME(out2[0].bytes, expected2.bytes());

  // The receiving allocation's permissions apply: without one for the sender nothing arrives.
  ASSERT_EQ(writer().remove_permission(kAlloc2, *IpAddress::parse(kRelayIp)), dp::WriteResult::ok);
  inject(0, from_client(send_indication(kRelayIp1, kRelayPort1, data)).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_no_permission), 1u);
  EXPECT_EQ(count_of(traffic(kAlloc2).drops_to_client, AllocationDrop::no_permission), 1u);
  EXPECT_EQ(total(traffic(kAlloc2).drops_to_client), 1u);
  // Counted as a hairpin, and as sent by kAlloc, only what was delivered.
  EXPECT_EQ(counter(CounterId::hairpin), 2u);
  EXPECT_EQ(traffic(kAlloc).packets_to_peer, 2u);
}

// Client data aimed at our own addresses goes nowhere unless it is a live relayed address.
TEST_F(Relay, OwnPortsAreRefused) {
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kListenerIp), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kRelayIp1), kExpires), dp::WriteResult::ok);
  inject(0, from_client(send_indication(kListenerIp, kListenerPort, text("to the listener"))).bytes());
  inject(0, from_client(send_indication(kRelayIp1, 50999, text("to a free relayed port"))).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_denied_own_port), 2u);
  EXPECT_EQ(count_of(traffic(kAlloc).drops_to_peer, AllocationDrop::other), 2u);
}

// limits.max_bps: a bucket a tenth of a second deep, refilled as the TSC moves on (published before
// the allocation: its buckets start full).
TEST_F(Relay, RateLimitPerAllocationAndDirection) {
  ASSERT_EQ(writer().remove_allocation(kAlloc), dp::WriteResult::ok);
  dp::AllocId reclaimed[4];
  ASSERT_EQ(writer().reclaimed(reclaimed), 1u);
  dp::AllocationEntry e;
  e.five_tuple = {*TransportAddress::parse("10.90.0.10:5000"), *TransportAddress::parse("10.90.0.1:3478")};
  e.relayed = *TransportAddress::parse("10.90.0.2:50000");
  e.expires = kExpires;
  // 10,000 bytes/s: 400 bytes cost 40 ms, the bucket holds 100 ms
  ASSERT_TRUE(settings().publish({.software = "", .max_bps = 80'000, .allocation_pps = 0}));
  ASSERT_EQ(writer().add_allocation(kAlloc, e), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_channel(kAlloc, kChannel, *TransportAddress::parse("192.0.2.50:7000"), kExpires),
            dp::WriteResult::ok);
  const Bytes data = pattern(400, 0);
  for (int i = 0; i < 5; ++i) inject(0, from_client(channel_data(kChannel, data)).bytes());
  for (int i = 0; i < 2; ++i) inject(1, from_peer(data).bytes());  // the other direction: its own bucket
  auto out = run();
  EXPECT_EQ(out.size(), 3u + 2u);
  EXPECT_EQ(counter(CounterId::drop_rate_limited), 2u);
  EXPECT_EQ(count_of(traffic(kAlloc).drops_to_peer, AllocationDrop::rate_limited), 2u);
  EXPECT_EQ(total(traffic(kAlloc).drops_to_client), 0u);

  now_.tsc += kTscHz / 20;  // 50 ms later: room for one more 400-byte packet
  for (int i = 0; i < 2; ++i) inject(0, from_client(channel_data(kChannel, data)).bytes());
  out = run();
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(counter(CounterId::drop_rate_limited), 3u);
}

}  // namespace
}  // namespace tern::test
