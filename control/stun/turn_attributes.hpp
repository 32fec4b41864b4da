#pragma once
// TURN attributes of RFC 8656 §18 (the address ones, XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS, are
// in address_attributes.hpp; ADDRESS-ERROR-CODE in error_attributes.hpp): CHANNEL-NUMBER, LIFETIME,
// DATA, REQUESTED-ADDRESS-FAMILY, ADDITIONAL-ADDRESS-FAMILY, EVEN-PORT, REQUESTED-TRANSPORT,
// DONT-FRAGMENT, RESERVATION-TOKEN and ICMP.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "conf/net.hpp"
#include "control/stun/attribute.hpp"
#include "control/stun/channel_data.hpp"

namespace tern::stun {

class Message;

// RFC 8656 §18.1: "The value portion of this attribute is 4 bytes long and consists of a 16-bit
// unsigned integer followed by a two-octet RFFU (Reserved For Future Use) field, which MUST be set
// to 0 on transmission and MUST be ignored on reception." Any number decodes; the server checks
// ChannelNumber::valid() and answers 400 otherwise (§11.2).
std::optional<ChannelNumber> decode_channel_number(std::span<const uint8_t> value);
Decoded<ChannelNumber> channel_number(const Message& message);

// RFC 8656 §18.2: "a 32-bit unsigned integral value representing the number of seconds remaining
// until expiration."
struct Lifetime {
  uint32_t seconds = 0;
  constexpr auto operator<=>(const Lifetime&) const = default;
};
std::optional<Lifetime> decode_lifetime(std::span<const uint8_t> value);
Decoded<Lifetime> lifetime(const Message& message);

// RFC 8656 §18.4: DATA, "the application data (that is, the data that would immediately follow the
// UDP header if the data was sent directly between the client and the peer)". Any length.
Decoded<std::span<const uint8_t>> data(const Message& message);

// RFC 8656 §18.6 REQUESTED-ADDRESS-FAMILY and §18.11 ADDITIONAL-ADDRESS-FAMILY:
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Family    |            Reserved                           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// The family byte is kept as sent: a value other than 0x01 or 0x02 is an unsupported family, which
// the server answers with 440 (Address Family not Supported), not a malformed attribute.
struct FamilyCode {
  uint8_t value = 0;
  constexpr std::optional<Family> family() const {
    if (value == static_cast<uint8_t>(Family::ipv4)) return Family::ipv4;
    if (value == static_cast<uint8_t>(Family::ipv6)) return Family::ipv6;
    return std::nullopt;
  }
  constexpr auto operator<=>(const FamilyCode&) const = default;
};
std::optional<FamilyCode> decode_family(std::span<const uint8_t> value);
Decoded<FamilyCode> requested_address_family(const Message& message);
Decoded<FamilyCode> additional_address_family(const Message& message);

// RFC 8656 §18.7: "The value portion of this attribute is 1 byte long." R: "If 1, the server is
// requested to reserve the next-higher port number (on the same IP address) for a subsequent
// allocation."
struct EvenPort {
  bool reserve = false;
  constexpr auto operator<=>(const EvenPort&) const = default;
};
std::optional<EvenPort> decode_even_port(std::span<const uint8_t> value);
Decoded<EvenPort> even_port(const Message& message);

// RFC 8656 §18.8: the protocol number of the relayed transport; "This specification only allows
// the use of code point 17 (User Datagram Protocol)." (RFC 6062 adds 6, TCP.)
struct RequestedTransport {
  static constexpr uint8_t kUdp = 17;
  static constexpr uint8_t kTcp = 6;
  uint8_t protocol = kUdp;
  constexpr auto operator<=>(const RequestedTransport&) const = default;
};
std::optional<RequestedTransport> decode_requested_transport(std::span<const uint8_t> value);
Decoded<RequestedTransport> requested_transport(const Message& message);

// RFC 8656 §18.9: "This attribute has no value part, and thus, the attribute length field is 0."
// True when present with an empty value; a DONT-FRAGMENT with a value is malformed.
Decoded<bool> dont_fragment(const Message& message);

// RFC 8656 §18.10: "The attribute value is 8 bytes and contains the token value."
struct ReservationToken {
  std::array<uint8_t, 8> bytes{};
  constexpr auto operator<=>(const ReservationToken&) const = default;
};
std::optional<ReservationToken> decode_reservation_token(std::span<const uint8_t> value);
Decoded<ReservationToken> reservation_token(const Message& message);

// RFC 8656 §18.13: ICMP, why a packet to a peer was dropped, in a Data indication.
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Reserved                     |  ICMP Type  |  ICMP Code      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                          Error Data                           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// The figure's field borders are drawn off the byte boundaries, but ICMP and ICMPv6 type and code
// are one byte each (RFC 792, RFC 4443), so they take the third and fourth bytes. Error Data is
// the next-hop MTU for "fragmentation needed" / "packet too big", otherwise zero.
struct Icmp {
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t error_data = 0;
  constexpr auto operator<=>(const Icmp&) const = default;
};
std::optional<Icmp> decode_icmp(std::span<const uint8_t> value);
Decoded<Icmp> icmp(const Message& message);

}  // namespace tern::stun
