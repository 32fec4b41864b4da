#include "tests/fuzz/worker_plane.hpp"

#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dataplane/contract/trace.hpp"
#include "dataplane/wire/headers.hpp"
#include "dataplane/wire/ip6.hpp"
#include "dataplane/worker/punt.hpp"
#include "dataplane/worker/stream_meta.hpp"
#include "tests/fuzz/worker_layout.hpp"

namespace tern::fuzz {
namespace {

// Buffers: more than two full bursts per port and from_stream ring, so that the worker never
// runs short because of the fuzzer; a leak shows as a count below this.
constexpr unsigned kPoolSize = 1023;
constexpr unsigned kRxRingSize = 1024;
// The rings the worker fills hold fewer packets than a burst (rte_ring: size - 1), so one input
// can fill any of them and reach its drop_*_full path.
constexpr unsigned kTxRingSize = 32;
constexpr unsigned kWorkerRingSize = 16;

// worker_layout.hpp's MAC addresses ("02:00:00:00:00:01").
dp::MacWord mac(std::string_view text) {
  unsigned v[6] = {};
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) std::abort();
  uint8_t bytes[6];
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(v[i]);
  return dp::load_mac(bytes);
}

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }
TransportAddress at(std::string_view text) { return *TransportAddress::parse(text); }
InterfaceAddress address(std::string_view text) { return *InterfaceAddress::parse(text); }

uint64_t rx_flags(RxChecksum ip_checksum, RxChecksum l4_checksum) {
  static constexpr uint64_t kIp[] = {RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RTE_MBUF_F_RX_IP_CKSUM_BAD,
                                     RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_NONE};
  static constexpr uint64_t kL4[] = {RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, RTE_MBUF_F_RX_L4_CKSUM_BAD,
                                     RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_NONE};
  return kIp[static_cast<unsigned>(ip_checksum)] | kL4[static_cast<unsigned>(l4_checksum)];
}

// Every segment's bytes.
std::vector<uint8_t> bytes_of(const rte_mbuf* m) {
  std::vector<uint8_t> out;
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    const auto* d = rte_pktmbuf_mtod(s, const uint8_t*);
    out.insert(out.end(), d, d + rte_pktmbuf_data_len(s));
  }
  return out;
}

// Everything on an mbuf ring, freed.
template <class Take>
void drain_ring(rte_ring* ring, Take take) {
  void* obj;
  while (ring != nullptr && rte_ring_dequeue(ring, &obj) == 0) {
    auto* m = static_cast<rte_mbuf*>(obj);
    take(m);
    rte_pktmbuf_free(m);
  }
}

}  // namespace

std::unique_ptr<WorkerPlane> WorkerPlane::build(const std::string& tag, std::string& error) {
  std::unique_ptr<WorkerPlane> plane(new WorkerPlane());
  if (!plane->build_ports(tag, error)) return nullptr;

  dp::PortConfig p0;
  p0.port_id = plane->port_ids_[0];
  p0.mac = mac(kPort0Mac);
  p0.addresses = {address("10.90.0.1/24"), address("10.90.0.2/24"), address("2001:db8::1/64"),
                  address("2001:db8::2/64")};
  p0.gateway = ip(kGatewayIp);
  dp::PortConfig p1;
  p1.port_id = plane->port_ids_[1];
  p1.mac = mac(kPort1Mac);
  p1.addresses = {address("192.0.2.1/24"), address("2001:db8:1::1/64")};
  p1.tx_checksum_offload = true;  // the offload branches of every path that writes headers

  dp::AssemblyConfig ac;
  ac.name = tag;
  ac.interfaces.ports = {p0, p1};
  ac.interfaces.listeners = {at("10.90.0.1:3478"), at("[2001:db8::1]:3478")};
  ac.interfaces.stream_listeners = {at("10.90.0.1:3478"), at("10.90.0.1:443"), at("[2001:db8::1]:443")};
  ac.pools = {plane->pool_, plane->pool_};
  ac.rx_queues = {1, 1};
  ac.workers = 1;
  ac.rcu = true;
  ac.table_size = 1024;
  ac.relay_addresses = {ip(kRelayIp), ip(kRelayIp1), ip(kRelayIp6), ip(kRelayIp6b)};
  ac.settings.software = "tern fuzz";
  ac.settings.max_bps = kMaxBps;
  ac.settings.allocation_pps = kAllocationPps;
  ac.punt_ring_size = kWorkerRingSize;
  ac.hold_ring_size = kWorkerRingSize;
  ac.trace_ring_size = kWorkerRingSize;
  ac.neighbours_per_port = 64;
  ac.streams = true;
  // Also the from_stream ring: a burst from a stream client holds at most 15 messages.
  ac.stream_ring_size = kWorkerRingSize;
  // Fixed seeds: two planes fed the same inputs send the same bytes.
  ac.seeds = dp::WorkerSeeds{42, 0x1000, 0x2000};
  plane->dp_ = dp::Assembly::build(ac, plane->clock_, error);
  if (!plane->dp_) return nullptr;
  // The worker is an RCU reader like on its lcore (Worker::run), reporting quiescent states from
  // poll().
  rte_rcu_qsbr_thread_online(plane->dp_->rcu(), 0);
  if (!plane->publish(error)) return nullptr;
  return plane;
}

bool WorkerPlane::build_ports(const std::string& tag, std::string& error) {
  pool_size_ = kPoolSize;
  pool_ = rte_pktmbuf_pool_create((tag + "_pool").c_str(), pool_size_, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  if (pool_ == nullptr) {
    error = "no packet pool";
    return false;
  }
  for (unsigned p = 0; p < 2; ++p) {
    const std::string name = tag + "_p" + std::to_string(p);
    rx_[p] = rte_ring_create((name + "_rx").c_str(), kRxRingSize, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    for (unsigned q = 0; q < 2; ++q)
      tx_[p][q] = rte_ring_create((name + "_tx" + std::to_string(q)).c_str(), kTxRingSize, 0,
                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!rx_[p] || !tx_[p][0] || !tx_[p][1]) {
      error = "no rings for port " + name;
      return false;
    }
    const int id = rte_eth_from_rings(name.c_str(), &rx_[p], 1, tx_[p], 2, 0);
    if (id < 0) {
      error = "cannot create net_ring port " + name;
      return false;
    }
    port_ids_[p] = static_cast<uint16_t>(id);
    port_names_[p] = "net_ring_" + name;
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(port_ids_[p], 1, 2, &conf) != 0 ||
        rte_eth_rx_queue_setup(port_ids_[p], 0, kRxRingSize, 0, nullptr, pool_) != 0 ||
        rte_eth_tx_queue_setup(port_ids_[p], 0, kTxRingSize, 0, nullptr) != 0 ||
        rte_eth_tx_queue_setup(port_ids_[p], 1, kTxRingSize, 0, nullptr) != 0 ||
        rte_eth_dev_start(port_ids_[p]) != 0) {
      error = "cannot start net_ring port " + name;
      return false;
    }
  }
  return true;
}

// worker_layout.hpp's neighbours and allocations, through the tables' own writer.
bool WorkerPlane::publish(std::string& error) {
  dp::Neighbours& n = dp_->neighbours();
  n.learn(0, dp::ipv4_be(ip(kClientIp)), mac(kClientMac), kNow);
  n.learn(0, dp::ipv4_be(ip(kGatewayIp)), mac(kGatewayMac), kNow);
  n.learn(0, dp::Ip6::of(ip(kClientIp6)), mac(kClientMac), kNow);
  n.learn(1, dp::ipv4_be(ip(kPeerIp)), mac(kPeerMac), kNow);
  n.learn(1, dp::Ip6::of(ip(kPeerIp6)), mac(kPeerMac), kNow);

  dp::TableWriter& w = dp_->table_writer();
  bool ok = true;
  const auto allocate = [&](dp::AllocId id, std::string_view client, std::string_view server,
                            std::string_view relayed, dp::TableTime expires = kExpires,
                            dp::StreamId stream = dp::StreamId::none, bool dont_fragment = false) {
    dp::AllocationEntry e;
    e.five_tuple = {at(client), at(server),
                    stream == dp::StreamId::none ? dp::Transport::udp : dp::Transport::tcp};
    e.stream = stream;
    e.relayed = at(relayed);
    e.expires = expires;
    e.dont_fragment = dont_fragment;
    ok = ok && w.add_allocation(id, e) == dp::WriteResult::ok;
  };
  const auto permit = [&](dp::AllocId id, std::string_view peer) {
    ok = ok && w.set_permission(id, ip(peer), kExpires) == dp::WriteResult::ok;
  };
  const auto bind = [&](dp::AllocId id, uint16_t channel, std::string_view peer,
                        dp::TableTime expires = kExpires) {
    ok = ok && w.set_channel(id, channel, at(peer), expires) == dp::WriteResult::ok;
  };

  allocate(kAlloc, "10.90.0.10:5000", "10.90.0.1:3478", "10.90.0.2:50000");
  permit(kAlloc, kPeerIp);
  permit(kAlloc, kFarPeerIp);
  permit(kAlloc, kUnresolvedPeerIp);
  permit(kAlloc, kRelayIp1);
  bind(kAlloc, kChannel, "192.0.2.50:7000");
  bind(kAlloc, kHairpinChannel, "192.0.2.1:50001");
  bind(kAlloc, kExpiredChannel, "192.0.2.50:7001", kExpired);
  bind(kAlloc, kUnresolvedChannel, "192.0.2.60:7000");
  allocate(kAlloc2, "198.51.100.20:6000", "10.90.0.1:3478", "192.0.2.1:50001", kExpires,
           dp::StreamId::none, true);
  permit(kAlloc2, kRelayIp);
  permit(kAlloc2, kFarPeerIp);
  allocate(kAlloc6, "[2001:db8::10]:5000", "[2001:db8::1]:3478", "[2001:db8:1::1]:50010");
  permit(kAlloc6, kPeerIp6);
  permit(kAlloc6, kFarPeerIp6);
  permit(kAlloc6, kUnresolvedPeerIp6);
  permit(kAlloc6, kRelayIp6);
  bind(kAlloc6, kChannel, "[2001:db8:1::50]:7000");
  allocate(kAlloc46, "10.90.0.10:5001", "10.90.0.1:3478", "[2001:db8:1::1]:50012");
  permit(kAlloc46, kPeerIp6);
  bind(kAlloc46, kChannel46, "[2001:db8:1::50]:7002");
  allocate(kAlloc64, "[2001:db8::10]:5002", "[2001:db8::1]:3478", "192.0.2.1:50013");
  permit(kAlloc64, kPeerIp);
  bind(kAlloc64, kChannel64, "192.0.2.50:7003");
  allocate(kAlloc6b, "[2001:db8::10]:5003", "[2001:db8::1]:3478", "[2001:db8::2]:50014");
  permit(kAlloc6b, kRelayIp6b);
  allocate(kAllocOld, "10.90.0.10:5005", "10.90.0.1:3478", "10.90.0.2:50005", kExpired);
  permit(kAllocOld, kPeerIp);
  bind(kAllocOld, kChannel, "192.0.2.50:7000");
  allocate(kStream4, "10.90.0.10:40000", "10.90.0.1:443", "10.90.0.2:50002", kExpires, kStreamId4);
  permit(kStream4, kPeerIp);
  permit(kStream4, kFarPeerIp);
  bind(kStream4, kHairpinChannel, "192.0.2.50:7000");
  allocate(kStream6, "[2001:db8::10]:40001", "[2001:db8::1]:443", "[2001:db8:1::1]:50016", kExpires,
           kStreamId6);
  permit(kStream6, kPeerIp6);
  bind(kStream6, kChannel, "[2001:db8:1::50]:7000");
  if (!ok) error = "the tables refused an entry of worker_layout.hpp";
  return ok;
}

WorkerPlane::~WorkerPlane() {
  if (dp_) rte_rcu_qsbr_thread_offline(dp_->rcu(), 0);
  dp_.reset();
  drain();
  for (unsigned p = 0; p < 2; ++p) {
    if (!port_names_[p].empty()) {
      rte_eth_dev_stop(port_ids_[p]);
      rte_eth_dev_close(port_ids_[p]);
      rte_vdev_uninit(port_names_[p].c_str());
    }
    drain_ring(rx_[p], [](rte_mbuf*) {});
    rte_ring_free(rx_[p]);
    rte_ring_free(tx_[p][0]);
    rte_ring_free(tx_[p][1]);
  }
  rte_mempool_free(pool_);
}

void WorkerPlane::trace(uint8_t trace) {
  if (trace == trace_) return;
  trace_ = trace;
  if (trace == kTraceClient4)
    dp_->trace().set_trace(ip(kClientIp));
  else if (trace == kTraceClient6)
    dp_->trace().set_trace(ip(kClientIp6));
  else
    dp_->trace().set_trace(std::nullopt);
}

// One segment, or two (the frame split in the middle) for a frame marked segmented: a NIC
// with scattered RX delivers a chain.
rte_mbuf* WorkerPlane::mbuf_of(const Frame& f) {
  const size_t first = f.segmented ? f.bytes.size() / 2 : f.bytes.size();
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) return nullptr;
  char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(first));
  if (d == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  if (first > 0) std::memcpy(d, f.bytes.data(), first);
  if (f.segmented) {
    rte_mbuf* tail = rte_pktmbuf_alloc(pool_);
    char* t = tail != nullptr ? rte_pktmbuf_append(tail, static_cast<uint16_t>(f.bytes.size() - first)) : nullptr;
    if (t == nullptr || rte_pktmbuf_chain(m, tail) != 0) {
      rte_pktmbuf_free(tail);
      rte_pktmbuf_free(m);
      return nullptr;
    }
    if (f.bytes.size() > first) std::memcpy(t, f.bytes.data() + first, f.bytes.size() - first);
  }
  m->ol_flags = rx_flags(f.ip_checksum, f.l4_checksum);
  return m;
}

void WorkerPlane::inject(const std::vector<Frame>& frames) {
  for (const Frame& f : frames) {
    rte_mbuf* m = mbuf_of(f);
    if (m == nullptr) continue;
    rte_ring* ring = nullptr;
    switch (f.source) {
      case Source::port0:
      case Source::port1: {
        const unsigned p = static_cast<unsigned>(f.source);
        m->port = port_ids_[p];
        ring = rx_[p];
        break;
      }
      case Source::stream4:
      case Source::stream6: {
        const bool v4 = f.source == Source::stream4;
        const dp::StreamId stream = v4 ? kStreamId4 : kStreamId6;
        dp::stream_meta(m, dp_->stream_offset()) = {
            v4 ? kStream4 : kStream6,
            f.stale ? dp::StreamId{static_cast<uint32_t>(stream) + 1} : stream};
        ring = dp_->from_stream_rings()[0];
        break;
      }
    }
    if (rte_ring_enqueue(ring, m) != 0) rte_pktmbuf_free(m);
  }
}

void WorkerPlane::run(const dp::Instant& now, dp::Worker::Mode mode) {
  dp::Worker& worker = dp_->worker(0);
  rte_ring* from_stream = dp_->from_stream_rings()[0];
  // A burst of kMaxFrames per source is one poll; more would take another.
  for (int i = 0; i < 4; ++i) {
    worker.poll(now, mode);
    if (rte_ring_empty(rx_[0]) && rte_ring_empty(rx_[1]) && rte_ring_empty(from_stream)) break;
  }
}

Outputs WorkerPlane::drain() {
  Outputs out;
  if (dp_) dp_->worker(0).flush();
  for (unsigned p = 0; p < 2; ++p) {
    for (unsigned q = 0; q < 2; ++q) {
      drain_ring(tx_[p][q], [&](rte_mbuf* m) {
        Emitted e;
        e.where = Emitted::Where::tx;
        e.port = static_cast<uint8_t>(p);
        e.queue = static_cast<uint8_t>(q);
        e.ol_flags = m->ol_flags;
        e.l2_len = m->l2_len;
        e.l3_len = m->l3_len;
        e.bytes = bytes_of(m);
        out.packets.push_back(std::move(e));
      });
    }
  }
  if (!dp_) return out;
  drain_ring(dp_->punt_ring(0), [&](rte_mbuf* m) {
    const dp::PuntMeta meta = dp::punt_meta(m, dp_->punt_offset());
    Emitted e;
    e.where = Emitted::Where::punt;
    e.port = meta.port == port_ids_[0] ? 0 : 1;
    e.reason = static_cast<uint8_t>(meta.reason);
    e.bytes = bytes_of(m);
    out.packets.push_back(std::move(e));
  });
  drain_ring(dp_->hold_ring(0), [&](rte_mbuf* m) {
    Emitted e;
    e.where = Emitted::Where::hold;
    e.ol_flags = m->ol_flags;
    e.bytes = bytes_of(m);
    out.packets.push_back(std::move(e));
  });
  drain_ring(dp_->exception_rings()[0], [&](rte_mbuf* m) {
    Emitted e;
    e.where = Emitted::Where::exception;
    e.bytes = bytes_of(m);
    out.packets.push_back(std::move(e));
  });
  drain_ring(dp_->to_stream_rings()[0], [&](rte_mbuf* m) {
    const dp::StreamMeta meta = dp::stream_meta(m, dp_->stream_offset());
    Emitted e;
    e.where = Emitted::Where::to_stream;
    e.allocation = dp::slot_index(meta.allocation);
    e.stream = static_cast<uint32_t>(meta.stream);
    e.bytes = bytes_of(m);
    out.packets.push_back(std::move(e));
  });
  dp::TraceRecord records[32];
  unsigned n;
  while ((n = rte_ring_sc_dequeue_burst_elem(dp_->trace_ring(0), records, sizeof(dp::TraceRecord),
                                             std::size(records), nullptr)) > 0)
    out.trace_records += n;
  return out;
}

}  // namespace tern::fuzz
