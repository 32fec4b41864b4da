#include "conf/validate.hpp"

#include <gtest/gtest.h>

#include "conf_text.hpp"

namespace tern::conf {
namespace {

using testing::ConfText;
using testing::Errors;
using testing::errors_of;
using testing::load_ok;
using namespace std::chrono_literals;

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

// ---- through the loader: each rule with its file:line: setting: message
// --------------------------

TEST(Validate, BaseTextIsValid) { EXPECT_TRUE(load_ok(ConfText{})); }

TEST(Validate, Realm) {
  EXPECT_EQ(errors_of(ConfText{}.drop(1)),
            Errors{"t.conf: realm: required, expected a non-empty string"});
  EXPECT_EQ(errors_of(ConfText{}.set(1, R"(realm = "";)")),
            Errors{"t.conf:1: realm: required, expected a non-empty string"});
  EXPECT_EQ(errors_of(ConfText{}.set(1, "realm = \"" + std::string(128, 'r') + "\";")),
            Errors{"t.conf:1: realm: 128 characters, expected fewer than 128 (RFC 8489 §14.9)"});
  // 127 characters of two bytes each are fine: the limit counts characters.
  std::string wide;
  for (int i = 0; i < 127; ++i) wide += "\xc3\xa9";
  EXPECT_TRUE(load_ok(ConfText{}.set(1, "realm = \"" + wide + "\";")));
  EXPECT_EQ(errors_of(ConfText{}.set(1, R"(realm = "tern\xff";)")),
            Errors{"t.conf:1: realm: is not valid UTF-8"});
}

TEST(Validate, Software) {
  EXPECT_EQ(
      errors_of(ConfText{}.add("software = \"" + std::string(200, 's') + "\";")),
      Errors{"t.conf:6: software: 200 characters, expected fewer than 128 (RFC 8489 §14.14)"});
  EXPECT_EQ(errors_of(ConfText{}.add(R"(software = "\xc0\xaf";)")),
            Errors{"t.conf:6: software: is not valid UTF-8"});
}

TEST(Validate, AlternateServer) {
  EXPECT_EQ(errors_of(ConfText{}.add(R"(alternate_server = "10.90.0.1:3478";)")),
            Errors{"t.conf:6: alternate_server: 10.90.0.1:3478 is this server's own listener: "
                   "clients would be sent back here"});
  EXPECT_EQ(errors_of(ConfText{}.add(R"(alternate_server = "198.51.100.20:0";)")),
            Errors{"t.conf:6: alternate_server: 198.51.100.20:0 has port 0"});
  EXPECT_TRUE(load_ok(ConfText{}.add(R"(alternate_server = "10.90.0.1:3479";)")));
}

TEST(Validate, ListenEmpty) {
  EXPECT_EQ(errors_of(ConfText{}.set(2, "listen = { udp = [ ]; };")),
            Errors{"t.conf:2: listen.udp: empty: at least one listener is required"});
  EXPECT_EQ(errors_of(ConfText{}.set(2, "listen = { };")),
            Errors{"t.conf:2: listen.udp: empty: at least one listener is required"});
  EXPECT_EQ(errors_of(ConfText{}.drop(2)),
            Errors{"t.conf: listen.udp: empty: at least one listener is required"});
}

TEST(Validate, ListenAddresses) {
  EXPECT_EQ(errors_of(ConfText{}.set(
                2, R"(listen = { udp = [ "10.90.0.1:3478", "10.90.0.1:3478" ]; };)")),
            Errors{"t.conf:2: listen.udp[1]: 10.90.0.1:3478 is listed twice"});
  EXPECT_EQ(errors_of(ConfText{}.set(2, R"(listen = { udp = [ "10.90.0.1:0" ]; };)")),
            Errors{"t.conf:2: listen.udp[0]: 10.90.0.1:0 has port 0"});
  EXPECT_EQ(errors_of(ConfText{}.set(2, R"(listen = { udp = [ "10.90.0.9:3478" ]; };)")),
            Errors{"t.conf:2: listen.udp[0]: 10.90.0.9 is not an address of any dataplane port "
                   "(dataplane.ports[].addresses)"});
  EXPECT_EQ(errors_of(ConfText{}.set(2, R"(listen = { udp = [ "0.0.0.0:3478" ]; };)")),
            Errors{"t.conf:2: listen.udp[0]: 0.0.0.0 is not an address of any dataplane port "
                   "(dataplane.ports[].addresses)"});
}

TEST(Validate, ListenerInsideRelayRange) {
  EXPECT_EQ(errors_of(ConfText{}.set(2, R"(listen = { udp = [ "10.90.0.1:50000" ]; };)")),
            Errors{"t.conf:2: listen.udp[0]: port 50000 is inside relay.ports 49152-65535 on "
                   "relay address 10.90.0.1"});
  EXPECT_EQ(errors_of(ConfText{}.set(2, R"(listen = { udp = [ "10.90.0.1:49152" ]; };)")),
            Errors{"t.conf:2: listen.udp[0]: port 49152 is inside relay.ports 49152-65535 on "
                   "relay address 10.90.0.1"});
  // On an address that relays nothing, the port is free.
  EXPECT_TRUE(load_ok(
      ConfText{}
          .set(2, R"(listen = { udp = [ "10.90.0.2:50000" ]; };)")
          .set(
              5,
              R"(dataplane = { ports = ( { device = "d"; addresses = [ "10.90.0.1/24", "10.90.0.2/24" ]; } ); };)")));
  EXPECT_TRUE(load_ok(ConfText{}.set(2, R"(listen = { udp = [ "10.90.0.1:49151" ]; };)")));
}

TEST(Validate, RelayAddresses) {
  EXPECT_EQ(errors_of(ConfText{}.set(3, "relay = { addresses = [ ]; };")),
            Errors{"t.conf:3: relay.addresses: empty: at least one relay address is required"});
  EXPECT_EQ(errors_of(ConfText{}.drop(3)),
            Errors{"t.conf: relay.addresses: empty: at least one relay address is required"});
  EXPECT_EQ(
      errors_of(ConfText{}.set(3, R"(relay = { addresses = [ "10.90.0.1", "10.90.0.1" ]; };)")),
      Errors{"t.conf:3: relay.addresses[1]: 10.90.0.1 is listed twice"});
  EXPECT_EQ(
      errors_of(ConfText{}.set(3, R"(relay = { addresses = [ "10.90.0.1", "10.91.0.1" ]; };)")),
      Errors{"t.conf:3: relay.addresses[1]: 10.91.0.1 is not an address of any dataplane "
             "port (dataplane.ports[].addresses)"});
}

TEST(Validate, RelayPorts) {
  const auto ports = [](std::string range) {
    return ConfText{}.set(3, "relay = { addresses = [ \"10.90.0.1\" ]; ports = " + range + " };");
  };
  EXPECT_EQ(errors_of(ports("{ min = 60000; max = 50000; };")),
            Errors{"t.conf:3: relay.ports: min 60000 is greater than max 50000"});
  // A range from 0 would also take the listener's port.
  EXPECT_EQ(errors_of(ports("{ min = 0; };")),
            (Errors{"t.conf:2: listen.udp[0]: port 3478 is inside relay.ports 0-65535 on relay "
                    "address 10.90.0.1",
                    "t.conf:3: relay.ports.min: 0 is not a port"}));
  EXPECT_EQ(errors_of(ports("{ max = 0; };")),
            (Errors{"t.conf:3: relay.ports.max: 0 is not a port",
                    "t.conf:3: relay.ports: min 49152 is greater than max 0"}));
  const auto c = load_ok(ports("{ min = 50000; max = 50000; };"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->relay.ports.size(), 1u);
}

TEST(Validate, External) {
  const auto external = [](std::string list) {
    return ConfText{}.set(
        3, "relay = { addresses = [ \"10.90.0.1\" ]; external = ( " + list + " ); };");
  };
  EXPECT_EQ(errors_of(external(R"({ relay = "10.90.0.2"; advertise = "203.0.113.7"; })")),
            Errors{"t.conf:3: relay.external[0].relay: 10.90.0.2 is not one of relay.addresses"});
  EXPECT_EQ(
      errors_of(external(R"({ relay = "10.90.0.1"; advertise = "2001:db8::7"; })")),
      Errors{
          "t.conf:3: relay.external[0].advertise: 2001:db8::7 is IPv6, relay 10.90.0.1 is IPv4"});
  EXPECT_EQ(
      errors_of(external(
          R"({ relay = "10.90.0.1"; advertise = "203.0.113.7"; }, { relay = "10.90.0.1"; advertise = "203.0.113.8"; })")),
      Errors{"t.conf:3: relay.external[1].relay: 10.90.0.1 is mapped twice"});
}

TEST(Validate, AuthNeedsUsersOrSecrets) {
  EXPECT_EQ(errors_of(ConfText{}.drop(4)),
            Errors{"t.conf: auth: no users and no secrets: no client could authenticate"});
  EXPECT_EQ(errors_of(ConfText{}.set(4, "auth = { secrets = [ ]; users = ( ); };")),
            Errors{"t.conf:4: auth: no users and no secrets: no client could authenticate"});
}

TEST(Validate, Users) {
  const auto users = [](std::string list) {
    return ConfText{}.set(4, "auth = { users = ( " + list + " ); };");
  };
  EXPECT_EQ(
      errors_of(users(
          R"({ name = "alice"; password = "a"; }, { name = "bob"; password = "b"; }, { name = "alice"; password = "c"; })")),
      Errors{"t.conf:4: auth.users[2].name: alice is defined twice (first as auth.users[0])"});
  EXPECT_EQ(errors_of(users(R"({ password = "a"; })")),
            Errors{"t.conf:4: auth.users[0].name: required, expected a non-empty string"});
  EXPECT_EQ(errors_of(users(R"({ name = ""; password = "a"; })")),
            Errors{"t.conf:4: auth.users[0].name: required, expected a non-empty string"});
  EXPECT_EQ(
      errors_of(users("{ name = \"" + std::string(509, 'u') + "\"; password = \"a\"; }")),
      Errors{"t.conf:4: auth.users[0].name: 509 bytes, expected fewer than 509 (RFC 8489 §14.3)"});
  EXPECT_TRUE(load_ok(users("{ name = \"" + std::string(508, 'u') + "\"; password = \"a\"; }")));
  EXPECT_EQ(errors_of(users(R"({ name = "\xed\xa0\x80"; password = "a"; })")),
            Errors{"t.conf:4: auth.users[0].name: is not valid UTF-8"});
}

TEST(Validate, Secrets) {
  EXPECT_EQ(errors_of(ConfText{}.set(4, R"(auth = { secrets = [ "new", "" ]; };)")),
            Errors{"t.conf:4: auth.secrets[1]: empty secret"});
}

TEST(Validate, NonceAndRateLimit) {
  EXPECT_EQ(errors_of(ConfText{}.set(4, R"(auth = { secrets = [ "s" ]; nonce_lifetime = 0; };)")),
            Errors{"t.conf:4: auth.nonce_lifetime: 0 is out of range (expected 1-86400 seconds)"});
  EXPECT_EQ(
      errors_of(ConfText{}.set(4, R"(auth = { secrets = [ "s" ]; nonce_lifetime = 86401; };)")),
      Errors{"t.conf:4: auth.nonce_lifetime: 86401 is out of range (expected 1-86400 seconds)"});
  EXPECT_EQ(
      errors_of(
          ConfText{}.set(4, R"(auth = { secrets = [ "s" ]; unauthenticated_rate = 1000001; };)")),
      Errors{"t.conf:4: auth.unauthenticated_rate: 1000001 is out of range (expected 0-1000000)"});
  EXPECT_EQ(
      errors_of(ConfText{}.set(4, R"(auth = { secrets = [ "s" ]; unauthenticated_burst = 0; };)")),
      Errors{"t.conf:4: auth.unauthenticated_burst: 0 lets no unauthenticated request "
             "through (expected at least 1 when auth.unauthenticated_rate is set)"});
  EXPECT_TRUE(load_ok(ConfText{}.set(
      4,
      R"(auth = { secrets = [ "s" ]; unauthenticated_rate = 0; unauthenticated_burst = 0; };)")));
}

TEST(Validate, Lifetimes) {
  const auto lifetimes = [](std::string body) {
    return ConfText{}.add("lifetimes = { " + body + " };");
  };
  EXPECT_EQ(errors_of(lifetimes("allocation_default = 7200;")),
            Errors{"t.conf:6: lifetimes.allocation_default: 7200 is longer than "
                   "lifetimes.allocation_max 3600"});
  EXPECT_EQ(
      errors_of(lifetimes("allocation_default = 0; allocation_max = 0;")),
      (Errors{
          "t.conf:6: lifetimes.allocation_default: 0 is out of range (expected 1-86400 seconds)",
          "t.conf:6: lifetimes.allocation_max: 0 is out of range (expected 1-86400 seconds)"}));
  EXPECT_EQ(
      errors_of(lifetimes("allocation_max = 86401;")),
      Errors{
          "t.conf:6: lifetimes.allocation_max: 86401 is out of range (expected 1-86400 seconds)"});
  EXPECT_EQ(
      errors_of(lifetimes("permission = 0; channel = 0;")),
      (Errors{"t.conf:6: lifetimes.permission: 0 is out of range (expected 300-86400 seconds)",
              "t.conf:6: lifetimes.channel: 0 is out of range (expected 600-86400 seconds)"}));
  EXPECT_EQ(errors_of(lifetimes("permission = 60;")),
            Errors{"t.conf:6: lifetimes.permission: 60 is shorter than 300 s, the permission "
                   "lifetime clients refresh against (RFC 8656 §9)"});
  EXPECT_EQ(errors_of(lifetimes("channel = 300;")),
            Errors{"t.conf:6: lifetimes.channel: 300 is shorter than 600 s, the channel binding "
                   "lifetime clients refresh against (RFC 8656 §12)"});
  const auto c = load_ok(
      lifetimes("allocation_default = 60; allocation_max = 60; permission = 600; channel = 900;"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->lifetimes.allocation_default, 60s);
  EXPECT_EQ(c->lifetimes.allocation_max, 60s);
  EXPECT_EQ(c->lifetimes.permission, 600s);
  EXPECT_EQ(c->lifetimes.channel, 900s);
}

TEST(Validate, TotalQuotaAgainstTableSize) {
  EXPECT_EQ(
      errors_of(
          ConfText{}
              .add("limits = { total_quota = 10000; };")
              .set(
                  5,
                  R"(dataplane = { ports = ( { device = "d"; addresses = [ "10.90.0.1/24" ]; } ); table_size = 5000; };)")),
      Errors{"t.conf:5: dataplane.table_size: 5000 is smaller than limits.total_quota 10000"});
  // table_size left at its default: the dataplane group carries the line.
  EXPECT_EQ(
      errors_of(
          ConfText{}
              .add("limits = { total_quota = 70000; };")
              .set(
                  3,
                  R"(relay = { addresses = [ "10.90.0.1", "10.90.0.2", "10.90.0.3", "10.90.0.4", "10.90.0.5" ]; };)")
              .set(
                  5,
                  R"(dataplane = { ports = ( { device = "d"; addresses = [ "10.90.0.1/24", "10.90.0.2/24", "10.90.0.3/24", "10.90.0.4/24", "10.90.0.5/24" ]; } ); };)")),
      Errors{"t.conf:5: dataplane.table_size: 65536 is smaller than limits.total_quota 70000"});
  EXPECT_EQ(
      errors_of(ConfText{}.add("limits = { total_quota = 16777217; };")),
      (Errors{"t.conf:5: dataplane.table_size: 65536 is smaller than limits.total_quota 16777217",
              "t.conf:6: limits.total_quota: 16777217 is out of range (expected 0-16777216)",
              "t.conf:6: limits.total_quota: 16777217 is more than the 16384 relay ports on "
              "IPv4 relay addresses (relay.ports 49152-65535 on 1 address)"}));
}

TEST(Validate, TotalQuotaAgainstRelayPorts) {
  EXPECT_EQ(
      errors_of(
          ConfText{}
              .add("limits = { total_quota = 11; };")
              .set(
                  3,
                  R"(relay = { addresses = [ "10.90.0.1" ]; ports = { min = 50000; max = 50009; }; };)")),
      Errors{"t.conf:6: limits.total_quota: 11 is more than the 10 relay ports on IPv4 relay "
             "addresses (relay.ports 50000-50009 on 1 address)"});
  EXPECT_TRUE(load_ok(
      ConfText{}
          .add("limits = { total_quota = 10; };")
          .set(
              3,
              R"(relay = { addresses = [ "10.90.0.1" ]; ports = { min = 50000; max = 50009; }; };)")));
  // Two IPv4 addresses hold 20; the one IPv6 address holds 10 and is what fails.
  const auto dual =
      ConfText{}
          .set(
              3,
              R"(relay = { addresses = [ "10.90.0.1", "10.90.0.2", "2001:db8::1" ]; ports = { min = 50000; max = 50009; }; };)")
          .set(
              5,
              R"(dataplane = { ports = ( { device = "d"; addresses = [ "10.90.0.1/24", "10.90.0.2/24", "2001:db8::1/64" ]; } ); };)");
  EXPECT_EQ(errors_of(ConfText(dual).add("limits = { total_quota = 20; };")),
            Errors{"t.conf:6: limits.total_quota: 20 is more than the 10 relay ports on IPv6 relay "
                   "addresses (relay.ports 50000-50009 on 1 address)"});
  EXPECT_EQ(
      errors_of(ConfText(dual).add("limits = { total_quota = 21; };")),
      (Errors{"t.conf:6: limits.total_quota: 21 is more than the 20 relay ports on IPv4 relay "
              "addresses (relay.ports 50000-50009 on 2 addresses)",
              "t.conf:6: limits.total_quota: 21 is more than the 10 relay ports on IPv6 relay "
              "addresses (relay.ports 50000-50009 on 1 address)"}));
}

TEST(Validate, ControlPlaneLimits) {
  EXPECT_TRUE(load_ok(ConfText{}.add(R"(limits = { new_peers_per_second = 0; new_peers_burst = 0;
    permissions_per_allocation = 0; channels_per_allocation = 0; allocations_per_address = 0; };)")));
  EXPECT_EQ(errors_of(ConfText{}.add(R"(limits = { new_peers_burst = 0; };)")),
            Errors{"t.conf:6: limits.new_peers_burst: 0 lets no new peer in (expected at least 1 when "
                   "limits.new_peers_per_second is set)"});
  EXPECT_EQ(errors_of(ConfText{}.add(R"(limits = { new_peers_per_second = 1000001; };)")),
            Errors{"t.conf:6: limits.new_peers_per_second: 1000001 is out of range (expected 0-1000000)"});
  // RFC 8656 §12: 4096 channel numbers.
  EXPECT_EQ(errors_of(ConfText{}.add(R"(limits = { channels_per_allocation = 4097; };)")),
            Errors{"t.conf:6: limits.channels_per_allocation: 4097 is out of range (expected 0-4096)"});
  EXPECT_EQ(errors_of(ConfText{}.add(R"(limits = { allocations_per_address_exempt = [ "::ffff:203.0.113.0/120" ]; };)")),
            Errors{"t.conf:6: limits.allocations_per_address_exempt[0]: ::ffff:203.0.113.0/120 is IPv4-mapped "
                   "and never matches: client addresses are compared in IPv4 form (write 203.0.113.0/24)"});
  EXPECT_EQ(errors_of(ConfText{}.add(R"(limits = { allocations_per_address_exempt = [ "203.0.113.1/24" ]; };)")),
            Errors{"t.conf:6: limits.allocations_per_address_exempt[0]: \"203.0.113.1/24\" has host bits set "
                   "(did you mean 203.0.113.0/24?)"});
}

TEST(Validate, AllocationPps) {
  const auto c = load_ok(ConfText{}.add("limits = { allocation_pps = 0; };"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->limits.allocation_pps, 0u);  // off
  EXPECT_EQ(errors_of(ConfText{}.add("limits = { allocation_pps = 100000001; };")),
            Errors{"t.conf:6: limits.allocation_pps: 100000001 is out of range (expected 0-100000000)"});
  EXPECT_EQ(errors_of(ConfText{}.add("limits = { allocation_pps = -1; };")).size(), 1u);
}

TEST(Validate, Peers) {
  EXPECT_EQ(errors_of(ConfText{}.add(R"(peers = { deny = [ "::ffff:10.0.0.0/104" ]; };)")),
            Errors{"t.conf:6: peers.deny[0]: ::ffff:10.0.0.0/104 is IPv4-mapped and never matches: "
                   "peers are compared in IPv4 form (write 10.0.0.0/8)"});
  EXPECT_TRUE(
      load_ok(ConfText{}.add(R"(peers = { deny = [ "::/96" ]; allow = [ "::fffe:0:0/95" ]; };)")));
}

TEST(Validate, ControlSocket) {
  EXPECT_EQ(errors_of(ConfText{}.add(R"(control = { socket = "run/ternd.sock"; };)")),
            Errors{"t.conf:6: control.socket: run/ternd.sock is not an absolute path"});
  EXPECT_EQ(errors_of(ConfText{}.add(R"(control = { socket = ""; };)")),
            Errors{"t.conf:6: control.socket: required, expected an absolute path"});
  EXPECT_EQ(
      errors_of(ConfText{}.add("control = { socket = \"/" + std::string(107, 's') + "\"; };")),
      Errors{"t.conf:6: control.socket: 108 bytes, longer than a Unix socket path can be (107)"});
  EXPECT_TRUE(
      load_ok(ConfText{}.add("control = { socket = \"/" + std::string(106, 's') + "\"; };")));
  EXPECT_EQ(errors_of(ConfText{}.add(R"(control = { metrics = "127.0.0.1:0"; };)")),
            Errors{"t.conf:6: control.metrics: 127.0.0.1:0 has port 0"});
}

TEST(Validate, DataplanePorts) {
  const auto ports = [](std::string list) {
    return ConfText{}.set(5, "dataplane = { ports = ( " + list + " ); };");
  };
  EXPECT_EQ(errors_of(ConfText{}.set(5, "dataplane = { ports = ( ); };")),
            (Errors{"t.conf:2: listen.udp[0]: 10.90.0.1 is not an address of any dataplane port "
                    "(dataplane.ports[].addresses)",
                    "t.conf:3: relay.addresses[0]: 10.90.0.1 is not an address of any dataplane "
                    "port (dataplane.ports[].addresses)",
                    "t.conf:5: dataplane.ports: empty: at least one port is required"}));
  EXPECT_EQ(errors_of(ports(R"({ addresses = [ "10.90.0.1/24" ]; })")),
            Errors{"t.conf:5: dataplane.ports[0].device: required, expected a DPDK device (a PCI "
                   "address or a vdev string)"});
  EXPECT_EQ(
      errors_of(ports(
          R"({ device = "d"; addresses = [ "10.90.0.1/24" ]; }, { device = "d"; addresses = [ "10.91.0.1/24" ]; })")),
      Errors{"t.conf:5: dataplane.ports[1].device: d is already dataplane.ports[0]"});
  EXPECT_EQ(
      errors_of(ports(
          R"({ device = "d"; addresses = [ "10.90.0.1/24" ]; }, { device = "e"; addresses = [ ]; })")),
      Errors{"t.conf:5: dataplane.ports[1].addresses: empty: a port needs at least one address"});
  EXPECT_EQ(
      errors_of(ports(R"({ device = "d"; addresses = [ "10.90.0.1/24" ]; }, { device = "e"; })")),
      Errors{"t.conf:5: dataplane.ports[1].addresses: empty: a port needs at least one address"});
  EXPECT_EQ(
      errors_of(ports(
          R"({ device = "d"; addresses = [ "10.90.0.1/24" ]; }, { device = "e"; addresses = [ "10.90.0.1/16" ]; })")),
      Errors{"t.conf:5: dataplane.ports[1].addresses[0]: 10.90.0.1 is already an address of "
             "dataplane.ports[0]"});
  EXPECT_EQ(
      errors_of(ports(R"({ device = "d"; addresses = [ "10.90.0.1/24", "10.90.0.1/25" ]; })")),
      Errors{"t.conf:5: dataplane.ports[0].addresses[1]: 10.90.0.1 is already an address of "
             "dataplane.ports[0]"});
}

TEST(Validate, PortAddressMustBeAHost) {
  const auto addresses = [](std::string list) {
    return ConfText{}.set(
        5, "dataplane = { ports = ( { device = \"d\"; addresses = [ \"10.90.0.1/24\", " + list +
               " ]; } ); };");
  };
  EXPECT_EQ(
      errors_of(addresses(R"("10.91.0.0/24")")),
      Errors{"t.conf:5: dataplane.ports[0].addresses[1]: 10.91.0.0/24 is the subnet's network "
             "address, not a host address"});
  EXPECT_EQ(errors_of(addresses(R"("10.91.0.255/24")")),
            Errors{"t.conf:5: dataplane.ports[0].addresses[1]: 10.91.0.255/24 is the subnet's "
                   "broadcast address, not a host address"});
  // RFC 3021 /31 and host /32 have neither.
  EXPECT_TRUE(load_ok(addresses(R"("10.91.0.0/31", "10.92.0.0/32")")));
}

TEST(Validate, Gateways) {
  const auto port = [](std::string body) {
    return ConfText{}.set(5, "dataplane = { ports = ( { device = \"d\"; " + body + " } ); };");
  };
  EXPECT_EQ(errors_of(port(R"(addresses = [ "10.90.0.1/24" ]; gateway = "10.91.0.254";)")),
            Errors{"t.conf:5: dataplane.ports[0].gateway: 10.91.0.254 is outside the port's "
                   "subnets (10.90.0.1/24)"});
  EXPECT_EQ(errors_of(port(R"(addresses = [ "10.90.0.1/24" ]; gateway = "10.90.0.1";)")),
            Errors{"t.conf:5: dataplane.ports[0].gateway: 10.90.0.1 is this port's own address"});
  EXPECT_EQ(
      errors_of(
          port(R"(addresses = [ "10.90.0.1/24" ]; gateway = [ "10.90.0.254", "10.90.0.253" ];)")),
      Errors{"t.conf:5: dataplane.ports[0].gateway: two IPv4 gateways (10.90.0.254, 10.90.0.253)"});
  EXPECT_EQ(errors_of(port(R"(addresses = [ "10.90.0.1/24" ]; gateway = "2001:db8::1";)")),
            Errors{"t.conf:5: dataplane.ports[0].gateway: 2001:db8::1 is IPv6 but the port has no "
                   "IPv6 address"});
  EXPECT_EQ(
      errors_of(port(
          R"(addresses = [ "10.90.0.1/24", "2001:db8:90::1/64" ]; gateway = "2001:db8:91::1";)")),
      Errors{"t.conf:5: dataplane.ports[0].gateway: 2001:db8:91::1 is outside the port's "
             "subnets (2001:db8:90::1/64)"});
  // A second subnet of the same family may hold the gateway.
  EXPECT_TRUE(
      load_ok(port(R"(addresses = [ "10.90.0.1/24", "192.0.2.10/28" ]; gateway = "192.0.2.1";)")));
  EXPECT_TRUE(load_ok(port(
      R"(addresses = [ "10.90.0.1/24", "2001:db8:90::1/64" ]; gateway = [ "2001:db8:90::fffe", "10.90.0.254" ];)")));
}

TEST(Validate, TableSizeAndMbufs) {
  const auto dataplane = [](std::string body) {
    return ConfText{}.set(
        5, R"(dataplane = { ports = ( { device = "d"; addresses = [ "10.90.0.1/24" ]; } ); )" +
               body + " };");
  };
  EXPECT_EQ(errors_of(dataplane("table_size = 0;")),
            Errors{"t.conf:5: dataplane.table_size: 0 is out of range (expected 1-16777216)"});
  EXPECT_EQ(
      errors_of(dataplane("table_size = 16777217;")),
      Errors{"t.conf:5: dataplane.table_size: 16777217 is out of range (expected 1-16777216)"});
  EXPECT_EQ(errors_of(dataplane("mbufs = 100;")),
            Errors{"t.conf:5: dataplane.mbufs: 100 is out of range (expected 1023-16777215)"});
  const auto c = load_ok(dataplane("table_size = 1000000; mbufs = 1023;"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->dataplane.table_size, 1'000'000u);
}

// ---- validate() on a Config built in code
// ---------------------------------------------------------

Config valid_config() {
  Config c;
  c.realm = "tern.test";
  c.listen.udp = {*TransportAddress::parse("10.90.0.1:3478")};
  c.relay.addresses = {ip("10.90.0.1")};
  c.auth.secrets = {"northsecret"};
  c.dataplane.ports = {DataplanePort{"net_null0", {*InterfaceAddress::parse("10.90.0.1/24")}, {}}};
  return c;
}

TEST(ValidateConfig, ValidConfigHasNoProblems) { EXPECT_TRUE(validate(valid_config()).empty()); }

TEST(ValidateConfig, ProblemsNameTheSetting) {
  Config c = valid_config();
  c.lifetimes.allocation_default = 7200s;
  c.lifetimes.permission = -5s;
  c.relay.ports.max = Port{0};
  c.dataplane.ports[0].addresses.push_back(InterfaceAddress{ip("10.91.0.1"), 33});
  EXPECT_EQ(
      validate(c),
      (std::vector<Problem>{
          {"relay.ports.max", "0 is not a port"},
          {"relay.ports", "min 49152 is greater than max 0"},
          {"lifetimes.permission", "-5 is out of range (expected 300-86400 seconds)"},
          {"lifetimes.allocation_default", "7200 is longer than lifetimes.allocation_max 3600"},
          {"dataplane.ports[0].addresses[1]", "10.91.0.1/33: prefix length above 32"},
      }));
}

}  // namespace
}  // namespace tern::conf
