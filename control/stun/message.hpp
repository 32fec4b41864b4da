#pragma once
// The STUN message header (RFC 8489 §5): message type (method and class), length, magic cookie and
// transaction ID, plus the TURN methods of RFC 8656 §17.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tern::stun {

// RFC 8489 §5: "All STUN messages comprise a 20-byte header followed by zero or more attributes."
inline constexpr size_t kHeaderSize = 20;
// RFC 8489 §5: "The Magic Cookie field MUST contain the fixed value 0x2112A442 in network byte order."
inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr size_t kTransactionIdSize = 12;
// The Message Length field is 16 bits and always a multiple of 4.
inline constexpr size_t kMaxBodySize = 0xFFFC;
inline constexpr size_t kMaxMessageSize = kHeaderSize + kMaxBodySize;

// RFC 8489 §5: "The Transaction ID is a 96-bit identifier, used to uniquely identify STUN
// transactions." Kept as the 12 bytes on the wire.
struct TransactionId {
  std::array<uint8_t, kTransactionIdSize> bytes{};

  static TransactionId from(std::span<const uint8_t, kTransactionIdSize> wire) {
    TransactionId id;
    for (size_t i = 0; i < kTransactionIdSize; ++i) id.bytes[i] = wire[i];
    return id;
  }
  constexpr auto operator<=>(const TransactionId&) const = default;
};

// RFC 8489 §18.2 and RFC 8656 §17: the 12-bit method. Any value can arrive on the wire; the named
// ones are those tern implements.
enum class Method : uint16_t {
  binding = 0x001,
  allocate = 0x003,
  refresh = 0x004,
  send = 0x006,
  data = 0x007,
  create_permission = 0x008,
  channel_bind = 0x009,
};
inline constexpr uint16_t kMaxMethod = 0x0FFF;

// RFC 8489 §5: "A class of 0b00 is a request, a class of 0b01 is an indication, a class of 0b10 is a
// success response, and a class of 0b11 is an error response."
enum class MessageClass : uint8_t {
  request = 0b00,
  indication = 0b01,
  success_response = 0b10,
  error_response = 0b11,
};

// RFC 8489 §5: the method and class are interleaved in the 14-bit message type:
//
//        0                 1
//        2  3  4 5 6 7 8 9 0 1 2 3 4 5
//       +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
//       |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
//       |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
//       +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
struct MessageType {
  Method method = Method::binding;
  MessageClass cls = MessageClass::request;

  constexpr uint16_t encode() const {
    const auto m = static_cast<uint16_t>(static_cast<uint16_t>(method) & kMaxMethod);
    const auto c = static_cast<uint16_t>(cls);
    return static_cast<uint16_t>((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) |
                                 ((c & 0x1) << 4) | ((c & 0x2) << 7));
  }
  // The two most significant bits are not part of the type and are ignored here.
  static constexpr MessageType decode(uint16_t raw) {
    const auto m = static_cast<uint16_t>((raw & 0x000F) | ((raw & 0x00E0) >> 1) | ((raw & 0x3E00) >> 2));
    const auto c = static_cast<uint8_t>(((raw >> 4) & 0x1) | ((raw >> 7) & 0x2));
    return {static_cast<Method>(m), static_cast<MessageClass>(c)};
  }
  constexpr bool operator==(const MessageType&) const = default;
};

std::string_view to_string(Method method);
std::string_view to_string(MessageClass cls);

// RFC 8489 §5 / RFC 8656 §12: the first two bits tell STUN (00) from ChannelData (01); a STUN
// message also carries the magic cookie. What a datagram or stream frame starts with:
enum class Demux : uint8_t {
  stun,          // 00, at least 8 bytes, magic cookie present
  channel_data,  // 01 (channel numbers 0x4000-0x7FFF, of which 0x5000-0x7FFF are reserved)
  other,         // anything else: 10 / 11 (RFC 7983: RTP, DTLS, ...), 00 without the cookie, too short
};
Demux demux(std::span<const uint8_t> bytes);

}  // namespace tern::stun
