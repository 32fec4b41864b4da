// Every engine against the OpenSSL reference on many random inputs: byte-identical MACs, hashes and
// CRCs, keys made by one engine used by another, batches equal to single MACs.

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <random>
#include <vector>

#include "crypto/engine.hpp"
#include "tests/unit/crypto/engine_variants.hpp"

namespace tern::crypto::test {
namespace {

constexpr Mac kMacs[] = {Mac::hmac_sha1, Mac::hmac_sha256};
// Lengths around the SHA block (64 bytes; 55 is the longest message whose padding fits one block).
constexpr size_t kBoundaries[] = {0, 1, 19, 20, 31, 32, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129,
                                  191, 192, 255, 256, 257, 511, 512, 1023, 1024, 1500, 2000};
constexpr size_t kMaxMessage = 2000;
constexpr size_t kMaxKey = 200;

class EngineInterop : public testing::TestWithParam<EngineVariant> {
 protected:
  void SetUp() override {
    engine_ = GetParam().make();
    ASSERT_NE(engine_, nullptr) << GetParam().name << " was built but could not be made";
    reference_ = make_engine(Backend::openssl);
    ASSERT_NE(reference_, nullptr);
    // Room for an unaligned start and the largest message.
    buffer_.resize(kMaxMessage + 64);
    for (auto& b : buffer_) b = static_cast<uint8_t>(rng_());
  }

  std::vector<uint8_t> random_bytes_of(size_t n) {
    std::vector<uint8_t> out(n);
    for (auto& b : out) b = static_cast<uint8_t>(rng_());
    return out;
  }

  // A message of `size` bytes starting at a varying misalignment.
  std::span<const uint8_t> message(size_t size, size_t salt) {
    return {buffer_.data() + salt % 8, size};
  }

  // The engine's tag, checked to write exactly mac_size bytes.
  std::vector<uint8_t> tag_of(Engine& engine, const MacKey& key, std::span<const uint8_t> msg) {
    std::array<uint8_t, kSha256Size + 8> out;
    out.fill(0xa5);
    engine.mac(key, msg, out);
    const size_t size = mac_size(key.mac);
    for (size_t i = size; i < out.size(); ++i) EXPECT_EQ(out[i], 0xa5) << "wrote past the tag";
    return {out.begin(), out.begin() + static_cast<ptrdiff_t>(size)};
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Engine> reference_;
  std::mt19937 rng_{20240611};
  std::vector<uint8_t> buffer_;
};

TEST_P(EngineInterop, MakesTheSameKeyStatesAsOpenssl) {
  // The precomputed states are host-order words for every backend: the same bytes in a MacKey.
  for (Mac mac : kMacs) {
    for (size_t key_size = 0; key_size <= kMaxKey; ++key_size) {
      const std::vector<uint8_t> secret = random_bytes_of(key_size);
      const MacKey mine = engine_->make_mac_key(mac, secret);
      const MacKey theirs = reference_->make_mac_key(mac, secret);
      ASSERT_EQ(mine.mac, theirs.mac);
      ASSERT_EQ(mine.inner, theirs.inner) << "key of " << key_size << " bytes";
      ASSERT_EQ(mine.outer, theirs.outer) << "key of " << key_size << " bytes";
    }
  }
}

TEST_P(EngineInterop, MacEqualsOpensslOnEveryMessageSize) {
  for (Mac mac : kMacs) {
    for (size_t size = 0; size <= kMaxMessage; ++size) {
      const std::vector<uint8_t> secret = random_bytes_of(size % (kMaxKey + 1));
      const MacKey key = engine_->make_mac_key(mac, secret);
      const auto msg = message(size, size);
      ASSERT_EQ(tag_of(*engine_, key, msg), tag_of(*reference_, key, msg))
          << "message of " << size << " bytes, key of " << secret.size();
    }
  }
}

TEST_P(EngineInterop, MacEqualsOpensslAtBlockBoundaries) {
  for (Mac mac : kMacs) {
    for (size_t key_size : {0, 1, 16, 20, 32, 55, 63, 64, 65, 100, 128, 129, 200}) {
      const MacKey key = engine_->make_mac_key(mac, random_bytes_of(key_size));
      for (size_t size : kBoundaries) {
        for (size_t salt = 0; salt < 4; ++salt) {
          const auto msg = message(size, salt);
          ASSERT_EQ(tag_of(*engine_, key, msg), tag_of(*reference_, key, msg))
              << "message of " << size << " bytes, key of " << key_size;
        }
      }
    }
  }
}

TEST_P(EngineInterop, KeysWorkAcrossEngines) {
  // A key made by one engine gives the same tags on the other, in both directions.
  for (Mac mac : kMacs) {
    for (size_t key_size : {0, 20, 64, 65, 131}) {
      const std::vector<uint8_t> secret = random_bytes_of(key_size);
      const MacKey from_engine = engine_->make_mac_key(mac, secret);
      const MacKey from_reference = reference_->make_mac_key(mac, secret);
      for (size_t size : kBoundaries) {
        const auto msg = message(size, key_size);
        const auto expected = tag_of(*reference_, from_reference, msg);
        EXPECT_EQ(tag_of(*engine_, from_reference, msg), expected);
        EXPECT_EQ(tag_of(*reference_, from_engine, msg), expected);
      }
    }
  }
}

TEST_P(EngineInterop, MacOfAMessageLongerThanAHashJob) {
  // Beyond 65534 bytes IPsec-MB takes no HMAC job; the engine must still be right.
  const std::vector<uint8_t> big = random_bytes_of(70'000);
  for (Mac mac : kMacs) {
    const MacKey key = engine_->make_mac_key(mac, random_bytes_of(20));
    for (size_t size : {65'534, 65'535, 70'000}) {
      const std::span<const uint8_t> msg{big.data(), size};
      EXPECT_EQ(tag_of(*engine_, key, msg), tag_of(*reference_, key, msg)) << size;
    }
  }
}

TEST_P(EngineInterop, BatchEqualsSingleMac) {
  // Every batch size 1..kMaxBatch, with mixed hashes, keys and message sizes (including empty
  // ones, which IPsec-MB cannot take as a job).
  std::vector<MacKey> keys;
  for (Mac mac : kMacs) {
    for (size_t key_size : {0, 16, 20, 64, 100}) {
      keys.push_back(engine_->make_mac_key(mac, random_bytes_of(key_size)));
    }
  }
  for (int round = 0; round < 8; ++round) {
    for (size_t n = 1; n <= kMaxBatch; ++n) {
      std::vector<MacJob> jobs(n);
      std::vector<std::array<uint8_t, kSha256Size + 8>> tags(n);
      for (size_t i = 0; i < n; ++i) {
        tags[i].fill(0xa5);
        const size_t size = (rng_() % 5 == 0) ? kBoundaries[rng_() % std::size(kBoundaries)]
                                              : rng_() % (kMaxMessage + 1);
        jobs[i] = {&keys[rng_() % keys.size()], message(size, i), tags[i].data()};
      }
      engine_->mac_batch(jobs);
      for (size_t i = 0; i < n; ++i) {
        const size_t size = mac_size(jobs[i].key->mac);
        const std::vector<uint8_t> batch_tag(tags[i].begin(),
                                             tags[i].begin() + static_cast<ptrdiff_t>(size));
        ASSERT_EQ(batch_tag, tag_of(*reference_, *jobs[i].key, jobs[i].message))
            << "job " << i << " of " << n << ", message of " << jobs[i].message.size();
        for (size_t j = size; j < tags[i].size(); ++j) ASSERT_EQ(tags[i][j], 0xa5);
      }
    }
  }
}

TEST_P(EngineInterop, BatchOfOneHashAcrossLaneCounts) {
  // Groups of one hash of every size up to kMaxBatch: whole and partial sets of lanes.
  for (Mac mac : kMacs) {
    const MacKey key = engine_->make_mac_key(mac, random_bytes_of(20));
    for (size_t n = 1; n <= kMaxBatch; ++n) {
      std::vector<MacJob> jobs(n);
      std::vector<std::array<uint8_t, kSha256Size>> tags(n);
      for (size_t i = 0; i < n; ++i) jobs[i] = {&key, message(100 + i * 13, i), tags[i].data()};
      engine_->mac_batch(jobs);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(std::vector<uint8_t>(tags[i].begin(), tags[i].begin() + mac_size(mac)),
                  tag_of(*reference_, key, jobs[i].message))
            << "job " << i << " of " << n;
      }
    }
  }
}

TEST_P(EngineInterop, BatchLargerThanMaxBatchIsComputedWhole) {
  const MacKey sha1 = engine_->make_mac_key(Mac::hmac_sha1, random_bytes_of(20));
  const MacKey sha256 = engine_->make_mac_key(Mac::hmac_sha256, random_bytes_of(32));
  constexpr size_t n = kMaxBatch + 9;
  std::vector<MacJob> jobs(n);
  std::vector<std::array<uint8_t, kSha256Size>> tags(n);
  for (size_t i = 0; i < n; ++i) {
    jobs[i] = {i % 3 == 0 ? &sha256 : &sha1, message(i * 7, i), tags[i].data()};
  }
  engine_->mac_batch(jobs);
  for (size_t i = 0; i < n; ++i) {
    const size_t size = mac_size(jobs[i].key->mac);
    EXPECT_EQ(std::vector<uint8_t>(tags[i].begin(), tags[i].begin() + static_cast<ptrdiff_t>(size)),
              tag_of(*reference_, *jobs[i].key, jobs[i].message))
        << "job " << i;
  }
}

TEST_P(EngineInterop, Sha256EqualsOpenssl) {
  for (size_t size = 0; size <= kMaxMessage; size += (size < 300 ? 1 : 7)) {
    std::array<uint8_t, kSha256Size> mine{}, theirs{};
    engine_->sha256(message(size, size), mine);
    reference_->sha256(message(size, size), theirs);
    ASSERT_EQ(mine, theirs) << "message of " << size << " bytes";
  }
}

TEST_P(EngineInterop, Md5EqualsOpenssl) {
  for (size_t size = 0; size <= kMaxMessage; size += (size < 300 ? 1 : 7)) {
    std::array<uint8_t, kMd5Size> mine{}, theirs{};
    engine_->md5(message(size, size), mine);
    reference_->md5(message(size, size), theirs);
    ASSERT_EQ(mine, theirs) << "message of " << size << " bytes";
  }
}

TEST_P(EngineInterop, Crc32EqualsZlib) {
  // zlib's crc32 is the ISO-HDLC CRC-32 that FINGERPRINT uses: every length, several alignments,
  // on both sides of the length where IPsec-MB changes manager.
  for (size_t size = 0; size <= kMaxMessage; ++size) {
    const auto msg = message(size, size);
    const auto zlib = static_cast<uint32_t>(::crc32_z(::crc32_z(0, nullptr, 0), msg.data(), msg.size()));
    ASSERT_EQ(engine_->crc32(msg), zlib) << "message of " << size << " bytes";
  }
}

INSTANTIATE_TEST_SUITE_P(Crypto, EngineInterop, testing::ValuesIn(engine_variants()), variant_name);

}  // namespace
}  // namespace tern::crypto::test
