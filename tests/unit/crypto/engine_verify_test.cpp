// verify / verify_batch on every engine, and the engine-independent helpers: equal_constant_time
// and random_bytes.

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

#include "crypto/engine.hpp"
#include "tests/unit/crypto/engine_variants.hpp"

namespace tern::crypto::test {
namespace {

class EngineVerify : public testing::TestWithParam<EngineVariant> {
 protected:
  void SetUp() override {
    engine_ = GetParam().make();
    ASSERT_NE(engine_, nullptr) << GetParam().name << " was built but could not be made";
  }

  std::vector<uint8_t> full_tag(const MacKey& key, std::span<const uint8_t> msg) {
    std::vector<uint8_t> tag(mac_size(key.mac));
    engine_->mac(key, msg, tag);
    return tag;
  }

  std::unique_ptr<Engine> engine_;
};

// What one check is given, and whether it must match.
enum class Expected { good, flipped_first, flipped_last, truncated, truncated_flipped, over_long, empty };

TEST_P(EngineVerify, VerifyBatchSetsOnlyTheBitsThatMatch) {
  std::mt19937 rng{7};
  const std::vector<uint8_t> secret1 = bytes("sha1 secret"), secret256 = bytes("sha256 secret");
  const MacKey keys[] = {engine_->make_mac_key(Mac::hmac_sha1, secret1),
                         engine_->make_mac_key(Mac::hmac_sha256, secret256)};
  std::vector<std::vector<uint8_t>> messages(kMaxBatch);
  for (auto& m : messages) {
    m.resize(20 + rng() % 300);
    for (auto& b : m) b = static_cast<uint8_t>(rng());
  }
  for (int round = 0; round < 16; ++round) {
    std::vector<std::vector<uint8_t>> expected(kMaxBatch);
    std::vector<MacCheck> checks(kMaxBatch);
    uint32_t want = 0;
    for (size_t i = 0; i < kMaxBatch; ++i) {
      const MacKey& key = keys[rng() % 2];
      std::vector<uint8_t> tag = full_tag(key, messages[i]);
      const auto kind = static_cast<Expected>(rng() % 7);
      switch (kind) {
        case Expected::good: want |= 1u << i; break;
        case Expected::flipped_first: tag.front() ^= 0x80; break;
        case Expected::flipped_last: tag.back() ^= 0x01; break;
        case Expected::truncated:  // RFC 8489 §14.6: MESSAGE-INTEGRITY-SHA256 may be truncated
          tag.resize(4 + rng() % (tag.size() - 4));
          want |= 1u << i;
          break;
        case Expected::truncated_flipped:
          tag.resize(4 + rng() % (tag.size() - 4));
          tag.back() ^= 0x10;
          break;
        case Expected::over_long: tag.push_back(0); break;
        case Expected::empty: tag.clear(); break;
      }
      expected[i] = std::move(tag);
      checks[i] = {&key, messages[i], expected[i]};
    }
    EXPECT_EQ(engine_->verify_batch(checks), want) << "round " << round;
  }
}

TEST_P(EngineVerify, VerifyOneTag) {
  const MacKey key = engine_->make_mac_key(Mac::hmac_sha256, bytes("key"));
  const std::vector<uint8_t> msg = bytes("a STUN message");
  std::vector<uint8_t> tag = full_tag(key, msg);
  EXPECT_TRUE(engine_->verify(key, msg, tag));
  EXPECT_TRUE(engine_->verify(key, msg, std::span(tag).first(16)));
  EXPECT_FALSE(engine_->verify(key, bytes("a STUN messagf"), tag));
  EXPECT_FALSE(engine_->verify(key, msg, {}));
  std::vector<uint8_t> longer = tag;
  longer.push_back(0);
  EXPECT_FALSE(engine_->verify(key, msg, longer));
  tag[31] ^= 1;
  EXPECT_FALSE(engine_->verify(key, msg, tag));
  // The same secret under the other hash is a different key.
  const MacKey sha1 = engine_->make_mac_key(Mac::hmac_sha1, bytes("key"));
  const std::vector<uint8_t> sha256_tag = full_tag(key, msg);
  EXPECT_FALSE(engine_->verify(sha1, msg, std::span(sha256_tag).first(kSha1Size)));
}

INSTANTIATE_TEST_SUITE_P(Crypto, EngineVerify, testing::ValuesIn(engine_variants()), variant_name);

TEST(EqualConstantTime, ComparesContentAndLength) {
  const std::vector<uint8_t> a = bytes("0123456789abcdef");
  std::vector<uint8_t> b = a;
  EXPECT_TRUE(equal_constant_time(a, b));
  EXPECT_TRUE(equal_constant_time({}, {}));
  for (size_t i : {size_t{0}, size_t{7}, a.size() - 1}) {
    b = a;
    b[i] ^= 0x01;
    EXPECT_FALSE(equal_constant_time(a, b)) << "differs at " << i;
  }
  EXPECT_FALSE(equal_constant_time(a, std::span(a).first(15)));
  EXPECT_FALSE(equal_constant_time({}, a));
  const std::vector<uint8_t> zeros(16, 0), high(16, 0x80);
  EXPECT_FALSE(equal_constant_time(zeros, high));
}

TEST(RandomBytes, FillsAndDiffers) {
  std::array<uint8_t, 32> first{}, second{};
  ASSERT_TRUE(random_bytes(first));
  ASSERT_TRUE(random_bytes(second));
  const std::array<uint8_t, 32> zeros{};
  // Each fails by chance with probability 2^-256.
  EXPECT_NE(first, zeros);
  EXPECT_NE(first, second);
  // Every byte position is written: over 64 draws, no position stays zero throughout.
  std::array<uint8_t, 32> seen{};
  for (int i = 0; i < 64; ++i) {
    std::array<uint8_t, 32> draw{};
    ASSERT_TRUE(random_bytes(draw));
    for (size_t j = 0; j < draw.size(); ++j) seen[j] |= draw[j];
  }
  for (size_t j = 0; j < seen.size(); ++j) EXPECT_NE(seen[j], 0) << "byte " << j;
  EXPECT_TRUE(random_bytes({}));
}

}  // namespace
}  // namespace tern::crypto::test
