// The operator core: every control socket command's function, over a real ControlPlane (with the
// recording table writer) and a fake data plane, with the clock moved by hand.

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/control/operator_test_util.hpp"

namespace tern::ctl::test {
namespace {

bool has(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST(Operator, StatusReportsWhatTheServerIs) {
  OperatorHarness o;
  Client a{o.h, "198.51.100.1:40000", "alice", "alice-password"};
  ASSERT_EQ(a.allocate().code(), 0);
  ASSERT_EQ(a.permit({"192.0.2.50:1"}).code(), 0);
  o.h.advance(7);
  const auto r = o.run(api::StatusRequest{});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->uptime, 7u);
  EXPECT_EQ(r->workers, 2u);
  EXPECT_FALSE(r->draining);
  EXPECT_EQ(r->allocations, 1u);
  EXPECT_EQ(r->permissions, 1u);
  EXPECT_EQ(r->users, 3u);
  EXPECT_EQ(r->secrets, 1u);
  ASSERT_EQ(r->listeners.size(), 1u);
  EXPECT_EQ(r->listeners[0], ta("192.0.2.1:3478"));
  ASSERT_EQ(r->relay.size(), 2u);
  EXPECT_EQ(r->relay[1].address, ip("192.0.2.11"));
  ASSERT_EQ(r->ports.size(), 1u);
  EXPECT_EQ(r->ports[0].device, "0000:3b:00.0");
  EXPECT_EQ(r->ports[0].addresses.size(), 3u);
  EXPECT_EQ(r->log_level, "debug");
}

TEST(Operator, StatusShowsTheAdvertisedRelayAddress) {
  OperatorHarness o({.relay_external = R"({ relay = "192.0.2.11"; advertise = "203.0.113.7"; })"});
  const auto r = o.run(api::StatusRequest{});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->relay[0].advertised, ip("192.0.2.10"));
  EXPECT_EQ(r->relay[1].advertised, ip("203.0.113.7"));
}

TEST(Operator, StatsSumTheWorkersAndNameEveryCounter) {
  OperatorHarness o;
  o.stats.set(0, dp::CounterId::rx_packets, 10);
  o.stats.set(1, dp::CounterId::rx_packets, 32);
  o.stats.set(1, dp::CounterId::drop_no_permission, 3);
  o.io.values[static_cast<size_t>(dp::ControlCounterId::replies_sent)] = 5;
  Client a{o.h, "198.51.100.1:40000", "alice", "alice-password"};
  ASSERT_EQ(a.allocate().code(), 0);

  const auto r = o.run(api::StatsRequest{});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->workers, 2u);
  ASSERT_EQ(r->dataplane.size(), dp::kCounterCount);
  ASSERT_EQ(r->per_worker.size(), 2u);
  auto value = [](const api::CounterSet& set, std::string_view name) {
    for (const auto& c : set)
      if (c.name == name) return c.value;
    ADD_FAILURE() << "no counter " << name;
    return uint64_t{0};
  };
  EXPECT_EQ(value(r->dataplane, "rx_packets"), 42u);
  EXPECT_EQ(value(r->per_worker[1], "rx_packets"), 32u);
  EXPECT_EQ(value(r->dataplane, "drop_no_permission"), 3u);
  EXPECT_EQ(value(r->control_io, "replies_sent"), 5u);
  EXPECT_EQ(r->control_plane.size(), kCounterCount);
  EXPECT_EQ(value(r->control_plane, "allocations_created"), 1u);
  EXPECT_EQ(value(r->control_plane, "allocations_live"), 1u);
}

TEST(Operator, AllocationsFilterLimitAndSayWhenCut) {
  OperatorHarness o;
  Client a1{o.h, "198.51.100.1:40000", "alice", "alice-password"};
  Client a2{o.h, "198.51.100.1:40001", "alice", "alice-password"};
  Client b1{o.h, "198.51.100.2:40000", "bob", "bob-password"};
  for (Client* c : {&a1, &a2, &b1}) ASSERT_EQ(c->allocate().code(), 0);

  auto all = o.run(api::AllocationsRequest{});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->total, 3u);
  EXPECT_FALSE(all->truncated);
  ASSERT_EQ(all->allocations.size(), 3u);
  EXPECT_EQ(all->allocations[0].user, "alice");
  EXPECT_EQ(all->allocations[0].client, ta("198.51.100.1:40000"));
  EXPECT_EQ(all->allocations[0].server, ta("192.0.2.1:3478"));
  EXPECT_EQ(all->allocations[0].transport, "udp");
  EXPECT_EQ(all->allocations[0].expires_in, 600u);

  EXPECT_EQ(o.run(api::AllocationsRequest{.user = "bob"})->allocations.size(), 1u);
  EXPECT_EQ(o.run(api::AllocationsRequest{.client = api::Endpoint::parse("198.51.100.1")})->allocations.size(), 2u);
  const auto one = o.run(api::AllocationsRequest{.client = api::Endpoint::parse("198.51.100.1:40001")});
  ASSERT_EQ(one->allocations.size(), 1u);
  EXPECT_EQ(one->allocations[0].client, ta("198.51.100.1:40001"));

  const auto cut = o.run(api::AllocationsRequest{.limit = 2});
  EXPECT_EQ(cut->allocations.size(), 2u);
  EXPECT_TRUE(cut->truncated);
  EXPECT_FALSE(o.run(api::AllocationsRequest{.limit = 3})->truncated);

  for (const uint32_t bad : {0u, api::kMaxListLimit + 1}) {
    const auto r = o.run(api::AllocationsRequest{.limit = bad});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, api::ErrorCode::bad_request);
  }
}

TEST(Operator, AllocationShowsPermissionsChannelsAndTraffic) {
  OperatorHarness o;
  Client a{o.h, "198.51.100.1:40000", "alice", "alice-password"};
  ASSERT_EQ(a.allocate().code(), 0);
  ASSERT_EQ(a.permit({"192.0.2.50:1"}).code(), 0);
  ASSERT_EQ(a.bind(0x4001, "192.0.2.51:9000").code(), 0);
  const uint32_t id = o.run(api::AllocationsRequest{})->allocations.at(0).id;
  o.stats.traffic[dp::AllocId{id}] = {.bytes_to_peer = 1000, .bytes_to_client = 2000, .packets_to_peer = 10,
                         .packets_to_client = 20, .drops_to_peer = {1, 0, 0, 0, 0},
                         .drops_to_client = {0, 2, 0, 0, 3}};

  const auto r = o.run(api::AllocationRequest{id});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->allocation.id, id);
  EXPECT_EQ(r->allocation.permissions, 2u);
  ASSERT_EQ(r->permission_list.size(), 2u);
  EXPECT_EQ(r->permission_list[0].peer, ip("192.0.2.50"));
  ASSERT_EQ(r->channel_list.size(), 1u);
  EXPECT_EQ(r->channel_list[0].number, 0x4001u);
  EXPECT_EQ(r->channel_list[0].peer, ta("192.0.2.51:9000"));
  EXPECT_EQ(r->traffic.bytes_to_peer, 1000u);
  EXPECT_EQ(r->traffic.packets_to_client, 20u);
  EXPECT_EQ(r->traffic.drops_to_peer, 1u);
  EXPECT_EQ(r->traffic.drops_to_peer_by_reason.no_permission, 1u);
  EXPECT_EQ(r->traffic.drops_to_client, 5u);
  EXPECT_EQ(r->traffic.drops_to_client_by_reason.unbound_channel, 2u);
  EXPECT_EQ(r->traffic.drops_to_client_by_reason.other, 3u);

  const auto missing = o.run(api::AllocationRequest{63});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, api::ErrorCode::not_found);
}

TEST(Operator, KillOneOrEveryAllocationOfAUserIncludingItsRestCredentials) {
  OperatorHarness o;
  Client a{o.h, "198.51.100.1:40000", "alice", "alice-password"};
  const std::string rest_user = std::to_string(o.h.now.unix + 3600) + ":alice";
  Client r{o.h, "198.51.100.1:40001", rest_user, rest_password(o.h.engine(), kRestSecret, rest_user)};
  Client b{o.h, "198.51.100.2:40000", "bob", "bob-password"};
  for (Client* c : {&a, &r, &b}) ASSERT_EQ(c->allocate().code(), 0);
  const uint32_t bob_id = o.run(api::AllocationsRequest{.user = "bob"})->allocations.at(0).id;

  const auto one = o.run(api::KillRequest{.allocation = bob_id});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->killed, 1u);
  EXPECT_EQ(b.refresh().code(), 437);
  EXPECT_FALSE(o.run(api::KillRequest{.allocation = bob_id}));

  const auto user = o.run(api::KillRequest{.user = "alice"});
  ASSERT_TRUE(user);
  EXPECT_EQ(user->killed, 2u);
  EXPECT_EQ(o.run(api::StatusRequest{})->allocations, 0u);
  EXPECT_TRUE(o.h.logged("event=operator action=kill uid=1000 pid=42 via=socket user=alice killed=2"));

  EXPECT_EQ(o.run(api::KillRequest{}).error().code, api::ErrorCode::bad_request);
  EXPECT_EQ(o.run(api::KillRequest{.allocation = 1, .user = "x"}).error().code, api::ErrorCode::bad_request);
  EXPECT_EQ(o.run(api::KillRequest{.user = "nobody"})->killed, 0u);
}

TEST(Operator, UsersAddedByPasswordOrKeyAuthenticateAndRemovedOnesDoNot) {
  OperatorHarness o;
  ASSERT_TRUE(o.run(api::UsersAddRequest{.name = "dave", .password = "dave-password"}));
  Client d{o.h, "198.51.100.4:40000", "dave", "dave-password"};
  EXPECT_EQ(d.allocate().code(), 0);

  // The key an operator computes elsewhere: MD5("erin:example.org:erin-password").
  const auto key = conf::md5_key(o.h.engine(), "erin", "example.org", "erin-password");
  const auto added = o.run(api::UsersAddRequest{.name = "erin", .key = conf::to_hex(key)});
  ASSERT_TRUE(added);
  EXPECT_FALSE(added->replaced);
  EXPECT_FALSE(added->sha256);
  Client e{o.h, "198.51.100.5:40000", "erin", "erin-password"};
  EXPECT_EQ(e.allocate().code(), 0);

  const auto replaced = o.run(api::UsersAddRequest{.name = "dave", .password = "new-password"});
  ASSERT_TRUE(replaced);
  EXPECT_TRUE(replaced->replaced);
  EXPECT_TRUE(replaced->sha256);

  const auto list = o.run(api::UsersListRequest{});
  EXPECT_EQ(list->users, (std::vector<std::string>{"alice", "bob", "carol", "dave", "erin"}));

  const auto removed = o.run(api::UsersRemoveRequest{"bob"});
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->users, 4u);
  Client b{o.h, "198.51.100.2:40000", "bob", "bob-password"};
  EXPECT_EQ(b.allocate().code(), 401);
  EXPECT_EQ(o.run(api::UsersRemoveRequest{"bob"}).error().code, api::ErrorCode::not_found);

  EXPECT_TRUE(o.h.logged("action=users.add uid=1000 pid=42 via=socket user=dave replaced=no"));
  EXPECT_TRUE(o.h.logged("action=users.remove uid=1000 pid=42 via=socket user=bob"));
}

TEST(Operator, UsersAddRefusesWhatIsNotACredential) {
  OperatorHarness o;
  auto code = [&](api::UsersAddRequest r) { return o.run(r).error().code; };
  EXPECT_EQ(code({.name = "x"}), api::ErrorCode::bad_request);                              // neither
  EXPECT_EQ(code({.name = "x", .password = "p", .key = std::string(32, 'a')}), api::ErrorCode::bad_request);
  EXPECT_EQ(code({.name = "x", .key = "00"}), api::ErrorCode::bad_request);                  // short key
  EXPECT_EQ(code({.name = "x", .key = std::string(32, 'g')}), api::ErrorCode::bad_request);  // not hex
  EXPECT_EQ(code({.name = "x", .password = "p", .key_sha256 = std::string(64, 'a')}), api::ErrorCode::bad_request);
  EXPECT_EQ(code({.name = "", .password = "p"}), api::ErrorCode::bad_request);
  EXPECT_EQ(code({.name = std::string(600, 'n'), .password = "p"}), api::ErrorCode::bad_request);
  EXPECT_EQ(code({.name = "x", .password = ""}), api::ErrorCode::bad_request);
  EXPECT_EQ(o.run(api::UsersListRequest{})->users.size(), 3u);
}

TEST(Operator, SecretsRotateLiveAndShowOnlyFingerprints) {
  OperatorHarness o;
  const auto before = o.run(api::SecretsListRequest{});
  ASSERT_EQ(before->secrets.size(), 1u);
  // printf %s north-secret | sha256sum | cut -c1-12
  std::array<uint8_t, 32> digest{};
  o.h.engine().sha256(bytes_of(kRestSecret), digest);
  EXPECT_EQ(before->secrets[0].fingerprint, conf::to_hex(std::span<const uint8_t>(digest.data(), 6)));

  const auto added = o.run(api::SecretsAddRequest{.secret = "south-secret"});
  ASSERT_TRUE(added);
  ASSERT_EQ(added->secrets.size(), 2u);
  EXPECT_EQ(added->changed, added->secrets[0].fingerprint);
  const std::string user = std::to_string(o.h.now.unix + 3600) + ":zoe";
  Client z{o.h, "198.51.100.9:40000", user, rest_password(o.h.engine(), "south-secret", user)};
  EXPECT_EQ(z.allocate().code(), 0);
  EXPECT_EQ(o.run(api::SecretsAddRequest{.secret = "south-secret"}).error().code, api::ErrorCode::bad_request);

  const auto old = before->secrets[0].fingerprint;
  EXPECT_EQ(o.run(api::SecretsRemoveRequest{"zz"}).error().code, api::ErrorCode::bad_request);
  EXPECT_EQ(o.run(api::SecretsRemoveRequest{"ffffffff"}).error().code, api::ErrorCode::not_found);
  const auto removed = o.run(api::SecretsRemoveRequest{old.substr(0, 6)});
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->changed, old);
  ASSERT_EQ(removed->secrets.size(), 1u);
  const std::string north = std::to_string(o.h.now.unix + 3600) + ":yan";
  Client y{o.h, "198.51.100.8:40000", north, rest_password(o.h.engine(), kRestSecret, north)};
  EXPECT_EQ(y.allocate().code(), 401);

  for (const auto& line : o.h.log) {
    EXPECT_EQ(line.find("south-secret"), std::string::npos) << line;
    EXPECT_EQ(line.find("north-secret"), std::string::npos) << line;
  }
  EXPECT_TRUE(o.h.logged("action=secrets.add uid=1000 pid=42 via=socket fingerprint=" + *added->changed));
}

TEST(Operator, TheLastCredentialStays) {
  OperatorHarness o;
  for (const char* name : {"alice", "bob", "carol"}) ASSERT_TRUE(o.run(api::UsersRemoveRequest{name}));
  const auto fp = o.run(api::SecretsListRequest{})->secrets.at(0).fingerprint;
  EXPECT_EQ(o.run(api::SecretsRemoveRequest{fp}).error().code, api::ErrorCode::failed);
  EXPECT_EQ(o.run(api::SecretsListRequest{})->secrets.size(), 1u);
}

TEST(Operator, ReloadAppliesLiveSettingsKeepsAllocationsAndRefusesTheRest) {
  OperatorHarness o;
  Client a{o.h, "198.51.100.1:40000", "alice", "alice-password"};
  ASSERT_EQ(a.allocate().code(), 0);

  const auto same = o.run(api::ReloadRequest{});
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->applied.empty());
  EXPECT_TRUE(same->not_applied.empty());

  // A new user, a longer permission lifetime, and two settings only a restart takes.
  std::string text = operator_config({.extra = R"(
lifetimes = { permission = 400; };
log = { level = "notice"; };
)"});
  text.replace(text.find("{ name = \"bob\"; password = \"bob-password\"; }"), 0,
               "{ name = \"dave\"; password = \"dave-password\"; },\n");
  text.replace(text.find("table_size = 64"), 15, "table_size = 128");
  text.replace(text.find("realm = \"example.org\""), 21, "realm = \"example.net\"");
  o.write_config(text);
  const auto r = o.run(api::ReloadRequest{});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(has(r->applied, "lifetimes.permission"));
  EXPECT_TRUE(has(r->applied, "log.level"));
  // The file's keys are for example.net: its users wait for the restart with the realm.
  ASSERT_EQ(r->not_applied.size(), 3u);
  EXPECT_EQ(r->not_applied[0].setting, "realm");
  EXPECT_EQ(r->not_applied[1].setting, "auth.users");
  EXPECT_EQ(r->not_applied[2].setting, "dataplane.table_size");
  EXPECT_FALSE(has(r->applied, "auth.users"));
  EXPECT_EQ(r->users, 3u);
  EXPECT_EQ(a.refresh().code(), 0);  // the allocation and its user's key lived through it
  EXPECT_EQ(o.h.logger().level(), LogLevel::notice);
  EXPECT_EQ(o.op.running().dataplane.table_size, 64u);
  EXPECT_EQ(o.op.running().lifetimes.permission.count(), 400);

  // With the realm as it is, the new user comes in.
  text.replace(text.find("realm = \"example.net\""), 21, "realm = \"example.org\"");
  o.write_config(text);
  const auto again = o.run(api::ReloadRequest{});
  ASSERT_TRUE(again);
  EXPECT_TRUE(has(again->applied, "auth.users"));
  EXPECT_EQ(again->not_applied.size(), 1u);
  Client d{o.h, "198.51.100.4:40000", "dave", "dave-password"};
  EXPECT_EQ(d.allocate().code(), 0);
  EXPECT_EQ(a.refresh().code(), 0);
}

TEST(Operator, ReloadOfABrokenFileChangesNothing) {
  OperatorHarness o;
  ASSERT_TRUE(o.run(api::UsersAddRequest{.name = "dave", .password = "dave-password"}));
  o.write_config(operator_config({.extra = "lifetimes = { permission = 10; };\nbogus = 1;\n"}));
  const auto r = o.run(api::ReloadRequest{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, api::ErrorCode::invalid_config);
  ASSERT_GE(r.error().details.size(), 1u);
  EXPECT_NE(r.error().details[0].find("bogus"), std::string::npos);
  EXPECT_TRUE(has(o.run(api::UsersListRequest{})->users, "dave"));
  EXPECT_EQ(o.op.running().lifetimes.permission.count(), 300);
  EXPECT_TRUE(o.h.logged("action=reload uid=1000 pid=42 via=socket"));
}

TEST(Operator, ReloadReplacesUsersAddedOverTheSocket) {
  OperatorHarness o;
  ASSERT_TRUE(o.run(api::UsersAddRequest{.name = "dave", .password = "dave-password"}));
  const auto r = o.run(api::ReloadRequest{});
  ASSERT_TRUE(r);
  EXPECT_TRUE(has(r->applied, "auth.users"));  // the file does not have dave
  EXPECT_FALSE(has(o.run(api::UsersListRequest{})->users, "dave"));
}

TEST(Operator, DrainRefusesNewAllocationsAndLetsOldOnesRefresh) {
  OperatorHarness o;
  Client a{o.h, "198.51.100.1:40000", "alice", "alice-password"};
  ASSERT_EQ(a.allocate().code(), 0);
  const auto on = o.run(api::DrainRequest{true});
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->draining);
  EXPECT_EQ(on->allocations, 1u);
  EXPECT_FALSE(on->alternate_server);
  EXPECT_TRUE(o.run(api::StatusRequest{})->draining);

  Client b{o.h, "198.51.100.2:40000", "bob", "bob-password"};
  EXPECT_EQ(b.allocate().code(), 508);
  EXPECT_EQ(a.refresh().code(), 0);
  EXPECT_FALSE(o.run(api::DrainRequest{false})->draining);
  EXPECT_EQ(b.allocate().code(), 0);
  EXPECT_TRUE(o.h.logged("action=drain uid=1000 pid=42 via=socket on=yes allocations=1"));
}

TEST(Operator, DrainWithAnAlternateServerSendsClientsThere) {
  OperatorHarness o({.extra = "alternate_server = \"198.51.100.20:3478\";\n"});
  ASSERT_TRUE(o.run(api::DrainRequest{true}));
  EXPECT_EQ(o.run(api::DrainRequest{true})->alternate_server, ta("198.51.100.20:3478"));
  Client b{o.h, "198.51.100.2:40000", "bob", "bob-password"};
  const Answer answer = b.allocate();
  EXPECT_EQ(answer.code(), 300);
  EXPECT_EQ(*stun::alternate_server(answer.msg()), ta("198.51.100.20:3478"));
}

TEST(Operator, ProbeCredentialsWorkAreHiddenAndGoAway) {
  OperatorHarness o;
  const auto plan = o.run(api::ProbeRequest{});
  ASSERT_TRUE(plan);
  const auto& cred = plan->credential;
  EXPECT_EQ(cred.realm, "example.org");
  EXPECT_EQ(cred.expires_in, OperatorCommands::kProbeLifetime);
  EXPECT_EQ(plan->listeners, std::vector<TransportAddress>{ta("192.0.2.1:3478")});
  EXPECT_EQ(plan->relay_port_min, 50000u);
  EXPECT_EQ(plan->relay_port_max, 50199u);

  Client p{o.h, "198.51.100.7:40000", cred.username, cred.password};
  EXPECT_EQ(p.allocate().code(), 0);
  EXPECT_EQ(o.run(api::UsersListRequest{})->users.size(), 3u);  // not among the users

  // A reload keeps it.
  ASSERT_TRUE(o.run(api::ReloadRequest{}));
  EXPECT_EQ(p.refresh().code(), 0);

  const auto done = o.run(api::ProbeDoneRequest{cred.username, 0u, 1u});
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->removed);
  EXPECT_EQ(done->killed, 1u);
  Client again{o.h, "198.51.100.7:40001", cred.username, cred.password};
  EXPECT_EQ(again.allocate().code(), 401);
  EXPECT_EQ(o.run(api::ProbeDoneRequest{cred.username}).error().code, api::ErrorCode::not_found);
  EXPECT_TRUE(o.h.logged("action=probe.done uid=1000 pid=42 via=socket user=" + cred.username +
                         " killed=1 failures=0 warnings=1"));
  for (const auto& line : o.h.log) EXPECT_EQ(line.find(cred.password), std::string::npos) << line;
}

TEST(Operator, ProbeCredentialsExpireAndAreBounded) {
  OperatorHarness o;
  std::vector<std::string> names;
  for (size_t i = 0; i < OperatorCommands::kMaxProbes; ++i) names.push_back(o.run(api::ProbeRequest{})->credential.username);
  EXPECT_EQ(o.run(api::ProbeRequest{}).error().code, api::ErrorCode::busy);
  o.h.advance(OperatorCommands::kProbeLifetime - 1);
  o.op.tick(o.h.now);
  EXPECT_EQ(o.run(api::ProbeRequest{}).error().code, api::ErrorCode::busy);
  o.h.advance(1);
  o.op.tick(o.h.now);
  EXPECT_EQ(o.run(api::ProbeDoneRequest{names[0]}).error().code, api::ErrorCode::not_found);
  EXPECT_TRUE(o.run(api::ProbeRequest{}));
  EXPECT_EQ(o.h.plane().user_names().size(), 4u);
}

TEST(Operator, ProbeFindingsNameConfigurationMistakes) {
  OperatorHarness o({.relay_ports = "min = 50000; max = 50009;",
                     .relay_external = R"({ relay = "192.0.2.11"; advertise = "10.1.2.3"; })",
                     .peers_allow = ""});
  o.run(api::DrainRequest{true});
  const auto plan = o.run(api::ProbeRequest{});
  ASSERT_TRUE(plan);
  auto found = [&](std::string_view check, std::string_view words) {
    for (const auto& f : plan->findings)
      if (f.check == check && f.message.find(words) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(found("drain", "draining"));
  EXPECT_TRUE(found("relay address 192.0.2.11", "10.1.2.3, a private address"));
  EXPECT_TRUE(found("relay address 192.0.2.11", "peer policy denies 10.1.2.3"));
  EXPECT_TRUE(found("relay.ports", "at most 20 allocations"));
}

TEST(Operator, VersionAndMetricsSnapshot) {
  OperatorHarness o;
  EXPECT_EQ(o.run(api::VersionRequest{})->protocol, 1u);
  o.stats.set(1, dp::CounterId::tx_packets, 9);
  const MetricsSnapshot s = o.op.metrics(o.h.now);
  ASSERT_EQ(s.workers.size(), 2u);
  EXPECT_EQ(s.workers[1][static_cast<size_t>(dp::CounterId::tx_packets)], 9u);
  EXPECT_EQ(s.control_plane[static_cast<size_t>(Counter::static_users)], 3u);
}

}  // namespace
}  // namespace tern::ctl::test
