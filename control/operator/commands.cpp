// The operator core's read-only commands (version, status, stats) and what the others share.

#include "control/operator/commands.hpp"

#include <cstdio>
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

OperatorCommands::OperatorCommands(ControlPlane& plane, crypto::Engine& engine, Logger& logger, const dp::Stats& stats,
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

api::Result<api::VersionReply> OperatorCommands::handle(const api::VersionRequest&, const Caller&, Now) {
  return api::VersionReply{TERN_VERSION, 1};
}

std::vector<api::RelayAddress> OperatorCommands::relay_addresses() const {
  std::vector<api::RelayAddress> out;
  for (const auto& address : running_.relay.addresses) {
    api::RelayAddress r{address, address};
    for (const auto& e : running_.relay.external)
      if (e.relay == address) r.advertised = e.advertise;
    out.push_back(r);
  }
  return out;
}

std::vector<api::PortStatus> OperatorCommands::port_status() const {
  const std::vector<dp::PortStats> nic = stats_.ports();
  std::vector<api::PortStatus> out;
  for (size_t i = 0; i < running_.dataplane.ports.size(); ++i) {
    const auto& port = running_.dataplane.ports[i];
    api::PortStatus p;
    p.index = static_cast<uint32_t>(i);
    p.device = port.device;
    for (const auto& a : port.addresses) p.addresses.push_back(a.to_string());
    // The data plane lists its ports in the order of the configuration, each with its device.
    const dp::PortStats* s = nullptr;
    for (const auto& candidate : nic)
      if (candidate.device == port.device) s = &candidate;
    if (s == nullptr && i < nic.size()) s = &nic[i];
    if (s != nullptr) {
      char mac[18];
      std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1], s->mac[2], s->mac[3],
                    s->mac[4], s->mac[5]);
      p.driver = s->driver;
      p.mac = mac;
      p.link_up = s->link_up;
      if (s->speed_mbps != 0) p.speed_mbps = s->speed_mbps;
      p.rx_packets = s->rx_packets;
      p.tx_packets = s->tx_packets;
      p.rx_bytes = s->rx_bytes;
      p.tx_bytes = s->tx_bytes;
      p.rx_missed = s->rx_missed;
      p.rx_no_buffer = s->rx_no_buffer;
      p.rx_errors = s->rx_errors;
      p.tx_errors = s->tx_errors;
    }
    out.push_back(std::move(p));
  }
  return out;
}

api::Result<api::StatusReply> OperatorCommands::handle(const api::StatusRequest&, const Caller&, Now now) {
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
  const conf::AlternateServer& alternate = plane_.settings().alternate_server;
  r.alternate_server = alternate.udp;
  r.alternate_server_tcp = alternate.tcp;
  r.alternate_server_tls = alternate.tls;
  r.listeners = running_.listen.udp;
  stream_listeners(r.stream_listeners, r.certificate_expires);
  if (streams_ != nullptr) r.tls_handshakes = streams_->status().handshakes;
  r.relay = relay_addresses();
  r.ports = port_status();
  return r;
}

void OperatorCommands::stream_listeners(std::vector<api::StreamListenerInfo>& out,
                                        std::optional<int64_t>& certificate_expires) const {
  if (streams_ == nullptr) return;
  const StreamStatus st = streams_->status();
  for (const auto& l : st.listeners)
    out.push_back({l.listener.address, std::string(to_string(l.listener.transport)), l.listener.proxy, l.connections});
  if (st.certificate_expiry) certificate_expires = static_cast<int64_t>(*st.certificate_expiry);
}

api::Result<api::StatsReply> OperatorCommands::handle(const api::StatsRequest&, const Caller&, Now) {
  api::StatsReply r;
  r.workers = stats_.workers();
  r.tsc_hz = stats_.tsc_hz();
  dp::CounterValues sum{};
  for (unsigned w = 0; w < r.workers; ++w) {
    const dp::CounterValues v = stats_.worker_counters(w);
    for (size_t i = 0; i < v.size(); ++i) sum[i] += v[i];
    r.per_worker.push_back(counter_set(dp::kCounterNames, v));
    const dp::WorkerRingStats rings = stats_.worker_rings(w);
    api::WorkerLoad load;
    load.worker = w;
    load.busy_ratio = w < busy_ratio_.size() ? busy_ratio_[w] : 0;
    load.busy_cycles = v[static_cast<size_t>(dp::CounterId::busy_cycles)];
    load.total_cycles = v[static_cast<size_t>(dp::CounterId::total_cycles)];
    load.punt_ring = rings.punt;
    load.punt_capacity = rings.punt_capacity;
    load.hold_ring = rings.hold;
    load.hold_capacity = rings.hold_capacity;
    r.load.push_back(load);
  }
  r.dataplane = counter_set(dp::kCounterNames, sum);
  r.control_io = counter_set(dp::kControlCounterNames, io_.counters());
  r.control_plane = counter_set(kCounterNames, plane_.counters());
  if (streams_ != nullptr) {
    const StreamStatus st = streams_->status();
    r.streams = counter_set(kTransportCounterNames, st.counters);
    r.exception = counter_set(dp::kExceptionCounterNames, st.exception);
  }
  for (const auto& p : stats_.pools()) r.pools.push_back({p.name, p.socket, p.size, p.in_use});
  r.ports = port_status();
  return r;
}

MetricsSnapshot OperatorCommands::metrics(Now now) const {
  MetricsSnapshot s;
  s.version = TERN_VERSION;
  s.uptime = uptime(now);
  s.tsc_hz = stats_.tsc_hz();
  for (unsigned w = 0; w < stats_.workers(); ++w) {
    s.workers.push_back(stats_.worker_counters(w));
    s.rings.push_back(stats_.worker_rings(w));
    s.busy_ratio.push_back(w < busy_ratio_.size() ? busy_ratio_[w] : 0);
  }
  s.control_io = io_.counters();
  s.control_plane = plane_.counters();
  if (streams_ != nullptr) s.streams = streams_->status();
  s.pools = stats_.pools();
  s.ports = stats_.ports();
  return s;
}

void OperatorCommands::tick(Now now) {
  for (size_t i = probes_.size(); i-- > 0;)
    if (probes_[i].expires <= now.mono) retire_probe(i);
  // Each worker's busy share over the last interval, from its cycle counters.
  const unsigned workers = stats_.workers();
  cycles_.resize(workers);
  busy_ratio_.resize(workers, 0);
  for (unsigned w = 0; w < workers; ++w) {
    const dp::CounterValues v = stats_.worker_counters(w);
    const uint64_t busy = v[static_cast<size_t>(dp::CounterId::busy_cycles)];
    const uint64_t total = v[static_cast<size_t>(dp::CounterId::total_cycles)];
    const uint64_t d_busy = busy - cycles_[w].busy;
    const uint64_t d_total = total - cycles_[w].total;
    busy_ratio_[w] = d_total > 0 ? static_cast<double>(d_busy) / static_cast<double>(d_total) : 0;
    cycles_[w] = {busy, total};
  }
}

}  // namespace tern::ctl
