#include "control/stun/string_attributes.hpp"

#include "control/stun/parser.hpp"

namespace tern::stun {
namespace {

std::string_view as_text(std::span<const uint8_t> value) {
  return {reinterpret_cast<const char*>(value.data()), value.size()};
}

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxAlternateDomainSize) return false;
  if (domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty()) return false;
  size_t label = 0;
  for (const char c : domain) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (is_ldh(c) && label < 63) {
      ++label;
    } else {
      return false;
    }
  }
  return label != 0;
}

bool text_within(std::span<const uint8_t> value, size_t max_bytes) {
  if (value.size() > max_bytes) return false;
  const auto characters = utf8_length(value);
  return characters && *characters <= kMaxTextCharacters;
}

Decoded<std::string_view> first(const Message& message, AttributeType type,
                                std::optional<std::string_view> (*decode)(std::span<const uint8_t>)) {
  const auto raw = message.find(type);
  if (!raw) return Decoded<std::string_view>::absent();
  const auto text = decode(raw->value);
  if (!text) return Decoded<std::string_view>::malformed_value();
  return *text;
}

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  const size_t at = kBase64.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

// RFC 3629 §4: UTF8-char = UTF8-1 / UTF8-2 / UTF8-3 / UTF8-4, with the second byte's range narrowed
// after E0, ED, F0 and F4 so that overlong forms, surrogates and values past U+10FFFF are excluded.
std::optional<size_t> utf8_length(std::span<const uint8_t> bytes) {
  size_t characters = 0;
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    const uint8_t b = bytes[i];
    size_t extra = 0;
    uint8_t low = 0x80;
    uint8_t high = 0xBF;
    if (b < 0x80) {
      extra = 0;
    } else if (b >= 0xC2 && b <= 0xDF) {
      extra = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      extra = 2;
      if (b == 0xE0) low = 0xA0;
      if (b == 0xED) high = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      extra = 3;
      if (b == 0xF0) low = 0x90;
      if (b == 0xF4) high = 0x8F;
    } else {
      return std::nullopt;
    }
    if (extra > n - i - 1) return std::nullopt;
    for (size_t k = 1; k <= extra; ++k) {
      const uint8_t c = bytes[i + k];
      const uint8_t lo = k == 1 ? low : 0x80;
      const uint8_t hi = k == 1 ? high : 0xBF;
      if (c < lo || c > hi) return std::nullopt;
    }
    i += extra + 1;
    ++characters;
  }
  return characters;
}

std::optional<std::string_view> decode_username(std::span<const uint8_t> value) {
  if (value.size() > kMaxUsernameReceiveBytes || !utf8_length(value)) return std::nullopt;
  return as_text(value);
}

std::optional<std::string_view> decode_text(std::span<const uint8_t> value) {
  if (!text_within(value, kMaxTextReceiveBytes)) return std::nullopt;
  return as_text(value);
}

std::optional<std::string_view> decode_alternate_domain(std::span<const uint8_t> value) {
  const auto text = as_text(value);
  if (!valid_domain(text)) return std::nullopt;
  return text;
}

bool sendable_username(std::string_view username) {
  return username.size() <= kMaxUsernameSendBytes && utf8_length(username).has_value();
}

bool sendable_text(std::string_view text) { return text_within(as_bytes(text), kMaxTextSendBytes); }

bool sendable_alternate_domain(std::string_view domain) { return valid_domain(domain); }

Decoded<std::string_view> username(const Message& message) {
  return first(message, AttributeType::username, decode_username);
}

// RFC 8489 §14.9: REALM "MUST be a UTF-8-encoded sequence of fewer than 128 characters".
Decoded<std::string_view> realm(const Message& message) {
  return first(message, AttributeType::realm, decode_text);
}

// RFC 8489 §14.10: "The NONCE attribute MUST be fewer than 128 characters".
Decoded<std::string_view> nonce(const Message& message) {
  return first(message, AttributeType::nonce, decode_text);
}

// RFC 8489 §14.14: SOFTWARE "MUST be a UTF-8-encoded sequence of fewer than 128 characters".
Decoded<std::string_view> software(const Message& message) {
  return first(message, AttributeType::software, decode_text);
}

Decoded<std::string_view> alternate_domain(const Message& message) {
  return first(message, AttributeType::alternate_domain, decode_alternate_domain);
}

std::optional<SecurityFeatures> nonce_security_features(std::string_view nonce) {
  if (nonce.size() < kNonceCookieSize || nonce.substr(0, kNonceCookiePrefix.size()) != kNonceCookiePrefix)
    return std::nullopt;
  uint32_t bits = 0;
  for (size_t i = kNonceCookiePrefix.size(); i < kNonceCookieSize; ++i) {
    const int v = base64_value(nonce[i]);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
  }
  return SecurityFeatures{bits};
}

std::array<char, kNonceCookieSize> nonce_cookie(SecurityFeatures features) {
  std::array<char, kNonceCookieSize> out{};
  for (size_t i = 0; i < kNonceCookiePrefix.size(); ++i) out[i] = kNonceCookiePrefix[i];
  const uint32_t bits = features.bits & SecurityFeatures::kMask;
  for (size_t i = 0; i < 4; ++i) out[kNonceCookiePrefix.size() + i] = kBase64[(bits >> (18 - 6 * i)) & 0x3F];
  return out;
}

}  // namespace tern::stun
