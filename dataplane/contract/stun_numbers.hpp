#pragma once
// The numbers of STUN (RFC 8489) and TURN (RFC 8656) that both planes speak: the header, the
// methods and classes, every attribute type, channel numbers, FINGERPRINT's XOR. Written once,
// here: the control plane's codec (control/stun) and the workers' raw-byte helpers
// (dataplane/wire/stun.hpp) take them from this header. No DPDK, no heap; constexpr throughout.

#include <compare>
#include <cstddef>
#include <cstdint>

namespace tern::stun {

// RFC 8489 §5: "All STUN messages comprise a 20-byte header followed by zero or more attributes."
inline constexpr size_t kHeaderSize = 20;
// RFC 8489 §5: "The Magic Cookie field MUST contain the fixed value 0x2112A442 in network byte order."
inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr size_t kTransactionIdSize = 12;
// The Message Length field is 16 bits and always a multiple of 4.
inline constexpr size_t kMaxBodySize = 0xFFFC;
inline constexpr size_t kMaxMessageSize = kHeaderSize + kMaxBodySize;

// RFC 8489 §14: "Each attribute MUST be TLV encoded, with a 16-bit type, 16-bit length, and value."
inline constexpr size_t kAttributeHeaderSize = 4;
inline constexpr size_t kMaxAttributeValueSize = 0xFFFF;

// Every attribute of RFC 8489 and RFC 8656: X(name, code, "RFC name"). One list defines the enum,
// the names and the set of attributes tern understands.
#define TERN_STUN_ATTRIBUTES(X)                                          \
  /* RFC 8489 §18.3, comprehension-required */                           \
  X(mapped_address, 0x0001, "MAPPED-ADDRESS")                            \
  X(username, 0x0006, "USERNAME")                                        \
  X(message_integrity, 0x0008, "MESSAGE-INTEGRITY")                      \
  X(error_code, 0x0009, "ERROR-CODE")                                    \
  X(unknown_attributes, 0x000A, "UNKNOWN-ATTRIBUTES")                    \
  X(realm, 0x0014, "REALM")                                              \
  X(nonce, 0x0015, "NONCE")                                              \
  X(message_integrity_sha256, 0x001C, "MESSAGE-INTEGRITY-SHA256")        \
  X(password_algorithm, 0x001D, "PASSWORD-ALGORITHM")                    \
  X(userhash, 0x001E, "USERHASH")                                        \
  X(xor_mapped_address, 0x0020, "XOR-MAPPED-ADDRESS")                    \
  /* RFC 8656 §18, comprehension-required */                             \
  X(channel_number, 0x000C, "CHANNEL-NUMBER")                            \
  X(lifetime, 0x000D, "LIFETIME")                                        \
  X(xor_peer_address, 0x0012, "XOR-PEER-ADDRESS")                        \
  X(data, 0x0013, "DATA")                                                \
  X(xor_relayed_address, 0x0016, "XOR-RELAYED-ADDRESS")                  \
  X(requested_address_family, 0x0017, "REQUESTED-ADDRESS-FAMILY")        \
  X(even_port, 0x0018, "EVEN-PORT")                                      \
  X(requested_transport, 0x0019, "REQUESTED-TRANSPORT")                  \
  X(dont_fragment, 0x001A, "DONT-FRAGMENT")                              \
  X(reservation_token, 0x0022, "RESERVATION-TOKEN")                      \
  /* RFC 8656 §18, comprehension-optional */                             \
  X(additional_address_family, 0x8000, "ADDITIONAL-ADDRESS-FAMILY")      \
  X(address_error_code, 0x8001, "ADDRESS-ERROR-CODE")                    \
  X(icmp, 0x8004, "ICMP")                                                \
  /* RFC 8489 §18.3, comprehension-optional */                           \
  X(password_algorithms, 0x8002, "PASSWORD-ALGORITHMS")                  \
  X(alternate_domain, 0x8003, "ALTERNATE-DOMAIN")                        \
  X(software, 0x8022, "SOFTWARE")                                        \
  X(alternate_server, 0x8023, "ALTERNATE-SERVER")                        \
  X(fingerprint, 0x8028, "FINGERPRINT")

enum class AttributeType : uint16_t {
#define TERN_STUN_ATTRIBUTE_ENUM(name, code, text) name = code,
  TERN_STUN_ATTRIBUTES(TERN_STUN_ATTRIBUTE_ENUM)
#undef TERN_STUN_ATTRIBUTE_ENUM
};

// RFC 8489 §14: "Attributes with type values between 0x0000 and 0x7FFF are comprehension-required
// attributes, which means that the STUN agent cannot successfully process the message unless it
// understands the attribute. Attributes with type values between 0x8000 and 0xFFFF are
// comprehension-optional attributes, which means that those attributes can be ignored by the STUN
// agent if it does not understand them."
constexpr bool is_comprehension_required(uint16_t type) { return type < 0x8000; }
constexpr bool is_comprehension_required(AttributeType type) {
  return is_comprehension_required(static_cast<uint16_t>(type));
}

// The comprehension-required attributes tern understands whose types are below 64, as a bit
// mask (bit t: type t): the data plane checks a Binding request's attributes with one test each.
inline constexpr uint64_t kKnownRequiredBelow64 = 0
#define TERN_STUN_ATTRIBUTE_BIT(name, code, text) \
  | ((code) < 64 && is_comprehension_required(uint16_t{code}) ? uint64_t{1} << ((code) & 63) : 0)
    TERN_STUN_ATTRIBUTES(TERN_STUN_ATTRIBUTE_BIT)
#undef TERN_STUN_ATTRIBUTE_BIT
    ;

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

// RFC 8656 §12:
//   0x0000 through 0x3FFF: These values can never be used for channel numbers.
//   0x4000 through 0x4FFF: These values are the allowed channel numbers (4096 possible values).
//   0x5000 through 0xFFFF: Reserved (For DTLS-SRTP multiplexing collision avoidance, see [RFC7983]).
struct ChannelNumber {
  static constexpr uint16_t kMin = 0x4000;
  static constexpr uint16_t kMax = 0x4FFF;

  uint16_t value = 0;

  constexpr bool valid() const { return value >= kMin && value <= kMax; }
  // RFC 5766 §11 allowed 0x4000-0x7FFF; RFC 8656 reserves 0x5000-0x7FFF.
  static constexpr uint16_t kMaxRfc5766 = 0x7FFF;
  constexpr bool valid_rfc5766() const { return value >= kMin && value <= kMaxRfc5766; }
  constexpr auto operator<=>(const ChannelNumber&) const = default;
};

inline constexpr size_t kChannelDataHeaderSize = 4;

// RFC 8489 §14.7: "the CRC-32 of the STUN message up to (but excluding) the FINGERPRINT attribute
// itself, XOR'ed with the 32-bit value 0x5354554e."

inline constexpr uint32_t kFingerprintXor = 0x5354554e;

}  // namespace tern::stun
