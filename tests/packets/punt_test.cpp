// The slow path: what a worker hands to the control lcore, with which reason and metadata, and
// what happens when the control lcore's queue is full.

#include <rte_ring.h>

#include "dataplane/worker/punt.hpp"
#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::CounterId;
using dp::PuntReason;

struct Punted {
  Bytes frame;
  dp::PuntMeta meta;
};

class Punt : public Golden {
 protected:
  std::vector<Punted> take() {
    std::vector<Punted> out;
    void* obj;
    while (rte_ring_dequeue(punt_ring_, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
      out.push_back({Bytes(d, d + rte_pktmbuf_data_len(m)), dp::punt_meta(m, punt_offset_)});
      rte_pktmbuf_free(m);
    }
    return out;
  }
};

TEST_F(Punt, StunMessagesGoToTheControlPlaneWithAReason) {
  struct Case {
    Bytes message;
    PuntReason reason;
  };
  const TransactionId id = transaction_id(4);
  const std::vector<Case> cases = {
      {StunBuilder(0x0003, id).attribute(0x0019, {17, 0, 0, 0}).bytes(), PuntReason::stun_request},  // Allocate
      {StunBuilder(0x0004, id).bytes(), PuntReason::stun_request},                                   // Refresh
      {StunBuilder(0x0001, id).attribute(0x0006, text("alice")).bytes(), PuntReason::binding_authenticated},
      {StunBuilder(0x0001, id).attribute(0x0008, pattern(20)).bytes(), PuntReason::binding_authenticated},
      {StunBuilder(0x0001, id).attribute(0x0003, {0, 0, 0, 6}).bytes(), PuntReason::binding_attributes},
      {StunBuilder(0x0011, id).bytes(), PuntReason::stun_indication},  // Binding indication
      {StunBuilder(0x0101, id).bytes(), PuntReason::stun_response},
      {StunBuilder(0x0113, id).bytes(), PuntReason::stun_response},    // Allocate error response
  };
  std::vector<Bytes> frames;
  for (const Case& c : cases) frames.push_back(from_client(c.message).bytes());
  inject(0, frames);
  EXPECT_TRUE(run().empty());
  const auto punted = take();
  ASSERT_EQ(punted.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_FRAME(punted[i].frame, frames[i]);  // untouched
    EXPECT_EQ(punted[i].meta.reason, cases[i].reason) << i;
    EXPECT_EQ(punted[i].meta.worker, 0u);
    EXPECT_EQ(punted[i].meta.port, port_ids_[0]);
  }
  EXPECT_EQ(counter(CounterId::punted), cases.size());
}

// ARP that teaches something: a request from a neighbour we do not know (or know by another
// MAC), and the answer to a request of ours.
TEST_F(Punt, LearnableArpGoesToTheControlLcore) {
  const Mac stranger = Mac::of("02:00:00:00:00:42");
  PacketBuilder unknown;
  unknown.ether(stranger, kBroadcast).arp(1, stranger, "10.90.0.42", kZeroMac, kListenerIp);
  PacketBuilder moved;  // the client, with a new MAC
  moved.ether(stranger, kBroadcast).arp(1, stranger, kClientIp, kZeroMac, "10.90.0.200");
  PacketBuilder answer;
  answer.ether(stranger, kPort0Mac).arp(2, stranger, "10.90.0.42", kPort0Mac, kListenerIp);
  inject(0, {unknown.bytes(), moved.bytes(), answer.bytes()});
  EXPECT_TRUE(run().empty());
  const auto punted = take();
  ASSERT_EQ(punted.size(), 3u);
  for (const Punted& p : punted) EXPECT_EQ(p.meta.reason, PuntReason::arp);
}

TEST_F(Punt, FullQueueDropsAndCounts) {
  GoldenOptions options;
  options.punt_ring_size = 4;  // three fit
  build(options);
  for (int i = 0; i < 5; ++i)
    inject(0, from_client(StunBuilder(0x0003, transaction_id(static_cast<uint8_t>(i))).bytes()).bytes());
  EXPECT_TRUE(run().empty());
  EXPECT_EQ(counter(CounterId::punted), 3u);
  EXPECT_EQ(counter(CounterId::drop_punt_ring_full), 2u);
  EXPECT_EQ(take().size(), 3u);
}

}  // namespace
}  // namespace tern::test
