#include "control/base/hash.hpp"

#include <array>
#include <random>

#include "crypto/engine.hpp"

namespace tern::ctl {
namespace {

constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;

uint64_t mix(uint64_t h, uint64_t word) {
  h ^= word;
  h *= kMul;
  h ^= h >> 32;
  return h;
}

uint64_t load64(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, p, n);
  return v;
}

// Appends a transport address as fixed-size bytes: 16 address bytes, family, port.
size_t put(uint8_t* out, const TransportAddress& a) {
  std::memcpy(out, a.ip.raw().data(), 16);
  out[16] = static_cast<uint8_t>(a.ip.family());
  out[17] = static_cast<uint8_t>(a.port.value >> 8);
  out[18] = static_cast<uint8_t>(a.port.value);
  return 19;
}

}  // namespace

uint64_t hash_seed() {
  static const uint64_t seed = [] {
    std::array<uint8_t, 8> bytes{};
    uint64_t s = 0;
    if (crypto::random_bytes(bytes)) {
      std::memcpy(&s, bytes.data(), sizeof s);
    } else {
      std::random_device device;
      s = (uint64_t{device()} << 32) | device();
    }
    return s | 1;
  }();
  return seed;
}

uint64_t keyed_hash(std::span<const uint8_t> bytes, uint64_t seed) {
  uint64_t h = seed ^ (bytes.size() * kMul);
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) h = mix(h, load64(bytes.data() + i, 8));
  if (i < bytes.size()) h = mix(h, load64(bytes.data() + i, bytes.size() - i));
  return mix(h, seed);
}

size_t FiveTupleHash::operator()(const dp::FiveTuple& ft) const {
  std::array<uint8_t, 39> buf{};
  size_t n = put(buf.data(), ft.client);
  n += put(buf.data() + n, ft.server);
  buf[n++] = static_cast<uint8_t>(ft.transport);
  return keyed_hash({buf.data(), n}, hash_seed());
}

size_t IpAddressHash::operator()(const IpAddress& ip) const {
  std::array<uint8_t, 17> buf{};
  std::memcpy(buf.data(), ip.raw().data(), 16);
  buf[16] = static_cast<uint8_t>(ip.family());
  return keyed_hash(buf, hash_seed());
}

}  // namespace tern::ctl
