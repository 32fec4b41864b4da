#include "control/stun/channel_data.hpp"

#include <cstring>

#include "control/stun/message.hpp"
#include "control/stun/wire.hpp"

namespace tern::stun {

std::string_view to_string(ChannelDataError error) {
  switch (error) {
    case ChannelDataError::none: return "none";
    case ChannelDataError::too_short: return "too_short";
    case ChannelDataError::not_channel_data: return "not_channel_data";
    case ChannelDataError::reserved_channel: return "reserved_channel";
    case ChannelDataError::length_past_end: return "length_past_end";
    case ChannelDataError::missing_padding: return "missing_padding";
  }
  return "unknown";
}

ChannelDataResult parse_channel_data(std::span<const uint8_t> bytes, Transport transport) {
  ChannelDataResult result;
  if (bytes.size() < kChannelDataHeaderSize) {
    result.error = ChannelDataError::too_short;
    return result;
  }
  // RFC 8656 §12.6: "The receiver of the ChannelData message uses the first two bits to distinguish
  // it from STUN messages".
  if ((bytes[0] & 0xC0) != 0x40) {
    result.error = ChannelDataError::not_channel_data;
    return result;
  }
  // "If the message uses a value in the reserved range (0x5000 through 0xFFFF), then the message is
  // silently discarded."
  const ChannelNumber channel{wire::load_u16(bytes.data())};
  if (!channel.valid()) {
    result.error = ChannelDataError::reserved_channel;
    return result;
  }
  const size_t length = wire::load_u16(bytes.data() + 2);
  const size_t available = bytes.size() - kChannelDataHeaderSize;
  // "If the ChannelData message is received in a UDP datagram, and if the UDP datagram is too short
  // to contain the claimed length of the ChannelData message (i.e., the UDP datagram is shorter
  // than 4 + Length), then the message is silently discarded."
  if (length > available) {
    result.error = ChannelDataError::length_past_end;
    return result;
  }
  size_t frame_size = bytes.size();
  if (transport == Transport::stream) {
    frame_size = kChannelDataHeaderSize + wire::padded(length);
    if (frame_size > bytes.size()) {
      result.error = ChannelDataError::missing_padding;
      return result;
    }
  }
  result.message = ChannelData{channel, bytes.subspan(kChannelDataHeaderSize, length), frame_size};
  return result;
}

size_t channel_data_size(size_t data_length, Transport transport) {
  return kChannelDataHeaderSize + (transport == Transport::stream ? wire::padded(data_length) : data_length);
}

std::optional<std::span<uint8_t>> write_channel_data(std::span<uint8_t> out, ChannelNumber channel,
                                                     std::span<const uint8_t> data, Transport transport) {
  if (!channel.valid() || data.size() > 0xFFFF) return std::nullopt;
  const size_t size = channel_data_size(data.size(), transport);
  if (size > out.size()) return std::nullopt;
  wire::store_u16(out.data(), channel.value);
  wire::store_u16(out.data() + 2, static_cast<uint16_t>(data.size()));
  if (!data.empty()) std::memcpy(out.data() + kChannelDataHeaderSize, data.data(), data.size());
  std::memset(out.data() + kChannelDataHeaderSize + data.size(), 0, size - kChannelDataHeaderSize - data.size());
  return out.first(size);
}

StreamFrame next_stream_frame(std::span<const uint8_t> stream) {
  StreamFrame frame;
  if (stream.size() < 4) return frame;
  const size_t length = wire::load_u16(stream.data() + 2);
  switch (stream[0] >> 6) {
    case 0b00:
      // A STUN message: 20 bytes of header, then Message Length bytes.
      if (stream.size() < 8) return frame;
      if (wire::load_u32(stream.data() + 4) != kMagicCookie || length % 4 != 0) {
        frame.status = StreamFrame::Status::invalid;
        return frame;
      }
      frame.kind = StreamFrame::Kind::stun;
      frame.size = kHeaderSize + length;
      break;
    case 0b01:
      frame.kind = StreamFrame::Kind::channel_data;
      frame.size = kChannelDataHeaderSize + wire::padded(length);
      break;
    default:
      frame.status = StreamFrame::Status::invalid;
      return frame;
  }
  frame.status = frame.size <= stream.size() ? StreamFrame::Status::complete : StreamFrame::Status::need_more;
  return frame;
}

}  // namespace tern::stun
