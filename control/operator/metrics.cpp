#include "control/operator/metrics.hpp"

#include <cstdio>
#include <map>
#include <string_view>
#include <utility>

namespace tern::ctl {
namespace {

struct Sample {
  std::string labels;  // `worker="0",reason="malformed"`, or empty
  std::string value;
};

struct Family {
  std::string_view type;  // "counter" or "gauge"
  std::string help;
  std::vector<Sample> samples;
};

// Families in the order they are first added.
class Exposition {
 public:
  void add(const std::string& name, std::string_view type, std::string_view help, std::string labels,
           std::string value) {
    auto [it, inserted] = index_.try_emplace(name, families_.size());
    if (inserted) families_.push_back({name, Family{type, std::string(help), {}}});
    families_[it->second].second.samples.push_back({std::move(labels), std::move(value)});
  }
  void add(const std::string& name, std::string_view type, std::string_view help, std::string labels, uint64_t value) {
    add(name, type, help, std::move(labels), std::to_string(value));
  }

  std::string text() const {
    std::string out;
    out.reserve(families_.size() * 160);
    for (const auto& [name, f] : families_) {
      out += "# HELP " + name + ' ';
      append_help(out, f.help);
      out += "\n# TYPE " + name + ' ';
      out += f.type;
      out += '\n';
      for (const auto& s : f.samples) {
        out += name;
        if (!s.labels.empty()) out += '{' + s.labels + '}';
        out += ' ' + s.value + '\n';
      }
    }
    return out;
  }

 private:
  // Format 0.0.4: in HELP, backslash and line feed are escaped.
  static void append_help(std::string& out, std::string_view help) {
    for (const char c : help) {
      if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else
        out += c;
    }
  }

  std::map<std::string, size_t, std::less<>> index_;
  std::vector<std::pair<std::string, Family>> families_;
};

// A label value, escaped as format 0.0.4 wants (backslash, double quote, line feed).
std::string label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string join(std::string a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + ',' + b;
}

// A counter of a labelled group: `prefix` + label value.
struct Group {
  std::string_view prefix;
  std::string_view family;
  std::string_view label;
  std::string_view help;
};

constexpr Group kDataplaneGroups[] = {
    {"drop_", "tern_dataplane_dropped_packets_total", "reason",
     "packets the workers dropped, by reason (ternctl stats describes each)"},
};

constexpr Group kControlGroups[] = {
    {"requests_", "tern_requests_total", "method", "STUN/TURN requests the control plane handled, by method"},
    {"responses_", "tern_responses_total", "code", "responses the control plane sent, by error code or success"},
    {"auth_", "tern_auth_failures_total", "reason", "requests that failed authentication, by reason"},
    {"limit_", "tern_limit_refusals_total", "reason",
     "requests refused by a setting of the limits group, by setting (508 CreatePermission/ChannelBind, 486 Allocate)"},
};

// Counters that share a group's prefix but are not part of it.
bool outside_group(std::string_view name) { return name == "auth_challenges"; }

template <size_t N>
const Group* group_of(std::string_view name, const Group (&groups)[N]) {
  if (outside_group(name)) return nullptr;
  for (const auto& g : groups)
    if (name.starts_with(g.prefix)) return &g;
  return nullptr;
}

}  // namespace

std::string render_metrics(const MetricsSnapshot& s) {
  Exposition e;
  e.add("tern_build_info", "gauge", "tern's version, as a label", label("version", s.version), 1);
  e.add("tern_uptime_seconds", "gauge", "seconds since ternd started", "", s.uptime);
  e.add("tern_workers", "gauge", "data plane worker cores", "", s.workers.size());
  e.add("tern_tsc_hz", "gauge", "TSC ticks per second: the unit of the cycle counters", "", s.tsc_hz);

  for (size_t w = 0; w < s.workers.size(); ++w) {
    const std::string worker = label("worker", std::to_string(w));
    for (size_t i = 0; i < dp::kCounterCount; ++i) {
      const std::string_view name = dp::kCounterNames[i];
      if (const Group* g = group_of(name, kDataplaneGroups)) {
        e.add(std::string(g->family), "counter", g->help,
              join(worker, label(g->label, name.substr(g->prefix.size()))), s.workers[w][i]);
      } else {
        e.add("tern_dataplane_" + std::string(name) + "_total", "counter", dp::kCounterHelp[i], worker,
              s.workers[w][i]);
      }
    }
  }
  for (size_t w = 0; w < s.workers.size(); ++w) {
    const std::string worker = label("worker", std::to_string(w));
    if (w < s.busy_ratio.size()) {
      char ratio[32];
      std::snprintf(ratio, sizeof ratio, "%.6f", s.busy_ratio[w]);
      e.add("tern_worker_busy_ratio", "gauge", "share of the worker's loop cycles spent on packets, last second",
            worker, ratio);
    }
    if (w < s.rings.size()) {
      const dp::WorkerRingStats& r = s.rings[w];
      e.add("tern_worker_punt_ring", "gauge", "messages in the worker's punt ring, waiting for the control plane",
            worker, r.punt);
      e.add("tern_worker_punt_ring_capacity", "gauge", "the punt ring's size", worker, r.punt_capacity);
      e.add("tern_worker_hold_ring", "gauge", "packets waiting for a next hop's MAC address", worker, r.hold);
      e.add("tern_worker_hold_ring_capacity", "gauge", "the hold ring's size", worker, r.hold_capacity);
    }
  }
  for (const auto& p : s.pools) {
    const std::string pool = join(label("pool", p.name), label("socket", std::to_string(p.socket)));
    e.add("tern_mempool_in_use", "gauge", "packet buffers out of the pool (in queues, rings, being processed)",
          pool, p.in_use);
    e.add("tern_mempool_size", "gauge", "packet buffers in the pool", pool, p.size);
  }
  for (size_t i = 0; i < s.ports.size(); ++i) {
    const dp::PortStats& p = s.ports[i];
    const std::string port = label("port", std::to_string(i));
    e.add("tern_port_info", "gauge", "a data plane port: its device and driver", join(join(port, label("device", p.device)),
          label("driver", p.driver)), 1);
    e.add("tern_port_link_up", "gauge", "1 while the port's link is up", port, p.link_up ? 1 : 0);
    e.add("tern_port_speed_mbps", "gauge", "the link's speed, 0 when unknown", port, p.speed_mbps);
    e.add("tern_port_rx_packets_total", "counter", "packets the NIC received", port, p.rx_packets);
    e.add("tern_port_tx_packets_total", "counter", "packets the NIC sent", port, p.tx_packets);
    e.add("tern_port_rx_bytes_total", "counter", "bytes the NIC received", port, p.rx_bytes);
    e.add("tern_port_tx_bytes_total", "counter", "bytes the NIC sent", port, p.tx_bytes);
    e.add("tern_port_rx_missed_total", "counter", "packets the NIC dropped: RX queues full, workers too slow", port,
          p.rx_missed);
    e.add("tern_port_rx_no_buffer_total", "counter", "packets not received for want of a packet buffer", port,
          p.rx_no_buffer);
    e.add("tern_port_rx_errors_total", "counter", "bad frames received", port, p.rx_errors);
    e.add("tern_port_tx_errors_total", "counter", "frames the NIC failed to send", port, p.tx_errors);
  }
  for (size_t i = 0; i < dp::kControlCounterCount; ++i)
    e.add("tern_control_io_" + std::string(dp::kControlCounterNames[i]) + "_total", "counter",
          dp::kControlCounterHelp[i], "", s.control_io[i]);
  if (s.streams) {
    // TCP and TLS: connections open per listener (no per-client labels), the transport's counters
    // (refusals and handshake failures by reason among them) and the exception path's.
    for (const auto& l : s.streams->listeners)
      e.add("tern_stream_connections", "gauge", "TCP and TLS client connections open",
            join(label("listener", l.listener.address.to_string()), label("transport", to_string(l.listener.transport))),
            l.connections);
    e.add("tern_stream_handshakes", "gauge", "TLS handshakes in flight", "", s.streams->handshakes);
    if (s.streams->certificate_expiry)
      e.add("tern_tls_certificate_expiry_seconds", "gauge", "UNIX time the earliest TLS certificate expires", "",
            static_cast<uint64_t>(*s.streams->certificate_expiry));
    for (size_t i = 0; i < kTransportCounterCount; ++i)
      e.add("tern_stream_" + std::string(kTransportCounterNames[i]) + "_total", "counter", kTransportCounterHelp[i], "",
            s.streams->counters[i]);
    for (size_t i = 0; i < dp::kExceptionCounterCount; ++i)
      e.add("tern_exception_" + std::string(dp::kExceptionCounterNames[i]) + "_total", "counter",
            dp::kExceptionCounterHelp[i], "", s.streams->exception[i]);
  }
  for (size_t i = 0; i < kCounterCount; ++i) {
    const std::string_view name = kCounterNames[i];
    if (kCounterKinds[i] == CounterKind::gauge) {
      e.add("tern_" + std::string(name), "gauge", kCounterHelp[i], "", s.control_plane[i]);
    } else if (const Group* g = group_of(name, kControlGroups)) {
      e.add(std::string(g->family), "counter", g->help, label(g->label, name.substr(g->prefix.size())),
            s.control_plane[i]);
    } else {
      e.add("tern_" + std::string(name) + "_total", "counter", kCounterHelp[i], "", s.control_plane[i]);
    }
  }
  return e.text();
}

}  // namespace tern::ctl
