// The relay port pool: random choice over every free (address, port), EVEN-PORT and pairs,
// release, exhaustion.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "control/allocations/port_pool.hpp"
#include "control/allocations/reservations.hpp"
#include "tests/unit/control/control_test_util.hpp"

namespace tern::ctl::test {
namespace {

TEST(PortPool, EveryPortOnceThenNone) {
  RandomSource random;
  PortPool pool({ip("192.0.2.10")}, {Port{50000}, Port{50015}}, random);
  std::set<uint16_t> seen;
  for (int i = 0; i < 16; ++i) {
    const auto lease = pool.acquire(Family::ipv4);
    ASSERT_TRUE(lease);
    EXPECT_TRUE(seen.insert(lease->port.value).second);
    EXPECT_GE(lease->port.value, 50000);
    EXPECT_LE(lease->port.value, 50015);
  }
  EXPECT_FALSE(pool.acquire(Family::ipv4));
  EXPECT_EQ(pool.free_count(), 0u);
  pool.release({0, Port{50007}});
  const auto again = pool.acquire(Family::ipv4);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->port.value, 50007);
  pool.release({0, Port{50007}});
  pool.release({0, Port{50007}});  // twice: still one free port
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(PortPool, PortsAreNotSequential) {
  RandomSource random;
  PortPool pool({ip("192.0.2.10")}, {Port{49152}, Port{65535}}, random);
  std::vector<uint16_t> ports;
  for (int i = 0; i < 500; ++i) ports.push_back(pool.acquire(Family::ipv4)->port.value);
  size_t successive = 0;
  for (size_t i = 1; i < ports.size(); ++i)
    if (ports[i] == ports[i - 1] + 1 || ports[i] + 1 == ports[i - 1]) ++successive;
  // Uniform choice makes a neighbour about 1 in 8000; a sequential allocator makes 499.
  EXPECT_LT(successive, 5u);
  EXPECT_FALSE(std::is_sorted(ports.begin(), ports.end()));
  // Spread over the whole range: every sixteenth of it is hit.
  std::set<int> sixteenths;
  for (const auto p : ports) sixteenths.insert((p - 49152) * 16 / 16384);
  EXPECT_EQ(sixteenths.size(), 16u);
  // Two pools do not hand out the same sequence.
  RandomSource other_random;
  PortPool other({ip("192.0.2.10")}, {Port{49152}, Port{65535}}, other_random);
  size_t same = 0;
  for (int i = 0; i < 20; ++i) same += other.acquire(Family::ipv4)->port.value == ports[i];
  EXPECT_LT(same, 3u);
}

TEST(PortPool, AllAddressesAreUsed) {
  RandomSource random;
  PortPool pool({ip("192.0.2.10"), ip("192.0.2.11"), ip("2001:db8::10")}, {Port{50000}, Port{50999}}, random);
  std::set<uint16_t> addresses;
  for (int i = 0; i < 200; ++i) {
    const auto lease = pool.acquire(Family::ipv4);
    ASSERT_TRUE(lease);
    EXPECT_TRUE(pool.address(lease->address).is_v4());
    addresses.insert(lease->address);
  }
  EXPECT_EQ(addresses.size(), 2u);
  const auto v6 = pool.acquire(Family::ipv6);
  ASSERT_TRUE(v6);
  EXPECT_EQ(pool.address(v6->address), ip("2001:db8::10"));
  EXPECT_TRUE(pool.has_family(Family::ipv6));
  RandomSource r2;
  PortPool v4only({ip("192.0.2.10")}, {Port{50000}, Port{50009}}, r2);
  EXPECT_FALSE(v4only.has_family(Family::ipv6));
  EXPECT_FALSE(v4only.acquire(Family::ipv6));
}

TEST(PortPool, EvenPortsAndPairs) {
  RandomSource random;
  PortPool pool({ip("192.0.2.10")}, {Port{50000}, Port{50999}}, random);
  for (int i = 0; i < 100; ++i) {
    const auto lease = pool.acquire(Family::ipv4, true);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->port.value % 2, 0);
  }
  for (int i = 0; i < 100; ++i) {
    const auto lease = pool.acquire(Family::ipv4, true, true);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->port.value % 2, 0);
    EXPECT_FALSE(pool.is_free({lease->address, Port{static_cast<uint16_t>(lease->port.value + 1)}}));
  }
  EXPECT_EQ(pool.free_count(), 1000u - 100 - 200);
}

TEST(PortPool, NoPairLeft) {
  RandomSource random;
  PortPool pool({ip("192.0.2.10")}, {Port{50000}, Port{50003}}, random);
  ASSERT_TRUE(pool.take({0, Port{50001}}));
  ASSERT_TRUE(pool.take({0, Port{50002}}));
  EXPECT_FALSE(pool.take({0, Port{50002}}));
  // 50000 is even but 50001 is taken; 50003 is odd: no pair, but an even port.
  EXPECT_FALSE(pool.acquire(Family::ipv4, true, true));
  const auto even = pool.acquire(Family::ipv4, true);
  ASSERT_TRUE(even);
  EXPECT_EQ(even->port.value, 50000);
  EXPECT_FALSE(pool.acquire(Family::ipv4, true));
  EXPECT_EQ(pool.acquire(Family::ipv4)->port.value, 50003);
}

TEST(Reservations, TokensExpireAfterThirtySeconds) {
  RandomSource random;
  Reservations r(random);
  const auto t1 = r.add({0, Port{50001}}, 100);
  const auto t2 = r.add({0, Port{50003}}, 110);
  EXPECT_NE(t1, t2);
  EXPECT_TRUE(r.peek(t1, 129));
  EXPECT_FALSE(r.peek(t1, 130));  // RFC 8656 §7.2: held at least 30 s
  std::vector<PortLease> released;
  EXPECT_EQ(r.expire(130, [&](PortLease l) { released.push_back(l); }), 1u);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].port.value, 50001);
  EXPECT_FALSE(r.take(t1, 130));
  const auto taken = r.take(t2, 130);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->port.value, 50003);
  EXPECT_FALSE(r.take(t2, 130));  // once
  EXPECT_EQ(r.expire(1000, [&](PortLease l) { released.push_back(l); }), 0u);
  EXPECT_EQ(r.size(), 0u);
}

}  // namespace
}  // namespace tern::ctl::test
