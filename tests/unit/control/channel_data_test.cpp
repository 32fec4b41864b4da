// ChannelData (RFC 8656 §12) and the framing of a stream mixing STUN and ChannelData messages.

#include <gtest/gtest.h>

#include "tests/unit/control/stun_test_util.hpp"

namespace tern::stun::test {
namespace {

TEST(ChannelNumber, Ranges) {
  EXPECT_FALSE(ChannelNumber{0x0000}.valid());
  EXPECT_FALSE(ChannelNumber{0x3FFF}.valid());
  EXPECT_TRUE(ChannelNumber{0x4000}.valid());
  EXPECT_TRUE(ChannelNumber{0x4FFF}.valid());
  EXPECT_FALSE(ChannelNumber{0x5000}.valid());
  EXPECT_FALSE(ChannelNumber{0x7FFF}.valid());
  EXPECT_FALSE(ChannelNumber{0xFFFF}.valid());
}

TEST(ChannelData, ParseDatagram) {
  const auto frame = hex("40 01 00 05 01 02 03 04 05");
  const auto parsed = parse_channel_data(frame, Transport::datagram);
  ASSERT_TRUE(parsed) << to_string(parsed.error);
  EXPECT_EQ(parsed.message.channel.value, 0x4001);
  EXPECT_EQ(to_vector(parsed.message.data), hex("01 02 03 04 05"));
  EXPECT_EQ(parsed.message.frame_size, 9u);

  // Over UDP padding is optional: a longer datagram is accepted and the extra bytes ignored.
  const auto padded = hex("40 01 00 05 01 02 03 04 05 00 00 00");
  const auto with_padding = parse_channel_data(padded, Transport::datagram);
  ASSERT_TRUE(with_padding);
  EXPECT_EQ(to_vector(with_padding.message.data), hex("01 02 03 04 05"));
  EXPECT_EQ(with_padding.message.frame_size, 12u);

  const auto empty = parse_channel_data(hex("4f ff 00 00"), Transport::datagram);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty.message.data.empty());
}

TEST(ChannelData, Rejects) {
  EXPECT_EQ(parse_channel_data(hex("40 01 00"), Transport::datagram).error, ChannelDataError::too_short);
  EXPECT_EQ(parse_channel_data({}, Transport::stream).error, ChannelDataError::too_short);
  EXPECT_EQ(parse_channel_data(hex("00 01 00 00"), Transport::datagram).error, ChannelDataError::not_channel_data);
  EXPECT_EQ(parse_channel_data(hex("80 01 00 00"), Transport::datagram).error, ChannelDataError::not_channel_data);
  EXPECT_EQ(parse_channel_data(hex("c0 01 00 00"), Transport::datagram).error, ChannelDataError::not_channel_data);
  EXPECT_EQ(parse_channel_data(hex("50 00 00 00"), Transport::datagram).error, ChannelDataError::reserved_channel);
  EXPECT_EQ(parse_channel_data(hex("7f ff 00 00"), Transport::datagram).error, ChannelDataError::reserved_channel);
  // "the UDP datagram is shorter than 4 + Length"
  EXPECT_EQ(parse_channel_data(hex("40 01 00 05 01 02 03 04"), Transport::datagram).error,
            ChannelDataError::length_past_end);
  // Over a stream, the padding is required.
  EXPECT_EQ(parse_channel_data(hex("40 01 00 05 01 02 03 04 05"), Transport::stream).error,
            ChannelDataError::missing_padding);
  EXPECT_EQ(parse_channel_data(hex("40 01 00 05 01 02 03 04 05 00 00"), Transport::stream).error,
            ChannelDataError::missing_padding);
  EXPECT_EQ(to_string(ChannelDataError::reserved_channel), "reserved_channel");
}

TEST(ChannelData, ParseStream) {
  // Two messages back to back: the first ends after its padding.
  const auto stream = hex("40 01 00 05 01 02 03 04 05 00 00 00 40 02 00 04 aa bb cc dd");
  const auto first = parse_channel_data(stream, Transport::stream);
  ASSERT_TRUE(first);
  EXPECT_EQ(first.message.frame_size, 12u);
  EXPECT_EQ(to_vector(first.message.data), hex("01 02 03 04 05"));
  const auto second = parse_channel_data(std::span(stream).subspan(12), Transport::stream);
  ASSERT_TRUE(second);
  EXPECT_EQ(second.message.channel.value, 0x4002);
  EXPECT_EQ(second.message.frame_size, 8u);
}

TEST(ChannelData, Write) {
  const auto data = hex("01 02 03 04 05");
  std::array<uint8_t, 16> out{};
  out.fill(0xee);
  const auto datagram = write_channel_data(out, {0x4001}, data, Transport::datagram);
  ASSERT_TRUE(datagram);
  EXPECT_EQ(to_vector(*datagram), hex("40 01 00 05 01 02 03 04 05"));
  EXPECT_EQ(out[9], 0xee);
  const auto stream = write_channel_data(out, {0x4001}, data, Transport::stream);
  ASSERT_TRUE(stream);
  EXPECT_EQ(to_vector(*stream), hex("40 01 00 05 01 02 03 04 05 00 00 00"));
  EXPECT_EQ(channel_data_size(5, Transport::stream), 12u);
  EXPECT_EQ(channel_data_size(5, Transport::datagram), 9u);
  EXPECT_EQ(channel_data_size(0, Transport::stream), 4u);

  EXPECT_FALSE(write_channel_data(out, {0x5000}, data, Transport::datagram));
  EXPECT_FALSE(write_channel_data(out, {0x3fff}, data, Transport::datagram));
  for (size_t n = 0; n < 12; ++n) {
    std::array<uint8_t, 16> small{};
    small.fill(0xee);
    EXPECT_FALSE(write_channel_data({small.data(), n}, {0x4001}, data, Transport::stream)) << n;
    for (size_t i = n; i < small.size(); ++i) ASSERT_EQ(small[i], 0xee);
  }
  std::vector<uint8_t> huge(0x10000);
  std::vector<uint8_t> huge_out(0x10010);
  EXPECT_FALSE(write_channel_data(huge_out, {0x4001}, huge, Transport::datagram));
  EXPECT_TRUE(write_channel_data(huge_out, {0x4001}, {huge.data(), 0xFFFF}, Transport::stream));
}

TEST(ChannelData, RoundTripEveryLength) {
  std::vector<uint8_t> data(300);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint8_t> out(320);
  for (const Transport transport : {Transport::datagram, Transport::stream}) {
    for (size_t n = 0; n <= data.size(); ++n) {
      const auto frame = write_channel_data(out, {static_cast<uint16_t>(0x4000 + n)}, {data.data(), n}, transport);
      ASSERT_TRUE(frame);
      const auto parsed = parse_channel_data(*frame, transport);
      ASSERT_TRUE(parsed);
      EXPECT_EQ(parsed.message.channel.value, 0x4000 + n);
      ASSERT_EQ(parsed.message.data.size(), n);
      EXPECT_TRUE(std::equal(parsed.message.data.begin(), parsed.message.data.end(), data.begin()));
      EXPECT_EQ(parsed.message.frame_size, frame->size());
      // Every truncation is refused.
      for (size_t cut = 0; cut < frame->size(); ++cut) {
        ASSERT_FALSE(parse_channel_data(frame->first(cut), transport)) << n << " " << cut;
      }
    }
  }
}

class StreamFraming : public CodecTest {};

TEST_F(StreamFraming, MixedStream) {
  std::vector<uint8_t> stream;
  std::array<uint8_t, 128> buffer{};
  Builder b(buffer, {Method::refresh, MessageClass::request}, TransactionId{});
  b.add_lifetime({0});
  b.add_fingerprint(engine());
  const auto stun = b.finish();
  ASSERT_TRUE(stun);
  stream.insert(stream.end(), stun.bytes.begin(), stun.bytes.end());
  std::array<uint8_t, 16> cd{};
  const auto channel = write_channel_data(cd, {0x4abc}, hex("de ad be"), Transport::stream);
  stream.insert(stream.end(), channel->begin(), channel->end());
  stream.insert(stream.end(), stun.bytes.begin(), stun.bytes.end());

  std::span<const uint8_t> rest(stream);
  std::vector<StreamFrame::Kind> kinds;
  while (!rest.empty()) {
    const auto frame = next_stream_frame(rest);
    ASSERT_EQ(frame.status, StreamFrame::Status::complete);
    if (frame.kind == StreamFrame::Kind::stun) {
      EXPECT_TRUE(parse(rest.first(frame.size)));
    } else {
      const auto parsed = parse_channel_data(rest.first(frame.size), Transport::stream);
      ASSERT_TRUE(parsed);
      EXPECT_EQ(to_vector(parsed.message.data), hex("de ad be"));
    }
    kinds.push_back(frame.kind);
    rest = rest.subspan(frame.size);
  }
  EXPECT_EQ(kinds, (std::vector<StreamFrame::Kind>{StreamFrame::Kind::stun, StreamFrame::Kind::channel_data,
                                                   StreamFrame::Kind::stun}));

  // Every prefix of the first message asks for more.
  for (size_t n = 0; n < stun.bytes.size(); ++n) {
    EXPECT_EQ(next_stream_frame(std::span(stream).first(n)).status, StreamFrame::Status::need_more) << n;
  }
  const auto partial = next_stream_frame(std::span(stream).first(10));
  EXPECT_EQ(partial.size, stun.bytes.size());
}

TEST_F(StreamFraming, Invalid) {
  EXPECT_EQ(next_stream_frame(hex("80 00 00 00")).status, StreamFrame::Status::invalid);
  EXPECT_EQ(next_stream_frame(hex("00 01 00 00 21 12 a4 43")).status, StreamFrame::Status::invalid);
  EXPECT_EQ(next_stream_frame(hex("00 01 00 03 21 12 a4 42")).status, StreamFrame::Status::invalid);
  EXPECT_EQ(next_stream_frame(hex("00 01 00 00 21 12 a4")).status, StreamFrame::Status::need_more);
  EXPECT_EQ(next_stream_frame(hex("40 00 00 01 aa")).status, StreamFrame::Status::need_more);
  const auto reserved = next_stream_frame(hex("50 00 00 01 aa 00 00 00"));
  EXPECT_EQ(reserved.status, StreamFrame::Status::complete);  // framed, then discarded by the parser
  EXPECT_EQ(reserved.size, 8u);
}

}  // namespace
}  // namespace tern::stun::test
