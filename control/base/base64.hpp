#pragma once
// RFC 4648 §4 base64 with padding: the TURN REST API password (base64 of an HMAC-SHA1) and the
// opaque part of tern's nonces.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tern::ctl {

constexpr size_t base64_size(size_t bytes) { return (bytes + 2) / 3 * 4; }

// Writes base64_size(in.size()) characters to out (which must have room for them) and returns how
// many were written.
size_t base64_encode(std::span<const uint8_t> in, std::span<char> out);

// Decodes exactly out.size() bytes from `text`, which must be base64_size(out.size()) characters
// of the standard alphabet, padded; false (out unspecified) otherwise.
bool base64_decode(std::string_view text, std::span<uint8_t> out);

}  // namespace tern::ctl
