// ThreadSanitizer builds only (scripts/ci-tsan): the ordering that Debian's DPDK provides inside its
// own, uninstrumented libraries, told to ThreadSanitizer, so that it judges tern's accesses by the
// orderings they really have and not by half of them.
//
// Two orderings of DPDK's live in code TSan cannot see:
//  - rte_hash (RW_CONCURRENCY_LF): an add publishes its key with a release store, a lookup that
//    finds the key reads it with an acquire load; what the writer stored before the add (a pooled
//    channel entry) is visible to a reader that found the key.
//  - the RCU defer queue: rte_rcu_qsbr_dq_enqueue/_reclaim and rte_rcu_qsbr_synchronize check
//    the readers' quiescent-state counters (acquire) before anything is freed. The readers' side
//    (rte_rcu_qsbr_quiescent, _thread_offline: release) is inline in DPDK's headers and so
//    instrumented already.
// Each is wrapped here: the executable's definition of the function takes the place of the
// library's for tern's calls, calls the library's own (RTLD_NEXT), and adds the same edge with
// __tsan_release/__tsan_acquire or an instrumented acquire load. Nothing else changes: the real
// DPDK does the work, and an access tern leaves unordered is still reported.
#include <dlfcn.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>
#include <sanitizer/tsan_interface.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <mutex>
#include <utility>

namespace {

template <class F>
F real(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_dpdk_sync: no %s in DPDK\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

// One synchronisation address per (hash, key signature): an add releases on it, a lookup that
// found the key acquires it. Two keys sharing one only order a little more than DPDK does.
char key_sync[1 << 16];
void* key_address(const rte_hash* h, const void* key) {
  static const auto hash = real<hash_sig_t (*)(const rte_hash*, const void*)>("rte_hash_hash");
  const uint64_t sig = hash(h, key) ^ (reinterpret_cast<uintptr_t>(h) >> 6);
  return &key_sync[(sig * 0x9E3779B97F4A7C15ull) >> 48];
}

// The RCU variable of each defer queue (its struct is DPDK's private).
std::mutex queues_mutex;
std::pair<const rte_rcu_qsbr_dq*, rte_rcu_qsbr*> queues[64];

rte_rcu_qsbr* variable_of(const rte_rcu_qsbr_dq* dq) {
  std::lock_guard lock(queues_mutex);
  for (const auto& [q, v] : queues)
    if (q == dq) return v;
  return nullptr;
}

// What DPDK's check just did inside the library, again where TSan sees it: an acquire load of
// every reader's counter, so what each reader did before its last quiescent state (or going
// offline) happens before whatever the writer now does with what was freed.
void acquire_quiescent_states(const rte_rcu_qsbr* v) {
  if (v == nullptr) return;
  for (uint32_t i = 0; i < v->max_threads; ++i)
    (void)__atomic_load_n(&v->qsbr_cnt[i].cnt, __ATOMIC_ACQUIRE);
}

}  // namespace

extern "C" {

int rte_hash_add_key_data(const rte_hash* h, const void* key, void* data) {
  static const auto f = real<int (*)(const rte_hash*, const void*, void*)>("rte_hash_add_key_data");
  __tsan_release(key_address(h, key));
  return f(h, key, data);
}

int rte_hash_lookup_data(const rte_hash* h, const void* key, void** data) {
  static const auto f = real<int (*)(const rte_hash*, const void*, void**)>("rte_hash_lookup_data");
  const int r = f(h, key, data);
  if (r >= 0) __tsan_acquire(key_address(h, key));
  return r;
}

int rte_hash_lookup_bulk_data(const rte_hash* h, const void** keys, uint32_t num_keys, uint64_t* hit_mask,
                              void* data[]) {
  static const auto f = real<int (*)(const rte_hash*, const void**, uint32_t, uint64_t*, void**)>(
      "rte_hash_lookup_bulk_data");
  const int r = f(h, keys, num_keys, hit_mask, data);
  for (uint32_t i = 0; i < num_keys; ++i)
    if ((*hit_mask >> i) & 1) __tsan_acquire(key_address(h, keys[i]));
  return r;
}

rte_rcu_qsbr_dq* rte_rcu_qsbr_dq_create(const rte_rcu_qsbr_dq_parameters* params) {
  static const auto f = real<rte_rcu_qsbr_dq* (*)(const rte_rcu_qsbr_dq_parameters*)>("rte_rcu_qsbr_dq_create");
  rte_rcu_qsbr_dq* dq = f(params);
  if (dq != nullptr) {
    std::lock_guard lock(queues_mutex);
    bool kept = false;
    for (auto& entry : queues)
      if (!kept && entry.first == nullptr) {
        entry = {dq, params->v};
        kept = true;
      }
    if (!kept) {
      std::fprintf(stderr, "tsan_dpdk_sync: more than %zu RCU defer queues\n", std::size(queues));
      std::abort();
    }
  }
  return dq;
}

int rte_rcu_qsbr_dq_delete(rte_rcu_qsbr_dq* dq) {
  static const auto f = real<int (*)(rte_rcu_qsbr_dq*)>("rte_rcu_qsbr_dq_delete");
  {
    std::lock_guard lock(queues_mutex);
    for (auto& entry : queues)
      if (entry.first == dq) entry = {nullptr, nullptr};
  }
  return f(dq);
}

int rte_rcu_qsbr_dq_enqueue(rte_rcu_qsbr_dq* dq, void* e) {
  static const auto f = real<int (*)(rte_rcu_qsbr_dq*, void*)>("rte_rcu_qsbr_dq_enqueue");
  const int r = f(dq, e);  // reclaims what has passed its grace period, too
  acquire_quiescent_states(variable_of(dq));
  return r;
}

int rte_rcu_qsbr_dq_reclaim(rte_rcu_qsbr_dq* dq, unsigned int n, unsigned int* freed, unsigned int* pending,
                            unsigned int* available) {
  static const auto f = real<int (*)(rte_rcu_qsbr_dq*, unsigned int, unsigned int*, unsigned int*, unsigned int*)>(
      "rte_rcu_qsbr_dq_reclaim");
  const int r = f(dq, n, freed, pending, available);
  acquire_quiescent_states(variable_of(dq));
  return r;
}

void rte_rcu_qsbr_synchronize(rte_rcu_qsbr* v, unsigned int thread_id) {
  static const auto f = real<void (*)(rte_rcu_qsbr*, unsigned int)>("rte_rcu_qsbr_synchronize");
  f(v, thread_id);
  acquire_quiescent_states(v);
}

}  // extern "C"
