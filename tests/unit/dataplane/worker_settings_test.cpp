// The workers' settings board: a reload's new set replaces the old one with one atomic store, and
// the old one is freed only once every worker has passed a quiescent state since.

#include <gtest/gtest.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <thread>

#include "dataplane/tables/worker_settings.hpp"

namespace tern::dp {
namespace {

constexpr uint64_t kHz = 1'000'000'000;

class WorkerSettingsTest : public testing::Test {
 protected:
  void SetUp() override {
    rcu_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("wst_rcu", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
    ASSERT_NE(rcu_, nullptr);
    ASSERT_EQ(rte_rcu_qsbr_init(rcu_, 1), 0);
    ASSERT_EQ(rte_rcu_qsbr_thread_register(rcu_, 0), 0);
    rte_rcu_qsbr_thread_online(rcu_, 0);
  }
  void TearDown() override {
    rte_rcu_qsbr_thread_offline(rcu_, 0);
    rte_rcu_qsbr_thread_unregister(rcu_, 0);
    rte_free(rcu_);
  }
  rte_rcu_qsbr* rcu_ = nullptr;
};

TEST_F(WorkerSettingsTest, FirstSetIsInForce) {
  WorkerSettingsBoard board({.software = "tern 1", .max_bps = 0, .allocation_pps = 5000}, rcu_, kHz, 0, nullptr);
  ASSERT_TRUE(board.ok());
  const WorkerSettings* s = board.current();
  EXPECT_TRUE(s->limits.packets.limited());
  EXPECT_FALSE(s->limits.bytes.limited());
  EXPECT_EQ(s->software_attribute_len, 4u + 8u);  // "tern 1" padded to 8
  EXPECT_EQ(s->software_attribute[10], 0);
  EXPECT_EQ(s->software_attribute[11], 0);
}

TEST_F(WorkerSettingsTest, ReplacedSetLivesUntilEveryWorkerWasQuiescent) {
  WorkerSettingsBoard board({.software = "a", .max_bps = 0, .allocation_pps = 0}, rcu_, kHz, 0, nullptr);
  const WorkerSettings* first = board.current();  // what a worker loaded at its burst's start
  ASSERT_TRUE(board.publish({.software = "b", .max_bps = 1'000'000, .allocation_pps = 100}));
  const WorkerSettings* second = board.current();
  EXPECT_NE(second, first);
  EXPECT_TRUE(second->limits.bytes.limited());
  EXPECT_EQ(board.values().allocation_pps, 100u);
  EXPECT_EQ(board.retired(), 1u);
  // The worker has not been quiescent: the first set is still there for it.
  ASSERT_TRUE(board.publish({.software = "c", .max_bps = 0, .allocation_pps = 0}));
  EXPECT_EQ(board.retired(), 2u);
  EXPECT_EQ(first->software_attribute[4], 'a');
  rte_rcu_qsbr_quiescent(rcu_, 0);
  // Its burst is over: the next publish frees both.
  ASSERT_TRUE(board.publish({.software = "d", .max_bps = 0, .allocation_pps = 0}));
  EXPECT_EQ(board.retired(), 1u);
  EXPECT_EQ(board.current()->software_attribute[4], 'd');
}

// A full retire list waits for the oldest set's grace period rather than grow: the workers pass a
// quiescent state every loop iteration.
TEST_F(WorkerSettingsTest, FullRetireListWaitsForTheGracePeriod) {
  WorkerSettingsBoard board({.software = "", .max_bps = 0, .allocation_pps = 0}, rcu_, kHz, 0, nullptr);
  for (size_t i = 0; i < WorkerSettingsBoard::kMaxRetired; ++i)
    ASSERT_TRUE(board.publish({.software = "", .max_bps = 0, .allocation_pps = static_cast<uint32_t>(i + 1)}));
  EXPECT_EQ(board.retired(), WorkerSettingsBoard::kMaxRetired);
  std::atomic<bool> published{false};
  std::thread control([&] {
    EXPECT_TRUE(board.publish({.software = "", .max_bps = 0, .allocation_pps = 99}));
    published = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(published.load());  // waiting for this "worker"
  rte_rcu_qsbr_quiescent(rcu_, 0);
  control.join();
  EXPECT_TRUE(published.load());
  EXPECT_LE(board.retired(), WorkerSettingsBoard::kMaxRetired);
  EXPECT_EQ(board.values().allocation_pps, 99u);
}

// Without an RCU variable (one thread polls and publishes) the old set goes at once.
TEST(WorkerSettingsBoardAlone, WithoutRcuFreesAtOnce) {
  WorkerSettingsBoard board({.software = "", .max_bps = 0, .allocation_pps = 0}, nullptr, kHz, 0, nullptr);
  ASSERT_TRUE(board.publish({.software = "x", .max_bps = 0, .allocation_pps = 0}));
  EXPECT_EQ(board.retired(), 0u);
}

}  // namespace
}  // namespace tern::dp
