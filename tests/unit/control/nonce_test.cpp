// Stateless nonces: the RFC 8489 cookie, binding to the client's transport address, lifetime, and
// tampering.

#include <gtest/gtest.h>

#include "control/auth/nonce.hpp"
#include "tests/unit/control/control_test_util.hpp"

namespace tern::ctl::test {
namespace {

class NonceTest : public ::testing::Test {
 protected:
  void SetUp() override { engine_ = crypto::make_default_engine(); }
  NonceIssuer issuer(uint8_t seed = 7, uint32_t lifetime = 600) {
    std::array<uint8_t, 32> secret{};
    secret.fill(seed);
    return NonceIssuer(*engine_, lifetime, secret);
  }
  std::unique_ptr<crypto::Engine> engine_;
  const TransportAddress client_ = ta("198.51.100.7:40000");
  const int64_t t0_ = 1'700'000'000;
  const AlgorithmOffer both_{AlgorithmOffer::kMd5 | AlgorithmOffer::kSha256};
};

TEST_F(NonceTest, StartsWithTheCookie) {
  auto n = issuer().issue(client_, t0_, both_);
  const auto text = n.view();
  EXPECT_EQ(text.size(), kNonceSize);
  EXPECT_EQ(text.substr(0, 9), "obMatJos2");
  const auto features = stun::nonce_security_features(text);
  ASSERT_TRUE(features);
  EXPECT_TRUE(features->password_algorithms());
  EXPECT_TRUE(features->username_anonymity());
  // RFC 8489 §18.1 with erratum 6290: bits 0 and 1 set -> 0x000003 -> "AAAD".
  EXPECT_EQ(text.substr(9, 4), "AAAD");
  // A NONCE is a quoted-string's content: no quote, no backslash.
  EXPECT_EQ(text.find_first_of("\"\\"), std::string_view::npos);
}

TEST_F(NonceTest, ValidForItsClientDuringItsLifetime) {
  auto is = issuer();
  const auto n = is.issue(client_, t0_, both_);
  EXPECT_TRUE(is.valid(n.view(), client_, t0_));
  EXPECT_TRUE(is.valid(n.view(), client_, t0_ + 599));
  EXPECT_FALSE(is.valid(n.view(), client_, t0_ + 600));
  EXPECT_TRUE(is.valid(n.view(), client_, t0_ - kClockSkew));    // the clock stepped back a little
  EXPECT_FALSE(is.valid(n.view(), client_, t0_ - kClockSkew - 1));
  EXPECT_FALSE(is.valid(n.view(), ta("198.51.100.7:40001"), t0_));  // another port
  EXPECT_FALSE(is.valid(n.view(), ta("198.51.100.8:40000"), t0_));  // another address
}

TEST_F(NonceTest, DistinctPerClientAndTime) {
  auto is = issuer();
  EXPECT_NE(is.issue(client_, t0_, both_).view(), is.issue(ta("198.51.100.7:40001"), t0_, both_).view());
  EXPECT_NE(is.issue(client_, t0_, both_).view(), is.issue(client_, t0_ + 1, both_).view());
  EXPECT_EQ(is.issue(client_, t0_, both_).view(), is.issue(client_, t0_, both_).view());
}

TEST_F(NonceTest, TamperingAndForeignSecrets) {
  auto is = issuer();
  const auto n = is.issue(client_, t0_, both_);
  std::string text(n.view());
  for (size_t i = 0; i < text.size(); ++i) {
    std::string t = text;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(is.valid(t, client_, t0_)) << "changed character " << i;
  }
  EXPECT_FALSE(issuer(8).valid(text, client_, t0_));  // another server, or before a restart
  EXPECT_FALSE(is.valid("obMatJos2AAAD", client_, t0_));
  EXPECT_FALSE(is.valid("", client_, t0_));
  EXPECT_FALSE(is.valid(std::string(kNonceSize, 'x'), client_, t0_));
}

TEST_F(NonceTest, CarriesTheOffer) {
  auto is = issuer();
  const auto md5_only = is.issue(client_, t0_, AlgorithmOffer{AlgorithmOffer::kMd5});
  const auto fields = NonceIssuer::decode(md5_only.view());
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->offer, AlgorithmOffer{AlgorithmOffer::kMd5});
  EXPECT_EQ(fields->issued, static_cast<uint32_t>(t0_));
  // RFC 8489 §14.11: SHA-256 (0x0002) first, then MD5 (0x0001), no parameters.
  const auto encoded = encode_offer(both_);
  EXPECT_EQ(std::vector<uint8_t>(encoded.span().begin(), encoded.span().end()),
            (std::vector<uint8_t>{0, 2, 0, 0, 0, 1, 0, 0}));
}

}  // namespace
}  // namespace tern::ctl::test
