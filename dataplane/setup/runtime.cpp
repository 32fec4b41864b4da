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

#include "dataplane/exception/exception_port.hpp"
#include "dataplane/setup/assembly.hpp"
#include "dataplane/tables/clock.hpp"
#include "dataplane/worker/worker.hpp"

namespace tern::dp {
namespace {

constexpr uint16_t kRxDescriptors = 1024;
constexpr uint16_t kTxDescriptors = 1024;
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
  std::vector<uint16_t> port_ids;
  std::vector<std::string> devices;        // by port index, as configured
  std::vector<bool> started;
  std::map<int, rte_mempool*> pools;       // by NUMA socket
  std::unique_ptr<Clock> clock;
  std::unique_ptr<Assembly> dataplane;
  std::unique_ptr<ExceptionPort> exception;  // TCP and TLS listeners only
  std::vector<unsigned> lcores;            // the workers', by worker
  std::vector<Launch> launches;

  ~State() { shutdown(); }
  void shutdown();
};

void Runtime::State::shutdown() {
  if (launched) {
    running.store(false, std::memory_order_relaxed);
    rte_eal_mp_wait_lcore();
    launched = false;
  }
  exception.reset();
  dataplane.reset();
  for (size_t i = 0; i < port_ids.size(); ++i) {
    if (i < started.size() && started[i]) rte_eth_dev_stop(port_ids[i]);
    rte_eth_dev_close(port_ids[i]);
  }
  port_ids.clear();
  started.clear();
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
  r.stream_listeners = config.listen.tcp;
  r.stream_listeners.insert(r.stream_listeners.end(), config.listen.tls.begin(), config.listen.tls.end());
  r.relay_addresses = config.relay.addresses;
  r.table_size = config.dataplane.table_size;
  r.mbufs = config.dataplane.mbufs;
  r.settings = WorkerSettingsValues::from(config);
  return r;
}

namespace {

// Probes a vdev (or finds a device EAL already probed) and returns its port id.
// `queues`: TX queues the port needs (one per worker, the control lcore's, the stream transport's).
bool probe(const std::string& device, unsigned queues, uint16_t& port_id, std::string& error) {
  std::string devargs = device;
  const std::string name = device.substr(0, device.find(','));
  if (name.rfind("net_", 0) == 0) {
    if (name.rfind("net_af_packet", 0) == 0) {
      // One queue pair per worker and one for the control lcore (see paired_queues()).
      const std::string want = std::to_string(queues);
      const size_t at = device.find(",qpairs=");
      if (at == std::string::npos) {
        devargs += ",qpairs=" + want;
      } else {
        const size_t begin = at + 8;
        const std::string given = device.substr(begin, device.find(',', begin) - begin);
        if (given != want) {
          error = device + ": qpairs must be " + want + " (one per worker, one for the control "
                  "lcore, one for the stream transport when there are TCP or TLS listeners) or left out";
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

namespace {

// ---- EAL ----
bool start_eal(const RuntimeConfig& config, bool& up, unsigned& workers, std::string& error) {
  std::vector<std::string> args = {"ternd"};
  args.insert(args.end(), config.eal.begin(), config.eal.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    error = rte_errno != 0 ? dpdk_error("EAL initialisation failed", rte_errno)
                           : "EAL initialisation failed (its messages above say why)";
    return false;
  }
  up = true;
  workers = rte_lcore_count() - 1;
  if (workers == 0) {
    error = "the data plane needs at least two lcores (EAL -l): the control plane's and a worker's";
    return false;
  }
  if (workers > 255) {
    error = "at most 255 workers";
    return false;
  }
  return true;
}

int socket_of(uint16_t port_id) {
  const int socket = rte_eth_dev_socket_id(port_id);
  return socket < 0 ? static_cast<int>(rte_socket_id()) : socket;
}

// ---- one port ----
// Probes the device and configures it: one RX and one TX queue per worker plus the control
// lcore's TX queue (and its RX twin where the driver pairs queues), RSS across the workers' RX
// queues where the device has it, checksum offloads where it has them, the packet pool of its
// NUMA node (made on first use). Fills in the port's entry of the interfaces.
bool configure_port(const RuntimePort& rp, uint16_t id, unsigned W, unsigned queues, uint32_t mbufs,
                    std::map<int, rte_mempool*>& pools, PortConfig& pc, uint16_t& rx_queues,
                    rte_mempool*& pool, std::string& error) {
  pc.port_id = id;
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(id, &info);
  if (rc != 0) {
    error = dpdk_error(rp.device + ": no device information", rc);
    return false;
  }
  const bool paired = paired_queues(info.driver_name);
  const uint16_t nb_tx = static_cast<uint16_t>(queues);
  const uint16_t nb_rx = static_cast<uint16_t>(paired ? queues : W);
  if (info.max_rx_queues < nb_rx || info.max_tx_queues < nb_tx) {
    error = rp.device + ": needs " + std::to_string(nb_rx) + " RX and " + std::to_string(nb_tx) +
            " TX queues for " + std::to_string(W) + " workers, has " +
            std::to_string(info.max_rx_queues) + " and " + std::to_string(info.max_tx_queues);
    return false;
  }
  rx_queues = nb_rx;

  rte_eth_conf conf{};
  if (nb_rx > 1 && info.flow_type_rss_offloads != 0) {
    // RSS keeps each client 5-tuple on one worker's queue.
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  }
  constexpr uint64_t kTxChecksums = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  constexpr uint64_t kRxChecksums = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
  const bool tx_offload = (info.tx_offload_capa & kTxChecksums) == kTxChecksums;
  if (tx_offload) conf.txmode.offloads |= kTxChecksums;
  if ((info.rx_offload_capa & kRxChecksums) == kRxChecksums) conf.rxmode.offloads |= kRxChecksums;
  rc = rte_eth_dev_configure(id, nb_rx, nb_tx, &conf);
  if (rc != 0) {
    error = dpdk_error(rp.device + ": cannot configure", rc);
    return false;
  }
  uint16_t nb_rxd = kRxDescriptors;
  uint16_t nb_txd = kTxDescriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rxd, &nb_txd);

  const int socket = socket_of(id);
  pool = pools[socket];
  if (pool == nullptr) {
    const std::string name = "tern_pool_" + std::to_string(socket);
    const unsigned cache = mbufs >= 8192 ? 256 : 32;
    pool = rte_pktmbuf_pool_create(name.c_str(), mbufs, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (pool == nullptr) {
      error = dpdk_error("cannot create a pool of " + std::to_string(mbufs) +
                             " packet buffers on socket " + std::to_string(socket),
                         rte_errno);
      return false;
    }
    pools[socket] = pool;
  }
  rte_eth_rxconf rxconf = info.default_rxconf;
  rxconf.offloads = conf.rxmode.offloads;
  for (uint16_t q = 0; q < nb_rx; ++q) {
    rc = rte_eth_rx_queue_setup(id, q, nb_rxd, static_cast<unsigned>(socket), &rxconf, pool);
    if (rc != 0) {
      error = dpdk_error(rp.device + ": RX queue " + std::to_string(q), rc);
      return false;
    }
  }
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (uint16_t q = 0; q < nb_tx; ++q) {
    rc = rte_eth_tx_queue_setup(id, q, nb_txd, static_cast<unsigned>(socket), &txconf);
    if (rc != 0) {
      error = dpdk_error(rp.device + ": TX queue " + std::to_string(q), rc);
      return false;
    }
  }
  rte_ether_addr mac{};
  rte_eth_macaddr_get(id, &mac);
  pc.mac = load_mac(mac.addr_bytes);
  pc.addresses = rp.addresses;
  pc.gateway = rp.gateway;
  pc.gateway6 = rp.gateway6;
  pc.tx_checksum_offload = tx_offload;
  return true;
}

// The exception path: its TAP in ternd's own namespace, with the data-plane ports' MTU, wired to
// the workers' stream rings; the stream transport's thread is RCU reader number `workers`.
std::unique_ptr<ExceptionPort> make_exception_port(const RuntimeConfig& config, Assembly& a, unsigned W,
                                                   rte_mempool* pool, const std::vector<uint16_t>& ports,
                                                   std::string& error) {
  ExceptionPortConfig ec;
  ec.listeners = config.stream_listeners;
  ec.interfaces = &a.interfaces();
  ec.neighbours = &a.neighbours();
  ec.pool = pool;
  ec.rcu = a.rcu();
  ec.rcu_id = W;
  ec.tx_queue = static_cast<uint16_t>(W + 1);
  ec.exception_rings = a.exception_rings();
  ec.to_stream_rings = a.to_stream_rings();
  ec.from_stream_rings = a.from_stream_rings();
  ec.hold_ring = a.stream_hold_ring();
  ec.stream_offset = a.stream_offset();
  uint16_t mtu = UINT16_MAX;
  for (const uint16_t id : ports) {
    uint16_t m = 0;
    mtu = std::min<uint16_t>(mtu, rte_eth_dev_get_mtu(id, &m) == 0 && m != 0 ? m : RTE_ETHER_MTU);
  }
  ec.mtu = mtu;
  return ExceptionPort::create(ec, error);
}

}  // namespace

// EAL, then every port, then the data plane's parts (Assembly), then the ports start and the
// workers are launched on every lcore but the main one.
std::unique_ptr<Runtime> Runtime::start(const RuntimeConfig& config, std::string& error) {
  auto s = std::make_unique<State>();
  unsigned W = 0;
  if (!start_eal(config, s->eal, W, error)) return nullptr;
  s->clock = std::make_unique<Clock>();
  if (config.ports.empty() || config.ports.size() > kMaxPorts) {
    error = "between 1 and " + std::to_string(kMaxPorts) + " data-plane ports are needed";
    return nullptr;
  }

  // TX queues: the workers', the control lcore's, and the stream transport's with TCP or TLS.
  const bool streams = !config.stream_listeners.empty();
  const unsigned queues = W + 1 + (streams ? 1 : 0);
  AssemblyConfig ac;
  ac.interfaces.listeners = config.listeners;
  ac.interfaces.stream_listeners = config.stream_listeners;
  ac.streams = streams;
  for (const RuntimePort& rp : config.ports) {
    uint16_t id = 0;
    if (!probe(rp.device, queues, id, error)) return nullptr;
    s->port_ids.push_back(id);
    s->devices.push_back(rp.device);
    PortConfig pc;
    uint16_t rx_queues = 0;
    rte_mempool* pool = nullptr;
    if (!configure_port(rp, id, W, queues, config.mbufs, s->pools, pc, rx_queues, pool, error)) return nullptr;
    ac.interfaces.ports.push_back(std::move(pc));
    ac.rx_queues.push_back(rx_queues);
    ac.pools.push_back(pool);
  }
  std::vector<unsigned> lcores;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) lcores.push_back(lcore);
  ac.workers = W;
  for (unsigned l : lcores) ac.worker_sockets.push_back(static_cast<int>(rte_lcore_to_socket_id(l)));
  ac.socket = socket_of(s->port_ids[0]);
  ac.table_size = config.table_size;
  ac.relay_addresses = config.relay_addresses;
  ac.settings = config.settings;
  s->dataplane = Assembly::build(ac, *s->clock, error);
  if (!s->dataplane) return nullptr;
  if (streams && !(s->exception = make_exception_port(config, *s->dataplane, W, ac.pools[0], s->port_ids, error)))
    return nullptr;

  for (size_t i = 0; i < s->port_ids.size(); ++i) {
    const int rc = rte_eth_dev_start(s->port_ids[i]);
    if (rc != 0) {
      error = dpdk_error(config.ports[i].device + ": cannot start", rc);
      return nullptr;
    }
    s->started.push_back(true);
  }
  if (s->exception && !s->exception->start(error)) return nullptr;

  s->lcores = lcores;
  std::unique_ptr<Runtime> runtime(new Runtime(std::move(s)));
  if (config.launch && !runtime->launch(error)) return nullptr;
  return runtime;
}

bool Runtime::launch(std::string& error) {
  State* s = s_.get();
  if (s->launched || !s->dataplane) return s->launched;
  const unsigned W = s->dataplane->workers();
  s->running.store(true, std::memory_order_relaxed);
  s->launches.reserve(W);
  for (unsigned w = 0; w < W; ++w) {
    s->launches.push_back({&s->dataplane->worker(w), s->clock.get(), &s->running});
    if (rte_eal_remote_launch(worker_main, &s->launches[w], s->lcores[w]) != 0) {
      error = "cannot launch worker " + std::to_string(w) + " on lcore " + std::to_string(s->lcores[w]);
      s->launched = w > 0;
      return false;
    }
    s->launched = true;
  }
  return true;
}

Runtime::Runtime(std::unique_ptr<State> state) : s_(std::move(state)) {}
Runtime::~Runtime() = default;

void Runtime::stop() { s_->shutdown(); }

TableWriter& Runtime::tables() { return s_->dataplane->writer(); }
WorkerSettingsPublisher& Runtime::worker_settings() { return s_->dataplane->worker_settings(); }
StreamIo* Runtime::streams() { return s_->exception.get(); }
ControlIo& Runtime::io() { return s_->dataplane->control(); }
unsigned Runtime::workers() const { return s_->dataplane ? s_->dataplane->workers() : 0; }

CounterValues Runtime::worker_counters(unsigned worker) const {
  CounterValues v{};
  if (s_->dataplane && worker < s_->dataplane->workers())
    accumulate(v, s_->dataplane->worker(worker).counters());
  return v;
}

AllocationTrafficValues Runtime::allocation_traffic(AllocId id) const {
  return s_->dataplane ? s_->dataplane->allocation_traffic(id) : AllocationTrafficValues{};
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
  if (!s_->dataplane || worker >= s_->dataplane->workers()) return r;
  const Assembly& a = *s_->dataplane;
  r.punt = rte_ring_count(a.punt_ring(worker));
  r.punt_capacity = rte_ring_get_capacity(a.punt_ring(worker));
  r.hold = rte_ring_count(a.hold_ring(worker));
  r.hold_capacity = rte_ring_get_capacity(a.hold_ring(worker));
  r.trace = rte_ring_count(a.trace_ring(worker));
  r.trace_capacity = rte_ring_get_capacity(a.trace_ring(worker));
  return r;
}

uint64_t Runtime::tsc_hz() const { return s_->clock ? s_->clock->hz() : rte_get_tsc_hz(); }

// Tracing: nothing to trace once stopped.
void Runtime::set_trace(const std::optional<IpAddress>& address) {
  if (s_->dataplane) s_->dataplane->trace().set_trace(address);
}
std::optional<IpAddress> Runtime::trace_address() const {
  return s_->dataplane ? s_->dataplane->trace().trace_address() : std::nullopt;
}
size_t Runtime::read_trace(std::span<TraceRecord> out) {
  return s_->dataplane ? s_->dataplane->trace().read_trace(out) : 0;
}
void Runtime::append_trace(const TraceRecord& record) {
  if (s_->dataplane) s_->dataplane->trace().append_trace(record);
}
uint64_t Runtime::trace_suppressed() const {
  return s_->dataplane ? s_->dataplane->trace().trace_suppressed() : 0;
}

}  // namespace tern::dp
