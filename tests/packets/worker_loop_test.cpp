// The worker's own loop (Worker::run) on a thread of its own, as an lcore runs it: it relays what
// arrives, counts its cycles (busy_cycles only for iterations that received packets, total_cycles
// for all), and on stop flushes what it holds and returns.

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/packets/golden.hpp"

namespace tern::test {
namespace {

using dp::CounterId;

using WorkerLoop = Golden;

TEST_F(WorkerLoop, RelaysAndCountsItsCycles) {
  std::atomic<bool> running{true};
  const dp::Clock clock;  // the real TSC: run() reads it once an iteration
  std::thread lcore([&] { worker_->run(clock, running); });

  // Idle first: cycles pass, none of them busy.
  while (counter(CounterId::total_cycles) == 0) std::this_thread::yield();
  EXPECT_EQ(counter(CounterId::busy_cycles), 0u);

  constexpr unsigned kPackets = 100;
  for (unsigned i = 0; i < kPackets; ++i) inject(0, from_client(channel_data(kChannel, text("x"))).bytes());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (counter(CounterId::channel_data_to_peer) < kPackets && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  running = false;
  lcore.join();

  EXPECT_EQ(counter(CounterId::channel_data_to_peer), kPackets);
  EXPECT_EQ(drain_tx().size(), kPackets);  // flushed on the way out
  const uint64_t busy = counter(CounterId::busy_cycles);
  const uint64_t total = counter(CounterId::total_cycles);
  EXPECT_GT(busy, 0u);
  EXPECT_LT(busy, total);
}

}  // namespace
}  // namespace tern::test
