#include "control/transport/framer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "control/stun/builder.hpp"
#include "control/stun/channel_data.hpp"

namespace tern::ctl {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes stun_message(size_t body) {
  Bytes m(20 + body, 0);
  m[1] = 0x01;  // Binding request
  m[2] = static_cast<uint8_t>(body >> 8);
  m[3] = static_cast<uint8_t>(body);
  const uint32_t cookie = stun::kMagicCookie;
  m[4] = cookie >> 24, m[5] = cookie >> 16 & 0xff, m[6] = cookie >> 8 & 0xff, m[7] = cookie & 0xff;
  for (size_t i = 8; i < m.size(); ++i) m[i] = static_cast<uint8_t>(i);
  return m;
}

Bytes channel_data(uint16_t channel, size_t length) {
  Bytes data(length, 0xab);
  Bytes out(stun::channel_data_size(length, stun::Transport::stream));
  stun::write_channel_data(out, stun::ChannelNumber{channel}, data, stun::Transport::stream);
  return out;
}

// Feeds `stream` in pieces of `chunk` bytes and collects every event.
struct Fed {
  std::vector<Bytes> frames;
  unsigned oversized = 0;
  StreamFramer::Next last = StreamFramer::Next::need_more;
};
Fed feed(StreamFramer& f, const Bytes& stream, size_t chunk) {
  Fed r;
  size_t at = 0;
  while (at < stream.size()) {
    auto room = f.writable();
    const size_t n = std::min({chunk, room.size(), stream.size() - at});
    std::memcpy(room.data(), stream.data() + at, n);
    f.commit(n);
    at += n;
    for (;;) {
      StreamFramer::Frame frame;
      r.last = f.next(frame);
      if (r.last == StreamFramer::Next::frame) {
        r.frames.emplace_back(frame.bytes.begin(), frame.bytes.end());
        f.consume_frame();
      } else if (r.last == StreamFramer::Next::oversized) {
        ++r.oversized;
      } else {
        break;
      }
    }
    if (r.last == StreamFramer::Next::too_big || r.last == StreamFramer::Next::invalid) break;
  }
  return r;
}

TEST(StreamFramer, MessagesBackToBackInAnyPieces) {
  const Bytes a = stun_message(8), b = channel_data(0x4001, 5), c = stun_message(0), d = channel_data(0x4002, 0);
  Bytes stream;
  for (const Bytes* m : {&a, &b, &c, &d}) stream.insert(stream.end(), m->begin(), m->end());
  for (size_t chunk : {1u, 3u, 7u, 64u, 4096u}) {
    StreamFramer f({});
    const Fed r = feed(f, stream, chunk);
    ASSERT_EQ(r.frames.size(), 4u) << chunk;
    EXPECT_EQ(r.frames[0], a);
    EXPECT_EQ(r.frames[1], b);  // padded: 4 + 8 bytes
    EXPECT_EQ(r.frames[1].size(), 12u);
    EXPECT_EQ(r.frames[2], c);
    EXPECT_EQ(r.frames[3], d);
    EXPECT_EQ(r.last, StreamFramer::Next::need_more);
    EXPECT_EQ(f.buffered(), 0u);
  }
}

TEST(StreamFramer, StunOverTheLimitEndsTheStream) {
  StreamFramer f({.max_stun_message = 100, .max_channel_data = 1472});
  const Fed r = feed(f, stun_message(200), 16);
  EXPECT_TRUE(r.frames.empty());
  EXPECT_EQ(r.last, StreamFramer::Next::too_big);
}

TEST(StreamFramer, OversizedChannelDataIsSkippedAndTheStreamGoesOn) {
  StreamFramer f({.max_stun_message = 4096, .max_channel_data = 1472});
  const Bytes big = channel_data(0x4001, 60000), after = channel_data(0x4003, 10);
  Bytes stream = big;
  stream.insert(stream.end(), after.begin(), after.end());
  for (size_t chunk : {1u, 1000u, 65536u}) {
    StreamFramer g({.max_stun_message = 4096, .max_channel_data = 1472});
    const Fed r = feed(g, stream, chunk);
    EXPECT_EQ(r.oversized, 1u) << chunk;
    ASSERT_EQ(r.frames.size(), 1u) << chunk;
    EXPECT_EQ(r.frames[0], after);
  }
  // The buffer never grows past one relayable message.
  EXPECT_LE(f.capacity(), 4096u);
}

TEST(StreamFramer, NotTurnIsInvalid) {
  StreamFramer f({});
  // A TLS ClientHello sent to the plain TCP listener: 00 first bits, no magic cookie.
  const Fed r = feed(f, Bytes{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}, 11);
  EXPECT_EQ(r.last, StreamFramer::Next::invalid);
  StreamFramer h({});
  EXPECT_EQ(feed(h, Bytes{0xC0, 0, 0, 0}, 4).last, StreamFramer::Next::invalid);  // 11: neither
  StreamFramer g({});
  Bytes no_cookie = stun_message(4);
  no_cookie[4] = 0;
  EXPECT_EQ(feed(g, no_cookie, 64).last, StreamFramer::Next::invalid);
}

TEST(StreamFramer, ALargestMessageFitsWhateverCameBeforeIt) {
  StreamFramer f({.max_stun_message = 512, .max_channel_data = 100});
  const Bytes small = stun_message(4), largest = stun_message(512 - 20);
  Bytes stream = small;
  stream.insert(stream.end(), largest.begin(), largest.end());
  const Fed r = feed(f, stream, 300);
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[1], largest);
}

}  // namespace
}  // namespace tern::ctl
