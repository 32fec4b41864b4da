// The peer policy: canonical forms of IPv4 inside IPv6, the built-in deny list, our own addresses,
// and peers.allow / peers.deny, against a table of hostile addresses.

#include <gtest/gtest.h>

#include "control/turn/peer_policy.hpp"
#include "tests/unit/control/control_test_util.hpp"

namespace tern::ctl::test {
namespace {

TEST(CanonicalPeer, EmbeddedIpv4Forms) {
  struct Case {
    const char* address;
    const char* canonical;
  };
  const Case cases[] = {
      {"::ffff:127.0.0.1", "127.0.0.1"},            // IPv4-mapped
      {"::127.0.0.1", "127.0.0.1"},                 // IPv4-compatible
      {"::ffff:0:10.1.2.3", "10.1.2.3"},            // SIIT IPv4-translated
      {"64:ff9b::a9fe:a9fe", "169.254.169.254"},    // NAT64 well-known prefix
      {"2002:7f00:1::1", "127.0.0.1"},              // 6to4
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"},  // Teredo: client 192.0.2.45 obfuscated
      {"::", "::"},                                 // not IPv4-compatible
      {"::1", "::1"},
      {"2001:db8::1", "2001:db8::1"},
      {"8.8.8.8", "8.8.8.8"},
  };
  for (const auto& c : cases) EXPECT_EQ(canonical_peer(ip(c.address)), ip(c.canonical)) << c.address;
  const auto teredo = embedded_ipv4(ip("2001:0:4136:e378:8000:63bf:3fff:fdd2"));
  ASSERT_EQ(teredo.count, 2);
  EXPECT_EQ(teredo.addresses[1], ip("65.54.227.120"));  // the Teredo server
}

class PeerPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conf::Config config;
    config.listen.udp = {ta("10.0.0.1:3478")};
    config.relay.addresses = {ip("10.0.0.10"), ip("198.51.100.10")};
    config.relay.external = {{ip("10.0.0.10"), ip("203.0.113.10")}};
    config.dataplane.ports = {{"0000:01:00.0", {*InterfaceAddress::parse("10.0.0.1/24"),
                                                 *InterfaceAddress::parse("10.0.0.10/24"),
                                                 *InterfaceAddress::parse("10.0.0.2/24")}, {}}};
    config.peers.allow = {*Prefix::parse("10.5.0.0/16"), *Prefix::parse("8.8.4.4/32"), *Prefix::parse("10.0.0.0/8")};
    config.peers.deny = {*Prefix::parse("8.8.4.0/24"), *Prefix::parse("2001:db8:dead::/48")};
    policy_ = PeerPolicy::from_config(config);
  }
  PeerVerdict check(const char* address) const { return policy_.check(ip(address)); }
  PeerPolicy policy_;
};

TEST_F(PeerPolicyTest, HostileFormsAreDenied) {
  const char* denied[] = {
      "127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3",
      "::", "::1", "::ffff:127.0.0.1", "::ffff:0.0.0.0", "::127.0.0.1", "::ffff:0:127.0.0.1",
      "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1",
      "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:808:808::1",
      "2001:0:4136:e378:8000:63bf:80ff:fffe",  // Teredo whose client is 127.0.0.1
      "2001:0:4136:e378:8000:63bf:3fff:fdd2",  // any Teredo
      "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.255",
      "169.254.169.254", "169.254.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
      "fe80::1", "fc00::1", "fd00:ec2::254", "fec0::1", "ff02::1", "ff05::1:3",
      "::ffff:8.8.8.8",                   // a public IPv4 in disguise is still a disguise
      "::ffff:10.0.0.10",                 // so is our relay address
  };
  for (const char* a : denied) EXPECT_FALSE(permitted(check(a))) << a << " " << to_string(check(a));
}

TEST_F(PeerPolicyTest, PublicPeersAreAllowed) {
  for (const char* a : {"8.8.8.8", "198.51.100.7", "2001:4860:4860::8888", "2a00:1450:4001::1", "64:ff9b::808:808"})
    EXPECT_EQ(check(a), PeerVerdict::allowed) << a;
}

TEST_F(PeerPolicyTest, OwnAddresses) {
  // Relay addresses, bound or advertised, are peers (hairpin) even inside a denied range.
  EXPECT_EQ(check("10.0.0.10"), PeerVerdict::own_relay);
  EXPECT_EQ(check("203.0.113.10"), PeerVerdict::own_relay);
  EXPECT_EQ(check("198.51.100.10"), PeerVerdict::own_relay);
  // Our other addresses are never peers, even where peers.allow covers them.
  EXPECT_EQ(check("10.0.0.1"), PeerVerdict::own_address);
  EXPECT_EQ(check("10.0.0.2"), PeerVerdict::own_address);
  EXPECT_EQ(check("64:ff9b::a00:1"), PeerVerdict::own_address);
}

TEST_F(PeerPolicyTest, AllowPunchesHolesDenyAdds) {
  EXPECT_EQ(check("10.5.1.1"), PeerVerdict::allowed_by_config);
  EXPECT_EQ(check("10.9.9.9"), PeerVerdict::allowed_by_config);
  EXPECT_EQ(check("8.8.4.8"), PeerVerdict::denied_config);
  EXPECT_EQ(check("8.8.4.4"), PeerVerdict::allowed_by_config);  // allow wins
  EXPECT_EQ(check("2001:db8:dead::1"), PeerVerdict::denied_config);
  // The disguised forms of an allowed address stay denied: allow names addresses, not encodings.
  EXPECT_EQ(check("::ffff:10.5.1.1"), PeerVerdict::denied_default);
}

TEST(PeerPolicyDefaults, EmptyConfigUsesTheBuiltinList) {
  const PeerPolicy policy = PeerPolicy::from_config(conf::Config{});
  EXPECT_EQ(policy.check(ip("10.0.0.1")), PeerVerdict::denied_default);
  EXPECT_EQ(policy.check(ip("93.184.216.34")), PeerVerdict::allowed);
  EXPECT_GE(PeerPolicy::builtin_deny().size(), conf::default_peer_deny().size() + 5);
}

}  // namespace
}  // namespace tern::ctl::test
