// RFC 5769 "Test Vectors for Session Traversal Utilities for NAT (STUN)": the four sample messages,
// parsed field by field with their MESSAGE-INTEGRITY and FINGERPRINT verified, and rebuilt byte
// for byte with the builder.
//
// The samples of §2.1-§2.3 pad with 0x20 (spaces), not zeros, as their bytes show (USERNAME
// "evtj:h6vY" is followed by 20 20 20, SOFTWARE "test vector" by 20); a receiver must ignore padding
// and the HMAC and CRC cover it. Those three are rebuilt with a Builder whose padding byte is 0x20,
// so the comparison covers every byte, padding included; §2.4 pads with zeros and is rebuilt with
// the default.

#include <gtest/gtest.h>

#include "tests/unit/control/stun_test_util.hpp"

namespace tern::stun::test {
namespace {

// RFC 5769 §2.1 Sample Request
const std::vector<uint8_t> kSampleRequest = hex(R"(
  00 01 00 58  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 10  53 54 55 4e  20 74 65 73  74 20 63 6c  69 65 6e 74
  00 24 00 04  6e 00 01 ff
  80 29 00 08  93 2f f9 b1  51 26 3b 36
  00 06 00 09  65 76 74 6a  3a 68 36 76  59 20 20 20
  00 08 00 14  9a ea a7 0c  bf d8 cb 56  78 1e f2 b5  b2 d3 f2 49  c1 b5 71 a2
  80 28 00 04  e5 7a 3b cf)");

// RFC 5769 §2.2 Sample IPv4 Response
const std::vector<uint8_t> kSampleIpv4Response = hex(R"(
  01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 08  00 01 a1 47  e1 12 a6 43
  00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7
  80 28 00 04  c0 7d 4c 96)");

// RFC 5769 §2.3 Sample IPv6 Response
const std::vector<uint8_t> kSampleIpv6Response = hex(R"(
  01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
  00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41
  80 28 00 04  c8 fb 0b 4c)");

// RFC 5769 §2.4 Sample Request with Long-Term Authentication
const std::vector<uint8_t> kSampleLongTermRequest = hex(R"(
  00 01 00 60  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
  00 06 00 12  e3 83 9e e3  83 88 e3 83  aa e3 83 83  e3 82 af e3  82 b9 00 00
  00 15 00 1c  66 2f 2f 34  39 39 6b 39  35 34 64 36  4f 4c 33 34  6f 4c 39 46
               53 54 76 79  36 34 73 41
  00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
  00 08 00 14  f6 70 24 65  6d d6 4a 3e  02 b8 e0 71  2e 85 c9 a2  8c a8 96 66)");

// §2.1-§2.3: "The password used in the examples is VOkJxbRl1RmTxUk/WvJxBt"; short-term credentials
// use the password itself as the HMAC key.
constexpr std::string_view kShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";
const TransactionId kShortTermId = TransactionId::from(
    std::span<const uint8_t, 12>(hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae").data(), 12));

// §2.4: username "<U+30DE><U+30C8><U+30EA><U+30C3><U+30AF><U+30B9>" (matorikkusu, unchanged by
// SASLprep), password "The<U+00AD>M<U+00AA>tr<U+2168>", which SASLprep maps to "TheMatrIX".
constexpr std::string_view kLongTermUsername = "\xE3\x83\x9E\xE3\x83\x88\xE3\x83\xAA\xE3\x83\x83\xE3\x82\xAF\xE3\x82\xB9";
constexpr std::string_view kLongTermPassword = "TheMatrIX";
constexpr std::string_view kLongTermNonce = "f//499k954d6OL34oL9FSTvy64sA";
constexpr std::string_view kLongTermRealm = "example.org";
const TransactionId kLongTermId = TransactionId::from(
    std::span<const uint8_t, 12>(hex("78 ad 34 33 c6 ad 72 c0 29 da 41 2e").data(), 12));

const std::vector<uint8_t> kPriority = hex("6e 00 01 ff");
const std::vector<uint8_t> kIceControlled = hex("93 2f f9 b1 51 26 3b 36");

class Rfc5769 : public CodecTest {
 protected:
  std::array<uint8_t, 256> scratch_{};
  std::array<uint8_t, 256> out_{};
};

TEST_F(Rfc5769, SampleRequestParses) {
  const auto parsed = parse(kSampleRequest);
  ASSERT_TRUE(parsed) << to_string(parsed.error);
  const Message& m = parsed.message;
  EXPECT_EQ(m.method(), Method::binding);
  EXPECT_EQ(m.message_class(), MessageClass::request);
  EXPECT_EQ(m.transaction_id(), kShortTermId);
  EXPECT_EQ(m.attribute_count(), 6u);

  ASSERT_TRUE(software(m));
  EXPECT_EQ(*software(m), "STUN test client");
  ASSERT_TRUE(username(m));
  EXPECT_EQ(*username(m), "evtj:h6vY");
  // PRIORITY (0x0024) and ICE-CONTROLLED (0x8029) are ICE attributes (RFC 8445) that a TURN server
  // does not understand: the comprehension-required one is reported for a 420, the optional one
  // is only indexed.
  const auto priority = m.find(static_cast<AttributeType>(0x0024));
  ASSERT_TRUE(priority);
  EXPECT_EQ(to_vector(priority->value), kPriority);
  const auto controlled = m.find(static_cast<AttributeType>(0x8029));
  ASSERT_TRUE(controlled);
  EXPECT_EQ(to_vector(controlled->value), kIceControlled);
  ASSERT_EQ(m.unknown_required().size(), 1u);
  EXPECT_EQ(m.unknown_required()[0], 0x0024);

  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_EQ(*fingerprint(m), 0xe57a3bcfu);
  ASSERT_TRUE(m.has_message_integrity());
  EXPECT_FALSE(m.has_message_integrity_sha256());
  const auto k = key(crypto::Mac::hmac_sha1, kShortTermPassword);
  EXPECT_TRUE(verify_integrity(m, Integrity::sha1, k, engine(), scratch_));
  const auto wrong = key(crypto::Mac::hmac_sha1, "VOkJxbRl1RmTxUk/WvJxBu");
  EXPECT_FALSE(verify_integrity(m, Integrity::sha1, wrong, engine(), scratch_));
}

TEST_F(Rfc5769, SampleRequestBuilds) {
  const auto k = key(crypto::Mac::hmac_sha1, kShortTermPassword);
  Builder b(out_, {Method::binding, MessageClass::request}, kShortTermId, 0x20);
  b.add_software("STUN test client");
  b.add_raw(0x0024, kPriority);
  b.add_raw(0x8029, kIceControlled);
  b.add_username("evtj:h6vY");
  b.add_message_integrity(k, engine());
  b.add_fingerprint(engine());
  const auto built = b.finish();
  ASSERT_TRUE(built) << to_string(built.error);
  EXPECT_EQ(to_vector(built.bytes), kSampleRequest);
}

TEST_F(Rfc5769, SampleIpv4ResponseParsesAndBuilds) {
  const auto parsed = parse(kSampleIpv4Response);
  ASSERT_TRUE(parsed) << to_string(parsed.error);
  const Message& m = parsed.message;
  EXPECT_EQ(m.type(), (MessageType{Method::binding, MessageClass::success_response}));
  EXPECT_EQ(m.transaction_id(), kShortTermId);
  EXPECT_EQ(*software(m), "test vector");
  const auto mapped = xor_mapped_address(m);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, *TransportAddress::parse("192.0.2.1:32853"));
  EXPECT_TRUE(m.unknown_required().empty());
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_EQ(*fingerprint(m), 0xc07d4c96u);
  const auto k = key(crypto::Mac::hmac_sha1, kShortTermPassword);
  EXPECT_TRUE(verify_integrity(m, Integrity::sha1, k, engine(), scratch_));

  Builder b(out_, m.type(), kShortTermId, 0x20);
  b.add_software("test vector");
  b.add_xor_mapped_address(*mapped);
  b.add_message_integrity(k, engine());
  b.add_fingerprint(engine());
  const auto built = b.finish();
  ASSERT_TRUE(built);
  EXPECT_EQ(to_vector(built.bytes), kSampleIpv4Response);
}

TEST_F(Rfc5769, SampleIpv6ResponseParsesAndBuilds) {
  const auto parsed = parse(kSampleIpv6Response);
  ASSERT_TRUE(parsed) << to_string(parsed.error);
  const Message& m = parsed.message;
  EXPECT_EQ(m.type(), (MessageType{Method::binding, MessageClass::success_response}));
  EXPECT_EQ(*software(m), "test vector");
  const auto mapped = xor_mapped_address(m);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, *TransportAddress::parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
  EXPECT_EQ(*fingerprint(m), 0xc8fb0b4cu);
  const auto k = key(crypto::Mac::hmac_sha1, kShortTermPassword);
  EXPECT_TRUE(verify_integrity(m, Integrity::sha1, k, engine(), scratch_));

  Builder b(out_, m.type(), kShortTermId, 0x20);
  b.add_software("test vector");
  b.add_xor_mapped_address(*mapped);
  b.add_message_integrity(k, engine());
  b.add_fingerprint(engine());
  const auto built = b.finish();
  ASSERT_TRUE(built);
  EXPECT_EQ(to_vector(built.bytes), kSampleIpv6Response);
}

TEST_F(Rfc5769, SampleLongTermRequestParsesAndBuilds) {
  const auto parsed = parse(kSampleLongTermRequest);
  ASSERT_TRUE(parsed) << to_string(parsed.error);
  const Message& m = parsed.message;
  EXPECT_EQ(m.type(), (MessageType{Method::binding, MessageClass::request}));
  EXPECT_EQ(m.transaction_id(), kLongTermId);
  EXPECT_EQ(*username(m), kLongTermUsername);
  EXPECT_EQ(*nonce(m), kLongTermNonce);
  EXPECT_EQ(*realm(m), kLongTermRealm);
  EXPECT_FALSE(m.has_fingerprint());
  // The nonce predates RFC 8489's cookie.
  EXPECT_FALSE(nonce_security_features(*nonce(m)));

  // key = MD5(username ":" realm ":" password)
  const auto long_term = long_term_key(PasswordAlgorithm::md5, kLongTermUsername, kLongTermRealm,
                                       kLongTermPassword, engine());
  ASSERT_TRUE(long_term);
  EXPECT_EQ(long_term->size, 16u);
  const auto k = key(crypto::Mac::hmac_sha1, long_term->span());
  EXPECT_TRUE(verify_integrity(m, Integrity::sha1, k, engine(), scratch_));
  // The password before SASLprep is not the key.
  const auto unprepared = long_term_key(PasswordAlgorithm::md5, kLongTermUsername, kLongTermRealm,
                                        "The\xC2\xAD" "M\xC2\xAAtr\xE2\x85\xA8", engine());
  EXPECT_FALSE(verify_integrity(m, Integrity::sha1, key(crypto::Mac::hmac_sha1, unprepared->span()),
                                engine(), scratch_));

  Builder b(out_, m.type(), kLongTermId);
  b.add_username(kLongTermUsername);
  b.add_nonce(kLongTermNonce);
  b.add_realm(kLongTermRealm);
  b.add_message_integrity(k, engine());
  const auto built = b.finish();
  ASSERT_TRUE(built);
  EXPECT_EQ(to_vector(built.bytes), kSampleLongTermRequest);
}

// The samples verify through the batch path the control plane uses too.
TEST_F(Rfc5769, AllFourVerifyInOneBatch) {
  const auto short_key = key(crypto::Mac::hmac_sha1, kShortTermPassword);
  const auto long_term = long_term_key(PasswordAlgorithm::md5, kLongTermUsername, kLongTermRealm,
                                       kLongTermPassword, engine());
  const auto long_key = key(crypto::Mac::hmac_sha1, long_term->span());
  const std::vector<uint8_t>* samples[] = {&kSampleRequest, &kSampleIpv4Response, &kSampleIpv6Response,
                                           &kSampleLongTermRequest};
  const crypto::MacKey* keys[] = {&short_key, &short_key, &short_key, &long_key};
  std::array<ParseResult, 4> parsed;
  std::array<std::array<uint8_t, 256>, 4> scratch{};
  std::array<crypto::MacCheck, 4> checks;
  for (size_t i = 0; i < 4; ++i) {
    parsed[i] = parse(*samples[i]);
    ASSERT_TRUE(parsed[i]);
    const auto input = integrity_input(parsed[i].message, Integrity::sha1, scratch[i]);
    ASSERT_TRUE(input);
    checks[i] = mac_check(*input, *keys[i]);
  }
  EXPECT_EQ(engine().verify_batch(checks), 0b1111u);
  checks[2].key = &long_key;
  EXPECT_EQ(engine().verify_batch(checks), 0b1011u);
}

}  // namespace
}  // namespace tern::stun::test
