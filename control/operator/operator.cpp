// The operator core's read-only commands (version, status, stats) and what the others share.

#include "control/operator/operator.hpp"

#include <utility>

namespace tern::ctl {
namespace {

template <size_t N>
api::CounterSet counter_set(const std::array<std::string_view, N>& names, const std::array<uint64_t, N>& values) {
  api::CounterSet out;
  out.reserve(N);
  for (size_t i = 0; i < N; ++i) out.push_back({std::string(names[i]), values[i]});
  return out;
}

uint64_t value_of(const CounterValues& values, Counter c) { return values[static_cast<size_t>(c)]; }

}  // namespace

Operator::Operator(ControlPlane& plane, crypto::Engine& engine, Logger& logger, const dp::Stats& stats,
                   const dp::ControlIo& io, const TrafficBaselines& baselines, std::string config_path,
                   conf::Config running, Now started)
    : plane_(plane),
      engine_(engine),
      logger_(logger),
      stats_(stats),
      io_(io),
      baselines_(baselines),
      config_path_(std::move(config_path)),
      running_(std::move(running)),
      started_(started) {}

api::Result<api::VersionReply> Operator::handle(const api::VersionRequest&, const Caller&, Now) {
  return api::VersionReply{TERN_VERSION, 1};
}

std::vector<api::RelayAddress> Operator::relay_addresses() const {
  std::vector<api::RelayAddress> out;
  for (const auto& address : running_.relay.addresses) {
    api::RelayAddress r{address, address};
    for (const auto& e : running_.relay.external)
      if (e.relay == address) r.advertised = e.advertise;
    out.push_back(r);
  }
  return out;
}

std::vector<api::PortStatus> Operator::port_status() const {
  std::vector<api::PortStatus> out;
  for (size_t i = 0; i < running_.dataplane.ports.size(); ++i) {
    const auto& port = running_.dataplane.ports[i];
    api::PortStatus p;
    p.index = static_cast<uint32_t>(i);
    p.device = port.device;
    for (const auto& a : port.addresses) p.addresses.push_back(a.to_string());
    out.push_back(std::move(p));
  }
  return out;
}

api::Result<api::StatusReply> Operator::handle(const api::StatusRequest&, const Caller&, Now now) {
  const CounterValues c = plane_.counters();
  api::StatusReply r;
  r.version = TERN_VERSION;
  r.uptime = uptime(now);
  r.workers = stats_.workers();
  r.draining = plane_.draining();
  r.allocations = value_of(c, Counter::allocations_live);
  r.permissions = value_of(c, Counter::permissions_live);
  r.channels = value_of(c, Counter::channels_live);
  r.users = static_cast<uint32_t>(value_of(c, Counter::static_users));
  r.secrets = static_cast<uint32_t>(value_of(c, Counter::rest_secrets));
  r.log_level = std::string(conf::to_string(logger_.level()));
  r.alternate_server = plane_.settings().alternate_server;
  r.listeners = running_.listen.udp;
  r.relay = relay_addresses();
  r.ports = port_status();
  return r;
}

api::Result<api::StatsReply> Operator::handle(const api::StatsRequest&, const Caller&, Now) {
  api::StatsReply r;
  r.workers = stats_.workers();
  dp::CounterValues sum{};
  for (unsigned w = 0; w < r.workers; ++w) {
    const dp::CounterValues v = stats_.worker_counters(w);
    for (size_t i = 0; i < v.size(); ++i) sum[i] += v[i];
    r.per_worker.push_back(counter_set(dp::kCounterNames, v));
  }
  r.dataplane = counter_set(dp::kCounterNames, sum);
  r.control_io = counter_set(dp::kControlCounterNames, io_.counters());
  r.control_plane = counter_set(kCounterNames, plane_.counters());
  r.ports = port_status();
  return r;
}

MetricsSnapshot Operator::metrics(Now now) const {
  MetricsSnapshot s;
  s.version = TERN_VERSION;
  s.uptime = uptime(now);
  for (unsigned w = 0; w < stats_.workers(); ++w) s.workers.push_back(stats_.worker_counters(w));
  s.control_io = io_.counters();
  s.control_plane = plane_.counters();
  return s;
}

void Operator::tick(Now now) {
  for (size_t i = probes_.size(); i-- > 0;)
    if (probes_[i].expires <= now.mono) retire_probe(i);
}

}  // namespace tern::ctl
