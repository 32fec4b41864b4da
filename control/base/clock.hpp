#pragma once
// The two clocks the control plane reads. The caller samples both once per burst (ternd's control
// loop) and passes them in, so every decision in a burst sees the same instant and tests set time
// explicitly instead of sleeping.

#include <cstdint>

#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

struct Now {
  // Monotonic whole seconds, the data plane's TableTime (starts at 1): every lifetime and expiry
  // (allocations, permissions, channels, reservations, the transaction cache, rate limits).
  dp::TableTime mono = 1;
  // Wall-clock UNIX seconds: only where a time crosses the wire and must mean the same to another
  // host, the expiry in a TURN REST API username and the issue time inside a NONCE.
  int64_t unix = 0;
};

}  // namespace tern::ctl
