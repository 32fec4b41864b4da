#pragma once
// Text attributes: USERNAME (RFC 8489 §14.3), REALM (§14.9), NONCE (§14.10) with its nonce cookie
// (§9.2), SOFTWARE (§14.14) and ALTERNATE-DOMAIN (§14.16). Values are views into the message; the
// decoders check the encoding and the RFC's size limits but do no string preparation
// (OpaqueString, RFC 8265, is the credential layer's job).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "control/stun/attribute.hpp"

namespace tern::stun {

class Message;

// RFC 8489 §14.3: USERNAME "MUST contain a UTF-8-encoded sequence of fewer than 509 bytes ...
// A compliant implementation MUST be able to parse a UTF-8-encoded sequence of 763 or fewer octets
// to be compatible with [RFC5389]."
inline constexpr size_t kMaxUsernameSendBytes = 508;
inline constexpr size_t kMaxUsernameReceiveBytes = 763;
// RFC 8489 §14.9, §14.10, §14.14 (and the ERROR-CODE reason phrase, §14.8): "fewer than 128
// characters (which can be as long as 509 bytes when encoding them and as long as 763 bytes when
// decoding them)".
inline constexpr size_t kMaxTextCharacters = 127;
inline constexpr size_t kMaxTextSendBytes = 509;
inline constexpr size_t kMaxTextReceiveBytes = 763;
// RFC 8489 §14.16: "a valid DNS name ... of 255 or fewer ASCII characters".
inline constexpr size_t kMaxAlternateDomainSize = 255;

// Code points in well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF); nullopt when the bytes are not UTF-8.
std::optional<size_t> utf8_length(std::span<const uint8_t> bytes);
inline std::optional<size_t> utf8_length(std::string_view text) {
  return utf8_length({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

// Value decoders, with the limits for what is received.
std::optional<std::string_view> decode_username(std::span<const uint8_t> value);
// REALM, NONCE, SOFTWARE and reason phrases: UTF-8, fewer than 128 characters, at most 763 bytes.
std::optional<std::string_view> decode_text(std::span<const uint8_t> value);
// ALTERNATE-DOMAIN: letters, digits and hyphens in dot-separated labels of 1..63 characters, at most
// 255 characters in all, an optional final dot.
std::optional<std::string_view> decode_alternate_domain(std::span<const uint8_t> value);

// The limits for what tern sends.
bool sendable_username(std::string_view username);
bool sendable_text(std::string_view text);
bool sendable_alternate_domain(std::string_view domain);

Decoded<std::string_view> username(const Message& message);
Decoded<std::string_view> realm(const Message& message);
Decoded<std::string_view> nonce(const Message& message);
Decoded<std::string_view> software(const Message& message);
Decoded<std::string_view> alternate_domain(const Message& message);

// RFC 8489 §9.2: a server that supports the RFC 8489 security features starts every NONCE with the
// "nonce cookie": the string "obMatJos2" followed by the 24-bit STUN Security Feature set in
// base64 (four characters). RFC 8489 §18.1 numbers the bits from the least significant side
// (erratum 6290): bit 0 is Password algorithms, bit 1 is Username anonymity.
inline constexpr std::string_view kNonceCookiePrefix = "obMatJos2";
inline constexpr size_t kNonceCookieSize = 13;

struct SecurityFeatures {
  static constexpr uint32_t kPasswordAlgorithms = 1u << 0;
  static constexpr uint32_t kUsernameAnonymity = 1u << 1;
  static constexpr uint32_t kMask = 0xFFFFFF;

  uint32_t bits = 0;

  constexpr bool password_algorithms() const { return (bits & kPasswordAlgorithms) != 0; }
  constexpr bool username_anonymity() const { return (bits & kUsernameAnonymity) != 0; }
  constexpr bool operator==(const SecurityFeatures&) const = default;
};

// The feature set of a nonce that starts with the cookie; nullopt for a nonce without one (an
// RFC 5389 server's) or with an invalid base64 group.
std::optional<SecurityFeatures> nonce_security_features(std::string_view nonce);
// The 13-character cookie for `features` (bits above 23 are dropped), to start a NONCE with.
std::array<char, kNonceCookieSize> nonce_cookie(SecurityFeatures features);

}  // namespace tern::stun
