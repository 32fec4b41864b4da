// The typed attribute decoders: valid values, and every way a value can be malformed.

#include <gtest/gtest.h>

#include "control/stun/wire.hpp"
#include "tests/unit/control/stun_test_util.hpp"

namespace tern::stun::test {
namespace {

const TransactionId kId = TransactionId::from(
    std::span<const uint8_t, 12>(hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae").data(), 12));

std::vector<uint8_t> text(std::string_view s) { return {s.begin(), s.end()}; }

TEST(AddressAttributes, PlainAddress) {
  const auto v4 = hex("00 01 80 55 c0 00 02 01");
  EXPECT_EQ(*decode_address(v4), *TransportAddress::parse("192.0.2.1:32853"));
  // "MUST be ignored by receivers"
  auto first_byte = v4;
  first_byte[0] = 0xff;
  EXPECT_EQ(*decode_address(first_byte), *TransportAddress::parse("192.0.2.1:32853"));
  const auto v6 = hex("00 02 80 55 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01");
  EXPECT_EQ(*decode_address(v6), *TransportAddress::parse("[2001:db8::1]:32853"));

  EXPECT_FALSE(decode_address(hex("00 01 80 55 c0 00 02")));              // short
  EXPECT_FALSE(decode_address(hex("00 01 80 55 c0 00 02 01 00 00 00 00")));  // v4 with v6 size
  EXPECT_FALSE(decode_address(hex("00 02 80 55 c0 00 02 01")));           // v6 with v4 size
  EXPECT_FALSE(decode_address(hex("00 03 80 55 c0 00 02 01")));           // family
  EXPECT_FALSE(decode_address(hex("00 00 80 55 c0 00 02 01")));
  EXPECT_FALSE(decode_address({}));

  std::array<uint8_t, 20> out{};
  encode_address(*TransportAddress::parse("[2001:db8::1]:32853"), out.data());
  EXPECT_EQ(to_vector(out), v6);
}

TEST(AddressAttributes, XorAddress) {
  // RFC 5769 §2.2 and §2.3.
  EXPECT_EQ(*decode_xor_address(hex("00 01 a1 47 e1 12 a6 43"), kId), *TransportAddress::parse("192.0.2.1:32853"));
  const auto v6 = hex("00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9");
  const auto expected = *TransportAddress::parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853");
  EXPECT_EQ(*decode_xor_address(v6, kId), expected);
  // IPv6 depends on the transaction ID, IPv4 does not.
  TransactionId other = kId;
  other.bytes[11] ^= 1;
  EXPECT_NE(*decode_xor_address(v6, other), expected);
  EXPECT_EQ(*decode_xor_address(hex("00 01 a1 47 e1 12 a6 43"), other), *TransportAddress::parse("192.0.2.1:32853"));

  std::array<uint8_t, 20> out{};
  encode_xor_address(expected, kId, out.data());
  EXPECT_EQ(to_vector(out), v6);
  EXPECT_FALSE(decode_xor_address(hex("00 02 a1 47 e1 12 a6 43"), kId));
  EXPECT_FALSE(decode_xor_address(hex("00 01 a1 47"), kId));
}

TEST(StringAttributes, Utf8) {
  EXPECT_EQ(utf8_length(std::string_view("")), 0u);
  EXPECT_EQ(utf8_length(std::string_view("abc")), 3u);
  EXPECT_EQ(utf8_length(std::string_view("\xE3\x83\x9E\xE3\x83\x88")), 2u);   // U+30DE U+30C8
  EXPECT_EQ(utf8_length(std::string_view("\xC2\xAD")), 1u);                    // U+00AD
  EXPECT_EQ(utf8_length(std::string_view("\xF0\x9F\x98\x80")), 1u);            // U+1F600
  EXPECT_EQ(utf8_length(std::string_view("\xF4\x8F\xBF\xBF")), 1u);            // U+10FFFF
  EXPECT_EQ(utf8_length(std::string_view("\xED\x9F\xBF")), 1u);                // U+D7FF
  EXPECT_FALSE(utf8_length(std::string_view("\x80")));                         // continuation first
  EXPECT_FALSE(utf8_length(std::string_view("\xC0\xAF")));                     // overlong '/'
  EXPECT_FALSE(utf8_length(std::string_view("\xC1\xBF")));                     // overlong
  EXPECT_FALSE(utf8_length(std::string_view("\xE0\x80\xAF")));                 // overlong
  EXPECT_FALSE(utf8_length(std::string_view("\xED\xA0\x80")));                 // surrogate U+D800
  EXPECT_FALSE(utf8_length(std::string_view("\xF0\x80\x80\xAF")));             // overlong
  EXPECT_FALSE(utf8_length(std::string_view("\xF4\x90\x80\x80")));             // past U+10FFFF
  EXPECT_FALSE(utf8_length(std::string_view("\xF5\x80\x80\x80")));
  EXPECT_FALSE(utf8_length(std::string_view("\xFF")));
  EXPECT_FALSE(utf8_length(std::string_view("\xE3\x83")));                     // truncated
  EXPECT_FALSE(utf8_length(std::string_view("a\xE3\x83z")));
}

TEST(StringAttributes, Limits) {
  // USERNAME: up to 763 bytes are accepted, fewer than 509 are sent.
  EXPECT_TRUE(decode_username(text(std::string(763, 'u'))));
  EXPECT_FALSE(decode_username(text(std::string(764, 'u'))));
  EXPECT_FALSE(decode_username(hex("61 ff")));
  EXPECT_TRUE(sendable_username(std::string(508, 'u')));
  EXPECT_FALSE(sendable_username(std::string(509, 'u')));
  EXPECT_FALSE(sendable_username("\xff"));

  // REALM, NONCE, SOFTWARE: fewer than 128 characters, at most 763 bytes received, 509 sent.
  EXPECT_TRUE(decode_text(text(std::string(127, 'r'))));
  EXPECT_FALSE(decode_text(text(std::string(128, 'r'))));
  std::string wide;
  for (int i = 0; i < 127; ++i) wide += "\xF0\x9F\x98\x80";  // 127 characters, 508 bytes
  EXPECT_TRUE(decode_text(text(wide)));
  EXPECT_TRUE(sendable_text(wide));
  EXPECT_FALSE(decode_text(text(wide + "a")));
  EXPECT_FALSE(decode_text(hex("e3 83")));
  EXPECT_TRUE(decode_text({}));

  EXPECT_TRUE(decode_alternate_domain(text("turn.example.org")));
  EXPECT_TRUE(decode_alternate_domain(text("turn.example.org.")));
  EXPECT_TRUE(decode_alternate_domain(text("xn--bcher-kva.example")));
  EXPECT_FALSE(decode_alternate_domain(text("")));
  EXPECT_FALSE(decode_alternate_domain(text(".")));
  EXPECT_FALSE(decode_alternate_domain(text("a..b")));
  EXPECT_FALSE(decode_alternate_domain(text("a b")));
  EXPECT_FALSE(decode_alternate_domain(text("b\xC3\xBC" "cher.example")));
  EXPECT_FALSE(decode_alternate_domain(text(std::string(64, 'a') + ".org")));
  EXPECT_TRUE(decode_alternate_domain(text(std::string(63, 'a') + ".org")));
  std::string long_name;
  while (long_name.size() < 256) long_name += "abcdefg.";
  EXPECT_FALSE(decode_alternate_domain(text(long_name.substr(0, 256))));
  EXPECT_TRUE(decode_alternate_domain(text(long_name.substr(0, 255))));
}

TEST(StringAttributes, NonceCookie) {
  const auto none = nonce_cookie({});
  EXPECT_EQ(std::string_view(none.data(), none.size()), "obMatJos2AAAA");
  const auto both = nonce_cookie({SecurityFeatures::kPasswordAlgorithms | SecurityFeatures::kUsernameAnonymity});
  EXPECT_EQ(std::string_view(both.data(), both.size()), "obMatJos2AAAD");
  const auto top = nonce_cookie({0xFFFFFF});
  EXPECT_EQ(std::string_view(top.data(), top.size()), "obMatJos2////");
  for (uint32_t bits : {0u, 1u, 2u, 3u, 0x800000u, 0x123456u, 0xFFFFFFu}) {
    const auto cookie = nonce_cookie({bits});
    const std::string nonce = std::string(cookie.data(), cookie.size()) + "rest-of-nonce";
    const auto features = nonce_security_features(nonce);
    ASSERT_TRUE(features);
    EXPECT_EQ(features->bits, bits);
  }
  EXPECT_TRUE(nonce_security_features("obMatJos2AAAB")->password_algorithms());
  EXPECT_FALSE(nonce_security_features("obMatJos2AAAB")->username_anonymity());
  EXPECT_FALSE(nonce_security_features("obMatJos2AAA"));
  EXPECT_FALSE(nonce_security_features("obMatJos2AA=A"));
  EXPECT_FALSE(nonce_security_features("obMatJos3AAAA"));
  EXPECT_FALSE(nonce_security_features("f//499k954d6OL34oL9FSTvy64sA"));
}

TEST(ErrorAttributes, ReasonPhrasesForEveryCode) {
  const std::pair<uint16_t, std::string_view> codes[] = {
      {300, "Try Alternate"},
      {400, "Bad Request"},
      {401, "Unauthenticated"},
      {403, "Forbidden"},
      {420, "Unknown Attribute"},
      {437, "Allocation Mismatch"},
      {438, "Stale Nonce"},
      {440, "Address Family not Supported"},
      {441, "Wrong Credentials"},
      {442, "Unsupported Transport Protocol"},
      {443, "Peer Address Family Mismatch"},
      {446, "Connection Already Exists"},
      {447, "Connection Timeout or Failure"},
      {486, "Allocation Quota Reached"},
      {500, "Server Error"},
      {508, "Insufficient Capacity"},
  };
  for (const auto& [code, phrase] : codes) {
    EXPECT_EQ(reason_phrase(ErrorCode{code}), phrase) << code;
    EXPECT_TRUE(sendable_text(phrase));
  }
  EXPECT_EQ(reason_phrase(ErrorCode{599}), "");
  EXPECT_EQ(ErrorCode::kAllocationQuotaReached.value, 486);
  EXPECT_EQ(ErrorCode::kStaleNonce.error_class(), 4);
  EXPECT_EQ(ErrorCode::kStaleNonce.number(), 38);
  EXPECT_TRUE(ErrorCode{699}.valid());
  EXPECT_FALSE(ErrorCode{299}.valid());
  EXPECT_FALSE(ErrorCode{700}.valid());
}

TEST(ErrorAttributes, ErrorCode) {
  const auto value = decode_error_code(hex("00 00 04 26"));
  ASSERT_TRUE(value);
  EXPECT_EQ(value->code, ErrorCode::kStaleNonce);
  EXPECT_EQ(value->reason, "");
  auto with_reason = hex("ff ff f5 08");  // reserved bits set: ignored
  const auto phrase = text("Insufficient Capacity");
  with_reason.insert(with_reason.end(), phrase.begin(), phrase.end());
  const auto decoded = decode_error_code(with_reason);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->code.value, 508);
  EXPECT_EQ(decoded->reason, "Insufficient Capacity");
  EXPECT_FALSE(decode_error_code(hex("00 00 02 00")));  // class 2
  EXPECT_FALSE(decode_error_code(hex("00 00 07 00")));  // class 7
  EXPECT_FALSE(decode_error_code(hex("00 00 04 64")));  // number 100
  EXPECT_FALSE(decode_error_code(hex("00 00 04")));
  EXPECT_FALSE(decode_error_code(hex("00 00 04 00 ff")));  // reason not UTF-8
  EXPECT_EQ(decode_error_code(hex("00 00 03 00"))->code, ErrorCode::kTryAlternate);
  EXPECT_EQ(decode_error_code(hex("00 00 06 63"))->code.value, 699);
}

TEST(ErrorAttributes, UnknownAttributes) {
  const auto bytes = hex("00 24 7f ff 00 03");  // the list views these bytes
  const auto list = decode_unknown_attributes(bytes);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0], 0x0024);
  EXPECT_EQ((*list)[1], 0x7fff);
  EXPECT_TRUE(list->contains(0x0003));
  EXPECT_FALSE(list->contains(0x0004));
  EXPECT_TRUE(decode_unknown_attributes({})->empty());
  EXPECT_FALSE(decode_unknown_attributes(hex("00 24 7f")));
}

TEST(ErrorAttributes, AddressErrorCode) {
  auto bytes = hex("02 00 04 28");
  const auto phrase = text("Address Family not Supported");
  bytes.insert(bytes.end(), phrase.begin(), phrase.end());
  const auto value = decode_address_error_code(bytes);
  ASSERT_TRUE(value);
  EXPECT_EQ(value->family, Family::ipv6);
  EXPECT_EQ(value->code, ErrorCode::kAddressFamilyNotSupported);
  EXPECT_EQ(value->reason, "Address Family not Supported");
  EXPECT_FALSE(decode_address_error_code(hex("03 00 04 28")));
  EXPECT_FALSE(decode_address_error_code(hex("00 00 04 28")));
  EXPECT_FALSE(decode_address_error_code(hex("01 00 08 00")));
  EXPECT_FALSE(decode_address_error_code(hex("01 00 05")));
}

TEST(CredentialAttributes, Userhash) {
  EXPECT_TRUE(decode_userhash(std::vector<uint8_t>(32, 1)));
  EXPECT_FALSE(decode_userhash(std::vector<uint8_t>(31, 1)));
  EXPECT_FALSE(decode_userhash(std::vector<uint8_t>(33, 1)));
}

TEST(CredentialAttributes, PasswordAlgorithm) {
  const auto sha = decode_password_algorithm(hex("00 02 00 00"));
  ASSERT_TRUE(sha);
  EXPECT_EQ(sha->algorithm, PasswordAlgorithm::sha256);
  EXPECT_TRUE(sha->parameters.empty());
  // Parameters, with or without their padding inside the value.
  const auto params_bytes = hex("01 00 00 03 aa bb cc");
  const auto with_params = decode_password_algorithm(params_bytes);
  ASSERT_TRUE(with_params);
  EXPECT_EQ(static_cast<uint16_t>(with_params->algorithm), 0x0100);
  EXPECT_EQ(to_vector(with_params->parameters), hex("aa bb cc"));
  EXPECT_TRUE(decode_password_algorithm(hex("01 00 00 03 aa bb cc 00")));
  EXPECT_FALSE(decode_password_algorithm(hex("01 00 00 03 aa bb cc 00 00")));
  EXPECT_FALSE(decode_password_algorithm(hex("01 00 00 03 aa bb")));
  EXPECT_FALSE(decode_password_algorithm(hex("00 02 00")));
  EXPECT_FALSE(decode_password_algorithm(hex("00 02 00 00 00 00 00 00")));
}

TEST(CredentialAttributes, PasswordAlgorithms) {
  const auto bytes = hex("00 02 00 00 00 01 00 00");
  const auto list = decode_password_algorithms(bytes);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
  EXPECT_TRUE(list->contains(PasswordAlgorithm::md5));
  EXPECT_TRUE(list->contains(PasswordAlgorithm::sha256));
  std::vector<PasswordAlgorithm> order;
  for (const auto entry : *list) order.push_back(entry.algorithm);
  EXPECT_EQ(order, (std::vector<PasswordAlgorithm>{PasswordAlgorithm::sha256, PasswordAlgorithm::md5}));

  const auto mixed_bytes = hex("00 07 00 05 01 02 03 04 05 00 00 00 00 01 00 00 00 09 00 01 ee");
  const auto mixed = decode_password_algorithms(mixed_bytes);
  ASSERT_TRUE(mixed);
  std::vector<size_t> sizes;
  for (const auto entry : *mixed) sizes.push_back(entry.parameters.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{5, 0, 1}));
  EXPECT_FALSE(mixed->contains(PasswordAlgorithm::sha256));

  EXPECT_FALSE(decode_password_algorithms({}));
  EXPECT_FALSE(decode_password_algorithms(hex("00 02 00")));
  EXPECT_FALSE(decode_password_algorithms(hex("00 02 00 00 00 01")));
  EXPECT_FALSE(decode_password_algorithms(hex("00 02 00 08 00 00 00 00")));
  EXPECT_FALSE(decode_password_algorithms(hex("00 07 00 05 01 02 03 04 05 00 00 00 01")));

  const auto parameters = hex("01 02 03 04 05");
  const PasswordAlgorithmEntry entry{static_cast<PasswordAlgorithm>(7), parameters};
  EXPECT_EQ(password_algorithm_entry_size(entry), 12u);
  std::array<uint8_t, 12> out{};
  out.fill(0xee);
  encode_password_algorithm_entry(entry, out.data());
  EXPECT_EQ(to_vector(out), hex("00 07 00 05 01 02 03 04 05 00 00 00"));
}

TEST(TurnAttributes, FixedSizes) {
  EXPECT_EQ(decode_channel_number(hex("40 00 00 00"))->value, 0x4000);
  EXPECT_EQ(decode_channel_number(hex("50 00 ff ff"))->value, 0x5000);  // decodes; not valid()
  EXPECT_FALSE(decode_channel_number(hex("40 00")));
  EXPECT_FALSE(decode_channel_number(hex("40 00 00 00 00")));

  EXPECT_EQ(decode_lifetime(hex("00 00 02 58"))->seconds, 600u);
  EXPECT_EQ(decode_lifetime(hex("ff ff ff ff"))->seconds, 0xFFFFFFFFu);
  EXPECT_FALSE(decode_lifetime(hex("00 02 58")));

  EXPECT_EQ(decode_family(hex("01 00 00 00"))->family(), Family::ipv4);
  EXPECT_EQ(decode_family(hex("02 ff ff ff"))->family(), Family::ipv6);
  const auto unsupported = decode_family(hex("03 00 00 00"));
  ASSERT_TRUE(unsupported);  // 440, not 400
  EXPECT_FALSE(unsupported->family());
  EXPECT_EQ(unsupported->value, 3);
  EXPECT_FALSE(decode_family(hex("01")));

  EXPECT_TRUE(decode_even_port(hex("80"))->reserve);
  EXPECT_FALSE(decode_even_port(hex("7f"))->reserve);
  EXPECT_FALSE(decode_even_port({}));
  EXPECT_FALSE(decode_even_port(hex("80 00 00 00")));

  EXPECT_EQ(decode_requested_transport(hex("11 00 00 00"))->protocol, RequestedTransport::kUdp);
  EXPECT_EQ(decode_requested_transport(hex("06 ff ff ff"))->protocol, RequestedTransport::kTcp);
  EXPECT_FALSE(decode_requested_transport(hex("11")));

  const auto token = decode_reservation_token(hex("01 02 03 04 05 06 07 08"));
  ASSERT_TRUE(token);
  EXPECT_EQ(token->bytes[7], 8);
  EXPECT_FALSE(decode_reservation_token(hex("01 02 03 04")));

  const auto icmp_value = decode_icmp(hex("ff ff 03 04 00 00 05 dc"));
  ASSERT_TRUE(icmp_value);
  EXPECT_EQ(icmp_value->type, 3);
  EXPECT_EQ(icmp_value->code, 4);
  EXPECT_EQ(icmp_value->error_data, 1500u);
  EXPECT_FALSE(decode_icmp(hex("00 00 03 04")));
}

// The message-level getters tell absent from malformed.
class MessageGetters : public CodecTest {};

TEST_F(MessageGetters, AbsentMalformedPresent) {
  std::array<uint8_t, 512> buffer{};
  Builder b(buffer, {Method::allocate, MessageClass::request}, kId);
  b.add_raw(static_cast<uint16_t>(AttributeType::lifetime), hex("00 00 02"));
  b.add_raw(static_cast<uint16_t>(AttributeType::dont_fragment), hex("00"));
  b.add_raw(static_cast<uint16_t>(AttributeType::username), hex("ff fe"));
  b.add_raw(static_cast<uint16_t>(AttributeType::xor_relayed_address), hex("00 05 00 00 00 00 00 00"));
  b.add_requested_transport({});
  const auto built = b.finish();
  ASSERT_TRUE(built);
  const auto parsed = parse(built.bytes);
  ASSERT_TRUE(parsed);
  const Message& m = parsed.message;
  EXPECT_TRUE(lifetime(m).malformed());
  EXPECT_TRUE(dont_fragment(m).malformed());
  EXPECT_TRUE(username(m).malformed());
  EXPECT_TRUE(xor_relayed_address(m).malformed());
  EXPECT_TRUE(requested_transport(m).present());
  for (const bool absent : {realm(m).is_absent(), nonce(m).is_absent(), software(m).is_absent(),
                            alternate_domain(m).is_absent(), mapped_address(m).is_absent(),
                            xor_mapped_address(m).is_absent(), alternate_server(m).is_absent(),
                            xor_peer_address(m).is_absent(), channel_number(m).is_absent(),
                            data(m).is_absent(), requested_address_family(m).is_absent(),
                            additional_address_family(m).is_absent(), even_port(m).is_absent(),
                            reservation_token(m).is_absent(), icmp(m).is_absent(), error_code(m).is_absent(),
                            unknown_attributes(m).is_absent(), address_error_code(m).is_absent(),
                            userhash(m).is_absent(), password_algorithm(m).is_absent(),
                            password_algorithms(m).is_absent(), message_integrity(m).is_absent(),
                            message_integrity_sha256(m).is_absent(), fingerprint(m).is_absent()}) {
    EXPECT_TRUE(absent);
  }
}

TEST_F(MessageGetters, LongTermKeyAndUserhash) {
  // key = MD5("user:realm:pass") and SHA-256 of the same; USERHASH = SHA-256("user:realm").
  const auto md5 = long_term_key(PasswordAlgorithm::md5, "user", "realm", "pass", engine());
  ASSERT_TRUE(md5);
  EXPECT_EQ(to_vector(md5->span()), hex("8493fbc53ba582fb4c044c456bdc40eb"));
  const auto sha = long_term_key(PasswordAlgorithm::sha256, "user", "realm", "pass", engine());
  ASSERT_TRUE(sha);
  std::array<uint8_t, 32> direct{};
  engine().sha256(bytes_of("user:realm:pass"), direct);
  EXPECT_EQ(to_vector(sha->span()), to_vector(direct));
  EXPECT_FALSE(long_term_key(static_cast<PasswordAlgorithm>(3), "user", "realm", "pass", engine()));
  EXPECT_FALSE(long_term_key(PasswordAlgorithm::md5, std::string(800, 'u'), "realm", "pass", engine()));
  const auto hash = compute_userhash("user", "realm", engine());
  engine().sha256(bytes_of("user:realm"), direct);
  ASSERT_TRUE(hash);
  EXPECT_EQ(to_vector(*hash), to_vector(direct));
}

}  // namespace
}  // namespace tern::stun::test
