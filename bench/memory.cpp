#include "bench/memory.hpp"

#include <malloc.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>

#include "bench/mix.hpp"
#include "conf/config.hpp"
#include "dataplane/tables/slot.hpp"
#include "dataplane/contract/counters.hpp"
#include "dataplane/tables/rate_limit.hpp"
#include "dataplane/tables/rcu_writer.hpp"
#include "dataplane/tables/tables.hpp"

namespace tern::bench {
namespace {

uint64_t dpdk_heap() {
  uint64_t total = 0;
  for (unsigned s = 0; s < rte_socket_count(); ++s) {
    rte_malloc_socket_stats st{};
    if (rte_malloc_get_socket_stats(static_cast<int>(rte_socket_id_by_idx(s)), &st) == 0)
      total += st.heap_allocsz_bytes;
  }
  return total;
}
uint64_t process_heap() { return mallinfo2().uordblks; }

// An rte_hash as tables.cpp builds them (lock-free readers, extendable buckets), measured alone.
uint64_t hash_bytes(const char* name, uint32_t entries, uint32_t key_len) {
  const uint64_t before = dpdk_heap();
  rte_hash_parameters p{};
  p.name = name;
  p.entries = std::max<uint32_t>(entries, 1024);
  p.key_len = key_len;
  p.hash_func = rte_hash_crc;
  p.socket_id = 0;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr) return 0;
  const uint64_t bytes = dpdk_heap() - before;
  rte_hash_free(h);
  return bytes;
}

}  // namespace

int memory_report(uint32_t allocations, unsigned workers, std::vector<std::string> eal) {
  std::vector<std::string> args = {"tern-bench"};
  args.insert(args.end(), eal.begin(), eal.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    std::fprintf(stderr, "tern-bench memory: EAL initialisation failed\n");
    return 1;
  }
  const double n = allocations;
  const uint32_t overflow = std::max<uint32_t>(allocations / 4, 1024);

  // The same shapes tables.cpp creates, one at a time.
  const uint64_t client_hash = hash_bytes("m_clients", allocations, sizeof(dp::ClientKey));
  const uint64_t permission_hash = hash_bytes("m_perm", overflow, 8);
  const uint64_t channel_number_hash = hash_bytes("m_chan_num", overflow, 8);
  const uint64_t channel_peer_hash = hash_bytes("m_chan_peer", overflow, 12);

  dp::TablesConfig tc;
  tc.name = "mem";
  tc.capacity = allocations;
  for (unsigned r = 0; r < relay_addresses_for(allocations); ++r)
    tc.relay_ips.push_back(rte_cpu_to_be_32((10u << 24) | (90u << 16) | (2u << 8) | r));
  const uint64_t dpdk0 = dpdk_heap();
  const uint64_t heap0 = process_heap();
  std::string error;
  auto tables = dp::Tables::create(tc, error);
  if (!tables) {
    std::fprintf(stderr, "tern-bench memory: %s\n", error.c_str());
    return 1;
  }
  auto writer = dp::RcuTableWriter::create(*tables, tc, error);
  const uint64_t dpdk1 = dpdk_heap();
  if (!writer || !publish(*writer, allocations, 1'000'000, error)) {
    std::fprintf(stderr, "tern-bench memory: %s\n", error.c_str());
    return 1;
  }
  const uint64_t dpdk2 = dpdk_heap();
  const uint64_t heap2 = process_heap();

  const uint64_t shard0 = dpdk_heap();
  void* shard = rte_zmalloc("m_traffic", sizeof(dp::AllocationTraffic) * size_t{allocations}, 64);
  const uint64_t shard_bytes = dpdk_heap() - shard0;
  rte_free(shard);

  const uint64_t pool0 = dpdk_heap();
  rte_mempool* pool = rte_pktmbuf_pool_create("m_pool", conf::kDefaultMbufs, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  const uint64_t pool_bytes = pool ? dpdk_heap() - pool0 : 0;
  const uint32_t elt = pool ? pool->header_size + pool->elt_size + pool->trailer_size : 0;
  if (pool) rte_mempool_free(pool);

  // The max_bps byte buckets: made when a max_bps is first published (none here, as with ternd's
  // default limits.max_bps = 0), the same size as this. The allocation_pps packet buckets, on by
  // default, come with the first allocation: they are in publish_dpdk_bytes.
  const uint64_t limits0 = dpdk_heap();
  void* limits = rte_zmalloc("m_rate_limits", sizeof(dp::RateBuckets) * size_t{allocations}, 64);
  const uint64_t rate_limits = dpdk_heap() - limits0;
  rte_free(limits);

  const uint64_t slots = sizeof(dp::AllocationSlot) * uint64_t{allocations};
  const uint64_t relay_index = tc.relay_ips.size() * 65536ull * sizeof(dp::AllocId);
  const uint64_t channel_pool = sizeof(dp::ChannelEntry) * uint64_t{overflow};
  const uint64_t tables_total = dpdk1 - dpdk0;
  const uint64_t per_alloc_total =
      tables_total + (dpdk2 - dpdk1) + (heap2 - heap0) + uint64_t{workers} * shard_bytes;

  std::printf("{\"allocations\": %u, \"workers\": %u,\n", allocations, workers);
  std::printf(" \"tables_dpdk_bytes\": %llu, \"publish_dpdk_bytes\": %llu, \"writer_heap_bytes\": %llu,\n",
              static_cast<unsigned long long>(tables_total),
              static_cast<unsigned long long>(dpdk2 - dpdk1),
              static_cast<unsigned long long>(heap2 - heap0));
  std::printf(" \"rate_limits_bytes_with_max_bps\": %llu,\n", static_cast<unsigned long long>(rate_limits));
  std::printf(" \"parts_bytes\": {\"slots\": %llu, \"relay_index\": %llu, "
              "\"client_hash\": %llu, \"permission_overflow_hash\": %llu, \"channel_overflow_hashes\": %llu, "
              "\"channel_overflow_pool\": %llu, \"traffic_shard_per_worker\": %llu},\n",
              static_cast<unsigned long long>(slots),
              static_cast<unsigned long long>(relay_index), static_cast<unsigned long long>(client_hash),
              static_cast<unsigned long long>(permission_hash),
              static_cast<unsigned long long>(channel_number_hash + channel_peer_hash),
              static_cast<unsigned long long>(channel_pool), static_cast<unsigned long long>(shard_bytes));
  std::printf(" \"bytes_per_allocation\": %.1f, \"writer_heap_per_allocation\": %.1f,\n",
              static_cast<double>(per_alloc_total) / n, static_cast<double>(heap2 - heap0) / n);
  std::printf(" \"mempool\": {\"mbufs\": %u, \"bytes\": %llu, \"bytes_per_mbuf\": %u, \"data_room\": %u}}\n",
              conf::kDefaultMbufs, static_cast<unsigned long long>(pool_bytes), elt,
              static_cast<unsigned>(RTE_MBUF_DEFAULT_BUF_SIZE));
  tables.reset();
  rte_eal_cleanup();
  return 0;
}

}  // namespace tern::bench
