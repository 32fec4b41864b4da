// RFC 8489 Appendix B.1 "Sample Request with Long-Term Authentication with MESSAGE-INTEGRITY-SHA256
// and USERHASH", as corrected by verified erratum 6268.
//
// The message printed in the RFC cannot be right: its header says 0x9c (156) bytes of attributes,
// which is the length of the whole message including the 20-byte header, and it carries no
// PASSWORD-ALGORITHM although its MESSAGE-INTEGRITY-SHA256 is keyed with the SHA-256 long-term key
// (not the default MD5). Erratum 6268 replaces it with a message of length 0x90 that carries
// PASSWORD-ALGORITHM SHA-256 and a recomputed MESSAGE-INTEGRITY-SHA256. The tests below use the
// corrected message for the parse and build checks, and show on the published one both faults the
// erratum names: the parser rejects it (length_past_datagram), and its tag is the HMAC over a
// header that still says 0x9c.
//
// The nonce starts with the RFC 8489 nonce cookie "obMatJos2AAAC": feature bits 0x000002, which is
// "Username anonymity" with bits numbered from the least significant side, as erratum 6290
// corrects §18.1 to say (the client uses USERHASH).

#include <gtest/gtest.h>

#include "tests/unit/control/stun_test_util.hpp"

namespace tern::stun::test {
namespace {

const std::vector<uint8_t> kCorrected = hex(R"(
  00 01 00 90  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
  00 1e 00 20  4a 3c f3 8f  ef 69 92 bd  a9 52 c6 78  04 17 da 0f
               24 81 94 15  56 9e 60 b2  05 c4 6e 41  40 7f 17 04
  00 15 00 29  6f 62 4d 61  74 4a 6f 73  32 41 41 41  43 66 2f 2f
               34 39 39 6b  39 35 34 64  36 4f 4c 33  34 6f 4c 39
               46 53 54 76  79 36 34 73  41 00 00 00
  00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
  00 1d 00 04  00 02 00 00
  00 1c 00 20  b5 c7 bf 00  5b 6c 52 a2  1c 51 c5 e8  92 f8 19 24
               13 62 96 cb  92 7c 43 14  93 09 27 8c  c6 51 8e 65)");

// As printed in RFC 8489: no PASSWORD-ALGORITHM, length 0x9c, the original tag.
const std::vector<uint8_t> kPublished = hex(R"(
  00 01 00 9c  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
  00 1e 00 20  4a 3c f3 8f  ef 69 92 bd  a9 52 c6 78  04 17 da 0f
               24 81 94 15  56 9e 60 b2  05 c4 6e 41  40 7f 17 04
  00 15 00 29  6f 62 4d 61  74 4a 6f 73  32 41 41 41  43 66 2f 2f
               34 39 39 6b  39 35 34 64  36 4f 4c 33  34 6f 4c 39
               46 53 54 76  79 36 34 73  41 00 00 00
  00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
  00 1c 00 20  e4 68 6c 8f  0e de b5 90  13 e0 70 90  01 0a 93 ef
               cc bc cc 54  4c 0a 45 d9  f8 30 aa 6d  6f 73 5a 01)");

constexpr std::string_view kUsername = "\xE3\x83\x9E\xE3\x83\x88\xE3\x83\xAA\xE3\x83\x83\xE3\x82\xAF\xE3\x82\xB9";
constexpr std::string_view kPassword = "TheMatrIX";
constexpr std::string_view kNonce = "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA";
constexpr std::string_view kRealm = "example.org";

class Rfc8489B1 : public CodecTest {
 protected:
  crypto::MacKey sha256_key() {
    const auto k = long_term_key(PasswordAlgorithm::sha256, kUsername, kRealm, kPassword, engine());
    EXPECT_TRUE(k);
    EXPECT_EQ(k->size, 32u);
    return key(crypto::Mac::hmac_sha256, k->span());
  }
  std::array<uint8_t, 256> scratch_{};
  std::array<uint8_t, 256> out_{};
};

TEST_F(Rfc8489B1, CorrectedMessageParses) {
  const auto parsed = parse(kCorrected);
  ASSERT_TRUE(parsed) << to_string(parsed.error);
  const Message& m = parsed.message;
  EXPECT_EQ(m.type(), (MessageType{Method::binding, MessageClass::request}));
  EXPECT_EQ(m.transaction_id(), TransactionId::from(std::span<const uint8_t, 12>(kCorrected.data() + 8, 12)));
  EXPECT_TRUE(m.unknown_required().empty());
  EXPECT_FALSE(m.has_message_integrity());
  EXPECT_TRUE(m.has_message_integrity_sha256());
  EXPECT_FALSE(m.has_fingerprint());

  // USERHASH = SHA-256(username ":" realm)
  const auto hash = userhash(m);
  ASSERT_TRUE(hash);
  const auto expected_hash = compute_userhash(kUsername, kRealm, engine());
  ASSERT_TRUE(expected_hash);
  EXPECT_TRUE(std::equal(hash->begin(), hash->end(), expected_hash->begin()));

  EXPECT_EQ(*nonce(m), kNonce);
  const auto features = nonce_security_features(*nonce(m));
  ASSERT_TRUE(features);
  EXPECT_EQ(features->bits, SecurityFeatures::kUsernameAnonymity);
  EXPECT_TRUE(features->username_anonymity());
  EXPECT_FALSE(features->password_algorithms());
  EXPECT_EQ(*realm(m), kRealm);

  const auto algorithm = password_algorithm(m);
  ASSERT_TRUE(algorithm);
  EXPECT_EQ(algorithm->algorithm, PasswordAlgorithm::sha256);
  EXPECT_TRUE(algorithm->parameters.empty());

  // key = SHA-256(username ":" realm ":" password), as PASSWORD-ALGORITHM says.
  EXPECT_TRUE(verify_integrity(m, Integrity::sha256, sha256_key(), engine(), scratch_));
  const auto md5 = long_term_key(PasswordAlgorithm::md5, kUsername, kRealm, kPassword, engine());
  EXPECT_FALSE(verify_integrity(m, Integrity::sha256, key(crypto::Mac::hmac_sha256, md5->span()), engine(),
                                scratch_));
}

TEST_F(Rfc8489B1, CorrectedMessageBuilds) {
  const auto hash = compute_userhash(kUsername, kRealm, engine());
  ASSERT_TRUE(hash);
  Builder b(out_, {Method::binding, MessageClass::request},
            TransactionId::from(std::span<const uint8_t, 12>(kCorrected.data() + 8, 12)));
  b.add_userhash(*hash);
  b.add_nonce(kNonce);
  b.add_realm(kRealm);
  b.add_password_algorithm({PasswordAlgorithm::sha256, {}});
  b.add_message_integrity_sha256(sha256_key(), engine());
  const auto built = b.finish();
  ASSERT_TRUE(built) << to_string(built.error);
  EXPECT_EQ(to_vector(built.bytes), kCorrected);
}

TEST_F(Rfc8489B1, PublishedMessageShowsTheErratum) {
  // Its length field counts the header too, so it claims 20 bytes more than there are.
  EXPECT_EQ(parse(kPublished).error, ParseError::length_past_datagram);

  // With the length corrected to 0x88 it parses, but its tag does not verify ...
  auto fixed = kPublished;
  fixed[3] = 0x88;
  const auto parsed = parse(fixed);
  ASSERT_TRUE(parsed) << to_string(parsed.error);
  const auto k = sha256_key();
  EXPECT_FALSE(verify_integrity(parsed.message, Integrity::sha256, k, engine(), scratch_));

  // ... because it was computed over the header with the wrong length, 0x9c.
  const size_t covered = kPublished.size() - 36;
  std::vector<uint8_t> input(kPublished.begin(), kPublished.begin() + static_cast<std::ptrdiff_t>(covered));
  input[3] = 0x9c;
  std::array<uint8_t, 32> tag{};
  engine().mac(k, input, tag);
  EXPECT_TRUE(std::equal(tag.begin(), tag.end(), kPublished.end() - 32));
}

}  // namespace
}  // namespace tern::stun::test
