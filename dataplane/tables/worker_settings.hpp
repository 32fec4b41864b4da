#pragma once
// The workers' settings as they read them (contract/worker_settings.hpp): the SOFTWARE attribute
// ready to copy into a Binding response, and the rates every allocation is held to. One writer,
// the control lcore, publishes a whole new set with one atomic store; a worker loads the pointer
// once a burst and uses that set until its next quiescent state. The set it replaced is freed
// only after an RCU grace period (every worker has reported a quiescent state since), so a worker
// never reads freed memory and never takes a lock; the workers allocate nothing.

#include <rte_rcu_qsbr.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "dataplane/contract/worker_settings.hpp"
#include "dataplane/tables/rate_limit.hpp"
#include "dataplane/tables/rcu_writer.hpp"

namespace tern::dp {

inline constexpr uint16_t kMaxSoftwareAttribute = 4 + 128;  // RFC 8489 §14.14: < 128 characters

struct WorkerSettings {
  RateLimits limits;
  uint16_t software_attribute_len = 0;  // 0: no SOFTWARE
  uint8_t software_attribute[kMaxSoftwareAttribute] = {};  // type, length, value padded to 4 bytes

  static WorkerSettings of(const WorkerSettingsValues& values, uint64_t tsc_hz);
};

class WorkerSettingsBoard final : public WorkerSettingsPublisher {
 public:
  // rcu: the workers' quiescent-state variable; nullptr when one thread both polls the workers
  // and publishes (tests), where a replaced set is freed at once. tables: the writer that makes
  // the byte buckets before the first set with a max_bps is published (nullptr: no tables, the
  // rates are only read). false from ok() when there was no memory for the first set.
  WorkerSettingsBoard(const WorkerSettingsValues& first, rte_rcu_qsbr* rcu, uint64_t tsc_hz, int socket,
                      RcuTableWriter* tables);
  ~WorkerSettingsBoard() override;
  WorkerSettingsBoard(const WorkerSettingsBoard&) = delete;
  WorkerSettingsBoard& operator=(const WorkerSettingsBoard&) = delete;

  bool ok() const { return current_.load(std::memory_order_relaxed) != nullptr; }
  // Workers: the set in force. Valid until the caller's next quiescent state.
  const WorkerSettings* current() const { return current_.load(std::memory_order_acquire); }
  // Control lcore. false (the set in force stays) when there is no memory for the new set or for
  // the byte buckets its max_bps needs.
  bool publish(const WorkerSettingsValues& values) override;
  const WorkerSettingsValues& values() const { return values_; }
  // Replaced sets not freed yet (their grace period was not over at the last publish).
  size_t retired() const { return retired_count_; }

  // Sets replaced but possibly still read, freed by a later publish once their grace period is
  // over. A reload is rare; when this many wait, publish waits for the oldest's grace period
  // (every worker passes a quiescent state each loop iteration: microseconds).
  static constexpr size_t kMaxRetired = 4;

 private:
  WorkerSettings* make(const WorkerSettingsValues& values) const;
  void reclaim(bool wait_for_oldest);

  std::atomic<const WorkerSettings*> current_{nullptr};  // dp: ro, ctl: rw
  struct Retired {
    const WorkerSettings* settings = nullptr;
    uint64_t token = 0;  // rte_rcu_qsbr_start() when it was replaced
  };
  std::array<Retired, kMaxRetired> retired_{};
  size_t retired_count_ = 0;
  WorkerSettingsValues values_;
  rte_rcu_qsbr* rcu_;
  RcuTableWriter* tables_;
  uint64_t tsc_hz_;
  int socket_;
};

}  // namespace tern::dp
