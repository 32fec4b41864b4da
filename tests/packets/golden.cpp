#include "tests/packets/golden.hpp"

#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include <cstdio>

#include "crypto/engine.hpp"
#include "dataplane/worker/punt.hpp"

namespace tern::test {
namespace {

int serial = 0;

InterfaceAddress address(const char* text) { return *InterfaceAddress::parse(text); }

}  // namespace

std::string hex(const Bytes& b) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < b.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    s += buf;
    if (i % 16 == 15) s += '\n';
    else if (i % 2 == 1) s += ' ';
  }
  return s;
}

void Golden::build(const GoldenOptions& options) {
  TearDown();
  options_ = options;
  const std::string tag = "g" + std::to_string(serial++);
  pool_size_ = 511;
  pool_ = rte_pktmbuf_pool_create((tag + "_pool").c_str(), pool_size_, 0, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(pool_, nullptr);

  dp::InterfacesConfig ic;
  for (unsigned p = 0; p < 2; ++p) {
    const std::string name = tag + "_p" + std::to_string(p);
    rx_[p] = rte_ring_create((name + "_rx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    for (unsigned q = 0; q < 2; ++q)
      tx_[p][q] = rte_ring_create((name + "_tx" + std::to_string(q)).c_str(), 256, 0,
                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_TRUE(rx_[p] && tx_[p][0] && tx_[p][1]);
    const int id = rte_eth_from_rings(name.c_str(), &rx_[p], 1, tx_[p], 2, 0);
    ASSERT_GE(id, 0);
    port_ids_[p] = static_cast<uint16_t>(id);
    port_names_[p] = "net_ring_" + name;
    rte_eth_conf conf{};
    ASSERT_EQ(rte_eth_dev_configure(port_ids_[p], 1, 2, &conf), 0);
    ASSERT_EQ(rte_eth_rx_queue_setup(port_ids_[p], 0, 256, 0, nullptr, pool_), 0);
    for (uint16_t q = 0; q < 2; ++q)
      ASSERT_EQ(rte_eth_tx_queue_setup(port_ids_[p], q, 256, 0, nullptr), 0);
    ASSERT_EQ(rte_eth_dev_start(port_ids_[p]), 0);
  }
  dp::PortConfig p0;
  p0.port_id = port_ids_[0];
  p0.mac = kPort0Mac.word();
  p0.addresses = {address("10.90.0.1/24"), address("10.90.0.2/24")};
  p0.gateway = IpAddress::parse(kGatewayIp);
  p0.tx_checksum_offload = options.offload;
  dp::PortConfig p1;
  p1.port_id = port_ids_[1];
  p1.mac = kPort1Mac.word();
  p1.addresses = {address("192.0.2.1/24")};
  p1.tx_checksum_offload = options.offload;
  if (options.ipv6) {
    p0.addresses.push_back(address("2001:db8::1/64"));
    p0.addresses.push_back(address("2001:db8::2/64"));
    p0.gateway6 = IpAddress::parse("fe80::fe");
    p1.addresses.push_back(address("2001:db8:1::1/64"));
  }
  ic.ports = {p0, p1};
  ic.listeners = {*TransportAddress::parse("10.90.0.1:3478")};
  if (options.ipv6) ic.listeners.push_back(*TransportAddress::parse("[2001:db8::1]:3478"));
  if (options.streams) {
    ic.stream_listeners = {*TransportAddress::parse("10.90.0.1:3478"), *TransportAddress::parse("10.90.0.1:443")};
    if (options.ipv6) ic.stream_listeners.push_back(*TransportAddress::parse("[2001:db8::1]:443"));
  }
  dp::AssemblyConfig ac;
  ac.name = tag;
  ac.interfaces = ic;
  ac.pools = {pool_, pool_};
  ac.rx_queues = {1, 1};
  ac.workers = 1;
  ac.rcu = false;
  ac.table_size = 1024;
  ac.relay_addresses = {*IpAddress::parse(kRelayIp), *IpAddress::parse(kRelayIp1)};
  if (options.ipv6)
    ac.relay_addresses.insert(ac.relay_addresses.end(),
                              {*IpAddress::parse("2001:db8::2"), *IpAddress::parse("2001:db8:1::1")});
  ac.settings.software = options.software;
  ac.punt_ring_size = options.punt_ring_size;
  ac.hold_ring_size = options.hold_ring_size;
  ac.trace_ring_size = options.trace_ring_size;
  ac.neighbours_per_port = 64;
  ac.held_per_neighbour = options.held_per_neighbour;
  ac.held_total = options.held_total;
  ac.streams = options.streams;
  ac.stream_ring_size = options.stream_ring_size;
  ac.seeds = dp::WorkerSeeds{kTransactionSeed, kFirstIpId, 0x2000};
  std::string error;
  dp_ = dp::Assembly::build(ac, clock_, error);
  ASSERT_TRUE(dp_) << error;
  interfaces_ = &dp_->interfaces();
  neighbours_ = &dp_->neighbours();
  worker_ = &dp_->worker(0);
  control_ = &dp_->control();
  trace_ = &dp_->trace();
  punt_ring_ = dp_->punt_ring(0);
  hold_ring_ = dp_->hold_ring(0);
  trace_ring_ = dp_->trace_ring(0);
  punt_offset_ = dp_->punt_offset();
  neighbours_->learn(0, ip_be(kClientIp), kClientMac.word(), kNow);
  neighbours_->learn(0, ip_be(kGatewayIp), kGatewayMac.word(), kNow);
  neighbours_->learn(1, ip_be(kPeerIp), kPeerMac.word(), kNow);

  // kAlloc: on-link client, relayed on port 0's relay address, a permission for both peers and
  // a channel to the on-link one. kAlloc2: a client behind the gateway, relayed on port 1.
  dp::AllocationEntry e;
  e.five_tuple = {*TransportAddress::parse("10.90.0.10:5000"),
                  *TransportAddress::parse("10.90.0.1:3478"), dp::Transport::udp};
  e.relayed = *TransportAddress::parse("10.90.0.2:50000");
  e.expires = kExpires;
  ASSERT_EQ(writer().add_allocation(kAlloc, e), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kPeerIp), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_permission(kAlloc, *IpAddress::parse(kFarPeerIp), kExpires), dp::WriteResult::ok);
  ASSERT_EQ(writer().set_channel(kAlloc, kChannel, *TransportAddress::parse("192.0.2.50:7000"), kExpires),
            dp::WriteResult::ok);
  dp::AllocationEntry e2;
  e2.five_tuple = {*TransportAddress::parse("198.51.100.20:6000"),
                   *TransportAddress::parse("10.90.0.1:3478"), dp::Transport::udp};
  e2.relayed = *TransportAddress::parse("192.0.2.1:50001");
  e2.expires = kExpires;
  ASSERT_EQ(writer().add_allocation(kAlloc2, e2), dp::WriteResult::ok);
}

void Golden::TearDown() {
  // The workers flush what they hold onto the TX rings; the punt and hold rings are emptied.
  dp_.reset();
  worker_ = nullptr;
  control_ = nullptr;
  trace_ = nullptr;
  neighbours_ = nullptr;
  interfaces_ = nullptr;
  punt_ring_ = hold_ring_ = trace_ring_ = nullptr;
  // Nothing may stay in flight: every buffer goes back to the pool (a leak fails the test).
  if (pool_ != nullptr) {
    for (unsigned p = 0; p < 2; ++p) {
      void* m;
      while (rx_[p] && rte_ring_dequeue(rx_[p], &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
    drain_tx();
  }
  for (unsigned p = 0; p < 2; ++p) {
    if (!port_names_[p].empty()) {
      rte_eth_dev_stop(port_ids_[p]);
      rte_eth_dev_close(port_ids_[p]);
      rte_vdev_uninit(port_names_[p].c_str());
      port_names_[p].clear();
    }
    rte_ring_free(rx_[p]);
    rte_ring_free(tx_[p][0]);
    rte_ring_free(tx_[p][1]);
    rx_[p] = tx_[p][0] = tx_[p][1] = nullptr;
  }
  if (pool_ != nullptr) {
    EXPECT_EQ(rte_mempool_avail_count(pool_), pool_size_) << "packet buffers leaked";
    rte_mempool_free(pool_);
    pool_ = nullptr;
  }
}

void Golden::inject(unsigned port, const Bytes& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  ASSERT_NE(m, nullptr);
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  ASSERT_NE(p, nullptr);
  std::memcpy(p, frame.data(), frame.size());
  m->port = port_ids_[port];
  if (rte_ring_enqueue(rx_[port], m) != 0) {
    rte_pktmbuf_free(m);
    FAIL() << "RX ring full";
  }
}

std::vector<Sent> Golden::run(dp::Worker::Mode mode) {
  worker_->poll(now_, mode);
  return drain_tx();
}

std::vector<Sent> Golden::drain_tx() {
  std::vector<Sent> out;
  for (unsigned p = 0; p < 2; ++p) {
    for (uint16_t q = 0; q < 2; ++q) {
      void* obj;
      while (tx_[p][q] != nullptr && rte_ring_dequeue(tx_[p][q], &obj) == 0) {
        auto* m = static_cast<rte_mbuf*>(obj);
        const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
        out.push_back({p, q, Bytes(d, d + rte_pktmbuf_data_len(m)), m->ol_flags, m->l2_len, m->l3_len});
        rte_pktmbuf_free(m);
      }
    }
  }
  return out;
}

dp::AllocationTrafficValues Golden::traffic(dp::AllocId id) const {
  return dp_->allocation_traffic(id);
}

PacketBuilder Golden::from_client(const Bytes& payload) const {
  PacketBuilder b;
  b.ether(kClientMac, kPort0Mac).ipv4(kClientIp, kListenerIp).udp(kClientPort, kListenerPort).payload(payload);
  return b;
}

PacketBuilder Golden::from_peer(const Bytes& payload, uint16_t relay_port) const {
  PacketBuilder b;
  b.ether(kPeerMac, kPort1Mac).ipv4(kPeerIp, kRelayIp).udp(kPeerPort, relay_port).payload(payload);
  return b;
}

PacketBuilder Golden::to_peer(const Bytes& data, uint16_t id) const {
  PacketBuilder b;
  b.ether(kPort1Mac, kPeerMac).ipv4(kRelayIp, kPeerIp).ttl(63).id(id).udp(kRelayPort, kPeerPort).payload(data);
  return b;
}

PacketBuilder Golden::to_client(const Bytes& payload, uint16_t id) const {
  PacketBuilder b;
  b.ether(kPort0Mac, kClientMac).ipv4(kListenerIp, kClientIp).ttl(63).id(id).udp(kListenerPort, kClientPort).payload(payload);
  return b;
}

}  // namespace tern::test
