#pragma once
// Unpredictable numbers for what an attacker must not guess: relay ports (a predictable port lets
// an off-path sender aim at the next allocation) and reservation tokens. Bytes come from the
// system's CSPRNG, fetched a block at a time so an Allocate does not pay a system call.

#include <array>
#include <cstddef>
#include <cstdint>

namespace tern::ctl {

class RandomSource {
 public:
  uint64_t next();
  // Uniform in [0, bound); bound > 0.
  uint32_t uniform(uint32_t bound);

 private:
  void refill();
  std::array<uint64_t, 64> block_{};
  size_t used_ = block_.size();
};

}  // namespace tern::ctl
