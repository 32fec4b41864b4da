// What a reload may change live and what waits for a restart.

#include <gtest/gtest.h>

#include "control/operator/config_diff.hpp"
#include "tests/unit/control/operator_test_util.hpp"

namespace tern::ctl::test {
namespace {

std::vector<std::string> settings(const std::vector<SettingChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.setting);
  return out;
}

TEST(ConfigDiff, NothingChangedNothingToSay) {
  const conf::Config c = load_config(operator_config());
  EXPECT_TRUE(restart_only_changes(c, c).empty());
  EXPECT_TRUE(live_changes(c, c).empty());
}

TEST(ConfigDiff, TheDataPlanesShapeAndTheAddressesWaitForARestart) {
  const conf::Config running = load_config(operator_config());
  std::string text = operator_config({.relay_ports = "min = 50000; max = 50099;",
                                      .relay_external = R"({ relay = "192.0.2.10"; advertise = "203.0.113.7"; })",
                                      .extra = "log = { syslog = true; };\n"});
  text.replace(text.find("0000:3b:00.0"), 12, "0000:3b:00.1");
  text.replace(text.find("table_size = 64"), 15, "table_size = 96");
  text.replace(text.find("/run/tern-test/ternd.sock"), 25, "/run/tern-test/other.sock");
  const conf::Config next = load_config(text);
  const auto changes = restart_only_changes(running, next);
  EXPECT_EQ(settings(changes), (std::vector<std::string>{"relay.ports", "relay.external", "dataplane.ports",
                                                         "dataplane.table_size", "control.socket", "log.syslog"}));
  for (const auto& c : changes) EXPECT_FALSE(c.reason.empty());
  EXPECT_TRUE(live_changes(running, next).empty());

  const conf::Config kept = keep_restart_settings(next, running);
  EXPECT_TRUE(restart_only_changes(running, kept).empty());
  EXPECT_EQ(kept.relay.ports.max.value, 50199);
  EXPECT_TRUE(kept.relay.external.empty());
  EXPECT_FALSE(kept.log.syslog);
}

TEST(ConfigDiff, LiveSettingsAreNamed) {
  const conf::Config running = load_config(operator_config());
  std::string text = operator_config({.peers_allow = R"("192.0.2.0/24", "198.51.100.0/24")", .extra = R"(
software = "tern-2";
alternate_server = "198.51.100.20:3478";
lifetimes = { allocation_default = 900; channel = 700; };
limits = { user_quota = 5; max_bps = 1000000; };
log = { level = "warning"; };
compat = { rfc5766_channels = true; };
)"});
  const std::string software = "software = \"tern-test\";";
  text.replace(text.find(software), software.size(), "");
  text.replace(text.find("\"north-secret\""), 14, "\"south-secret\", \"north-secret\"");
  const conf::Config next = load_config(text);
  EXPECT_TRUE(restart_only_changes(running, next).empty());
  EXPECT_EQ(live_changes(running, next),
            (std::vector<std::string>{"software", "alternate_server", "auth.secrets", "lifetimes.allocation_default",
                                      "lifetimes.channel", "limits.user_quota", "limits.max_bps", "peers.allow",
                                      "log.level", "compat.rfc5766_channels"}));
  const conf::Config kept = keep_restart_settings(next, running);
  EXPECT_EQ(kept.software, "tern-2");
  EXPECT_EQ(kept.auth.secrets.size(), 2u);
}

TEST(ConfigDiff, ANewRealmKeepsTheRunningUsersWhoseKeysItWouldBreak) {
  const conf::Config running = load_config(operator_config());
  std::string text = operator_config();
  text.replace(text.find("example.org"), 11, "example.net");
  const conf::Config next = load_config(text);
  // The same passwords make other keys under another realm.
  EXPECT_EQ(settings(restart_only_changes(running, next)), (std::vector<std::string>{"realm", "auth.users"}));
  EXPECT_TRUE(live_changes(running, next).empty());
  const conf::Config kept = keep_restart_settings(next, running);
  EXPECT_EQ(kept.realm, "example.org");
  EXPECT_EQ(kept.auth.users[0].key_md5, running.auth.users[0].key_md5);
}

}  // namespace
}  // namespace tern::ctl::test
