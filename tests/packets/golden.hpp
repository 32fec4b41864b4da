#pragma once
// The golden-packet fixture: two ring-backed ports (rte_eth_from_rings), the real tables,
// interfaces, neighbour table, one Worker and the ControlPort, all on the test thread. A test
// injects frames into a port's RX ring, runs one worker iteration, and compares what appears on
// the TX rings with frames built by PacketBuilder, byte for byte.
//
//   port 0  02:00:00:00:00:01  10.90.0.1/24 (listener :3478), 10.90.0.2/24 (relay address 0)
//           gateway 10.90.0.254; client 10.90.0.10 on-link; 198.51.100.0/24 etc. via the gateway
//   port 1  02:00:00:00:01:01  192.0.2.1/24 (relay address 1); peer 192.0.2.50 on-link
//
// With GoldenOptions::ipv6 the ports have IPv6 addresses as well (golden6.hpp):
//
//   port 0  2001:db8::1/64 (listener [..]:3478), 2001:db8::2/64 (relay address 2)
//           gateway fe80::fe (link-local); client 2001:db8::10 on-link
//   port 1  2001:db8:1::1/64 (relay address 3); peer 2001:db8:1::50 on-link
//
// TX queue 0 of each port is the worker's, TX queue 1 the control lcore's.

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/setup/assembly.hpp"
#include "tests/packets/packet_builder.hpp"

namespace tern::test {

inline const Mac kPort0Mac = Mac::of("02:00:00:00:00:01");
inline const Mac kPort1Mac = Mac::of("02:00:00:00:01:01");
inline const Mac kClientMac = Mac::of("02:00:00:00:00:10");
inline const Mac kGatewayMac = Mac::of("02:00:00:00:00:fe");
inline const Mac kPeerMac = Mac::of("02:00:00:00:01:50");
inline const Mac kBroadcast = Mac::of("ff:ff:ff:ff:ff:ff");
inline const Mac kZeroMac = Mac::of("00:00:00:00:00:00");

inline constexpr std::string_view kListenerIp = "10.90.0.1";
inline constexpr uint16_t kListenerPort = 3478;
inline constexpr std::string_view kRelayIp = "10.90.0.2";
inline constexpr std::string_view kRelayIp1 = "192.0.2.1";
inline constexpr std::string_view kGatewayIp = "10.90.0.254";
inline constexpr std::string_view kClientIp = "10.90.0.10";
inline constexpr uint16_t kClientPort = 5000;
inline constexpr std::string_view kRemoteClientIp = "198.51.100.20";  // behind the gateway
inline constexpr uint16_t kRemoteClientPort = 6000;
inline constexpr std::string_view kPeerIp = "192.0.2.50";  // on-link on port 1
inline constexpr uint16_t kPeerPort = 7000;
inline constexpr std::string_view kFarPeerIp = "203.0.113.9";  // behind the gateway
inline constexpr uint16_t kFarPeerPort = 8000;
inline constexpr uint16_t kRelayPort = 50000;   // allocation kAlloc on kRelayIp
inline constexpr uint16_t kRelayPort1 = 50001;  // allocation kAlloc2 on kRelayIp1
inline constexpr uint16_t kChannel = 0x4001;    // kAlloc: bound to kPeerIp:kPeerPort

inline constexpr dp::AllocId kAlloc{7};   // client kClientIp:kClientPort, relayed kRelayIp:kRelayPort
inline constexpr dp::AllocId kAlloc2{9};  // client kRemoteClientIp:..., relayed kRelayIp1:kRelayPort1

inline constexpr dp::TableTime kNow = 100;
inline constexpr dp::TableTime kExpires = 700;
inline constexpr uint16_t kFirstIpId = 0x1000;
inline constexpr uint64_t kTransactionSeed = 42;
inline constexpr uint64_t kTscHz = 1'000'000'000;

struct Sent {
  unsigned port;
  uint16_t queue;
  Bytes bytes;
  uint64_t ol_flags;
  uint64_t l2_len;
  uint64_t l3_len;
};

struct GoldenOptions {
  bool offload = false;          // ports claim IPv4/UDP TX checksum offload
  std::string software;          // SOFTWARE in Binding responses
  unsigned punt_ring_size = 64;
  unsigned hold_ring_size = 64;
  bool ipv6 = false;             // IPv6 addresses, listener and relay addresses too
  unsigned trace_ring_size = 64;
  unsigned held_per_neighbour = dp::kHeldPerNeighbour;
  unsigned held_total = dp::kHeldTotal;
  bool streams = false;          // TCP listeners 10.90.0.1:3478 and :443 (and [2001:db8::1]:443 with ipv6)
  unsigned stream_ring_size = dp::kStreamRingSize;
};

// With GoldenOptions::streams, a TCP or TLS listener's port besides kListenerPort (the kernel's,
// behind the exception path).
inline constexpr uint16_t kTlsPort = 443;

class Golden : public testing::Test {
 protected:
  void SetUp() override { build(GoldenOptions{}); }
  void TearDown() override;
  // (Re)builds everything; the default allocations are published.
  void build(const GoldenOptions& options);

  void inject(unsigned port, const Bytes& frame);
  void inject(unsigned port, const std::vector<Bytes>& frames) {
    for (const Bytes& f : frames) inject(port, f);
  }
  // One worker iteration at now_, then everything on every TX ring.
  std::vector<Sent> run(dp::Worker::Mode mode = dp::Worker::Mode::bulk);
  std::vector<Sent> drain_tx();

  uint64_t counter(dp::CounterId id) const { return worker_->counters()[id].value(); }
  dp::AllocationTrafficValues traffic(dp::AllocId id) const;
  dp::TableWriter& writer() { return dp_->table_writer(); }
  // The writer ternd's control plane gets: the tables' writer that also resolves next hops ahead.
  dp::TableWriter& priming_writer() { return dp_->writer(); }
  // SOFTWARE and the rates, as a reload publishes them (no RCU here: the old set goes at once).
  dp::WorkerSettingsBoard& settings() { return dp_->worker_settings(); }

  // Frames as the network delivers them.
  PacketBuilder from_client(const Bytes& payload) const;         // client -> listener, port 0
  PacketBuilder from_peer(const Bytes& payload, uint16_t relay_port = kRelayPort) const;  // port 1
  // What the worker sends (IPv4 Identification n-th from kFirstIpId).
  PacketBuilder to_peer(const Bytes& data, uint16_t id) const;
  PacketBuilder to_client(const Bytes& payload, uint16_t id) const;

  GoldenOptions options_;
  rte_mempool* pool_ = nullptr;
  unsigned pool_size_ = 0;
  rte_ring* rx_[2] = {};
  rte_ring* tx_[2][2] = {};
  uint16_t port_ids_[2] = {};
  std::string port_names_[2];
  dp::Clock clock_{kTscHz, 0};
  std::unique_ptr<dp::Assembly> dp_;  // everything below is part of it
  dp::Interfaces* interfaces_ = nullptr;
  dp::Neighbours* neighbours_ = nullptr;
  dp::Worker* worker_ = nullptr;
  dp::ControlPort* control_ = nullptr;
  dp::TraceHub* trace_ = nullptr;
  rte_ring* punt_ring_ = nullptr;
  rte_ring* hold_ring_ = nullptr;
  rte_ring* trace_ring_ = nullptr;
  int punt_offset_ = -1;
  dp::Instant now_{kNow, 5 * kTscHz};
};

// Bytes side by side, for failure messages.
std::string hex(const Bytes& b);
#define EXPECT_FRAME(actual, expected) EXPECT_EQ(hex(actual), hex(expected))

}  // namespace tern::test
