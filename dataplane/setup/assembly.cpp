#include "dataplane/setup/assembly.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <cstring>

#include "crypto/engine.hpp"
#include "dataplane/worker/punt.hpp"
#include "dataplane/worker/stream_meta.hpp"

namespace tern::dp {
namespace {

void free_ring(rte_ring* ring) {
  if (ring == nullptr) return;
  void* m;
  while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  rte_ring_free(ring);
}

}  // namespace

std::unique_ptr<Assembly> Assembly::build(const AssemblyConfig& config, const Clock& clock,
                                          std::string& error) {
  std::unique_ptr<Assembly> a(new Assembly());
  if (config.workers == 0 || config.workers > 255) {
    error = "between 1 and 255 workers";
    return nullptr;
  }
  if (config.pools.size() != config.interfaces.ports.size() ||
      config.rx_queues.size() != config.interfaces.ports.size()) {
    error = "a packet pool and an RX queue count for every port";
    return nullptr;
  }
  if (config.streams && (a->stream_offset_ = register_stream_meta()) < 0) {
    error = "cannot register the stream metadata field: " + std::string(rte_strerror(rte_errno));
    return nullptr;
  }
  a->punt_offset_ = register_punt_meta();
  if (a->punt_offset_ < 0) {
    error = "cannot register the punt metadata field: " + std::string(rte_strerror(rte_errno));
    return nullptr;
  }
  if (!a->build_tables(config, clock, error) || !a->build_workers(config, clock, error))
    return nullptr;
  if (!a->build_control(config, clock, error)) return nullptr;
  return a;
}

// The interfaces, the RCU variable with every worker registered, the allocation tables and
// their writer, the workers' settings, the neighbour table.
bool Assembly::build_tables(const AssemblyConfig& config, const Clock& clock, std::string& error) {
  interfaces_ = Interfaces::create(config.interfaces, error);
  if (!interfaces_) return false;
  TablesConfig tc;
  tc.name = config.name;
  tc.capacity = config.table_size;
  tc.permission_overflow = config.permission_overflow;
  tc.channel_overflow = config.channel_overflow;
  for (const IpAddress& ip : config.relay_addresses) {
    if (ip.is_v6() ? !interfaces_->is_local(Ip6::of(ip)) : !interfaces_->is_local(ipv4_be(ip))) {
      error = "relay address " + ip.to_string() + " is not an address of a data-plane port";
      return false;
    }
    if (ip.is_v6())
      tc.relay_ips6.push_back(Ip6::of(ip));
    else
      tc.relay_ips.push_back(ipv4_be(ip));
  }
  tc.ipv6 = interfaces_->has_ipv6();
  tc.socket_id = config.socket;
  if (config.rcu) {
    // The workers, and the stream transport's thread (it registers itself) when there are streams.
    const unsigned readers = config.workers + (config.streams ? 1 : 0);
    const size_t size = rte_rcu_qsbr_get_memsize(readers);
    rcu_ = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc_socket((config.name + "_rcu").c_str(), size, RTE_CACHE_LINE_SIZE, config.socket));
    if (rcu_ == nullptr || rte_rcu_qsbr_init(rcu_, readers) != 0) {
      error = "cannot create the RCU variable";
      return false;
    }
    for (unsigned w = 0; w < config.workers; ++w) rte_rcu_qsbr_thread_register(rcu_, w);
  }
  tc.rcu = rcu_;
  tables_ = Tables::create(tc, error);
  if (!tables_) return false;
  writer_ = RcuTableWriter::create(*tables_, tc, error);
  if (!writer_) return false;
  settings_ = std::make_unique<WorkerSettingsBoard>(config.settings, rcu_, clock.hz(), config.socket, writer_.get());
  if (!settings_->ok()) {
    error = "not enough DPDK memory for the workers' settings";
    return false;
  }
  neighbours_ = Neighbours::create(static_cast<unsigned>(config.interfaces.ports.size()),
                                   config.neighbours_per_port, config.socket, rcu_, error);
  return neighbours_ != nullptr;
}

// Each worker's rings to the control lcore (punted messages, packets waiting for a next hop,
// trace records), its shard of the per-allocation traffic counters on its own NUMA node, its
// crypto engine and seeds, then the worker.
bool Assembly::build_workers(const AssemblyConfig& config, const Clock& clock, std::string& error) {
  const unsigned W = config.workers;
  for (unsigned w = 0; w < W; ++w) {
    const int socket = w < config.worker_sockets.size() ? config.worker_sockets[w] : config.socket;
    const std::string n = config.name + "_" + std::to_string(w);
    rte_ring* trace = rte_ring_create_elem((n + "_trace").c_str(), sizeof(TraceRecord),
                                           config.trace_ring_size, socket,
                                           RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* punt = rte_ring_create((n + "_punt").c_str(), config.punt_ring_size, socket,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* hold = rte_ring_create((n + "_hold").c_str(), config.hold_ring_size, socket,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
    auto* traffic = static_cast<AllocationTraffic*>(rte_zmalloc_socket(
        (n + "_traffic").c_str(), sizeof(AllocationTraffic) * size_t{config.table_size},
        RTE_CACHE_LINE_SIZE, socket));
    trace_rings_.push_back(trace);
    punt_rings_.push_back(punt);
    hold_rings_.push_back(hold);
    traffic_.push_back(traffic);
    bool streams_ok = true;
    if (config.streams) {
      for (auto [rings, suffix] : {std::pair{&exception_rings_, "_exc"}, {&to_stream_rings_, "_tos"},
                                   {&from_stream_rings_, "_frs"}}) {
        rte_ring* r = rte_ring_create((n + suffix).c_str(), config.stream_ring_size, socket,
                                      RING_F_SP_ENQ | RING_F_SC_DEQ);
        rings->push_back(r);
        streams_ok = streams_ok && r != nullptr;
      }
    }
    if (!trace || !punt || !hold || !traffic || !streams_ok) {
      error = "not enough DPDK memory for worker " + std::to_string(w) +
              "'s rings and traffic counters";
      return false;
    }
  }
  trace_ = std::make_unique<TraceHub>(trace_rings_, clock);

  WorkerShared shared;
  shared.tables = tables_.get();
  shared.interfaces = &*interfaces_;
  shared.neighbours = neighbours_.get();
  shared.rcu = rcu_;
  shared.tsc_hz = clock.hz();
  shared.settings = settings_.get();
  shared.trace = &trace_->filter();
  for (unsigned w = 0; w < W; ++w) {
    WorkerResources r;
    r.index = w;
    for (unsigned p = 0; p < config.rx_queues.size(); ++p) {
      r.rx.push_back({p, static_cast<uint16_t>(w)});
      // The RX twins of the control lcore's and the stream transport's TX queues, spread.
      for (unsigned q = W; q < config.rx_queues[p]; ++q)
        if ((p + q - W) % W == w) r.rx.push_back({p, static_cast<uint16_t>(q)});
    }
    r.tx_queue = static_cast<uint16_t>(w);
    r.punt_ring = punt_rings_[w];
    r.hold_ring = hold_rings_[w];
    r.trace_ring = trace_rings_[w];
    r.punt_offset = punt_offset_;
    r.traffic = traffic_[w];
    if (config.streams) {
      r.exception_ring = exception_rings_[w];
      r.to_stream_ring = to_stream_rings_[w];
      r.from_stream_ring = from_stream_rings_[w];
      r.stream_offset = stream_offset_;
    }
    r.engine = crypto::make_default_engine();
    if (!r.engine) {
      error = "no crypto engine for worker " + std::to_string(w);
      return false;
    }
    if (config.seeds) {
      r.transaction_id_seed = config.seeds->transaction_id_seed;
      r.first_ip_id = config.seeds->first_ip_id;
    } else {
      uint8_t seed[10];
      if (!crypto::random_bytes(seed)) {
        error = "no random source for worker " + std::to_string(w);
        return false;
      }
      std::memcpy(&r.transaction_id_seed, seed, 8);
      std::memcpy(&r.first_ip_id, seed + 8, 2);
    }
    workers_.push_back(std::make_unique<Worker>(shared, std::move(r)));
  }
  std::vector<const WorkerCounters*> counters;
  for (const auto& worker : workers_) counters.push_back(&worker->counters());
  trace_->set_worker_counters(std::move(counters));
  return true;
}

// The control lcore's ends of the workers' rings, its own TX queue on every port, and the writer
// the control plane gets.
bool Assembly::build_control(const AssemblyConfig& config, const Clock& clock, std::string& error) {
  ControlPortSetup cs;
  cs.interfaces = &*interfaces_;
  if (config.streams) {
    // The stream transport's frames whose next hop has no MAC yet wait on the control lcore too.
    stream_hold_ring_ = rte_ring_create((config.name + "_stream_hold").c_str(), config.hold_ring_size,
                                        config.socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (stream_hold_ring_ == nullptr) {
      error = "not enough DPDK memory for the stream transport's hold ring";
      return false;
    }
    hold_rings_.push_back(stream_hold_ring_);
  }
  cs.neighbours = neighbours_.get();
  cs.clock = &clock;
  cs.punt_rings = punt_rings_;
  cs.hold_rings = hold_rings_;
  cs.pools = config.pools;
  cs.punt_offset = punt_offset_;
  cs.tx_queue = static_cast<uint16_t>(config.workers);
  if (config.seeds) cs.first_ip_id = config.seeds->control_first_ip_id;
  cs.held_per_neighbour = config.held_per_neighbour;
  cs.held_total = config.held_total;
  cs.trace = trace_.get();
  control_ = std::make_unique<ControlPort>(cs);
  priming_ = std::make_unique<NeighbourPrimingWriter>(*writer_, *control_);
  return true;
}

Assembly::~Assembly() {
  for (auto& worker : workers_) worker->flush();
  workers_.clear();
  priming_.reset();
  control_.reset();
  trace_.reset();
  for (std::vector<rte_ring*>* rings :
       {&punt_rings_, &hold_rings_, &exception_rings_, &to_stream_rings_, &from_stream_rings_}) {
    for (rte_ring* r : *rings) free_ring(r);
    rings->clear();
  }
  for (rte_ring* r : trace_rings_) rte_ring_free(r);
  trace_rings_.clear();
  writer_.reset();
  tables_.reset();
  neighbours_.reset();
  for (AllocationTraffic* t : traffic_) rte_free(t);
  traffic_.clear();
  rte_free(rcu_);
}

AllocationTrafficValues Assembly::allocation_traffic(AllocId id) const {
  AllocationTrafficValues v;
  if (!tables_ || slot_index(id) >= tables_->capacity()) return v;
  for (const AllocationTraffic* t : traffic_) accumulate(v, t[slot_index(id)]);
  return v;
}

}  // namespace tern::dp
