// The bulk path (classify a group, one bulk lookup, prefetch, finish) and the scalar reference
// path produce the same packets, counters and punts, byte for byte, on the same mixed input.

#include <rte_ring.h>

#include "dataplane/worker/punt.hpp"
#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::Worker;

struct Outcome {
  std::vector<Sent> sent;
  std::vector<Bytes> punted;
  dp::CounterValues counters{};
  dp::AllocationTrafficValues traffic[2];
};

class BulkScalar : public Golden {
 protected:
  // A bit of everything, on both ports, in an order that mixes lookups within each group.
  void inject_mix() {
    ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kRelayIp1), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(writer().set_permission(kAlloc2, *IpAddress::parse(kRelayIp), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(writer().set_permission(kAlloc2, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
    std::vector<Bytes> port0;
    std::vector<Bytes> port1;
    for (int round = 0; round < 6; ++round) {
      const Bytes data = pattern(static_cast<size_t>(round * 7 + 1), static_cast<uint8_t>(round));
      port0.push_back(from_client(channel_data(kChannel, data, Bytes(static_cast<size_t>(round % 4), 0x55))).bytes());
      port0.push_back(from_client(StunBuilder(0x0016, transaction_id(static_cast<uint8_t>(round)))
                                      .xor_address(0x0012, round % 2 ? kFarPeerIp : kRelayIp1,
                                                   round % 2 ? kFarPeerPort : kRelayPort1)
                                      .attribute(0x0013, data).bytes()).bytes());
      port0.push_back(from_client(StunBuilder(0x0001, transaction_id(static_cast<uint8_t>(round))).bytes()).bytes());
      port0.push_back(from_client(StunBuilder(0x0003, transaction_id(static_cast<uint8_t>(round))).bytes()).bytes());
      PacketBuilder unknown = from_client(channel_data(kChannel, data));
      unknown.udp(static_cast<uint16_t>(kClientPort + 1 + round), kListenerPort);
      port0.push_back(unknown.bytes());
      PacketBuilder far;
      far.ether(kGatewayMac, kPort0Mac).ipv4(kFarPeerIp, kRelayIp).udp(kFarPeerPort, kRelayPort).payload(data);
      port0.push_back(far.bytes());
      PacketBuilder ping;
      ping.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).icmp(8, 0, 1, static_cast<uint16_t>(round)).payload(data);
      port0.push_back(ping.bytes());

      port1.push_back(from_peer(data).bytes());
      port1.push_back(from_peer(data, kRelayPort + 7).bytes());  // no allocation
      PacketBuilder to2;
      to2.ether(kPeerMac, kPort1Mac).ipv4(kPeerIp, kRelayIp1).udp(kPeerPort, kRelayPort1).payload(data);
      port1.push_back(to2.bytes());
      PacketBuilder arp;
      arp.ether(kPeerMac, kBroadcast).arp(1, kPeerMac, kPeerIp, kZeroMac, kRelayIp1);
      port1.push_back(arp.bytes());
    }
    inject(0, port0);  // 42 frames: a burst of 32 (two groups) and a tail of 10
    inject(1, port1);  // 24 frames
  }

  Outcome run_all(Worker::Mode mode) {
    Outcome o;
    while (rte_ring_count(rx_[0]) + rte_ring_count(rx_[1]) > 0) {
      auto sent = run(mode);
      o.sent.insert(o.sent.end(), sent.begin(), sent.end());
    }
    void* obj;
    while (rte_ring_dequeue(punt_ring_, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
      o.punted.emplace_back(d, d + rte_pktmbuf_data_len(m));
      rte_pktmbuf_free(m);
    }
    dp::accumulate(o.counters, worker_->counters());
    o.traffic[0] = traffic(kAlloc);
    o.traffic[1] = traffic(kAlloc2);
    return o;
  }
};

TEST_F(BulkScalar, SameInputSameOutput) {
  inject_mix();
  const Outcome bulk = run_all(Worker::Mode::bulk);
  build(GoldenOptions{});
  inject_mix();
  const Outcome scalar = run_all(Worker::Mode::scalar);

  ASSERT_EQ(bulk.sent.size(), scalar.sent.size());
  EXPECT_GT(bulk.sent.size(), 40u);
  for (size_t i = 0; i < bulk.sent.size(); ++i) {
    EXPECT_EQ(bulk.sent[i].port, scalar.sent[i].port) << i;
    EXPECT_EQ(bulk.sent[i].queue, scalar.sent[i].queue) << i;
    EXPECT_FRAME(bulk.sent[i].bytes, scalar.sent[i].bytes) << i;
  }
  EXPECT_EQ(bulk.punted, scalar.punted);
  EXPECT_EQ(bulk.punted.size(), 6u);
  for (size_t i = 0; i < dp::kCounterCount; ++i)
    EXPECT_EQ(bulk.counters[i], scalar.counters[i]) << dp::counter_name(static_cast<dp::CounterId>(i));
  for (int a = 0; a < 2; ++a) {
    EXPECT_EQ(bulk.traffic[a].packets_to_peer, scalar.traffic[a].packets_to_peer);
    EXPECT_EQ(bulk.traffic[a].packets_to_client, scalar.traffic[a].packets_to_client);
    EXPECT_EQ(bulk.traffic[a].bytes_to_peer, scalar.traffic[a].bytes_to_peer);
    EXPECT_EQ(bulk.traffic[a].bytes_to_client, scalar.traffic[a].bytes_to_client);
    EXPECT_EQ(bulk.traffic[a].drops_to_peer, scalar.traffic[a].drops_to_peer);
    EXPECT_EQ(bulk.traffic[a].drops_to_client, scalar.traffic[a].drops_to_client);
  }
  // Every path was exercised.
  using dp::CounterId;
  for (CounterId id : {CounterId::channel_data_to_peer, CounterId::send_to_peer,
                       CounterId::channel_data_to_client, CounterId::data_indication_to_client,
                       CounterId::hairpin, CounterId::binding_answered, CounterId::icmp_answered,
                       CounterId::arp_answered, CounterId::punted, CounterId::drop_no_allocation,
                       CounterId::drop_no_relay})
    EXPECT_GT(bulk.counters[static_cast<size_t>(id)], 0u) << dp::counter_name(id);
}

}  // namespace
}  // namespace tern::test
