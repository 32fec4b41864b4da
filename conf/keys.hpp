#pragma once
// RFC 8489 §9.2.2 long-term credential keys, derived once when the configuration is loaded:
//   MD5 key     = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password))
//   SHA-256 key = SHA-256(username ":" OpaqueString(realm) ":" OpaqueString(password))
// tern hashes the UTF-8 bytes as they are. OpaqueString (RFC 8265 §4.2) is the identity on
// printable ASCII, so for ASCII names and passwords these are the keys every client derives;
// non-ASCII text must already be in the form OpaqueString would give (NFC, non-ASCII spaces
// mapped to U+0020).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "conf/config.hpp"
#include "crypto/engine.hpp"

namespace tern::conf {

Md5Key md5_key(crypto::Engine& engine, std::string_view username, std::string_view realm,
               std::string_view password);
Sha256Key sha256_key(crypto::Engine& engine, std::string_view username, std::string_view realm,
                     std::string_view password);

// Exactly 2 * out.size() hex digits, either case, nothing else; out is written only on success.
bool parse_hex(std::string_view text, std::span<uint8_t> out);
// Lower-case hex.
std::string to_hex(std::span<const uint8_t> bytes);

}  // namespace tern::conf
