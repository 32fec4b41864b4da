#include "control/ternctl/render.hpp"

#include <ctime>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "control/ternctl/table.hpp"

namespace tern::ctl::ternctl {
namespace {

std::string num(uint64_t v) { return std::to_string(v); }
std::string opt(const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "-"; }

std::string field(std::string_view name, std::string_view value) {
  std::string out(name);
  out.resize(std::max<size_t>(out.size(), 13), ' ');
  out += value;
  out += '\n';
  return out;
}

std::string plural(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string ports_table(const std::vector<api::PortStatus>& ports) {
  Table t({"PORT", "DEVICE", "ADDRESSES", "LINK", "RX PKTS", "TX PKTS", "RX BYTES", "TX BYTES", "RX MISSED",
           "NO BUFFER", "ERRORS"});
  for (const auto& p : ports) {
    std::string addresses;
    for (const auto& a : p.addresses) addresses += (addresses.empty() ? "" : ",") + a;
    std::string link = p.link_up ? (*p.link_up ? "up" : "DOWN") : "-";
    if (p.link_up && *p.link_up && p.speed_mbps) link += " " + std::to_string(*p.speed_mbps) + "M";
    const std::string errors =
        p.rx_errors || p.tx_errors ? std::to_string(p.rx_errors.value_or(0) + p.tx_errors.value_or(0)) : "-";
    t.row({num(p.index), p.device, addresses, link, opt(p.rx_packets), opt(p.tx_packets),
           p.rx_bytes ? bytes(*p.rx_bytes) : "-", p.tx_bytes ? bytes(*p.tx_bytes) : "-", opt(p.rx_missed),
           opt(p.rx_no_buffer), errors});
  }
  return t.text();
}

std::string counters_table(std::string_view title, const api::CounterSet& total,
                           const std::vector<api::CounterSet>& per_worker, bool nonzero) {
  std::vector<std::string> headers{std::string(title), "TOTAL"};
  if (per_worker.size() > 1)
    for (size_t w = 0; w < per_worker.size(); ++w) headers.push_back("W" + std::to_string(w));
  Table t(headers);
  for (size_t i = 0; i < total.size(); ++i) {
    if (nonzero && total[i].value == 0) continue;
    std::vector<std::string> row{total[i].name, num(total[i].value)};
    if (per_worker.size() > 1)
      for (const auto& w : per_worker) row.push_back(i < w.size() ? num(w[i].value) : "-");
    t.row(std::move(row));
  }
  return t.empty() ? std::string(title) + ": all zero\n" : t.text();
}

// "dropped: 12 no_permission, 3 unbound_channel" per direction that dropped anything.
std::string drops_by_reason(const api::TrafficInfo& t) {
  auto line = [](std::string_view direction, const api::DropsInfo& d) {
    std::string reasons;
    auto add = [&](const char* name, uint64_t n) {
      if (n == 0) return;
      reasons += (reasons.empty() ? "" : ", ") + num(n) + " " + name;
    };
    add("no_permission", d.no_permission);
    add("unbound_channel", d.unbound_channel);
    add("rate_limited", d.rate_limited);
    add("expired", d.expired);
    add("other (ternctl trace names it)", d.other);
    add("stream_backpressure (the client's connection did not take them)", d.stream_backpressure);
    return reasons.empty() ? std::string() : "dropped " + std::string(direction) + ": " + reasons + "\n";
  };
  return line("client -> peer", t.drops_to_peer_by_reason) + line("peer -> client", t.drops_to_client_by_reason);
}

// "3 new_peers_per_second, 1 channels_per_allocation", or "-": what the limits refused it.
std::string refusals(const api::LimitRefusalsInfo& r) {
  std::string out;
  auto add = [&](const char* name, uint64_t n) {
    if (n != 0) out += (out.empty() ? "" : ", ") + num(n) + " " + name;
  };
  add("new_peers_per_second", r.new_peers_per_second);
  add("permissions_per_allocation", r.permissions_per_allocation);
  add("channels_per_allocation", r.channels_per_allocation);
  return out.empty() ? "-" : out;
}

}  // namespace

std::string render(const api::VersionReply& r) {
  return "ternd " + r.version + ", control protocol " + std::to_string(r.protocol) + "\n";
}

std::string render(const api::StatusReply& r) {
  std::string out = "tern " + r.version + ", up " + duration(r.uptime) + ", " + plural(r.workers, "worker", "workers") + "\n\n";
  if (r.draining) {
    const auto then_for = [](const std::optional<TransportAddress>& alternate) {
      return alternate ? "300 Try Alternate -> " + alternate->to_string() : std::string("508 (no alternate_server)");
    };
    // Name each transport that has a listener; one answer for all of them reads as before streams existed.
    bool tcp = false, tls = false;
    for (const auto& l : r.stream_listeners) (l.transport == "tls" ? tls : tcp) = true;
    std::string then = then_for(r.alternate_server);
    const bool differs = (tcp && r.alternate_server_tcp != r.alternate_server) ||
                         (tls && r.alternate_server_tls != r.alternate_server);
    if (differs) {
      then = "over UDP " + then;
      if (tcp) then += ", TCP " + then_for(r.alternate_server_tcp);
      if (tls) then += ", TLS " + then_for(r.alternate_server_tls);
    }
    out += field("state", "DRAINING: " + plural(r.allocations, "allocation remains", "allocations remain") +
                              "; new Allocates get " + then);
  } else {
    out += field("state", "serving");
  }
  out += field("allocations", num(r.allocations) + " (permissions " + num(r.permissions) + ", channels " +
                                  num(r.channels) + ")");
  out += field("credentials", plural(r.users, "user", "users") + ", " + plural(r.secrets, "REST secret", "REST secrets"));
  std::string listeners;
  for (const auto& l : r.listeners) listeners += (listeners.empty() ? "" : ", ") + l.to_string();
  out += field("listeners", listeners + (listeners.empty() ? "" : " (udp)"));
  for (const auto& l : r.stream_listeners)
    out += field("", l.address.to_string() + " (" + l.transport + (l.proxy_protocol ? ", PROXY protocol" : "") + "): " +
                         plural(l.connections, "connection", "connections"));
  if (r.certificate_expires) {
    const int64_t days = (*r.certificate_expires - static_cast<int64_t>(std::time(nullptr))) / 86400;
    out += field("certificate", (days >= 0 ? "expires in " + std::to_string(days) + " days" : "EXPIRED " +
                                                 std::to_string(-days) + " days ago") +
                                    "; " + plural(r.tls_handshakes, "TLS handshake", "TLS handshakes") + " in flight");
  }
  std::string relay;
  for (const auto& a : r.relay) {
    relay += (relay.empty() ? "" : ", ") + a.address.to_string();
    if (a.advertised != a.address) relay += " (advertised as " + a.advertised.to_string() + ")";
  }
  out += field("relay", relay);
  out += field("log level", r.log_level);
  out += field("tracing", r.tracing ? r.tracing->to_string() : "-");
  out += "\n" + ports_table(r.ports);
  return out;
}

std::string render(const api::StatsReply& r, bool nonzero) {
  std::string out = ports_table(r.ports) + "\n";
  if (!r.load.empty()) {
    Table t({"WORKER", "BUSY", "PUNT RING", "HOLD RING"});
    for (const auto& l : r.load) {
      char busy[16];
      std::snprintf(busy, sizeof busy, "%.1f%%", l.busy_ratio * 100);
      t.row({num(l.worker), busy, num(l.punt_ring) + "/" + num(l.punt_capacity),
             num(l.hold_ring) + "/" + num(l.hold_capacity)});
    }
    out += t.text() + "\n";
  }
  if (!r.pools.empty()) {
    Table t({"POOL", "SOCKET", "IN USE", "SIZE"});
    for (const auto& p : r.pools) t.row({p.name, std::to_string(p.socket), num(p.in_use), num(p.size)});
    out += t.text() + "\n";
  }
  out += counters_table("DATAPLANE (" + plural(r.workers, "worker", "workers") + ")", r.dataplane, r.per_worker, nonzero);
  out += "\n" + counters_table("CONTROL I/O", r.control_io, {}, nonzero);
  out += "\n" + counters_table("CONTROL PLANE", r.control_plane, {}, nonzero);
  if (!r.streams.empty()) out += "\n" + counters_table("TCP AND TLS", r.streams, {}, nonzero);
  if (!r.exception.empty()) out += "\n" + counters_table("EXCEPTION PATH", r.exception, {}, nonzero);
  return out;
}

std::string render(const api::AllocationsReply& r) {
  Table t({"ID", "USER", "CLIENT", "RELAYED", "EXPIRES", "AGE", "PERMS", "CHANS"});
  for (const auto& a : r.allocations)
    t.row({num(a.id), a.user, a.client.to_string(), a.relayed.to_string(), duration(a.expires_in), duration(a.age),
           num(a.permissions), num(a.channels)});
  std::string out = t.text();
  out += std::to_string(r.allocations.size()) + " shown of " + plural(r.total, "allocation", "allocations") + " live";
  if (r.truncated) out += " (more match: raise --limit)";
  return out + "\n";
}

std::string render(const api::AllocationReply& r) {
  const auto& a = r.allocation;
  std::string out;
  out += field("allocation", num(a.id));
  out += field("user", a.user);
  out += field("client", a.client.to_string() + " -> " + a.server.to_string() + " (" + a.transport + ")");
  out += field("relayed", a.relayed.to_string() + (a.bound != a.relayed ? " (bound on " + a.bound.to_string() + ")" : ""));
  out += field("expires in", duration(a.expires_in));
  out += field("age", duration(a.age));
  out += field("options", std::string(r.dont_fragment ? "DONT-FRAGMENT" : "-") +
                              (r.max_bps ? ", max " + num(r.max_bps) + " bit/s each way" : "") +
                              (r.allocation_pps ? ", max " + num(r.allocation_pps) + " packets/s each way" : "") +
                              (r.reservation_token ? ", reservation token " + *r.reservation_token : ""));
  out += field("refused", refusals(r.refused));
  out += "\n";
  Table traffic({"DIRECTION", "PACKETS", "BYTES", "DROPPED"});
  traffic.row({"client -> peer", num(r.traffic.packets_to_peer), bytes(r.traffic.bytes_to_peer),
               num(r.traffic.drops_to_peer)});
  traffic.row({"peer -> client", num(r.traffic.packets_to_client), bytes(r.traffic.bytes_to_client),
               num(r.traffic.drops_to_client)});
  out += traffic.text();
  out += drops_by_reason(r.traffic) + "\n";
  Table perms({"PERMISSION", "EXPIRES"});
  for (const auto& p : r.permission_list) perms.row({p.peer.to_string(), duration(p.expires_in)});
  out += perms.empty() ? "no permissions\n" : perms.text();
  Table chans({"CHANNEL", "PEER", "EXPIRES"});
  char number[16];
  for (const auto& c : r.channel_list) {
    std::snprintf(number, sizeof number, "0x%04X", c.number);
    chans.row({number, c.peer.to_string(), duration(c.expires_in)});
  }
  out += "\n" + (chans.empty() ? std::string("no channels\n") : chans.text());
  return out;
}

std::string render(const api::KillReply& r) { return "killed " + plural(r.killed, "allocation", "allocations") + "\n"; }

std::string render(const api::UsersListReply& r) {
  std::string out;
  for (const auto& u : r.users) out += u + "\n";
  return out + plural(r.users.size(), "user", "users") + "\n";
}

std::string render(const api::UsersAddReply& r) {
  return "user " + r.name + (r.replaced ? " replaced" : " added") +
         (r.sha256 ? " (MD5 and SHA-256 keys)" : " (MD5 key only)") + "\n";
}

std::string render(const api::UsersRemoveReply& r) {
  return "user " + r.name + " removed; " + plural(r.users, "user", "users") +
         " left (its live allocations run until they expire; `ternctl kill --user " + r.name + "` ends them)\n";
}

std::string render(const api::SecretsReply& r) {
  std::string out;
  if (r.changed) out += "changed: " + *r.changed + "\n";
  Table t({"INDEX", "FINGERPRINT"});
  for (const auto& s : r.secrets) t.row({num(s.index), s.fingerprint + (s.index == 0 ? "  (newest)" : "")});
  out += r.secrets.empty() ? "no REST secrets\n" : t.text();
  return out;
}

std::string render(const api::ReloadReply& r) {
  std::string out = "reloaded " + r.file + ": " + plural(r.users, "user", "users") + ", " +
                    plural(r.secrets, "secret", "secrets");
  if (r.permissions_revoked) out += ", " + plural(r.permissions_revoked, "permission", "permissions") + " revoked";
  out += "\n";
  if (r.applied.empty()) out += "no live setting changed\n";
  for (const auto& s : r.applied) out += "  applied      " + s + "\n";
  for (const auto& n : r.not_applied) out += "  NOT applied  " + n.setting + ": " + n.reason + "\n";
  return out;
}

std::string render(const api::DrainReply& r) {
  if (!r.draining) return "serving: new allocations are accepted (" + plural(r.allocations, "allocation", "allocations") + " live)\n";
  return "draining: " + plural(r.allocations, "allocation remains", "allocations remain") + "; new Allocates get " +
         (r.alternate_server ? "300 Try Alternate -> " + r.alternate_server->to_string()
                             : std::string("508 (set alternate_server to send clients elsewhere)")) +
         "\n";
}

std::string render(const api::ProbeReport& r) {
  std::string out;
  for (const auto& f : r.findings) out += "  server   " + f.severity + "  " + f.check + ": " + f.message + "\n";
  std::string target;
  for (const auto& s : r.steps) {
    if (s.target != target) {
      target = s.target;
      out += target + "\n";
    }
    std::string status = s.status;
    for (auto& c : status) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    status.resize(8, ' ');
    out += "  " + status + " " + s.step + ": " + s.detail + "\n";
    if (s.meaning) out += "           -> " + *s.meaning + "\n";
  }
  out += r.ok ? "probe: OK" : "probe: FAILED (" + plural(r.failures, "failure", "failures") + ")";
  if (r.warnings) out += ", " + plural(r.warnings, "warning", "warnings");
  return out + "\n";
}

std::string render(const api::TraceReply& r) {
  return "tracing " + r.address.to_string() + " for " + std::to_string(r.seconds) + " s (at most " +
         std::to_string(r.rate) + " records/s)\n";
}

std::string render(const api::TraceBatch& r) {
  std::string out;
  char time[32];
  for (const auto& rec : r.records) {
    std::snprintf(time, sizeof time, "%10.3f", rec.time);
    out += std::string(time) + "  " + rec.source + "  " + rec.packet + "  " + rec.from + " -> " + rec.to + ": " +
           rec.decision;
    if (rec.reason) out += " (" + *rec.reason + ")";
    if (rec.next) out += (rec.source == "control" ? " peer " : " to ") + *rec.next;
    if (rec.allocation || rec.channel) {
      out += " [";
      if (rec.allocation) out += "allocation " + std::to_string(*rec.allocation);
      if (rec.channel) {
        char channel[16];
        std::snprintf(channel, sizeof channel, "channel 0x%04X", *rec.channel);
        out += std::string(rec.allocation ? ", " : "") + channel;
      }
      out += "]";
    }
    out += "\n";
  }
  if (r.suppressed) out += "           ... " + std::to_string(r.suppressed) + " more not shown (rate limit)\n";
  return out;
}

std::string render(const api::TraceEnd& r) {
  return "trace ended (" + r.reason + "): " + plural(r.records, "record", "records") +
         (r.suppressed ? ", " + std::to_string(r.suppressed) + " suppressed" : "") + "\n";
}

std::string render(const api::Error& e) {
  std::string out = "ternctl: " + e.message + " [" + std::string(api::to_string(e.code)) + "]\n";
  for (const auto& d : e.details) out += "  " + d + "\n";
  return out;
}

}  // namespace tern::ctl::ternctl
