#include "dataplane/exception/exception_port.hpp"

#include <net/if.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "dataplane/exception/netlink.hpp"
#include "dataplane/worker/stream_meta.hpp"

namespace tern::dp {
namespace {

constexpr const char* kTapDevice = "net_tap_tern";
constexpr const char* kTapInterface = "tern0";
constexpr uint16_t kTapDescriptors = 1024;
constexpr unsigned kBurstSize = 32;

std::string dpdk_error(const std::string& what, int err) {
  return what + ": " + rte_strerror(err < 0 ? -err : err);
}

// The namespace's defaults, before the TAP exists: an interface made after inherits them. No IPv6
// router solicitations, duplicate address detection, autoconfiguration or router advertisements
// (nothing but ternd is on this link), and no reverse-path filter dropping clients that the
// default route, not a subnet, reaches.
bool quiet_defaults(std::string& error) {
  for (const char* scope : {"all", "default"}) {
    const std::string v6 = std::string("net/ipv6/conf/") + scope + "/";
    for (const auto& [name, value] : {std::pair{"accept_ra", "0"}, {"router_solicitations", "0"},
                                      {"dad_transmits", "0"}, {"accept_dad", "0"}, {"autoconf", "0"},
                                      {"use_tempaddr", "0"}, {"keep_addr_on_down", "1"}})
      if (!write_sysctl(v6 + name, value, error)) return false;
    if (!write_sysctl(std::string("net/ipv4/conf/") + scope + "/rp_filter", "0", error)) return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<ExceptionPort> ExceptionPort::create(const ExceptionPortConfig& config, std::string& error) {
  auto ns = OwnNamespace::create(error);
  if (!ns) return nullptr;
  std::unique_ptr<ExceptionPort> port(new ExceptionPort(config, std::move(*ns)));
  if (!port->make_tap(error)) return nullptr;
  return port;
}

// net_tap opens its device, and each queue's, in the namespace of the thread that asks: all of it
// happens inside ours.
bool ExceptionPort::make_tap(std::string& error) {
  OwnNamespace::Inside inside(ns_, error);
  if (!inside.ok() || !quiet_defaults(error)) return false;
  const std::string devargs = std::string(kTapDevice) + ",iface=" + kTapInterface;
  int rc = rte_dev_probe(devargs.c_str());
  if (rc != 0) {
    error = dpdk_error("cannot make the exception port (" + devargs + ")", rc);
    return false;
  }
  probed_ = true;
  if (rte_eth_dev_get_port_by_name(kTapDevice, &tap_) != 0) {
    error = "the exception port was made but DPDK does not know it";
    return false;
  }
  ifindex_ = static_cast<int>(if_nametoindex(kTapInterface));
  Netlink netlink;
  if (ifindex_ == 0 || !netlink.open(error) ||
      !netlink.set_link(ifindex_, IFF_NOARP, IFF_NOARP, config_.mtu, error))
    return false;
  rte_eth_conf conf{};
  conf.intr_conf.rxq = 1;  // the RX queue's file descriptor, for the transport's epoll
  rc = rte_eth_dev_configure(tap_, 1, 1, &conf);
  if (rc == 0) rc = rte_eth_rx_queue_setup(tap_, 0, kTapDescriptors, rte_socket_id(), nullptr, config_.pool);
  if (rc == 0) rc = rte_eth_tx_queue_setup(tap_, 0, kTapDescriptors, rte_socket_id(), nullptr);
  if (rc != 0) {
    error = dpdk_error("cannot set up the exception port's queues", rc);
    return false;
  }
  rte_ether_addr mac{};
  rte_eth_macaddr_get(tap_, &mac);
  tap_mac_ = load_mac(mac.addr_bytes);
  return true;
}

bool ExceptionPort::start(std::string& error) {
  OwnNamespace::Inside inside(ns_, error);
  if (!inside.ok()) return false;
  const int rc = rte_eth_dev_start(tap_);
  if (rc != 0) {
    error = dpdk_error("cannot start the exception port", rc);
    return false;
  }
  started_ = true;
  rx_fd_ = rte_eth_dev_rx_intr_ctl_q_get_fd(tap_, 0);
  // The listener addresses, each once; a wildcard listener (0.0.0.0, ::) takes every address of
  // the data-plane ports of its family.
  std::vector<IpAddress> addresses;
  const auto add = [&](const IpAddress& ip) {
    if (std::find(addresses.begin(), addresses.end(), ip) == addresses.end()) addresses.push_back(ip);
  };
  const Interfaces& in = *config_.interfaces;
  for (const TransportAddress& l : config_.listeners) {
    const bool wildcard = l.ip.is_v4() ? l.ip.v4_host_order() == 0 : Ip6::of(l.ip).zero();
    if (!wildcard) {
      add(l.ip);
      continue;
    }
    for (unsigned p = 0; p < in.port_count(); ++p) {
      const PortView& v = in.port(p);
      if (l.ip.is_v4())
        for (unsigned i = 0; i < v.address_count; ++i)
          add(IpAddress::v4(rte_be_to_cpu_32(v.addresses[i].ip)));
      else
        for (unsigned i = 0; i < v.address6_count; ++i) add(v.addresses6[i].ip.address());
    }
  }
  Netlink netlink;
  if (!netlink.open(error)) return false;
  bool route4 = false, route6 = false;
  for (const IpAddress& ip : addresses) {
    if (!netlink.add_address(ifindex_, ip, error)) return false;
    bool& routed = ip.is_v4() ? route4 : route6;
    if (!routed && !netlink.add_default_route(ifindex_, ip, error)) return false;
    routed = true;
  }
  return true;
}

ExceptionPort::~ExceptionPort() {
  for (unsigned p = 0; p < kMaxPorts; ++p) rte_pktmbuf_free_bulk(tx_[p], tx_count_[p]);
  for (auto* rings : {&config_.exception_rings, &config_.to_stream_rings, &config_.from_stream_rings})
    for (rte_ring* r : *rings) {
      void* m;
      while (r != nullptr && rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
  if (started_) rte_eth_dev_stop(tap_);
  // Closing the port removes the TAP device; the namespace goes with ternd's last reference.
  if (probed_) rte_eth_dev_close(tap_);
}

// net_tap's RX queue wakes epoll and counts its frames with a real-time signal it handles itself
// (F_SETSIG): the signal must reach this thread, so every other thread blocks it (ternd blocks the
// real-time signals before the EAL starts its threads, control/ternd/control_loop.cpp) and this
// one takes it.
bool ExceptionPort::attach(std::string& error) {
  if (rte_thread_register() != 0) {
    error = dpdk_error("the stream transport's thread cannot join DPDK", rte_errno);
    return false;
  }
  sigset_t realtime;
  sigemptyset(&realtime);
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&realtime, s);
  pthread_sigmask(SIG_UNBLOCK, &realtime, nullptr);
  if (config_.rcu != nullptr) rte_rcu_qsbr_thread_register(config_.rcu, config_.rcu_id);
  return true;
}

void ExceptionPort::detach() {
  if (config_.rcu != nullptr) rte_rcu_qsbr_thread_unregister(config_.rcu, config_.rcu_id);
  rte_thread_unregister();
}

void ExceptionPort::count(ExceptionCounterId id, uint64_t n) {
  auto& c = counters_[static_cast<size_t>(id)];
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

ExceptionCounterValues ExceptionPort::counters() const {
  ExceptionCounterValues v{};
  for (size_t i = 0; i < v.size(); ++i) v[i] = counters_[i].load(std::memory_order_relaxed);
  return v;
}

size_t ExceptionPort::pump() {
  // A reader of the neighbour table while it routes the kernel's frames, offline in between.
  if (config_.rcu != nullptr) rte_rcu_qsbr_thread_online(config_.rcu, config_.rcu_id);
  const size_t moved = to_kernel() + from_kernel();
  flush();
  if (config_.rcu != nullptr) {
    rte_rcu_qsbr_quiescent(config_.rcu, config_.rcu_id);
    rte_rcu_qsbr_thread_offline(config_.rcu, config_.rcu_id);
  }
  return moved;
}

// The workers' frames for the kernel: addressed to the kernel's end and written into the TAP.
size_t ExceptionPort::to_kernel() {
  size_t moved = 0;
  for (rte_ring* ring : config_.exception_rings) {
    rte_mbuf* pkts[kBurstSize];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), kBurstSize, nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) {
        store_mac(ether(frame(pkts[i]))->dst_addr.addr_bytes, tap_mac_);
        pkts[i]->ol_flags = 0;
      }
      const uint16_t sent = rte_eth_tx_burst(tap_, 0, pkts, static_cast<uint16_t>(n));
      if (sent < n) {
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
        count(ExceptionCounterId::kernel_in_dropped, n - sent);
      }
      count(ExceptionCounterId::kernel_in, sent);
      moved += n;
    }
  }
  return moved;
}

// What the kernel sends: TCP from a listener address and port (its connections' segments), routed
// out of a data-plane port; everything else is dropped.
size_t ExceptionPort::from_kernel() {
  size_t moved = 0;
  rte_mbuf* pkts[kBurstSize];
  uint16_t n;
  while ((n = rte_eth_rx_burst(tap_, 0, pkts, kBurstSize)) > 0) {
    for (uint16_t i = 0; i < n; ++i) out_of_kernel(pkts[i]);
    moved += n;
    if (n < kBurstSize) break;
  }
  return moved;
}

void ExceptionPort::out_of_kernel(rte_mbuf* m) {
  const Interfaces& in = *config_.interfaces;
  uint8_t* f = frame(m);
  const uint16_t len = rte_pktmbuf_data_len(m);
  unsigned port = kNoPort;
  MacWord mac = 0;
  bool resolved = false;
  bool ours = false;
  if (len >= kEtherLen + kIpv4Len + kTcpLen && ether(f)->ether_type == kEtherTypeIpv4) {
    const rte_ipv4_hdr* ip = ipv4(f);
    const uint8_t ihl = ipv4_header_len(ip);
    ours = ip->next_proto_id == IPPROTO_TCP && len >= kEtherLen + ihl + kTcpLen &&
           in.is_stream_listener(ip->src_addr, load_u16_raw(f + kEtherLen + ihl));
    if (ours) {
      const Route route = in.route(ip->dst_addr);
      port = route.port;
      if (port != kNoPort) resolved = config_.neighbours->find(port, route.next_hop, mac);
    }
  } else if (len >= kEtherLen + kIpv6Len + kTcpLen && ether(f)->ether_type == kEtherTypeIpv6) {
    const rte_ipv6_hdr* ip = ipv6(f);
    ours = ip->proto == IPPROTO_TCP &&
           in.is_stream_listener(Ip6::load(ip->src_addr), load_u16_raw(f + kEtherLen + kIpv6Len));
    if (ours) {
      const Route6 route = in.route(Ip6::load(ip->dst_addr));
      port = route.port;
      if (port != kNoPort) resolved = config_.neighbours->find(port, route.next_hop, mac);
    }
  }
  if (!ours) {
    count(ExceptionCounterId::kernel_out_filtered);
    rte_pktmbuf_free(m);
    return;
  }
  if (port == kNoPort) {
    count(ExceptionCounterId::kernel_out_no_route);
    rte_pktmbuf_free(m);
    return;
  }
  // The kernel's checksums are whole: nothing for the NIC to finish.
  m->ol_flags = 0;
  write_ether(f, resolved ? mac : 0, in.port(port).mac, ether(f)->ether_type);
  if (!resolved) {
    // The control lcore routes it again from its own headers, asks for the MAC and sends it.
    if (config_.hold_ring == nullptr || rte_ring_sp_enqueue(config_.hold_ring, m) != 0) {
      count(ExceptionCounterId::kernel_out_no_route);
      rte_pktmbuf_free(m);
      return;
    }
    count(ExceptionCounterId::kernel_out_waiting);
    return;
  }
  tx_[port][tx_count_[port]++] = m;
  if (tx_count_[port] == std::size(tx_[port])) flush();
}

void ExceptionPort::flush() {
  for (unsigned p = 0; p < config_.interfaces->port_count(); ++p) {
    const uint16_t n = tx_count_[p];
    if (n == 0) continue;
    const uint16_t sent = rte_eth_tx_burst(config_.interfaces->port(p).port_id, config_.tx_queue, tx_[p], n);
    if (sent < n) {
      rte_pktmbuf_free_bulk(tx_[p] + sent, n - sent);
      count(ExceptionCounterId::kernel_out_tx_full, n - sent);
    }
    count(ExceptionCounterId::kernel_out, sent);
    tx_count_[p] = 0;
  }
}

size_t ExceptionPort::receive(std::span<StreamDelivery> out) {
  size_t filled = 0;
  const size_t rings = config_.to_stream_rings.size();
  for (size_t k = 0; k < rings && filled < out.size(); ++k) {
    rte_ring* ring = config_.to_stream_rings[(next_ring_ + k) % rings];
    rte_mbuf* pkts[kBurstSize];
    const unsigned want = static_cast<unsigned>(std::min<size_t>(kBurstSize, out.size() - filled));
    const unsigned n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), want, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      const StreamMeta meta = stream_meta(pkts[i], config_.stream_offset);
      out[filled++] = {meta.stream, meta.allocation,
                       {rte_pktmbuf_mtod(pkts[i], const uint8_t*), rte_pktmbuf_data_len(pkts[i])},
                       reinterpret_cast<uint64_t>(pkts[i])};
    }
  }
  next_ring_ = rings > 0 ? static_cast<unsigned>((next_ring_ + 1) % rings) : 0;
  count(ExceptionCounterId::stream_delivered, filled);
  return filled;
}

void ExceptionPort::release(uint64_t handle) { rte_pktmbuf_free(reinterpret_cast<rte_mbuf*>(handle)); }

// To the worker whose shard counts the allocation's traffic: worker (slot mod workers), the same
// one for every message of an allocation, so they leave in the order they came.
RelayResult ExceptionPort::relay(AllocId allocation, StreamId stream, std::span<const uint8_t> message) {
  if (config_.from_stream_rings.empty()) return RelayResult::ring_full;
  rte_mbuf* m = rte_pktmbuf_alloc(config_.pool);
  if (m == nullptr) {
    count(ExceptionCounterId::mempool_empty);
    return RelayResult::no_buffer;
  }
  // The worker writes the UDP, IP and Ethernet headers in front of the data: the headroom holds them.
  char* at = message.size() <= rte_pktmbuf_tailroom(m) ? rte_pktmbuf_append(m, static_cast<uint16_t>(message.size()))
                                                        : nullptr;
  if (at == nullptr) {
    rte_pktmbuf_free(m);
    count(ExceptionCounterId::stream_too_big);
    return RelayResult::too_big;
  }
  std::memcpy(at, message.data(), message.size());
  stream_meta(m, config_.stream_offset) = {allocation, stream};
  rte_ring* ring = config_.from_stream_rings[slot_index(allocation) % config_.from_stream_rings.size()];
  if (rte_ring_sp_enqueue(ring, m) != 0) {
    rte_pktmbuf_free(m);
    count(ExceptionCounterId::stream_ring_full);
    return RelayResult::ring_full;
  }
  count(ExceptionCounterId::stream_relayed);
  return RelayResult::queued;
}

}  // namespace tern::dp
