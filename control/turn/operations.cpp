// The operator surface of ControlPlane: queries, kill, drain, live credential changes and the
// application of a reloaded configuration.

#include <algorithm>

#include "control/turn/control_plane.hpp"

namespace tern::ctl {
namespace {

uint32_t remaining(dp::TableTime expires, dp::TableTime now) { return expires > now ? expires - now : 0; }

AllocationSummary summarize(const Allocation& a, dp::TableTime now) {
  AllocationSummary s;
  s.id = a.id;
  s.user = a.username;
  s.five_tuple = a.five_tuple;
  s.client_transport = a.client_transport;
  s.relayed = a.advertised;
  s.bound = a.relayed;
  s.expires_in = remaining(a.expires, now);
  s.age = now > a.created ? now - a.created : 0;
  s.permissions = static_cast<uint32_t>(a.permissions.size());
  s.channels = static_cast<uint32_t>(a.channels.size());
  return s;
}

bool matches(const Allocation& a, const AllocationFilter& f) {
  if (f.user && a.username != *f.user) return false;
  if (f.client_ip && a.five_tuple.client.ip != *f.client_ip) return false;
  if (f.client && a.five_tuple.client != *f.client) return false;
  return true;
}

}  // namespace

std::vector<AllocationSummary> ControlPlane::list_allocations(const AllocationFilter& filter, Now now) const {
  std::vector<AllocationSummary> out;
  allocations_.for_each([&](const Allocation& a) {
    if (out.size() < filter.limit && matches(a, filter) && a.expires > now.mono) out.push_back(summarize(a, now.mono));
  });
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  return out;
}

std::optional<AllocationDetail> ControlPlane::allocation(dp::AllocId id, Now now) const {
  const Allocation* a = allocations_.peek(id);
  if (a == nullptr || a->expires <= now.mono) return std::nullopt;
  AllocationDetail d;
  d.summary = summarize(*a, now.mono);
  d.dont_fragment = a->dont_fragment;
  d.max_bps = a->max_bps;
  d.reservation = a->reservation;
  d.refusals = a->refusals;
  for (const auto& p : a->permissions)
    if (p.expires > now.mono) d.permissions.push_back({p.peer, remaining(p.expires, now.mono)});
  for (const auto& c : a->channels)
    if (c.expires > now.mono) d.channels.push_back({c.number.value, c.peer, remaining(c.expires, now.mono)});
  return d;
}

size_t ControlPlane::kill(dp::AllocId id) {
  Allocation* a = allocations_.at(id);
  if (a == nullptr) return 0;
  allocations_.remove(*a, RemoveReason::killed);
  return 1;
}

size_t ControlPlane::kill_user(std::string_view user) {
  std::vector<dp::AllocId> ids;
  allocations_.for_each([&](const Allocation& a) {
    if (a.username == user) ids.push_back(a.id);
  });
  for (const auto id : ids) kill(id);
  return ids.size();
}

void ControlPlane::set_draining(bool on) {
  if (on != draining_)
    logger_.line(LogLevel::notice, on ? "drain_started" : "drain_stopped").kv("allocations", allocations_.size());
  draining_ = on;
}

void ControlPlane::add_user(const conf::User& user) {
  credentials_.add_user(user);
  logger_.line(LogLevel::notice, "user_added").kv("user", user.name);
}

bool ControlPlane::remove_user(std::string_view name) {
  const bool removed = credentials_.remove_user(name);
  if (removed) logger_.line(LogLevel::notice, "user_removed").kv("user", name);
  return removed;
}

bool ControlPlane::stream_closed(dp::StreamId stream) {
  Allocation* a = allocations_.find(stream);
  if (a == nullptr) return false;
  allocations_.remove(*a, RemoveReason::connection_closed);
  return true;
}

void ControlPlane::set_secrets(std::span<const std::string> secrets) {
  credentials_.set_secrets(secrets);
  logger_.line(LogLevel::notice, "secrets_set").kv("count", secrets.size());
}

ApplyResult ControlPlane::apply(const conf::Config& config) {
  ApplyResult result;
  if (config.realm != settings_.realm) result.restart_required.push_back("realm");
  if (config.listen.udp != listen_) result.restart_required.push_back("listen.udp");
  if (config.relay.addresses != relay_addresses_) result.restart_required.push_back("relay.addresses");
  if (config.relay.ports.min != relay_ports_.min || config.relay.ports.max != relay_ports_.max)
    result.restart_required.push_back("relay.ports");
  if (config.dataplane.table_size != allocations_.capacity()) result.restart_required.push_back("dataplane.table_size");

  // Everything below takes effect for the next request; live allocations stay as they are.
  Settings next = Settings::from(config);
  next.realm = settings_.realm;
  settings_ = std::move(next);
  allocations_.set_limits(settings_.allocation_limits);
  credentials_.set_users(config.auth.users);
  // Unchanged secrets keep the REST key cache.
  if (!credentials_.has_secrets(config.auth.secrets)) credentials_.set_secrets(config.auth.secrets);
  nonces_.set_lifetime(static_cast<uint32_t>(config.auth.nonce_lifetime.count()));
  limiter_.configure(config.auth.unauthenticated_rate, config.auth.unauthenticated_burst);
  logger_.set_level(config.log.level);

  // The peer policy also applies to what is installed: permissions (and channels) to peers it now
  // denies are removed at once.
  policy_ = PeerPolicy::from_config(config);
  result.permissions_revoked = allocations_.revoke_peers([this](const IpAddress& peer) {
    return permitted(policy_.check(peer));
  });
  counters_.add(Counter::permissions_revoked, result.permissions_revoked);

  result.users = credentials_.user_count();
  result.secrets = credentials_.secret_count();
  logger_.line(LogLevel::notice, "config_applied")
      .kv("users", result.users)
      .kv("secrets", result.secrets)
      .kv("permissions_revoked", result.permissions_revoked)
      .kv("restart_required", result.restart_required.size());
  return result;
}

}  // namespace tern::ctl
