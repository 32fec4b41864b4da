// The parser: every reject reason provoked on purpose, the attribute index rules (unknown
// attributes, duplicates, what follows the integrity attributes), and the integrity inputs.

#include <gtest/gtest.h>

#include "control/stun/wire.hpp"
#include "tests/unit/control/stun_test_util.hpp"

namespace tern::stun::test {
namespace {

const TransactionId kId = TransactionId::from(
    std::span<const uint8_t, 12>(hex("01 02 03 04 05 06 07 08 09 0a 0b 0c").data(), 12));

// Writes TLVs by hand, without the builder's checks, and fixes the header length at the end.
class RawMessage {
 public:
  explicit RawMessage(uint16_t type = 0x0001) {
    bytes_.resize(kHeaderSize);
    wire::store_u16(bytes_.data(), type);
    wire::store_u32(bytes_.data() + 4, kMagicCookie);
    std::copy(kId.bytes.begin(), kId.bytes.end(), bytes_.begin() + 8);
  }
  RawMessage& attr(uint16_t type, const std::vector<uint8_t>& value) {
    const size_t at = bytes_.size();
    bytes_.resize(at + 4 + wire::padded(value.size()));
    wire::store_u16(bytes_.data() + at, type);
    wire::store_u16(bytes_.data() + at + 2, static_cast<uint16_t>(value.size()));
    std::copy(value.begin(), value.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(at + 4));
    return *this;
  }
  RawMessage& attr(AttributeType type, const std::vector<uint8_t>& value) {
    return attr(static_cast<uint16_t>(type), value);
  }
  RawMessage& text(AttributeType type, std::string_view text) {
    return attr(type, std::vector<uint8_t>(text.begin(), text.end()));
  }
  // A FINGERPRINT over what is there so far.
  RawMessage& fingerprint(crypto::Engine& engine) {
    const size_t at = bytes_.size();
    attr(AttributeType::fingerprint, {0, 0, 0, 0});
    fix_length();
    wire::store_u32(bytes_.data() + at + 4, fingerprint_value({bytes_.data(), at}, engine));
    return *this;
  }
  std::vector<uint8_t> done() {
    fix_length();
    return bytes_;
  }

 private:
  void fix_length() { wire::store_u16(bytes_.data() + 2, static_cast<uint16_t>(bytes_.size() - kHeaderSize)); }
  std::vector<uint8_t> bytes_;
};

std::vector<uint8_t> filled(size_t n, uint8_t v) { return std::vector<uint8_t>(n, v); }

class Parser : public CodecTest {};

TEST_F(Parser, EmptyMessage) {
  const auto bytes = RawMessage(0x0001).done();
  const auto parsed = parse(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed.message.attribute_count(), 0u);
  EXPECT_EQ(parsed.message.transaction_id(), kId);
  EXPECT_EQ(parsed.message.bytes().size(), kHeaderSize);
}

TEST_F(Parser, TooShort) {
  const auto bytes = RawMessage().done();
  for (size_t n = 0; n < kHeaderSize; ++n) {
    EXPECT_EQ(parse({bytes.data(), n}).error, ParseError::too_short) << n;
  }
}

TEST_F(Parser, FirstTwoBits) {
  for (const uint8_t top : {0x40, 0x80, 0xC0}) {
    auto bytes = RawMessage().done();
    bytes[0] |= top;
    EXPECT_EQ(parse(bytes).error, ParseError::not_stun_first_bits);
  }
}

TEST_F(Parser, MagicCookie) {
  for (size_t i = 4; i < 8; ++i) {
    auto bytes = RawMessage().done();
    bytes[i] ^= 0x01;
    EXPECT_EQ(parse(bytes).error, ParseError::bad_magic_cookie) << i;
  }
}

TEST_F(Parser, LengthNotMultipleOf4) {
  auto bytes = RawMessage().text(AttributeType::software, "abcd").done();
  for (const uint16_t length : {1, 2, 3, 5, 6, 7}) {
    wire::store_u16(bytes.data() + 2, length);
    EXPECT_EQ(parse(bytes).error, ParseError::length_not_multiple_of_4) << length;
  }
}

TEST_F(Parser, LengthAgainstDatagram) {
  auto bytes = RawMessage().text(AttributeType::software, "abcd").done();
  wire::store_u16(bytes.data() + 2, 12);
  EXPECT_EQ(parse(bytes).error, ParseError::length_past_datagram);
  wire::store_u16(bytes.data() + 2, 4);
  EXPECT_EQ(parse(bytes).error, ParseError::trailing_bytes);
  wire::store_u16(bytes.data() + 2, 8);
  EXPECT_TRUE(parse(bytes));
}

TEST_F(Parser, AttributeOverflow) {
  // A value length that runs past the end, and one whose padding would.
  auto bytes = RawMessage().text(AttributeType::software, "abcd").done();
  wire::store_u16(bytes.data() + kHeaderSize + 2, 5);
  EXPECT_EQ(parse(bytes).error, ParseError::attribute_overflow);
  wire::store_u16(bytes.data() + kHeaderSize + 2, 0xFFFF);
  EXPECT_EQ(parse(bytes).error, ParseError::attribute_overflow);
  wire::store_u16(bytes.data() + kHeaderSize + 2, 3);
  const auto parsed = parse(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*software(parsed.message), "abc");
}

TEST_F(Parser, TooManyAttributes) {
  RawMessage at_limit;
  for (size_t i = 0; i < kMaxAttributes; ++i) at_limit.attr(AttributeType::xor_peer_address, {0, 1, 0, 0, 1, 2, 3, 4});
  const auto ok = at_limit.done();
  const auto parsed = parse(ok);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed.message.count(AttributeType::xor_peer_address), kMaxAttributes);
  const auto over = at_limit.attr(AttributeType::software, {}).done();
  EXPECT_EQ(parse(over).error, ParseError::too_many_attributes);
}

TEST_F(Parser, IntegrityAttributeLengths) {
  EXPECT_EQ(parse(RawMessage().attr(AttributeType::message_integrity, filled(19, 1)).done()).error,
            ParseError::bad_message_integrity);
  EXPECT_EQ(parse(RawMessage().attr(AttributeType::message_integrity, filled(32, 1)).done()).error,
            ParseError::bad_message_integrity);
  for (size_t n = 0; n <= 40; ++n) {
    const auto bytes = RawMessage().attr(AttributeType::message_integrity_sha256, filled(n, 1)).done();
    const bool valid = n >= 16 && n <= 32 && n % 4 == 0;
    EXPECT_EQ(parse(bytes).error, valid ? ParseError::none : ParseError::bad_message_integrity_sha256) << n;
  }
  EXPECT_EQ(parse(RawMessage().attr(AttributeType::fingerprint, filled(8, 1)).done()).error,
            ParseError::bad_fingerprint);
}

TEST_F(Parser, Fingerprint) {
  const auto good = RawMessage().text(AttributeType::software, "tern").fingerprint(engine()).done();
  const auto parsed = parse(good);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed.message.has_fingerprint());
  EXPECT_EQ(parsed.message.fingerprint_offset(), 28u);

  // Any change to the covered bytes or to the value is caught. (The lengths and the cookie are
  // checked before the CRC; a change to the FINGERPRINT attribute header makes it another attribute.)
  for (size_t i = 0; i < good.size(); ++i) {
    if ((i >= 2 && i < 8) || i == 22 || i == 23 || (i >= 28 && i < 32)) continue;
    auto bad = good;
    bad[i] ^= 0x01;
    EXPECT_EQ(parse(bad).error, ParseError::fingerprint_mismatch) << i;
  }
}

TEST_F(Parser, FingerprintNotLast) {
  const auto bytes =
      RawMessage().text(AttributeType::software, "tern").fingerprint(engine()).text(AttributeType::realm, "x").done();
  EXPECT_EQ(parse(bytes).error, ParseError::fingerprint_not_last);
  const auto two = RawMessage().fingerprint(engine()).fingerprint(engine()).done();
  EXPECT_EQ(parse(two).error, ParseError::fingerprint_not_last);
}

TEST_F(Parser, UnknownAttributes) {
  const auto bytes = RawMessage()
                         .attr(0x0024, {1, 2, 3, 4})   // PRIORITY: required, not understood
                         .attr(0x7FFF, {})             // required
                         .attr(0x0024, {5, 6, 7, 8})   // listed once
                         .attr(0x8029, filled(8, 9))   // optional: ignored
                         .attr(0xFFFF, {1})            // optional
                         .attr(0x0003, {0, 0, 0, 0})   // reserved (was CHANGE-REQUEST): not understood
                         .text(AttributeType::username, "u")
                         .done();
  const auto parsed = parse(bytes);
  ASSERT_TRUE(parsed);
  const auto unknown = parsed.message.unknown_required();
  ASSERT_EQ(unknown.size(), 3u);
  EXPECT_EQ(unknown[0], 0x0024);
  EXPECT_EQ(unknown[1], 0x7FFF);
  EXPECT_EQ(unknown[2], 0x0003);
  EXPECT_EQ(parsed.message.attribute_count(), 7u);
  EXPECT_EQ(*username(parsed.message), "u");
}

TEST_F(Parser, FirstOfDuplicatesCounts) {
  const auto bytes = RawMessage()
                         .text(AttributeType::realm, "first")
                         .attr(AttributeType::lifetime, {0, 0, 0, 1})
                         .text(AttributeType::realm, "second")
                         .attr(AttributeType::lifetime, {0, 0, 0, 2})
                         .attr(AttributeType::xor_peer_address, {0, 1, 0x21, 0x13, 0x21, 0x12, 0xa4, 0x43})
                         .attr(AttributeType::xor_peer_address, {0, 1, 0x21, 0x14, 0x21, 0x12, 0xa4, 0x44})
                         .done();
  const auto parsed = parse(bytes);
  ASSERT_TRUE(parsed);
  const Message& m = parsed.message;
  EXPECT_EQ(*realm(m), "first");
  EXPECT_EQ(lifetime(m)->seconds, 1u);
  EXPECT_EQ(m.count(AttributeType::realm), 2u);
  std::vector<TransportAddress> peers;
  for (const RawAttribute raw : m.all(AttributeType::xor_peer_address)) {
    peers.push_back(*decode_xor_address(raw.value, m.transaction_id()));
  }
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0], *TransportAddress::parse("0.0.0.1:1"));
  EXPECT_EQ(peers[1], *TransportAddress::parse("0.0.0.6:6"));
  EXPECT_EQ(*xor_peer_address(m), peers[0]);
}

TEST_F(Parser, AttributesAfterMessageIntegrityAreIgnored) {
  // RFC 8489 §14.5: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count.
  const auto bytes = RawMessage()
                         .text(AttributeType::username, "alice")
                         .attr(AttributeType::message_integrity, filled(20, 0xAA))
                         .text(AttributeType::realm, "ignored")
                         .attr(0x0024, {1, 2, 3, 4})  // an unknown required one, ignored too
                         .attr(AttributeType::message_integrity, filled(20, 0xBB))
                         .attr(AttributeType::message_integrity, filled(3, 0xBB))  // even malformed
                         .attr(AttributeType::message_integrity_sha256, filled(32, 0xCC))
                         .text(AttributeType::nonce, "ignored")
                         .attr(AttributeType::message_integrity, filled(20, 0xDD))
                         .attr(AttributeType::message_integrity_sha256, filled(32, 0xEE))
                         .fingerprint(engine())
                         .done();
  const auto parsed = parse(bytes);
  ASSERT_TRUE(parsed) << to_string(parsed.error);
  const Message& m = parsed.message;
  EXPECT_EQ(m.attribute_count(), 4u);
  EXPECT_TRUE(username(m));
  EXPECT_TRUE(realm(m).is_absent());
  EXPECT_TRUE(nonce(m).is_absent());
  EXPECT_TRUE(m.unknown_required().empty());
  EXPECT_EQ(to_vector(*message_integrity(m)), filled(20, 0xAA));
  EXPECT_EQ(to_vector(*message_integrity_sha256(m)), filled(32, 0xCC));
  EXPECT_EQ(m.message_integrity_offset(), 32u);
  EXPECT_EQ(m.message_integrity_sha256_offset(), 32u + 24 + 12 + 8 + 24 + 8);
  EXPECT_TRUE(m.has_fingerprint());
}

TEST_F(Parser, AttributesAfterMessageIntegritySha256AreIgnored) {
  // RFC 8489 §14.6: after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT counts; a MESSAGE-INTEGRITY
  // there is ignored as well.
  const auto bytes = RawMessage()
                         .attr(AttributeType::message_integrity_sha256, filled(16, 0xCC))
                         .attr(AttributeType::message_integrity, filled(20, 0xAA))
                         .attr(AttributeType::lifetime, {0, 0, 0, 1})
                         .done();
  const auto parsed = parse(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed.message.attribute_count(), 1u);
  EXPECT_FALSE(parsed.message.has_message_integrity());
  EXPECT_TRUE(parsed.message.has_message_integrity_sha256());
  EXPECT_TRUE(lifetime(parsed.message).is_absent());
}

TEST_F(Parser, IgnoredAttributesMustStillFit) {
  auto bytes = RawMessage().attr(AttributeType::message_integrity, filled(20, 0xAA)).text(AttributeType::realm, "abcd").done();
  wire::store_u16(bytes.data() + kHeaderSize + 24 + 2, 9);
  EXPECT_EQ(parse(bytes).error, ParseError::attribute_overflow);
}

// The integrity input is the message up to the attribute, with the length pointing at its end.
TEST_F(Parser, IntegrityInputs) {
  const auto bytes = RawMessage()
                         .text(AttributeType::username, "alice")
                         .attr(AttributeType::message_integrity, filled(20, 0xAA))
                         .attr(AttributeType::message_integrity_sha256, filled(24, 0xCC))
                         .fingerprint(engine())
                         .done();
  const auto parsed = parse(bytes);
  ASSERT_TRUE(parsed);
  std::array<uint8_t, 128> scratch{};
  const auto mi = integrity_input(parsed.message, Integrity::sha1, scratch);
  ASSERT_TRUE(mi);
  EXPECT_EQ(mi->message.size(), 32u);
  EXPECT_EQ(wire::load_u16(mi->message.data() + 2), 12u + 24);
  EXPECT_TRUE(std::equal(mi->message.begin() + 4, mi->message.end(), bytes.begin() + 4));
  EXPECT_EQ(to_vector(mi->expected), filled(20, 0xAA));
  EXPECT_EQ(mi->mac, crypto::Mac::hmac_sha1);
  // The caller's bytes are untouched.
  EXPECT_EQ(wire::load_u16(bytes.data() + 2), bytes.size() - kHeaderSize);

  std::array<uint8_t, 128> scratch2{};
  const auto sha = integrity_input(parsed.message, Integrity::sha256, scratch2);
  ASSERT_TRUE(sha);
  EXPECT_EQ(sha->message.size(), 56u);
  EXPECT_EQ(wire::load_u16(sha->message.data() + 2), 12u + 24 + 28);
  EXPECT_EQ(to_vector(sha->expected), filled(24, 0xCC));
  EXPECT_EQ(sha->mac, crypto::Mac::hmac_sha256);

  EXPECT_EQ(integrity_input_size(parsed.message, Integrity::sha1), 32u);
  std::array<uint8_t, 31> small{};
  EXPECT_FALSE(integrity_input(parsed.message, Integrity::sha1, small));

  const auto plain = RawMessage().text(AttributeType::username, "alice").done();
  const auto none = parse(plain);
  EXPECT_FALSE(integrity_input(none.message, Integrity::sha1, scratch));
  EXPECT_FALSE(integrity_input_size(none.message, Integrity::sha256));
}

// Requests built with their MAC, checked in one verify_batch call, some with the wrong key, some
// tampered with after signing, and a truncated SHA-256 tag.
TEST_F(Parser, BatchVerification) {
  const auto sha1_key = key(crypto::Mac::hmac_sha1, "secret-1");
  const auto sha256_key = key(crypto::Mac::hmac_sha256, "secret-2");
  const auto other_key = key(crypto::Mac::hmac_sha1, "secret-3");
  constexpr size_t kCount = 12;
  std::array<std::array<uint8_t, 256>, kCount> buffers{};
  std::array<std::array<uint8_t, 256>, kCount> scratch{};
  std::array<ParseResult, kCount> parsed;
  std::array<crypto::MacCheck, kCount> checks{};
  uint32_t expected = 0;
  for (size_t i = 0; i < kCount; ++i) {
    TransactionId id = kId;
    id.bytes[0] = static_cast<uint8_t>(i);
    Builder b(buffers[i], {Method::allocate, MessageClass::request}, id);
    b.add_username("user" + std::to_string(i));
    b.add_requested_transport({});
    const bool sha256 = i % 3 == 0;
    if (sha256) {
      b.add_message_integrity_sha256(sha256_key, engine(), 16 + 4 * (i % 5));
    } else {
      b.add_message_integrity(sha1_key, engine());
    }
    b.add_fingerprint(engine());
    const auto built = b.finish();
    ASSERT_TRUE(built) << to_string(built.error);
    const bool tamper = i % 4 == 1;
    if (tamper) {
      // Change USERNAME after signing and fix the FINGERPRINT so the message still parses.
      buffers[i][kHeaderSize + 4] ^= 0x20;
      const size_t fp = built.bytes.size() - 8;
      wire::store_u32(buffers[i].data() + fp + 4, fingerprint_value({buffers[i].data(), fp}, engine()));
    }
    parsed[i] = parse(built.bytes);
    ASSERT_TRUE(parsed[i]) << i << " " << to_string(parsed[i].error);
    const Integrity kind = sha256 ? Integrity::sha256 : Integrity::sha1;
    const auto input = integrity_input(parsed[i].message, kind, scratch[i]);
    ASSERT_TRUE(input);
    const bool wrong_key = i % 5 == 2 && !sha256;
    checks[i] = mac_check(*input, sha256 ? sha256_key : (wrong_key ? other_key : sha1_key));
    if (!tamper && !wrong_key) expected |= 1u << i;
  }
  EXPECT_NE(expected, 0u);
  EXPECT_EQ(engine().verify_batch(checks), expected);
  for (size_t i = 0; i < kCount; ++i) {
    const bool sha256 = i % 3 == 0;
    const auto& k = *checks[i].key;
    EXPECT_EQ(verify_integrity(parsed[i].message, sha256 ? Integrity::sha256 : Integrity::sha1, k, engine(),
                               scratch[i]),
              ((expected >> i) & 1) != 0)
        << i;
  }
  // A key of the other hash never verifies.
  EXPECT_FALSE(verify_integrity(parsed[1].message, Integrity::sha1, sha256_key, engine(), scratch[1]));
}

TEST_F(Parser, ErrorNames) {
  EXPECT_EQ(to_string(ParseError::fingerprint_mismatch), "fingerprint_mismatch");
  EXPECT_EQ(to_string(ParseError::too_many_attributes), "too_many_attributes");
  EXPECT_EQ(to_string(static_cast<ParseError>(200)), "unknown");
}

}  // namespace
}  // namespace tern::stun::test
