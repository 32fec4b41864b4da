// libFuzzer target for ChannelData (RFC 8656 §12) and stream framing. The input is parsed as one
// datagram and as a TCP stream of STUN and ChannelData messages; every frame that parses is
// written again and must parse back to the same channel and data. A broken invariant aborts.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "control/stun/stun.hpp"
#include "crypto/engine.hpp"

namespace {

using namespace tern;
using namespace tern::stun;

void require(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::span<const uint8_t> inner, std::span<const uint8_t> outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

std::array<uint8_t, kChannelDataHeaderSize + 0x10000> g_out;

void check_round_trip(const ChannelData& message, Transport transport) {
  const auto written = write_channel_data(g_out, message.channel, message.data, transport);
  require(written.has_value());
  require(written->size() == channel_data_size(message.data.size(), transport));
  const auto again = parse_channel_data(*written, transport);
  require(again.ok());
  require(again.message.channel == message.channel);
  require(again.message.data.size() == message.data.size());
  for (size_t i = 0; i < message.data.size(); ++i) require(again.message.data[i] == message.data[i]);
  require(again.message.frame_size == written->size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const std::unique_ptr<crypto::Engine> engine = crypto::make_engine(crypto::Backend::openssl);
  const std::span<const uint8_t> input(bytes, size);

  // As one datagram.
  const auto datagram = parse_channel_data(input, Transport::datagram);
  if (datagram) {
    require(datagram.message.channel.valid());
    require(inside(datagram.message.data, input));
    require(datagram.message.frame_size == size);
    require(kChannelDataHeaderSize + datagram.message.data.size() <= size);
    require(demux(input) == Demux::channel_data);
    check_round_trip(datagram.message, Transport::datagram);
  }

  // As a stream: cut frames off the front until the rest is incomplete or cannot be framed.
  std::span<const uint8_t> rest = input;
  while (!rest.empty()) {
    const StreamFrame frame = next_stream_frame(rest);
    if (frame.status != StreamFrame::Status::complete) break;
    require(frame.size >= 4 && frame.size <= rest.size());
    const auto piece = rest.first(frame.size);
    if (frame.kind == StreamFrame::Kind::channel_data) {
      require(frame.size % 4 == 0);
      const auto parsed = parse_channel_data(piece, Transport::stream);
      if (parsed) {
        require(parsed.message.frame_size == frame.size);
        require(inside(parsed.message.data, piece));
        check_round_trip(parsed.message, Transport::stream);
      } else {
        require(parsed.error == ChannelDataError::reserved_channel);
      }
    } else {
      require(frame.size >= kHeaderSize);
      (void)parse(piece, *engine);
    }
    rest = rest.subspan(frame.size);
  }
  return 0;
}
