#include "control/operator/config_diff.hpp"

#include <utility>

namespace tern::ctl {
namespace {

bool same(const conf::User& a, const conf::User& b) {
  return a.name == b.name && a.key_md5 == b.key_md5 && a.key_sha256 == b.key_sha256;
}

bool same_users(const std::vector<conf::User>& a, const std::vector<conf::User>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) return false;
  return true;
}

bool same_external(const std::vector<conf::ExternalAddress>& a, const std::vector<conf::ExternalAddress>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].relay != b[i].relay || a[i].advertise != b[i].advertise) return false;
  return true;
}

bool same_ports(const std::vector<conf::DataplanePort>& a, const std::vector<conf::DataplanePort>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].device != b[i].device || a[i].addresses != b[i].addresses || a[i].gateways != b[i].gateways)
      return false;
  return true;
}

bool same_stream(const conf::Stream& a, const conf::Stream& b) {
  return a.max_connections == b.max_connections && a.max_connections_per_source == b.max_connections_per_source &&
         a.max_handshakes == b.max_handshakes && a.handshake_timeout == b.handshake_timeout &&
         a.first_message_timeout == b.first_message_timeout && a.idle_timeout == b.idle_timeout &&
         a.max_message == b.max_message && a.buffer == b.buffer;
}

constexpr const char* kDataplane = "the data plane is built from it at start (EAL, ports, pools, tables)";
constexpr const char* kAddresses = "clients hold allocations on these addresses; changing them live would strand them";

}  // namespace

std::vector<SettingChange> restart_only_changes(const conf::Config& r, const conf::Config& n) {
  std::vector<SettingChange> out;
  auto check = [&out](bool changed, const char* setting, const char* reason) {
    if (changed) out.push_back({setting, reason});
  };
  check(r.realm != n.realm, "realm", "every user's key is derived from the realm");
  // The file's keys were derived with its realm, which is not the one in use.
  check(r.realm != n.realm && !same_users(r.auth.users, n.auth.users), "auth.users",
        "its keys are derived from the new realm, which takes a restart");
  check(r.listen.udp != n.listen.udp, "listen.udp", kAddresses);
  check(r.listen.tcp != n.listen.tcp, "listen.tcp", kAddresses);
  check(r.listen.tls != n.listen.tls, "listen.tls", kAddresses);
  check(!same_stream(r.stream, n.stream), "stream", "the stream transport is set up with its limits at start");
  check(r.proxy_protocol.listeners != n.proxy_protocol.listeners || r.proxy_protocol.from != n.proxy_protocol.from ||
            r.proxy_protocol.header_timeout != n.proxy_protocol.header_timeout,
        "proxy_protocol", "the stream transport is set up with its listeners at start");
  check(r.relay.addresses != n.relay.addresses, "relay.addresses", kAddresses);
  check(r.relay.ports.min != n.relay.ports.min || r.relay.ports.max != n.relay.ports.max, "relay.ports", kAddresses);
  check(!same_external(r.relay.external, n.relay.external), "relay.external", kAddresses);
  check(r.dataplane.eal != n.dataplane.eal, "dataplane.eal", kDataplane);
  check(!same_ports(r.dataplane.ports, n.dataplane.ports), "dataplane.ports", kDataplane);
  check(r.dataplane.table_size != n.dataplane.table_size, "dataplane.table_size", kDataplane);
  check(r.dataplane.mbufs != n.dataplane.mbufs, "dataplane.mbufs", kDataplane);
  check(r.control.socket != n.control.socket, "control.socket", "ternd listens on it from start");
  check(r.control.metrics != n.control.metrics, "control.metrics", "ternd listens on it from start");
  check(r.log.syslog != n.log.syslog, "log.syslog", "the log destination is opened at start");
  return out;
}

std::vector<std::string> live_changes(const conf::Config& r, const conf::Config& n) {
  std::vector<std::string> out;
  auto check = [&out](bool changed, const char* setting) {
    if (changed) out.emplace_back(setting);
  };
  check(r.software != n.software, "software");
  check(r.alternate_server != n.alternate_server, "alternate_server");
  check(r.realm == n.realm && !same_users(r.auth.users, n.auth.users), "auth.users");
  check(r.auth.secrets != n.auth.secrets, "auth.secrets");
  check(r.auth.nonce_lifetime != n.auth.nonce_lifetime, "auth.nonce_lifetime");
  check(r.auth.unauthenticated_rate != n.auth.unauthenticated_rate, "auth.unauthenticated_rate");
  check(r.auth.unauthenticated_burst != n.auth.unauthenticated_burst, "auth.unauthenticated_burst");
  check(r.lifetimes.allocation_default != n.lifetimes.allocation_default, "lifetimes.allocation_default");
  check(r.lifetimes.allocation_max != n.lifetimes.allocation_max, "lifetimes.allocation_max");
  check(r.lifetimes.permission != n.lifetimes.permission, "lifetimes.permission");
  check(r.lifetimes.channel != n.lifetimes.channel, "lifetimes.channel");
  check(r.limits.user_quota != n.limits.user_quota, "limits.user_quota");
  check(r.limits.total_quota != n.limits.total_quota, "limits.total_quota");
  check(r.limits.max_bps != n.limits.max_bps, "limits.max_bps");
  check(r.limits.allocation_pps != n.limits.allocation_pps, "limits.allocation_pps");
  check(r.limits.new_peers_per_second != n.limits.new_peers_per_second, "limits.new_peers_per_second");
  check(r.limits.new_peers_burst != n.limits.new_peers_burst, "limits.new_peers_burst");
  check(r.limits.permissions_per_allocation != n.limits.permissions_per_allocation, "limits.permissions_per_allocation");
  check(r.limits.channels_per_allocation != n.limits.channels_per_allocation, "limits.channels_per_allocation");
  check(r.limits.allocations_per_address != n.limits.allocations_per_address, "limits.allocations_per_address");
  check(r.limits.allocations_per_address_exempt != n.limits.allocations_per_address_exempt,
        "limits.allocations_per_address_exempt");
  check(r.peers.allow != n.peers.allow, "peers.allow");
  check(r.peers.deny != n.peers.deny, "peers.deny");
  check(r.log.level != n.log.level, "log.level");
  check(r.compat.rfc5766_channels != n.compat.rfc5766_channels, "compat.rfc5766_channels");
  return out;
}

conf::Config keep_restart_settings(conf::Config next, const conf::Config& running) {
  if (next.realm != running.realm) next.auth.users = running.auth.users;
  next.realm = running.realm;
  next.listen = running.listen;
  next.stream = running.stream;
  next.proxy_protocol = running.proxy_protocol;
  next.relay = running.relay;
  next.dataplane = running.dataplane;
  next.control = running.control;
  next.log.syslog = running.log.syslog;
  return next;
}

}  // namespace tern::ctl
