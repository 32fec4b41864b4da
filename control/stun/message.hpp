#pragma once
// The STUN message header (RFC 8489 §5): message type (method and class), length, magic cookie and
// transaction ID, plus the TURN methods of RFC 8656 §17.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/contract/stun_numbers.hpp"

namespace tern::stun {


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
