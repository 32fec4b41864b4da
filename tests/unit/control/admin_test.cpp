// The operator surface: listing and inspecting allocations, kill, a reloaded configuration applied
// live, and the counters' names.

#include <gtest/gtest.h>

#include <set>

#include "tests/unit/control/control_test_util.hpp"

namespace tern::ctl::test {
namespace {

class Admin : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(a1.allocate().code(), 0);
    ASSERT_EQ(a2.allocate().code(), 0);
    ASSERT_EQ(b1.allocate().code(), 0);
    ASSERT_EQ(a1.permit({"203.0.113.5:1", "198.51.100.200:1"}).code(), 0);
    ASSERT_EQ(a1.bind(0x4001, "203.0.113.5:9").code(), 0);
  }
  Harness h;
  Client a1{h, "198.51.100.1:40000", "alice", "alice-password"};
  Client a2{h, "198.51.100.1:40001", "alice", "alice-password"};
  Client b1{h, "198.51.100.2:40000", "bob", "bob-password"};
};

TEST_F(Admin, ListAndFind) {
  EXPECT_EQ(h.plane().list_allocations({}, h.now).size(), 3u);
  const auto alices = h.plane().list_allocations({.user = "alice"}, h.now);
  ASSERT_EQ(alices.size(), 2u);
  EXPECT_EQ(alices[0].five_tuple, a1.five_tuple_of());
  EXPECT_EQ(alices[0].expires_in, 600u);
  EXPECT_EQ(alices[0].permissions, 2u);
  EXPECT_EQ(alices[0].channels, 1u);
  EXPECT_EQ(h.plane().list_allocations({.client_ip = ip("198.51.100.2")}, h.now).size(), 1u);
  EXPECT_EQ(h.plane().list_allocations({.client = ta("198.51.100.1:40001")}, h.now)[0].id, alices[1].id);
  EXPECT_EQ(h.plane().list_allocations({.limit = 1}, h.now).size(), 1u);
  EXPECT_TRUE(h.plane().list_allocations({.user = "nobody"}, h.now).empty());

  h.advance(10);
  const auto d = h.plane().allocation(alices[0].id, h.now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->summary.user, "alice");
  EXPECT_EQ(d->summary.age, 10u);
  EXPECT_EQ(d->summary.expires_in, 590u);
  ASSERT_EQ(d->permissions.size(), 2u);
  EXPECT_EQ(d->permissions[0].peer, ip("203.0.113.5"));
  ASSERT_EQ(d->channels.size(), 1u);
  EXPECT_EQ(d->channels[0].peer, ta("203.0.113.5:9"));
  EXPECT_FALSE(h.plane().allocation(dp::AllocId{63}, h.now));
}

TEST_F(Admin, KillOneAndKillAUser) {
  const auto id = h.plane().list_allocations({.user = "bob"}, h.now)[0].id;
  h.writer.calls.clear();
  EXPECT_EQ(h.plane().kill(id), 1u);
  EXPECT_EQ(h.plane().kill(id), 0u);
  EXPECT_EQ(h.writer.take_calls(), std::vector<std::string>{"remove_allocation(" + std::to_string(dp::slot_index(id)) + ")"});
  EXPECT_EQ(b1.refresh().code(), 437);
  EXPECT_EQ(h.plane().kill_user("alice"), 2u);
  EXPECT_EQ(h.plane().allocations().size(), 0u);
  EXPECT_EQ(h.counter(Counter::allocations_killed), 3u);
  EXPECT_EQ(h.counter(Counter::permissions_live), 0u);
  EXPECT_EQ(h.counter(Counter::channels_live), 0u);
  EXPECT_TRUE(h.logged("event=allocation_removed reason=killed"));
}

TEST_F(Admin, ApplyReloadedConfigurationKeepsAllocations) {
  conf::Config next = h.config;
  next.auth.users = {make_user(h.engine(), "alice", "alice-password"),
                     make_user(h.engine(), "zoe", "zoe-password")};  // bob removed, zoe added
  next.peers.deny = {*Prefix::parse("203.0.113.0/24")};               // now denies a1's peer
  next.lifetimes.allocation_default = std::chrono::seconds(900);
  next.limits.user_quota = 2;
  next.software = "tern-next";
  next.realm = "other.example";  // needs a restart
  const ApplyResult r = h.plane().apply(next);
  EXPECT_EQ(r.restart_required, std::vector<std::string>{"realm"});
  EXPECT_EQ(r.users, 2u);
  EXPECT_EQ(r.permissions_revoked, 1u);
  EXPECT_EQ(h.plane().settings().realm, kRealm);  // still the one keys are made with

  // Nothing was dropped but what the policy now denies.
  EXPECT_EQ(h.plane().allocations().size(), 3u);
  const auto a1_id = h.plane().list_allocations({.client = a1.five_tuple_of().client}, h.now)[0].id;
  const auto d = h.plane().allocation(a1_id, h.now);
  ASSERT_EQ(d->permissions.size(), 1u);
  EXPECT_EQ(d->permissions[0].peer, ip("198.51.100.200"));
  EXPECT_TRUE(d->channels.empty());
  EXPECT_TRUE(h.writer.permissions(a1_id).contains(ip("198.51.100.200")));
  EXPECT_FALSE(h.writer.permissions(a1_id).contains(ip("203.0.113.5")));
  EXPECT_EQ(h.writer.channel_count(a1_id), 0u);
  EXPECT_EQ(a1.permit({"203.0.113.5:1"}).code(), 403);

  // New settings take effect.
  const Answer refreshed = a1.refresh();
  ASSERT_EQ(refreshed.code(), 0);
  EXPECT_EQ(stun::lifetime(refreshed.msg())->seconds, 900u);
  EXPECT_EQ(*stun::software(refreshed.msg()), "tern-next");
  EXPECT_EQ(b1.refresh().code(), 401);
  Client zoe(h, "198.51.100.9:40000", "zoe", "zoe-password");
  EXPECT_EQ(zoe.allocate().code(), 0);
  Client a3(h, "198.51.100.1:40002", "alice", "alice-password");
  EXPECT_EQ(a3.allocate().code(), 486);
}

TEST(AdminApply, RestartRequiredForTheDataPlaneShape) {
  Harness h;
  conf::Config next = h.config;
  next.relay.addresses = {kRelayA};
  next.relay.ports = {Port{50000}, Port{50099}};
  next.dataplane.table_size = 128;
  const auto r = h.plane().apply(next);
  EXPECT_EQ(r.restart_required,
            (std::vector<std::string>{"relay.addresses", "relay.ports", "dataplane.table_size"}));
  EXPECT_EQ(h.plane().ports().free_count(), 400u);
}

TEST(Counters, OneListNamesEveryCounterOnce) {
  std::set<std::string_view> names(kCounterNames.begin(), kCounterNames.end());
  EXPECT_EQ(names.size(), kCounterCount);
  EXPECT_EQ(kCounterNames[static_cast<size_t>(Counter::requests_allocate)], "requests_allocate");
  EXPECT_EQ(kCounterKinds[static_cast<size_t>(Counter::allocations_live)], CounterKind::gauge);
  EXPECT_EQ(kCounterKinds[static_cast<size_t>(Counter::responses_401)], CounterKind::counter);
  for (const auto help : kCounterHelp) EXPECT_FALSE(help.empty());
  EXPECT_EQ(response_counter(stun::MessageClass::error_response, stun::ErrorCode::kStaleNonce), Counter::responses_438);
  EXPECT_EQ(response_counter(stun::MessageClass::success_response, {}), Counter::responses_success);
}

TEST(Counters, RequestsAndResponsesAreCounted) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.allocate();
  alice.refresh();
  alice.permit({"203.0.113.5:1"});
  alice.bind(0x4000, "203.0.113.5:1");
  EXPECT_EQ(h.counter(Counter::requests_allocate), 2u);
  EXPECT_EQ(h.counter(Counter::requests_refresh), 1u);
  EXPECT_EQ(h.counter(Counter::requests_create_permission), 1u);
  EXPECT_EQ(h.counter(Counter::requests_channel_bind), 1u);
  EXPECT_EQ(h.counter(Counter::responses_success), 4u);
  EXPECT_EQ(h.counter(Counter::responses_401), 1u);
  EXPECT_EQ(h.counter(Counter::transactions_cached), 4u);
  EXPECT_EQ(h.counter(Counter::static_users), 3u);
  EXPECT_EQ(h.counter(Counter::rest_secrets), 1u);
  EXPECT_EQ(h.counter(Counter::relay_ports_free), 399u);
}

}  // namespace
}  // namespace tern::ctl::test
