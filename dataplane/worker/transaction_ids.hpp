#pragma once
// Transaction IDs for the Data indications a worker sends (RFC 8489 §5: the sender of an
// indication chooses it). A Data indication starts no transaction and nobody answers it, so the
// ID needs to be unpredictable enough to never look like a retransmission, not secret: a
// splitmix64 stream per worker, seeded at setup from the system's random source (tests seed it
// themselves to predict the bytes).

#include <cstdint>
#include <cstring>

namespace tern::dp {

class TransactionIds {
 public:
  explicit TransactionIds(uint64_t seed = 0) : state_(seed) {}

  void next(uint8_t out[12]) {
    const uint64_t a = step();
    const uint32_t b = static_cast<uint32_t>(step());
    std::memcpy(out, &a, 8);
    std::memcpy(out + 8, &b, 4);
  }

 private:
  uint64_t step() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

}  // namespace tern::dp
