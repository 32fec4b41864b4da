// The operator core: reload (also on SIGHUP) and drain.

#include "conf/load.hpp"
#include "control/operator/config_diff.hpp"
#include "control/operator/commands.hpp"
#include "control/transport/tls_check.hpp"

#include <ctime>

namespace tern::ctl {

api::Result<api::ReloadReply> OperatorCommands::handle(const api::ReloadRequest&, const Caller& caller, Now) {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  const auto next = conf::load_file(config_path_, errors);
  // A renewed certificate under the same file names is a reload too: the files are read again.
  if (next) check_tls(*next, config_path_, std::time(nullptr), errors, warnings);
  for (const auto& w : warnings) logger_.line(LogLevel::warning, "tls_certificate").kv("warning", w);
  if (!next || !errors.empty()) {
    audit("reload", caller, [&](LogLine& l) { l.kv("file", config_path_).kv("result", "invalid").kv("errors", errors.size()); });
    return api::Error{api::ErrorCode::invalid_config, config_path_ + " has errors; nothing was changed", errors};
  }
  api::ReloadReply r;
  r.file = config_path_;
  for (auto& change : restart_only_changes(running_, *next))
    r.not_applied.push_back({std::move(change.setting), "needs a restart: " + std::move(change.reason)});
  r.applied = live_changes(running_, *next);

  // Live allocations stay; permissions to peers the new policy denies are revoked.
  conf::Config live = keep_restart_settings(*next, running_);
  // The workers' SOFTWARE and rates: a new set the workers take at their next burst, for every
  // allocation, live ones too. Without memory for it the workers keep the old set, and say so.
  const dp::WorkerSettingsValues workers = dp::WorkerSettingsValues::from(live);
  if (worker_settings_ != nullptr && workers != dp::WorkerSettingsValues::from(running_) &&
      !worker_settings_->publish(workers)) {
    for (const char* s : {"software", "limits.max_bps", "limits.allocation_pps"})
      if (std::erase(r.applied, s) > 0) r.not_applied.push_back({s, "no memory for the workers' new settings"});
    live.software = running_.software;
    live.limits.max_bps = running_.limits.max_bps;
    live.limits.allocation_pps = running_.limits.allocation_pps;
  }
  const ApplyResult applied = plane_.apply(live);
  running_ = std::move(live);
  // The file's users replaced every user; outstanding probe credentials stay valid.
  restore_probe_users();
  // TLS: new connections get the new certificates and settings; open ones keep theirs.
  if (streams_ != nullptr && !running_.listen.tls.empty()) {
    streams_->reload_tls(tls_settings(running_.tls));
    r.applied.push_back("tls");
  }

  r.users = static_cast<uint32_t>(applied.users);
  r.secrets = static_cast<uint32_t>(applied.secrets);
  r.permissions_revoked = static_cast<uint32_t>(applied.permissions_revoked);
  std::string changed;
  for (const auto& s : r.applied) changed += (changed.empty() ? "" : ",") + s;
  std::string refused;
  for (const auto& n : r.not_applied) refused += (refused.empty() ? "" : ",") + n.setting;
  audit("reload", caller, [&](LogLine& l) {
    l.kv("file", config_path_).kv("result", "applied").kv("applied", changed.empty() ? "-" : changed);
    l.kv("not_applied", refused.empty() ? "-" : refused).kv("permissions_revoked", r.permissions_revoked);
  });
  return r;
}

api::Result<api::DrainReply> OperatorCommands::handle(const api::DrainRequest& req, const Caller& caller, Now) {
  plane_.set_draining(req.on);
  api::DrainReply r;
  r.draining = plane_.draining();
  r.allocations = plane_.allocations().size();
  const conf::AlternateServer& alternate = plane_.settings().alternate_server;
  r.alternate_server = alternate.udp;
  r.alternate_server_tcp = alternate.tcp;
  r.alternate_server_tls = alternate.tls;
  audit("drain", caller, [&](LogLine& l) { l.kv("on", req.on ? "yes" : "no").kv("allocations", r.allocations); });
  return r;
}

}  // namespace tern::ctl
