// Long-term credential authentication through the control plane (RFC 8489 §9.2): the 401
// challenge, every failure in the RFC's order, MESSAGE-INTEGRITY-SHA256, PASSWORD-ALGORITHMS and
// bid-down protection, USERHASH, stale nonces, TURN REST API credentials with secret rotation,
// batched verification, and the rate limit on answers to unauthenticated requests.

#include <gtest/gtest.h>

#include "tests/unit/control/control_test_util.hpp"

namespace tern::ctl::test {
namespace {

using stun::AttributeType;
using stun::Integrity;
using stun::Method;
using stun::PasswordAlgorithm;

TEST(Auth, ChallengeCarriesRealmNonceAndAlgorithmsAndNothingElse) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  const Answer a = alice.challenge();
  ASSERT_EQ(a.code(), 401);
  EXPECT_EQ(stun::error_code(a.msg())->reason, "Unauthenticated");
  EXPECT_EQ(*stun::realm(a.msg()), kRealm);
  const auto nonce = stun::nonce(a.msg());
  ASSERT_TRUE(nonce);
  EXPECT_EQ(nonce->substr(0, 13), "obMatJos2AAAD");
  // SHA-256 first, then MD5 (the REST secrets and alice can use SHA-256).
  EXPECT_EQ(alice.offered(), (std::vector<uint8_t>{0, 2, 0, 0, 0, 1, 0, 0}));
  // RFC 8489 §9.2.4: "The response SHOULD NOT contain a USERNAME, USERHASH, MESSAGE-INTEGRITY, or
  // MESSAGE-INTEGRITY-SHA256 attribute." tern also leaves out SOFTWARE: the answer stays small.
  EXPECT_EQ(a.msg().attribute_count(), 4u);
  EXPECT_FALSE(a.msg().has(AttributeType::software));
  EXPECT_LE(a.bytes().size(), 20u + 24 + 16 + 40 + 12);
  EXPECT_EQ(h.counter(Counter::auth_challenges), 1u);
  EXPECT_EQ(h.counter(Counter::responses_401), 1u);
  // Nothing was created or cached for an unauthenticated request.
  EXPECT_TRUE(h.writer.calls.empty());
  EXPECT_EQ(h.counter(Counter::transactions_cached), 0u);
}

TEST(Auth, AuthenticatedRequestIsAnsweredAndSignedWithTheSameKey) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  const Answer a = alice.allocate();
  ASSERT_EQ(a.code(), 0);
  EXPECT_TRUE(a.msg().has_message_integrity());
  EXPECT_FALSE(a.msg().has_message_integrity_sha256());
  EXPECT_TRUE(alice.verifies(a, Integrity::sha1));
  // RFC 8489 §9.2.4: with MD5 processing "the REALM, NONCE, and PASSWORD-ALGORITHMS attributes
  // SHOULD NOT be included".
  EXPECT_FALSE(a.msg().has(AttributeType::realm));
  EXPECT_FALSE(a.msg().has(AttributeType::nonce));
}

TEST(Auth, IntegrityAttributesOfTheRequestAreTheAnswers) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.challenge();
  const Answer sha256 = alice.send(Method::allocate, udp_transport, {.integrity = Integrity::sha256});
  ASSERT_EQ(sha256.code(), 0);
  EXPECT_FALSE(sha256.msg().has_message_integrity());
  EXPECT_TRUE(alice.verifies(sha256, Integrity::sha256));
  const Answer both = alice.refresh({}, {.both = true, .fingerprint = true});
  ASSERT_EQ(both.code(), 0);
  EXPECT_TRUE(alice.verifies(both, Integrity::sha1));
  EXPECT_TRUE(alice.verifies(both, Integrity::sha256));
  EXPECT_TRUE(both.msg().has_fingerprint());  // parse() checked its value
}

TEST(Auth, MissingCredentialAttributesIs400) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.challenge();
  // MESSAGE-INTEGRITY without USERNAME, REALM and NONCE: build one by hand.
  std::vector<uint8_t> buffer(256);
  stun::Builder b(buffer, {Method::allocate, stun::MessageClass::request}, alice.next_id());
  b.add_requested_transport({});
  b.add_realm(kRealm);
  b.add_nonce(alice.nonce());
  b.add_message_integrity(alice.key(PasswordAlgorithm::md5, Integrity::sha1), h.engine());
  const auto built = b.finish();
  const Answer a = h.send(alice.five_tuple_of(), built.bytes);
  EXPECT_EQ(a.code(), 400);
  // "This response SHOULD NOT include a USERNAME, USERHASH, NONCE, or REALM attribute."
  EXPECT_FALSE(a.msg().has(AttributeType::nonce));
  EXPECT_FALSE(a.msg().has(AttributeType::realm));
  EXPECT_FALSE(a.msg().has_message_integrity());
  EXPECT_EQ(h.counter(Counter::auth_missing_attributes), 1u);
}

TEST(Auth, InvalidCredentialsAre401) {
  Harness h;
  Client mallory(h, "198.51.100.2:40000", "mallory", "guess");
  mallory.challenge();
  Answer a = mallory.allocate();
  EXPECT_EQ(a.code(), 401);
  EXPECT_TRUE(a.msg().has(AttributeType::nonce));
  EXPECT_TRUE(a.msg().has(AttributeType::password_algorithms));
  EXPECT_EQ(h.counter(Counter::auth_unknown_user), 1u);

  Client alice(h, "198.51.100.1:40000", "alice", "wrong-password");
  alice.challenge();
  a = alice.allocate();
  EXPECT_EQ(a.code(), 401);
  EXPECT_FALSE(a.msg().has_message_integrity());
  EXPECT_EQ(h.counter(Counter::auth_bad_integrity), 1u);

  alice.set_password("alice-password");
  a = alice.allocate(udp_transport, {.corrupt = true});
  EXPECT_EQ(a.code(), 401);
  EXPECT_EQ(h.counter(Counter::auth_bad_integrity), 2u);

  // RFC 8489 §9.2.2: the key covers the realm; another REALM cannot be ours.
  a = alice.allocate(udp_transport, {.realm = "other.example"});
  EXPECT_EQ(a.code(), 401);
  EXPECT_EQ(*stun::realm(a.msg()), kRealm);
  EXPECT_EQ(h.counter(Counter::auth_wrong_realm), 1u);
  EXPECT_TRUE(h.logged("event=auth_failed reason=wrong_realm method=Allocate user=alice"));
  EXPECT_TRUE(h.writer.calls.empty());

  // And the right credentials still work.
  EXPECT_EQ(alice.allocate().code(), 0);
}

TEST(Auth, StaleNonceIs438WithAFreshNonce) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.challenge();
  const std::string first = alice.nonce();
  h.advance(600);  // auth.nonce_lifetime
  Answer a = alice.allocate();
  ASSERT_EQ(a.code(), 438);
  EXPECT_EQ(*stun::realm(a.msg()), kRealm);
  EXPECT_NE(alice.nonce(), first);
  EXPECT_EQ(alice.nonce().substr(0, 9), "obMatJos2");
  EXPECT_TRUE(a.msg().has(AttributeType::password_algorithms));
  EXPECT_EQ(alice.allocate().code(), 0);  // with the new one

  // A nonce issued to another client is stale for this one, as is a forged one.
  Client bob(h, "198.51.100.3:40000", "bob", "bob-password");
  bob.set_nonce(alice.nonce());
  EXPECT_EQ(bob.allocate().code(), 438);
  EXPECT_EQ(bob.allocate().code(), 0);
  Client carol(h, "198.51.100.4:40000", "carol", "carol-password");
  carol.set_nonce("obMatJos2AAADAAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(carol.allocate().code(), 438);
  EXPECT_EQ(h.counter(Counter::auth_stale_nonce), 3u);
  // A wrong key and a stale nonce: the integrity check comes first (401).
  Client eve(h, "198.51.100.5:40000", "alice", "not-it");
  eve.set_nonce("obMatJos2AAADAAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(eve.allocate().code(), 401);
}

TEST(Auth, NonceExpiresDuringAnAllocation) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  h.advance(300);
  ASSERT_EQ(alice.refresh().code(), 0);  // the allocation's nonce needs no new HMAC, still fresh
  h.advance(300);
  EXPECT_EQ(alice.refresh().code(), 438);  // RFC 8656 §5: nonces expire during an allocation
  EXPECT_EQ(alice.refresh().code(), 0);
}

TEST(Auth, Sha256PasswordAlgorithm) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.challenge();
  const Answer a = alice.send(Method::allocate, udp_transport,
                              {.integrity = Integrity::sha256, .algorithm = PasswordAlgorithm::sha256});
  ASSERT_EQ(a.code(), 0);
  EXPECT_TRUE(alice.verifies(a, Integrity::sha256, PasswordAlgorithm::sha256));
  EXPECT_FALSE(alice.verifies(a, Integrity::sha256, PasswordAlgorithm::md5));
  // MD5 chosen explicitly from the offer works too, with the MD5 key.
  const Answer md5 = alice.refresh({}, {.algorithm = PasswordAlgorithm::md5});
  ASSERT_EQ(md5.code(), 0);
  EXPECT_TRUE(alice.verifies(md5, Integrity::sha1, PasswordAlgorithm::md5));
  // A request that negotiated an algorithm gets MESSAGE-INTEGRITY-SHA256 back even when it sent
  // MESSAGE-INTEGRITY alone (RFC 8489 §9.2.4); a legacy request does not.
  EXPECT_TRUE(alice.verifies(md5, Integrity::sha256, PasswordAlgorithm::md5));
  const Answer legacy = alice.refresh();
  ASSERT_EQ(legacy.code(), 0);
  EXPECT_FALSE(legacy.msg().has_message_integrity_sha256());
}

TEST(Auth, BidDownIs400) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.challenge();
  const auto offered = alice.offered();
  auto send_with = [&](std::vector<uint8_t> algorithms, std::optional<PasswordAlgorithm> choice) {
    const auto request = alice.build(Method::allocate, [&](stun::Builder& b) {
      b.add_requested_transport({});
      b.add_username("alice");
      b.add_realm(kRealm);
      b.add_nonce(alice.nonce());
      if (!algorithms.empty()) b.add_raw(static_cast<uint16_t>(AttributeType::password_algorithms), algorithms);
      if (choice) b.add_password_algorithm({*choice, {}});
      b.add_message_integrity(alice.key(choice.value_or(PasswordAlgorithm::md5), Integrity::sha1), h.engine());
    }, {.no_credentials = true});
    return alice.resend(request);
  };
  // An attacker stripped SHA-256 from the offer: the echo no longer matches the nonce's.
  EXPECT_EQ(send_with({0, 1, 0, 0}, PasswordAlgorithm::md5).code(), 400);
  // Reordered.
  EXPECT_EQ(send_with({0, 1, 0, 0, 0, 2, 0, 0}, PasswordAlgorithm::md5).code(), 400);
  // PASSWORD-ALGORITHM without PASSWORD-ALGORITHMS, and the other way round.
  EXPECT_EQ(send_with({}, PasswordAlgorithm::sha256).code(), 400);
  EXPECT_EQ(send_with(offered, std::nullopt).code(), 400);
  // An algorithm that was not offered.
  EXPECT_EQ(send_with(offered, static_cast<PasswordAlgorithm>(3)).code(), 400);
  EXPECT_EQ(h.counter(Counter::auth_bid_down), 5u);
  // The honest echo, and the legacy client that sends neither.
  EXPECT_EQ(send_with(offered, PasswordAlgorithm::md5).code(), 0);
  EXPECT_EQ(alice.refresh().code(), 0);
}

TEST(Auth, UserWithoutSha256KeyIsOfferedMd5Only) {
  Harness h;
  Client carol(h, "198.51.100.1:40000", "carol", "carol-password");
  carol.challenge();
  ASSERT_EQ(carol.offered().size(), 8u);  // the first 401 does not know who asks
  const Answer a = carol.send(Method::allocate, udp_transport,
                              {.integrity = Integrity::sha256, .algorithm = PasswordAlgorithm::sha256});
  ASSERT_EQ(a.code(), 401);
  EXPECT_EQ(carol.offered(), (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(h.counter(Counter::auth_no_key), 1u);
  const Answer b = carol.send(Method::allocate, udp_transport,
                              {.integrity = Integrity::sha256, .algorithm = PasswordAlgorithm::md5});
  ASSERT_EQ(b.code(), 0);
  EXPECT_TRUE(carol.verifies(b, Integrity::sha256, PasswordAlgorithm::md5));
}

TEST(Auth, Userhash) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  alice.challenge();
  const Answer a = alice.send(Method::allocate, udp_transport,
                              {.integrity = Integrity::sha256, .userhash = true, .algorithm = PasswordAlgorithm::sha256});
  ASSERT_EQ(a.code(), 0);
  EXPECT_TRUE(alice.verifies(a, Integrity::sha256, PasswordAlgorithm::sha256));
  EXPECT_EQ(h.plane().list_allocations({}, h.now)[0].user, "alice");
  // Later requests may use USERNAME: the same user.
  EXPECT_EQ(alice.refresh().code(), 0);
  Client nobody(h, "198.51.100.2:40000", "nobody", "x");
  nobody.challenge();
  EXPECT_EQ(nobody.send(Method::allocate, udp_transport, {.userhash = true}).code(), 401);
}

TEST(Auth, WrongCredentialsOnAnotherUsersAllocation) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  // bob authenticates fine but on alice's 5-tuple: RFC 8656 §5, 441.
  Client bob(h, "198.51.100.1:40000", "bob", "bob-password");
  bob.set_nonce(alice.nonce());
  const Answer a = bob.refresh();
  EXPECT_EQ(a.code(), 441);
  EXPECT_TRUE(bob.verifies(a, Integrity::sha1));
  EXPECT_EQ(bob.permit({"203.0.113.5:1"}).code(), 441);
  EXPECT_EQ(h.counter(Counter::auth_wrong_credentials), 2u);
  EXPECT_EQ(h.writer.permissions(dp::AllocId{0}).size(), 0u);
}

TEST(Auth, RestCredentialsBothForms) {
  Harness h;
  const int64_t expiry = h.now.unix + 3600;
  int host = 10;
  for (const std::string& username : std::vector<std::string>{std::to_string(expiry) + ":dave", "erin:" + std::to_string(expiry),
                                     std::to_string(expiry)}) {
    Client c(h, "198.51.100." + std::to_string(host++) + ":40000", username,
             rest_password(h.engine(), kRestSecret, username));
    const Answer a = c.allocate();
    EXPECT_EQ(a.code(), 0) << username;
    EXPECT_TRUE(c.verifies(a, Integrity::sha1)) << username;
    // SHA-256 works for REST credentials too.
    EXPECT_EQ(c.refresh({}, {.integrity = Integrity::sha256, .algorithm = PasswordAlgorithm::sha256}).code(), 0);
  }
  // The quota counts the user part.
  const auto list = h.plane().list_allocations({}, h.now);
  ASSERT_EQ(list.size(), 3u);
}

TEST(Auth, RestUsernamesExpire) {
  Harness h;
  const std::string username = std::to_string(h.now.unix + 10) + ":dave";
  Client c(h, "198.51.100.1:40000", username, rest_password(h.engine(), kRestSecret, username));
  ASSERT_EQ(c.allocate().code(), 0);
  h.advance(10);
  const Answer a = c.refresh();
  EXPECT_EQ(a.code(), 401);
  EXPECT_EQ(h.counter(Counter::auth_rest_expired), 1u);
  // A wrong password for a good username.
  const std::string other = std::to_string(h.now.unix + 100) + ":dave";
  Client d(h, "198.51.100.2:40000", other, "not-the-hmac");
  EXPECT_EQ(d.allocate().code(), 401);
}

TEST(Auth, RestSecretRotationAndKeyCache) {
  Harness h;
  const std::string username = std::to_string(h.now.unix + 3600) + ":dave";
  const std::string old_password = rest_password(h.engine(), kRestSecret, username);
  Client c(h, "198.51.100.1:40000", username, old_password);
  ASSERT_EQ(c.allocate().code(), 0);
  const uint64_t derived = h.plane().authenticator().rest_derivations();
  EXPECT_EQ(derived, 1u);
  ASSERT_EQ(c.refresh().code(), 0);
  EXPECT_EQ(h.plane().authenticator().rest_derivations(), derived);  // cached: no MD5, no pads

  // Rotation: the new secret first, the old one still accepted.
  const std::vector<std::string> rotated = {"south-secret", std::string(kRestSecret)};
  h.plane().set_secrets(rotated);
  EXPECT_EQ(c.refresh().code(), 0);
  const std::string fresh_name = std::to_string(h.now.unix + 3600) + ":frank";
  Client f(h, "198.51.100.2:40000", fresh_name, rest_password(h.engine(), "south-secret", fresh_name));
  EXPECT_EQ(f.allocate().code(), 0);
  // The old secret retired: its credentials stop working, live allocations stay until they expire.
  h.plane().set_secrets(std::vector<std::string>{"south-secret"});
  EXPECT_EQ(c.refresh().code(), 401);
  EXPECT_EQ(f.refresh().code(), 0);
  EXPECT_EQ(h.plane().allocations().size(), 2u);
}

TEST(Auth, StaticUsersChangeLive) {
  Harness h;
  Client alice(h, "198.51.100.1:40000", "alice", "alice-password");
  ASSERT_EQ(alice.allocate().code(), 0);
  EXPECT_TRUE(h.plane().remove_user("alice"));
  EXPECT_EQ(alice.refresh().code(), 401);
  EXPECT_EQ(h.plane().allocations().size(), 1u);  // still there until it expires or is killed
  Client gina(h, "198.51.100.2:40000", "gina", "gina-password");
  EXPECT_EQ(gina.allocate().code(), 401);
  h.plane().add_user(make_user(h.engine(), "gina", "gina-password"));
  EXPECT_EQ(gina.allocate().code(), 0);
  EXPECT_TRUE(h.logged("event=user_added user=gina"));
  for (const auto& line : h.log) EXPECT_EQ(line.find("gina-password"), std::string::npos);
}

TEST(Auth, OneVerifyBatchPerBurst) {
  Harness h;
  std::vector<Client> clients;
  for (int i = 0; i < 32; ++i) {
    clients.emplace_back(h, "198.51.100." + std::to_string(1 + i) + ":41000", "alice", "alice-password");
    ASSERT_EQ(clients.back().allocate().code(), 0);
  }
  // 32 Refresh requests whose nonces each allocation has verified: 32 checks, one batch.
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<Request> burst;
  for (auto& c : clients) bytes.push_back(c.build(Method::refresh, {}));
  for (size_t i = 0; i < clients.size(); ++i) burst.push_back({clients[i].five_tuple_of(), bytes[i]});
  auto answers = h.burst(burst);
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_EQ(answers[i].code(), 0) << i;
    EXPECT_TRUE(clients[i].verifies(answers[i], Integrity::sha1));
  }
  EXPECT_EQ(h.plane().authenticator().last_batches(), 1u);
  // A burst with one bad tag among them: only that one fails.
  bytes.clear();
  for (size_t i = 0; i < clients.size(); ++i) bytes.push_back(clients[i].build(Method::refresh, {}, {.corrupt = i == 7}));
  for (size_t i = 0; i < clients.size(); ++i) burst[i].bytes = bytes[i];
  answers = h.burst(burst);
  for (size_t i = 0; i < answers.size(); ++i) EXPECT_EQ(answers[i].code(), i == 7 ? 401 : 0) << i;
}

TEST(Auth, AnswersToUnauthenticatedRequestsAreRateLimited) {
  Harness h([](conf::Config& c) {
    c.auth.unauthenticated_rate = 2;
    c.auth.unauthenticated_burst = 3;
  });
  Client a(h, "198.51.100.1:40000", "alice", "alice-password");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a.challenge().code(), 401);
  EXPECT_EQ(a.challenge().code(), -1);  // dropped silently
  Client other_port(h, "198.51.100.1:40001", "alice", "alice-password");
  EXPECT_EQ(other_port.challenge().code(), -1);  // per source address, not port
  Client b(h, "198.51.100.2:40000", "alice", "alice-password");
  EXPECT_EQ(b.challenge().code(), 401);
  EXPECT_EQ(h.counter(Counter::unauthenticated_rate_limited), 2u);
  h.advance(1);
  EXPECT_EQ(a.challenge().code(), 401);
  EXPECT_EQ(a.challenge().code(), 401);
  EXPECT_EQ(a.challenge().code(), -1);
  // Authenticated requests are not limited, nor is 438 (its integrity verified).
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.refresh().code(), 437);
  a.set_nonce("obMatJos2AAADAAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(a.refresh().code(), 438);
}

}  // namespace
}  // namespace tern::ctl::test
