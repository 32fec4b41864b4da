// The data plane's own view of the network: checksum arithmetic (RFC 1071/1624), interfaces and
// routes, the neighbour table's single-writer life cycle, the rate limiter.

#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include <random>
#include <vector>

#include "dataplane/wire/checksum.hpp"
#include "dataplane/tables/interfaces.hpp"
#include "dataplane/tables/neighbours.hpp"
#include "dataplane/wire/headers.hpp"
#include "dataplane/tables/rate_limit.hpp"
#include "dataplane/tables/worker_settings.hpp"
#include "dataplane/setup/runtime.hpp"

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
  c.ports[1].addresses.push_back(*InterfaceAddress::parse("ff02::1/64"));
  EXPECT_FALSE(Interfaces::create(c, error));
  EXPECT_NE(error.find("unicast address"), std::string::npos);
  c = two_ports();
  c.ports[1].addresses.push_back(*InterfaceAddress::parse("2001:db8::1/64"));
  c.ports[1].gateway6 = IpAddress::parse("2001:db9::1");
  EXPECT_FALSE(Interfaces::create(c, error));
  EXPECT_NE(error.find("IPv6 gateway"), std::string::npos);
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

Ip6 v6(const char* ip) { return Ip6::of(*IpAddress::parse(ip)); }

// RFC 8200 §8.1: the IPv6 pseudo-header sum, against DPDK's.
TEST(Checksum, Ipv6EnvelopeMatchesDpdk) {
  rte_ipv6_hdr ip{};
  v6("2001:db8::10").store(ip.src_addr);
  v6("2001:db8:1::20").store(ip.dst_addr);
  const uint16_t len = rte_cpu_to_be_16(180);
  ip.payload_len = len;
  ip.proto = IPPROTO_UDP;
  EXPECT_EQ(csum::udp6_envelope(ip.src_addr, ip.dst_addr, 0x1234, 0x5678, len),
            csum::fold(uint32_t{rte_ipv6_phdr_cksum(&ip, 0)} + 0x1234 + 0x5678 + len));
  EXPECT_EQ(csum::ipv6_pseudo(ip.src_addr, ip.dst_addr, len, IPPROTO_UDP), rte_ipv6_phdr_cksum(&ip, 0));
}

TEST(Ip6, SubnetsMasksAndGroups) {
  EXPECT_TRUE(v6("2001:db8::1").same_subnet(v6("2001:db8::ffff"), Ip6::mask_of(64)));
  EXPECT_FALSE(v6("2001:db8::1").same_subnet(v6("2001:db8:0:1::1"), Ip6::mask_of(64)));
  EXPECT_TRUE(v6("2001:db8::1").same_subnet(v6("2001:db8:0:1::1"), Ip6::mask_of(48)));
  EXPECT_EQ(Ip6::mask_of(0), Ip6{});
  EXPECT_EQ(Ip6::mask_of(121), v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff80"));
  EXPECT_EQ(v6("2001:db8::a:bc:1234").solicited_node(), v6("ff02::1:ffbc:1234"));
  EXPECT_TRUE(v6("fe80::1").link_local());
  EXPECT_FALSE(v6("fec0::1").link_local());
  EXPECT_TRUE(v6("ff02::1").multicast());
  EXPECT_EQ(v6("2001:db8::77").address(), *IpAddress::parse("2001:db8::77"));
}

TEST(Interfaces, Ipv6AddressesRoutesAndListeners) {
  auto c = two_ports();
  c.ports[0].addresses.push_back(*InterfaceAddress::parse("2001:db8::1/64"));
  c.ports[1].addresses.push_back(*InterfaceAddress::parse("2001:db8:1::1/64"));
  c.ports[1].gateway6 = IpAddress::parse("fe80::fe");  // a link-local router
  c.listeners.push_back(*TransportAddress::parse("[2001:db8::1]:3478"));
  c.listeners.push_back(*TransportAddress::parse("[::]:5349"));
  std::string error;
  const auto i = Interfaces::create(c, error);
  ASSERT_TRUE(i) << error;
  EXPECT_TRUE(i->has_ipv6());
  EXPECT_TRUE(i->is_local(v6("2001:db8:1::1")));
  EXPECT_FALSE(i->is_local(v6("2001:db8:1::2")));
  EXPECT_TRUE(i->owns(0, v6("2001:db8::1")));
  EXPECT_FALSE(i->owns(1, v6("2001:db8::1")));
  EXPECT_TRUE(i->is_listener(v6("2001:db8::1"), rte_cpu_to_be_16(3478)));
  EXPECT_FALSE(i->is_listener(v6("2001:db8:1::1"), rte_cpu_to_be_16(3478)));
  EXPECT_TRUE(i->is_listener(v6("2001:db8:1::1"), rte_cpu_to_be_16(5349)));  // [::]
  EXPECT_FALSE(i->is_listener(v6("2001:db8:1::9"), rte_cpu_to_be_16(5349)));
  EXPECT_FALSE(i->is_listener(be("10.90.0.1"), rte_cpu_to_be_16(5349)));  // families apart

  EXPECT_EQ(i->route(v6("2001:db8::77")).port, 0u);
  EXPECT_EQ(i->route(v6("2001:db8::77")).next_hop, v6("2001:db8::77"));
  const Route6 far = i->route(v6("2001:4860::8888"));
  EXPECT_EQ(far.port, 1u);
  EXPECT_EQ(far.next_hop, v6("fe80::fe"));
  EXPECT_EQ(i->source_for(1, v6("fe80::fe")), v6("2001:db8:1::1"));  // the port's first
  EXPECT_TRUE(i->solicited_for(0, v6("ff02::1:ff00:1")));
  EXPECT_FALSE(i->solicited_for(0, v6("ff02::1:ff00:2")));
  // An IPv4-only port has no IPv6 route.
  EXPECT_EQ(Interfaces::create(two_ports(), error)->route(v6("2001:db8::1")).port, kNoPort);
}

TEST(Neighbours, Ipv6LearnChangeForgetReuse) {
  std::string error;
  auto n = Neighbours::create(2, 256, 0, nullptr, error);
  ASSERT_TRUE(n) << error;
  MacWord mac = 0;
  EXPECT_FALSE(n->find(0, v6("2001:db8::10"), mac));
  EXPECT_EQ(n->learn(0, v6("2001:db8::10"), 0x111111, 5), Neighbours::Learned::added);
  EXPECT_EQ(n->learn(0, v6("2001:db8::10"), 0x111111, 6), Neighbours::Learned::confirmed);
  ASSERT_TRUE(n->find(0, v6("2001:db8::10"), mac));
  EXPECT_EQ(mac, 0x111111u);
  EXPECT_FALSE(n->find(1, v6("2001:db8::10"), mac));
  EXPECT_FALSE(n->find(0, be("10.0.0.1"), mac));  // the families' tables are apart
  EXPECT_EQ(n->learn(0, v6("2001:db8::10"), 0x222222, 7), Neighbours::Learned::changed);
  ASSERT_TRUE(n->find(0, v6("2001:db8::10"), mac));
  EXPECT_EQ(mac, 0x222222u);
  EXPECT_EQ(n->learn(0, v6("ff02::1"), 0x1, 7), Neighbours::Learned::invalid);
  EXPECT_EQ(n->learn(0, Ip6{}, 0x1, 7), Neighbours::Learned::invalid);

  std::vector<Ip6> many;
  for (unsigned i = 1; i <= 40; ++i) {
    const std::string text = "2001:db8:1::" + std::to_string(i);
    many.push_back(v6(text.c_str()));
    ASSERT_EQ(n->learn(1, many.back(), i, 1), Neighbours::Learned::added) << i;
  }
  for (unsigned i = 0; i < 40; i += 2) EXPECT_TRUE(n->forget(1, many[i]));
  for (unsigned i = 0; i < 40; ++i) EXPECT_EQ(n->find(1, many[i], mac), i % 2 == 1) << i;
  EXPECT_EQ(n->known6().size(), 1u + 20u);
  // Forgotten entries are taken by new addresses at once; the survivors are untouched.
  for (unsigned i = 100; i < 120; ++i) {
    const std::string text = "2001:db8:2::" + std::to_string(i);
    EXPECT_EQ(n->learn(1, v6(text.c_str()), i, 2), Neighbours::Learned::added) << i;
  }
  for (unsigned i = 1; i < 40; i += 2) {
    ASSERT_TRUE(n->find(1, many[i], mac));
    EXPECT_EQ(mac, i + 1u);
  }
}

// GCRA: a tenth of a second of max_bps as burst, then max_bps, per direction.
TEST(RateBuckets, BytesBurstThenSteadyRate) {
  RateBuckets r;
  const uint64_t hz = 1'000'000;  // a 1 MHz clock keeps the arithmetic readable
  const Rate bytes = Rate::bits_per_second(8'000'000, hz);  // one tick per byte; burst 100,000 ticks
  uint64_t now = 5'000'000;
  unsigned passed = 0;
  while (r.take(Direction::to_peer, bytes, 1000, now)) ++passed;
  EXPECT_EQ(passed, 101u);  // 100 ms of burst plus the one that starts it
  EXPECT_TRUE(r.take(Direction::to_client, bytes, 1000, now));  // the other direction: its own bucket
  now += 1000;  // a millisecond buys a kilobyte
  EXPECT_TRUE(r.take(Direction::to_peer, bytes, 1000, now));
  EXPECT_FALSE(r.take(Direction::to_peer, bytes, 1000, now));
}

// allocation_pps: a tenth of a second of packets as burst, then the rate.
TEST(RateBuckets, PacketsBurstThenSteadyRate) {
  RateBuckets r;
  const uint64_t hz = 1'000'000;
  const Rate packets = Rate::per_second(5000, hz);  // 200 ticks a packet
  uint64_t now = 5'000'000;
  unsigned passed = 0;
  while (r.take(Direction::to_client, packets, 1, now)) ++passed;
  EXPECT_EQ(passed, 501u);  // 500 packets of burst plus the one that starts it
  EXPECT_TRUE(r.take(Direction::to_peer, packets, 1, now));
  now += 1000;  // a millisecond buys five packets
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(r.take(Direction::to_client, packets, 1, now));
  EXPECT_FALSE(r.take(Direction::to_client, packets, 1, now));
}

// A reload changes the rate under the same TAT words. A word is never further ahead of now than
// the old rate's depth and one packet, so a faster rate holds at most that long; a slower one
// holds from the next packet.
TEST(RateBuckets, NewRateAppliesToTheSameBuckets) {
  RateBuckets r;
  const uint64_t hz = 1'000'000;
  uint64_t now = 5'000'000;
  const Rate slow = Rate::per_second(10, hz);  // 100,000 ticks a packet, burst 1 + 1
  EXPECT_TRUE(r.take(Direction::to_peer, slow, 1, now));
  EXPECT_TRUE(r.take(Direction::to_peer, slow, 1, now));
  EXPECT_FALSE(r.take(Direction::to_peer, slow, 1, now));
  const Rate fast = Rate::per_second(100'000, hz);  // 10 ticks a packet, 100,000 ticks deep
  EXPECT_FALSE(r.take(Direction::to_peer, fast, 1, now));
  now += 100'000;  // the old depth later
  unsigned passed = 0;
  while (r.take(Direction::to_peer, fast, 1, now)) ++passed;
  EXPECT_EQ(passed, 1u);  // the word catches up with the new rate...
  now += 100'000;
  passed = 0;
  while (r.take(Direction::to_peer, fast, 1, now)) ++passed;
  EXPECT_EQ(passed, 10'000u);  // ...and the new rate's burst is whole: its depth is reached
  EXPECT_FALSE(r.take(Direction::to_peer, slow, 1, now));  // a slower rate holds at once
}

// Rates from the configuration's units: unlimited is 0, a rate is never free.
TEST(RateLimit, RatesFromSettings) {
  EXPECT_FALSE(Rate::per_second(0, 1'000'000'000).limited());
  EXPECT_FALSE(Rate::bits_per_second(0, 1'000'000'000).limited());
  const Rate fast = Rate::bits_per_second(UINT64_MAX, 1'000'000);
  EXPECT_TRUE(fast.limited());
  EXPECT_EQ(Rate::per_second(5000, 1'000'000'000).cost(1), 200'000u);
  EXPECT_EQ(Rate::per_second(5000, 1'000'000'000).tolerance, 100'000'000u);
  const WorkerSettings s = WorkerSettings::of({.software = "tern", .max_bps = 0, .allocation_pps = 5000}, 1'000'000'000);
  EXPECT_TRUE(s.limits.packets.limited());
  EXPECT_FALSE(s.limits.bytes.limited());
  EXPECT_EQ(s.software_attribute_len, 8u);
  EXPECT_EQ(std::vector<uint8_t>(s.software_attribute, s.software_attribute + 8),
            (std::vector<uint8_t>{0x80, 0x22, 0, 4, 't', 'e', 'r', 'n'}));
}

// The data plane's part of tern's configuration: the first gateway of each family of each port.
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
  EXPECT_EQ(r.ports[0].gateway6, IpAddress::parse("2001:db8::1"));
  EXPECT_EQ(r.listeners, c.listen.udp);
  EXPECT_EQ(r.relay_addresses, c.relay.addresses);
  EXPECT_EQ(r.table_size, 4096u);
  EXPECT_EQ(r.mbufs, conf::kDefaultMbufs);
  EXPECT_EQ(r.settings.software, "tern");
  EXPECT_EQ(r.settings.allocation_pps, conf::kDefaultAllocationPps);
}

}  // namespace
}  // namespace tern::dp
