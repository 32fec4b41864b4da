#include "conf/keys.hpp"

#include <gtest/gtest.h>

namespace tern::conf {
namespace {

// Computed outside tern:
//   printf %s 'alice:tern.test:wonderland' | md5sum
//   printf %s 'alice:tern.test:wonderland' | sha256sum
constexpr std::string_view kAliceMd5 = "dfd5bb6061925d2913bc194345850fdb";
constexpr std::string_view kAliceSha256 =
    "d4fb641f7c984f61e4bd7824be2dcfc883783f28c97047fa17056fbadf501706";

class Keys : public ::testing::Test {
 protected:
  std::unique_ptr<crypto::Engine> engine_ = crypto::make_engine(crypto::Backend::openssl);
};

TEST_F(Keys, Md5LongTermKey) {
  ASSERT_TRUE(engine_);
  EXPECT_EQ(to_hex(md5_key(*engine_, "alice", "tern.test", "wonderland")), kAliceMd5);
}

TEST_F(Keys, Sha256LongTermKey) {
  ASSERT_TRUE(engine_);
  EXPECT_EQ(to_hex(sha256_key(*engine_, "alice", "tern.test", "wonderland")), kAliceSha256);
}

// The credentials of RFC 5769 §2.4: username "<U+30DE><U+30C8><U+30EA><U+30C3><U+30AF><U+30B9>",
// realm "example.org", password "TheMatrIX" (the prepared form of "The<U+00AD>M<U+00AA>trIX").
// The key is MD5 of the UTF-8 bytes, computed outside tern with
//   printf
//   '\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9:example.org:TheMatrIX'
//   | md5sum
TEST_F(Keys, Rfc5769LongTermKeyOfUtf8Username) {
  ASSERT_TRUE(engine_);
  const std::string username =
      "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
  EXPECT_EQ(to_hex(md5_key(*engine_, username, "example.org", "TheMatrIX")),
            "e8ca7ad59d5eb0518e312911d2dab2a9");
}

TEST(Hex, ParsesExactLengthEitherCase) {
  std::array<uint8_t, 2> out{};
  EXPECT_TRUE(parse_hex("aB0f", out));
  EXPECT_EQ(out[0], 0xab);
  EXPECT_EQ(out[1], 0x0f);
  EXPECT_EQ(to_hex(out), "ab0f");
}

TEST(Hex, RejectsAndLeavesOutputAlone) {
  std::array<uint8_t, 2> out{0x11, 0x22};
  for (const std::string_view bad : {"", "abc", "abcde", "abcg", " abc", "0x12", "ab-c"})
    EXPECT_FALSE(parse_hex(bad, out)) << bad;
  EXPECT_EQ(out[0], 0x11);
  EXPECT_EQ(out[1], 0x22);
}

}  // namespace
}  // namespace tern::conf
