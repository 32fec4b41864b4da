#pragma once
// Helpers shared by the codec tests: hex literals, keys, and an engine per test.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/stun/stun.hpp"
#include "crypto/engine.hpp"

namespace tern::stun::test {

// "00 01 00 58 ..." -> bytes; whitespace and newlines between bytes are ignored.
inline std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (const char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

inline std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

inline std::vector<uint8_t> to_vector(std::span<const uint8_t> bytes) { return {bytes.begin(), bytes.end()}; }

class CodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = crypto::make_engine(crypto::Backend::openssl);
    ASSERT_NE(engine_, nullptr);
  }
  crypto::Engine& engine() { return *engine_; }
  crypto::MacKey key(crypto::Mac mac, std::string_view secret) { return engine_->make_mac_key(mac, bytes_of(secret)); }
  crypto::MacKey key(crypto::Mac mac, std::span<const uint8_t> secret) { return engine_->make_mac_key(mac, secret); }
  ParseResult parse(std::span<const uint8_t> bytes) { return stun::parse(bytes, *engine_); }

 private:
  std::unique_ptr<crypto::Engine> engine_;
};

}  // namespace tern::stun::test
