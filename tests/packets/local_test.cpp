// Golden packets for what a worker answers itself: ARP for our addresses (from known
// neighbours), ICMP echo, STUN Binding requests with and without FINGERPRINT and SOFTWARE.

#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::CounterId;

constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kXorMappedAddress = 0x0020;
constexpr uint16_t kSoftware = 0x8022;

using Local = Golden;

// RFC 826: a known neighbour asking for one of the port's addresses is answered by the worker.
TEST_F(Local, ArpRequestFromAKnownNeighbourIsAnswered) {
  PacketBuilder request;
  request.ether(kClientMac, kBroadcast).arp(1, kClientMac, kClientIp, kZeroMac, kRelayIp);
  inject(0, request.bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 0u);
  EXPECT_EQ(out[0].queue, 0u);
  PacketBuilder reply;
  reply.ether(kPort0Mac, kClientMac).arp(2, kPort0Mac, kRelayIp, kClientMac, kClientIp);
  EXPECT_FRAME(out[0].bytes, reply.bytes());
  EXPECT_EQ(counter(CounterId::arp_answered), 1u);
}

// An address of another port is not this port's to answer for; ARP about strangers is ignored.
TEST_F(Local, ArpForOtherPortsAndStrangersIsIgnored) {
  PacketBuilder other_port;
  other_port.ether(kClientMac, kBroadcast).arp(1, kClientMac, kClientIp, kZeroMac, kRelayIp1);
  PacketBuilder stranger;
  stranger.ether(Mac::of("02:00:00:00:00:77"), kBroadcast)
      .arp(1, Mac::of("02:00:00:00:00:77"), "10.90.0.77", kZeroMac, "10.90.0.78");
  inject(0, {other_port.bytes(), stranger.bytes()});
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_arp_ignored), 2u);
}

// RFC 792: echo reply from the address pinged, same identifier, sequence and data; the ICMP
// checksum updated, a fresh IPv4 header (options dropped).
TEST_F(Local, IcmpEchoIsAnswered) {
  const Bytes data = pattern(19, 0x61);
  for (bool options : {false, true}) {
    PacketBuilder request;
    request.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kRelayIp).ttl(7).icmp(8, 0, 0x1234, 9).payload(data);
    if (options) request.ip_options({0x01, 0x01, 0x01, 0x00});  // NOPs, end of list
    inject(0, request.bytes());
  }
  const auto out = run();
  ASSERT_EQ(out.size(), 2u);
  for (uint16_t i = 0; i < 2; ++i) {
    PacketBuilder reply;
    reply.ether(kPort0Mac, kClientMac).ipv4(kRelayIp, kClientIp).id(static_cast<uint16_t>(kFirstIpId + i))
        .icmp(0, 0, 0x1234, 9).payload(data);
    EXPECT_FRAME(out[i].bytes, reply.bytes());
  }
  EXPECT_EQ(counter(CounterId::icmp_answered), 2u);
}

// RFC 8489: a Binding success response: same transaction, XOR-MAPPED-ADDRESS of the source.
TEST_F(Local, BindingRequestIsAnswered) {
  inject(0, from_client(StunBuilder(kBindingRequest, transaction_id(5)).bytes()).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  const Bytes response = StunBuilder(kBindingSuccess, transaction_id(5))
                             .xor_address(kXorMappedAddress, kClientIp, kClientPort)
                             .bytes();
  PacketBuilder expected;
  expected.ether(kPort0Mac, kClientMac).ipv4(kListenerIp, kClientIp).id(kFirstIpId)
      .udp(kListenerPort, kClientPort).payload(response);
  EXPECT_FRAME(out[0].bytes, expected.bytes());
  EXPECT_EQ(counter(CounterId::binding_answered), 1u);
}

// RFC 8489 §14.7: a request with FINGERPRINT gets one back; SOFTWARE (§14.14) when configured;
// comprehension-optional attributes in the request are ignored.
TEST_F(Local, BindingWithFingerprintAndSoftware) {
  GoldenOptions options;
  options.software = "tern 0.1";
  build(options);
  const Bytes request = StunBuilder(kBindingRequest, transaction_id(6))
                            .attribute(kSoftware, text("some client"))
                            .attribute(0x8055, pattern(3, 1))
                            .fingerprint()
                            .bytes();
  PacketBuilder in;
  in.ether(kGatewayMac, kPort0Mac).ipv4(kRemoteClientIp, kListenerIp).udp(kRemoteClientPort, kListenerPort)
      .payload(request).trailer(Bytes(6, 0));  // Ethernet padding is not part of the datagram
  inject(0, in.bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  const Bytes response = StunBuilder(kBindingSuccess, transaction_id(6))
                             .xor_address(kXorMappedAddress, kRemoteClientIp, kRemoteClientPort)
                             .attribute(kSoftware, text("tern 0.1"))
                             .fingerprint()
                             .bytes();
  PacketBuilder expected;
  expected.ether(kPort0Mac, kGatewayMac).ipv4(kListenerIp, kRemoteClientIp).id(kFirstIpId)
      .udp(kListenerPort, kRemoteClientPort).payload(response);
  EXPECT_FRAME(out[0].bytes, expected.bytes());
}

// A Binding request whose FINGERPRINT does not match is not a STUN message (RFC 8489 §7.3).
TEST_F(Local, BindingWithAWrongFingerprintIsDropped) {
  Bytes request = StunBuilder(kBindingRequest, transaction_id(7)).fingerprint().bytes();
  request.back() ^= 0xff;
  inject(0, from_client(request).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_bad_fingerprint), 1u);
}

// With offload the Binding response's checksums are the NIC's.
TEST_F(Local, BindingResponseWithOffload) {
  GoldenOptions options;
  options.offload = true;
  build(options);
  inject(0, from_client(StunBuilder(kBindingRequest, transaction_id(8)).bytes()).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].ol_flags & RTE_MBUF_F_TX_UDP_CKSUM);
  EXPECT_EQ(out[0].l2_len, 14u);
  EXPECT_EQ(out[0].l3_len, 20u);
}

}  // namespace
}  // namespace tern::test
