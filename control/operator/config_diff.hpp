#pragma once
// What a reloaded configuration changes, split into what ternd applies live and what only a
// restart can take: the data plane's shape (EAL, ports, pools, table size), where clients and
// peers reach it (listeners, relay addresses, ports and their NAT mapping), the realm (every key
// derives from it, so with a new realm the file's users wait for the restart too), and ternd's own
// sockets and log destination.

#include <string>
#include <vector>

#include "conf/config.hpp"

namespace tern::ctl {

struct SettingChange {
  std::string setting;  // as written in the file: "dataplane.ports", "auth.users"
  std::string reason;   // for restart-only settings: why a reload cannot take it
};

// Restart-only settings whose value differs between the running and the reloaded configuration.
std::vector<SettingChange> restart_only_changes(const conf::Config& running, const conf::Config& next);
// Live settings that differ (names only).
std::vector<std::string> live_changes(const conf::Config& running, const conf::Config& next);
// `next` with every restart-only setting put back to its running value: what a reload applies.
conf::Config keep_restart_settings(conf::Config next, const conf::Config& running);

}  // namespace tern::ctl
