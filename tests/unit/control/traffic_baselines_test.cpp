// Per-allocation traffic counts from the allocation's creation, although the data plane's
// per-slot counters carry on from the slot's earlier allocations.

#include <gtest/gtest.h>

#include "control/operator/traffic_baselines.hpp"
#include "tests/unit/control/operator_test_util.hpp"

namespace tern::ctl::test {
namespace {

TEST(TrafficBaselines, CountsFromPublicationAndAcrossTheWrap) {
  FakeTableWriter inner;
  FakeStats stats;
  TrafficBaselines baselines(inner, stats, 8);
  // Slot 3's previous allocation left counts behind, near the 32-bit wrap.
  stats.traffic[dp::AllocId{3}] = {.bytes_to_peer = 5000, .bytes_to_client = 7000, .packets_to_peer = 0xFFFFFFF0u,
                      .packets_to_client = 100, .drops_to_peer = {1, 0, 0, 0, 0}, .drops_to_client = {0, 0, 2, 0, 0}};
  dp::AllocationEntry entry;
  entry.five_tuple = five_tuple("198.51.100.1:40000");
  entry.relayed = ta("192.0.2.10:50001");
  entry.expires = 100;
  ASSERT_EQ(baselines.add_allocation(dp::AllocId{3}, entry), dp::WriteResult::ok);
  EXPECT_EQ(inner.take_calls().size(), 1u);  // forwarded

  auto t = baselines.traffic(dp::AllocId{3});
  EXPECT_EQ(t.bytes_to_peer, 0u);
  EXPECT_EQ(t.packets_to_peer, 0u);

  stats.traffic[dp::AllocId{3}].bytes_to_peer += 1200;
  stats.traffic[dp::AllocId{3}].packets_to_peer += 0x20;  // wraps
  stats.traffic[dp::AllocId{3}].packets_to_client += 3;
  dp::count_of(stats.traffic[dp::AllocId{3}].drops_to_client, dp::AllocationDrop::rate_limited) += 1;
  t = baselines.traffic(dp::AllocId{3});
  EXPECT_EQ(t.bytes_to_peer, 1200u);
  EXPECT_EQ(t.packets_to_peer, 0x20u);
  EXPECT_EQ(t.packets_to_client, 3u);
  EXPECT_EQ(dp::count_of(t.drops_to_client, dp::AllocationDrop::rate_limited), 1u);
  EXPECT_EQ(dp::total(t.drops_to_client), 1u);
  EXPECT_EQ(dp::total(t.drops_to_peer), 0u);
  EXPECT_EQ(t.bytes_to_client, 0u);

  // Every other call goes through unchanged.
  EXPECT_EQ(baselines.set_permission(dp::AllocId{3}, ip("192.0.2.50"), 50), dp::WriteResult::ok);
  EXPECT_EQ(baselines.set_channel(dp::AllocId{3}, 0x4000, ta("192.0.2.50:9"), 60), dp::WriteResult::ok);
  EXPECT_EQ(baselines.remove_allocation(dp::AllocId{3}), dp::WriteResult::ok);
  EXPECT_EQ(inner.take_calls().size(), 3u);
}

}  // namespace
}  // namespace tern::ctl::test
