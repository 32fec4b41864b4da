#include "conf/load.hpp"

#include <gtest/gtest.h>

#include "conf/keys.hpp"
#include "conf_text.hpp"

namespace tern::conf {
namespace {

using testing::ConfText;
using testing::Errors;
using testing::errors_of;
using testing::load_ok;
using namespace std::chrono_literals;

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

// ---- the example file ------------------------------------------------------------------------

TEST(ExampleFile, LoadsWithoutErrors) {
  std::vector<std::string> errors;
  const auto c = load_file(TERN_EXAMPLE_CONF, errors);
  for (const auto& e : errors) ADD_FAILURE() << e;
  ASSERT_TRUE(c);
  EXPECT_EQ(c->realm, "tern.test");
  EXPECT_EQ(c->software, "tern");
  EXPECT_EQ(c->alternate_server, AlternateServer{});
  ASSERT_EQ(c->listen.udp.size(), 1u);
  EXPECT_EQ(c->listen.udp[0].to_string(), "10.90.0.1:3478");
  EXPECT_EQ(c->relay.addresses, std::vector<IpAddress>{ip("10.90.0.1")});
  EXPECT_EQ(c->relay.ports.min.value, 49152);
  EXPECT_EQ(c->relay.ports.max.value, 65535);
  ASSERT_EQ(c->relay.external.size(), 1u);
  EXPECT_EQ(c->relay.external[0].relay, ip("10.90.0.1"));
  EXPECT_EQ(c->relay.external[0].advertise, ip("203.0.113.7"));
  ASSERT_EQ(c->auth.users.size(), 2u);
  EXPECT_EQ(c->auth.users[0].name, "alice");
  EXPECT_EQ(to_hex(c->auth.users[0].key_md5), "dfd5bb6061925d2913bc194345850fdb");
  EXPECT_TRUE(c->auth.users[0].key_sha256);
  EXPECT_EQ(c->auth.users[1].name, "bob");
  // printf %s 'bob:tern.test:secret' | md5sum
  EXPECT_EQ(to_hex(c->auth.users[1].key_md5), "b2af97db30e0d0a0c949ba2642c68ecd");
  EXPECT_FALSE(c->auth.users[1].key_sha256);
  EXPECT_EQ(c->auth.secrets, std::vector<std::string>{"northsecret"});
  EXPECT_EQ(c->auth.nonce_lifetime, 600s);
  EXPECT_EQ(c->lifetimes.allocation_max, 3600s);
  ASSERT_EQ(c->peers.allow.size(), 1u);
  EXPECT_EQ(c->peers.allow[0].to_string(), "10.90.0.0/24");
  EXPECT_TRUE(c->peers.deny.empty());
  EXPECT_EQ(c->control.socket, "/run/tern/ternd.sock");
  EXPECT_EQ(c->control.metrics->to_string(), "127.0.0.1:9641");
  EXPECT_EQ(c->log.level, LogLevel::info);
  EXPECT_EQ(c->dataplane.eal, (std::vector<std::string>{"-l", "0-1", "--no-pci", "--no-huge", "-m",
                                                        "1024", "--no-shconf"}));
  ASSERT_EQ(c->dataplane.ports.size(), 1u);
  EXPECT_EQ(c->dataplane.ports[0].device, "net_af_packet0,iface=tern0,qdisc_bypass=1");
  ASSERT_EQ(c->dataplane.ports[0].addresses.size(), 1u);
  EXPECT_EQ(c->dataplane.ports[0].addresses[0].to_string(), "10.90.0.1/24");
  EXPECT_EQ(c->dataplane.ports[0].gateways, std::vector<IpAddress>{ip("10.90.0.254")});
  EXPECT_EQ(c->dataplane.table_size, 65536u);
  EXPECT_EQ(c->dataplane.mbufs, 16383u);
}

TEST(ExampleFile, LimitsAsDocumented) {
  std::vector<std::string> errors;
  const auto c = load_file(TERN_EXAMPLE_CONF, errors);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->limits.new_peers_per_second, kDefaultNewPeersPerSecond);
  EXPECT_EQ(c->limits.new_peers_burst, kDefaultNewPeersBurst);
  EXPECT_EQ(c->limits.permissions_per_allocation, kDefaultPermissionsPerAllocation);
  EXPECT_EQ(c->limits.channels_per_allocation, kDefaultChannelsPerAllocation);
  EXPECT_EQ(c->limits.allocations_per_address, kDefaultAllocationsPerAddress);
  EXPECT_TRUE(c->limits.allocations_per_address_exempt.empty());
}

TEST(Values, ControlPlaneLimits) {
  std::vector<std::string> errors;
  const auto c = load_string(testing::ConfText{}.add(R"(limits = { new_peers_per_second = 5; new_peers_burst = 9;
    permissions_per_allocation = 1000; channels_per_allocation = 900; allocations_per_address = 40000;
    allocations_per_address_exempt = [ "203.0.113.0/24", "2001:db8:7::/48" ]; };)").str(), "t.conf", errors);
  for (const auto& e : errors) ADD_FAILURE() << e;
  ASSERT_TRUE(c);
  EXPECT_EQ(c->limits.new_peers_per_second, 5u);
  EXPECT_EQ(c->limits.new_peers_burst, 9u);
  EXPECT_EQ(c->limits.permissions_per_allocation, 1000u);
  EXPECT_EQ(c->limits.channels_per_allocation, 900u);
  EXPECT_EQ(c->limits.allocations_per_address, 40000u);
  ASSERT_EQ(c->limits.allocations_per_address_exempt.size(), 2u);
  EXPECT_EQ(c->limits.allocations_per_address_exempt[1].to_string(), "2001:db8:7::/48");
  EXPECT_EQ(testing::errors_of(testing::ConfText{}.add(R"(limits = { allocations_per_address_exempt = "203.0.113.0/24"; };)")),
            testing::Errors{"t.conf:6: limits.allocations_per_address_exempt: expected a list [ ... ], found a string"});
}

// ---- files -----------------------------------------------------------------------------------

TEST(LoadFile, MissingFile) {
  std::vector<std::string> errors;
  EXPECT_FALSE(load_file("/nonexistent/ternd.conf", errors));
  EXPECT_EQ(errors, Errors{"/nonexistent/ternd.conf: cannot open: No such file or directory"});
}

TEST(LoadFile, Directory) {
  std::vector<std::string> errors;
  EXPECT_FALSE(load_file("/", errors));
  EXPECT_EQ(errors, Errors{"/: cannot read: Is a directory"});
}

TEST(LoadFile, ErrorsNameTheFile) {
  char path[] = "/tmp/tern-conf-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "realm = \"tern.test\";\nrelay = { port = 1; };\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  std::vector<std::string> errors;
  EXPECT_FALSE(load_file(path, errors));
  unlink(path);
  EXPECT_EQ(errors, Errors{std::string(path) +
                           ":2: relay.port: unknown setting (did you mean relay.ports?)"});
}

// ---- syntax ----------------------------------------------------------------------------------

TEST(Syntax, ParseErrorHasFileAndLine) {
  EXPECT_EQ(errors_of(ConfText{}.set(3, "relay = = { };")), Errors{"t.conf:3: syntax error"});
  // An unclosed group runs on to the end of the text.
  EXPECT_EQ(errors_of(ConfText{}.set(3, "relay = { addresses = [ \"10.90.0.1\" ]; ")),
            Errors{"t.conf:6: syntax error"});
  EXPECT_EQ(errors_of(ConfText{}.add("realm = \"again\";")),
            Errors{"t.conf:6: duplicate setting name"});
  EXPECT_EQ(errors_of(ConfText{}.add("peers = { allow = [ \"10.0.0.0/8\", 5 ]; };")),
            Errors{"t.conf:6: mismatched element type in array"});
  EXPECT_EQ(errors_of("realm = \"unterminated;\n\n"),
            Errors{"t.conf:1: string not terminated (a \" is missing)"});
}

TEST(Syntax, EmptyTextReportsEverythingRequired) {
  EXPECT_EQ(errors_of(""),
            (Errors{
                "t.conf: realm: required, expected a non-empty string",
                "t.conf: listen.udp: empty: at least one listener is required",
                "t.conf: relay.addresses: empty: at least one relay address is required",
                "t.conf: auth: no users and no secrets: no client could authenticate",
                "t.conf: dataplane.ports: empty: at least one port is required",
            }));
}

TEST(Syntax, IncludeIsRefused) {
  EXPECT_EQ(errors_of(ConfText{}.add("@include \"/etc/passwd\"")),
            Errors{"t.conf:6: @include is not supported: the configuration is one file"});
  // Inside a string or a comment it is text.
  EXPECT_TRUE(load_ok(ConfText{}.add("software = \"@include\"; # @include \"x\"")));
}

TEST(Syntax, NulByteIsRefused) {
  std::string text = ConfText{}.str();
  text.insert(text.find("relay"), std::string(1, '\0'));
  EXPECT_EQ(errors_of(text), Errors{"t.conf:3: a NUL byte: this is not a text file"});
}

// ---- unknown settings ------------------------------------------------------------------------

TEST(Unknown, TopLevelWithSuggestion) {
  EXPECT_EQ(errors_of(ConfText{}.add("relam = \"x\";")),
            Errors{"t.conf:6: relam: unknown setting (did you mean realm?)"});
  EXPECT_EQ(errors_of(ConfText{}.add("alternate_sever = \"10.0.0.1:3478\";")),
            Errors{"t.conf:6: alternate_sever: unknown setting (did you mean alternate_server?)"});
}

TEST(Unknown, WithoutSuggestion) {
  EXPECT_EQ(errors_of(ConfText{}.add("frobnicate = 1;")),
            Errors{"t.conf:6: frobnicate: unknown setting"});
  // A transport tern does not speak yet is no typo of udp.
  EXPECT_EQ(errors_of(ConfText{}.set(2, R"(listen = { udp = [ "10.90.0.1:3478" ]; quic = [ ]; };)")),
            Errors{"t.conf:2: listen.quic: unknown setting"});
}

TEST(Unknown, NestedAndInsideLists) {
  EXPECT_EQ(errors_of(ConfText{}
                          .drop(3)
                          .add("relay = {")
                          .add("  addresses = [ \"10.90.0.1\" ];")
                          .add("  port = { min = 50000; max = 60000; };")
                          .add("};")),
            Errors{"t.conf:8: relay.port: unknown setting (did you mean relay.ports?)"});
  EXPECT_EQ(
      errors_of(ConfText{}.set(4, R"(auth = { users = ( { name = "a"; pasword = "b"; } ); };)")),
      (Errors{"t.conf:4: auth.users[0].pasword: unknown setting (did you mean "
              "auth.users[0].password?)",
              "t.conf:4: auth.users[0]: neither password nor key given: give one"}));
  EXPECT_EQ(errors_of(ConfText{}.set(
                5, R"(dataplane = { ports = ( { device = "d"; adresses = [ ]; } ); };)")),
            Errors{"t.conf:5: dataplane.ports[0].adresses: unknown setting (did you mean "
                   "dataplane.ports[0].addresses?)"});
}

TEST(Unknown, EveryOneIsReported) {
  EXPECT_EQ(
      errors_of(ConfText{}
                    .add("a = 1;")
                    .add("lifetimes = { permision = 300; chanel = 600; };")
                    .add("log = { levle = \"info\"; };")),
      (Errors{"t.conf:6: a: unknown setting",
              "t.conf:7: lifetimes.permision: unknown setting (did you mean lifetimes.permission?)",
              "t.conf:7: lifetimes.chanel: unknown setting (did you mean lifetimes.channel?)",
              "t.conf:8: log.levle: unknown setting (did you mean log.level?)"}));
}

// ---- types -----------------------------------------------------------------------------------

TEST(Types, WrongTypesAreErrors) {
  EXPECT_EQ(errors_of(ConfText{}.set(1, "realm = 5;")),
            Errors{"t.conf:1: realm: expected a string, found an integer"});
  EXPECT_EQ(errors_of(ConfText{}.add("relay = { ports = { max = \"70000\"; }; };").set(3, "")),
            Errors{"t.conf:6: relay.ports.max: expected an integer, found a string"});
  EXPECT_EQ(
      errors_of(ConfText{}.add("lifetimes = { permission = 300.0; };")),
      Errors{
          "t.conf:6: lifetimes.permission: expected an integer, found a number with a fraction"});
  EXPECT_EQ(errors_of(ConfText{}.add("log = { syslog = \"yes\"; };")),
            Errors{"t.conf:6: log.syslog: expected a boolean (true or false), found a string"});
  EXPECT_EQ(errors_of(ConfText{}.set(2, "listen = { udp = \"10.90.0.1:3478\"; };")),
            Errors{"t.conf:2: listen.udp: expected a list [ ... ], found a string"});
  EXPECT_EQ(errors_of(ConfText{}.set(2, "listen = [ \"10.90.0.1:3478\" ];")),
            Errors{"t.conf:2: listen: expected a group { ... }, found an array [ ... ]"});
  EXPECT_EQ(errors_of(ConfText{}.set(4, "auth = { users = ( \"alice\" ); };")),
            Errors{"t.conf:4: auth.users[0]: expected a group { ... }, found a string"});
  EXPECT_EQ(
      errors_of(ConfText{}.set(4, "auth = { users = { name = \"alice\"; }; };")),
      Errors{"t.conf:4: auth.users: expected a list of groups ( { ... } ), found a group { ... }"});
  EXPECT_EQ(errors_of(ConfText{}
                          .add("dataplane = { ports = ( { device = \"d\"; addresses = [ "
                               "\"10.90.0.1/24\" ]; gateway = 5; } ); };")
                          .set(5, "")),
            Errors{"t.conf:6: dataplane.ports[0].gateway: expected an IP address or a list of "
                   "them, found an integer"});
  EXPECT_EQ(errors_of(ConfText{}.drop(5).add("dataplane = { eal = [ \"-l\", 1 ]; };")),
            Errors{"t.conf:6: mismatched element type in array"});
  EXPECT_EQ(errors_of(ConfText{}.drop(5).add("dataplane = { eal = ( \"-l\", 1 ); };")),
            Errors{"t.conf:6: dataplane.eal[1]: expected a string, found an integer"});
}

// ---- integers ----------------------------------------------------------------------------------

TEST(Integers, Ports) {
  const auto with_ports = [](std::string ports) {
    return ConfText{}.set(3, "relay = { addresses = [ \"10.90.0.1\" ]; ports = " + ports + " };");
  };
  EXPECT_EQ(errors_of(with_ports("{ min = 50000; max = 70000; };")),
            Errors{"t.conf:3: relay.ports.max: 70000 is not a port"});
  EXPECT_EQ(errors_of(with_ports("{ min = -1; max = 65536; };")),
            (Errors{"t.conf:3: relay.ports.min: -1 is not a port",
                    "t.conf:3: relay.ports.max: 65536 is not a port"}));
  // libconfig keeps the low 32 bits of 4294967297 (1); tern reports what was written.
  EXPECT_EQ(errors_of(with_ports("{ min = 50000; max = 4294967297; };")),
            Errors{"t.conf:3: relay.ports.max: 4294967297 is not a port"});
  EXPECT_EQ(errors_of(with_ports("{ min = 0x100000005; max = 0x1FFFFFFFF; };")),
            (Errors{"t.conf:3: relay.ports.min: 0x100000005 is not a port",
                    "t.conf:3: relay.ports.max: 0x1FFFFFFFF is not a port"}));
  const auto c = load_ok(with_ports("{ min = 0xC000; max = 50000L; };"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->relay.ports.min.value, 49152);
  EXPECT_EQ(c->relay.ports.max.value, 50000);
}

TEST(Integers, CountsAndWideValues) {
  EXPECT_EQ(errors_of(ConfText{}.add("dataplane = { table_size = 4294967297; };").set(5, "")),
            Errors{"t.conf:6: dataplane.table_size: 4294967297 is too large (at most 4294967295)"});
  EXPECT_EQ(errors_of(ConfText{}.add("limits = { user_quota = -1; total_quota = -4294967296; };")),
            (Errors{"t.conf:6: limits.user_quota: -1 is negative",
                    "t.conf:6: limits.total_quota: -4294967296 is negative"}));
  EXPECT_EQ(errors_of(ConfText{}.add("limits = { max_bps = 99999999999999999999; };")),
            Errors{"t.conf:6: limits.max_bps: 99999999999999999999 is too large (at most "
                   "9223372036854775807)"});
  EXPECT_EQ(errors_of(ConfText{}.add("limits = { max_bps = 99999999999999999999L; };")),
            Errors{"t.conf:6: limits.max_bps: 99999999999999999999L is too large (at most "
                   "9223372036854775807)"});
  // Two wide literals on one line that libconfig reads as the same value.
  EXPECT_EQ(
      errors_of(ConfText{}.add("lifetimes = { permission = 4294967596; channel = 8589934892; };")),
      (Errors{"t.conf:6: lifetimes.permission: 4294967596 is too large (at most 4294967295)",
              "t.conf:6: lifetimes.channel: 8589934892 is too large (at most 4294967295)"}));
  // Beyond 32 bits is fine where the setting allows it, with or without the L suffix.
  for (const std::string_view text : {"10000000000", "10000000000L", "0x2540BE400"}) {
    const auto c = load_ok(ConfText{}.add("limits = { max_bps = " + std::string(text) + "; };"));
    ASSERT_TRUE(c) << text;
    EXPECT_EQ(c->limits.max_bps, 10'000'000'000u) << text;
  }
}

TEST(Integers, WideValuesInRange) {
  const auto d = load_ok(
      ConfText{}
          .set(
              5,
              R"(dataplane = { ports = ( { device = "d"; addresses = [ "10.90.0.1/24" ]; } ); table_size = 0x100000; mbufs = 16777215; };)")
          .add("limits = { user_quota = 4294967295; };"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->dataplane.table_size, 1u << 20);
  EXPECT_EQ(d->dataplane.mbufs, 16777215u);
  EXPECT_EQ(d->limits.user_quota, 4294967295u);
}

// ---- values ------------------------------------------------------------------------------------

TEST(Values, MalformedAddresses) {
  EXPECT_EQ(errors_of(ConfText{}.set(2, R"(listen = { udp = [ "10.90.0.1" ]; };)")),
            Errors{"t.conf:2: listen.udp[0]: \"10.90.0.1\" is not a transport address (expected "
                   "address:port, [IPv6 address]:port)"});
  EXPECT_EQ(errors_of(ConfText{}.set(
                2, R"(listen = { udp = [ "10.90.0.1:3478", "2001:db8::1:3478" ]; };)")),
            Errors{"t.conf:2: listen.udp[1]: \"2001:db8::1:3478\" is not a transport address "
                   "(expected address:port, [IPv6 address]:port)"});
  EXPECT_EQ(errors_of(ConfText{}.set(3, R"(relay = { addresses = [ "10.90.0.256" ]; };)")),
            Errors{"t.conf:3: relay.addresses[0]: \"10.90.0.256\" is not an IP address"});
  EXPECT_EQ(errors_of(ConfText{}.add(
                R"(peers = { allow = [ "10.0.0.0/33" ]; deny = [ "fe80::/10", "x" ]; };)")),
            (Errors{"t.conf:6: peers.allow[0]: \"10.0.0.0/33\" is not a prefix (expected "
                    "address/length, e.g. 10.0.0.0/8)",
                    "t.conf:6: peers.deny[1]: \"x\" is not a prefix (expected address/length, e.g. "
                    "10.0.0.0/8)"}));
  EXPECT_EQ(errors_of(ConfText{}.add(R"(peers = { allow = [ "10.90.0.1/24" ]; };)")),
            Errors{"t.conf:6: peers.allow[0]: \"10.90.0.1/24\" has host bits set (did you mean "
                   "10.90.0.0/24?)"});
  EXPECT_EQ(
      errors_of(ConfText{}.set(
          5, R"(dataplane = { ports = ( { device = "d"; addresses = [ "10.90.0.1" ]; } ); };)")),
      Errors{"t.conf:5: dataplane.ports[0].addresses[0]: \"10.90.0.1\" is not an interface "
             "address (expected address/length, e.g. 10.90.0.1/24)"});
  EXPECT_EQ(
      errors_of(ConfText{}.set(
          5,
          R"(dataplane = { ports = ( { device = "d"; addresses = [ "10.90.0.1/24" ]; gateway = "10.90.0.x"; } ); };)")),
      Errors{"t.conf:5: dataplane.ports[0].gateway: \"10.90.0.x\" is not an IP address"});
  EXPECT_EQ(
      errors_of(
          ConfText{}
              .add(
                  R"(relay = { addresses = [ "10.90.0.1" ]; external = ( { relay = "10.90.0.1"; } ); };)")
              .set(3, "")),
      Errors{"t.conf:6: relay.external[0].advertise: required, expected the address clients are "
             "given"});
  EXPECT_EQ(errors_of(ConfText{}.add(R"(alternate_server = "[::1]";)")),
            Errors{"t.conf:6: alternate_server: \"[::1]\" is not a transport address (expected "
                   "address:port, [IPv6 address]:port)"});
}

TEST(Values, ControlBytesAreEscapedInMessages) {
  EXPECT_EQ(errors_of(ConfText{}.set(3, R"(relay = { addresses = [ "10.\n\"0.0.1" ]; };)")),
            Errors{"t.conf:3: relay.addresses[0]: \"10.\\x0a\\x220.0.1\" is not an IP address"});
}

TEST(Values, LogLevel) {
  EXPECT_EQ(errors_of(ConfText{}.add(R"(log = { level = "verbose"; };)")),
            Errors{"t.conf:6: log.level: \"verbose\" is not a level (expected debug, info, notice, "
                   "warning or error)"});
  const auto c = load_ok(ConfText{}.add(R"(log = { level = "warning"; syslog = true; };)"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->log.level, LogLevel::warning);
  EXPECT_TRUE(c->log.syslog);
}

TEST(Values, MetricsCanBeTurnedOff) {
  const auto c = load_ok(ConfText{}.add(R"(control = { metrics = ""; socket = "/tmp/t.sock"; };)"));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->control.metrics);
  EXPECT_EQ(c->control.socket, "/tmp/t.sock");
  const auto d = load_ok(ConfText{}.add(R"(control = { metrics = "[::1]:9100"; };)"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->control.metrics->to_string(), "[::1]:9100");
}

TEST(Values, AlternateServerSoftwareEalSecrets) {
  const auto c = load_ok(
      ConfText{}
          .add(R"(alternate_server = "[2001:db8::20]:3478";)")
          .add(R"(software = "tern 0.1";)")
          .set(
              4,
              R"(auth = { secrets = [ "new", "old" ]; nonce_lifetime = 30; unauthenticated_rate = 0; unauthenticated_burst = 0; };)")
          .set(
              5,
              R"(dataplane = { eal = [ "-l", "0-1" ]; ports = ( { device = "d"; addresses = [ "10.90.0.1/24" ]; } ); };)"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->alternate_server.udp->to_string(), "[2001:db8::20]:3478");
  EXPECT_EQ(c->alternate_server.tcp, c->alternate_server.udp);  // a string names UDP and TCP
  EXPECT_FALSE(c->alternate_server.tls);
  EXPECT_EQ(c->software, "tern 0.1");
  EXPECT_EQ(c->auth.secrets, (std::vector<std::string>{"new", "old"}));
  EXPECT_EQ(c->auth.nonce_lifetime, 30s);
  EXPECT_EQ(c->auth.unauthenticated_rate, 0u);
  EXPECT_EQ(c->dataplane.eal, (std::vector<std::string>{"-l", "0-1"}));
  EXPECT_TRUE(c->dataplane.ports[0].gateways.empty());
}

// ---- IPv6 ------------------------------------------------------------------------------------

TEST(Ipv6, AcceptedWhereverAnAddressIs) {
  const auto c = load_ok(
      ConfText{}
          .set(2, R"(listen = { udp = [ "10.90.0.1:3478", "[2001:db8:90::1]:3478" ]; };)")
          .set(
              3,
              R"(relay = { addresses = [ "10.90.0.1", "2001:db8:90::1" ]; external = ( { relay = "2001:db8:90::1"; advertise = "2001:db8:ffff::1"; } ); };)")
          .set(
              5,
              R"(dataplane = { ports = ( { device = "d"; addresses = [ "10.90.0.1/24", "2001:db8:90::1/64" ]; gateway = [ "10.90.0.254", "fe80::1" ]; } ); };)")
          .add(
              R"(peers = { allow = [ "2001:db8::/32" ]; deny = [ "2001:db8:dead::/48", "::/128" ]; };)"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->listen.udp[1].ip, ip("2001:db8:90::1"));
  EXPECT_EQ(c->listen.udp[1].port.value, 3478);
  EXPECT_EQ(c->relay.addresses[1], ip("2001:db8:90::1"));
  EXPECT_EQ(c->relay.external[0].advertise, ip("2001:db8:ffff::1"));
  EXPECT_EQ(c->dataplane.ports[0].addresses[1].to_string(), "2001:db8:90::1/64");
  EXPECT_EQ(c->dataplane.ports[0].gateways,
            (std::vector<IpAddress>{ip("10.90.0.254"), ip("fe80::1")}));
  EXPECT_EQ(c->peers.allow[0].to_string(), "2001:db8::/32");
  EXPECT_EQ(c->peers.deny[1].to_string(), "::/128");
}

TEST(Ipv6, Ipv6OnlyServer) {
  const auto c = load_ok(
      ConfText{}
          .set(2, R"(listen = { udp = [ "[2001:db8:90::1]:3478" ]; };)")
          .set(3, R"(relay = { addresses = [ "2001:db8:90::1" ]; };)")
          .set(
              5,
              R"(dataplane = { ports = ( { device = "d"; addresses = [ "2001:db8:90::1/64" ]; gateway = "2001:db8:90::fffe"; } ); };)"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->relay.addresses[0].is_v6());
}

// ---- users and keys ----------------------------------------------------------------------------

TEST(Users, PasswordGivesBothKeys) {
  const auto c = load_ok(ConfText{}.set(
      4, R"(auth = { users = ( { name = "alice"; password = "wonderland"; } ); };)"));
  ASSERT_TRUE(c);
  ASSERT_EQ(c->auth.users.size(), 1u);
  const auto& alice = c->auth.users[0];
  EXPECT_EQ(alice.name, "alice");
  // printf %s 'alice:tern.test:wonderland' | md5sum
  EXPECT_EQ(to_hex(alice.key_md5), "dfd5bb6061925d2913bc194345850fdb");
  ASSERT_TRUE(alice.key_sha256);
  // printf %s 'alice:tern.test:wonderland' | sha256sum
  EXPECT_EQ(to_hex(*alice.key_sha256),
            "d4fb641f7c984f61e4bd7824be2dcfc883783f28c97047fa17056fbadf501706");
  EXPECT_TRUE(c->auth.secrets.empty());
}

TEST(Users, KeysDependOnTheRealm) {
  const auto c = load_ok(
      ConfText{}
          .set(1, R"(realm = "example.org";)")
          .set(4, R"(auth = { users = ( { name = "alice"; password = "wonderland"; } ); };)"));
  ASSERT_TRUE(c);
  // printf %s 'alice:example.org:wonderland' | md5sum
  EXPECT_EQ(to_hex(c->auth.users[0].key_md5), "72f86f2053703faa0f521ce71cfe6f59");
}

TEST(Users, KeyGiven) {
  const auto c = load_ok(ConfText{}.set(
      4,
      R"(auth = { users = ( { name = "bob"; key = "B2AF97DB30E0D0A0C949BA2642C68ECD"; }, { name = "carol"; key = "00112233445566778899aabbccddeeff"; key_sha256 = "cd379ed71cc4e458c38d3bde42843a039cf24a8118767baf6ac6845e7f81e975"; } ); };)"));
  ASSERT_TRUE(c);
  EXPECT_EQ(to_hex(c->auth.users[0].key_md5), "b2af97db30e0d0a0c949ba2642c68ecd");
  EXPECT_FALSE(c->auth.users[0].key_sha256);
  EXPECT_EQ(to_hex(c->auth.users[1].key_md5), "00112233445566778899aabbccddeeff");
  ASSERT_TRUE(c->auth.users[1].key_sha256);
  EXPECT_EQ(to_hex(*c->auth.users[1].key_sha256),
            "cd379ed71cc4e458c38d3bde42843a039cf24a8118767baf6ac6845e7f81e975");
}

TEST(Users, KeyErrors) {
  const auto users = [](std::string list) {
    return ConfText{}.set(4, "auth = { users = ( " + list + " ); };");
  };
  EXPECT_EQ(
      errors_of(users(R"({ name = "a"; key = "xyz"; })")),
      Errors{"t.conf:4: auth.users[0].key: \"xyz\" is not an MD5 key (expected 32 hex digits)"});
  EXPECT_EQ(errors_of(users(R"({ name = "a"; key = "0011223344556677889900aabbccddeeff"; })")),
            Errors{"t.conf:4: auth.users[0].key: \"0011223344556677889900aabbccddeeff\" is not an "
                   "MD5 key (expected 32 hex digits)"});
  EXPECT_EQ(errors_of(users(R"({ name = "a"; key = "0011223344556677889900aabbccddeg"; })")),
            Errors{"t.conf:4: auth.users[0].key: \"0011223344556677889900aabbccddeg\" is not an "
                   "MD5 key (expected 32 hex digits)"});
  EXPECT_EQ(errors_of(users(
                R"({ name = "a"; key = "00112233445566778899aabbccddeeff"; key_sha256 = "00"; })")),
            Errors{"t.conf:4: auth.users[0].key_sha256: \"00\" is not a SHA-256 key (expected 64 "
                   "hex digits)"});
  EXPECT_EQ(errors_of(users(
                R"({ name = "a"; password = "p"; key = "00112233445566778899aabbccddeeff"; })")),
            Errors{"t.conf:4: auth.users[0]: password and key both given: give one"});
  EXPECT_EQ(errors_of(users(R"({ name = "a"; })")),
            Errors{"t.conf:4: auth.users[0]: neither password nor key given: give one"});
  EXPECT_EQ(
      errors_of(users(R"({ name = "a"; password = "p"; key_sha256 = "00"; })")),
      Errors{"t.conf:4: auth.users[0].key_sha256: goes with key: a password gives both keys"});
  EXPECT_EQ(errors_of(users(R"({ name = "a"; password = ""; })")),
            Errors{"t.conf:4: auth.users[0].password: empty password"});
  EXPECT_EQ(errors_of(users(R"({ name = "a"; password = 5; })")),
            Errors{"t.conf:4: auth.users[0].password: expected a string, found an integer"});
}

// ---- all errors at once ------------------------------------------------------------------------

TEST(Reporting, ValidationWaitsForTheSettingsToReadCleanly) {
  // Line 3 also makes min > max; that is reported once the unknown setting is fixed.
  const auto text = ConfText{}.set(
      3,
      R"(relay = { addresses = [ "10.90.0.1" ]; ports = { min = 60000; mx = 50000; max = 50000; }; };)");
  EXPECT_EQ(errors_of(text),
            Errors{"t.conf:3: relay.ports.mx: unknown setting (did you mean relay.ports.max?)"});
  EXPECT_EQ(
      errors_of(ConfText{}.set(
          3,
          R"(relay = { addresses = [ "10.90.0.1" ]; ports = { min = 60000; max = 50000; }; };)")),
      Errors{"t.conf:3: relay.ports: min 60000 is greater than max 50000"});
}

TEST(Reporting, EveryErrorInFileOrder) {
  EXPECT_EQ(
      errors_of(
          ConfText{}
              .add("lifetimes = { permission = \"300\"; };")
              .set(1, "realm = 1;")
              .set(
                  3,
                  R"(relay = { addresses = [ "10.90.0.1" ]; ports = { min = 1; max = 70000; }; };)")
              .add("lgo = { };")),
      (Errors{"t.conf:1: realm: expected a string, found an integer",
              "t.conf:3: relay.ports.max: 70000 is not a port",
              "t.conf:6: lifetimes.permission: expected an integer, found a string",
              "t.conf:7: lgo: unknown setting (did you mean log?)"}));
}

}  // namespace
}  // namespace tern::conf
