// The `limits` group's control-plane limits: new peers per second, permissions and channels per
// allocation, allocations per client address; each refusal answered as RFC 8656 says, counted by
// limit per allocation and in the counters, and a reload applying to live allocations.

#include <gtest/gtest.h>

#include "control/operator/config_diff.hpp"
#include "control/operator/metrics.hpp"
#include "tests/unit/control/control_test_util.hpp"
#include "tests/unit/control/operator_test_util.hpp"

namespace tern::ctl::test {
namespace {

void long_nonces(conf::Config& c) { c.auth.nonce_lifetime = std::chrono::seconds(86400); }

// Only the limit under test: the others out of the way.
std::function<void(conf::Config&)> limits(uint32_t rate, uint32_t burst, uint32_t permissions, uint32_t channels) {
  return [=](conf::Config& c) {
    long_nonces(c);
    c.limits.new_peers_per_second = rate;
    c.limits.new_peers_burst = burst;
    c.limits.permissions_per_allocation = permissions;
    c.limits.channels_per_allocation = channels;
  };
}

std::vector<std::string> peers(int first, int count) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) out.push_back("203.0.113." + std::to_string(i) + ":9");
  return out;
}

LimitRefusalCounts refusals(Harness& h) { return h.plane().allocation(dp::AllocId{0}, h.now)->refusals; }
size_t permissions(Harness& h) { return h.plane().allocation(dp::AllocId{0}, h.now)->permissions.size(); }

TEST(Limits, DefaultsAreOnAndGenerous) {
  const conf::Config c;
  EXPECT_EQ(c.limits.new_peers_per_second, 20u);
  EXPECT_EQ(c.limits.new_peers_burst, 64u);
  EXPECT_EQ(c.limits.permissions_per_allocation, 256u);
  EXPECT_EQ(c.limits.channels_per_allocation, 256u);
  EXPECT_EQ(c.limits.allocations_per_address, 2000u);
  EXPECT_TRUE(c.limits.allocations_per_address_exempt.empty());
  // An ICE agent's first burst of a few dozen candidates goes through at once.
  Harness h(long_nonces);
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(alice.permit(peers(1 + 16 * i, 16)).code(), 0) << i;
  EXPECT_EQ(alice.permit(peers(70, 1)).code(), 508);
  EXPECT_EQ(h.counter(Counter::limit_new_peers_per_second), 1u);
}

TEST(Limits, NewPeersPerSecondIsATokenBucketOfWholeRequests) {
  Harness h(limits(2, 4, 0, 0));
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  h.writer.calls.clear();
  EXPECT_EQ(alice.permit(peers(1, 4)).code(), 0);  // the burst
  EXPECT_EQ(h.writer.take_calls().size(), 4u);
  // RFC 8656 §10.2: 508, and nothing written.
  EXPECT_EQ(alice.permit(peers(5, 1)).code(), 508);
  EXPECT_TRUE(h.writer.take_calls().empty());
  EXPECT_EQ(alice.permit(peers(1, 4)).code(), 0);  // refreshing known peers costs nothing
  EXPECT_EQ(h.writer.take_calls().size(), 4u);

  h.advance(1);  // two tokens
  EXPECT_EQ(alice.permit({"203.0.113.1:9", "203.0.113.5:9", "203.0.113.6:9", "203.0.113.7:9"}).code(), 508);
  EXPECT_TRUE(h.writer.take_calls().empty());  // all or none: .1 not refreshed either
  EXPECT_EQ(alice.permit({"203.0.113.1:9", "203.0.113.5:9", "203.0.113.6:9"}).code(), 0);
  EXPECT_EQ(permissions(h), 6u);

  h.advance(100);  // the bucket holds its depth, no more
  EXPECT_EQ(alice.permit(peers(10, 5)).code(), 508);
  EXPECT_EQ(alice.permit(peers(10, 4)).code(), 0);
  EXPECT_EQ(permissions(h), 10u);

  EXPECT_EQ(refusals(h)[LimitRefusal::new_peers_per_second], 3u);
  EXPECT_EQ(refusals(h)[LimitRefusal::permissions_per_allocation], 0u);
  EXPECT_EQ(h.counter(Counter::limit_new_peers_per_second), 3u);
  EXPECT_EQ(h.counter(Counter::responses_508), 3u);
  EXPECT_TRUE(h.logged("event=limit_refused limit=new_peers_per_second id=0 user=alice client=198.51.100.1:40000"));
}

TEST(Limits, AChannelToANewAddressIsANewPeer) {
  Harness h(limits(1, 1, 0, 0));
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.1:7000").code(), 0);
  EXPECT_EQ(alice.bind(0x4001, "203.0.113.2:7000").code(), 508);
  EXPECT_EQ(alice.bind(0x4001, "203.0.113.1:7001").code(), 0);  // the same address, another port: not new
  EXPECT_EQ(alice.permit(peers(3, 1)).code(), 508);
  h.advance(1);
  EXPECT_EQ(alice.bind(0x4002, "203.0.113.2:7000").code(), 0);
  EXPECT_EQ(refusals(h)[LimitRefusal::new_peers_per_second], 2u);
}

TEST(Limits, PermissionsPerAllocationRefusesWholeRequests) {
  Harness h(limits(0, 0, 3, 0));
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  ASSERT_EQ(alice.permit(peers(1, 2)).code(), 0);
  h.writer.calls.clear();
  EXPECT_EQ(alice.permit(peers(3, 2)).code(), 508);  // one would fit, two do not: neither
  EXPECT_TRUE(h.writer.take_calls().empty());
  EXPECT_EQ(alice.permit({"203.0.113.1:9", "203.0.113.3:9"}).code(), 0);  // a refresh and the third
  EXPECT_EQ(permissions(h), 3u);
  EXPECT_EQ(alice.permit(peers(4, 1)).code(), 508);
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.4:7000").code(), 508);  // ChannelBind would add a permission
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.2:7000").code(), 0);    // one the allocation has
  EXPECT_EQ(refusals(h)[LimitRefusal::permissions_per_allocation], 3u);
  EXPECT_EQ(h.counter(Counter::limit_permissions_per_allocation), 3u);
  // Expired permissions make room.
  h.advance(301);
  EXPECT_EQ(alice.permit(peers(4, 3)).code(), 0);
}

TEST(Limits, ChannelsPerAllocation) {
  Harness h(limits(0, 0, 0, 2));
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.1:7000").code(), 0);
  EXPECT_EQ(alice.bind(0x4001, "203.0.113.2:7000").code(), 0);
  h.writer.calls.clear();
  EXPECT_EQ(alice.bind(0x4002, "203.0.113.3:7000").code(), 508);
  EXPECT_TRUE(h.writer.take_calls().empty());
  EXPECT_EQ(alice.bind(0x4001, "203.0.113.2:7000").code(), 0);  // a refresh
  EXPECT_EQ(refusals(h)[LimitRefusal::channels_per_allocation], 1u);
  EXPECT_EQ(h.counter(Counter::limit_channels_per_allocation), 1u);
  EXPECT_EQ(permissions(h), 2u);  // the refused bind installed no permission
}

TEST(Limits, AllocationsPerAddressWithExemptPrefixes) {
  Harness h([](conf::Config& c) {
    c.limits.allocations_per_address = 2;
    c.limits.allocations_per_address_exempt = {*Prefix::parse("198.51.100.128/25")};
  });
  std::vector<Client> clients;
  for (int i = 0; i < 3; ++i) clients.emplace_back(h, "198.51.100.1:" + std::to_string(40000 + i), "alice", "alice-password");
  EXPECT_EQ(clients[0].allocate().code(), 0);
  EXPECT_EQ(clients[1].allocate().code(), 0);
  // RFC 8656 §7.2 step 10: 486 Allocation Quota Reached.
  EXPECT_EQ(clients[2].allocate().code(), 486);
  EXPECT_EQ(h.counter(Counter::limit_allocations_per_address), 1u);
  EXPECT_TRUE(h.logged("event=limit_refused limit=allocations_per_address method=Allocate user=alice "
                       "client=198.51.100.1:40002"));
  Client other(h, "198.51.100.2:40000", "bob", "bob-password");
  EXPECT_EQ(other.allocate().code(), 0);
  for (int i = 0; i < 4; ++i) {
    Client exempt(h, "198.51.100.200:" + std::to_string(40000 + i), "bob", "bob-password");
    EXPECT_EQ(exempt.allocate().code(), 0) << i;
  }
  // An allocation that goes makes room.
  EXPECT_EQ(clients[0].refresh(0).code(), 0);
  EXPECT_EQ(clients[2].allocate().code(), 0);
  EXPECT_EQ(h.plane().allocations().count_from(ip("198.51.100.1")), 2u);
}

TEST(Limits, AnIpv6ClientCountsByItsSlash64) {
  // One subscriber's prefix: its hosts take new addresses at will.
  EXPECT_EQ(address_key(ip("2001:db8:1:2::1")), ip("2001:db8:1:2::"));
  EXPECT_EQ(address_key(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
  EXPECT_NE(address_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
  EXPECT_EQ(address_key(ip("198.51.100.7")), ip("198.51.100.7"));
  EXPECT_EQ(address_key(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
}

TEST(Limits, QuotaRefusalsAreCountedByLimit) {
  Harness h([](conf::Config& c) {
    c.limits.user_quota = 1;
    c.limits.total_quota = 2;
  });
  Client a1(h, "198.51.100.1:40000", "alice", "alice-password");
  Client a2(h, "198.51.100.1:40001", "alice", "alice-password");
  Client b(h, "198.51.100.2:40000", "bob", "bob-password");
  Client c(h, "198.51.100.3:40000", "carol", "carol-password");
  EXPECT_EQ(a1.allocate().code(), 0);
  EXPECT_EQ(a2.allocate().code(), 486);
  EXPECT_EQ(b.allocate().code(), 0);
  EXPECT_EQ(c.allocate().code(), 486);
  EXPECT_EQ(h.counter(Counter::limit_user_quota), 1u);
  EXPECT_EQ(h.counter(Counter::limit_total_quota), 1u);
}

TEST(Limits, AReloadAppliesToLiveAllocationsFromTheirNextRequest) {
  Harness h(limits(0, 0, 4, 4));
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  ASSERT_EQ(alice.permit(peers(1, 4)).code(), 0);
  ASSERT_EQ(alice.bind(0x4000, "203.0.113.1:7000").code(), 0);
  ASSERT_EQ(alice.bind(0x4001, "203.0.113.2:7000").code(), 0);

  conf::Config lower = h.config;
  lower.limits.permissions_per_allocation = 2;
  lower.limits.channels_per_allocation = 1;
  lower.limits.allocations_per_address = 1;
  h.plane().apply(lower);
  // What the allocation holds above the new caps stays, and can be refreshed.
  EXPECT_EQ(permissions(h), 4u);
  EXPECT_EQ(alice.permit(peers(1, 4)).code(), 0);
  EXPECT_EQ(alice.bind(0x4001, "203.0.113.2:7000").code(), 0);
  // Nothing new beyond them.
  EXPECT_EQ(alice.permit(peers(5, 1)).code(), 508);
  EXPECT_EQ(alice.bind(0x4002, "203.0.113.3:7000").code(), 508);
  Client second(h, "198.51.100.1:40001", "alice", "alice-password");
  EXPECT_EQ(second.allocate().code(), 486);
  EXPECT_EQ(refusals(h)[LimitRefusal::permissions_per_allocation], 1u);
  EXPECT_EQ(refusals(h)[LimitRefusal::channels_per_allocation], 1u);

  // A rate, and an exemption, from the next request too.
  conf::Config rate = lower;
  rate.limits.permissions_per_allocation = 0;
  rate.limits.new_peers_per_second = 1;
  rate.limits.new_peers_burst = 1;
  rate.limits.allocations_per_address_exempt = {*Prefix::parse("198.51.100.0/24")};
  h.plane().apply(rate);
  EXPECT_EQ(alice.permit(peers(5, 2)).code(), 508);
  EXPECT_EQ(alice.permit(peers(5, 1)).code(), 0);
  EXPECT_EQ(refusals(h)[LimitRefusal::new_peers_per_second], 1u);
  EXPECT_EQ(second.allocate().code(), 0);
}

TEST(Limits, ReloadNamesThemLiveAndTernctlShowsTheRefusals) {
  OperatorHarness o;
  Client alice(o.h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  ASSERT_EQ(alice.permit(peers(1, 1)).code(), 0);
  o.write_config(operator_config({.extra = R"(
limits = { new_peers_per_second = 1; new_peers_burst = 1; permissions_per_allocation = 300;
           channels_per_allocation = 1; allocations_per_address = 10;
           allocations_per_address_exempt = [ "198.51.100.0/24" ]; };
)"}));
  const auto reloaded = o.run(api::ReloadRequest{});
  ASSERT_TRUE(reloaded.ok());
  const auto& applied = reloaded.value().applied;
  for (const char* name : {"limits.new_peers_per_second", "limits.new_peers_burst", "limits.permissions_per_allocation",
                           "limits.channels_per_allocation", "limits.allocations_per_address",
                           "limits.allocations_per_address_exempt"})
    EXPECT_NE(std::find(applied.begin(), applied.end(), name), applied.end()) << name;
  EXPECT_TRUE(reloaded.value().not_applied.empty());

  ASSERT_EQ(alice.bind(0x4000, "203.0.113.1:7000").code(), 0);  // a known address: no token needed
  EXPECT_EQ(alice.bind(0x4001, "203.0.113.1:7001").code(), 508);  // channels_per_allocation = 1
  EXPECT_EQ(alice.permit(peers(2, 2)).code(), 508);               // a bucket of one
  EXPECT_EQ(alice.permit(peers(2, 2)).code(), 508);
  const auto detail = o.run(api::AllocationRequest{.allocation = 0});
  ASSERT_TRUE(detail.ok());
  EXPECT_EQ(detail.value().refused.new_peers_per_second, 2u);
  EXPECT_EQ(detail.value().refused.permissions_per_allocation, 0u);
  EXPECT_EQ(detail.value().refused.channels_per_allocation, 1u);
}

TEST(Limits, MetricsCountRefusalsByLimit) {
  MetricsSnapshot s;
  s.version = "9.9.9";
  s.control_plane[static_cast<size_t>(Counter::limit_new_peers_per_second)] = 3;
  s.control_plane[static_cast<size_t>(Counter::limit_allocations_per_address)] = 2;
  const std::string text = render_metrics(s);
  EXPECT_NE(text.find("# TYPE tern_limit_refusals_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("tern_limit_refusals_total{reason=\"new_peers_per_second\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("tern_limit_refusals_total{reason=\"allocations_per_address\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("tern_limit_refusals_total{reason=\"channels_per_allocation\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("tern_limit_refusals_total{reason=\"user_quota\"} 0\n"), std::string::npos);
}

}  // namespace
}  // namespace tern::ctl::test
