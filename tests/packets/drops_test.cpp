// Every reason a worker drops a packet has its own counter: one frame per reason, nothing sent,
// exactly that counter moved.

#include <rte_ring.h>

#include "dataplane/worker/punt.hpp"
#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::AllocationDrop;
using dp::CounterId;
using dp::count_of;
using dp::total;

constexpr uint16_t kSend = 0x0016;
constexpr uint16_t kBindingRequest = 0x0001;

struct Case {
  const char* what;
  unsigned port;
  Bytes frame;
  CounterId counter;
};

using Drops = Golden;

Bytes send_to(std::string_view ip, uint16_t port, const Bytes& data) {
  return StunBuilder(kSend, transaction_id(2)).xor_address(0x0012, ip, port).attribute(0x0013, data).bytes();
}

TEST_F(Drops, EveryReasonHasItsCounter) {
  const Bytes hello = text("hello");
  PacketBuilder client = from_client(channel_data(kChannel, hello));
  std::vector<Case> cases;

  cases.push_back({"runt frame", 0, Bytes(10, 0), CounterId::drop_malformed});
  {
    PacketBuilder b = client;
    b.ip_total_length(400);
    cases.push_back({"IPv4 longer than the frame", 0, b.bytes(), CounterId::drop_malformed});
  }
  {
    PacketBuilder b = client;
    b.udp_length(200);
    cases.push_back({"UDP longer than IPv4", 0, b.bytes(), CounterId::drop_malformed});
  }
  {
    PacketBuilder b;
    b.ether(kClientMac, kPort0Mac, 0x8100).payload(pattern(40));
    cases.push_back({"VLAN-tagged", 0, b.bytes(), CounterId::drop_ethertype});
  }
  {
    PacketBuilder b = client;
    b.ether(kClientMac, Mac::of("02:00:00:00:00:99"));
    cases.push_back({"another host's MAC", 0, b.bytes(), CounterId::drop_not_ours});
  }
  {
    PacketBuilder b = client;
    b.ipv4(kClientIp, "10.90.0.99");
    cases.push_back({"another host's IP", 0, b.bytes(), CounterId::drop_not_ours});
  }
  {
    PacketBuilder b = client;
    b.fragment_field(0x2000);  // MF
    cases.push_back({"first fragment", 0, b.bytes(), CounterId::drop_fragment});
    b.fragment_field(0x0010);
    cases.push_back({"later fragment", 0, b.bytes(), CounterId::drop_fragment});
  }
  {
    PacketBuilder b = client;
    b.ip_checksum(0x1234);
    cases.push_back({"IPv4 header checksum", 0, b.bytes(), CounterId::drop_bad_checksum});
  }
  {
    PacketBuilder b = from_client(StunBuilder(kBindingRequest, transaction_id(1)).bytes());
    b.udp_checksum(0x4321);
    cases.push_back({"UDP checksum of a Binding request", 0, b.bytes(), CounterId::drop_bad_checksum});
  }
  {
    PacketBuilder b = client;
    b.protocol(6);
    cases.push_back({"TCP to us", 0, b.bytes(), CounterId::drop_protocol});
  }
  {
    PacketBuilder b;
    b.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).icmp(3, 3, 0, 0).payload(pattern(28));
    cases.push_back({"ICMP unreachable", 0, b.bytes(), CounterId::drop_icmp});
  }
  {
    PacketBuilder b = client;
    b.udp(kClientPort, 9999);
    cases.push_back({"UDP to a closed port", 0, b.bytes(), CounterId::drop_closed_port});
  }
  cases.push_back({"RTP on the listener", 0, from_client({0x80, 0x60, 0, 1, 0, 0, 0, 0}).bytes(),
                   CounterId::drop_not_stun});
  cases.push_back({"three bytes", 0, from_client({0, 1, 0}).bytes(), CounterId::drop_not_stun});
  {
    Bytes b = StunBuilder(kBindingRequest, transaction_id(1)).bytes();
    b[4] ^= 1;  // magic cookie
    cases.push_back({"no magic cookie", 0, from_client(b).bytes(), CounterId::drop_not_stun});
  }
  {
    Bytes b = StunBuilder(kBindingRequest, transaction_id(1)).attribute(0x8022, text("abcd")).bytes();
    b[3] = 4;  // header length shorter than the message
    cases.push_back({"STUN length", 0, from_client(b).bytes(), CounterId::drop_stun_malformed});
  }
  {
    Bytes b = send_to(kPeerIp, kPeerPort, hello);
    b[20 + 12 + 3] = 200;  // DATA length past the end
    cases.push_back({"attribute overrun", 0, from_client(b).bytes(), CounterId::drop_stun_malformed});
  }
  {
    const Bytes b = StunBuilder(kSend, transaction_id(1)).xor_address(0x0012, kPeerIp, kPeerPort).bytes();
    cases.push_back({"Send without DATA", 0, from_client(b).bytes(), CounterId::drop_stun_malformed});
  }
  {
    Bytes b = StunBuilder(kSend, transaction_id(1))
                  .xor_address(0x0012, kPeerIp, kPeerPort).attribute(0x0013, hello).fingerprint().bytes();
    b.back() ^= 1;
    cases.push_back({"Send with a bad FINGERPRINT", 0, from_client(b).bytes(), CounterId::drop_bad_fingerprint});
  }
  {
    const Bytes b = StunBuilder(kSend, transaction_id(1))
                        .xor_address(0x0012, kPeerIp, kPeerPort).attribute(0x0013, hello)
                        .attribute(0x0030, pattern(4)).bytes();
    cases.push_back({"unknown comprehension-required", 0, from_client(b).bytes(),
                     CounterId::drop_unknown_attribute});
  }
  {
    Bytes v6(20, 0);
    v6[1] = 2;
    const Bytes b = StunBuilder(kSend, transaction_id(1)).attribute(0x0012, v6).attribute(0x0013, hello).bytes();
    cases.push_back({"IPv6 peer", 0, from_client(b).bytes(), CounterId::drop_unsupported_family});
  }
  {
    PacketBuilder b = client;
    b.udp(kClientPort + 1, kListenerPort);
    cases.push_back({"ChannelData without an allocation", 0, b.bytes(), CounterId::drop_no_allocation});
    PacketBuilder s = from_client(send_to(kPeerIp, kPeerPort, hello));
    s.udp(kClientPort + 1, kListenerPort);
    cases.push_back({"Send without an allocation", 0, s.bytes(), CounterId::drop_no_allocation});
  }
  cases.push_back({"peer data to a free relayed port", 1, from_peer(hello, 50555).bytes(),
                   CounterId::drop_no_relay});
  cases.push_back({"channel above 0x4FFF", 0, from_client(channel_data(0x7fff, hello)).bytes(),
                   CounterId::drop_bad_channel});
  cases.push_back({"unbound channel", 0, from_client(channel_data(0x4002, hello)).bytes(),
                   CounterId::drop_unbound_channel});
  cases.push_back({"Send to a peer without permission", 0,
                   from_client(send_to("192.0.2.99", 1, hello)).bytes(), CounterId::drop_no_permission});
  {
    PacketBuilder b = from_peer(hello);
    b.ipv4("192.0.2.51", kRelayIp);
    cases.push_back({"peer without permission", 1, b.bytes(), CounterId::drop_no_permission});
  }
  {
    // Fills the buffer: the Data indication's padding would run past its end.
    PacketBuilder b = from_peer(pattern(RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM - 42 - 1));
    b.ipv4(kFarPeerIp, kRelayIp).ether(kGatewayMac, kPort0Mac).udp(kFarPeerPort, kRelayPort);
    cases.push_back({"no room for the Data indication", 0, b.bytes(), CounterId::drop_too_big});
  }

  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const uint64_t before = counter(c.counter);
    dp::CounterValues all_before{};
    dp::accumulate(all_before, worker_->counters());
    inject(c.port, c.frame);
    EXPECT_TRUE(run().empty());
    EXPECT_EQ(counter(c.counter), before + 1);
    // Nothing else moved but the receive counters.
    dp::CounterValues all_after{};
    dp::accumulate(all_after, worker_->counters());
    for (size_t i = 0; i < dp::kCounterCount; ++i) {
      const auto id = static_cast<CounterId>(i);
      if (id == c.counter || id == CounterId::rx_packets || id == CounterId::rx_bytes) continue;
      EXPECT_EQ(all_after[i], all_before[i]) << dp::counter_name(id);
    }
  }
}

TEST_F(Drops, SegmentedMbuf) {
  const Bytes frame = from_client(channel_data(kChannel, text("split"))).bytes();
  rte_mbuf* head = rte_pktmbuf_alloc(pool_);
  rte_mbuf* tail = rte_pktmbuf_alloc(pool_);
  ASSERT_TRUE(head && tail);
  std::memcpy(rte_pktmbuf_append(head, 30), frame.data(), 30);
  std::memcpy(rte_pktmbuf_append(tail, static_cast<uint16_t>(frame.size() - 30)), frame.data() + 30,
              frame.size() - 30);
  ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
  ASSERT_EQ(rte_ring_enqueue(rx_[0], head), 0);
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_segmented), 1u);
}

TEST_F(Drops, ExpiredAllocationBothDirections) {
  ASSERT_EQ(writer().set_allocation_expiry(kAlloc, kNow), dp::WriteResult::ok);
  inject(0, from_client(channel_data(kChannel, text("late"))).bytes());
  inject(1, from_peer(text("late")).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_expired), 2u);
  EXPECT_EQ(count_of(traffic(kAlloc).drops_to_peer, AllocationDrop::expired), 1u);
  EXPECT_EQ(count_of(traffic(kAlloc).drops_to_client, AllocationDrop::expired), 1u);
  EXPECT_EQ(total(traffic(kAlloc).drops_to_peer), 1u);
}

TEST_F(Drops, NoRouteWithoutAGateway) {
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse("192.168.77.1"), kExpires), dp::WriteResult::ok);
  // Rebuild the interfaces without port 0's gateway, everything else alike.
  dp::InterfacesConfig ic;
  dp::PortConfig p0;
  p0.port_id = port_ids_[0];
  p0.mac = kPort0Mac.word();
  p0.addresses = {*InterfaceAddress::parse("10.90.0.1/24"), *InterfaceAddress::parse("10.90.0.2/24")};
  dp::PortConfig p1;
  p1.port_id = port_ids_[1];
  p1.mac = kPort1Mac.word();
  p1.addresses = {*InterfaceAddress::parse("192.0.2.1/24")};
  ic.ports = {p0, p1};
  ic.listeners = {*TransportAddress::parse("10.90.0.1:3478")};
  std::string error;
  auto no_gateway = dp::Interfaces::create(ic, error);
  ASSERT_TRUE(no_gateway) << error;
  *interfaces_ = *no_gateway;  // the worker holds a reference to interfaces_: same object, new value
  inject(0, from_client(send_to("192.168.77.1", 9, text("far away"))).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::drop_no_route), 1u);
}

TEST_F(Drops, TxQueueFull) {
  // 300 Binding requests without anybody draining the TX ring (255 packets fit).
  for (int i = 0; i < 300; ++i)
    inject(0, from_client(StunBuilder(kBindingRequest, transaction_id(static_cast<uint8_t>(i))).bytes()).bytes());
  for (int i = 0; i < 10; ++i) worker_->poll(now_);
  const uint64_t full = counter(CounterId::drop_tx_full);
  EXPECT_EQ(counter(CounterId::tx_packets) + full, 300u);
  EXPECT_EQ(full, 300u - 255u);
  EXPECT_EQ(counter(CounterId::binding_answered), 300u);
}

}  // namespace
}  // namespace tern::test
