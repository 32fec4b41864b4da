#pragma once
// IPv6 addresses as the data plane handles them: the sixteen bytes in wire order, compared and
// hashed as two 64-bit words (on a little-endian CPU, which packet.hpp insists on). Like IPv4
// addresses everywhere in the data plane they stay in network order; nothing is converted.

#include <cstdint>
#include <cstring>

#include "conf/net.hpp"

namespace tern::dp {

// Trivially constructible, like the integers IPv4 addresses are kept in: `Ip6 a;` is
// uninitialised, `Ip6{}` is ::.
struct alignas(8) Ip6 {
  uint64_t w[2];  // bytes 0-7 and 8-15, as they sit in memory

  static Ip6 load(const void* bytes) {
    Ip6 a;
    std::memcpy(a.w, bytes, 16);
    return a;
  }
  void store(void* bytes) const { std::memcpy(bytes, w, 16); }
  static Ip6 of(const IpAddress& ip) { return load(ip.raw().data()); }  // an IPv6 IpAddress
  IpAddress address() const {
    uint8_t b[16];
    store(b);
    return *IpAddress::from_bytes(b);
  }
  uint8_t byte(unsigned i) const {  // the i-th byte on the wire (x86: little-endian words)
    return static_cast<uint8_t>(w[i / 8] >> (8 * (i % 8)));
  }

  bool zero() const { return (w[0] | w[1]) == 0; }
  bool multicast() const { return byte(0) == 0xff; }
  bool link_local() const { return byte(0) == 0xfe && (byte(1) & 0xc0) == 0x80; }
  // (a ^ b) & mask == 0: both in the subnet the mask describes.
  bool same_subnet(const Ip6& other, const Ip6& mask) const {
    return (((w[0] ^ other.w[0]) & mask.w[0]) | ((w[1] ^ other.w[1]) & mask.w[1])) == 0;
  }
  Ip6 masked(const Ip6& mask) const {
    Ip6 a;
    a.w[0] = w[0] & mask.w[0];
    a.w[1] = w[1] & mask.w[1];
    return a;
  }
  // The mask of a prefix length (0-128).
  static Ip6 mask_of(unsigned length) {
    uint8_t b[16] = {};
    for (unsigned i = 0; i < 16; ++i) {
      const unsigned bits = length > 8 * i ? length - 8 * i : 0;
      b[i] = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00 >> bits);
    }
    return load(b);
  }
  // RFC 4291 §2.7.1: the solicited-node multicast address ff02::1:ffXX:XXXX of an address.
  Ip6 solicited_node() const {
    uint8_t b[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0};
    b[13] = byte(13);
    b[14] = byte(14);
    b[15] = byte(15);
    return load(b);
  }
  // A 64-bit hash of the address whose every bit depends on every byte (the interesting bytes
  // of an address sit at either end of a word: its host part in the last ones).
  uint64_t hash() const {
    uint64_t h = w[0] * 0x9E3779B97F4A7C15ULL ^ w[1] * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 32);
  }

  friend bool operator==(const Ip6& a, const Ip6& b) { return a.w[0] == b.w[0] && a.w[1] == b.w[1]; }
};
static_assert(sizeof(Ip6) == 16);

// RFC 4291 §2.7: ff02::1, every node on the link.
inline Ip6 all_nodes() {
  const uint8_t b[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  return Ip6::load(b);
}

}  // namespace tern::dp
