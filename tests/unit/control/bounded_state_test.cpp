// The control plane's bounded structures: the 401 rate limiter, the transaction cache, the expiry
// wheel (also under allocation churn), the REST key cache; and the small helpers (base64, REST usernames, the logger).

#include <gtest/gtest.h>

#include "control/base/base64.hpp"
#include "control/auth/credentials.hpp"
#include "control/allocations/expiry_wheel.hpp"
#include "control/base/log.hpp"
#include "control/auth/rate_limiter.hpp"
#include "control/auth/rest_username.hpp"
#include "control/turn/transaction_cache.hpp"
#include "tests/unit/control/control_test_util.hpp"

namespace tern::ctl::test {
namespace {

TEST(RateLimiter, TokenBucketPerSource) {
  SourceRateLimiter limiter(1, 3, 0);
  const auto a = ip("198.51.100.1");
  const auto b = ip("198.51.100.2");
  EXPECT_TRUE(limiter.allow(a, 10));
  EXPECT_TRUE(limiter.allow(a, 10));
  EXPECT_TRUE(limiter.allow(a, 10));
  EXPECT_FALSE(limiter.allow(a, 10));
  EXPECT_TRUE(limiter.allow(b, 10));  // its own bucket
  EXPECT_TRUE(limiter.allow(a, 11));  // one token a second
  EXPECT_FALSE(limiter.allow(a, 11));
  EXPECT_TRUE(limiter.allow(a, 13));
  EXPECT_TRUE(limiter.allow(a, 13));
  EXPECT_FALSE(limiter.allow(a, 13));
  SourceRateLimiter unlimited(0, 1, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unlimited.allow(a, 10));
}

TEST(RateLimiter, ManySourcesRecycleIdleBucketsNotTheBusyOne) {
  // One set of 8 ways: the whole table.
  SourceRateLimiter limiter(1, 2, 0, SourceRateLimiter::kWays);
  const auto victim = ip("198.51.100.99");
  EXPECT_TRUE(limiter.allow(victim, 10));
  EXPECT_TRUE(limiter.allow(victim, 10));
  EXPECT_FALSE(limiter.allow(victim, 10));
  // Ten thousand forged sources in the same second: the table does not grow, and the empty bucket
  // is never the one given away (the fullest, most idle ones are), so the victim stays limited.
  for (uint32_t i = 0; i < 10000; ++i) limiter.allow(IpAddress::v4(0x0A000000 + i), 10);
  EXPECT_FALSE(limiter.allow(victim, 10));
}

TEST(RateLimiter, TotalAcrossSources) {
  SourceRateLimiter limiter(10, 10, 5);
  for (uint32_t i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(IpAddress::v4(0x0A000000 + i), 10));
  EXPECT_FALSE(limiter.allow(ip("198.51.100.1"), 10));
  EXPECT_TRUE(limiter.allow(ip("198.51.100.1"), 11));
}

TransactionKey key(uint8_t n, std::string_view client = "198.51.100.1:5000") {
  TransactionKey k{five_tuple(client), {}};
  k.id.bytes[0] = n;
  return k;
}

TEST(TransactionCache, KeepsAnswersForFortySeconds) {
  TransactionCache cache(8);
  const std::vector<uint8_t> answer = {1, 2, 3, 4};
  ASSERT_TRUE(cache.store(key(1), answer, 100));
  EXPECT_EQ(std::vector<uint8_t>(cache.find(key(1), 139).begin(), cache.find(key(1), 139).end()), answer);
  EXPECT_TRUE(cache.find(key(2), 100).empty());
  EXPECT_TRUE(cache.find(key(1, "198.51.100.1:5001"), 100).empty());  // another 5-tuple
  EXPECT_TRUE(cache.find(key(1), 140).empty());
  const std::vector<uint8_t> other = {9};
  EXPECT_TRUE(cache.store(key(1), other, 100));  // the first answer stands
  EXPECT_EQ(cache.find(key(1), 100)[0], 1);
  cache.expire(140);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.store(key(3), std::vector<uint8_t>(kCachedResponseSize + 1), 100));
}

TEST(TransactionCache, BoundedOldestFirst) {
  TransactionCache cache(4);
  const std::vector<uint8_t> answer = {7};
  for (uint8_t i = 0; i < 10; ++i) ASSERT_TRUE(cache.store(key(i), answer, 100 + i));
  EXPECT_EQ(cache.size(), 4u);
  for (uint8_t i = 0; i < 6; ++i) EXPECT_TRUE(cache.find(key(i), 110).empty()) << int(i);
  for (uint8_t i = 6; i < 10; ++i) EXPECT_FALSE(cache.find(key(i), 110).empty()) << int(i);
  cache.expire(147);  // 6 and 7 are 40 s old
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_TRUE(cache.store(key(20), answer, 147));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.find(key(9), 147).empty());
}

TEST(ExpiryWheel, FiresAtTheSecondAndNotBefore) {
  ExpiryWheel wheel(8);
  std::vector<std::pair<dp::AllocId, dp::TableTime>> fired;
  auto record = [&](dp::AllocId id, uint64_t, dp::TableTime when) { fired.push_back({id, when}); };
  wheel.advance(100, record);
  wheel.schedule(dp::AllocId{1}, 1, 105);
  wheel.schedule(dp::AllocId{2}, 2, 300);  // many laps ahead
  wheel.schedule(dp::AllocId{3}, 3, 50);   // already due: the next sweep
  wheel.advance(101, record);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].first, dp::AllocId{3});
  wheel.advance(104, record);
  EXPECT_EQ(fired.size(), 1u);
  wheel.advance(105, record);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[1].first, dp::AllocId{1});
  wheel.advance(299, record);
  EXPECT_EQ(fired.size(), 2u);
  wheel.advance(5000, record);  // a jump of many laps
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[2].first, dp::AllocId{2});
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(ExpiryWheel, CompactKeepsOnlyWhatStillCounts) {
  ExpiryWheel wheel(8);
  for (uint32_t n = 0; n < 100; ++n) wheel.schedule(dp::AllocId{n}, n, 110 + n % 20);
  EXPECT_EQ(wheel.size(), 100u);
  wheel.compact([](dp::AllocId id, uint64_t, dp::TableTime) { return dp::slot_index(id) % 2 == 1; });
  EXPECT_EQ(wheel.size(), 50u);
  std::vector<dp::AllocId> fired;
  wheel.advance(200, [&](dp::AllocId id, uint64_t, dp::TableTime) { fired.push_back(id); });
  ASSERT_EQ(fired.size(), 50u);
  for (const auto id : fired) EXPECT_EQ(dp::slot_index(id) % 2, 0u);
  EXPECT_EQ(wheel.size(), 0u);
}

// Allocations deleted at once (Allocate, then Refresh with LIFETIME 0) leave expiry entries that
// would wait out a whole lifetime; the wheel stays in proportion to the live allocations instead.
TEST(ExpiryWheel, AllocationChurnDoesNotPileUpEntries) {
  Harness h;  // 64 slots, reclaimed once a second: 48 allocations a second, for 500 seconds
  std::vector<Client> clients;
  for (int i = 0; i < 8; ++i) clients.emplace_back(h, "198.51.100.1:" + std::to_string(5000 + i), "alice", "alice-password");
  size_t most = 0;
  for (int second = 0; second < 500; ++second) {
    for (int round = 0; round < 6; ++round) {
      for (auto& c : clients) {
        ASSERT_EQ(c.allocate().code(), 0);
        ASSERT_EQ(c.refresh(0).code(), 0);
      }
    }
    h.advance(1);
    h.writer.grace();
    h.tick();
    most = std::max(most, h.plane().allocations().scheduled_entries());
  }
  EXPECT_EQ(h.counter(Counter::allocations_deleted), 500u * 6 * 8);
  EXPECT_LE(most, Allocations::kWheelSlack + 48);  // a second's worth past the slack
  // The allocations that remain are still visited: one lives on, and expires on time.
  ASSERT_EQ(clients[0].allocate().code(), 0);
  h.advance(601);
  h.tick();
  EXPECT_EQ(h.counter(Counter::allocations_expired), 1u);
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    std::string out(base64_size(plain.size()), '?');
    EXPECT_EQ(base64_encode(bytes_of(plain), out), encoded.size());
    EXPECT_EQ(out, encoded);
    std::vector<uint8_t> back(plain.size());
    EXPECT_TRUE(base64_decode(encoded, back)) << encoded;
    EXPECT_EQ(std::string(back.begin(), back.end()), plain);
  }
  std::vector<uint8_t> two(2);
  EXPECT_FALSE(base64_decode("Zm9v", two));
  EXPECT_FALSE(base64_decode("Zm=v", two));
  std::vector<uint8_t> three(3);
  EXPECT_FALSE(base64_decode("Zm9!", three));
}

TEST(RestUsername, TheThreeForms) {
  auto p = parse_rest_username("1700000000:alice");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->expiry, 1700000000);
  EXPECT_EQ(p->user, "alice");
  p = parse_rest_username("alice:1700000000");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->expiry, 1700000000);
  EXPECT_EQ(p->user, "alice");
  p = parse_rest_username("1700000000");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user, "");
  p = parse_rest_username("1700000000:team:alice");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user, "team:alice");
  p = parse_rest_username("team:alice:1700000000");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user, "team:alice");
  for (const char* bad : {"alice", "alice:bob", "", ":", "12345678901234567890:x", "x:1234567890123456789", "-1:x"})
    EXPECT_FALSE(parse_rest_username(bad)) << bad;
}

TEST(Credentials, RestKeysAsTheApiDefinesThem) {
  auto engine = crypto::make_default_engine();
  Credentials creds(*engine, std::string(kRealm), 4);
  const std::vector<std::string> secrets = {"new-secret", "old-secret"};
  creds.set_secrets(secrets);
  EXPECT_TRUE(creds.has_secrets(secrets));
  EXPECT_FALSE(creds.has_secrets(std::vector<std::string>{"old-secret", "new-secret"}));
  const std::string user = "1700000600:alice";
  const auto keys = creds.derive_rest(user, 1);
  const std::string password = rest_password(*engine, "old-secret", user);
  EXPECT_EQ(password.size(), 28u);
  EXPECT_EQ(keys.md5, conf::md5_key(*engine, user, kRealm, password));
  ASSERT_TRUE(keys.sha256);
  EXPECT_EQ(*keys.sha256, conf::sha256_key(*engine, user, kRealm, password));
  // The cache is bounded.
  for (int i = 0; i < 50; ++i) creds.remember_rest("1700000600:u" + std::to_string(i), 1700000600, 0, keys);
  EXPECT_LE(creds.rest_cached(), 4u);
  EXPECT_TRUE(creds.find_rest("1700000600:u49"));
  EXPECT_FALSE(creds.find_rest("1700000600:u0"));
  creds.set_secrets(secrets);  // changing the secrets empties it
  EXPECT_EQ(creds.rest_cached(), 0u);
}

TEST(Credentials, StaticUsersAndUserhash) {
  auto engine = crypto::make_default_engine();
  Credentials creds(*engine, std::string(kRealm));
  creds.add_user(make_user(*engine, "alice", "pw"));
  creds.add_user(make_user(*engine, "carol", "pw", false));
  ASSERT_TRUE(creds.find_user("alice"));
  EXPECT_TRUE(creds.find_user("alice")->keys.has(stun::PasswordAlgorithm::sha256));
  EXPECT_FALSE(creds.find_user("carol")->keys.has(stun::PasswordAlgorithm::sha256));
  EXPECT_EQ(creds.find_user("carol")->keys.get(stun::PasswordAlgorithm::sha256, stun::Integrity::sha1), nullptr);
  const auto hash = *stun::compute_userhash("alice", kRealm, *engine);
  ASSERT_TRUE(creds.find_userhash(hash));
  EXPECT_EQ(creds.find_userhash(hash)->name, "alice");
  EXPECT_EQ(Credentials::offer_for(creds.find_user("carol")->keys), AlgorithmOffer{AlgorithmOffer::kMd5});
  EXPECT_TRUE(creds.remove_user("alice"));
  EXPECT_FALSE(creds.find_userhash(hash));
  EXPECT_FALSE(creds.remove_user("alice"));
  // Only carol is left, who has no SHA-256 key, and there are no secrets: MD5 alone is offered.
  EXPECT_EQ(creds.default_offer(), AlgorithmOffer{AlgorithmOffer::kMd5});
}

TEST(Logger, KeyValueLinesEscapedAndFiltered) {
  std::vector<std::string> lines;
  Logger logger(LogLevel::info, [&](LogLevel, std::string_view l) { lines.emplace_back(l); });
  logger.line(LogLevel::debug, "hidden").kv("x", 1);
  logger.line(LogLevel::info, "allocation_created")
      .kv("user", "al ice\n level=error")
      .kv(five_tuple("198.51.100.1:5000"))
      .kv("relayed", ta("192.0.2.10:50000"))
      .kv("lifetime", 600u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "level=info event=allocation_created user=\"al ice\\x0a level=error\" client=198.51.100.1:5000 "
            "server=192.0.2.1:3478 transport=udp relayed=192.0.2.10:50000 lifetime=600");
}

}  // namespace
}  // namespace tern::ctl::test
