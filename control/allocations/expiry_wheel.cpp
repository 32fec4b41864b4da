#include "control/allocations/expiry_wheel.hpp"

namespace tern::ctl {

dp::TableTime ExpiryWheel::schedule(dp::AllocId id, uint64_t serial, dp::TableTime when) {
  // Already due: the next sweep takes it.
  if (when <= current_) when = current_ + 1;
  slots_[when % slots_.size()].push_back({id, when, serial});
  ++size_;
  return when;
}

}  // namespace tern::ctl
