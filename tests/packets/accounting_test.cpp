// The workers' packet accounting closes. Each worker counter carries its role in the accounting
// (dataplane/contract/counters.hpp, CounterRole), and the identities are sums over those roles,
// never a list of counter names kept here:
//
//   received           = relayed + answered + handed_over + dropped
//   relayed + answered = sent + held + lost + peer data taken off the stream rings
//   share              <= relayed
//
// Each test runs golden packets of every kind through the real worker (relayed both ways and
// hairpinned, answered, punted, handed to the kernel, waiting for a next hop, dropped for many
// reasons; the bulk and the scalar loop; traced and not), then under pressure (a full TX queue,
// hold ring, punt ring and stream ring), and checks that the identities hold and that the roles
// it meant to exercise moved, so a counter counted twice or not at all fails here.

#include <rte_ring.h>

#include <sstream>

#include "dataplane/worker/stream_meta.hpp"
#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::CounterId;
using dp::CounterRole;
using dp::sum_of;

constexpr uint16_t kSend = 0x0016;
constexpr uint16_t kAllocate = 0x0003;
constexpr uint16_t kBindingRequest = 0x0001;
constexpr std::string_view kNewPeerIp = "192.0.2.60";  // on-link on port 1, MAC unknown: held

// A TCP client of the TLS listener with an allocation relayed on kRelayIp (streams only).
constexpr dp::AllocId kStreamAlloc{20};
constexpr dp::StreamId kStream{5};
constexpr uint16_t kStreamRelayPort = 50002;
constexpr uint16_t kStreamChannel = 0x4002;

Bytes send_to(std::string_view ip, uint16_t port, const Bytes& data) {
  return StunBuilder(kSend, transaction_id(2)).xor_address(0x0012, ip, port).attribute(0x0013, data).bytes();
}


class Accounting : public Golden {
 protected:
  dp::CounterValues values() const {
    dp::CounterValues v{};
    dp::accumulate(v, worker_->counters());
    return v;
  }

  uint64_t role(CounterRole r) const { return sum_of(values(), r); }

  static std::string nonzero(const dp::CounterValues& v) {
    std::ostringstream out;
    for (size_t i = 0; i < dp::kCounterCount; ++i)
      if (v[i] != 0) out << dp::kCounterNames[i] << "=" << v[i] << " ";
    return out.str();
  }

  // `stream_delivered`: peer data the test took off the to_stream ring (the stream transport's
  // part of the second identity).
  void expect_closes(uint64_t stream_delivered = 0) const {
    const dp::CounterValues v = values();
    const uint64_t received = sum_of(v, CounterRole::received);
    const uint64_t relayed = sum_of(v, CounterRole::relayed);
    const uint64_t answered = sum_of(v, CounterRole::answered);
    const uint64_t ended = relayed + answered + sum_of(v, CounterRole::handed_over) + sum_of(v, CounterRole::dropped);
    EXPECT_GT(received, 0u);
    EXPECT_EQ(received, ended) << "every frame received ends once: " << nonzero(v);
    const uint64_t left = sum_of(v, CounterRole::sent) + sum_of(v, CounterRole::held) +
                          sum_of(v, CounterRole::lost) + stream_delivered;
    EXPECT_EQ(relayed + answered, left) << "every frame relayed or answered leaves once: " << nonzero(v);
    EXPECT_LE(sum_of(v, CounterRole::share), relayed) << nonzero(v);
  }

  // Everything on worker 0's to_stream ring, freed; the number taken.
  uint64_t take_to_stream() {
    uint64_t n = 0;
    void* obj;
    while (rte_ring_dequeue(dp_->to_stream_rings()[0], &obj) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
      ++n;
    }
    return n;
  }
  void drain_exception_ring() {
    void* obj;
    while (rte_ring_dequeue(dp_->exception_rings()[0], &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  }
  void drain_punt_ring() {
    std::vector<dp::PuntedMessage> out(64);
    size_t n;
    while ((n = control_->receive_at(out, kNow)) > 0)
      for (size_t i = 0; i < n; ++i) control_->release(out[i].handle);
  }

  // One of everything a worker does with a frame, and several reasons to drop one.
  void inject_mix() {
    const Bytes hello = text("hello");
    ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kRelayIp1), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(writer().set_permission(kAlloc2, *IpAddress::parse(kRelayIp), kExpires), dp::WriteResult::ok);
    ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kNewPeerIp), kExpires), dp::WriteResult::ok);
    // Relayed: client -> peer (ChannelData, Send), peer -> client (ChannelData, Data indication).
    inject(0, from_client(channel_data(kChannel, hello)).bytes());
    inject(0, from_client(send_to(kPeerIp, kPeerPort, hello)).bytes());
    inject(1, from_peer(hello).bytes());
    {
      PacketBuilder b = from_peer(hello);
      b.udp(kPeerPort + 1, kRelayPort);  // no channel to this port: a Data indication
      inject(1, b.bytes());
    }
    // Hairpin: kAlloc's client to kAlloc2's relayed address.
    inject(0, from_client(send_to(kRelayIp1, kRelayPort1, hello)).bytes());
    // Held: a peer whose MAC is not known yet.
    inject(0, from_client(send_to(kNewPeerIp, 9, hello)).bytes());
    // Answered: Binding, ICMP echo, ARP from a known neighbour.
    inject(0, from_client(StunBuilder(kBindingRequest, transaction_id(1)).bytes()).bytes());
    {
      PacketBuilder echo;
      echo.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).icmp(8, 0, 0x1234, 1).payload(pattern(16));
      inject(0, echo.bytes());
      PacketBuilder arp;
      arp.ether(kClientMac, kBroadcast).arp(1, kClientMac, kClientIp, kZeroMac, kListenerIp);
      inject(0, arp.bytes());
    }
    // Handed over: an Allocate, and ARP from a neighbour not known yet.
    inject(0, from_client(StunBuilder(kAllocate, transaction_id(3)).bytes()).bytes());
    {
      const Mac stranger = Mac::of("02:00:00:00:00:33");
      PacketBuilder arp;
      arp.ether(stranger, kBroadcast).arp(1, stranger, "10.90.0.33", kZeroMac, kListenerIp);
      inject(0, arp.bytes());
    }
    // Dropped, for several reasons.
    inject(0, Bytes(10, 0));
    {
      PacketBuilder b = from_client(channel_data(kChannel, hello));
      b.ipv4(kClientIp, "10.90.0.99");
      inject(0, b.bytes());
      b = from_client(channel_data(kChannel, hello));
      b.udp(kClientPort, 9999);
      inject(0, b.bytes());
      b = from_client(channel_data(kChannel, hello));
      b.udp(kClientPort + 1, kListenerPort);
      inject(0, b.bytes());
    }
    inject(0, from_client({0x80, 0x60, 0, 1, 0, 0, 0, 0}).bytes());
    inject(0, from_client(channel_data(0x4002, hello)).bytes());
    inject(0, from_client(send_to("192.0.2.99", 1, hello)).bytes());
    inject(1, from_peer(hello, 50555).bytes());
  }

  // The roles a mix moves: all but `lost`, which needs pressure.
  void expect_mix_moved() const {
    for (const CounterRole r : {CounterRole::received, CounterRole::relayed, CounterRole::answered,
                                CounterRole::handed_over, CounterRole::dropped, CounterRole::sent,
                                CounterRole::held, CounterRole::share, CounterRole::measure})
      EXPECT_GT(role(r), 0u) << "role " << static_cast<int>(r) << " did not move: " << nonzero(values());
    EXPECT_EQ(counter(CounterId::hairpin), 1u);
    EXPECT_EQ(counter(CounterId::neighbour_wait), 1u);
    EXPECT_EQ(counter(CounterId::punted), 2u);
  }
};

// Every role is a role of some counter, and every counter's role is one of them.
TEST(CounterRoles, EveryRoleIsUsed) {
  for (const CounterRole r : {CounterRole::received, CounterRole::relayed, CounterRole::answered,
                              CounterRole::handed_over, CounterRole::dropped, CounterRole::sent, CounterRole::held,
                              CounterRole::lost, CounterRole::share, CounterRole::measure}) {
    bool used = false;
    for (const CounterRole c : dp::kCounterRoles) used |= c == r;
    EXPECT_TRUE(used) << static_cast<int>(r);
  }
  EXPECT_TRUE(dp::drop_roles_match_names());
  EXPECT_EQ(dp::counter_role(CounterId::rx_packets), CounterRole::received);
  EXPECT_EQ(dp::counter_role(CounterId::drop_tx_full), CounterRole::lost);
}

TEST_F(Accounting, MixClosesInBothLoops) {
  for (const auto mode : {dp::Worker::Mode::bulk, dp::Worker::Mode::scalar}) {
    SCOPED_TRACE(mode == dp::Worker::Mode::bulk ? "bulk" : "scalar");
    build(GoldenOptions{});
    inject_mix();
    EXPECT_FALSE(run(mode).empty());
    expect_closes();
    expect_mix_moved();
    drain_punt_ring();
  }
}

// ternctl trace finishes packets through another path (trace.cpp): the same counts.
TEST_F(Accounting, MixClosesWhileTraced) {
  trace_->set_trace(IpAddress::parse(kClientIp));
  inject_mix();
  EXPECT_FALSE(run().empty());
  expect_closes();
  expect_mix_moved();
  EXPECT_GT(counter(CounterId::trace_records), 0u);
  trace_->set_trace(std::nullopt);
  drain_punt_ring();
}

// Answers a TX queue did not take are lost after they were counted answered.
TEST_F(Accounting, FullTxQueueCloses) {
  for (int i = 0; i < 300; ++i)
    inject(0, from_client(StunBuilder(kBindingRequest, transaction_id(static_cast<uint8_t>(i))).bytes()).bytes());
  for (int i = 0; i < 10; ++i) worker_->poll(now_);
  EXPECT_GT(counter(CounterId::drop_tx_full), 0u);
  expect_closes();
  drain_tx();
}

// Relayed packets the hold ring did not take are lost after they were counted relayed.
TEST_F(Accounting, FullHoldRingCloses) {
  GoldenOptions options;
  options.hold_ring_size = 16;
  build(options);
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kNewPeerIp), kExpires), dp::WriteResult::ok);
  for (int i = 0; i < 20; ++i) inject(0, from_client(send_to(kNewPeerIp, 9, text("x"))).bytes());
  run();
  EXPECT_GT(counter(CounterId::drop_hold_ring_full), 0u);
  EXPECT_GT(counter(CounterId::neighbour_wait), 0u);
  expect_closes();
}

// Punts the ring did not take end dropped, never punted.
TEST_F(Accounting, FullPuntRingCloses) {
  GoldenOptions options;
  options.punt_ring_size = 8;
  build(options);
  for (int i = 0; i < 20; ++i)
    inject(0, from_client(StunBuilder(kAllocate, transaction_id(static_cast<uint8_t>(i))).bytes()).bytes());
  run();
  EXPECT_GT(counter(CounterId::drop_punt_ring_full), 0u);
  expect_closes();
  drain_punt_ring();
}

// TCP and TLS clients: segments for a listener handed to the kernel, a stream client's messages
// received off its ring and relayed, peer data for it onto the to_stream ring (and lost when full).
TEST_F(Accounting, StreamsClose) {
  GoldenOptions options;
  options.streams = true;
  options.stream_ring_size = 4;  // three entries
  build(options);
  dp::AllocationEntry e;
  e.five_tuple = {*TransportAddress::parse("10.90.0.10:40000"), *TransportAddress::parse("10.90.0.1:443"),
                  dp::Transport::tcp};
  e.stream = kStream;
  e.relayed = *TransportAddress::parse("10.90.0.2:50002");
  e.expires = kExpires;
  ASSERT_EQ(writer().add_allocation(kStreamAlloc, e), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(kStreamAlloc, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_channel(kStreamAlloc, kStreamChannel, *TransportAddress::parse("192.0.2.50:7000"), kExpires),
            dp::WriteResult::ok);

  PacketBuilder syn;
  syn.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).protocol(6).payload(tcp_syn(40000, kTlsPort));
  inject(0, syn.bytes());
  for (int i = 0; i < 6; ++i) inject(1, from_peer(pattern(8), kStreamRelayPort).bytes());
  for (const Bytes& message : {channel_data(kStreamChannel, pattern(4)), channel_data(kStreamChannel, pattern(4))}) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(message.size())), message.data(), message.size());
    dp::stream_meta(m, dp_->stream_offset()) = {kStreamAlloc, kStream};
    ASSERT_EQ(rte_ring_enqueue(dp_->from_stream_rings()[0], m), 0);
  }
  run();
  const uint64_t delivered = take_to_stream();
  EXPECT_EQ(delivered, 3u);
  EXPECT_EQ(counter(CounterId::drop_stream_ring_full), 3u);
  EXPECT_EQ(counter(CounterId::to_kernel), 1u);
  EXPECT_EQ(counter(CounterId::channel_data_to_peer), 2u);
  expect_closes(delivered);
  drain_exception_ring();
}

}  // namespace
}  // namespace tern::test
