// Packets whose next hop has no MAC address yet wait on the control lcore instead of being lost:
// the worker finishes them but for the Ethernet destination and hands them over the hold ring; the
// control lcore asks for the next hop, and sends them on its own TX queue (queue 1) once the ARP
// answer is learnt. Bounded per next hop and in all, dropped after kHoldTime, every drop counted.
// Installing a permission, a channel or an allocation asks for an unknown next hop ahead of the
// traffic.

#include <rte_ring.h>

#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::ControlCounterId;
using dp::CounterId;

constexpr uint16_t kSend = 0x0016;
constexpr uint16_t kControlFirstId = 0x2000;
constexpr std::string_view kNewPeerIp = "192.0.2.60";  // on-link on port 1, MAC unknown
const Mac kNewPeerMac = Mac::of("02:00:00:00:01:60");

Bytes send_to(std::string_view ip, uint16_t port, const Bytes& data) {
  return StunBuilder(kSend, transaction_id(2)).xor_address(0x0012, ip, port).attribute(0x0013, data).bytes();
}

class NeighbourWait : public Golden {
 protected:
  uint64_t control_counter(ControlCounterId id) const {
    return control_->counters()[static_cast<size_t>(id)];
  }
  size_t receive(const dp::Instant& now) {
    std::vector<dp::PuntedMessage> out(16);
    const size_t n = control_->receive_at(out, now);
    for (size_t i = 0; i < n; ++i) control_->release(out[i].handle);
    return n;
  }
  size_t receive(dp::TableTime t = kNow) { return receive(clock_.at(t)); }

  // The Send indication's data as the worker relays it to the new peer, from the n-th packet
  // the worker sent.
  Bytes relayed(const Mac& dst, const Bytes& data, uint16_t n) const {
    PacketBuilder b;
    b.ether(kPort1Mac, dst).ipv4(kRelayIp, kNewPeerIp).ttl(63).id(static_cast<uint16_t>(kFirstIpId + n))
        .udp(kRelayPort, 9).payload(data);
    return b.bytes();
  }
  Bytes who_has(std::string_view ip, unsigned port = 1) const {
    PacketBuilder b;
    if (port == 1)
      b.ether(kPort1Mac, kBroadcast).arp(1, kPort1Mac, kRelayIp1, kZeroMac, ip);
    else
      b.ether(kPort0Mac, kBroadcast).arp(1, kPort0Mac, kListenerIp, kZeroMac, ip);
    return b.bytes();
  }
  Bytes is_at(std::string_view ip, const Mac& mac) const {
    PacketBuilder b;
    b.ether(mac, kPort1Mac).arp(2, mac, ip, kPort1Mac, kRelayIp1);
    return b.bytes();
  }
  void permit_new_peer() {
    ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kNewPeerIp), kExpires), dp::WriteResult::ok);
  }
};

// The worker's half: the packet goes to the hold ring finished, its Ethernet destination zero.
TEST_F(NeighbourWait, WorkerHandsTheFinishedPacketOver) {
  permit_new_peer();
  inject(0, from_client(send_to(kNewPeerIp, 9, text("first"))).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::neighbour_wait), 1u);
  EXPECT_EQ(counter(CounterId::send_to_peer), 1u);
  ASSERT_EQ(rte_ring_count(hold_ring_), 1u);
  void* obj = nullptr;
  ASSERT_EQ(rte_ring_dequeue(hold_ring_, &obj), 0);
  auto* m = static_cast<rte_mbuf*>(obj);
  const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
  EXPECT_FRAME(Bytes(d, d + rte_pktmbuf_data_len(m)), relayed(kZeroMac, text("first"), 0));
  rte_pktmbuf_free(m);
}

// The first packets to a new on-link peer: held, the peer asked for once, and sent in order on
// the control queue as soon as its answer is learnt. Nothing is lost.
TEST_F(NeighbourWait, HeldPacketsLeaveWhenTheAnswerIsLearnt) {
  permit_new_peer();
  for (int i = 0; i < 3; ++i) inject(0, from_client(send_to(kNewPeerIp, 9, text("packet " + std::to_string(i)))).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(receive(), 0u);
  auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);  // one request for three packets
  EXPECT_EQ(out[0].queue, 1u);
  EXPECT_FRAME(out[0].bytes, who_has(kNewPeerIp));
  EXPECT_EQ(control_->held(), 3u);
  EXPECT_EQ(control_counter(ControlCounterId::held), 3u);

  inject(1, is_at(kNewPeerIp, kNewPeerMac));
  EXPECT_TRUE(run().empty());  // the answer is for us: the control lcore learns it
  receive();
  out = drain_tx();
  ASSERT_EQ(out.size(), 3u);
  for (uint16_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].port, 1u);
    EXPECT_EQ(out[i].queue, 1u);
    EXPECT_FRAME(out[i].bytes, relayed(kNewPeerMac, text("packet " + std::to_string(i)), i));
  }
  EXPECT_EQ(control_->held(), 0u);
  EXPECT_EQ(control_counter(ControlCounterId::held_sent), 3u);

  // From now on the worker sends on its own queue.
  inject(0, from_client(send_to(kNewPeerIp, 9, text("direct"))).bytes());
  out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].queue, 0u);
  EXPECT_FRAME(out[0].bytes, relayed(kNewPeerMac, text("direct"), 3));
}

// peer -> client towards a client whose MAC is unknown: the ChannelData waits the same way.
TEST_F(NeighbourWait, PeerDataWaitsForTheClient) {
  dp::AllocationEntry e;
  e.five_tuple = {*TransportAddress::parse("10.90.0.77:5555"), *TransportAddress::parse("10.90.0.1:3478"),
                  dp::Transport::udp};
  e.relayed = *TransportAddress::parse("10.90.0.2:50077");
  e.expires = kExpires;
  ASSERT_EQ(writer().add_allocation(dp::AllocId{30}, e), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(dp::AllocId{30}, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_channel(dp::AllocId{30}, 0x4abc, *TransportAddress::parse("192.0.2.50:7000"), kExpires),
            dp::WriteResult::ok);
  inject(1, from_peer(text("to a new client"), 50077).bytes());
  EXPECT_TRUE(run().empty());
  receive();
  auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FRAME(out[0].bytes, who_has("10.90.0.77", 0));

  const Mac client = Mac::of("02:00:00:00:00:77");
  PacketBuilder answer;
  answer.ether(client, kPort0Mac).arp(2, client, "10.90.0.77", kPort0Mac, kListenerIp);
  inject(0, answer.bytes());
  run();
  receive();
  out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].queue, 1u);
  PacketBuilder expected;
  expected.ether(kPort0Mac, client).ipv4(kListenerIp, "10.90.0.77").ttl(63).id(kFirstIpId)
      .udp(kListenerPort, 5555).payload(channel_data(0x4abc, text("to a new client")));
  EXPECT_FRAME(out[0].bytes, expected.bytes());
  EXPECT_EQ(traffic(dp::AllocId{30}).packets_to_client, 1u);
}

// A neighbour learnt between the worker's look and the control lcore's: sent at once.
TEST_F(NeighbourWait, LearntMeanwhileIsSentAtOnce) {
  permit_new_peer();
  inject(0, from_client(send_to(kNewPeerIp, 9, text("late"))).bytes());
  run();
  neighbours_->learn(1, ip_be(kNewPeerIp), kNewPeerMac.word(), kNow);
  receive();
  const auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FRAME(out[0].bytes, relayed(kNewPeerMac, text("late"), 0));
  EXPECT_EQ(control_counter(ControlCounterId::held_sent), 1u);
  EXPECT_EQ(control_counter(ControlCounterId::arp_requests_sent), 0u);
}

// Nobody answers: asked again the next second while packets wait, dropped after kHoldTime.
TEST_F(NeighbourWait, UnansweredPacketsExpire) {
  permit_new_peer();
  inject(0, from_client(send_to(kNewPeerIp, 9, text("anyone?"))).bytes());
  inject(0, from_client(send_to(kNewPeerIp, 9, text("anyone?"))).bytes());
  run();
  const dp::Instant held_at = clock_.at(kNow);
  receive(held_at);
  EXPECT_EQ(drain_tx().size(), 1u);  // who-has

  receive(dp::Instant{kNow, held_at.tsc + kTscHz / 2});
  EXPECT_EQ(control_->held(), 2u);
  EXPECT_TRUE(drain_tx().empty());
  // At kHoldTime the packets are gone; the second's upkeep had asked once more before.
  receive(dp::Instant{kNow + 1, held_at.tsc + kTscHz});
  EXPECT_EQ(control_->held(), 0u);
  EXPECT_EQ(control_counter(ControlCounterId::held_expired), 2u);
  const auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FRAME(out[0].bytes, who_has(kNewPeerIp));
  // No packet waits: no more questions.
  receive(kNow + 2);
  EXPECT_TRUE(drain_tx().empty());
}

// At most held_per_neighbour wait for one next hop, held_total in all: the rest are dropped and
// counted, and what waits is still delivered.
TEST_F(NeighbourWait, QueuesAreBounded) {
  GoldenOptions options;
  options.hold_ring_size = 256;
  options.held_per_neighbour = 4;
  options.held_total = 6;
  build(options);
  permit_new_peer();
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse("192.0.2.61"), kExpires), dp::WriteResult::ok);
  for (int i = 0; i < 6; ++i) inject(0, from_client(send_to(kNewPeerIp, 9, text("a" + std::to_string(i)))).bytes());
  for (int i = 0; i < 3; ++i) inject(0, from_client(send_to("192.0.2.61", 9, text("b"))).bytes());
  run();
  EXPECT_EQ(counter(CounterId::neighbour_wait), 9u);
  receive();
  EXPECT_EQ(control_->held(), 6u);  // 4 for .60 (2 over its bound), 2 for .61 (1 over the total)
  EXPECT_EQ(control_counter(ControlCounterId::held_overflow), 3u);
  drain_tx();

  inject(1, is_at(kNewPeerIp, kNewPeerMac));
  run();
  receive();
  const auto out = drain_tx();
  ASSERT_EQ(out.size(), 4u);
  for (uint16_t i = 0; i < 4; ++i) EXPECT_FRAME(out[i].bytes, relayed(kNewPeerMac, text("a" + std::to_string(i)), i));
  EXPECT_EQ(control_->held(), 2u);  // .61's, still waiting (freed by the fixture at the end)
}

// The worker never waits on a full hold ring: the packet is dropped and counted.
TEST_F(NeighbourWait, FullHoldRingDrops) {
  GoldenOptions options;
  options.hold_ring_size = 16;  // holds 15
  build(options);
  permit_new_peer();
  for (int i = 0; i < 20; ++i) inject(0, from_client(send_to(kNewPeerIp, 9, text("x"))).bytes());
  run();
  EXPECT_EQ(counter(CounterId::neighbour_wait), 15u);
  EXPECT_EQ(counter(CounterId::drop_hold_ring_full), 5u);
}

// A datagram of the control plane's own to an unresolved destination waits like relayed data.
TEST_F(NeighbourWait, ControlDatagramsWaitToo) {
  EXPECT_EQ(control_->send(*TransportAddress::parse("10.90.0.2:50000"),
                           *TransportAddress::parse("192.0.2.60:9"), text("ours")),
            dp::SendResult::sent);
  auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FRAME(out[0].bytes, who_has(kNewPeerIp));
  inject(1, is_at(kNewPeerIp, kNewPeerMac));
  run();
  receive(clock_.now());  // send() held it on the running clock
  out = drain_tx();
  // (Should the running clock have turned a second meanwhile, the upkeep asked once more.)
  std::erase_if(out, [](const Sent& s) { return s.bytes[12] == 0x08 && s.bytes[13] == 0x06; });
  ASSERT_EQ(out.size(), 1u);
  PacketBuilder expected;
  expected.ether(kPort1Mac, kNewPeerMac).ipv4(kRelayIp, kNewPeerIp).id(kControlFirstId).udp(kRelayPort, 9).payload(text("ours"));
  EXPECT_FRAME(out[0].bytes, expected.bytes());
}

// The control plane's writer asks for a new peer's next hop the moment the permission is
// installed, and for a new client's; never for a known one or our own address.
TEST_F(NeighbourWait, InstallingAPermissionResolvesAhead) {
  ASSERT_EQ(priming_writer().set_permission(kAlloc, *IpAddress::parse(kNewPeerIp), kExpires), dp::WriteResult::ok);
  auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].queue, 1u);
  EXPECT_FRAME(out[0].bytes, who_has(kNewPeerIp));
  EXPECT_EQ(control_counter(ControlCounterId::resolutions_primed), 1u);

  ASSERT_EQ(priming_writer().set_permission(kAlloc, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(priming_writer().set_permission(kAlloc, *IpAddress::parse(kRelayIp1), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(priming_writer().set_permission(kAlloc, *IpAddress::parse(kFarPeerIp), kExpires), dp::WriteResult::ok);
  EXPECT_TRUE(drain_tx().empty());

  ASSERT_EQ(priming_writer().set_channel(kAlloc, 0x4003, *TransportAddress::parse("192.0.2.62:9"), kExpires),
            dp::WriteResult::ok);
  out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FRAME(out[0].bytes, who_has("192.0.2.62"));

  dp::AllocationEntry e;
  e.five_tuple = {*TransportAddress::parse("10.90.0.78:5555"), *TransportAddress::parse("10.90.0.1:3478"),
                  dp::Transport::udp};
  e.relayed = *TransportAddress::parse("10.90.0.2:50078");
  e.expires = kExpires;
  ASSERT_EQ(priming_writer().add_allocation(dp::AllocId{31}, e), dp::WriteResult::ok);
  out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 0u);
  EXPECT_FRAME(out[0].bytes, who_has("10.90.0.78", 0));
  EXPECT_EQ(control_counter(ControlCounterId::resolutions_primed), 3u);
  // A refused write resolves nothing.
  EXPECT_EQ(priming_writer().set_permission(dp::AllocId{999}, *IpAddress::parse("192.0.2.63"), kExpires),
            dp::WriteResult::not_found);
  EXPECT_TRUE(drain_tx().empty());
}

}  // namespace
}  // namespace tern::test
