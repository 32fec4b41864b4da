// No engine call allocates from the heap: managers, jobs and contexts are set up when the engine is
// made. The test counts every malloc/calloc/realloc in the process (its own, the C++ runtime's,
// OpenSSL's, IPsec-MB's) while engine calls run; glibc lets a program interpose them and forward to
// its own allocator.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <vector>

#include "crypto/engine.hpp"
#include "tests/unit/crypto/engine_variants.hpp"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* ptr, size_t size);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<int> g_allocations{0};

// Keeps a value alive so the compiler cannot drop the call that made it.
template <typename T>
void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

void note_allocation() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t size) {
  note_allocation();
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  note_allocation();
  return __libc_calloc(count, size);
}
void* realloc(void* ptr, size_t size) {
  note_allocation();
  return __libc_realloc(ptr, size);
}
}

namespace tern::crypto::test {
namespace {

// Counts the allocations made while `calls` runs.
template <typename Calls>
int allocations_during(Calls calls) {
  g_allocations = 0;
  g_counting = true;
  calls();
  g_counting = false;
  return g_allocations.load();
}

TEST(AllocationCounter, CountsAnAllocation) {
  // The counter itself works: a vector's buffer is counted.
  EXPECT_GT(allocations_during([] {
              std::vector<uint8_t> v(100);
              keep(v.data());
            }),
            0);
}

class EngineAlloc : public testing::TestWithParam<EngineVariant> {};

TEST_P(EngineAlloc, CallsDoNotAllocate) {
  const auto engine = GetParam().make();
  ASSERT_NE(engine, nullptr) << GetParam().name << " was built but could not be made";
  const MacKey sha1 = engine->make_mac_key(Mac::hmac_sha1, bytes("a long-term key"));
  const MacKey sha256 = engine->make_mac_key(Mac::hmac_sha256, bytes("another key"));
  std::vector<uint8_t> message(1500, 0x5a);
  std::vector<uint8_t> big(70'000, 0x5a);  // past a hash job: the long-message paths
  std::array<std::array<uint8_t, kSha256Size>, kMaxBatch> tags{};
  std::array<MacJob, kMaxBatch> jobs;
  std::array<MacCheck, kMaxBatch> checks;
  for (size_t i = 0; i < kMaxBatch; ++i) {
    const std::span<const uint8_t> msg{message.data(), i == 3 ? 0 : 20 + i * 40};
    jobs[i] = {i % 3 == 0 ? &sha256 : &sha1, msg, tags[i].data()};
    checks[i] = {jobs[i].key, msg, {tags[i].data(), 12}};
  }
  // One warm-up round outside the count: lazy library initialisation is not a per-call cost.
  auto calls = [&] {
    std::array<uint8_t, kSha256Size> tag{};
    std::array<uint8_t, kSha256Size> digest{};
    std::array<uint8_t, kMd5Size> md5{};
    engine->mac(sha1, message, tag);
    engine->mac(sha256, {message.data(), 0}, tag);
    engine->mac(sha1, big, tag);
    engine->mac_batch(jobs);
    keep(engine->verify_batch(checks));
    keep(engine->verify(sha256, message, tag));
    engine->sha256(message, digest);
    engine->sha256(big, digest);
    engine->md5(message, md5);
    keep(engine->crc32(message));
    keep(engine->crc32({message.data(), 100}));
  };
  calls();
  EXPECT_EQ(allocations_during(calls), 0);
}

INSTANTIATE_TEST_SUITE_P(Crypto, EngineAlloc, testing::ValuesIn(engine_variants()), variant_name);

}  // namespace
}  // namespace tern::crypto::test
