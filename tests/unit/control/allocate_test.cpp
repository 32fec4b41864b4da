// Allocate (RFC 8656 §7.2): the success response, every check in the RFC's order with its error
// code, EVEN-PORT and RESERVATION-TOKEN, quotas, capacity, drain, retransmissions, and exactly the
// table writes each outcome makes.

#include <gtest/gtest.h>

#include "tests/unit/control/control_test_util.hpp"

namespace tern::ctl::test {
namespace {

using stun::AttributeType;
using stun::Integrity;
using stun::Method;

AddAttributes with(std::function<void(stun::Builder&)> more) {
  return [more](stun::Builder& b) {
    b.add_requested_transport({});
    more(b);
  };
}

TEST(Allocate, SuccessResponseAndTableWrite) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  const Answer a = alice.allocate();
  ASSERT_EQ(a.code(), 0);
  const auto relayed = stun::xor_relayed_address(a.msg());
  ASSERT_TRUE(relayed);
  EXPECT_TRUE(relayed->ip == kRelayA || relayed->ip == kRelayB);
  EXPECT_GE(relayed->port.value, 50000);
  EXPECT_LE(relayed->port.value, 50199);
  EXPECT_EQ(stun::lifetime(a.msg())->seconds, 600u);
  EXPECT_EQ(*stun::xor_mapped_address(a.msg()), ta("198.51.100.1:40000"));
  EXPECT_EQ(*stun::software(a.msg()), "tern-test");
  EXPECT_FALSE(a.msg().has(AttributeType::reservation_token));
  EXPECT_TRUE(alice.verifies(a, Integrity::sha1));
  // Exactly one write: the allocation, in slot 0, expiring with its lifetime.
  const auto calls = h.writer.take_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], "add_allocation(0 client=198.51.100.1:40000 relayed=" + relayed->to_string() +
                          " expires=1600 df=0)");
  EXPECT_EQ(h.writer.entry(dp::AllocId{0}).five_tuple, alice.five_tuple_of());
  EXPECT_EQ(h.counter(Counter::allocations_created), 1u);
  EXPECT_EQ(h.counter(Counter::allocations_live), 1u);
  EXPECT_TRUE(h.logged("event=allocation_created id=0 user=alice client=198.51.100.1:40000"));
}

TEST(Allocate, LifetimeIsClampedBetweenDefaultAndMaximum) {
  Harness h;
  struct Case {
    uint32_t requested;
    uint32_t granted;
  };
  const Case cases[] = {{1, 600}, {599, 600}, {601, 601}, {3600, 3600}, {3601, 3600}, {0xFFFFFFFF, 3600}};
  int port = 40000;
  for (const auto& c : cases) {
    Client cl(h, "198.51.100.1:" + std::to_string(port++), "alice", "alice-password");
    const Answer a = cl.allocate(with([&](stun::Builder& b) { b.add_lifetime({c.requested}); }));
    ASSERT_EQ(a.code(), 0);
    EXPECT_EQ(stun::lifetime(a.msg())->seconds, c.granted) << c.requested;
  }
}

TEST(Allocate, ChecksInOrder) {
  Harness h([](conf::Config& c) { c.relay.addresses = {kRelayA}; });
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.challenge();
  auto code = [&](const AddAttributes& add) { return alice.send(Method::allocate, add).code(); };
  // 3. REQUESTED-TRANSPORT missing or malformed: 400; not UDP: 442.
  EXPECT_EQ(code([](stun::Builder&) {}), 400);
  EXPECT_EQ(code([](stun::Builder& b) { b.add_raw(0x0019, std::vector<uint8_t>{17, 0}); }), 400);
  EXPECT_EQ(code([](stun::Builder& b) { b.add_requested_transport({6}); }), 442);
  // Malformed LIFETIME / DONT-FRAGMENT.
  EXPECT_EQ(code(with([](stun::Builder& b) { b.add_raw(0x000D, std::vector<uint8_t>{0, 0}); })), 400);
  EXPECT_EQ(code(with([](stun::Builder& b) { b.add_raw(0x001A, std::vector<uint8_t>{1}); })), 400);
  // 5. RESERVATION-TOKEN with EVEN-PORT or an address family: 400; unknown token: 508.
  const stun::ReservationToken token{{1, 2, 3, 4, 5, 6, 7, 8}};
  EXPECT_EQ(code(with([&](stun::Builder& b) {
              b.add_reservation_token(token);
              b.add_even_port({false});
            })),
            400);
  EXPECT_EQ(code(with([&](stun::Builder& b) {
              b.add_reservation_token(token);
              b.add_requested_address_family(Family::ipv4);
            })),
            400);
  EXPECT_EQ(code(with([&](stun::Builder& b) { b.add_reservation_token(token); })), 508);
  // 6. Both family attributes: 400.
  EXPECT_EQ(code(with([](stun::Builder& b) {
              b.add_requested_address_family(Family::ipv4);
              b.add_additional_address_family(Family::ipv6);
            })),
            400);
  // 7. A family not configured, or not a family: 440.
  EXPECT_EQ(code(with([](stun::Builder& b) { b.add_requested_address_family(Family::ipv6); })), 440);
  EXPECT_EQ(code(with([](stun::Builder& b) { b.add_raw(0x0017, std::vector<uint8_t>{3, 0, 0, 0}); })), 440);
  // 8. EVEN-PORT with R and ADDITIONAL-ADDRESS-FAMILY: 400.
  EXPECT_EQ(code(with([](stun::Builder& b) {
              b.add_even_port({true});
              b.add_additional_address_family(Family::ipv6);
            })),
            400);
  // 9. ADDITIONAL-ADDRESS-FAMILY of IPv4: 400.
  EXPECT_EQ(code(with([](stun::Builder& b) { b.add_additional_address_family(Family::ipv4); })), 400);
  // Not one of them created anything.
  EXPECT_TRUE(h.writer.calls.empty());
  EXPECT_EQ(h.counter(Counter::responses_400), 9u);
  // Errors of authenticated Allocate requests are signed and carry SOFTWARE (RFC 8656 §5).
  const Answer e = alice.send(Method::allocate, [](stun::Builder&) {});
  EXPECT_TRUE(alice.verifies(e, Integrity::sha1));
  EXPECT_EQ(*stun::software(e.msg()), "tern-test");
}

TEST(Allocate, AllocationMismatchOnAUsedFiveTuple) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  h.writer.calls.clear();
  EXPECT_EQ(alice.allocate().code(), 437);  // a new transaction, not a retransmission
  EXPECT_TRUE(h.writer.calls.empty());
  EXPECT_EQ(h.counter(Counter::responses_437), 1u);
}

TEST(Allocate, RetransmissionGetsTheSameBytes) {
  Harness h({}, Options{.transaction_cache = 2});
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.challenge();
  const auto request = alice.build(Method::allocate, udp_transport);
  const Answer first = alice.resend(request);
  ASSERT_EQ(first.code(), 0);
  h.advance(3);
  const Answer again = alice.resend(request);
  EXPECT_EQ(again.bytes(), first.bytes());
  // Long after the transaction cache forgot it (2 entries, many other transactions), the
  // allocation itself still answers its Allocate's retransmission: never a 437.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(alice.refresh().code(), 0);
  h.advance(30);
  h.tick();
  const Answer late = alice.resend(request);
  EXPECT_EQ(late.bytes(), first.bytes());
  EXPECT_EQ(h.writer.take_calls().size(), 1u + 5);  // one add, five refreshes, nothing for the retransmissions
  EXPECT_EQ(h.counter(Counter::retransmissions_answered), 2u);
}

TEST(Allocate, DuplicateInOneBurst) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.challenge();
  const auto request = alice.build(Method::allocate, udp_transport);
  const Request r{alice.five_tuple_of(), request};
  const std::vector<Request> burst = {r, r};
  const auto answers = h.burst(burst);
  ASSERT_EQ(answers[0].code(), 0);
  EXPECT_EQ(answers[1].bytes(), answers[0].bytes());
  EXPECT_EQ(h.plane().allocations().size(), 1u);
}

TEST(Allocate, DontFragmentAndBandwidthArePublished) {
  Harness h([](conf::Config& c) { c.limits.max_bps = 2'000'000; });
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate(with([](stun::Builder& b) { b.add_dont_fragment(); })).code(), 0);
  EXPECT_TRUE(h.writer.entry(dp::AllocId{0}).dont_fragment);
  EXPECT_EQ(h.plane().allocation(dp::AllocId{0}, h.now)->max_bps, 2'000'000u);
}

TEST(Allocate, ExternalAddressIsAdvertised) {
  Harness h([](conf::Config& c) {
    c.relay.addresses = {kRelayA};
    c.relay.external = {{kRelayA, ip("203.0.113.10")}};
  });
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  const Answer a = alice.allocate();
  ASSERT_EQ(a.code(), 0);
  const auto relayed = *stun::xor_relayed_address(a.msg());
  EXPECT_EQ(relayed.ip, ip("203.0.113.10"));
  EXPECT_EQ(h.writer.entry(dp::AllocId{0}).relayed, (TransportAddress{kRelayA, relayed.port}));  // bound, not advertised
}

TEST(Allocate, EvenPortAndReservationToken) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  const Answer a = alice.allocate(with([](stun::Builder& b) { b.add_even_port({true}); }));
  ASSERT_EQ(a.code(), 0);
  const auto relayed = *stun::xor_relayed_address(a.msg());
  EXPECT_EQ(relayed.port.value % 2, 0);
  const auto token = stun::reservation_token(a.msg());
  ASSERT_TRUE(token);
  EXPECT_EQ(h.counter(Counter::reservations_live), 1u);

  // Another 5-tuple, even another user, claims N+1 on the same address with the token.
  Client bob(h, "198.51.100.2:40000", "bob", "bob-password");
  const Answer b = bob.allocate(with([&](stun::Builder& bb) { bb.add_reservation_token(*token); }));
  ASSERT_EQ(b.code(), 0);
  const auto next = *stun::xor_relayed_address(b.msg());
  EXPECT_EQ(next.ip, relayed.ip);
  EXPECT_EQ(next.port.value, relayed.port.value + 1);
  // Once only.
  Client carol(h, "198.51.100.3:40000", "carol", "carol-password");
  EXPECT_EQ(carol.allocate(with([&](stun::Builder& bb) { bb.add_reservation_token(*token); })).code(), 508);
  // EVEN-PORT without R: an even port, nothing reserved.
  const Answer c = carol.allocate(with([](stun::Builder& bb) { bb.add_even_port({false}); }));
  ASSERT_EQ(c.code(), 0);
  EXPECT_EQ(stun::xor_relayed_address(c.msg())->port.value % 2, 0);
  EXPECT_FALSE(c.msg().has(AttributeType::reservation_token));
}

TEST(Allocate, ReservationsExpireAfterThirtySeconds) {
  Harness h([](conf::Config& c) {
    c.relay.addresses = {kRelayA};
    c.relay.ports = {Port{50000}, Port{50001}};
  });
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  const Answer a = alice.allocate(with([](stun::Builder& b) { b.add_even_port({true}); }));
  ASSERT_EQ(a.code(), 0);
  const auto token = *stun::reservation_token(a.msg());
  // Both ports are taken: the pool is empty.
  Client bob(h, "198.51.100.2:40000", "bob", "bob-password");
  EXPECT_EQ(bob.allocate().code(), 508);
  h.advance(30);
  h.tick();
  EXPECT_EQ(h.counter(Counter::reservations_expired), 1u);
  Client carol(h, "198.51.100.3:40000", "carol", "carol-password");
  EXPECT_EQ(carol.allocate(with([&](stun::Builder& b) { b.add_reservation_token(token); })).code(), 508);
  // Its port went back to the pool.
  const Answer b = bob.allocate();
  ASSERT_EQ(b.code(), 0);
  EXPECT_EQ(stun::xor_relayed_address(b.msg())->port.value, 50001);
}

TEST(Allocate, AdditionalAddressFamilyIsMetPartially) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  const Answer a = alice.allocate(with([](stun::Builder& b) { b.add_additional_address_family(Family::ipv6); }));
  ASSERT_EQ(a.code(), 0);
  EXPECT_EQ(a.msg().count(AttributeType::xor_relayed_address), 1u);
  EXPECT_TRUE(stun::xor_relayed_address(a.msg())->ip.is_v4());
  const auto error = stun::address_error_code(a.msg());
  ASSERT_TRUE(error);
  EXPECT_EQ(error->family, Family::ipv6);
  EXPECT_EQ(error->code.value, 440);
}

// RFC 8656 §7.2: an IPv4 client asking for an IPv6 relayed address gets one when one is configured
// (the data plane's tables take IPv6 relay addresses: table_writer_contract_test).
TEST(Allocate, Ipv6RelayForAnIpv4Client) {
  Harness h([](conf::Config& c) { c.relay.addresses = {kRelayA, ip("2001:db8::10")}; });
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  const Answer a = alice.allocate(with([](stun::Builder& b) { b.add_requested_address_family(Family::ipv6); }));
  ASSERT_EQ(a.code(), 0);
  const auto relayed = stun::xor_relayed_address(a.msg());
  ASSERT_TRUE(relayed);
  EXPECT_EQ(relayed->ip, ip("2001:db8::10"));
  EXPECT_EQ(*stun::xor_mapped_address(a.msg()), ta("198.51.100.1:40000"));
  EXPECT_EQ(h.writer.entry(dp::AllocId{0}).relayed, *relayed);
  EXPECT_EQ(h.writer.entry(dp::AllocId{0}).five_tuple, alice.five_tuple_of());
  EXPECT_EQ(h.plane().allocations().size(), 1u);
}

TEST(Allocate, Quotas) {
  Harness h([](conf::Config& c) {
    c.limits.user_quota = 2;
    c.limits.total_quota = 3;
  });
  std::vector<Client> alices;
  for (int i = 0; i < 3; ++i) alices.emplace_back(h, "198.51.100.1:" + std::to_string(40000 + i), "alice", "alice-password");
  EXPECT_EQ(alices[0].allocate().code(), 0);
  EXPECT_EQ(alices[1].allocate().code(), 0);
  EXPECT_EQ(alices[2].allocate().code(), 486);  // per user
  Client bob(h, "198.51.100.2:40000", "bob", "bob-password");
  EXPECT_EQ(bob.allocate().code(), 0);
  Client carol(h, "198.51.100.3:40000", "carol", "carol-password");
  EXPECT_EQ(carol.allocate().code(), 486);  // total
  EXPECT_EQ(alices[0].refresh(0).code(), 0);
  EXPECT_EQ(carol.allocate().code(), 0);  // room again
  // REST users count by their user part.
  h.plane().kill_user("carol");
  h.plane().kill_user("bob");
  const auto name = [&](int n) { return std::to_string(h.now.unix + 100 + n) + ":dave"; };
  Client d1(h, "198.51.100.4:40000", name(1), rest_password(h.engine(), kRestSecret, name(1)));
  Client d2(h, "198.51.100.4:40001", name(2), rest_password(h.engine(), kRestSecret, name(2)));
  Client d3(h, "198.51.100.4:40002", name(3), rest_password(h.engine(), kRestSecret, name(3)));
  EXPECT_EQ(d1.allocate().code(), 0);
  EXPECT_EQ(d2.allocate().code(), 0);
  EXPECT_EQ(d3.allocate().code(), 486);
}

TEST(Allocate, InsufficientCapacityAndReuseOnlyAfterTheGracePeriod) {
  Harness h([](conf::Config& c) {
    c.dataplane.table_size = 1;
    c.relay.addresses = {kRelayA};
  });
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  const Answer a = alice.allocate();
  ASSERT_EQ(a.code(), 0);
  const auto port = stun::xor_relayed_address(a.msg())->port;
  Client bob(h, "198.51.100.2:40000", "bob", "bob-password");
  EXPECT_EQ(bob.allocate().code(), 508);  // no slot
  ASSERT_EQ(alice.refresh(0).code(), 0);
  h.tick();
  // Removed, but the data plane's grace period has not passed: slot and port are not reused.
  EXPECT_EQ(h.counter(Counter::slots_awaiting_reclaim), 1u);
  EXPECT_EQ(bob.allocate().code(), 508);
  EXPECT_FALSE(h.plane().ports().is_free({0, port}));
  h.writer.grace();
  h.tick();
  EXPECT_TRUE(h.plane().ports().is_free({0, port}));
  EXPECT_EQ(bob.allocate().code(), 0);
  EXPECT_EQ(h.writer.take_calls().back().substr(0, 17), "add_allocation(0 ");
}

TEST(Allocate, PortsRunOut) {
  Harness h([](conf::Config& c) {
    c.relay.addresses = {kRelayA};
    c.relay.ports = {Port{50000}, Port{50001}};
  });
  for (int i = 0; i < 2; ++i) {
    Client c(h, "198.51.100.1:" + std::to_string(40000 + i), "alice", "alice-password");
    EXPECT_EQ(c.allocate().code(), 0);
  }
  Client c(h, "198.51.100.1:40009", "alice", "alice-password");
  EXPECT_EQ(c.allocate().code(), 508);
}

TEST(Allocate, TableWriteFailureReleasesEverything) {
  Harness h;
  h.writer.result_for = [](const WriterCall& c) {
    return c.op == WriterCall::Op::add_allocation ? dp::WriteResult::no_room : dp::WriteResult::ok;
  };
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  EXPECT_EQ(alice.allocate(with([](stun::Builder& b) { b.add_even_port({true}); })).code(), 508);
  EXPECT_EQ(h.plane().ports().free_count(), 400u);
  EXPECT_EQ(h.counter(Counter::reservations_live), 0u);
  EXPECT_EQ(h.counter(Counter::table_write_failures), 1u);
  h.writer.result_for = nullptr;
  EXPECT_EQ(alice.allocate().code(), 0);
}

TEST(Allocate, DrainRedirectsOrRefuses) {
  Harness h([](conf::Config& c) { c.alternate_server.udp = ta("203.0.113.50:3478"); });
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  h.plane().set_draining(true);
  Client bob(h, "198.51.100.2:40000", "bob", "bob-password");
  const Answer a = bob.allocate();
  ASSERT_EQ(a.code(), 300);
  EXPECT_EQ(*stun::alternate_server(a.msg()), ta("203.0.113.50:3478"));
  EXPECT_TRUE(bob.verifies(a, Integrity::sha1));  // RFC 8489 §10: not forgeable by an off-path sender
  // Existing allocations keep working.
  EXPECT_EQ(alice.refresh().code(), 0);
  EXPECT_EQ(alice.permit({"203.0.113.5:1"}).code(), 0);
  EXPECT_EQ(h.counter(Counter::draining), 1u);
  h.plane().set_draining(false);
  EXPECT_EQ(bob.allocate().code(), 0);

  Harness plain;
  plain.plane().set_draining(true);
  Client carol(plain, "198.51.100.3:40000", "carol", "carol-password");
  EXPECT_EQ(carol.allocate().code(), 508);
}

}  // namespace
}  // namespace tern::ctl::test
