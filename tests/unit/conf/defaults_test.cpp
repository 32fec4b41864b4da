#include <gtest/gtest.h>

#include "conf/config.hpp"
#include "conf_text.hpp"

namespace tern::conf {
namespace {

using namespace std::chrono_literals;

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

void expect_defaults_except_required(const Config& c) {
  EXPECT_EQ(c.software, "");
  EXPECT_EQ(c.alternate_server, AlternateServer{});
  EXPECT_EQ(c.relay.ports.min.value, 49152);
  EXPECT_EQ(c.relay.ports.max.value, 65535);
  EXPECT_EQ(c.relay.ports.size(), 16384u);
  EXPECT_TRUE(c.relay.external.empty());
  EXPECT_TRUE(c.auth.users.empty());
  EXPECT_EQ(c.auth.nonce_lifetime, 600s);
  EXPECT_EQ(c.auth.unauthenticated_rate, 10u);
  EXPECT_EQ(c.auth.unauthenticated_burst, 20u);
  EXPECT_EQ(c.lifetimes.allocation_default, 600s);
  EXPECT_EQ(c.lifetimes.allocation_max, 3600s);
  EXPECT_EQ(c.lifetimes.permission, 300s);
  EXPECT_EQ(c.lifetimes.channel, 600s);
  EXPECT_EQ(c.limits.user_quota, 0u);
  EXPECT_EQ(c.limits.total_quota, 0u);
  EXPECT_EQ(c.limits.max_bps, 0u);
  EXPECT_EQ(c.limits.allocation_pps, 5000u);  // on: a flood from one credential is cut in the worker
  EXPECT_EQ(c.limits.new_peers_per_second, 20u);
  EXPECT_EQ(c.limits.new_peers_burst, 64u);
  EXPECT_EQ(c.limits.permissions_per_allocation, 256u);
  EXPECT_EQ(c.limits.channels_per_allocation, 256u);
  EXPECT_EQ(c.limits.allocations_per_address, 2000u);
  EXPECT_TRUE(c.limits.allocations_per_address_exempt.empty());
  EXPECT_TRUE(c.peers.allow.empty());
  EXPECT_TRUE(c.peers.deny.empty());
  EXPECT_EQ(c.control.socket, "/run/tern/ternd.sock");
  ASSERT_TRUE(c.control.metrics);
  EXPECT_EQ(c.control.metrics->to_string(), "127.0.0.1:9641");
  EXPECT_EQ(c.log.level, LogLevel::info);
  EXPECT_FALSE(c.log.syslog);
  EXPECT_TRUE(c.dataplane.eal.empty());
  EXPECT_EQ(c.dataplane.table_size, 65536u);
  EXPECT_EQ(c.dataplane.mbufs, 16383u);
}

TEST(Defaults, ValueInitialisedConfig) {
  const Config c;
  EXPECT_EQ(c.realm, "");
  EXPECT_TRUE(c.listen.udp.empty());
  EXPECT_TRUE(c.relay.addresses.empty());
  EXPECT_TRUE(c.auth.secrets.empty());
  EXPECT_TRUE(c.dataplane.ports.empty());
  expect_defaults_except_required(c);
}

TEST(Defaults, LoaderLeavesUnsetSettingsAtTheirDefaults) {
  const auto c = testing::load_ok(testing::ConfText{});
  ASSERT_TRUE(c);
  expect_defaults_except_required(*c);
}

TEST(Defaults, ConstantsAreWhatTheyClaim) {
  EXPECT_EQ(kDefaultRelayPortMin.value, 49152);
  EXPECT_EQ(kDefaultRelayPortMax.value, 65535);
  EXPECT_EQ(kDefaultMetrics, (TransportAddress{ip("127.0.0.1"), Port{9641}}));
  EXPECT_GE(kMaxTableSize, 1'000'000u);
}

TEST(Defaults, LogLevelNames) {
  for (const auto level :
       {LogLevel::debug, LogLevel::info, LogLevel::notice, LogLevel::warning, LogLevel::error})
    EXPECT_EQ(parse_log_level(to_string(level)), level);
  EXPECT_EQ(to_string(LogLevel::warning), "warning");
  EXPECT_FALSE(parse_log_level("warn"));
  EXPECT_FALSE(parse_log_level("INFO"));
  EXPECT_FALSE(parse_log_level(""));
}

bool denied(std::string_view text) {
  const auto address = ip(text).canonical();
  for (const auto& prefix : default_peer_deny())
    if (prefix.contains(address)) return true;
  return false;
}

TEST(Defaults, PeerDenyList) {
  for (const std::string_view bad : {"0.0.0.0",
                                     "127.0.0.1",
                                     "127.255.0.9",
                                     "10.1.2.3",
                                     "172.16.0.1",
                                     "172.31.255.255",
                                     "192.168.1.1",
                                     "100.64.0.1",
                                     "100.100.100.200",
                                     "169.254.169.254",
                                     "224.0.0.1",
                                     "239.255.255.250",
                                     "255.255.255.255",
                                     "::",
                                     "::1",
                                     "fd00:ec2::254",
                                     "fc00::1",
                                     "fe80::1",
                                     "fec0::1",
                                     "ff02::1",
                                     "64:ff9b:1::a00:1",
                                     "::ffff:127.0.0.1",
                                     "::ffff:10.0.0.1"})
    EXPECT_TRUE(denied(bad)) << bad;
  for (const std::string_view good :
       {"8.8.8.8", "203.0.113.7", "172.32.0.1", "192.169.0.1", "100.128.0.1", "1.1.1.1",
        "2001:4860:4860::8888", "2606:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"})
    EXPECT_FALSE(denied(good)) << good;
}

}  // namespace
}  // namespace tern::conf
