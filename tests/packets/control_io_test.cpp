// The control lcore's side (ControlIo over DPDK): punted messages received with their 5-tuple,
// replies and datagrams leaving on the control TX queue (queue 1) with the right headers, and the
// neighbour upkeep: learning, answering, refreshing, forgetting (resolving, with the packets that
// wait for it: neighbour_wait_test.cpp).

#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::ControlCounterId;
using dp::CounterId;

constexpr uint16_t kControlFirstId = 0x2000;

class ControlIo : public Golden {
 protected:
  uint64_t control_counter(ControlCounterId id) const {
    return control_->counters()[static_cast<size_t>(id)];
  }
  size_t receive(std::vector<dp::PuntedMessage>& out, dp::TableTime now = kNow) {
    out.resize(16);
    const size_t n = control_->receive_at(out, now);
    out.resize(n);
    return n;
  }
};

TEST_F(ControlIo, PuntedRequestIsReceivedAndAnswered) {
  const Bytes allocate = StunBuilder(0x0003, transaction_id(1)).attribute(0x0019, {17, 0, 0, 0}).bytes();
  inject(0, from_client(allocate).bytes());
  EXPECT_TRUE(run().empty());

  std::vector<dp::PuntedMessage> got;
  ASSERT_EQ(receive(got), 1u);
  const dp::PuntedMessage& m = got[0];
  EXPECT_EQ(m.five_tuple.client, *TransportAddress::parse("10.90.0.10:5000"));
  EXPECT_EQ(m.five_tuple.server, *TransportAddress::parse("10.90.0.1:3478"));
  EXPECT_EQ(m.five_tuple.transport, dp::Transport::udp);
  EXPECT_EQ(Bytes(m.message.begin(), m.message.end()), allocate);
  EXPECT_EQ(m.reason, dp::PuntReason::stun_request);
  EXPECT_EQ(m.port, port_ids_[0]);
  EXPECT_EQ(m.worker, 0u);

  const Bytes answer = StunBuilder(0x0113, transaction_id(1)).attribute(0x0009, {0, 0, 4, 1}).bytes();
  EXPECT_EQ(control_->reply(m, answer), dp::SendResult::sent);
  control_->release(m.handle);
  const auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 0u);
  EXPECT_EQ(out[0].queue, 1u);  // the control lcore's own queue
  PacketBuilder expected;
  expected.ether(kPort0Mac, kClientMac).ipv4(kListenerIp, kClientIp).id(kControlFirstId)
      .udp(kListenerPort, kClientPort).payload(answer);
  EXPECT_FRAME(out[0].bytes, expected.bytes());
  EXPECT_EQ(control_counter(ControlCounterId::replies_sent), 1u);
}

TEST_F(ControlIo, DatagramsOfItsOwnAreRouted) {
  const Bytes payload = text("from the control plane");
  EXPECT_EQ(control_->send(*TransportAddress::parse("10.90.0.2:50000"),
                           *TransportAddress::parse("192.0.2.50:7000"), payload),
            dp::SendResult::sent);
  EXPECT_EQ(control_->send(*TransportAddress::parse("10.90.0.1:3478"),
                           *TransportAddress::parse("203.0.113.9:8000"), payload),
            dp::SendResult::sent);
  EXPECT_EQ(control_->send(*TransportAddress::parse("10.90.0.77:1"),
                           *TransportAddress::parse("192.0.2.50:7000"), payload),
            dp::SendResult::not_local);
  const auto out = drain_tx();
  ASSERT_EQ(out.size(), 2u);
  PacketBuilder via_gateway;
  via_gateway.ether(kPort0Mac, kGatewayMac).ipv4(kListenerIp, kFarPeerIp).id(kControlFirstId + 1)
      .udp(kListenerPort, kFarPeerPort).payload(payload);
  PacketBuilder on_link;
  on_link.ether(kPort1Mac, kPeerMac).ipv4(kRelayIp, kPeerIp).id(kControlFirstId)
      .udp(kRelayPort, kPeerPort).payload(payload);
  EXPECT_EQ(out[0].queue, 1u);
  EXPECT_FRAME(out[0].bytes, via_gateway.bytes());
  EXPECT_FRAME(out[1].bytes, on_link.bytes());
}

// A stranger asking for our address: the worker punts, the control lcore learns and answers;
// from then on the worker answers that neighbour itself.
TEST_F(ControlIo, ArpFromANewNeighbourIsLearntAndAnswered) {
  const Mac mac = Mac::of("02:00:00:00:00:42");
  PacketBuilder request;
  request.ether(mac, kBroadcast).arp(1, mac, "10.90.0.42", kZeroMac, kListenerIp);
  inject(0, request.bytes());
  EXPECT_TRUE(run().empty());
  std::vector<dp::PuntedMessage> got;
  EXPECT_EQ(receive(got), 0u);  // ARP stays inside the data plane
  uint64_t learnt = 0;
  ASSERT_TRUE(neighbours_->find(0, ip_be("10.90.0.42"), learnt));
  EXPECT_EQ(learnt, mac.word());
  PacketBuilder reply;
  reply.ether(kPort0Mac, mac).arp(2, kPort0Mac, kListenerIp, mac, "10.90.0.42");
  auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].queue, 1u);
  EXPECT_FRAME(out[0].bytes, reply.bytes());
  EXPECT_EQ(control_counter(ControlCounterId::arp_learned), 1u);

  inject(0, request.bytes());
  out = run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].queue, 0u);  // the worker's
  EXPECT_FRAME(out[0].bytes, reply.bytes());
}

// RFC 1122 §2.3.2.1: a neighbour not heard from is asked again (unicast), then forgotten.
TEST_F(ControlIo, SilentNeighboursAreRefreshedThenForgotten) {
  std::vector<dp::PuntedMessage> got;
  receive(got, kNow + dp::kNeighbourStale - 1);
  EXPECT_TRUE(drain_tx().empty());
  receive(got, kNow + dp::kNeighbourStale);
  const auto out = drain_tx();
  ASSERT_EQ(out.size(), 3u);  // the client, the gateway, the peer
  PacketBuilder probe;
  probe.ether(kPort1Mac, kPeerMac).arp(1, kPort1Mac, kRelayIp1, kZeroMac, kPeerIp);
  EXPECT_FRAME(out[2].bytes, probe.bytes());

  // The peer answers; the others stay silent and are forgotten.
  PacketBuilder is_at;
  is_at.ether(kPeerMac, kPort1Mac).arp(2, kPeerMac, kPeerIp, kPort1Mac, kRelayIp1);
  inject(1, is_at.bytes());
  run();
  receive(got, kNow + dp::kNeighbourStale + 1);
  drain_tx();
  receive(got, kNow + dp::kNeighbourStale + dp::kNeighbourProbeTime);
  drain_tx();
  uint64_t mac;
  EXPECT_TRUE(neighbours_->find(1, ip_be(kPeerIp), mac));
  EXPECT_FALSE(neighbours_->find(0, ip_be(kClientIp), mac));
  EXPECT_FALSE(neighbours_->find(0, ip_be(kGatewayIp), mac));
  EXPECT_EQ(control_counter(ControlCounterId::neighbours_forgotten), 2u);

  // A forgotten neighbour can be learnt again.
  PacketBuilder back;
  back.ether(kClientMac, kBroadcast).arp(1, kClientMac, kClientIp, kZeroMac, kListenerIp);
  inject(0, back.bytes());
  run();
  receive(got, kNow + 70);
  drain_tx();
  EXPECT_TRUE(neighbours_->find(0, ip_be(kClientIp), mac));
}

}  // namespace
}  // namespace tern::test
