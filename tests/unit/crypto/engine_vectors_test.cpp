// Published known answers, on every engine: RFC 2202 (HMAC-SHA1), RFC 4231 (HMAC-SHA256),
// FIPS 180-2 Appendix B (SHA-256), RFC 1321 §A.5 (MD5) and the CRC-32 check value.

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "crypto/engine.hpp"
#include "tests/unit/crypto/engine_variants.hpp"

namespace tern::crypto::test {
namespace {

struct HmacCase {
  int number;
  std::vector<uint8_t> key;
  std::vector<uint8_t> data;
  std::string digest;  // hex; shorter than the full tag for RFC 4231 case 5
};

std::vector<uint8_t> counting_key() {  // 0x01, 0x02, ..., 0x19
  std::vector<uint8_t> key;
  for (uint8_t i = 1; i <= 25; ++i) key.push_back(i);
  return key;
}

// RFC 2202 §3.
std::vector<HmacCase> rfc2202_cases() {
  return {
      {1, repeated(0x0b, 20), bytes("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"},
      {2, bytes("Jefe"), bytes("what do ya want for nothing?"),
       "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
      {3, repeated(0xaa, 20), repeated(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
      {4, counting_key(), repeated(0xcd, 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
      {5, repeated(0x0c, 20), bytes("Test With Truncation"),
       "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
      {6, repeated(0xaa, 80), bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
       "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
      {7, repeated(0xaa, 80),
       bytes("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
       "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
  };
}

// RFC 4231 §4.2-§4.8. Case 5 is published truncated to 128 bits.
std::vector<HmacCase> rfc4231_cases() {
  return {
      {1, repeated(0x0b, 20), bytes("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {2, bytes("Jefe"), bytes("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {3, repeated(0xaa, 20), repeated(0xdd, 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {4, counting_key(), repeated(0xcd, 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {5, repeated(0x0c, 20), bytes("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b"},
      {6, repeated(0xaa, 131), bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {7, repeated(0xaa, 131),
       bytes("This is a test using a larger than block-size key and a larger than block-size data."
             " The key needs to be hashed before being used by the HMAC algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

class EngineVectors : public testing::TestWithParam<EngineVariant> {
 protected:
  void SetUp() override {
    engine_ = GetParam().make();
    // A backend that was built must run here: nullptr is a failure, never a skip.
    ASSERT_NE(engine_, nullptr) << GetParam().name << " was built but could not be made";
  }

  // Checks one case through every entry point: mac, mac_batch, verify and verify_batch.
  void check_hmac(Mac mac, const HmacCase& c) {
    SCOPED_TRACE("case " + std::to_string(c.number));
    const std::vector<uint8_t> expected = from_hex(c.digest);
    const MacKey key = engine_->make_mac_key(mac, c.key);
    ASSERT_EQ(key.mac, mac);

    std::array<uint8_t, kSha256Size> tag{};
    engine_->mac(key, c.data, tag);
    EXPECT_EQ(to_hex({tag.data(), expected.size()}), c.digest);

    std::array<uint8_t, kSha256Size> batch_tag{};
    const MacJob job{&key, c.data, batch_tag.data()};
    engine_->mac_batch({&job, 1});
    EXPECT_EQ(to_hex({batch_tag.data(), expected.size()}), c.digest);

    EXPECT_TRUE(engine_->verify(key, c.data, expected));
    const MacCheck check{&key, c.data, expected};
    EXPECT_EQ(engine_->verify_batch({&check, 1}), 1u);
  }

  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineVectors, HmacSha1Rfc2202) {
  for (const HmacCase& c : rfc2202_cases()) check_hmac(Mac::hmac_sha1, c);
}

TEST_P(EngineVectors, HmacSha1Rfc2202Case5Truncated) {
  // RFC 2202 §3 case 5 also gives HMAC-SHA1-96.
  const MacKey key = engine_->make_mac_key(Mac::hmac_sha1, repeated(0x0c, 20));
  EXPECT_TRUE(engine_->verify(key, bytes("Test With Truncation"), from_hex("4c1a03424b55e07fe7f27be1")));
}

TEST_P(EngineVectors, HmacSha256Rfc4231) {
  for (const HmacCase& c : rfc4231_cases()) check_hmac(Mac::hmac_sha256, c);
}

TEST_P(EngineVectors, HmacSha256Rfc4231Case5IsTruncated) {
  // The published value is the leading 128 bits; the full tag must start with it and a wrong
  // 128-bit prefix must not verify.
  const HmacCase c = rfc4231_cases()[4];
  ASSERT_EQ(c.number, 5);
  const MacKey key = engine_->make_mac_key(Mac::hmac_sha256, c.key);
  std::vector<uint8_t> wrong = from_hex(c.digest);
  ASSERT_EQ(wrong.size(), 16u);
  wrong[15] ^= 0x01;
  EXPECT_FALSE(engine_->verify(key, c.data, wrong));
}

TEST_P(EngineVectors, Sha256Fips180) {
  struct Case {
    std::vector<uint8_t> message;
    std::string digest;
  };
  const std::vector<Case> cases = {
      {bytes(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {bytes("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      // One million 'a': longer than any hash job, so it takes the long-message path.
      {repeated('a', 1'000'000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const Case& c : cases) {
    std::array<uint8_t, kSha256Size> digest{};
    engine_->sha256(c.message, digest);
    EXPECT_EQ(to_hex(digest), c.digest) << "message of " << c.message.size() << " bytes";
  }
}

TEST_P(EngineVectors, Md5Rfc1321) {
  struct Case {
    const char* message;
    const char* digest;
  };
  const Case cases[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for (const Case& c : cases) {
    std::array<uint8_t, kMd5Size> digest{};
    engine_->md5(bytes(c.message), digest);
    EXPECT_EQ(to_hex(digest), c.digest) << '"' << c.message << '"';
  }
}

TEST_P(EngineVectors, Crc32CheckValue) {
  // The CRC catalogue's check value for CRC-32/ISO-HDLC: the CRC of "123456789".
  EXPECT_EQ(engine_->crc32(bytes("123456789")), 0xCBF43926u);
}

TEST_P(EngineVectors, Crc32OfNothingIsZero) {
  EXPECT_EQ(engine_->crc32({}), 0u);
  const uint8_t byte = 0x42;
  EXPECT_EQ(engine_->crc32({&byte, 0}), 0u);
}

TEST_P(EngineVectors, ReportsItsBackend) {
  const bool openssl = GetParam().name == "openssl";
  EXPECT_EQ(engine_->backend(), openssl ? Backend::openssl : Backend::ipsec_mb);
}

INSTANTIATE_TEST_SUITE_P(Crypto, EngineVectors, testing::ValuesIn(engine_variants()), variant_name);

TEST(EngineFactory, DefaultEngineIsIpsecMbWhenBuilt) {
  const auto engine = make_default_engine();
  ASSERT_NE(engine, nullptr);
#if TERN_HAVE_IPSEC_MB
  EXPECT_EQ(engine->backend(), Backend::ipsec_mb);
#else
  EXPECT_EQ(engine->backend(), Backend::openssl);
  EXPECT_EQ(make_engine(Backend::ipsec_mb), nullptr);
#endif
}

}  // namespace
}  // namespace tern::crypto::test
