#include "conf/net.hpp"

#include <gtest/gtest.h>

#include <array>

namespace tern {
namespace {

IpAddress ip(std::string_view text) {
  const auto parsed = IpAddress::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(IpAddress{});
}

TEST(IpAddress, ParsesIpv4) {
  const auto a = IpAddress::parse("10.90.0.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_host_order(), 0x0a5a0001u);
  EXPECT_EQ(a->bytes().size(), 4u);
  EXPECT_EQ(a->to_string(), "10.90.0.1");
  EXPECT_EQ(*a, IpAddress::v4(10, 90, 0, 1));
  EXPECT_EQ(ip("0.0.0.0"), IpAddress::v4(0));
  EXPECT_EQ(ip("255.255.255.255"), IpAddress::v4(0xffffffffu));
}

TEST(IpAddress, ParsesIpv6AndPrintsRfc5952) {
  const auto a = IpAddress::parse("2001:0DB8:0000:0000:0000:0000:0000:0001");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v6());
  EXPECT_EQ(a->bytes().size(), 16u);
  EXPECT_EQ(a->to_string(), "2001:db8::1");
  EXPECT_EQ(ip("::").to_string(), "::");
  EXPECT_EQ(ip("::1").to_string(), "::1");
  EXPECT_EQ(ip("fe80::1:2").raw()[0], 0xfe);
  EXPECT_EQ(ip("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255").to_string(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(IpAddress, RejectsMalformed) {
  for (const std::string_view bad :
       {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/8",
        "[::1]", "::1%eth0", "gggg::1", "1:2:3:4:5:6:7:8:9", "1::2::3", "localhost", "0x7f.1.1.1",
        "1.2.3.-4"})
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  // Longer than any address text can be.
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
}

TEST(IpAddress, FamiliesNeverCompareEqual) {
  EXPECT_NE(ip("0.0.0.0"), ip("::"));
  EXPECT_NE(ip("1.2.3.4"), ip("::ffff:1.2.3.4"));
}

TEST(IpAddress, FromBytes) {
  const std::array<uint8_t, 4> v4 = {192, 0, 2, 1};
  const std::array<uint8_t, 16> v6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::array<uint8_t, 5> odd = {};
  EXPECT_EQ(IpAddress::from_bytes(v4), ip("192.0.2.1"));
  EXPECT_EQ(IpAddress::from_bytes(v6), ip("2001:db8::1"));
  EXPECT_FALSE(IpAddress::from_bytes(odd));
}

TEST(IpAddress, CanonicalUnmapsIpv4MappedOnly) {
  const auto mapped = ip("::ffff:127.0.0.1");
  EXPECT_TRUE(mapped.is_v6());
  EXPECT_EQ(mapped.canonical(), IpAddress::v4(127, 0, 0, 1));
  EXPECT_TRUE(mapped.canonical().is_v4());
  EXPECT_EQ(ip("::ffff:7f00:1").canonical(), IpAddress::v4(127, 0, 0, 1));
  // IPv4-compatible (deprecated) and NAT64 forms are other addresses and stay IPv6.
  EXPECT_EQ(ip("::127.0.0.1").canonical(), ip("::127.0.0.1"));
  EXPECT_EQ(ip("64:ff9b::7f00:1").canonical(), ip("64:ff9b::7f00:1"));
  EXPECT_EQ(ip("::ffff:0:7f00:1").canonical(), ip("::ffff:0:7f00:1"));
  EXPECT_EQ(ip("10.0.0.1").canonical(), ip("10.0.0.1"));
  EXPECT_EQ(ip("::").canonical(), ip("::"));
}

TEST(TransportAddress, ParsesBothForms) {
  const auto a = TransportAddress::parse("10.90.0.1:3478");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ip, ip("10.90.0.1"));
  EXPECT_EQ(a->port.value, 3478);
  EXPECT_EQ(a->to_string(), "10.90.0.1:3478");

  const auto b = TransportAddress::parse("[2001:db8::1]:65535");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->ip, ip("2001:db8::1"));
  EXPECT_EQ(b->port.value, 65535);
  EXPECT_EQ(b->to_string(), "[2001:db8::1]:65535");
  EXPECT_EQ(TransportAddress::parse(b->to_string()), b);

  const auto c = TransportAddress::parse("[::ffff:1.2.3.4]:1");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->ip.is_v6());
  EXPECT_EQ(TransportAddress::parse("10.0.0.1:0")->port.value, 0);
}

TEST(TransportAddress, RejectsMalformed) {
  for (const std::string_view bad : {"",
                                     "10.0.0.1",
                                     "10.0.0.1:",
                                     ":3478",
                                     "10.0.0.1:65536",
                                     "10.0.0.1:99999999999",
                                     "10.0.0.1:-1",
                                     "10.0.0.1:+1",
                                     "10.0.0.1:3478x",
                                     "10.0.0.1: 3478",
                                     "::1:3478",
                                     "2001:db8::1:80",
                                     "[::1]",
                                     "[::1]3478",
                                     "[::1]:",
                                     "[::1]:65536",
                                     "[10.0.0.1]:80",
                                     "[::1",
                                     "::1]:80",
                                     "[]:80",
                                     "[[::1]]:80",
                                     "10.0.0.256:80",
                                     "host:80"})
    EXPECT_FALSE(TransportAddress::parse(bad)) << bad;
}

TEST(Prefix, ParsesAndClearsHostBits) {
  const auto p = Prefix::parse("10.1.2.3/8");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->base, ip("10.0.0.0"));
  EXPECT_EQ(p->length, 8);
  EXPECT_EQ(p->to_string(), "10.0.0.0/8");
  EXPECT_EQ(Prefix::parse("2001:db8:ffff::1/33")->to_string(), "2001:db8:8000::/33");
}

TEST(Prefix, BareAddressIsAHostPrefix) {
  EXPECT_EQ(Prefix::parse("192.0.2.7")->length, 32);
  EXPECT_EQ(Prefix::parse("2001:db8::7")->length, 128);
  EXPECT_TRUE(Prefix::parse("192.0.2.7")->contains(ip("192.0.2.7")));
  EXPECT_FALSE(Prefix::parse("192.0.2.7")->contains(ip("192.0.2.8")));
}

TEST(Prefix, RejectsMalformed) {
  for (const std::string_view bad :
       {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/a",
        "10.0.0.0/8/8", "10.0.0.0 /8", "10.0.0.0/08x", "[::]/0"})
    EXPECT_FALSE(Prefix::parse(bad)) << bad;
}

TEST(Prefix, Contains) {
  const auto ten = *Prefix::parse("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(ip("10.0.0.0")));
  EXPECT_TRUE(ten.contains(ip("10.255.255.255")));
  EXPECT_FALSE(ten.contains(ip("11.0.0.0")));
  EXPECT_FALSE(ten.contains(ip("9.255.255.255")));
  // Not byte-aligned.
  const auto nine = *Prefix::parse("10.0.0.0/9");
  EXPECT_TRUE(nine.contains(ip("10.127.255.255")));
  EXPECT_FALSE(nine.contains(ip("10.128.0.0")));
  const auto link_local = *Prefix::parse("fe80::/10");
  EXPECT_TRUE(link_local.contains(ip("fe80::1")));
  EXPECT_TRUE(link_local.contains(ip("febf:ffff::1")));
  EXPECT_FALSE(link_local.contains(ip("fec0::1")));
  // Length 0 holds its whole family and nothing of the other.
  EXPECT_TRUE(Prefix::parse("0.0.0.0/0")->contains(ip("203.0.113.7")));
  EXPECT_FALSE(Prefix::parse("0.0.0.0/0")->contains(ip("::1")));
  EXPECT_TRUE(Prefix::parse("::/0")->contains(ip("2001:db8::1")));
  EXPECT_FALSE(Prefix::parse("::/0")->contains(ip("10.0.0.1")));
  // An IPv4 prefix does not hold the IPv4-mapped form: policy canonicalises first.
  EXPECT_FALSE(ten.contains(ip("::ffff:10.0.0.1")));
  EXPECT_TRUE(ten.contains(ip("::ffff:10.0.0.1").canonical()));
}

TEST(Prefix, Make) {
  EXPECT_EQ(Prefix::make(ip("192.168.1.200"), 24)->to_string(), "192.168.1.0/24");
  EXPECT_FALSE(Prefix::make(ip("192.168.1.200"), 33));
  EXPECT_TRUE(Prefix::make(ip("::1"), 128));
  EXPECT_FALSE(Prefix::make(ip("::1"), 129));
}

TEST(InterfaceAddress, KeepsHostBits) {
  const auto a = InterfaceAddress::parse("10.90.0.1/24");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ip, ip("10.90.0.1"));
  EXPECT_EQ(a->length, 24);
  EXPECT_EQ(a->subnet().to_string(), "10.90.0.0/24");
  EXPECT_EQ(a->to_string(), "10.90.0.1/24");
  const auto b = InterfaceAddress::parse("2001:db8:90::1/64");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->subnet().to_string(), "2001:db8:90::/64");
  EXPECT_TRUE(b->subnet().contains(ip("2001:db8:90::fffe")));
}

TEST(InterfaceAddress, RequiresALength) {
  for (const std::string_view bad :
       {"10.90.0.1", "10.90.0.1/", "10.90.0.1/33", "2001:db8::1/129", "/24", "10.90.0.1/24/1"})
    EXPECT_FALSE(InterfaceAddress::parse(bad)) << bad;
}

}  // namespace
}  // namespace tern
