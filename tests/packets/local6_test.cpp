// Golden packets for what the data plane answers and decides itself over IPv6: STUN Binding
// (XOR-MAPPED-ADDRESS of an IPv6 address), ICMPv6 echo, neighbour discovery (RFC 4861: answering
// solicitations for our addresses, learning from them and from advertisements, resolving next
// hops with packets waiting), punted requests and the control lcore's replies and datagrams, a
// trace of an IPv6 address.

#include <arpa/inet.h>

#include "tests/packets/golden6.hpp"

namespace tern::test {
namespace {

using dp::ControlCounterId;
using dp::CounterId;

constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kXorMappedAddress = 0x0020;
constexpr uint16_t kSend = 0x0016;
const Mac kNewMac = Mac::of("02:00:00:00:01:60");

Bytes send_to(std::string_view ip, uint16_t port, const Bytes& data) {
  return StunBuilder(kSend, transaction_id(2)).xor_address(0x0012, ip, port).attribute(0x0013, data).bytes();
}

// RFC 4861 §4.3/§4.4: flags, target, a link-layer address option (1 source, 2 target).
Bytes ndp_body(uint32_t flags, std::string_view target, uint8_t option, const Mac& mac) {
  Bytes b = {static_cast<uint8_t>(flags >> 24), static_cast<uint8_t>(flags >> 16),
             static_cast<uint8_t>(flags >> 8), static_cast<uint8_t>(flags)};
  const auto t = ip6_bytes(target);
  b.insert(b.end(), t.begin(), t.end());
  b.push_back(option);
  b.push_back(1);
  b.insert(b.end(), mac.bytes.begin(), mac.bytes.end());
  return b;
}

class Local6 : public Golden6 {
 protected:
  uint64_t control_counter(ControlCounterId id) const {
    return control_->counters()[static_cast<size_t>(id)];
  }
  std::vector<dp::PuntedMessage> receive(dp::TableTime t = kNow) {
    std::vector<dp::PuntedMessage> out(16);
    out.resize(control_->receive_at(out, t));
    return out;
  }
  void release(const std::vector<dp::PuntedMessage>& got) {
    for (const auto& m : got) control_->release(m.handle);
  }
  // A solicitation from `from` (MAC, address) for `target`, to target's solicited-node group.
  Bytes solicitation(const Mac& mac, std::string_view from, std::string_view target) const {
    char group[64];
    const auto t = ip6_bytes(target);
    std::snprintf(group, sizeof group, "ff02::1:ff%02x:%02x%02x", t[13], t[14], t[15]);
    const Mac group_mac = Mac::of("33:33:ff:" + hex2(t[13]) + ":" + hex2(t[14]) + ":" + hex2(t[15]));
    PacketBuilder b;
    b.ether(mac, group_mac).ipv6(from, group).ttl(255).icmp6(135, 0)
        .payload(ndp_body(0, target, 1, mac));
    return b.bytes();
  }
  Bytes advertisement(const Mac& mac, std::string_view from, std::string_view to, const Mac& to_mac) const {
    PacketBuilder b;
    b.ether(mac, to_mac).ipv6(from, to).ttl(255).icmp6(136, 0).payload(ndp_body(0x60000000, from, 2, mac));
    return b.bytes();
  }
  static std::string hex2(uint8_t v) {
    char s[3];
    std::snprintf(s, sizeof s, "%02x", v);
    return s;
  }
};

TEST_F(Local6, BindingRequestIsAnsweredWithAnIpv6MappedAddress) {
  const TransactionId id = transaction_id(7);
  inject(0, from_client6(StunBuilder(kBindingRequest, id).fingerprint().bytes()).bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  const Bytes answer = StunBuilder(kBindingSuccess, id).xor_address(kXorMappedAddress, kClientIp6, kClientPort)
                           .fingerprint().bytes();
  PacketBuilder expected;
  expected.ether(kPort0Mac, kClientMac).ipv6(kListenerIp6, kClientIp6).udp(kListenerPort, kClientPort).payload(answer);
  EXPECT_FRAME(out[0].bytes, expected.bytes());
  EXPECT_EQ(counter(CounterId::binding_answered), 1u);
}

TEST_F(Local6, EchoRequestIsAnswered) {
  PacketBuilder ping;
  ping.ether(kClientMac, kPort0Mac).ipv6(kClientIp6, kRelayIp6).tos(0x20).icmp6(128, 0).payload(pattern(21));
  inject(0, ping.bytes());
  const auto out = run();
  ASSERT_EQ(out.size(), 1u);
  PacketBuilder pong;
  pong.ether(kPort0Mac, kClientMac).ipv6(kRelayIp6, kClientIp6).tos(0x20).icmp6(129, 0).payload(pattern(21));
  EXPECT_FRAME(out[0].bytes, pong.bytes());
  EXPECT_EQ(counter(CounterId::icmp_answered), 1u);
}

// A known neighbour asking for our address is answered by the worker; a new one is learnt and
// answered by the control lcore, and from then on answered by the worker.
TEST_F(Local6, NeighbourSolicitationsAreAnswered) {
  PacketBuilder na;
  na.ether(kPort0Mac, kClientMac).ipv6(kRelayIp6, kClientIp6).ttl(255).icmp6(136, 0)
      .payload(ndp_body(0x60000000, kRelayIp6, 2, kPort0Mac));
  inject(0, solicitation(kClientMac, kClientIp6, kRelayIp6));
  auto out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].queue, 0u);
  EXPECT_FRAME(out[0].bytes, na.bytes());
  EXPECT_EQ(counter(CounterId::ndp_answered), 1u);

  const Mac stranger = Mac::of("02:00:00:00:00:42");
  inject(0, solicitation(stranger, "2001:db8::42", kListenerIp6));
  EXPECT_TRUE(run().empty());
  EXPECT_TRUE(receive().empty());  // neighbour discovery stays inside the data plane
  out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].queue, 1u);
  PacketBuilder answer;
  answer.ether(kPort0Mac, stranger).ipv6(kListenerIp6, "2001:db8::42").ttl(255).icmp6(136, 0)
      .payload(ndp_body(0x60000000, kListenerIp6, 2, kPort0Mac));
  EXPECT_FRAME(out[0].bytes, answer.bytes());
  uint64_t mac = 0;
  EXPECT_TRUE(neighbours_->find(0, ip6("2001:db8::42"), mac));
  EXPECT_EQ(mac, stranger.word());
  EXPECT_EQ(control_counter(ControlCounterId::ndp_learned), 1u);

  inject(0, solicitation(stranger, "2001:db8::42", kListenerIp6));
  out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].queue, 0u);
  // Not for one of our addresses: ignored.
  inject(0, solicitation(stranger, "2001:db8::42", "2001:db8::99"));
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_arp_ignored), 1u);
}

// RFC 4862 §5.4.3 / RFC 4861 §7.2.4: a host checking whether our address is free (a solicitation
// from ::) is told it is taken: an advertisement to all nodes, not solicited, nothing learnt.
TEST_F(Local6, DuplicateAddressDetectionIsAnswered) {
  const Mac newcomer = Mac::of("02:00:00:00:00:43");
  Bytes body = ndp_body(0, kListenerIp6, 1, newcomer);
  body.resize(20);  // from :: a solicitation carries no link-layer address option
  PacketBuilder dad;
  dad.ether(newcomer, Mac::of("33:33:ff:00:00:01")).ipv6("::", "ff02::1:ff00:1").ttl(255).icmp6(135, 0).payload(body);
  inject(0, dad.bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_TRUE(receive().empty());
  const auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  PacketBuilder defended;
  defended.ether(kPort0Mac, Mac::of("33:33:00:00:00:01")).ipv6(kListenerIp6, "ff02::1").ttl(255).icmp6(136, 0)
      .payload(ndp_body(0x20000000, kListenerIp6, 2, kPort0Mac));
  EXPECT_FRAME(out[0].bytes, defended.bytes());
  EXPECT_EQ(control_counter(ControlCounterId::ndp_learned), 0u);
}

// Packets to an unresolved IPv6 next hop wait; the control lcore solicits it (to its
// solicited-node group, from our address on its subnet) and sends them when it answers.
TEST_F(Local6, PacketsWaitForNeighbourDiscovery) {
  ASSERT_EQ(writer().set_permission(kAlloc6, *IpAddress::parse("2001:db8:1::60"), kExpires), dp::WriteResult::ok);
  inject(0, from_client6(send_to("2001:db8:1::60", 9, text("first"))).bytes());
  inject(0, from_client6(send_to("2001:db8:1::60", 9, text("second"))).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::neighbour_wait), 2u);
  release(receive());
  auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  PacketBuilder ns;
  ns.ether(kPort1Mac, Mac::of("33:33:ff:00:00:60")).ipv6(kRelayIp6b, "ff02::1:ff00:60").ttl(255)
      .icmp6(135, 0).payload(ndp_body(0, "2001:db8:1::60", 1, kPort1Mac));
  EXPECT_FRAME(out[0].bytes, ns.bytes());
  EXPECT_EQ(control_counter(ControlCounterId::ndp_solicitations_sent), 1u);

  inject(1, advertisement(kNewMac, "2001:db8:1::60", kRelayIp6b, kPort1Mac));
  EXPECT_TRUE(run().empty());
  release(receive());
  out = drain_tx();
  ASSERT_EQ(out.size(), 2u);
  for (unsigned i = 0; i < 2; ++i) {
    PacketBuilder expected;
    expected.ether(kPort1Mac, kNewMac).ipv6(kRelayIp6b, "2001:db8:1::60").ttl(63).udp(kRelayPort6, 9)
        .payload(text(i == 0 ? "first" : "second"));
    EXPECT_EQ(out[i].queue, 1u);
    EXPECT_FRAME(out[i].bytes, expected.bytes());
  }
  EXPECT_EQ(control_counter(ControlCounterId::held_sent), 2u);
  EXPECT_EQ(control_->held(), 0u);
  // An advertisement nobody asked for, about nobody we know, teaches nothing.
  inject(1, advertisement(Mac::of("02:00:00:00:01:61"), "2001:db8:1::61", "ff02::1", Mac::of("33:33:00:00:00:01")));
  run();
  uint64_t mac = 0;
  EXPECT_FALSE(neighbours_->find(1, ip6("2001:db8:1::61"), mac));
}

// A new IPv6 peer's next hop is solicited as soon as its permission is installed.
TEST_F(Local6, InstallingAPermissionSolicitsAhead) {
  ASSERT_EQ(priming_writer().set_permission(kAlloc6, *IpAddress::parse("2001:db8:1::60"), kExpires),
            dp::WriteResult::ok);
  const auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes[12], 0x86);
  EXPECT_EQ(control_counter(ControlCounterId::resolutions_primed), 1u);
}

// A punted request over IPv6 reaches the control plane with its IPv6 5-tuple; the reply and a
// datagram of the control plane's own leave as IPv6 on the control queue.
TEST_F(Local6, PuntsRepliesAndDatagrams) {
  const Bytes allocate = StunBuilder(0x0003, transaction_id(1)).attribute(0x0019, {17, 0, 0, 0}).bytes();
  inject(0, from_client6(allocate).bytes());
  EXPECT_TRUE(run().empty());
  const auto got = receive();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].five_tuple.client, *TransportAddress::parse("[2001:db8::10]:5000"));
  EXPECT_EQ(got[0].five_tuple.server, *TransportAddress::parse("[2001:db8::1]:3478"));
  EXPECT_EQ(Bytes(got[0].message.begin(), got[0].message.end()), allocate);
  const Bytes answer = StunBuilder(0x0113, transaction_id(1)).attribute(0x0009, {0, 0, 4, 1}).bytes();
  EXPECT_EQ(control_->reply(got[0], answer), dp::SendResult::sent);
  release(got);
  auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].queue, 1u);
  PacketBuilder expected;
  expected.ether(kPort0Mac, kClientMac).ipv6(kListenerIp6, kClientIp6).udp(kListenerPort, kClientPort).payload(answer);
  EXPECT_FRAME(out[0].bytes, expected.bytes());

  EXPECT_EQ(control_->send(*TransportAddress::parse("[2001:db8:1::1]:50010"),
                           *TransportAddress::parse("[2001:db8:99::9]:8000"), text("ours")),
            dp::SendResult::sent);
  EXPECT_EQ(control_->send(*TransportAddress::parse("10.90.0.1:3478"),
                           *TransportAddress::parse("[2001:db8:99::9]:8000"), text("ours")),
            dp::SendResult::unsupported);
  out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  PacketBuilder datagram;
  datagram.ether(kPort0Mac, kGatewayMac).ipv6(kRelayIp6b, kFarPeerIp6).udp(kRelayPort6, kFarPeerPort).payload(text("ours"));
  EXPECT_FRAME(out[0].bytes, datagram.bytes());
}

TEST_F(Local6, TraceOfAnIpv6Peer) {
  trace_->set_trace(IpAddress::parse(kPeerIp6));
  inject(0, from_client6(channel_data(kChannel, text("to the peer"))).bytes());
  inject(0, from_client6(send_to("2001:db8:1::99", 1, text("elsewhere"))).bytes());
  inject(1, from_peer6(text("from the peer")).bytes());
  EXPECT_EQ(run().size(), 2u);
  std::vector<dp::TraceRecord> r(8);
  r.resize(trace_->read_trace(r));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(dp::to_string(r[0]),
            "worker 0 channel_data [2001:db8::10]:5000 -> [2001:db8::1]:3478: relayed to "
            "[2001:db8:1::50]:7000 [allocation 11, channel 0x4001]");
  EXPECT_EQ(r[1].packet, dp::TracePacket::peer_data);
  EXPECT_EQ(r[1].next, *TransportAddress::parse("[2001:db8::10]:5000"));
}

}  // namespace
}  // namespace tern::test
