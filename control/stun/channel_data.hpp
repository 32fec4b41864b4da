#pragma once
// ChannelData framing (RFC 8656 §12.4-§12.6) and the framing of a TCP or TLS stream that carries
// both STUN messages and ChannelData messages.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dataplane/contract/stun_numbers.hpp"

namespace tern::stun {


// How the bytes arrived: in a datagram (UDP, DTLS) or in a stream (TCP, TLS-over-TCP).
enum class Transport : uint8_t { datagram, stream };

// RFC 8656 §12.4:
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Channel Number        |            Length             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   /                       Application Data                        /
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// "The Length field specifies the length in bytes of the application data field (i.e., it does not
// include the size of the ChannelData header). Note that 0 is a valid length."
struct ChannelData {
  ChannelNumber channel;
  std::span<const uint8_t> data;
  // Bytes the message occupies: over a stream, 4 + Length rounded up to 4; in a datagram, the
  // whole datagram.
  size_t frame_size = 0;
};

enum class ChannelDataError : uint8_t {
  none = 0,
  too_short,         // fewer than 4 bytes
  not_channel_data,  // the first two bits are not 01
  reserved_channel,  // 0x5000-0x7FFF: RFC 8656 §12.6 "the message is silently discarded"
  length_past_end,   // RFC 8656 §12.6: the datagram is "shorter than 4 + Length"
  missing_padding,   // over a stream, the padding to a multiple of 4 is not all there
};
std::string_view to_string(ChannelDataError error);

struct ChannelDataResult {
  ChannelData message;
  ChannelDataError error = ChannelDataError::none;

  bool ok() const { return error == ChannelDataError::none; }
  explicit operator bool() const { return ok(); }
};

// RFC 8656 §12.5: "Over TCP and TLS-over-TCP, the ChannelData message MUST be padded to a multiple of
// four bytes in order to ensure the alignment of subsequent messages. ... Over UDP, the padding is
// not required but MAY be included." A datagram may therefore be longer than 4 + Length; the extra
// bytes are ignored. Over a stream, `bytes` may run on into the next message; frame_size says where
// this one ends.
ChannelDataResult parse_channel_data(std::span<const uint8_t> bytes, Transport transport);

// Size of a ChannelData message carrying `data_length` bytes: padded over a stream, not in a datagram.
size_t channel_data_size(size_t data_length, Transport transport);

// Writes a ChannelData message (zero padding over a stream) and returns it; nullopt when the
// channel is not valid(), the data is longer than 65535 bytes or `out` is too small.
std::optional<std::span<uint8_t>> write_channel_data(std::span<uint8_t> out, ChannelNumber channel,
                                                     std::span<const uint8_t> data, Transport transport);

// RFC 8656 §12.5 / RFC 8489 §6.2.2: over TCP and TLS the client sends STUN messages and ChannelData
// messages back to back. The first bytes of the stream say which comes next and how long it is.
struct StreamFrame {
  enum class Kind : uint8_t { stun, channel_data };
  enum class Status : uint8_t {
    complete,   // `size` bytes form the next message; cut them off and parse them
    need_more,  // the stream holds only part of the next message
    invalid,    // neither STUN nor ChannelData: the stream cannot be resynchronised
  };
  Status status = Status::need_more;
  Kind kind = Kind::stun;
  // The length of the next message once known (complete, or need_more after its first 8 bytes).
  size_t size = 0;
};
StreamFrame next_stream_frame(std::span<const uint8_t> stream);

}  // namespace tern::stun
