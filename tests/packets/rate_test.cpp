// limits.allocation_pps in the worker: a packet bucket per allocation and direction beside max_bps's
// byte bucket; each refusal counted by reason (drop_packet_rate_limited) and per allocation
// (rate_limited); the bulk and the scalar paths refuse the same packets; and a new set of worker
// settings (what a reload publishes) reaches live allocations and the next Binding response.

#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::AllocationDrop;
using dp::CounterId;
using dp::count_of;
using dp::total;
using dp::Worker;

constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kXorMappedAddress = 0x0020;
constexpr uint16_t kSoftware = 0x8022;

// 100 packets a second on the golden TSC (1 GHz): 10 ms a packet, a bucket 100 ms deep: a burst of
// ten packets and the one that starts it.
constexpr uint32_t kPps = 100;
constexpr unsigned kBurstPackets = 11;

class Rate : public Golden {
 protected:
  void limit(uint32_t pps, uint64_t bps = 0, std::string software = "") {
    ASSERT_TRUE(settings().publish({.software = std::move(software), .max_bps = bps, .allocation_pps = pps}));
  }
  // kAlloc's client sends n ChannelData messages to its peer.
  void client_sends(unsigned n, uint8_t first = 0) {
    for (unsigned i = 0; i < n; ++i)
      inject(0, from_client(channel_data(kChannel, pattern(20, static_cast<uint8_t>(first + i)))).bytes());
  }
  std::vector<Sent> run_all(Worker::Mode mode = Worker::Mode::bulk) {
    std::vector<Sent> out;
    while (rte_ring_count(rx_[0]) + rte_ring_count(rx_[1]) > 0) {
      auto sent = run(mode);
      out.insert(out.end(), sent.begin(), sent.end());
    }
    return out;
  }
};

TEST_F(Rate, PacketRateBurstThenRefill) {
  limit(kPps);
  client_sends(20);
  auto out = run_all();
  ASSERT_EQ(out.size(), kBurstPackets);
  // The first packets go out unchanged, in order.
  for (unsigned i = 0; i < kBurstPackets; ++i)
    EXPECT_FRAME(out[i].bytes, to_peer(pattern(20, static_cast<uint8_t>(i)), static_cast<uint16_t>(kFirstIpId + i)).bytes());
  EXPECT_EQ(counter(CounterId::drop_packet_rate_limited), 20u - kBurstPackets);
  EXPECT_EQ(counter(CounterId::drop_rate_limited), 0u);
  EXPECT_EQ(count_of(traffic(kAlloc).drops_to_peer, AllocationDrop::rate_limited), 20u - kBurstPackets);
  EXPECT_EQ(total(traffic(kAlloc).drops_to_peer), 20u - kBurstPackets);
  EXPECT_EQ(traffic(kAlloc).packets_to_peer, kBurstPackets);

  // The other direction has its own bucket.
  for (int i = 0; i < 3; ++i) inject(1, from_peer(pattern(30, static_cast<uint8_t>(i))).bytes());
  EXPECT_EQ(run_all().size(), 3u);
  EXPECT_EQ(total(traffic(kAlloc).drops_to_client), 0u);

  // 50 ms later: room for five more.
  now_.tsc += kTscHz / 20;
  client_sends(8, 100);
  EXPECT_EQ(run_all().size(), 5u);
  EXPECT_EQ(counter(CounterId::drop_packet_rate_limited), 20u - kBurstPackets + 3u);
}

// One allocation over its rate costs another allocation nothing: the buckets are per allocation.
TEST_F(Rate, OneAllocationsFloodLeavesTheOthersAlone) {
  limit(kPps);
  ASSERT_EQ(writer().set_permission(kAlloc2, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
  for (unsigned round = 0; round < 4; ++round) {
    client_sends(30, static_cast<uint8_t>(round * 30));  // kAlloc: 120 packets in 150 ms
    PacketBuilder victim;  // kAlloc2: two packets a round from its peer
    victim.ether(kPeerMac, kPort1Mac).ipv4(kPeerIp, kRelayIp1).udp(kPeerPort, kRelayPort1).payload(pattern(40));
    inject(1, victim.bytes());
    inject(1, victim.bytes());
    run_all();
    now_.tsc += kTscHz / 20;
  }
  EXPECT_EQ(traffic(kAlloc2).packets_to_client, 8u);
  EXPECT_EQ(total(traffic(kAlloc2).drops_to_client), 0u);
  // kAlloc: the first burst, then five a round.
  EXPECT_EQ(traffic(kAlloc).packets_to_peer, kBurstPackets + 3u * 5u);
  EXPECT_EQ(count_of(traffic(kAlloc).drops_to_peer, AllocationDrop::rate_limited), 120u - (kBurstPackets + 15u));
  EXPECT_EQ(counter(CounterId::drop_packet_rate_limited), 120u - (kBurstPackets + 15u));
}

// The same input refused the same way on both paths, byte for byte: a mix of both directions and
// of both allocations, with both rates on.
TEST_F(Rate, BulkAndScalarRefuseTheSamePackets) {
  struct Outcome {
    std::vector<Sent> sent;
    dp::CounterValues counters{};
    dp::AllocationTrafficValues traffic[2];
  };
  auto scenario = [&](Worker::Mode mode) {
    build(GoldenOptions{});
    limit(kPps, 8 * 1500);  // and 1,500 bytes a second: 150 bytes of burst and the first packet
    EXPECT_EQ(writer().set_permission(kAlloc2, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
    Outcome o;
    for (unsigned round = 0; round < 3; ++round) {
      std::vector<Bytes> port0;
      std::vector<Bytes> port1;
      for (unsigned i = 0; i < 24; ++i) {
        const size_t len = (i % 3 == 0) ? 80 : 8;  // some spend the byte bucket first
        port0.push_back(from_client(channel_data(kChannel, pattern(len, static_cast<uint8_t>(i)))).bytes());
        port1.push_back(from_peer(pattern(12, static_cast<uint8_t>(i))).bytes());
        PacketBuilder to2;
        to2.ether(kPeerMac, kPort1Mac).ipv4(kPeerIp, kRelayIp1).udp(kPeerPort, kRelayPort1).payload(pattern(9, static_cast<uint8_t>(i)));
        if (i % 4 == 0) port1.push_back(to2.bytes());
      }
      inject(0, port0);
      inject(1, port1);
      while (rte_ring_count(rx_[0]) + rte_ring_count(rx_[1]) > 0) {
        auto sent = run(mode);
        o.sent.insert(o.sent.end(), sent.begin(), sent.end());
      }
      now_.tsc += kTscHz / 25;
    }
    dp::accumulate(o.counters, worker_->counters());
    o.traffic[0] = traffic(kAlloc);
    o.traffic[1] = traffic(kAlloc2);
    return o;
  };
  const Outcome bulk = scenario(Worker::Mode::bulk);
  const Outcome scalar = scenario(Worker::Mode::scalar);
  ASSERT_EQ(bulk.sent.size(), scalar.sent.size());
  for (size_t i = 0; i < bulk.sent.size(); ++i) {
    EXPECT_EQ(bulk.sent[i].port, scalar.sent[i].port) << i;
    EXPECT_FRAME(bulk.sent[i].bytes, scalar.sent[i].bytes) << i;
  }
  for (size_t i = 0; i < dp::kCounterCount; ++i)
    EXPECT_EQ(bulk.counters[i], scalar.counters[i]) << dp::counter_name(static_cast<dp::CounterId>(i));
  for (int a = 0; a < 2; ++a) {
    EXPECT_EQ(bulk.traffic[a].drops_to_peer, scalar.traffic[a].drops_to_peer);
    EXPECT_EQ(bulk.traffic[a].drops_to_client, scalar.traffic[a].drops_to_client);
    EXPECT_EQ(bulk.traffic[a].packets_to_peer, scalar.traffic[a].packets_to_peer);
    EXPECT_EQ(bulk.traffic[a].packets_to_client, scalar.traffic[a].packets_to_client);
  }
  // Both reasons were exercised, and something went through.
  EXPECT_GT(bulk.counters[static_cast<size_t>(CounterId::drop_packet_rate_limited)], 0u);
  EXPECT_GT(bulk.counters[static_cast<size_t>(CounterId::drop_rate_limited)], 0u);
  EXPECT_GT(bulk.sent.size(), 2u * kBurstPackets);
}

// A reload's new rates apply to a live allocation from the next burst on, both ways: tightened,
// then lifted.
TEST_F(Rate, NewSettingsReachLiveAllocations) {
  client_sends(30);
  EXPECT_EQ(run_all().size(), 30u);  // the golden default: no limits
  limit(kPps);
  now_.tsc += kTscHz;
  client_sends(30, 30);
  EXPECT_EQ(run_all().size(), kBurstPackets);
  EXPECT_EQ(counter(CounterId::drop_packet_rate_limited), 30u - kBurstPackets);
  limit(0);
  client_sends(30, 60);
  EXPECT_EQ(run_all().size(), 30u);
  EXPECT_EQ(counter(CounterId::drop_packet_rate_limited), 30u - kBurstPackets);
}

// RFC 8489 §14.14: the SOFTWARE of the set in force goes into the next Binding response.
TEST_F(Rate, NewSoftwareInTheNextBindingResponse) {
  auto binding = [&](uint8_t id, std::string_view software) {
    inject(0, from_client(StunBuilder(kBindingRequest, transaction_id(id)).bytes()).bytes());
    const auto out = run();
    ASSERT_EQ(out.size(), 1u);
    StunBuilder response(kBindingSuccess, transaction_id(id));
    response.xor_address(kXorMappedAddress, kClientIp, kClientPort);
    if (!software.empty()) response.attribute(kSoftware, text(software));
    PacketBuilder expected;
    expected.ether(kPort0Mac, kClientMac).ipv4(kListenerIp, kClientIp).udp(kListenerPort, kClientPort)
        .payload(response.bytes());  // IPv4 Identification: one per response sent
    EXPECT_FRAME(out[0].bytes, expected.id(static_cast<uint16_t>(kFirstIpId + id - 1)).bytes());
  };
  binding(1, "");
  limit(0, 0, "tern 2.0");
  binding(2, "tern 2.0");
  limit(0, 0, "tern 2.1 (odd length)");
  binding(3, "tern 2.1 (odd length)");
  limit(0, 0, "");
  binding(4, "");
}

}  // namespace
}  // namespace tern::test
