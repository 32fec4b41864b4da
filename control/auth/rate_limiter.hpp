#pragma once
// The rate limit on answers to unauthenticated requests (401 challenges, and 400/420 before
// authentication): a TURN server must not be a reflection amplifier, and a 401 is bigger than the
// smallest Allocate request. A token bucket per source IP address (auth.unauthenticated_rate per
// second, auth.unauthenticated_burst deep) plus one bucket for all sources together; beyond them
// the request is dropped silently and counted.
//
// Memory is fixed: the buckets live in a set-associative table (8 ways). A source that finds no
// bucket takes the way that would hold the most tokens — the idlest source — and starts full, so a
// sender spraying forged source addresses recycles idle entries instead of growing the table, and
// the all-sources bucket bounds what any number of sources can draw.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "conf/net.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

class SourceRateLimiter {
 public:
  static constexpr size_t kWays = 8;

  // rate 0 = unlimited. `sources` is rounded up to a multiple of kWays (a power-of-two number of
  // sets). `total_rate` answers per second from all sources together; 0 = no total limit.
  SourceRateLimiter(uint32_t rate, uint32_t burst, uint32_t total_rate, size_t sources = 16384);

  void configure(uint32_t rate, uint32_t burst);
  // Takes a token for `source` at `now` (seconds); false when its bucket or the total is empty.
  bool allow(const IpAddress& source, dp::TableTime now);

 private:
  struct Bucket {
    IpAddress source;
    dp::TableTime last = 0;  // 0: free
    uint32_t tokens = 0;
  };
  uint32_t refilled(const Bucket& b, dp::TableTime now) const;

  uint32_t rate_;
  uint32_t burst_;
  uint32_t total_rate_;
  dp::TableTime total_second_ = 0;
  uint32_t total_used_ = 0;
  size_t set_mask_;
  std::vector<Bucket> buckets_;
};

}  // namespace tern::ctl
