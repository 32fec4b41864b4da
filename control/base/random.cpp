#include "control/base/random.hpp"

#include <cstring>
#include <random>
#include <span>

#include "crypto/engine.hpp"

namespace tern::ctl {

void RandomSource::refill() {
  std::span<uint8_t> bytes(reinterpret_cast<uint8_t*>(block_.data()), sizeof block_);
  if (!crypto::random_bytes(bytes)) {
    // The CSPRNG failed (it does not on Linux): the kernel's getrandom through random_device.
    std::random_device device;
    for (auto& word : block_) word = (uint64_t{device()} << 32) | device();
  }
  used_ = 0;
}

uint64_t RandomSource::next() {
  if (used_ == block_.size()) refill();
  return block_[used_++];
}

uint32_t RandomSource::uniform(uint32_t bound) {
  // Lemire's multiply-and-reject: no modulo bias.
  const uint64_t threshold = (uint64_t{1} << 32) % bound;
  for (;;) {
    const uint64_t m = (next() & 0xFFFFFFFFu) * bound;
    if ((m & 0xFFFFFFFFu) >= threshold) return static_cast<uint32_t>(m >> 32);
  }
}

}  // namespace tern::ctl
