#pragma once
// Network byte order and STUN's 32-bit alignment, converted in one place. Every read and write of
// a multi-byte field in the codec goes through these helpers; callers have already checked bounds.

#include <cstddef>
#include <cstdint>

namespace tern::stun::wire {

constexpr uint16_t load_u16(const uint8_t* p) {
  return static_cast<uint16_t>((uint16_t{p[0]} << 8) | p[1]);
}

constexpr uint32_t load_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

constexpr void store_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

constexpr void store_u32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// RFC 8489 §14: "attributes whose content is not a multiple of 4 bytes are padded with 1, 2, or 3
// bytes of padding so that its value contains a multiple of 4 bytes."
constexpr size_t padded(size_t length) { return (length + 3) & ~size_t{3}; }

}  // namespace tern::stun::wire
