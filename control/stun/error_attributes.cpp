#include "control/stun/error_attributes.hpp"

#include "control/stun/parser.hpp"
#include "control/stun/string_attributes.hpp"

namespace tern::stun {

std::string_view reason_phrase(ErrorCode code) {
  switch (code.value) {
    // RFC 8489 §14.8
    case 300: return "Try Alternate";
    case 400: return "Bad Request";
    case 401: return "Unauthenticated";
    case 420: return "Unknown Attribute";
    case 438: return "Stale Nonce";
    case 500: return "Server Error";
    // RFC 8656 §19
    case 403: return "Forbidden";
    case 437: return "Allocation Mismatch";
    case 440: return "Address Family not Supported";
    case 441: return "Wrong Credentials";
    case 442: return "Unsupported Transport Protocol";
    case 443: return "Peer Address Family Mismatch";
    case 486: return "Allocation Quota Reached";
    case 508: return "Insufficient Capacity";
    // RFC 6062 §6.3
    case 446: return "Connection Already Exists";
    case 447: return "Connection Timeout or Failure";
    default: return {};
  }
}

namespace {

// RFC 8489 §14.8:
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |           Reserved, should be 0         |Class|     Number    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |      Reason Phrase (variable)                                ..
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// "Receivers MUST ignore these bits. The Class represents the hundreds digit of the error code.
// The value MUST be between 3 and 6. The Number represents the binary encoding of the error code
// modulo 100, and its value MUST be between 0 and 99."
std::optional<ErrorCode> decode_class_number(std::span<const uint8_t> value) {
  const uint8_t error_class = value[2] & 0x07;
  const uint8_t number = value[3];
  if (error_class < 3 || error_class > 6 || number > 99) return std::nullopt;
  return ErrorCode{static_cast<uint16_t>(error_class * 100 + number)};
}

}  // namespace

void encode_error_header(uint8_t family, ErrorCode code, uint8_t* out) {
  out[0] = family;
  out[1] = 0;
  out[2] = code.error_class();
  out[3] = code.number();
}

std::optional<ErrorCodeValue> decode_error_code(std::span<const uint8_t> value) {
  if (value.size() < 4) return std::nullopt;
  const auto code = decode_class_number(value);
  const auto reason = decode_text(value.subspan(4));
  if (!code || !reason) return std::nullopt;
  return ErrorCodeValue{*code, *reason};
}

Decoded<ErrorCodeValue> error_code(const Message& message) {
  const auto raw = message.find(AttributeType::error_code);
  if (!raw) return Decoded<ErrorCodeValue>::absent();
  const auto value = decode_error_code(raw->value);
  if (!value) return Decoded<ErrorCodeValue>::malformed_value();
  return *value;
}

// RFC 8489 §14.13: "The attribute contains a list of 16-bit values, each of which represents an
// attribute type that was not understood by the server."
std::optional<UnknownAttributeList> decode_unknown_attributes(std::span<const uint8_t> value) {
  if (value.size() % 2 != 0) return std::nullopt;
  return UnknownAttributeList(value);
}

Decoded<UnknownAttributeList> unknown_attributes(const Message& message) {
  const auto raw = message.find(AttributeType::unknown_attributes);
  if (!raw) return Decoded<UnknownAttributeList>::absent();
  const auto value = decode_unknown_attributes(raw->value);
  if (!value) return Decoded<UnknownAttributeList>::malformed_value();
  return *value;
}

// RFC 8656 §18.12:
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |    Family     |        Reserved         |Class|     Number    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |      Reason Phrase (variable)                                ..
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
std::optional<AddressErrorCode> decode_address_error_code(std::span<const uint8_t> value) {
  if (value.size() < 4) return std::nullopt;
  if (value[0] != static_cast<uint8_t>(Family::ipv4) && value[0] != static_cast<uint8_t>(Family::ipv6))
    return std::nullopt;
  const auto code = decode_class_number(value);
  const auto reason = decode_text(value.subspan(4));
  if (!code || !reason) return std::nullopt;
  return AddressErrorCode{static_cast<Family>(value[0]), *code, *reason};
}

Decoded<AddressErrorCode> address_error_code(const Message& message) {
  const auto raw = message.find(AttributeType::address_error_code);
  if (!raw) return Decoded<AddressErrorCode>::absent();
  const auto value = decode_address_error_code(raw->value);
  if (!value) return Decoded<AddressErrorCode>::malformed_value();
  return *value;
}

}  // namespace tern::stun
