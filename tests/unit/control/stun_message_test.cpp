// The STUN header: message type encoding (RFC 8489 §5), attribute type helpers, demultiplexing.

#include <gtest/gtest.h>

#include "tests/unit/control/stun_test_util.hpp"

namespace tern::stun::test {
namespace {

TEST(MessageType, KnownEncodings) {
  // RFC 8489 §5: "a Binding request has class=0b00 (request) and method=0b000000000001 (Binding)
  // and is encoded into the first 16 bits as 0x0001. A Binding response has class=0b10 (success
  // response) and method=0b000000000001, and is encoded into the first 16 bits as 0x0101."
  EXPECT_EQ((MessageType{Method::binding, MessageClass::request}).encode(), 0x0001);
  EXPECT_EQ((MessageType{Method::binding, MessageClass::success_response}).encode(), 0x0101);
  EXPECT_EQ((MessageType{Method::binding, MessageClass::error_response}).encode(), 0x0111);
  EXPECT_EQ((MessageType{Method::binding, MessageClass::indication}).encode(), 0x0011);
  EXPECT_EQ((MessageType{Method::allocate, MessageClass::request}).encode(), 0x0003);
  EXPECT_EQ((MessageType{Method::allocate, MessageClass::success_response}).encode(), 0x0103);
  EXPECT_EQ((MessageType{Method::allocate, MessageClass::error_response}).encode(), 0x0113);
  EXPECT_EQ((MessageType{Method::refresh, MessageClass::request}).encode(), 0x0004);
  EXPECT_EQ((MessageType{Method::send, MessageClass::indication}).encode(), 0x0016);
  EXPECT_EQ((MessageType{Method::data, MessageClass::indication}).encode(), 0x0017);
  EXPECT_EQ((MessageType{Method::create_permission, MessageClass::request}).encode(), 0x0008);
  EXPECT_EQ((MessageType{Method::channel_bind, MessageClass::success_response}).encode(), 0x0109);
  // The highest method: every method bit set, no class bit.
  EXPECT_EQ((MessageType{static_cast<Method>(0x0FFF), MessageClass::request}).encode(), 0x3EEF);
  EXPECT_EQ((MessageType{static_cast<Method>(0x0FFF), MessageClass::error_response}).encode(), 0x3FFF);
}

TEST(MessageType, EveryTypeRoundTrips) {
  for (uint16_t method = 0; method <= kMaxMethod; ++method) {
    for (uint8_t cls = 0; cls < 4; ++cls) {
      const MessageType type{static_cast<Method>(method), static_cast<MessageClass>(cls)};
      const uint16_t raw = type.encode();
      ASSERT_EQ(raw & 0xC000, 0) << method;
      ASSERT_EQ(MessageType::decode(raw), type) << method << " " << int{cls};
    }
  }
  // Every 14-bit value is some type, and decoding ignores the top two bits.
  for (uint32_t raw = 0; raw < 0x4000; ++raw) {
    ASSERT_EQ(MessageType::decode(static_cast<uint16_t>(raw)).encode(), raw);
    ASSERT_EQ(MessageType::decode(static_cast<uint16_t>(raw | 0xC000)), MessageType::decode(static_cast<uint16_t>(raw)));
  }
}

TEST(MessageType, Names) {
  EXPECT_EQ(to_string(Method::create_permission), "CreatePermission");
  EXPECT_EQ(to_string(static_cast<Method>(0x0123)), "unknown");
  EXPECT_EQ(to_string(MessageClass::error_response), "error response");
}

TEST(AttributeType, ComprehensionRange) {
  EXPECT_TRUE(is_comprehension_required(0x0000));
  EXPECT_TRUE(is_comprehension_required(0x7FFF));
  EXPECT_FALSE(is_comprehension_required(0x8000));
  EXPECT_FALSE(is_comprehension_required(0xFFFF));
  EXPECT_TRUE(is_comprehension_required(AttributeType::xor_peer_address));
  EXPECT_FALSE(is_comprehension_required(AttributeType::fingerprint));
  EXPECT_FALSE(is_comprehension_required(AttributeType::additional_address_family));
}

TEST(AttributeType, KnownSetAndNames) {
  const uint16_t known[] = {0x0001, 0x0006, 0x0008, 0x0009, 0x000A, 0x000C, 0x000D, 0x0012, 0x0013, 0x0014,
                            0x0015, 0x0016, 0x0017, 0x0018, 0x0019, 0x001A, 0x001C, 0x001D, 0x001E, 0x0020,
                            0x0022, 0x8000, 0x8001, 0x8002, 0x8003, 0x8004, 0x8022, 0x8023, 0x8028};
  size_t count = 0;
  for (uint32_t t = 0; t <= 0xFFFF; ++t) count += is_known(static_cast<uint16_t>(t));
  EXPECT_EQ(count, std::size(known));
  for (const uint16_t t : known) {
    EXPECT_TRUE(is_known(t)) << t;
    EXPECT_NE(to_string(static_cast<AttributeType>(t)), "unknown") << t;
  }
  // Reserved codes of RFC 8489 §18.3.1 and RFC 8656 §18 are not understood.
  for (const uint16_t t : {0x0000, 0x0002, 0x0003, 0x0004, 0x0005, 0x0007, 0x000B, 0x0010, 0x0021, 0x0024}) {
    EXPECT_FALSE(is_known(t)) << t;
  }
  EXPECT_EQ(to_string(AttributeType::xor_relayed_address), "XOR-RELAYED-ADDRESS");
  EXPECT_EQ(to_string(AttributeType::message_integrity_sha256), "MESSAGE-INTEGRITY-SHA256");
}

TEST(Demux, FirstBitsAndCookie) {
  EXPECT_EQ(demux(hex("00 01 00 00 21 12 a4 42")), Demux::stun);
  EXPECT_EQ(demux(hex("00 01 00 00 21 12 a4 43")), Demux::other);
  EXPECT_EQ(demux(hex("00 01 00 00")), Demux::other);
  EXPECT_EQ(demux(hex("40 00 00 00")), Demux::channel_data);
  EXPECT_EQ(demux(hex("4f ff 00 10")), Demux::channel_data);
  EXPECT_EQ(demux(hex("7f ff 00 10")), Demux::channel_data);
  EXPECT_EQ(demux(hex("80 00 00 00 21 12 a4 42")), Demux::other);  // RTP
  EXPECT_EQ(demux(hex("16 fe fd 00 00 00 00 00")), Demux::other);  // DTLS
  EXPECT_EQ(demux(hex("40 00 00")), Demux::other);
  EXPECT_EQ(demux({}), Demux::other);
}

TEST(Decoded, ThreeStates) {
  const Decoded<int> absent = Decoded<int>::absent();
  EXPECT_TRUE(absent.is_absent());
  EXPECT_FALSE(absent.malformed());
  EXPECT_FALSE(absent);
  EXPECT_EQ(absent.value_or(7), 7);
  const Decoded<int> bad = Decoded<int>::malformed_value();
  EXPECT_FALSE(bad.is_absent());
  EXPECT_TRUE(bad.malformed());
  EXPECT_FALSE(bad);
  const Decoded<int> good = 5;
  EXPECT_TRUE(good);
  EXPECT_FALSE(good.is_absent());
  EXPECT_FALSE(good.malformed());
  EXPECT_EQ(*good, 5);
  EXPECT_EQ(good.value_or(7), 5);
}

}  // namespace
}  // namespace tern::stun::test
