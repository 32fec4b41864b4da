// The builder: exact bytes of each attribute, overflow at every buffer size without writing past
// the buffer, ordering of the integrity attributes, refused values, response helpers and batch MACs.

#include <gtest/gtest.h>

#include "control/stun/wire.hpp"
#include "tests/unit/control/stun_test_util.hpp"

namespace tern::stun::test {
namespace {

const TransactionId kId = TransactionId::from(
    std::span<const uint8_t, 12>(hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae").data(), 12));

class BuilderTest : public CodecTest {
 protected:
  // The attributes of a built message after the header, as hex-comparable bytes.
  std::vector<uint8_t> body(const BuildResult& built) {
    EXPECT_TRUE(built) << to_string(built.error);
    return {built.bytes.begin() + kHeaderSize, built.bytes.end()};
  }
  Builder make(uint8_t padding = 0) { return Builder(buffer_, {Method::allocate, MessageClass::request}, kId, padding); }
  std::array<uint8_t, 1024> buffer_{};
};

TEST_F(BuilderTest, Header) {
  Builder b = make();
  const auto built = b.finish();
  ASSERT_TRUE(built);
  EXPECT_EQ(to_vector(built.bytes), hex("00 03 00 00 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"));
  EXPECT_EQ(b.transaction_id(), kId);
}

TEST_F(BuilderTest, AttributeBytes) {
  const auto peer = *TransportAddress::parse("192.0.2.1:32853");
  struct Case {
    const char* name;
    void (*add)(Builder&, const TransportAddress&);
    std::vector<uint8_t> expected;
  };
  const Case cases[] = {
      {"MAPPED-ADDRESS", [](Builder& b, const TransportAddress& a) { b.add_mapped_address(a); },
       hex("00 01 00 08 00 01 80 55 c0 00 02 01")},
      {"ALTERNATE-SERVER", [](Builder& b, const TransportAddress& a) { b.add_alternate_server(a); },
       hex("80 23 00 08 00 01 80 55 c0 00 02 01")},
      {"XOR-MAPPED-ADDRESS", [](Builder& b, const TransportAddress& a) { b.add_xor_mapped_address(a); },
       hex("00 20 00 08 00 01 a1 47 e1 12 a6 43")},
      {"XOR-PEER-ADDRESS", [](Builder& b, const TransportAddress& a) { b.add_xor_peer_address(a); },
       hex("00 12 00 08 00 01 a1 47 e1 12 a6 43")},
      {"XOR-RELAYED-ADDRESS", [](Builder& b, const TransportAddress& a) { b.add_xor_relayed_address(a); },
       hex("00 16 00 08 00 01 a1 47 e1 12 a6 43")},
      {"USERNAME", [](Builder& b, const TransportAddress&) { b.add_username("alice"); },
       hex("00 06 00 05 61 6c 69 63 65 00 00 00")},
      {"REALM", [](Builder& b, const TransportAddress&) { b.add_realm("r"); }, hex("00 14 00 01 72 00 00 00")},
      {"NONCE", [](Builder& b, const TransportAddress&) { b.add_nonce("abcd"); }, hex("00 15 00 04 61 62 63 64")},
      {"SOFTWARE", [](Builder& b, const TransportAddress&) { b.add_software("tern"); },
       hex("80 22 00 04 74 65 72 6e")},
      {"ALTERNATE-DOMAIN", [](Builder& b, const TransportAddress&) { b.add_alternate_domain("a.b"); },
       hex("80 03 00 03 61 2e 62 00")},
      {"ERROR-CODE", [](Builder& b, const TransportAddress&) { b.add_error_code(ErrorCode::kStaleNonce); },
       hex("00 09 00 0f 00 00 04 26 53 74 61 6c 65 20 4e 6f 6e 63 65 00")},
      {"ERROR-CODE reason", [](Builder& b, const TransportAddress&) { b.add_error_code(ErrorCode{699}, "x"); },
       hex("00 09 00 05 00 00 06 63 78 00 00 00")},
      {"UNKNOWN-ATTRIBUTES",
       [](Builder& b, const TransportAddress&) {
         const uint16_t types[] = {0x0024, 0x7fff, 0x0003};
         b.add_unknown_attributes(types);
       },
       hex("00 0a 00 06 00 24 7f ff 00 03 00 00")},
      {"ADDRESS-ERROR-CODE",
       [](Builder& b, const TransportAddress&) { b.add_address_error_code(Family::ipv6, ErrorCode::kInsufficientCapacity, "full"); },
       hex("80 01 00 08 02 00 05 08 66 75 6c 6c")},
      {"CHANNEL-NUMBER", [](Builder& b, const TransportAddress&) { b.add_channel_number({0x4001}); },
       hex("00 0c 00 04 40 01 00 00")},
      {"LIFETIME", [](Builder& b, const TransportAddress&) { b.add_lifetime({600}); }, hex("00 0d 00 04 00 00 02 58")},
      {"DATA",
       [](Builder& b, const TransportAddress&) {
         const uint8_t d[] = {1, 2, 3, 4, 5};
         b.add_data(d);
       },
       hex("00 13 00 05 01 02 03 04 05 00 00 00")},
      {"DATA empty", [](Builder& b, const TransportAddress&) { b.add_data({}); }, hex("00 13 00 00")},
      {"REQUESTED-ADDRESS-FAMILY", [](Builder& b, const TransportAddress&) { b.add_requested_address_family(Family::ipv6); },
       hex("00 17 00 04 02 00 00 00")},
      {"ADDITIONAL-ADDRESS-FAMILY", [](Builder& b, const TransportAddress&) { b.add_additional_address_family(Family::ipv6); },
       hex("80 00 00 04 02 00 00 00")},
      {"EVEN-PORT R", [](Builder& b, const TransportAddress&) { b.add_even_port({true}); }, hex("00 18 00 01 80 00 00 00")},
      {"EVEN-PORT", [](Builder& b, const TransportAddress&) { b.add_even_port({false}); }, hex("00 18 00 01 00 00 00 00")},
      {"REQUESTED-TRANSPORT", [](Builder& b, const TransportAddress&) { b.add_requested_transport({}); },
       hex("00 19 00 04 11 00 00 00")},
      {"DONT-FRAGMENT", [](Builder& b, const TransportAddress&) { b.add_dont_fragment(); }, hex("00 1a 00 00")},
      {"RESERVATION-TOKEN",
       [](Builder& b, const TransportAddress&) { b.add_reservation_token({{1, 2, 3, 4, 5, 6, 7, 8}}); },
       hex("00 22 00 08 01 02 03 04 05 06 07 08")},
      {"ICMP", [](Builder& b, const TransportAddress&) { b.add_icmp({3, 4, 1500}); },
       hex("80 04 00 08 00 00 03 04 00 00 05 dc")},
      {"PASSWORD-ALGORITHM", [](Builder& b, const TransportAddress&) { b.add_password_algorithm({PasswordAlgorithm::md5, {}}); },
       hex("00 1d 00 04 00 01 00 00")},
      {"PASSWORD-ALGORITHMS",
       [](Builder& b, const TransportAddress&) {
         const PasswordAlgorithmEntry list[] = {{PasswordAlgorithm::sha256, {}}, {PasswordAlgorithm::md5, {}}};
         b.add_password_algorithms(list);
       },
       hex("80 02 00 08 00 02 00 00 00 01 00 00")},
      {"USERHASH",
       [](Builder& b, const TransportAddress&) {
         std::array<uint8_t, 32> h{};
         h[0] = 0xaa;
         h[31] = 0xbb;
         b.add_userhash(h);
       },
       hex("00 1e 00 20 aa 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 bb")},
  };
  for (const auto& c : cases) {
    Builder b = make();
    c.add(b, peer);
    EXPECT_EQ(body(b.finish()), c.expected) << c.name;
  }
}

TEST_F(BuilderTest, PaddingByte) {
  Builder b = make(0x20);
  b.add_username("alice");
  EXPECT_EQ(body(b.finish()), hex("00 06 00 05 61 6c 69 63 65 20 20 20"));
}

// At every buffer size below the full message, the build fails with overflow and leaves the bytes
// past the buffer alone; at the full size it succeeds.
TEST_F(BuilderTest, OverflowAtEverySize) {
  const auto k1 = key(crypto::Mac::hmac_sha1, "k");
  const auto k256 = key(crypto::Mac::hmac_sha256, "k");
  auto build = [&](std::span<uint8_t> out) {
    Builder b(out, {Method::allocate, MessageClass::success_response}, kId);
    b.add_xor_relayed_address(*TransportAddress::parse("[2001:db8::1]:5000"));
    b.add_xor_mapped_address(*TransportAddress::parse("192.0.2.1:32853"));
    b.add_lifetime({600});
    b.add_software("tern");
    b.add_message_integrity(k1, engine());
    b.add_message_integrity_sha256(k256, engine(), 20);
    b.add_fingerprint(engine());
    return b.finish();
  };
  std::array<uint8_t, 256> full{};
  const auto reference = build(full);
  ASSERT_TRUE(reference);
  const size_t size = reference.bytes.size();
  EXPECT_EQ(size, 20u + 24 + 12 + 8 + 8 + 24 + 24 + 8);
  for (size_t n = 0; n < size; ++n) {
    std::vector<uint8_t> buffer(n + 16, 0xEE);
    const auto result = build({buffer.data(), n});
    EXPECT_EQ(result.error, BuildError::overflow) << n;
    EXPECT_TRUE(result.bytes.empty());
    for (size_t i = n; i < buffer.size(); ++i) ASSERT_EQ(buffer[i], 0xEE) << n << " " << i;
  }
  std::vector<uint8_t> exact(size);
  const auto ok = build(exact);
  ASSERT_TRUE(ok);
  EXPECT_EQ(to_vector(ok.bytes), to_vector(reference.bytes));
  EXPECT_TRUE(parse(ok.bytes));
}

TEST_F(BuilderTest, FirstErrorSticks) {
  std::array<uint8_t, 28> small{};
  Builder b(small, {Method::binding, MessageClass::request}, kId);
  b.add_software("this does not fit");
  EXPECT_EQ(b.error(), BuildError::overflow);
  b.add_username("\xff");  // would be invalid_value
  b.add_lifetime({1});     // would fit
  EXPECT_EQ(b.error(), BuildError::overflow);
  EXPECT_EQ(b.size(), kHeaderSize);
  EXPECT_EQ(b.finish().error, BuildError::overflow);
}

TEST_F(BuilderTest, MessageAndValueLimits) {
  std::vector<uint8_t> big(kMaxMessageSize + 100);
  std::vector<uint8_t> data(kMaxAttributeValueSize + 1, 1);
  {
    Builder b(big, {Method::send, MessageClass::indication}, kId);
    b.add_data(data);
    EXPECT_EQ(b.error(), BuildError::value_too_long);
  }
  {
    Builder b(big, {Method::send, MessageClass::indication}, kId);
    b.add_data({data.data(), kMaxBodySize - 4});  // 4 + 65528 bytes: fills the body
    EXPECT_TRUE(b.ok());
    EXPECT_EQ(b.size(), kMaxMessageSize);
    EXPECT_TRUE(parse(b.finish().bytes));
    b.add_dont_fragment();
    EXPECT_EQ(b.error(), BuildError::message_too_long);
  }
}

TEST_F(BuilderTest, RefusedValues) {
  const auto refused = [&](auto add) {
    Builder b = make();
    add(b);
    return b.error();
  };
  EXPECT_EQ(refused([](Builder& b) { b.add_username(std::string(509, 'u')); }), BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_username("\xc0\xaf"); }), BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_realm(std::string(128, 'r')); }), BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_nonce("\xff"); }), BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_software(std::string(128, 's')); }), BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_alternate_domain("bad domain"); }), BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_error_code(ErrorCode{299}); }), BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_error_code(ErrorCode{700}, "x"); }), BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_error_code(ErrorCode{400}, std::string(128, 'x')); }),
            BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_address_error_code(Family::ipv4, ErrorCode{200}); }),
            BuildError::invalid_value);
  EXPECT_EQ(refused([](Builder& b) { b.add_password_algorithms({}); }), BuildError::invalid_value);
  for (const uint16_t t : {0x0008, 0x001C, 0x8028}) {
    EXPECT_EQ(refused([t](Builder& b) { b.add_raw(t, {}); }), BuildError::invalid_value) << t;
  }
  // The limits themselves are accepted.
  EXPECT_EQ(refused([](Builder& b) { b.add_username(std::string(508, 'u')); }), BuildError::none);
  EXPECT_EQ(refused([](Builder& b) { b.add_realm(std::string(127, 'r')); }), BuildError::none);
  // An unknown code with no reason goes out with an empty phrase.
  EXPECT_EQ(refused([](Builder& b) { b.add_error_code(ErrorCode{599}); }), BuildError::none);
}

TEST_F(BuilderTest, IntegrityOrder) {
  const auto k1 = key(crypto::Mac::hmac_sha1, "k");
  const auto k256 = key(crypto::Mac::hmac_sha256, "k");
  {
    Builder b = make();
    b.add_message_integrity(k1, engine());
    b.add_lifetime({1});
    EXPECT_EQ(b.error(), BuildError::out_of_order);
  }
  {
    Builder b = make();
    b.add_message_integrity_sha256(k256, engine());
    b.add_message_integrity(k1, engine());
    EXPECT_EQ(b.error(), BuildError::out_of_order);
  }
  {
    Builder b = make();
    b.add_message_integrity(k1, engine());
    b.add_message_integrity(k1, engine());
    EXPECT_EQ(b.error(), BuildError::out_of_order);
  }
  {
    Builder b = make();
    b.add_fingerprint(engine());
    b.add_message_integrity_sha256(k256, engine());
    EXPECT_EQ(b.error(), BuildError::out_of_order);
  }
  {
    Builder b = make();
    b.add_fingerprint(engine());
    b.add_fingerprint(engine());
    EXPECT_EQ(b.error(), BuildError::out_of_order);
  }
  {
    Builder b = make();
    b.add_message_integrity(k256, engine());
    EXPECT_EQ(b.error(), BuildError::wrong_key);
  }
  {
    Builder b = make();
    b.add_message_integrity_sha256(k1, engine());
    EXPECT_EQ(b.error(), BuildError::wrong_key);
  }
  for (const size_t size : {0, 12, 15, 17, 18, 36}) {
    Builder b = make();
    b.add_message_integrity_sha256(k256, engine(), size);
    EXPECT_EQ(b.error(), BuildError::invalid_value) << size;
  }
}

// Every combination of the three trailing attributes parses and verifies.
TEST_F(BuilderTest, IntegrityCombinations) {
  const auto k1 = key(crypto::Mac::hmac_sha1, "sha1-key");
  const auto k256 = key(crypto::Mac::hmac_sha256, "sha256-key");
  for (int mask = 0; mask < 8; ++mask) {
    for (const size_t truncated : {16, 20, 24, 28, 32}) {
      Builder b = make();
      b.add_username("bob");
      b.add_realm("example.org");
      if (mask & 1) b.add_message_integrity(k1, engine());
      if (mask & 2) b.add_message_integrity_sha256(k256, engine(), truncated);
      if (mask & 4) b.add_fingerprint(engine());
      const auto built = b.finish();
      ASSERT_TRUE(built);
      const auto parsed = parse(built.bytes);
      ASSERT_TRUE(parsed) << mask << " " << to_string(parsed.error);
      const Message& m = parsed.message;
      EXPECT_EQ(m.has_message_integrity(), (mask & 1) != 0);
      EXPECT_EQ(m.has_message_integrity_sha256(), (mask & 2) != 0);
      EXPECT_EQ(m.has_fingerprint(), (mask & 4) != 0);
      std::array<uint8_t, 256> scratch{};
      EXPECT_EQ(verify_integrity(m, Integrity::sha1, k1, engine(), scratch), (mask & 1) != 0);
      EXPECT_EQ(verify_integrity(m, Integrity::sha256, k256, engine(), scratch), (mask & 2) != 0);
      if (mask & 2) {
        EXPECT_EQ(message_integrity_sha256(m)->size(), truncated);
      }
      if ((mask & 2) == 0) break;
    }
  }
}

TEST_F(BuilderTest, ResponseHelpers) {
  std::array<uint8_t, 128> req{};
  Builder request(req, {Method::create_permission, MessageClass::request}, kId);
  request.add_raw(0x0024, hex("00 00 00 01"));
  request.add_raw(0x7001, {});
  const auto parsed = parse(request.finish().bytes);
  ASSERT_TRUE(parsed);

  Builder e = Builder::error_response(buffer_, parsed.message, ErrorCode::kUnknownAttribute);
  e.add_unknown_attributes(parsed.message.unknown_required());
  e.add_fingerprint(engine());
  const auto error = parse(e.finish().bytes);
  ASSERT_TRUE(error);
  EXPECT_EQ(error.message.type(), (MessageType{Method::create_permission, MessageClass::error_response}));
  EXPECT_EQ(error.message.transaction_id(), kId);
  EXPECT_EQ(error_code(error.message)->code, ErrorCode::kUnknownAttribute);
  EXPECT_EQ(error_code(error.message)->reason, "Unknown Attribute");
  const auto unknown = unknown_attributes(error.message);
  ASSERT_TRUE(unknown);
  ASSERT_EQ(unknown->size(), 2u);
  EXPECT_EQ((*unknown)[0], 0x0024);
  EXPECT_EQ((*unknown)[1], 0x7001);

  Builder custom = Builder::error_response(buffer_, parsed.message, ErrorCode::kForbidden, "peer denied");
  EXPECT_EQ(error_code(parse(custom.finish().bytes).message)->reason, "peer denied");

  Builder s = Builder::success_response(buffer_, parsed.message);
  const auto success = parse(s.finish().bytes);
  ASSERT_TRUE(success);
  EXPECT_EQ(success.message.type(), (MessageType{Method::create_permission, MessageClass::success_response}));
  EXPECT_EQ(success.message.transaction_id(), kId);
}

// A burst of responses whose MACs are computed in one mac_batch call, then FINGERPRINT. A message
// with both integrity attributes takes two rounds: MESSAGE-INTEGRITY-SHA256 covers the
// MESSAGE-INTEGRITY tag, so that tag must be computed first.
TEST_F(BuilderTest, PreparedIntegrityForBatches) {
  const auto k1 = key(crypto::Mac::hmac_sha1, "one");
  const auto k256 = key(crypto::Mac::hmac_sha256, "two");
  constexpr size_t kCount = 6;
  std::array<std::array<uint8_t, 256>, kCount> buffers{};
  std::vector<Builder> builders;
  std::array<crypto::MacJob, kCount> jobs{};
  size_t n = 0;
  const auto wants_sha1 = [](size_t i) { return i % 2 == 0; };
  const auto wants_sha256 = [](size_t i) { return i % 3 == 0; };
  for (size_t i = 0; i < kCount; ++i) {
    TransactionId id = kId;
    id.bytes[11] = static_cast<uint8_t>(i);
    builders.emplace_back(buffers[i], MessageType{Method::refresh, MessageClass::success_response}, id);
    builders.back().add_lifetime({static_cast<uint32_t>(60 * i)});
    if (wants_sha1(i)) {
      jobs[n++] = *builders.back().prepare_message_integrity(k1);
    } else if (wants_sha256(i)) {
      jobs[n++] = *builders.back().prepare_message_integrity_sha256(k256);
    }
  }
  engine().mac_batch({jobs.data(), n});
  n = 0;
  for (size_t i = 0; i < kCount; ++i) {
    if (wants_sha1(i) && wants_sha256(i)) jobs[n++] = *builders[i].prepare_message_integrity_sha256(k256);
  }
  ASSERT_EQ(n, 1u);
  engine().mac_batch({jobs.data(), n});
  std::array<uint8_t, 256> scratch{};
  for (size_t i = 0; i < kCount; ++i) {
    builders[i].add_fingerprint(engine());
    const auto built = builders[i].finish();
    ASSERT_TRUE(built);
    const auto parsed = parse(built.bytes);
    ASSERT_TRUE(parsed) << i;
    EXPECT_EQ(verify_integrity(parsed.message, Integrity::sha1, k1, engine(), scratch), wants_sha1(i)) << i;
    EXPECT_EQ(verify_integrity(parsed.message, Integrity::sha256, k256, engine(), scratch), wants_sha256(i)) << i;
  }
  Builder wrong = make();
  EXPECT_FALSE(wrong.prepare_message_integrity(k256));
  EXPECT_EQ(wrong.error(), BuildError::wrong_key);
}

TEST_F(BuilderTest, ErrorNames) {
  EXPECT_EQ(to_string(BuildError::overflow), "overflow");
  EXPECT_EQ(to_string(BuildError::out_of_order), "out_of_order");
}

}  // namespace
}  // namespace tern::stun::test
