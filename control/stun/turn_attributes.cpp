#include "control/stun/turn_attributes.hpp"

#include "control/stun/parser.hpp"
#include "control/stun/wire.hpp"

namespace tern::stun {
namespace {

template <typename T>
Decoded<T> first(const Message& message, AttributeType type,
                 std::optional<T> (*decode)(std::span<const uint8_t>)) {
  const auto raw = message.find(type);
  if (!raw) return Decoded<T>::absent();
  const auto value = decode(raw->value);
  if (!value) return Decoded<T>::malformed_value();
  return *value;
}

}  // namespace

std::optional<ChannelNumber> decode_channel_number(std::span<const uint8_t> value) {
  if (value.size() != 4) return std::nullopt;
  return ChannelNumber{wire::load_u16(value.data())};
}

Decoded<ChannelNumber> channel_number(const Message& message) {
  return first(message, AttributeType::channel_number, decode_channel_number);
}

std::optional<Lifetime> decode_lifetime(std::span<const uint8_t> value) {
  if (value.size() != 4) return std::nullopt;
  return Lifetime{wire::load_u32(value.data())};
}

Decoded<Lifetime> lifetime(const Message& message) {
  return first(message, AttributeType::lifetime, decode_lifetime);
}

Decoded<std::span<const uint8_t>> data(const Message& message) {
  const auto raw = message.find(AttributeType::data);
  if (!raw) return Decoded<std::span<const uint8_t>>::absent();
  return raw->value;
}

// RFC 8656 §18.6: "the 24 bits in the Reserved field MUST be set to zero by the client and MUST be
// ignored by the server."
std::optional<FamilyCode> decode_family(std::span<const uint8_t> value) {
  if (value.size() != 4) return std::nullopt;
  return FamilyCode{value[0]};
}

Decoded<FamilyCode> requested_address_family(const Message& message) {
  return first(message, AttributeType::requested_address_family, decode_family);
}

// RFC 8656 §18.11: "It is encoded in the same way as the REQUESTED-ADDRESS-FAMILY attribute".
Decoded<FamilyCode> additional_address_family(const Message& message) {
  return first(message, AttributeType::additional_address_family, decode_family);
}

// RFC 8656 §18.7: "The other 7 bits of the attribute's value must be set to zero on transmission
// and ignored on reception."
std::optional<EvenPort> decode_even_port(std::span<const uint8_t> value) {
  if (value.size() != 1) return std::nullopt;
  return EvenPort{(value[0] & 0x80) != 0};
}

Decoded<EvenPort> even_port(const Message& message) {
  return first(message, AttributeType::even_port, decode_even_port);
}

// RFC 8656 §18.8: "The RFFU field MUST be set to zero on transmission and MUST be ignored on
// reception."
std::optional<RequestedTransport> decode_requested_transport(std::span<const uint8_t> value) {
  if (value.size() != 4) return std::nullopt;
  return RequestedTransport{value[0]};
}

Decoded<RequestedTransport> requested_transport(const Message& message) {
  return first(message, AttributeType::requested_transport, decode_requested_transport);
}

Decoded<bool> dont_fragment(const Message& message) {
  const auto raw = message.find(AttributeType::dont_fragment);
  if (!raw) return Decoded<bool>::absent();
  if (!raw->value.empty()) return Decoded<bool>::malformed_value();
  return true;
}

std::optional<ReservationToken> decode_reservation_token(std::span<const uint8_t> value) {
  if (value.size() != 8) return std::nullopt;
  ReservationToken token;
  for (size_t i = 0; i < 8; ++i) token.bytes[i] = value[i];
  return token;
}

Decoded<ReservationToken> reservation_token(const Message& message) {
  return first(message, AttributeType::reservation_token, decode_reservation_token);
}

// RFC 8656 §18.13: "Reserved: This field MUST be set to 0 when sent and MUST be ignored when
// received."
std::optional<Icmp> decode_icmp(std::span<const uint8_t> value) {
  if (value.size() != 8) return std::nullopt;
  return Icmp{value[2], value[3], wire::load_u32(value.data() + 4)};
}

Decoded<Icmp> icmp(const Message& message) { return first(message, AttributeType::icmp, decode_icmp); }

}  // namespace tern::stun
