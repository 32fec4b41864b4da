// The tables under RCU, stressed: reader threads registered on the RCU variable as workers are
// look allocations up by client 5-tuple (bulk and single, both families) and by relayed address,
// and their permissions and channels (both families), while the writer adds, refreshes, changes,
// removes and reclaims through RcuTableWriter as fast as it can. Every entry a reader finds must be
// whole and belong to what it looked up (rcu_stress_model.hpp says how it can tell); a slot, a
// pooled channel entry or a relayed port reused before every reader passed a quiescent state
// shows up as another serial's entry.
//
// TERN_STRESS_SECONDS sets how long the writer runs (3 s; longer if it has not yet reused every
// slot several times, at most kMaxSeconds), TERN_STRESS_SEED the seed (random, printed). Under
// ThreadSanitizer (scripts/ci-tsan) the same run also checks that every access to tern's shared
// structures is ordered the way the comments in dataplane/tables say.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/tables/rcu_writer.hpp"
#include "tests/unit/dataplane/rcu_stress_reader.hpp"
#include "tests/unit/dataplane/rcu_stress_writer.hpp"

namespace tern::dp::stress {
namespace {

constexpr unsigned kReaders = 3;        // more readers than the CPUs of a small machine: readers
                                        // are preempted mid-burst, holding what they found
constexpr uint32_t kCapacity = 512;     // small, so that slots and ports are reused all the time
constexpr uint32_t kOverflow = 32768;   // permission and channel overflow: never the limit here
constexpr uint64_t kMinAdded = 8 * kCapacity;   // every slot reused several times, however slow
                                                // the machine (TSan, a loaded CI runner) ...
constexpr unsigned kMaxSeconds = 60;            // ... within this bound
constexpr uint64_t kMaxSteps = 200'000'000;

unsigned long env_or(const char* name, unsigned long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoul(v, nullptr, 10) : fallback;
}

struct RcuVariable {
  rte_rcu_qsbr* v = nullptr;
  explicit RcuVariable(unsigned readers) {
    const size_t size = rte_rcu_qsbr_get_memsize(readers);
    v = static_cast<rte_rcu_qsbr*>(rte_zmalloc("tern_stress_rcu", size, RTE_CACHE_LINE_SIZE));
    if (v != nullptr && rte_rcu_qsbr_init(v, readers) != 0) {
      rte_free(v);
      v = nullptr;
    }
  }
  ~RcuVariable() { rte_free(v); }
};

TEST(RcuStress, ReadersFindOnlyWholeEntriesOfWhatTheyLookedUp) {
  const unsigned long seconds = env_or("TERN_STRESS_SECONDS", 3);
  const uint64_t seed = env_or("TERN_STRESS_SEED", std::random_device{}());
  std::printf("seed %llu (TERN_STRESS_SEED), %lu s, %u readers, %u slots\n",
              static_cast<unsigned long long>(seed), seconds, kReaders, kCapacity);

  // The readers are registered as the workers are (Assembly): by the control lcore, before any runs.
  RcuVariable rcu(kReaders);
  ASSERT_NE(rcu.v, nullptr);
  for (unsigned i = 0; i < kReaders; ++i) ASSERT_EQ(rte_rcu_qsbr_thread_register(rcu.v, i), 0);

  TablesConfig config;
  config.name = "stress";
  config.capacity = kCapacity;
  for (const uint32_t ip : kRelayIp4) config.relay_ips.push_back(rte_cpu_to_be_32(ip));
  config.relay_ips6 = {relay_ip6()};
  config.ipv6 = true;
  config.permission_overflow = kOverflow;
  config.channel_overflow = kOverflow;
  config.rcu = rcu.v;
  std::string error;
  std::unique_ptr<Tables> tables = Tables::create(config, error);
  ASSERT_TRUE(tables) << error;
  std::unique_ptr<RcuTableWriter> table_writer = RcuTableWriter::create(*tables, config, error);
  ASSERT_TRUE(table_writer) << error;

  std::atomic<uint32_t> next_serial{0};
  std::atomic<bool> running{true};
  std::vector<std::unique_ptr<Reader>> readers;
  for (unsigned i = 0; i < kReaders; ++i)
    readers.push_back(std::make_unique<Reader>(*tables, rcu.v, i, next_serial, running, seed + 1 + i));
  std::vector<std::thread> threads;
  for (auto& r : readers) threads.emplace_back([&r] { r->run(); });

  Writer writer(*table_writer, kCapacity, next_serial, seed);
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(seconds);
  const auto limit = start + std::chrono::seconds(kMaxSeconds);
  for (auto now = start; now < limit && writer.counts().steps < kMaxSteps && writer.serials_left() &&
                         (now < deadline || writer.counts().added < kMinAdded);
       now = std::chrono::steady_clock::now())
    for (unsigned i = 0; i < 256; ++i) writer.step();
  running.store(false, std::memory_order_relaxed);
  for (auto& t : threads) t.join();

  // Every reader is offline now: whatever was removed must come back, and nothing else.
  writer.drain();
  const WriterCounts& w = writer.counts();
  std::printf("writer: %llu steps, %llu added, %llu removed, %llu reclaimed, %llu expiry, %llu permission, "
              "%llu channel changes\n",
              static_cast<unsigned long long>(w.steps), static_cast<unsigned long long>(w.added),
              static_cast<unsigned long long>(w.removed), static_cast<unsigned long long>(w.reclaimed),
              static_cast<unsigned long long>(w.expiry_changes),
              static_cast<unsigned long long>(w.permission_changes),
              static_cast<unsigned long long>(w.channel_changes));
  EXPECT_EQ(w.errors, 0u) << w.first_error << " returned " << static_cast<int>(w.first_result);
  EXPECT_GE(w.added, kMinAdded) << "slots were not reused often enough to mean anything";
  EXPECT_EQ(w.reclaimed, w.removed);
  EXPECT_EQ(w.added, w.removed);

  for (unsigned i = 0; i < kReaders; ++i) {
    const ReaderCounts& c = readers[i]->counts();
    const Failure& f = readers[i]->failure();
    std::printf("reader %u: %llu bursts, %llu lookups, %llu found, %llu ready, %llu reused slots, %llu checks\n",
                i, static_cast<unsigned long long>(c.bursts), static_cast<unsigned long long>(c.lookups),
                static_cast<unsigned long long>(c.found), static_cast<unsigned long long>(c.ready),
                static_cast<unsigned long long>(c.reused), static_cast<unsigned long long>(c.checks));
    EXPECT_EQ(c.failures, 0u) << "reader " << i << ": " << c.failures << " broken, first: "
                              << (f.what ? f.what : "") << " (serial " << f.serial << ", slot " << f.slot
                              << ", found " << f.seen << ")";
    // The test means something only if every reader ran alongside the writer and found things.
    EXPECT_GT(c.lookups, 0u) << "reader " << i;
    EXPECT_GT(c.found, 0u) << "reader " << i;
    EXPECT_GT(c.ready, 0u) << "reader " << i;
    EXPECT_GT(c.reused, 0u) << "reader " << i;
    EXPECT_GT(c.checks, c.found) << "reader " << i;
  }

  table_writer.reset();
  tables.reset();
  for (unsigned i = 0; i < kReaders; ++i) rte_rcu_qsbr_thread_unregister(rcu.v, i);
}

}  // namespace
}  // namespace tern::dp::stress

// ThreadSanitizer, as gcc and as clang say it.
#if defined(__SANITIZE_THREAD__)
#define TERN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TERN_TSAN 1
#endif
#endif

// DPDK's EAL without hugepages, PCI or files (--no-huge is legacy memory, which DPDK 22.11 refuses
// together with --in-memory; --no-shconf with it leaves nothing on disk either).
int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "tern_stress_" + std::to_string(getpid());
  std::vector<const char*> eal = {"tern-stress", "--no-huge", "-m", "512", "--no-shconf", "--no-pci",
                                  "--file-prefix", prefix.c_str(), "--log-level", "error", "-l", "0"};
#if defined(TERN_TSAN)
  // DPDK's memory at a fixed address in the range ThreadSanitizer leaves to the application (below
  // 512 GiB, clear of its shadow), not wherever DPDK's default (4 GiB today) or the kernel puts it.
  eal.push_back("--base-virtaddr");
  eal.push_back("0x2000000000");
#endif
  if (rte_eal_init(static_cast<int>(eal.size()), const_cast<char**>(eal.data())) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
