#pragma once
// One whole data plane for fuzz_worker, as ternd assembles it (dataplane/setup/assembly.hpp): two
// net_ring ports, the real tables with RCU holding worker_layout.hpp's allocations, permissions
// and channels, the neighbour table, one worker with every ring (punt, hold, trace, exception,
// to_stream, from_stream). The fuzzer feeds it bursts and polls its worker by hand; whatever the
// worker put anywhere is taken back as Outputs, and every packet buffer must then be back in the
// pool.

#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/setup/assembly.hpp"
#include "tests/fuzz/worker_input.hpp"
#include "tests/fuzz/worker_layout.hpp"

namespace tern::fuzz {

// A packet the worker let go of, wherever it put it.
struct Emitted {
  enum class Where : uint8_t { tx, punt, hold, exception, to_stream };
  static constexpr size_t kWheres = 5;
  Where where = Where::tx;
  uint8_t port = 0;       // tx: port index; punt: the port index it arrived on
  uint8_t queue = 0;      // tx: TX queue
  uint8_t reason = 0;     // punt: PuntReason
  uint64_t ol_flags = 0;  // tx: the offload flags asked of the NIC
  uint64_t l2_len = 0;
  uint64_t l3_len = 0;
  uint32_t allocation = 0;  // to_stream: StreamMeta
  uint32_t stream = 0;
  std::vector<uint8_t> bytes;

  bool operator==(const Emitted&) const = default;
};

struct Outputs {
  std::vector<Emitted> packets;
  size_t trace_records = 0;
};

class WorkerPlane {
 public:
  // Needs the EAL. `tag` names its DPDK objects (unique per plane). nullptr and `error` on failure.
  static std::unique_ptr<WorkerPlane> build(const std::string& tag, std::string& error);
  ~WorkerPlane();
  WorkerPlane(const WorkerPlane&) = delete;
  WorkerPlane& operator=(const WorkerPlane&) = delete;

  // Starts or stops ternctl trace's filter (worker_input.hpp's trace byte).
  void trace(uint8_t trace);
  // Puts the frames where they arrive: the ports' RX rings, the from_stream ring. Frames that
  // find no buffer are left out (the pool holds several bursts).
  void inject(const std::vector<Frame>& frames);
  // Polls the worker until the RX and from_stream rings are empty.
  void run(const dp::Instant& now, dp::Worker::Mode mode);
  // Takes back everything the worker put on a TX ring or handed over, and frees it.
  Outputs drain();

  unsigned pool_size() const { return pool_size_; }
  unsigned pool_available() const { return rte_mempool_avail_count(pool_); }
  const dp::WorkerCounters& counters() const { return dp_->worker(0).counters(); }
  dp::AllocationTrafficValues traffic(dp::AllocId id) const { return dp_->allocation_traffic(id); }

 private:
  WorkerPlane() = default;
  bool build_ports(const std::string& tag, std::string& error);
  bool publish(std::string& error);
  rte_mbuf* mbuf_of(const Frame& f);

  rte_mempool* pool_ = nullptr;
  unsigned pool_size_ = 0;
  rte_ring* rx_[2] = {};
  rte_ring* tx_[2][2] = {};  // [port][queue]: queue 0 the worker's, 1 the control lcore's
  uint16_t port_ids_[2] = {};
  std::string port_names_[2];
  dp::Clock clock_{kTscHz, 0};
  std::unique_ptr<dp::Assembly> dp_;
  uint8_t trace_ = 0;
};

}  // namespace tern::fuzz
