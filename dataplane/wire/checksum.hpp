#pragma once
// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Sums are one's-complement sums of 16-bit words exactly as they sit in memory (native loads of
// network-order data), which RFC 1071 §2(B) shows is byte-order independent: the folded result
// stored back natively is the checksum in network order. Relaying never sums a payload again:
// the sum of the application data is derived from the checksum that arrived by taking away the
// sums of the parts that are removed (RFC 1624 eqn. 3), and the parts that are added are summed
// on their own (a handful of bytes).

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace tern::dp::csum {

// Folds a 32/64-bit accumulation into 16 bits with end-around carry.
constexpr uint16_t fold(uint64_t sum) {
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// One's-complement a + b and a - b (RFC 1624 §3: subtracting is adding the complement).
constexpr uint16_t add(uint16_t a, uint16_t b) { return fold(uint32_t{a} + b); }
constexpr uint16_t sub(uint16_t a, uint16_t b) { return fold(uint32_t{a} + static_cast<uint16_t>(~b)); }

// The sum of a 32-bit network-order value (an IPv4 address) as two words.
constexpr uint32_t words(uint32_t v) { return (v & 0xffff) + (v >> 16); }

// The sum of bytes [p, p + len) that start at an odd offset from the start of the checksummed
// data when odd_offset is set: each byte then sits in the other half of its word, which is the
// byte-swapped sum (RFC 1071 §2(B)). An odd length is padded with a zero byte, as the checksum
// pads the end of a datagram.
inline uint16_t region(const void* p, size_t len, bool odd_offset) {
  const uint16_t s = rte_raw_cksum(p, len);
  return odd_offset ? static_cast<uint16_t>((s << 8) | (s >> 8)) : s;
}

// The folded sum of an option-less IPv4 header (20 bytes) in five 32-bit loads: the sum of
// 32-bit words folded equals the sum of 16-bit words (RFC 1071 §2(C)). 0xffff when it checks.
inline uint16_t ipv4_header20(const void* header) {
  const auto* p = static_cast<const uint8_t*>(header);
  uint64_t sum = 0;
  for (int i = 0; i < 5; ++i) {
    uint32_t w;
    std::memcpy(&w, p + 4 * i, 4);
    sum += w;
  }
  return fold(sum);
}

// RFC 768: the UDP checksum field of an IPv4 datagram: 0 means "none", so a computed zero is
// sent as all ones.
constexpr uint16_t udp_field(uint16_t sum) {
  const uint16_t c = static_cast<uint16_t>(~sum);
  return c == 0 ? 0xffff : c;
}

// The sum of the parts of a UDP/IPv4 datagram that are not its payload: the pseudo-header
// (RFC 768: source, destination, protocol, UDP length) and the UDP header's ports and length,
// everything network order. The checksum field itself counts as zero.
constexpr uint16_t udp_envelope(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
                                uint16_t dst_port, uint16_t udp_length_be) {
  return fold(uint64_t{words(src_ip)} + words(dst_ip) + RTE_BE16(uint16_t{IPPROTO_UDP}) +
              2u * udp_length_be + src_port + dst_port);
}

// The same for IPv6 (RFC 8200 §8.1): the pseudo-header holds both 16-byte addresses, the
// upper-layer length (32 bits; no jumbograms here, so its high word is zero) and the next header.
// For ICMPv6 with IPPROTO_ICMPV6; for UDP the envelope adds the ports and the length again.
inline uint16_t ipv6_pseudo(const void* src, const void* dst, uint16_t length_be, uint8_t next_header) {
  uint64_t sum = 0;
  for (const void* a : {src, dst}) {
    uint32_t w[4];
    std::memcpy(w, a, 16);
    sum += uint64_t{w[0]} + w[1] + w[2] + w[3];
  }
  return fold(sum + length_be + RTE_BE16(uint16_t{next_header}));
}
inline uint16_t udp6_envelope(const void* src_ip, const void* dst_ip, uint16_t src_port,
                              uint16_t dst_port, uint16_t udp_length_be) {
  return fold(uint64_t{ipv6_pseudo(src_ip, dst_ip, udp_length_be, IPPROTO_UDP)} + udp_length_be +
              src_port + dst_port);
}

}  // namespace tern::dp::csum
