// `ternctl trace ADDR`: what the worker decided for each packet from, to or relayed to the traced
// address — relayed (which way, where to, allocation, channel), answered, punted and why, waiting
// for a next hop, dropped and why — and what the control lcore decided for the packets that
// waited. Records are rate-limited per worker, a full ring never blocks, and nothing is recorded
// while no trace runs.

#include <rte_ring.h>

#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::CounterId;
using dp::TraceOutcome;
using dp::TracePacket;

constexpr uint16_t kSend = 0x0016;
constexpr uint16_t kAllocate = 0x0003;
constexpr uint16_t kBindingRequest = 0x0001;

Bytes send_to(std::string_view ip, uint16_t port, const Bytes& data) {
  return StunBuilder(kSend, transaction_id(2)).xor_address(0x0012, ip, port).attribute(0x0013, data).bytes();
}
TransportAddress at(std::string_view text) { return *TransportAddress::parse(text); }

class Trace : public Golden {
 protected:
  void trace(std::string_view ip) { trace_->set_trace(IpAddress::parse(ip)); }
  std::vector<dp::TraceRecord> records() {
    std::vector<dp::TraceRecord> out(256);
    out.resize(trace_->read_trace(out));
    return out;
  }
  // Polls until every injected frame has been taken (32 per burst).
  void run_all() {
    for (int i = 0; i < 16; ++i) worker_->poll(now_);
    drain_tx();
  }
};

TEST_F(Trace, NothingIsRecordedWhileOff) {
  inject(0, from_client(channel_data(kChannel, text("x"))).bytes());
  inject(1, from_peer(text("y")).bytes());
  EXPECT_EQ(run().size(), 2u);
  EXPECT_TRUE(records().empty());
  EXPECT_EQ(counter(CounterId::trace_records), 0u);
  EXPECT_EQ(rte_ring_count(trace_ring_), 0u);
}

// Both directions of an allocation, traced by the client's address: where each packet went.
TEST_F(Trace, RelayedBothWaysSeenFromTheClient) {
  trace(kClientIp);
  inject(0, from_client(channel_data(kChannel, text("to the peer"))).bytes());
  inject(1, from_peer(text("to the client")).bytes());
  EXPECT_EQ(run().size(), 2u);  // traced packets are relayed as ever
  const auto r = records();
  ASSERT_EQ(r.size(), 2u);

  EXPECT_EQ(r[0].packet, TracePacket::channel_data);
  EXPECT_EQ(r[0].outcome, TraceOutcome::relayed);
  EXPECT_EQ(r[0].from, at("10.90.0.10:5000"));
  EXPECT_EQ(r[0].to, at("10.90.0.1:3478"));
  EXPECT_EQ(r[0].next, at("192.0.2.50:7000"));
  EXPECT_EQ(r[0].allocation, kAlloc);
  EXPECT_EQ(r[0].channel, kChannel);
  EXPECT_EQ(r[0].source, 0u);
  EXPECT_EQ(r[0].time_ns, clock_.ns_since_start(now_.tsc));
  EXPECT_EQ(dp::to_string(r[0]),
            "worker 0 channel_data 10.90.0.10:5000 -> 10.90.0.1:3478: relayed to 192.0.2.50:7000 "
            "[allocation 7, channel 0x4001]");

  EXPECT_EQ(r[1].packet, TracePacket::peer_data);
  EXPECT_EQ(r[1].outcome, TraceOutcome::relayed);
  EXPECT_EQ(r[1].from, at("192.0.2.50:7000"));
  EXPECT_EQ(r[1].to, at("10.90.0.2:50000"));
  EXPECT_EQ(r[1].next, at("10.90.0.10:5000"));
  EXPECT_EQ(r[1].channel, kChannel);  // it left as ChannelData
  EXPECT_EQ(counter(CounterId::trace_records), 2u);
}

// Traced by the peer's address: the client's ChannelData to it matches by where it goes.
TEST_F(Trace, APeerSeesWhatIsRelayedToIt) {
  trace(kPeerIp);
  inject(0, from_client(channel_data(kChannel, text("a"))).bytes());
  inject(0, from_client(send_to(kFarPeerIp, kFarPeerPort, text("b"))).bytes());  // not to it
  EXPECT_EQ(run().size(), 2u);
  const auto r = records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].next, at("192.0.2.50:7000"));
}

TEST_F(Trace, DropsSayWhy) {
  trace(kClientIp);
  inject(0, from_client(channel_data(0x4999, text("unbound"))).bytes());
  inject(0, from_client(send_to("192.0.2.99", 1, text("no permission"))).bytes());
  PacketBuilder bad = from_client(channel_data(kChannel, text("bad")));
  bad.ip_checksum(0x1234);
  inject(0, bad.bytes());
  EXPECT_TRUE(run().empty());
  const auto r = records();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].outcome, TraceOutcome::dropped);
  EXPECT_EQ(r[0].reason, static_cast<uint16_t>(CounterId::drop_unbound_channel));
  EXPECT_EQ(r[0].channel, 0x4999);
  EXPECT_EQ(dp::trace_reason(r[0]), "drop_unbound_channel");
  EXPECT_EQ(r[1].packet, TracePacket::send);
  EXPECT_EQ(r[1].reason, static_cast<uint16_t>(CounterId::drop_no_permission));
  EXPECT_EQ(r[1].next, TransportAddress{});  // went nowhere
  EXPECT_EQ(r[2].packet, TracePacket::unclassified);
  EXPECT_EQ(r[2].reason, static_cast<uint16_t>(CounterId::drop_bad_checksum));
  EXPECT_EQ(dp::to_string(r[2]),
            "worker 0 unclassified 10.90.0.10:0 -> 10.90.0.1:0: dropped (drop_bad_checksum)");
}

TEST_F(Trace, AnswersAndPunts) {
  trace(kClientIp);
  inject(0, from_client(StunBuilder(kBindingRequest, transaction_id(1)).bytes()).bytes());
  inject(0, from_client(StunBuilder(kAllocate, transaction_id(2)).bytes()).bytes());
  PacketBuilder ping;
  ping.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).protocol(1).icmp(8, 0, 1, 1).payload(text("ping"));
  inject(0, ping.bytes());
  PacketBuilder who_has;
  who_has.ether(kClientMac, kBroadcast).arp(1, kClientMac, kClientIp, kZeroMac, kListenerIp);
  inject(0, who_has.bytes());
  run();
  const auto r = records();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].packet, TracePacket::binding);
  EXPECT_EQ(r[0].outcome, TraceOutcome::answered);
  EXPECT_EQ(r[0].next, at("10.90.0.10:5000"));
  EXPECT_EQ(r[1].packet, TracePacket::stun);
  EXPECT_EQ(r[1].outcome, TraceOutcome::punted);
  EXPECT_EQ(dp::trace_reason(r[1]), "stun_request");
  EXPECT_EQ(r[2].packet, TracePacket::icmp_echo);
  EXPECT_EQ(r[2].outcome, TraceOutcome::answered);
  EXPECT_EQ(r[3].packet, TracePacket::arp);
  EXPECT_EQ(r[3].outcome, TraceOutcome::answered);  // a known neighbour: the worker answers
  EXPECT_EQ(r[3].from.ip, *IpAddress::parse(kClientIp));
  std::vector<dp::PuntedMessage> punted(4);
  punted.resize(control_->receive_at(punted, kNow));
  for (const auto& m : punted) control_->release(m.handle);
}

// A hairpin seen from the receiving client: it matches by where the data goes.
TEST_F(Trace, HairpinToTheOtherClient) {
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kRelayIp1), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(kAlloc2, *IpAddress::parse(kRelayIp), kExpires), dp::WriteResult::ok);
  trace(kRemoteClientIp);
  inject(0, from_client(send_to(kRelayIp1, kRelayPort1, text("both ends"))).bytes());
  EXPECT_EQ(run().size(), 1u);
  const auto r = records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, TraceOutcome::hairpin);
  EXPECT_EQ(r[0].next, at("198.51.100.20:6000"));
  EXPECT_EQ(r[0].allocation, kAlloc);
}

// A packet that waits for its next hop, then leaves on the control lcore once it is resolved:
// the worker's record and the control lcore's.
TEST_F(Trace, WaitingAndSentAfterTheWait) {
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse("192.0.2.60"), kExpires), dp::WriteResult::ok);
  trace("192.0.2.60");
  inject(0, from_client(send_to("192.0.2.60", 9, text("early"))).bytes());
  run();
  std::vector<dp::PuntedMessage> none(4);
  control_->receive_at(none, kNow);
  drain_tx();
  const Mac mac = Mac::of("02:00:00:00:01:60");
  PacketBuilder is_at;
  is_at.ether(mac, kPort1Mac).arp(2, mac, "192.0.2.60", kPort1Mac, kRelayIp1);
  inject(1, is_at.bytes());
  run();
  control_->receive_at(none, kNow);
  EXPECT_EQ(drain_tx().size(), 1u);
  const auto r = records();
  ASSERT_EQ(r.size(), 3u);  // control records come first
  EXPECT_EQ(r[0].source, dp::kTraceControl);
  EXPECT_EQ(r[0].outcome, TraceOutcome::sent_after_wait);
  EXPECT_EQ(r[0].from, at("10.90.0.2:50000"));
  EXPECT_EQ(r[0].to, at("192.0.2.60:9"));
  EXPECT_EQ(r[1].outcome, TraceOutcome::waiting);
  EXPECT_EQ(r[1].next, at("192.0.2.60:9"));
  EXPECT_EQ(r[2].packet, TracePacket::arp);  // its answer
  EXPECT_EQ(r[2].outcome, TraceOutcome::punted);
  EXPECT_EQ(dp::trace_reason(r[2]), "arp");
}

// At most kTraceBurst records at once, then kTraceRate a second; the rest is counted.
TEST_F(Trace, RecordsAreRateLimited) {
  GoldenOptions options;
  options.trace_ring_size = 512;
  build(options);
  trace(kClientIp);
  const unsigned sent = dp::kTraceBurst + 50;
  for (unsigned i = 0; i < sent; ++i) inject(0, from_client(channel_data(kChannel, text("x"))).bytes());
  run_all();
  EXPECT_EQ(counter(CounterId::trace_records), dp::kTraceBurst + 1);
  EXPECT_EQ(counter(CounterId::trace_suppressed), sent - dp::kTraceBurst - 1);
  EXPECT_EQ(trace_->trace_suppressed(), sent - dp::kTraceBurst - 1);
  EXPECT_EQ(counter(CounterId::channel_data_to_peer), sent);  // all relayed all the same
  EXPECT_EQ(records().size(), dp::kTraceBurst + 1);

  now_.tsc += kTscHz / 100;  // 10 ms: kTraceRate / 100 more
  for (unsigned i = 0; i < 20; ++i) inject(0, from_client(channel_data(kChannel, text("x"))).bytes());
  run_all();
  EXPECT_EQ(records().size(), dp::kTraceRate / 100);
}

// A full ring loses the record, never the packet, never waits.
TEST_F(Trace, FullRingIsCounted) {
  GoldenOptions options;
  options.trace_ring_size = 16;  // holds 15
  build(options);
  trace(kClientIp);
  for (int i = 0; i < 20; ++i) inject(0, from_client(channel_data(kChannel, text("x"))).bytes());
  EXPECT_EQ(run().size(), 20u);
  EXPECT_EQ(counter(CounterId::trace_records), 15u);
  EXPECT_EQ(counter(CounterId::trace_suppressed), 5u);
}

// Another address: what was recorded for the previous one is gone; off: nothing more.
TEST_F(Trace, ChangingTheAddressDiscardsTheOld) {
  trace(kClientIp);
  inject(0, from_client(channel_data(kChannel, text("x"))).bytes());
  run();
  trace(kRemoteClientIp);
  EXPECT_TRUE(records().empty());
  EXPECT_EQ(trace_->trace_address(), IpAddress::parse(kRemoteClientIp));
  trace_->set_trace(std::nullopt);
  inject(0, from_client(channel_data(kChannel, text("x"))).bytes());
  run();
  EXPECT_TRUE(records().empty());
  EXPECT_FALSE(trace_->trace_address());
}

// The control plane's own decisions go through the same interface, for the traced address only.
TEST_F(Trace, ControlPlaneDecisionsAreAppended) {
  trace(kPeerIp);
  dp::TraceRecord denied;
  denied.packet = TracePacket::stun;
  denied.from = at("10.90.0.10:5000");
  denied.to = at("10.90.0.1:3478");
  denied.next = at("192.0.2.50:0");  // the peer the request names (XOR-PEER-ADDRESS)
  denied.stun_type = 0x0008;   // CreatePermission
  denied.reason = 403;
  trace_->append_trace(denied);
  dp::TraceRecord other = denied;
  other.next = at("192.0.2.99:1");
  trace_->append_trace(other);
  const auto r = records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].source, dp::kTraceControl);
  EXPECT_EQ(r[0].outcome, TraceOutcome::control);
  EXPECT_EQ(dp::to_string(r[0]),
            "control stun 10.90.0.10:5000 -> 10.90.0.1:3478: control (STUN type 0x0008: error 403) "
            "peer 192.0.2.50:0");
}

}  // namespace
}  // namespace tern::test
