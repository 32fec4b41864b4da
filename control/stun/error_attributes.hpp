#pragma once
// Error attributes: ERROR-CODE (RFC 8489 §14.8), UNKNOWN-ATTRIBUTES (§14.13) and
// ADDRESS-ERROR-CODE (RFC 8656 §18.12), and the error codes of STUN and TURN with their
// recommended reason phrases.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "conf/net.hpp"
#include "control/stun/attribute.hpp"

namespace tern::stun {

class Message;

// RFC 8489 §14.8: "a numeric error code value in the range of 300 to 699".
struct ErrorCode {
  uint16_t value = 0;

  // The Class field: the hundreds digit, 3..6.
  constexpr uint8_t error_class() const { return static_cast<uint8_t>(value / 100); }
  // The Number field: the code modulo 100.
  constexpr uint8_t number() const { return static_cast<uint8_t>(value % 100); }
  constexpr bool valid() const { return value >= 300 && value <= 699; }
  constexpr auto operator<=>(const ErrorCode&) const = default;

  // RFC 8489 §14.8
  static const ErrorCode kTryAlternate;             // 300
  static const ErrorCode kBadRequest;               // 400
  static const ErrorCode kUnauthenticated;          // 401
  static const ErrorCode kUnknownAttribute;         // 420
  static const ErrorCode kStaleNonce;               // 438
  static const ErrorCode kServerError;              // 500
  // RFC 8656 §19
  static const ErrorCode kForbidden;                // 403
  static const ErrorCode kAllocationMismatch;       // 437
  static const ErrorCode kAddressFamilyNotSupported;  // 440
  static const ErrorCode kWrongCredentials;         // 441
  static const ErrorCode kUnsupportedTransportProtocol;  // 442
  static const ErrorCode kPeerAddressFamilyMismatch;     // 443
  static const ErrorCode kAllocationQuotaReached;   // 486
  static const ErrorCode kInsufficientCapacity;     // 508
  // RFC 6062 §6.3 (TURN over TCP)
  static const ErrorCode kConnectionAlreadyExists;  // 446
  static const ErrorCode kConnectionTimeoutOrFailure;  // 447
};

inline constexpr ErrorCode ErrorCode::kTryAlternate{300};
inline constexpr ErrorCode ErrorCode::kBadRequest{400};
inline constexpr ErrorCode ErrorCode::kUnauthenticated{401};
inline constexpr ErrorCode ErrorCode::kForbidden{403};
inline constexpr ErrorCode ErrorCode::kUnknownAttribute{420};
inline constexpr ErrorCode ErrorCode::kAllocationMismatch{437};
inline constexpr ErrorCode ErrorCode::kStaleNonce{438};
inline constexpr ErrorCode ErrorCode::kAddressFamilyNotSupported{440};
inline constexpr ErrorCode ErrorCode::kWrongCredentials{441};
inline constexpr ErrorCode ErrorCode::kUnsupportedTransportProtocol{442};
inline constexpr ErrorCode ErrorCode::kPeerAddressFamilyMismatch{443};
inline constexpr ErrorCode ErrorCode::kConnectionAlreadyExists{446};
inline constexpr ErrorCode ErrorCode::kConnectionTimeoutOrFailure{447};
inline constexpr ErrorCode ErrorCode::kAllocationQuotaReached{486};
inline constexpr ErrorCode ErrorCode::kServerError{500};
inline constexpr ErrorCode ErrorCode::kInsufficientCapacity{508};

// The recommended reason phrase from the IANA STUN Error Codes registry ("Unauthenticated" for
// 401 as RFC 8489 renamed it); empty for a code tern does not know.
std::string_view reason_phrase(ErrorCode code);

// ERROR-CODE
struct ErrorCodeValue {
  ErrorCode code;
  std::string_view reason;
};
// nullopt when shorter than 4 bytes, the class is not 3..6, the number is over 99, or the reason
// phrase is not UTF-8 of fewer than 128 characters.
std::optional<ErrorCodeValue> decode_error_code(std::span<const uint8_t> value);
Decoded<ErrorCodeValue> error_code(const Message& message);

// UNKNOWN-ATTRIBUTES: a list of 16-bit attribute types, viewed in place.
class UnknownAttributeList {
 public:
  UnknownAttributeList() = default;
  explicit UnknownAttributeList(std::span<const uint8_t> value) : value_(value) {}
  size_t size() const { return value_.size() / 2; }
  bool empty() const { return value_.empty(); }
  uint16_t operator[](size_t index) const {
    return static_cast<uint16_t>((uint16_t{value_[2 * index]} << 8) | value_[2 * index + 1]);
  }
  bool contains(uint16_t type) const {
    for (size_t i = 0; i < size(); ++i) {
      if ((*this)[i] == type) return true;
    }
    return false;
  }

 private:
  std::span<const uint8_t> value_;
};
// nullopt when the length is odd.
std::optional<UnknownAttributeList> decode_unknown_attributes(std::span<const uint8_t> value);
Decoded<UnknownAttributeList> unknown_attributes(const Message& message);

// ADDRESS-ERROR-CODE: why one of the requested address families was not allocated (440 or 508).
struct AddressErrorCode {
  Family family = Family::ipv4;
  ErrorCode code;
  std::string_view reason;
};
std::optional<AddressErrorCode> decode_address_error_code(std::span<const uint8_t> value);
// Writes the 4 bytes before the reason phrase of ERROR-CODE (family 0) or ADDRESS-ERROR-CODE.
void encode_error_header(uint8_t family, ErrorCode code, uint8_t* out);
Decoded<AddressErrorCode> address_error_code(const Message& message);

}  // namespace tern::stun
