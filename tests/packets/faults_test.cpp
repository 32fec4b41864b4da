// Pressure and recovery: a full punt ring, full TX queues (the worker's and the control lcore's),
// an exhausted packet pool. Each is a counted drop; the worker keeps going; once the pressure
// ends everything works again; and not one packet buffer is lost on the way (the pool's use
// returns to where it was; the fixture checks every buffer is back at the end of each test).

#include <rte_mempool.h>
#include <rte_ring.h>

#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::ControlCounterId;
using dp::CounterId;

constexpr uint16_t kAllocate = 0x0003;
constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kSend = 0x0016;

Bytes send_to(std::string_view ip, uint16_t port, const Bytes& data) {
  return StunBuilder(kSend, transaction_id(2)).xor_address(0x0012, ip, port).attribute(0x0013, data).bytes();
}

class Faults : public Golden {
 protected:
  uint64_t control_counter(ControlCounterId id) const {
    return control_->counters()[static_cast<size_t>(id)];
  }
  size_t receive_all(dp::TableTime t = kNow) {
    std::vector<dp::PuntedMessage> out(64);
    const size_t n = control_->receive_at(out, t);
    for (size_t i = 0; i < n; ++i) control_->release(out[i].handle);
    return n;
  }
  unsigned in_use() const { return rte_mempool_in_use_count(pool_); }
  // Takes every buffer the pool has left.
  std::vector<rte_mbuf*> exhaust() {
    std::vector<rte_mbuf*> taken;
    while (rte_mbuf* m = rte_pktmbuf_alloc(pool_)) taken.push_back(m);
    return taken;
  }
  static void give_back(std::vector<rte_mbuf*>& taken) {
    for (rte_mbuf* m : taken) rte_pktmbuf_free(m);
    taken.clear();
  }
};

TEST_F(Faults, FullPuntRingRecovers) {
  GoldenOptions options;
  options.punt_ring_size = 8;  // seven fit
  build(options);
  for (int i = 0; i < 20; ++i)
    inject(0, from_client(StunBuilder(kAllocate, transaction_id(static_cast<uint8_t>(i))).bytes()).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::punted), 7u);
  EXPECT_EQ(counter(CounterId::drop_punt_ring_full), 13u);
  // Meanwhile the relay goes on.
  inject(0, from_client(channel_data(kChannel, text("still relayed"))).bytes());
  EXPECT_EQ(run().size(), 1u);

  EXPECT_EQ(receive_all(), 7u);
  EXPECT_EQ(in_use(), 0u);
  for (int i = 0; i < 5; ++i)
    inject(0, from_client(StunBuilder(kAllocate, transaction_id(static_cast<uint8_t>(i))).bytes()).bytes());
  run();
  EXPECT_EQ(counter(CounterId::punted), 12u);
  EXPECT_EQ(counter(CounterId::drop_punt_ring_full), 13u);
  EXPECT_EQ(receive_all(), 5u);
}

TEST_F(Faults, FullTxQueueRecovers) {
  // 300 Binding requests and nobody draining the worker's TX ring (255 fit).
  for (int i = 0; i < 300; ++i)
    inject(0, from_client(StunBuilder(kBindingRequest, transaction_id(static_cast<uint8_t>(i))).bytes()).bytes());
  for (int i = 0; i < 10; ++i) worker_->poll(now_);
  EXPECT_EQ(counter(CounterId::drop_tx_full), 45u);
  EXPECT_EQ(in_use(), 255u);  // exactly what the ring holds
  EXPECT_EQ(drain_tx().size(), 255u);
  EXPECT_EQ(in_use(), 0u);
  inject(0, from_client(channel_data(kChannel, text("after"))).bytes());
  EXPECT_EQ(run().size(), 1u);
  EXPECT_EQ(counter(CounterId::drop_tx_full), 45u);
}

// The control lcore's TX queue full: replies, its own datagrams and waiting packets are dropped
// and counted, never kept; then it sends again.
TEST_F(Faults, FullControlTxQueueRecovers) {
  const TransportAddress from = *TransportAddress::parse("10.90.0.2:50000");
  const TransportAddress to = *TransportAddress::parse("192.0.2.50:7000");
  unsigned sent = 0;
  for (int i = 0; i < 300; ++i) sent += control_->send(from, to, text("x")) == dp::SendResult::sent;
  EXPECT_EQ(sent, 255u);
  EXPECT_EQ(control_counter(ControlCounterId::tx_full), 45u);
  EXPECT_EQ(control_->send(from, to, text("x")), dp::SendResult::tx_full);

  // A packet waiting for a next hop whose answer comes while the queue is full: dropped, counted.
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse("192.0.2.60"), kExpires), dp::WriteResult::ok);
  inject(0, from_client(send_to("192.0.2.60", 9, text("waits"))).bytes());
  worker_->poll(now_);
  receive_all();  // held; the who-has finds the queue full as well
  EXPECT_EQ(control_->held(), 1u);
  const Mac mac = Mac::of("02:00:00:00:01:60");
  PacketBuilder is_at;
  is_at.ether(mac, kPort1Mac).arp(2, mac, "192.0.2.60", kPort1Mac, kRelayIp1);
  inject(1, is_at.bytes());
  worker_->poll(now_);
  receive_all();
  EXPECT_EQ(control_->held(), 0u);
  EXPECT_EQ(control_counter(ControlCounterId::tx_full), 48u);  // one more datagram, who-has, the held one
  EXPECT_EQ(control_counter(ControlCounterId::held_sent), 0u);

  drain_tx();
  EXPECT_EQ(in_use(), 0u);
  EXPECT_EQ(control_->send(from, to, text("again")), dp::SendResult::sent);
  EXPECT_EQ(drain_tx().size(), 1u);
}

// An empty pool: frames already received are relayed, answered, punted and dropped as ever (the
// worker allocates nothing); what the control lcore has to build (replies, its datagrams, ARP
// requests) fails and is counted; waiting packets expire. Buffers back: all works again.
TEST_F(Faults, ExhaustedPoolRecovers) {
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse("192.0.2.60"), kExpires), dp::WriteResult::ok);
  inject(0, from_client(channel_data(kChannel, text("relayed"))).bytes());
  inject(0, from_client(StunBuilder(kBindingRequest, transaction_id(1)).bytes()).bytes());
  inject(0, from_client(StunBuilder(kAllocate, transaction_id(2)).bytes()).bytes());
  inject(0, from_client(channel_data(0x4999, text("dropped"))).bytes());
  inject(0, from_client(send_to("192.0.2.60", 9, text("waits"))).bytes());
  std::vector<rte_mbuf*> taken = exhaust();
  ASSERT_FALSE(taken.empty());

  EXPECT_EQ(run().size(), 2u);
  EXPECT_EQ(counter(CounterId::drop_unbound_channel), 1u);
  // What the worker sent or dropped went back to the pool: take that too.
  for (rte_mbuf* m : exhaust()) taken.push_back(m);
  std::vector<dp::PuntedMessage> punted(4);
  ASSERT_EQ(control_->receive_at(punted, kNow), 1u);
  EXPECT_EQ(control_->reply(punted[0], text("answer")), dp::SendResult::no_buffer);
  EXPECT_EQ(control_->send(*TransportAddress::parse("10.90.0.1:3478"),
                           *TransportAddress::parse("192.0.2.50:7000"), text("x")),
            dp::SendResult::no_buffer);
  control_->release(punted[0].handle);
  for (rte_mbuf* m : exhaust()) taken.push_back(m);
  EXPECT_EQ(control_->held(), 1u);
  EXPECT_EQ(control_counter(ControlCounterId::mempool_empty), 3u);  // who-has, reply, datagram
  EXPECT_TRUE(drain_tx().empty());
  receive_all(kNow + 1);  // asked again: still no buffer; then the wait is over
  EXPECT_EQ(control_counter(ControlCounterId::held_expired), 1u);
  EXPECT_EQ(control_counter(ControlCounterId::mempool_empty), 4u);

  give_back(taken);
  EXPECT_EQ(in_use(), 0u);
  inject(0, from_client(send_to("192.0.2.60", 9, text("waits again"))).bytes());
  run();
  receive_all(kNow + 2);
  const auto out = drain_tx();
  ASSERT_EQ(out.size(), 1u);  // who-has, this time
  EXPECT_EQ(control_->held(), 1u);
}

// Every path a frame can take, under a pool with nothing to spare, leaves the pool as it was.
TEST_F(Faults, NoPathLosesABuffer) {
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse("192.0.2.60"), kExpires), dp::WriteResult::ok);
  const Mac stranger = Mac::of("02:00:00:00:00:42");
  PacketBuilder arp_stranger;
  arp_stranger.ether(stranger, kBroadcast).arp(1, stranger, "10.90.0.42", kZeroMac, kListenerIp);
  PacketBuilder arp_known;
  arp_known.ether(kClientMac, kBroadcast).arp(1, kClientMac, kClientIp, kZeroMac, kListenerIp);
  PacketBuilder ping;
  ping.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).protocol(1).icmp(8, 0, 1, 1).payload(text("ping"));
  PacketBuilder bad_checksum = from_client(channel_data(kChannel, text("x")));
  bad_checksum.ip_checksum(1);
  const std::vector<Bytes> frames = {
      from_client(channel_data(kChannel, text("relayed"))).bytes(),
      from_client(send_to(kPeerIp, kPeerPort, text("send"))).bytes(),
      from_peer(text("to the client")).bytes(),
      from_client(StunBuilder(kBindingRequest, transaction_id(1)).bytes()).bytes(),
      from_client(StunBuilder(kAllocate, transaction_id(2)).bytes()).bytes(),
      from_client(channel_data(0x4999, text("unbound"))).bytes(),
      from_client(send_to("192.0.2.99", 1, text("no permission"))).bytes(),
      from_client(send_to("192.0.2.60", 9, text("waits"))).bytes(),
      arp_stranger.bytes(),
      arp_known.bytes(),
      ping.bytes(),
      bad_checksum.bytes(),
      Bytes(10, 0),
  };
  for (int round = 0; round < 3; ++round) {
    for (const Bytes& f : frames) inject(0, f);
    std::vector<rte_mbuf*> taken = exhaust();
    worker_->poll(now_);
    receive_all(kNow + static_cast<dp::TableTime>(round));
    give_back(taken);
    drain_tx();
  }
  receive_all(kNow + 10);  // the waiting packets' time is up
  drain_tx();
  EXPECT_EQ(control_->held(), 0u);
  EXPECT_EQ(in_use(), 0u);
}

}  // namespace
}  // namespace tern::test
