#include "crypto/engine.hpp"

#include <openssl/rand.h>

#include <cassert>

#include "crypto/openssl/openssl_engine.hpp"
#if TERN_HAVE_IPSEC_MB
#include "crypto/ipsec_mb/ipsec_mb_engine.hpp"
#endif

namespace tern::crypto {

std::string_view to_string(Backend backend) {
  switch (backend) {
    case Backend::ipsec_mb: return "ipsec_mb";
    case Backend::openssl: return "openssl";
  }
  return "unknown";
}

uint32_t Engine::verify_batch(std::span<const MacCheck> checks) {
  // The result has one bit per check; checks past kMaxBatch would go unverified (and count as
  // failures).
  assert(checks.size() <= kMaxBatch);
  std::array<std::array<uint8_t, kSha256Size>, kMaxBatch> tags;
  std::array<MacJob, kMaxBatch> jobs;
  const size_t n = checks.size() < kMaxBatch ? checks.size() : kMaxBatch;
  for (size_t i = 0; i < n; ++i) jobs[i] = {checks[i].key, checks[i].message, tags[i].data()};
  mac_batch({jobs.data(), n});
  uint32_t matched = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t full = mac_size(checks[i].key->mac);
    const auto& expected = checks[i].expected;
    if (expected.empty() || expected.size() > full) continue;
    if (equal_constant_time(expected, {tags[i].data(), expected.size()})) matched |= 1u << i;
  }
  return matched;
}

bool Engine::verify(const MacKey& key, std::span<const uint8_t> message,
                    std::span<const uint8_t> expected) {
  const MacCheck check{&key, message, expected};
  return verify_batch({&check, 1}) == 1;
}

bool equal_constant_time(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = diff | (a[i] ^ b[i]);
  return diff == 0;
}

bool random_bytes(std::span<uint8_t> out) {
  return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

std::unique_ptr<Engine> make_engine(Backend backend) {
  switch (backend) {
    case Backend::openssl: return make_openssl_engine();
    case Backend::ipsec_mb:
#if TERN_HAVE_IPSEC_MB
      return make_ipsec_mb_engine();
#else
      return nullptr;
#endif
  }
  return nullptr;
}

std::unique_ptr<Engine> make_default_engine() {
  if (auto engine = make_engine(Backend::ipsec_mb)) return engine;
  return make_engine(Backend::openssl);
}

}  // namespace tern::crypto
