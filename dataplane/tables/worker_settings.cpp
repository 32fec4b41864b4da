#include "dataplane/tables/worker_settings.hpp"

#include <rte_malloc.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "dataplane/contract/stun_numbers.hpp"
#include "dataplane/wire/stun.hpp"

namespace tern::dp {

WorkerSettings WorkerSettings::of(const WorkerSettingsValues& values, uint64_t tsc_hz) {
  WorkerSettings s;
  s.limits.bytes = Rate::bits_per_second(values.max_bps, tsc_hz);
  s.limits.packets = Rate::per_second(values.allocation_pps, tsc_hz);
  // RFC 8489 §14.14: SOFTWARE, padded to four bytes with zeros.
  const size_t n = std::min<size_t>(values.software.size(), kMaxSoftwareAttribute - 4);
  if (n > 0) {
    stun_wire::store16(s.software_attribute, stun::AttributeType::software);
    stun_wire::store16(s.software_attribute + 2, static_cast<uint16_t>(n));
    std::memcpy(s.software_attribute + 4, values.software.data(), n);
    s.software_attribute_len = static_cast<uint16_t>(4 + stun_wire::padded(static_cast<uint16_t>(n)));
  }
  return s;
}

WorkerSettingsBoard::WorkerSettingsBoard(const WorkerSettingsValues& first, rte_rcu_qsbr* rcu,
                                         uint64_t tsc_hz, int socket, RcuTableWriter* tables)
    : values_(first), rcu_(rcu), tables_(tables), tsc_hz_(tsc_hz), socket_(socket) {
  current_.store(make(first), std::memory_order_release);
}

// The workers are stopped (or were never started) when the board goes.
WorkerSettingsBoard::~WorkerSettingsBoard() {
  for (size_t i = 0; i < retired_count_; ++i) rte_free(const_cast<WorkerSettings*>(retired_[i].settings));
  rte_free(const_cast<WorkerSettings*>(current_.load(std::memory_order_relaxed)));
}

WorkerSettings* WorkerSettingsBoard::make(const WorkerSettingsValues& values) const {
  // The byte buckets exist before any worker can see a max_bps (the store below is a release).
  if (values.max_bps != 0 && tables_ != nullptr && !tables_->make_byte_buckets()) return nullptr;
  void* memory = rte_malloc_socket("tern_worker_settings", sizeof(WorkerSettings), RTE_CACHE_LINE_SIZE, socket_);
  if (memory == nullptr) return nullptr;
  return new (memory) WorkerSettings(WorkerSettings::of(values, tsc_hz_));
}

bool WorkerSettingsBoard::publish(const WorkerSettingsValues& values) {
  reclaim(retired_count_ == kMaxRetired);
  WorkerSettings* next = make(values);
  if (next == nullptr) return false;
  const WorkerSettings* previous = current_.exchange(next, std::memory_order_acq_rel);
  values_ = values;
  if (rcu_ == nullptr) {
    rte_free(const_cast<WorkerSettings*>(previous));
    return true;
  }
  retired_[retired_count_++] = {previous, rte_rcu_qsbr_start(rcu_)};
  return true;
}

// Frees, oldest first, every replaced set whose grace period is over; with wait_for_oldest, waits
// for the oldest's.
void WorkerSettingsBoard::reclaim(bool wait_for_oldest) {
  size_t freed = 0;
  while (freed < retired_count_ &&
         rte_rcu_qsbr_check(rcu_, retired_[freed].token, wait_for_oldest && freed == 0) == 1) {
    rte_free(const_cast<WorkerSettings*>(retired_[freed].settings));
    ++freed;
  }
  std::move(retired_.begin() + static_cast<ptrdiff_t>(freed), retired_.begin() + static_cast<ptrdiff_t>(retired_count_),
            retired_.begin());
  retired_count_ -= freed;
}

}  // namespace tern::dp
