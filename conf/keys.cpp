#include "conf/keys.hpp"

#include <array>

namespace tern::conf {
namespace {

std::string credential_text(std::string_view username, std::string_view realm,
                            std::string_view password) {
  std::string text;
  text.reserve(username.size() + realm.size() + password.size() + 2);
  text.append(username).append(":").append(realm).append(":").append(password);
  return text;
}

std::span<const uint8_t> as_bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// RFC 8489 §9.2.2
Md5Key md5_key(crypto::Engine& engine, std::string_view username, std::string_view realm,
               std::string_view password) {
  Md5Key key{};
  engine.md5(as_bytes(credential_text(username, realm, password)), key);
  return key;
}

// RFC 8489 §9.2.2
Sha256Key sha256_key(crypto::Engine& engine, std::string_view username, std::string_view realm,
                     std::string_view password) {
  Sha256Key key{};
  engine.sha256(as_bytes(credential_text(username, realm, password)), key);
  return key;
}

bool parse_hex(std::string_view text, std::span<uint8_t> out) {
  if (text.size() != 2 * out.size()) return false;
  for (size_t i = 0; i < text.size(); ++i)
    if (hex_value(text[i]) < 0) return false;
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>(hex_value(text[2 * i]) << 4 | hex_value(text[2 * i + 1]));
  return true;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(2 * bytes.size());
  for (const uint8_t b : bytes) {
    text.push_back(kDigits[b >> 4]);
    text.push_back(kDigits[b & 0x0f]);
  }
  return text;
}

}  // namespace tern::conf
