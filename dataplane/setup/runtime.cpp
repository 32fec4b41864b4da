#include "dataplane/setup/runtime.hpp"

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <algorithm>
#include <atomic>
#include <map>

#include "crypto/engine.hpp"
#include "dataplane/tables/clock.hpp"
#include "dataplane/control_lcore/control_port.hpp"
#include "dataplane/tables/interfaces.hpp"
#include "dataplane/control_lcore/neighbour_priming.hpp"
#include "dataplane/tables/neighbours.hpp"
#include "dataplane/worker/punt.hpp"
#include "dataplane/tables/tables.hpp"
#include "dataplane/worker/worker.hpp"

namespace tern::dp {
namespace {

constexpr uint16_t kRxDescriptors = 1024;
constexpr uint16_t kTxDescriptors = 1024;
constexpr unsigned kPuntRingSize = 1024;
constexpr unsigned kHoldRingSize = 512;
constexpr unsigned kNeighboursPerPort = 4096;

uint32_t be_ip(const IpAddress& ip) { return rte_cpu_to_be_32(ip.v4_host_order()); }

std::string dpdk_error(const std::string& what, int err) {
  return what + ": " + rte_strerror(err < 0 ? -err : err);
}

// Drivers whose TX queues are also receive endpoints: every queue pair of net_af_packet is one
// AF_PACKET socket in one PACKET_FANOUT group, and every queue of net_tap one file descriptor of
// a multi-queue tap; the kernel spreads received flows over all of them. Such a port therefore
// gets as many RX queues as TX queues, and the RX half of the control lcore's pair is polled by a
// worker too: otherwise the flows the kernel hashes onto it would be lost.
bool paired_queues(const char* driver) {
  const std::string_view d = driver != nullptr ? driver : "";
  return d == "net_af_packet" || d == "net_tap";
}

struct Launch {
  Worker* worker;
  const Clock* clock;
  const std::atomic<bool>* running;
};

int worker_main(void* arg) {
  const auto* l = static_cast<const Launch*>(arg);
  l->worker->run(*l->clock, *l->running);
  return 0;
}

}  // namespace

struct Runtime::State {
  bool eal = false;
  bool launched = false;
  std::atomic<bool> running{false};
  unsigned worker_count = 0;
  std::vector<uint16_t> port_ids;
  std::vector<std::string> devices;        // by port index, as configured
  std::vector<bool> started;
  std::map<int, rte_mempool*> pools;       // by NUMA socket
  std::vector<rte_mempool*> port_pools;    // by port index
  rte_rcu_qsbr* rcu = nullptr;
  std::optional<Interfaces> interfaces;
  std::unique_ptr<Tables> tables;
  std::unique_ptr<Neighbours> neighbours;
  std::vector<rte_ring*> punt_rings;
  std::vector<rte_ring*> hold_rings;
  std::vector<AllocationTraffic*> traffic;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<Launch> launches;
  std::unique_ptr<ControlPort> control;
  std::unique_ptr<NeighbourPrimingWriter> writer;
  std::vector<rte_ring*> trace_rings;
  std::unique_ptr<TraceHub> trace;
  std::unique_ptr<Clock> clock;
  std::string software;

  ~State() { shutdown(); }
  void shutdown();
};

void Runtime::State::shutdown() {
  if (launched) {
    running.store(false, std::memory_order_relaxed);
    rte_eal_mp_wait_lcore();
    launched = false;
  }
  workers.clear();
  writer.reset();
  control.reset();
  trace.reset();
  for (rte_ring* r : trace_rings) rte_ring_free(r);
  trace_rings.clear();
  for (std::vector<rte_ring*>* rings : {&punt_rings, &hold_rings}) {
    for (rte_ring* r : *rings) {
      void* m;
      while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      rte_ring_free(r);
    }
    rings->clear();
  }
  for (size_t i = 0; i < port_ids.size(); ++i) {
    if (i < started.size() && started[i]) rte_eth_dev_stop(port_ids[i]);
    rte_eth_dev_close(port_ids[i]);
  }
  port_ids.clear();
  started.clear();
  tables.reset();
  neighbours.reset();
  for (AllocationTraffic* t : traffic) rte_free(t);
  traffic.clear();
  rte_free(rcu);
  rcu = nullptr;
  for (auto& [socket, pool] : pools) rte_mempool_free(pool);
  pools.clear();
  if (eal) {
    rte_eal_cleanup();
    eal = false;
  }
}

RuntimeConfig runtime_config(const conf::Config& config) {
  RuntimeConfig r;
  r.eal = config.dataplane.eal;
  for (const conf::DataplanePort& p : config.dataplane.ports) {
    RuntimePort port;
    port.device = p.device;
    port.addresses = p.addresses;
    for (const IpAddress& gw : p.gateways) {
      if (gw.is_v4() && !port.gateway) port.gateway = gw;
      if (gw.is_v6() && !port.gateway6) port.gateway6 = gw;
    }
    r.ports.push_back(std::move(port));
  }
  r.listeners = config.listen.udp;
  r.relay_addresses = config.relay.addresses;
  r.table_size = config.dataplane.table_size;
  r.mbufs = config.dataplane.mbufs;
  r.software = config.software;
  return r;
}

namespace {

// Probes a vdev (or finds a device EAL already probed) and returns its port id.
bool probe(const std::string& device, unsigned workers, uint16_t& port_id, std::string& error) {
  std::string devargs = device;
  const std::string name = device.substr(0, device.find(','));
  if (name.rfind("net_", 0) == 0) {
    if (name.rfind("net_af_packet", 0) == 0) {
      // One queue pair per worker and one for the control lcore (see paired_queues()).
      const std::string want = std::to_string(workers + 1);
      const size_t at = device.find(",qpairs=");
      if (at == std::string::npos) {
        devargs += ",qpairs=" + want;
      } else {
        const size_t begin = at + 8;
        const std::string given = device.substr(begin, device.find(',', begin) - begin);
        if (given != want) {
          error = device + ": qpairs must be " + want + " (one per worker and one for the control "
                  "lcore) or left out";
          return false;
        }
      }
    }
    const int rc = rte_dev_probe(devargs.c_str());
    if (rc != 0) {
      error = dpdk_error("cannot probe " + devargs, rc);
      return false;
    }
  }
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) != 0) {
    error = device + ": no such Ethernet device (a PCI device must be allowed with -a and bound to "
            "a DPDK driver)";
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Runtime> Runtime::start(const RuntimeConfig& config, std::string& error) {
  auto s = std::make_unique<State>();

  // ---- EAL ----
  std::vector<std::string> args = {"ternd"};
  args.insert(args.end(), config.eal.begin(), config.eal.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    error = rte_errno != 0 ? dpdk_error("EAL initialisation failed", rte_errno)
                           : "EAL initialisation failed (its messages above say why)";
    return nullptr;
  }
  s->eal = true;
  s->worker_count = rte_lcore_count() - 1;
  const unsigned W = s->worker_count;
  if (W == 0) {
    error = "the data plane needs at least two lcores (EAL -l): the control plane's and a worker's";
    return nullptr;
  }
  if (W > 255) {
    error = "at most 255 workers";
    return nullptr;
  }
  s->clock = std::make_unique<Clock>();
  s->software = config.software;
  const int punt_offset = register_punt_meta();
  if (punt_offset < 0) {
    error = dpdk_error("cannot register the punt metadata field", rte_errno);
    return nullptr;
  }

  // ---- ports ----
  if (config.ports.empty() || config.ports.size() > kMaxPorts) {
    error = "between 1 and " + std::to_string(kMaxPorts) + " data-plane ports are needed";
    return nullptr;
  }
  InterfacesConfig ic;
  ic.listeners = config.listeners;
  std::vector<uint16_t> rx_queues;
  for (const RuntimePort& rp : config.ports) {
    uint16_t id = 0;
    if (!probe(rp.device, W, id, error)) return nullptr;
    s->port_ids.push_back(id);
    s->devices.push_back(rp.device);
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(id, &info);
    if (rc != 0) {
      error = dpdk_error(rp.device + ": no device information", rc);
      return nullptr;
    }
    const bool paired = paired_queues(info.driver_name);
    const uint16_t nb_rx = static_cast<uint16_t>(paired ? W + 1 : W);
    const uint16_t nb_tx = static_cast<uint16_t>(W + 1);
    if (info.max_rx_queues < nb_rx || info.max_tx_queues < nb_tx) {
      error = rp.device + ": needs " + std::to_string(nb_rx) + " RX and " + std::to_string(nb_tx) +
              " TX queues for " + std::to_string(W) + " workers, has " +
              std::to_string(info.max_rx_queues) + " and " + std::to_string(info.max_tx_queues);
      return nullptr;
    }
    rx_queues.push_back(nb_rx);

    rte_eth_conf conf{};
    if (nb_rx > 1 && info.flow_type_rss_offloads != 0) {
      // RSS keeps each client 5-tuple on one worker's queue.
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_hf =
          (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    }
    constexpr uint64_t kTxChecksums = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    constexpr uint64_t kRxChecksums = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
    const bool tx_offload = (info.tx_offload_capa & kTxChecksums) == kTxChecksums;
    if (tx_offload) conf.txmode.offloads |= kTxChecksums;
    if ((info.rx_offload_capa & kRxChecksums) == kRxChecksums) conf.rxmode.offloads |= kRxChecksums;
    rc = rte_eth_dev_configure(id, nb_rx, nb_tx, &conf);
    if (rc != 0) {
      error = dpdk_error(rp.device + ": cannot configure", rc);
      return nullptr;
    }
    uint16_t nb_rxd = kRxDescriptors;
    uint16_t nb_txd = kTxDescriptors;
    rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rxd, &nb_txd);

    int socket = rte_eth_dev_socket_id(id);
    if (socket < 0) socket = static_cast<int>(rte_socket_id());
    rte_mempool*& pool = s->pools[socket];
    if (pool == nullptr) {
      const std::string name = "tern_pool_" + std::to_string(socket);
      const unsigned cache = config.mbufs >= 8192 ? 256 : 32;
      pool = rte_pktmbuf_pool_create(name.c_str(), config.mbufs, cache, 0,
                                     RTE_MBUF_DEFAULT_BUF_SIZE, socket);
      if (pool == nullptr) {
        error = dpdk_error("cannot create a pool of " + std::to_string(config.mbufs) +
                               " packet buffers on socket " + std::to_string(socket),
                           rte_errno);
        return nullptr;
      }
    }
    s->port_pools.push_back(pool);
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    for (uint16_t q = 0; q < nb_rx; ++q) {
      rc = rte_eth_rx_queue_setup(id, q, nb_rxd, static_cast<unsigned>(socket), &rxconf, pool);
      if (rc != 0) {
        error = dpdk_error(rp.device + ": RX queue " + std::to_string(q), rc);
        return nullptr;
      }
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    for (uint16_t q = 0; q < nb_tx; ++q) {
      rc = rte_eth_tx_queue_setup(id, q, nb_txd, static_cast<unsigned>(socket), &txconf);
      if (rc != 0) {
        error = dpdk_error(rp.device + ": TX queue " + std::to_string(q), rc);
        return nullptr;
      }
    }
    rte_ether_addr mac{};
    rte_eth_macaddr_get(id, &mac);
    PortConfig pc;
    pc.port_id = id;
    pc.mac = load_mac(mac.addr_bytes);
    pc.addresses = rp.addresses;
    pc.gateway = rp.gateway;
    pc.gateway6 = rp.gateway6;
    pc.tx_checksum_offload = tx_offload;
    ic.ports.push_back(std::move(pc));
  }
  s->interfaces = Interfaces::create(ic, error);
  if (!s->interfaces) return nullptr;
  std::vector<uint32_t> relay_ips;
  std::vector<Ip6> relay_ips6;
  for (const IpAddress& a : config.relay_addresses) {
    if (a.is_v6() ? !s->interfaces->is_local(Ip6::of(a)) : !s->interfaces->is_local(be_ip(a))) {
      error = "relay address " + a.to_string() + " is not an address of a data-plane port";
      return nullptr;
    }
    if (a.is_v6())
      relay_ips6.push_back(Ip6::of(a));
    else
      relay_ips.push_back(be_ip(a));
  }
  const int socket = rte_eth_dev_socket_id(s->port_ids[0]) < 0
                         ? static_cast<int>(rte_socket_id())
                         : rte_eth_dev_socket_id(s->port_ids[0]);

  // ---- RCU, tables, neighbours ----
  const size_t rcu_size = rte_rcu_qsbr_get_memsize(W);
  s->rcu = static_cast<rte_rcu_qsbr*>(rte_zmalloc_socket("tern_rcu", rcu_size, RTE_CACHE_LINE_SIZE, socket));
  if (s->rcu == nullptr || rte_rcu_qsbr_init(s->rcu, W) != 0) {
    error = "cannot create the RCU variable";
    return nullptr;
  }
  for (unsigned w = 0; w < W; ++w) rte_rcu_qsbr_thread_register(s->rcu, w);
  TablesConfig tc;
  tc.capacity = config.table_size;
  tc.relay_ips = relay_ips;
  tc.relay_ips6 = relay_ips6;
  tc.ipv6 = s->interfaces->has_ipv6();
  tc.socket_id = socket;
  tc.rcu = s->rcu;
  tc.tsc_hz = s->clock->hz();
  s->tables = Tables::create(tc, error);
  if (!s->tables) return nullptr;
  s->neighbours = Neighbours::create(static_cast<unsigned>(config.ports.size()), kNeighboursPerPort,
                                     socket, s->rcu, error);
  if (!s->neighbours) return nullptr;

  // ---- workers ----
  std::vector<unsigned> lcores;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) lcores.push_back(lcore);
  for (unsigned w = 0; w < W; ++w) {
    rte_ring* ring = rte_ring_create_elem(("tern_trace_" + std::to_string(w)).c_str(),
                                          sizeof(TraceRecord), kTraceRingSize,
                                          static_cast<int>(rte_lcore_to_socket_id(lcores[w])),
                                          RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring == nullptr) {
      error = "not enough DPDK memory for worker " + std::to_string(w) + "'s trace ring";
      return nullptr;
    }
    s->trace_rings.push_back(ring);
  }
  s->trace = std::make_unique<TraceHub>(s->trace_rings, *s->clock);
  WorkerShared shared;
  shared.tables = s->tables.get();
  shared.interfaces = &*s->interfaces;
  shared.neighbours = s->neighbours.get();
  shared.rcu = s->rcu;
  shared.tsc_hz = s->clock->hz();
  shared.software = s->software;
  shared.trace = &s->trace->filter();
  for (unsigned w = 0; w < W; ++w) {
    const int wsocket = static_cast<int>(rte_lcore_to_socket_id(lcores[w]));
    const std::string n = std::to_string(w);
    rte_ring* punt = rte_ring_create(("tern_punt_" + n).c_str(), kPuntRingSize, wsocket,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* hold = rte_ring_create(("tern_hold_" + n).c_str(), kHoldRingSize, wsocket,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
    auto* traffic = static_cast<AllocationTraffic*>(rte_zmalloc_socket(
        "tern_traffic", sizeof(AllocationTraffic) * size_t{config.table_size}, RTE_CACHE_LINE_SIZE,
        wsocket));
    if (punt) s->punt_rings.push_back(punt);
    if (hold) s->hold_rings.push_back(hold);
    if (traffic) s->traffic.push_back(traffic);
    if (!punt || !hold || !traffic) {
      error = "not enough DPDK memory for worker " + n + "'s rings and traffic counters";
      return nullptr;
    }
    WorkerResources r;
    r.index = w;
    for (unsigned p = 0; p < s->port_ids.size(); ++p) {
      r.rx.push_back({p, static_cast<uint16_t>(w)});
      if (rx_queues[p] > W && p % W == w) r.rx.push_back({p, static_cast<uint16_t>(W)});
    }
    r.tx_queue = static_cast<uint16_t>(w);
    r.punt_ring = punt;
    r.hold_ring = hold;
    r.trace_ring = s->trace_rings[w];
    r.punt_offset = punt_offset;
    r.traffic = traffic;
    r.engine = crypto::make_default_engine();
    uint8_t seed[10];
    if (!r.engine || !crypto::random_bytes(seed)) {
      error = "no crypto engine or random source for worker " + n;
      return nullptr;
    }
    std::memcpy(&r.transaction_id_seed, seed, 8);
    std::memcpy(&r.first_ip_id, seed + 8, 2);
    s->workers.push_back(std::make_unique<Worker>(shared, std::move(r)));
  }

  std::vector<const WorkerCounters*> counters;
  for (const auto& worker : s->workers) counters.push_back(&worker->counters());
  s->trace->set_worker_counters(std::move(counters));

  ControlPortSetup cs;
  cs.interfaces = &*s->interfaces;
  cs.neighbours = s->neighbours.get();
  cs.clock = s->clock.get();
  cs.punt_rings = s->punt_rings;
  cs.hold_rings = s->hold_rings;
  cs.pools = s->port_pools;
  cs.punt_offset = punt_offset;
  cs.tx_queue = static_cast<uint16_t>(W);
  cs.trace = s->trace.get();
  s->control = std::make_unique<ControlPort>(cs);
  s->writer = std::make_unique<NeighbourPrimingWriter>(s->tables->writer(), *s->control);

  for (size_t i = 0; i < s->port_ids.size(); ++i) {
    const int rc = rte_eth_dev_start(s->port_ids[i]);
    if (rc != 0) {
      error = dpdk_error(config.ports[i].device + ": cannot start", rc);
      return nullptr;
    }
    s->started.push_back(true);
  }

  s->running.store(true, std::memory_order_relaxed);
  s->launches.reserve(W);
  for (unsigned w = 0; w < W; ++w) {
    s->launches.push_back({s->workers[w].get(), s->clock.get(), &s->running});
    if (rte_eal_remote_launch(worker_main, &s->launches[w], lcores[w]) != 0) {
      error = "cannot launch worker " + std::to_string(w) + " on lcore " + std::to_string(lcores[w]);
      s->launched = w > 0;
      return nullptr;
    }
    s->launched = true;
  }
  return std::unique_ptr<Runtime>(new Runtime(std::move(s)));
}

Runtime::Runtime(std::unique_ptr<State> state) : s_(std::move(state)) {}
Runtime::~Runtime() = default;

void Runtime::stop() { s_->shutdown(); }

TableWriter& Runtime::tables() { return *s_->writer; }
ControlIo& Runtime::io() { return *s_->control; }
unsigned Runtime::workers() const { return static_cast<unsigned>(s_->workers.size()); }

CounterValues Runtime::worker_counters(unsigned worker) const {
  CounterValues v{};
  if (worker < s_->workers.size()) accumulate(v, s_->workers[worker]->counters());
  return v;
}

AllocationTrafficValues Runtime::allocation_traffic(AllocId id) const {
  AllocationTrafficValues v;
  if (!s_->tables || id >= s_->tables->capacity()) return v;
  for (const AllocationTraffic* t : s_->traffic) accumulate(v, t[id]);
  return v;
}

std::vector<PortStats> Runtime::ports() const {
  std::vector<PortStats> out;
  for (size_t i = 0; i < s_->port_ids.size(); ++i) {
    const uint16_t id = s_->port_ids[i];
    PortStats p;
    p.device = s_->devices[i];
    p.port_id = id;
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(id, &info) == 0 && info.driver_name != nullptr) p.driver = info.driver_name;
    rte_ether_addr mac{};
    if (rte_eth_macaddr_get(id, &mac) == 0) std::copy(mac.addr_bytes, mac.addr_bytes + 6, p.mac.begin());
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(id, &link) == 0) {
      p.link_up = link.link_status == RTE_ETH_LINK_UP;
      p.speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
      p.full_duplex = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
    }
    rte_eth_stats st{};
    if (rte_eth_stats_get(id, &st) == 0) {
      p.rx_packets = st.ipackets;
      p.tx_packets = st.opackets;
      p.rx_bytes = st.ibytes;
      p.tx_bytes = st.obytes;
      p.rx_missed = st.imissed;
      p.rx_errors = st.ierrors;
      p.tx_errors = st.oerrors;
      p.rx_no_buffer = st.rx_nombuf;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<PoolStats> Runtime::pools() const {
  std::vector<PoolStats> out;
  for (const auto& [socket, pool] : s_->pools)
    out.push_back({pool->name, socket, pool->size, rte_mempool_in_use_count(pool)});
  return out;
}

WorkerRingStats Runtime::worker_rings(unsigned worker) const {
  WorkerRingStats r;
  if (worker < s_->punt_rings.size()) {
    r.punt = rte_ring_count(s_->punt_rings[worker]);
    r.punt_capacity = rte_ring_get_capacity(s_->punt_rings[worker]);
  }
  if (worker < s_->hold_rings.size()) {
    r.hold = rte_ring_count(s_->hold_rings[worker]);
    r.hold_capacity = rte_ring_get_capacity(s_->hold_rings[worker]);
  }
  if (worker < s_->trace_rings.size()) {
    r.trace = rte_ring_count(s_->trace_rings[worker]);
    r.trace_capacity = rte_ring_get_capacity(s_->trace_rings[worker]);
  }
  return r;
}

uint64_t Runtime::tsc_hz() const { return s_->clock ? s_->clock->hz() : rte_get_tsc_hz(); }

// Tracing: nothing to trace once stopped.
void Runtime::set_trace(const std::optional<IpAddress>& address) {
  if (s_->trace) s_->trace->set_trace(address);
}
std::optional<IpAddress> Runtime::trace_address() const {
  return s_->trace ? s_->trace->trace_address() : std::nullopt;
}
size_t Runtime::read_trace(std::span<TraceRecord> out) {
  return s_->trace ? s_->trace->read_trace(out) : 0;
}
void Runtime::append_trace(const TraceRecord& record) {
  if (s_->trace) s_->trace->append_trace(record);
}
uint64_t Runtime::trace_suppressed() const {
  return s_->trace ? s_->trace->trace_suppressed() : 0;
}

}  // namespace tern::dp
