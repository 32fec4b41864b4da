// The operator core: listing, inspecting and killing allocations.

#include "conf/keys.hpp"
#include "control/operator/commands.hpp"
#include "control/auth/rest_username.hpp"

namespace tern::ctl {
namespace {

api::AllocationInfo info_of(const AllocationSummary& s) {
  api::AllocationInfo a;
  a.id = dp::slot_index(s.id);
  a.user = s.user;
  a.client = s.five_tuple.client;
  a.server = s.five_tuple.server;
  a.transport = std::string(to_string(s.client_transport));
  a.relayed = s.relayed;
  a.bound = s.bound;
  a.expires_in = s.expires_in;
  a.age = s.age;
  a.permissions = s.permissions;
  a.channels = s.channels;
  return a;
}

api::DropsInfo drops_info(const dp::AllocationDropCounts& d) {
  using dp::AllocationDrop;
  return {count_of(d, AllocationDrop::no_permission), count_of(d, AllocationDrop::unbound_channel),
          count_of(d, AllocationDrop::rate_limited), count_of(d, AllocationDrop::expired),
          count_of(d, AllocationDrop::other)};
}

}  // namespace

api::Result<api::AllocationsReply> OperatorCommands::handle(const api::AllocationsRequest& req, const Caller&, Now now) {
  const uint32_t limit = req.limit.value_or(api::kDefaultListLimit);
  if (limit == 0 || limit > api::kMaxListLimit)
    return api::bad_request("limit must be 1-" + std::to_string(api::kMaxListLimit));
  AllocationFilter filter;
  filter.user = req.user;
  if (req.client) {
    if (req.client->port)
      filter.client = TransportAddress{req.client->ip, *req.client->port};
    else
      filter.client_ip = req.client->ip;
  }
  // One more than the limit tells whether the list was cut.
  filter.limit = size_t{limit} + 1;
  const auto found = plane_.list_allocations(filter, now);
  api::AllocationsReply r;
  r.total = plane_.allocations().size();
  r.truncated = found.size() > limit;
  for (size_t i = 0; i < found.size() && i < limit; ++i) r.allocations.push_back(info_of(found[i]));
  return r;
}

api::Result<api::AllocationReply> OperatorCommands::handle(const api::AllocationRequest& req, const Caller&, Now now) {
  const dp::AllocId id{req.allocation};
  const auto d = plane_.allocation(id, now);
  if (!d) return api::not_found("no allocation " + std::to_string(req.allocation));
  api::AllocationReply r;
  r.allocation = info_of(d->summary);
  r.dont_fragment = d->dont_fragment;
  // The workers hold every allocation to the settings in force.
  r.max_bps = plane_.settings().max_bps;
  r.allocation_pps = plane_.settings().allocation_pps;
  if (d->reservation) r.reservation_token = conf::to_hex(d->reservation->bytes);
  for (const auto& p : d->permissions) r.permission_list.push_back({p.peer, p.expires_in});
  for (const auto& c : d->channels) r.channel_list.push_back({c.number, c.peer, c.expires_in});
  r.refused = {d->refusals[LimitRefusal::new_peers_per_second], d->refusals[LimitRefusal::permissions_per_allocation],
               d->refusals[LimitRefusal::channels_per_allocation]};
  const dp::AllocationTrafficValues t = baselines_.traffic(id);
  r.traffic = {t.packets_to_peer, t.bytes_to_peer, dp::total(t.drops_to_peer),
               t.packets_to_client, t.bytes_to_client, dp::total(t.drops_to_client),
               drops_info(t.drops_to_peer), drops_info(t.drops_to_client)};
  // A TCP or TLS client's: what the workers handed its connection (counted as relayed to the client
  // there) but the connection could not take.
  if (streams_ != nullptr && d->summary.client_transport != ClientTransport::udp) {
    const uint64_t dropped = streams_->backpressure_drops(id);
    r.traffic.drops_to_client_by_reason.stream_backpressure = dropped;
    r.traffic.drops_to_client += dropped;
  }
  return r;
}

api::Result<api::KillReply> OperatorCommands::handle(const api::KillRequest& req, const Caller& caller, Now now) {
  if (req.allocation.has_value() == req.user.has_value()) return api::bad_request("kill takes an allocation or a user, one of them");
  api::KillReply r;
  if (req.allocation) {
    if (!plane_.allocation(dp::AllocId{*req.allocation}, now)) return api::not_found("no allocation " + std::to_string(*req.allocation));
    r.killed = static_cast<uint32_t>(plane_.kill(dp::AllocId{*req.allocation}));
    audit("kill", caller, [&](LogLine& l) { l.kv("id", *req.allocation).kv("killed", r.killed); });
  } else {
    // The user's static-credential allocations and its TURN REST API ones ("1700000000:alice").
    std::vector<dp::AllocId> ids;
    for (const auto& a : plane_.list_allocations({}, now)) {
      const auto rest = parse_rest_username(a.user);
      if (a.user == *req.user || (rest && !rest->user.empty() && rest->user == *req.user)) ids.push_back(a.id);
    }
    for (const auto id : ids) r.killed += static_cast<uint32_t>(plane_.kill(id));
    audit("kill", caller, [&](LogLine& l) { l.kv("user", *req.user).kv("killed", r.killed); });
  }
  return r;
}

}  // namespace tern::ctl
