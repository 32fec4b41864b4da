#pragma once
// The exception path's DPDK side (docs/ARCHITECTURE.md "The exception path"): a TAP port whose
// kernel end lives in ternd's own network namespace with the TCP and TLS listener addresses, and
// the stream rings between the workers and the stream transport. It is the StreamIo the transport
// thread drives: that thread is the only one to touch the TAP, its own TX queue on every data-plane
// port, and the consumer (producer) ends of the workers' exception and to_stream (from_stream)
// rings; it reads the neighbour table as an RCU reader while it pumps.
//
// The kernel's end (net_tap's netdev) is set up to say nothing on its own: no ARP (IFF_NOARP: its
// frames leave addressed to its own MAC, and ternd routes them by IP), no IPv6 router solicitation,
// duplicate address detection or autoconfiguration, the data-plane ports' MTU. What it still sends
// that is not TCP from a listener address (MLD, ICMP) is dropped and counted.

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <memory>
#include <string>
#include <vector>

#include "conf/net.hpp"
#include "dataplane/contract/stream_io.hpp"
#include "dataplane/exception/netns.hpp"
#include "dataplane/tables/interfaces.hpp"
#include "dataplane/tables/neighbours.hpp"
#include "dataplane/wire/headers.hpp"

namespace tern::dp {

struct ExceptionPortConfig {
  std::vector<TransportAddress> listeners;  // TCP and TLS; their addresses go on the kernel's end
  const Interfaces* interfaces = nullptr;
  const Neighbours* neighbours = nullptr;
  rte_mempool* pool = nullptr;
  rte_rcu_qsbr* rcu = nullptr;             // the transport thread reads as RCU thread `rcu_id`
  unsigned rcu_id = 0;
  uint16_t tx_queue = 0;                   // the transport's TX queue on every data-plane port
  std::vector<rte_ring*> exception_rings;  // per worker: frames for the kernel
  std::vector<rte_ring*> to_stream_rings;  // per worker: peers' data for stream clients
  std::vector<rte_ring*> from_stream_rings;  // per worker: stream clients' data
  rte_ring* hold_ring = nullptr;           // -> the control lcore: frames whose next hop has no MAC yet
  int stream_offset = -1;                  // StreamMeta
  uint16_t mtu = 1500;                     // of the data-plane ports, and so of the kernel's end
};

class ExceptionPort final : public StreamIo {
 public:
  // Makes the namespace, the TAP and its kernel end. nullptr with a message on failure.
  static std::unique_ptr<ExceptionPort> create(const ExceptionPortConfig& config, std::string& error);
  ~ExceptionPort() override;  // frees what waits in the rings; the namespace and the TAP go with ternd

  // Starts the TAP and gives the kernel's end its addresses and routes (after the data-plane
  // ports started).
  bool start(std::string& error);
  uint16_t port_id() const { return tap_; }

  int netns() const override { return ns_.fd(); }
  bool attach(std::string& error) override;
  void detach() override;
  size_t pump() override;
  int pump_fd() const override { return rx_fd_; }
  size_t receive(std::span<StreamDelivery> out) override;
  void release(uint64_t handle) override;
  RelayResult relay(AllocId allocation, StreamId stream, std::span<const uint8_t> message) override;
  size_t max_datagram() const override { return config_.mtu - kIpv6Len - kUdpLen; }
  ExceptionCounterValues counters() const override;

 private:
  ExceptionPort(ExceptionPortConfig config, OwnNamespace ns) : config_(std::move(config)), ns_(std::move(ns)) {}
  bool make_tap(std::string& error);
  size_t to_kernel();
  size_t from_kernel();
  void out_of_kernel(rte_mbuf* m);
  void flush();
  void count(ExceptionCounterId id, uint64_t n = 1);

  ExceptionPortConfig config_;
  OwnNamespace ns_;
  uint16_t tap_ = 0;
  bool probed_ = false;
  bool started_ = false;
  int ifindex_ = 0;
  int rx_fd_ = -1;
  MacWord tap_mac_ = 0;
  unsigned next_ring_ = 0;
  rte_mbuf* tx_[kMaxPorts][64];
  uint16_t tx_count_[kMaxPorts] = {};
  // Written by the transport thread, read by anyone (ternctl, metrics): one writer.
  std::array<std::atomic<uint64_t>, kExceptionCounterCount> counters_{};
};

}  // namespace tern::dp
