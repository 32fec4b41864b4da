// Refresh (RFC 8656 §8), CreatePermission (§9, §10), ChannelBind (§12) and expiry with the
// injected clock: the answers, and exactly the table writes each change makes.

#include <gtest/gtest.h>

#include "tests/unit/control/control_test_util.hpp"

namespace tern::ctl::test {
namespace {

using stun::AttributeType;
using stun::Integrity;
using stun::Method;
using Calls = std::vector<std::string>;

// Nonces outlive these tests' allocations, so a late request meets the allocation, not a 438.
void long_nonces(conf::Config& c) { c.auth.nonce_lifetime = std::chrono::seconds(86400); }

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(alice.allocate().code(), 0);
    h.writer.calls.clear();
  }
  Harness h{long_nonces};
  Client alice{h, "198.51.100.1:40000", "alice", "alice-password"};
};

TEST_F(Lifecycle, RefreshSetsTheLifetime) {
  h.advance(100);
  Answer a = alice.refresh();
  ASSERT_EQ(a.code(), 0);
  EXPECT_EQ(stun::lifetime(a.msg())->seconds, 600u);
  EXPECT_EQ(*stun::software(a.msg()), "tern-test");
  a = alice.refresh(2000);
  EXPECT_EQ(stun::lifetime(a.msg())->seconds, 2000u);
  a = alice.refresh(9999);
  EXPECT_EQ(stun::lifetime(a.msg())->seconds, 3600u);
  EXPECT_EQ(h.writer.take_calls(), (Calls{"set_allocation_expiry(0 1700)", "set_allocation_expiry(0 3100)",
                                          "set_allocation_expiry(0 4700)"}));
  EXPECT_EQ(h.counter(Counter::allocations_refreshed), 3u);
}

TEST_F(Lifecycle, RefreshWithZeroDeletes) {
  const Answer a = alice.refresh(0);
  ASSERT_EQ(a.code(), 0);
  EXPECT_EQ(stun::lifetime(a.msg())->seconds, 0u);
  EXPECT_EQ(h.writer.take_calls(), (Calls{"remove_allocation(0)"}));
  EXPECT_EQ(h.counter(Counter::allocations_deleted), 1u);
  EXPECT_TRUE(h.logged("event=allocation_removed reason=deleted id=0 user=alice"));
  // RFC 8656 §8.3: a new request on the 5-tuple gets 437 ...
  EXPECT_EQ(alice.refresh(0).code(), 437);
  EXPECT_EQ(alice.permit({"203.0.113.5:1"}).code(), 437);
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.5:1").code(), 437);
  EXPECT_TRUE(h.writer.calls.empty());
}

TEST_F(Lifecycle, RetransmittedDeleteGetsItsSuccessAgain) {
  const auto request = alice.build(Method::refresh, [](stun::Builder& b) { b.add_lifetime({0}); });
  const Answer first = alice.resend(request);
  ASSERT_EQ(first.code(), 0);
  EXPECT_EQ(alice.resend(request).bytes(), first.bytes());
}

TEST_F(Lifecycle, RefreshWithTheWrongFamilyIs443) {
  const Answer a = alice.send(Method::refresh, [](stun::Builder& b) { b.add_requested_address_family(Family::ipv6); });
  EXPECT_EQ(a.code(), 443);
  EXPECT_TRUE(h.writer.calls.empty());
  EXPECT_EQ(alice.send(Method::refresh, [](stun::Builder& b) { b.add_requested_address_family(Family::ipv4); }).code(), 0);
}

TEST_F(Lifecycle, ModelAndTablesDisagreeingIs500) {
  h.writer.result_for = [](const WriterCall& c) {
    return c.op == WriterCall::Op::set_allocation_expiry ? dp::WriteResult::not_found : dp::WriteResult::ok;
  };
  EXPECT_EQ(alice.refresh().code(), 500);
  EXPECT_EQ(h.counter(Counter::table_write_failures), 1u);
  EXPECT_EQ(h.counter(Counter::responses_500), 1u);
}

TEST_F(Lifecycle, AllocationExpiresOnTheClock) {
  h.advance(599);
  h.tick();
  EXPECT_TRUE(h.writer.calls.empty());
  h.advance(1);
  h.tick();
  EXPECT_EQ(h.writer.take_calls(), (Calls{"remove_allocation(0)"}));
  EXPECT_EQ(h.counter(Counter::allocations_expired), 1u);
  EXPECT_EQ(h.counter(Counter::allocations_live), 0u);
  EXPECT_TRUE(h.logged("event=allocation_removed reason=expired id=0 user=alice client=198.51.100.1:40000"));
}

TEST_F(Lifecycle, ExpiredButNotYetSweptIsGone) {
  h.advance(600);  // no tick: the lookup itself sees the time
  EXPECT_EQ(alice.refresh().code(), 437);
  EXPECT_EQ(h.writer.take_calls(), (Calls{"remove_allocation(0)"}));
}

TEST_F(Lifecycle, RefreshedAllocationOutlivesItsFirstDeadline) {
  h.advance(500);
  ASSERT_EQ(alice.refresh().code(), 0);
  h.advance(200);  // past the first deadline (600)
  h.tick();
  EXPECT_EQ(h.writer.take_calls(), (Calls{"set_allocation_expiry(0 2100)"}));
  h.advance(400);
  h.tick();
  EXPECT_EQ(h.writer.take_calls(), (Calls{"remove_allocation(0)"}));
}

TEST_F(Lifecycle, CreatePermissionInstallsEveryPeer) {
  const Answer a = alice.permit({"203.0.113.5:1111", "203.0.113.6:2222", "203.0.113.5:3333"});
  ASSERT_EQ(a.code(), 0);
  EXPECT_TRUE(alice.verifies(a, Integrity::sha1));
  // One per address: RFC 8656 §9, "only addresses are compared and port numbers are not considered".
  EXPECT_EQ(h.writer.take_calls(), (Calls{"set_permission(0 203.0.113.5 1300)", "set_permission(0 203.0.113.6 1300)"}));
  h.advance(200);
  ASSERT_EQ(alice.permit({"203.0.113.5:1"}).code(), 0);
  EXPECT_EQ(h.writer.take_calls(), (Calls{"set_permission(0 203.0.113.5 1500)"}));
  EXPECT_EQ(h.counter(Counter::permissions_created), 2u);
  EXPECT_EQ(h.counter(Counter::permissions_refreshed), 1u);
  // 203.0.113.6 expires at 1300, 203.0.113.5 at 1500.
  h.advance(100);
  h.tick();
  EXPECT_EQ(h.writer.take_calls(), (Calls{"remove_permission(0 203.0.113.6)"}));
  EXPECT_EQ(h.counter(Counter::permissions_expired), 1u);
  EXPECT_EQ(h.counter(Counter::permissions_live), 1u);
  h.advance(200);
  h.tick();
  EXPECT_EQ(h.writer.take_calls(), (Calls{"remove_permission(0 203.0.113.5)"}));
}

TEST_F(Lifecycle, CreatePermissionErrors) {
  EXPECT_EQ(alice.send(Method::create_permission, {}).code(), 400);  // no XOR-PEER-ADDRESS
  EXPECT_EQ(alice.send(Method::create_permission, [](stun::Builder& b) {
    b.add_xor_peer_address(ta("203.0.113.5:1"));
    b.add_raw(0x0012, std::vector<uint8_t>{0, 1, 0});  // a malformed one
  }).code(), 400);
  EXPECT_EQ(alice.permit({"203.0.113.5:1", "[2001:db8::5]:1"}).code(), 443);
  // One denied peer: 403, and the good one is not installed either.
  EXPECT_EQ(alice.permit({"203.0.113.5:1", "127.0.0.1:1"}).code(), 403);
  EXPECT_EQ(alice.permit({"203.0.113.5:1", "169.254.169.254:80"}).code(), 403);
  EXPECT_EQ(alice.permit({"192.0.2.1:3478"}).code(), 403);  // our listener
  EXPECT_EQ(h.counter(Counter::peers_denied), 3u);
  EXPECT_TRUE(h.logged("event=peer_denied user=alice client=198.51.100.1:40000 server=192.0.2.1:3478 "
                       "transport=udp peer=169.254.169.254 verdict=denied_default"));
  EXPECT_TRUE(h.writer.calls.empty());
  // Our relay addresses are peers.
  EXPECT_EQ(alice.permit({"192.0.2.11:50000"}).code(), 0);
}

TEST_F(Lifecycle, CreatePermissionAllOrNone) {
  ASSERT_EQ(alice.permit({"203.0.113.1:1"}).code(), 0);
  h.writer.calls.clear();
  h.writer.permission_room = 2;
  h.advance(10);
  // 203.0.113.1 is refreshed, .2 fits, .3 does not: .2 is removed and .1 put back.
  EXPECT_EQ(alice.permit({"203.0.113.1:1", "203.0.113.2:1", "203.0.113.3:1"}).code(), 508);
  EXPECT_EQ(h.writer.take_calls(),
            (Calls{"set_permission(0 203.0.113.1 1310)", "set_permission(0 203.0.113.2 1310)",
                   "set_permission(0 203.0.113.3 1310)", "remove_permission(0 203.0.113.2)",
                   "set_permission(0 203.0.113.1 1300)"}));
  EXPECT_EQ(h.writer.permissions(dp::AllocId{0}).size(), 1u);
  EXPECT_EQ(h.writer.permissions(dp::AllocId{0}).at(ip("203.0.113.1")), 1300u);
  EXPECT_EQ(h.plane().allocation(dp::AllocId{0}, h.now)->permissions.size(), 1u);
}

TEST_F(Lifecycle, PermissionLimitPerAllocation) {
  Harness small([](conf::Config& c) {
    long_nonces(c);
    c.limits.permissions_per_allocation = 2;
    c.limits.channels_per_allocation = 1;
  });
  Client c(small, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(c.allocate().code(), 0);
  EXPECT_EQ(c.permit({"203.0.113.1:1", "203.0.113.2:1"}).code(), 0);
  EXPECT_EQ(c.permit({"203.0.113.3:1"}).code(), 508);
  EXPECT_EQ(c.permit({"203.0.113.2:1"}).code(), 0);  // a refresh still fits
  EXPECT_EQ(c.bind(0x4000, "203.0.113.1:5").code(), 0);
  EXPECT_EQ(c.bind(0x4001, "203.0.113.2:5").code(), 508);
}

TEST_F(Lifecycle, ChannelBindBindsAndPermits) {
  const Answer a = alice.bind(0x4000, "203.0.113.5:7000");
  ASSERT_EQ(a.code(), 0);
  EXPECT_TRUE(alice.verifies(a, Integrity::sha1));
  EXPECT_EQ(h.writer.take_calls(),
            (Calls{"set_permission(0 203.0.113.5 1300)", "set_channel(0 0x4000 203.0.113.5:7000 1600)"}));
  // Refresh: same number, same peer.
  h.advance(100);
  ASSERT_EQ(alice.bind(0x4000, "203.0.113.5:7000").code(), 0);
  EXPECT_EQ(h.writer.take_calls(),
            (Calls{"set_permission(0 203.0.113.5 1400)", "set_channel(0 0x4000 203.0.113.5:7000 1700)"}));
  EXPECT_EQ(h.counter(Counter::channels_bound), 1u);
  EXPECT_EQ(h.counter(Counter::channels_refreshed), 1u);
  const auto detail = h.plane().allocation(dp::AllocId{0}, h.now);
  ASSERT_EQ(detail->channels.size(), 1u);
  EXPECT_EQ(detail->channels[0].number, 0x4000);
  EXPECT_EQ(detail->channels[0].expires_in, 600u);
  EXPECT_EQ(detail->permissions[0].expires_in, 300u);
}

TEST_F(Lifecycle, ChannelBindErrors) {
  auto bind = [&](uint16_t n, const char* peer) { return alice.bind(n, peer).code(); };
  EXPECT_EQ(bind(0x3FFF, "203.0.113.5:1"), 400);
  EXPECT_EQ(bind(0x5000, "203.0.113.5:1"), 400);
  EXPECT_EQ(alice.send(Method::channel_bind, [](stun::Builder& b) { b.add_channel_number({0x4000}); }).code(), 400);
  EXPECT_EQ(alice.send(Method::channel_bind, [](stun::Builder& b) { b.add_xor_peer_address(ta("203.0.113.5:1")); }).code(),
            400);
  EXPECT_EQ(bind(0x4000, "[2001:db8::5]:1"), 443);
  EXPECT_EQ(bind(0x4000, "10.0.0.1:1"), 403);
  EXPECT_EQ(bind(0x4000, "[::ffff:127.0.0.1]:1"), 443);  // a family of its own, and never installed
  EXPECT_TRUE(h.writer.calls.empty());
  ASSERT_EQ(bind(0x4000, "203.0.113.5:1"), 0);
  EXPECT_EQ(bind(0x4000, "203.0.113.6:1"), 400);  // the number is bound to another peer
  EXPECT_TRUE(h.logged("event=channel_bind_refused client=198.51.100.1:40000 server=192.0.2.1:3478 transport=udp "
                       "channel=16384 peer=203.0.113.6:1 reason=channel_bound_to_another_peer bound_channel=16384 "
                       "bound_peer=203.0.113.5:1 bound=live"));
  EXPECT_EQ(bind(0x4001, "203.0.113.5:1"), 400);  // the peer is bound to another number
  EXPECT_TRUE(h.logged("channel=16385 peer=203.0.113.5:1 reason=peer_bound_to_another_channel bound_channel=16384 "
                       "bound_peer=203.0.113.5:1 bound=live"));
  EXPECT_EQ(bind(0x4001, "203.0.113.5:2"), 0);    // another port is another peer
  EXPECT_EQ(bind(0x4FFF, "203.0.113.6:1"), 0);
}

// RFC 8656 §12.2 answers 400 outside 0x4000-0x4FFF; compat.rfc5766_channels accepts the RFC 5766
// numbers (0x4000-0x7FFF) that coturn's turnutils_uclient binds, and nothing beyond them.
TEST(Rfc5766Channels, AcceptedOnlyWithTheCompatSetting) {
  for (const bool compat : {false, true}) {
    Harness h{[compat](conf::Config& c) {
      long_nonces(c);
      c.compat.rfc5766_channels = compat;
    }};
    Client client{h, "198.51.100.1:40000", "alice", "alice-password"};
    ASSERT_EQ(client.allocate().code(), 0);
    EXPECT_EQ(client.bind(0x68F2, "203.0.113.5:1").code(), compat ? 0 : 400) << compat;
    EXPECT_EQ(client.bind(0x7FFF, "203.0.113.5:2").code(), compat ? 0 : 400) << compat;
    EXPECT_EQ(client.bind(0x8000, "203.0.113.5:3").code(), 400) << compat;
    EXPECT_EQ(client.bind(0x3FFF, "203.0.113.5:4").code(), 400) << compat;
    EXPECT_EQ(client.bind(0x4FFF, "203.0.113.5:5").code(), 0) << compat;
  }
}

TEST_F(Lifecycle, ChannelBindAllOrNone) {
  h.writer.result_for = [](const WriterCall& c) {
    return c.op == WriterCall::Op::set_channel ? dp::WriteResult::no_room : dp::WriteResult::ok;
  };
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.5:1").code(), 508);
  EXPECT_EQ(h.writer.take_calls(),
            (Calls{"set_permission(0 203.0.113.5 1300)", "set_channel(0 0x4000 203.0.113.5:1 1600)",
                   "remove_permission(0 203.0.113.5)"}));
  EXPECT_TRUE(h.plane().allocation(dp::AllocId{0}, h.now)->permissions.empty());
}

TEST_F(Lifecycle, ChannelExpiresAndItsNumberCoolsDown) {
  ASSERT_EQ(alice.bind(0x4000, "203.0.113.5:1").code(), 0);
  h.writer.calls.clear();
  // Keep the permission and the allocation alive, not the channel.
  for (int i = 0; i < 2; ++i) {
    h.advance(250);
    ASSERT_EQ(alice.permit({"203.0.113.5:1"}).code(), 0);
    ASSERT_EQ(alice.refresh().code(), 0);
  }
  h.advance(100);  // 600 s after the bind
  h.tick();
  auto calls = h.writer.take_calls();
  EXPECT_EQ(calls.back(), "remove_channel(0 0x4000)");
  EXPECT_EQ(h.counter(Counter::channels_expired), 1u);
  // RFC 8656 §12: for 5 minutes the number and the peer stay paired.
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.6:1").code(), 400);
  EXPECT_TRUE(h.logged("reason=channel_bound_to_another_peer bound_channel=16384 bound_peer=203.0.113.5:1 "
                       "bound=expired_within_5_min"));
  EXPECT_EQ(alice.bind(0x4001, "203.0.113.5:1").code(), 400);
  h.advance(299);
  ASSERT_EQ(alice.refresh().code(), 0);
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.6:1").code(), 400);
  h.advance(1);
  h.tick();
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.6:1").code(), 0);
  // The same pair may be bound again at any time.
  Harness h2(long_nonces);
  Client c(h2, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(c.allocate(udp_transport).code(), 0);
  ASSERT_EQ(c.bind(0x4000, "203.0.113.5:1").code(), 0);
  h2.advance(600);
  EXPECT_EQ(c.refresh().code(), 437);  // the allocation expired with it
}

TEST_F(Lifecycle, RebindingTheSamePairAfterExpiry) {
  ASSERT_EQ(alice.bind(0x4000, "203.0.113.5:1").code(), 0);
  ASSERT_EQ(alice.refresh(3600).code(), 0);
  h.advance(650);
  h.tick();
  EXPECT_EQ(alice.bind(0x4000, "203.0.113.5:1").code(), 0);
}

}  // namespace
}  // namespace tern::ctl::test
