// The data plane's own view of the network: checksum arithmetic (RFC 1071/1624), interfaces and
// routes, the neighbour table's single-writer life cycle, the rate limiter.

#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include <random>
#include <vector>

#include "dataplane/checksum.hpp"
#include "dataplane/interfaces.hpp"
#include "dataplane/neighbours.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/rate_limit.hpp"
#include "dataplane/runtime.hpp"

namespace tern::dp {
namespace {

uint32_t be(const char* ip) { return rte_cpu_to_be_32(IpAddress::parse(ip)->v4_host_order()); }

// RFC 1624 §3: removing a region from a sum and adding it back in another place leaves exactly
// the sum computed from scratch, at odd and even offsets alike.
TEST(Checksum, RegionsAtAnyOffsetAddUpToTheWhole) {
  std::mt19937 rng(1);
  for (size_t len = 1; len < 64; ++len) {
    std::vector<uint8_t> b(len);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    const uint16_t whole = rte_raw_cksum(b.data(), len);
    for (size_t cut = 0; cut <= len; ++cut) {
      const uint16_t head = csum::region(b.data(), cut, false);
      const uint16_t tail = csum::region(b.data() + cut, len - cut, cut % 2 == 1);
      EXPECT_EQ(csum::fold(uint32_t{head} + tail) % 0xffff, whole % 0xffff) << len << " " << cut;
      EXPECT_EQ(csum::sub(whole, tail) % 0xffff, head % 0xffff);
    }
  }
}

TEST(Checksum, HeaderSumsMatchDpdk) {
  rte_ipv4_hdr ip{};
  Ipv4Fields f;
  f.src = be("10.90.0.2");
  f.dst = be("192.0.2.50");
  f.total_length = rte_cpu_to_be_16(200);
  f.id = rte_cpu_to_be_16(0xbeef);
  f.tos = 0xb9;
  f.ttl = 63;
  f.dont_fragment = true;
  write_ipv4(&ip, f);
  EXPECT_EQ(ipv4_checksum(f), rte_ipv4_cksum(&ip));
  ip.hdr_checksum = ipv4_checksum(f);
  EXPECT_EQ(csum::ipv4_header20(&ip), 0xffff);
  // The UDP envelope is the pseudo-header sum plus the header's ports and length.
  const uint16_t len = rte_cpu_to_be_16(180);
  EXPECT_EQ(csum::udp_envelope(f.src, f.dst, 0x1234, 0x5678, len),
            csum::fold(uint32_t{rte_ipv4_phdr_cksum(&ip, 0)} + 0x1234 + 0x5678 + len));
  EXPECT_EQ(csum::udp_field(0xffff), 0xffff);  // a computed zero is sent as all ones
}

InterfacesConfig two_ports() {
  InterfacesConfig c;
  PortConfig a;
  a.port_id = 3;
  a.addresses = {*InterfaceAddress::parse("10.90.0.1/24"), *InterfaceAddress::parse("10.90.0.2/24"),
                 *InterfaceAddress::parse("172.16.0.1/16")};
  a.gateway = IpAddress::parse("10.90.0.254");
  PortConfig b;
  b.port_id = 5;
  b.addresses = {*InterfaceAddress::parse("192.0.2.1/24")};
  b.gateway = IpAddress::parse("192.0.2.254");
  c.ports = {a, b};
  c.listeners = {*TransportAddress::parse("10.90.0.1:3478"), *TransportAddress::parse("0.0.0.0:443")};
  return c;
}

TEST(Interfaces, RoutesLocalAddressesAndListeners) {
  std::string error;
  const auto i = Interfaces::create(two_ports(), error);
  ASSERT_TRUE(i) << error;
  EXPECT_EQ(i->index_of(5), 1u);
  EXPECT_EQ(i->index_of(4), kNoPort);
  EXPECT_TRUE(i->is_local(be("10.90.0.2")));
  EXPECT_TRUE(i->is_local(be("192.0.2.1")));
  EXPECT_FALSE(i->is_local(be("10.90.0.3")));
  EXPECT_TRUE(i->owns(0, be("172.16.0.1")));
  EXPECT_FALSE(i->owns(1, be("172.16.0.1")));
  EXPECT_TRUE(i->is_listener(be("10.90.0.1"), rte_cpu_to_be_16(3478)));
  EXPECT_FALSE(i->is_listener(be("10.90.0.2"), rte_cpu_to_be_16(3478)));
  EXPECT_TRUE(i->is_listener(be("192.0.2.1"), rte_cpu_to_be_16(443)));   // wildcard
  EXPECT_FALSE(i->is_listener(be("192.0.2.9"), rte_cpu_to_be_16(443)));  // not ours

  EXPECT_EQ(i->route(be("10.90.0.77")).port, 0u);
  EXPECT_EQ(i->route(be("10.90.0.77")).next_hop, be("10.90.0.77"));
  EXPECT_EQ(i->route(be("172.16.200.1")).port, 0u);
  EXPECT_EQ(i->route(be("192.0.2.9")).port, 1u);
  const Route far = i->route(be("8.8.8.8"));  // the first port with a gateway
  EXPECT_EQ(far.port, 0u);
  EXPECT_EQ(far.next_hop, be("10.90.0.254"));
  EXPECT_EQ(i->source_for(0, be("172.16.9.9")), be("172.16.0.1"));
}

TEST(Interfaces, MisconfigurationIsRefused) {
  std::string error;
  auto c = two_ports();
  c.ports[0].gateway = IpAddress::parse("10.91.0.1");
  EXPECT_FALSE(Interfaces::create(c, error));
  EXPECT_NE(error.find("gateway"), std::string::npos);
  c = two_ports();
  c.listeners.push_back(*TransportAddress::parse("10.90.0.9:3478"));
  EXPECT_FALSE(Interfaces::create(c, error));
  c = two_ports();
  c.ports[1].addresses.push_back(*InterfaceAddress::parse("10.90.0.1/24"));
  EXPECT_FALSE(Interfaces::create(c, error));
  c = two_ports();
  c.ports[1].addresses.push_back(*InterfaceAddress::parse("2001:db8::1/64"));
  EXPECT_FALSE(Interfaces::create(c, error));
  EXPECT_NE(error.find("IPv4 only"), std::string::npos);
}

TEST(Neighbours, LearnChangeForgetAndReuseAfterTheGracePeriod) {
  const size_t size = rte_rcu_qsbr_get_memsize(1);
  auto* rcu = static_cast<rte_rcu_qsbr*>(rte_zmalloc("neighbours_rcu", size, 64));
  ASSERT_EQ(rte_rcu_qsbr_init(rcu, 1), 0);
  ASSERT_EQ(rte_rcu_qsbr_thread_register(rcu, 0), 0);
  rte_rcu_qsbr_thread_online(rcu, 0);
  std::string error;
  auto n = Neighbours::create(2, 64, 0, rcu, error);
  ASSERT_TRUE(n) << error;

  MacWord mac = 0;
  EXPECT_FALSE(n->find(0, be("10.0.0.1"), mac));
  EXPECT_EQ(n->learn(0, be("10.0.0.1"), 0x111111, 5), Neighbours::Learned::added);
  EXPECT_EQ(n->learn(0, be("10.0.0.1"), 0x111111, 6), Neighbours::Learned::confirmed);
  ASSERT_TRUE(n->find(0, be("10.0.0.1"), mac));
  EXPECT_EQ(mac, 0x111111u);
  EXPECT_FALSE(n->find(1, be("10.0.0.1"), mac));  // per port
  EXPECT_EQ(n->learn(0, be("10.0.0.1"), 0x222222, 7), Neighbours::Learned::changed);
  ASSERT_TRUE(n->find(0, be("10.0.0.1"), mac));
  EXPECT_EQ(mac, 0x222222u);
  EXPECT_EQ(n->learn(0, 0, 0x1, 7), Neighbours::Learned::invalid);

  // Many addresses, some forgotten: they disappear at once, their entries stay bound to their
  // address until the reader has been quiescent.
  for (uint32_t i = 1; i <= 40; ++i)
    ASSERT_NE(n->learn(1, rte_cpu_to_be_32(0x0a000100 + i), i, 1), Neighbours::Learned::full) << i;
  for (uint32_t i = 1; i <= 40; i += 2) EXPECT_TRUE(n->forget(1, rte_cpu_to_be_32(0x0a000100 + i)));
  for (uint32_t i = 1; i <= 40; ++i)
    EXPECT_EQ(n->find(1, rte_cpu_to_be_32(0x0a000100 + i), mac), i % 2 == 0) << i;
  EXPECT_EQ(n->known().size(), 1u + 20u);
  n->reclaim();  // the reader has not been quiescent: nothing reusable yet
  rte_rcu_qsbr_quiescent(rcu, 0);
  n->reclaim();
  for (uint32_t i = 1; i <= 40; ++i)
    EXPECT_EQ(n->find(1, rte_cpu_to_be_32(0x0a000100 + i), mac), i % 2 == 0) << i;
  // Forgotten one learnt again; new ones take the freed entries.
  EXPECT_EQ(n->learn(1, rte_cpu_to_be_32(0x0a000101), 0x33, 9), Neighbours::Learned::added);
  for (uint32_t i = 100; i < 110; ++i)
    EXPECT_EQ(n->learn(1, rte_cpu_to_be_32(0x0a000100 + i), i, 9), Neighbours::Learned::added);
  for (uint32_t i = 2; i <= 40; i += 2) EXPECT_TRUE(n->find(1, rte_cpu_to_be_32(0x0a000100 + i), mac));

  n.reset();
  rte_rcu_qsbr_thread_offline(rcu, 0);
  rte_free(rcu);
}

// GCRA: a tenth of a second of max_bps as burst, then max_bps, per direction.
TEST(RateLimit, BurstThenSteadyRate) {
  RateLimit r;
  const uint64_t hz = 1'000'000;  // a 1 MHz clock keeps the arithmetic readable
  r.configure(8'000'000, hz);     // 1,000,000 bytes/s: one tick per byte; burst 100,000 ticks
  uint64_t now = 5'000'000;
  unsigned passed = 0;
  while (r.conforms(Direction::to_peer, 1000, now)) ++passed;
  EXPECT_EQ(passed, 101u);  // 100 ms of burst plus the one that starts it
  EXPECT_TRUE(r.conforms(Direction::to_client, 1000, now));  // the other bucket is untouched
  now += 1000;  // a millisecond buys a kilobyte
  EXPECT_TRUE(r.conforms(Direction::to_peer, 1000, now));
  EXPECT_FALSE(r.conforms(Direction::to_peer, 1000, now));
}

// The data plane's part of tern's configuration: the IPv4 gateway of each port.
TEST(RuntimeConfig, TakesTheDataPlanesPartOfTheConfiguration) {
  conf::Config c;
  c.dataplane.eal = {"-l", "0-1"};
  conf::DataplanePort p;
  p.device = "net_af_packet0,iface=veth0";
  p.addresses = {*InterfaceAddress::parse("10.90.0.1/24")};
  p.gateways = {*IpAddress::parse("2001:db8::1"), *IpAddress::parse("10.90.0.254")};
  c.dataplane.ports = {p};
  c.dataplane.table_size = 4096;
  c.listen.udp = {*TransportAddress::parse("10.90.0.1:3478")};
  c.relay.addresses = {*IpAddress::parse("10.90.0.1")};
  c.software = "tern";
  const RuntimeConfig r = runtime_config(c);
  EXPECT_EQ(r.eal, c.dataplane.eal);
  ASSERT_EQ(r.ports.size(), 1u);
  EXPECT_EQ(r.ports[0].device, p.device);
  EXPECT_EQ(r.ports[0].gateway, IpAddress::parse("10.90.0.254"));
  EXPECT_EQ(r.listeners, c.listen.udp);
  EXPECT_EQ(r.relay_addresses, c.relay.addresses);
  EXPECT_EQ(r.table_size, 4096u);
  EXPECT_EQ(r.mbufs, conf::kDefaultMbufs);
  EXPECT_EQ(r.software, "tern");
}

}  // namespace
}  // namespace tern::dp
