#pragma once
// The operator core: every control socket command as one function from its typed request to its
// typed reply (api/types.hpp). The socket handler decodes a line and calls handle(); SIGHUP calls
// the same reload. Everything here runs on the control lcore, between punt bursts, and reads the
// data plane only through its DPDK-free Stats and ControlIo.
//
//   OperatorCommands op(plane, engine, logger, stats, io, "/etc/tern/ternd.conf", config, now);
//   api::Result<api::StatusReply> r = op.handle(api::StatusRequest{}, caller, now);
//
// Commands that change something (kill, users, secrets, reload, drain, probe) are logged at
// notice with who asked: the peer's uid and pid from SO_PEERCRED, or the signal's sender.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "control/api/result.hpp"
#include "control/api/types.hpp"
#include "control/base/clock.hpp"
#include "control/turn/control_plane.hpp"
#include "control/base/log.hpp"
#include "control/operator/metrics.hpp"
#include "control/operator/traffic_baselines.hpp"
#include "control/transport/stream_transport.hpp"
#include "crypto/engine.hpp"
#include "dataplane/contract/control_io.hpp"
#include "dataplane/contract/stats.hpp"
#include "dataplane/contract/worker_settings.hpp"

namespace tern::ctl {

// Who asked: a control socket peer (its credentials) or a signal's sender.
struct Caller {
  uint32_t uid = 0;
  int32_t pid = 0;
  std::string_view via = "socket";  // "socket", "SIGHUP"
};

class OperatorCommands {
 public:
  // `running` is the configuration ternd started with; `config_path` the file reload re-reads.
  OperatorCommands(ControlPlane& plane, crypto::Engine& engine, Logger& logger, const dp::Stats& stats,
           const dp::ControlIo& io, const TrafficBaselines& baselines, std::string config_path,
           conf::Config running, Now started);

  api::Result<api::VersionReply> handle(const api::VersionRequest&, const Caller&, Now now);
  api::Result<api::StatusReply> handle(const api::StatusRequest&, const Caller&, Now now);
  api::Result<api::StatsReply> handle(const api::StatsRequest&, const Caller&, Now now);
  api::Result<api::AllocationsReply> handle(const api::AllocationsRequest&, const Caller&, Now now);
  api::Result<api::AllocationReply> handle(const api::AllocationRequest&, const Caller&, Now now);
  api::Result<api::KillReply> handle(const api::KillRequest&, const Caller&, Now now);
  api::Result<api::UsersListReply> handle(const api::UsersListRequest&, const Caller&, Now now);
  api::Result<api::UsersAddReply> handle(const api::UsersAddRequest&, const Caller&, Now now);
  api::Result<api::UsersRemoveReply> handle(const api::UsersRemoveRequest&, const Caller&, Now now);
  api::Result<api::SecretsReply> handle(const api::SecretsListRequest&, const Caller&, Now now);
  api::Result<api::SecretsReply> handle(const api::SecretsAddRequest&, const Caller&, Now now);
  api::Result<api::SecretsReply> handle(const api::SecretsRemoveRequest&, const Caller&, Now now);
  api::Result<api::ReloadReply> handle(const api::ReloadRequest&, const Caller&, Now now);
  api::Result<api::DrainReply> handle(const api::DrainRequest&, const Caller&, Now now);
  api::Result<api::ProbeReply> handle(const api::ProbeRequest&, const Caller&, Now now);
  api::Result<api::ProbeDoneReply> handle(const api::ProbeDoneRequest&, const Caller&, Now now);

  // What the metrics endpoint exports, as of now.
  MetricsSnapshot metrics(Now now) const;
  // The stream transport, when ternd has TCP or TLS listeners: status, metrics, TLS reload.
  void set_streams(StreamTransport* streams) { streams_ = streams; }
  // The workers' settings (SOFTWARE, max_bps, allocation_pps): republished on reload.
  void set_worker_settings(dp::WorkerSettingsPublisher* publisher) { worker_settings_ = publisher; }

  // Retires probe credentials past their time and samples the workers' busy cycles. Call about
  // once a second.
  void tick(Now now);

  const conf::Config& running() const { return running_; }
  // The REST secrets in use, newest first.
  const std::vector<std::string>& secrets() const { return running_.auth.secrets; }
  uint64_t uptime(Now now) const { return now.mono > started_.mono ? now.mono - started_.mono : 0; }

  // How long a probe credential lives, and how many may be out at once.
  static constexpr uint32_t kProbeLifetime = 60;
  static constexpr size_t kMaxProbes = 4;

 private:
  StreamTransport* streams_ = nullptr;
  dp::WorkerSettingsPublisher* worker_settings_ = nullptr;
  struct ProbeUser {
    std::string name;
    conf::User user;
    dp::TableTime expires = 0;
  };

  std::vector<api::PortStatus> port_status() const;
  std::vector<api::RelayAddress> relay_addresses() const;
  // The TCP and TLS listeners with their connections, and the earliest certificate expiry.
  void stream_listeners(std::vector<api::StreamListenerInfo>& out, std::optional<int64_t>& certificate_expires) const;
  std::vector<api::Finding> findings() const;
  size_t retire_probe(size_t index);
  void restore_probe_users();
  // "event=operator action=kill uid=0 pid=1234 via=socket ..." and what `add` puts on the line:
  //   audit("kill", caller, [&](LogLine& l) { l.kv("id", id); });
  template <typename Add>
  void audit(std::string_view action, const Caller& caller, Add&& add) const {
    LogLine line = logger_.line(LogLevel::notice, "operator");
    line.kv("action", action).kv("uid", caller.uid).kv("pid", int64_t{caller.pid}).kv("via", caller.via);
    add(line);
  }

  ControlPlane& plane_;
  crypto::Engine& engine_;
  Logger& logger_;
  const dp::Stats& stats_;
  const dp::ControlIo& io_;
  const TrafficBaselines& baselines_;
  std::string config_path_;
  // The configuration in effect: as started, then as reloaded, with the users and secrets changed
  // over the socket since (so a reload reports them as changed when the file differs).
  conf::Config running_;
  std::vector<ProbeUser> probes_;
  Now started_;
  struct Cycles {
    uint64_t busy = 0;
    uint64_t total = 0;
  };
  std::vector<Cycles> cycles_;      // per worker, at the last tick
  std::vector<double> busy_ratio_;  // per worker, over the last tick's interval
};

// A secret's fingerprint: the first 12 hex digits of its SHA-256, the same as
// `printf %s SECRET | sha256sum | cut -c1-12`.
std::string secret_fingerprint(crypto::Engine& engine, std::string_view secret);

}  // namespace tern::ctl
