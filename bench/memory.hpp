#pragma once
// tern-bench memory: what the data plane's state costs per allocation, measured from DPDK's heap
// statistics (rte_malloc_get_socket_stats: bytes handed out, allocator headers included) and the
// process heap (mallinfo2) around Tables::create for N slots, the publishing of N allocations
// (two permissions and one channel each, all inline), one worker's traffic shard, and a packet
// pool of ternd's default size. The rte_hash tables are also built alone with the parameters
// tables.cpp gives them, to split the total. Prints one JSON object.

#include <cstdint>
#include <string>
#include <vector>

namespace tern::bench {

int memory_report(uint32_t allocations, unsigned workers, std::vector<std::string> eal);

}  // namespace tern::bench
