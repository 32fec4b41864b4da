#pragma once
// The engines every crypto test runs on: each built backend, and for IPsec-MB each way it can
// assign managers (so that the single-job, burst and split paths are all exercised).

#include <cstdint>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/engine.hpp"
#include "crypto/openssl/openssl_engine.hpp"
#if TERN_HAVE_IPSEC_MB
#include "crypto/ipsec_mb/ipsec_mb_engine.hpp"
#endif

namespace tern::crypto::test {

struct EngineVariant {
  std::string name;
  std::unique_ptr<Engine> (*make)();
};

#if TERN_HAVE_IPSEC_MB
inline IpsecMbOptions checked() {
  IpsecMbOptions options;
  options.check_jobs = true;
  return options;
}
#endif

inline std::vector<EngineVariant> engine_variants() {
  std::vector<EngineVariant> variants;
  variants.push_back({"openssl", [] { return make_engine(Backend::openssl); }});
#if TERN_HAVE_IPSEC_MB
  // As it ships, then with IPsec-MB validating every job the engine builds, on every path.
  variants.push_back({"ipsec_mb", [] { return make_engine(Backend::ipsec_mb); }});
  variants.push_back({"ipsec_mb_checked", [] { return make_ipsec_mb_engine(checked()); }});
  variants.push_back({"ipsec_mb_single_auto", [] {
                        IpsecMbOptions options = checked();
                        options.single_mac = IpsecMbOptions::Manager::automatic;
                        return make_ipsec_mb_engine(options);
                      }});
  variants.push_back({"ipsec_mb_batch_sse", [] {
                        IpsecMbOptions options = checked();
                        options.batch = IpsecMbOptions::Batch::sse;
                        return make_ipsec_mb_engine(options);
                      }});
  variants.push_back({"ipsec_mb_batch_auto", [] {
                        IpsecMbOptions options = checked();
                        options.batch = IpsecMbOptions::Batch::automatic;
                        return make_ipsec_mb_engine(options);
                      }});
#endif
  return variants;
}

// gtest prints a failing parameter with this instead of its bytes.
inline void PrintTo(const EngineVariant& variant, std::ostream* os) { *os << variant.name; }

inline std::string variant_name(const testing::TestParamInfo<EngineVariant>& info) {
  return info.param.name;
}

inline std::vector<uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

inline std::vector<uint8_t> repeated(uint8_t value, size_t count) {
  return std::vector<uint8_t>(count, value);
}

inline std::vector<uint8_t> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> uint8_t {
    if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
    return static_cast<uint8_t>(c - 'a' + 10);
  };
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

inline std::string to_hex(std::span<const uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

}  // namespace tern::crypto::test
