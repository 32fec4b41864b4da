#include "control/allocations/allocations.hpp"

#include <algorithm>
#include <array>

#include "control/stun/parser.hpp"

namespace tern::ctl {

std::string_view to_string(RemoveReason reason) {
  switch (reason) {
    case RemoveReason::deleted: return "deleted";
    case RemoveReason::expired: return "expired";
    case RemoveReason::killed: return "killed";
    case RemoveReason::connection_closed: return "connection_closed";
  }
  return "unknown";
}

Allocations::Allocations(dp::TableWriter& writer, PortPool& ports, uint32_t capacity, Counters& counters,
                         const Logger& logger, AllocationLimits limits)
    : writer_(writer), ports_(ports), capacity_(capacity), counters_(counters), logger_(logger), limits_(limits) {
  free_slots_.reserve(capacity);
  for (uint32_t i = capacity; i-- > 0;) free_slots_.push_back(dp::AllocId{i});
  slots_.resize(capacity);
  by_five_tuple_.reserve(std::min<uint32_t>(capacity, 1u << 20));
}

void Allocations::count_write(dp::WriteResult result) {
  if (result != dp::WriteResult::ok) counters_.add(Counter::table_write_failures);
}

Allocation* Allocations::find(const dp::FiveTuple& five_tuple, dp::TableTime now) {
  const auto it = by_five_tuple_.find(five_tuple);
  if (it == by_five_tuple_.end()) return nullptr;
  Allocation* a = slots_[dp::slot_index(it->second)].get();
  return expire_parts(*a, now) ? a : nullptr;
}

Allocation* Allocations::find(dp::StreamId stream) {
  const auto it = by_stream_.find(stream);
  return it == by_stream_.end() ? nullptr : slots_[dp::slot_index(it->second)].get();
}

Allocation* Allocations::find(dp::AllocId id, dp::TableTime now) {
  if (dp::slot_index(id) >= slots_.size() || !slots_[dp::slot_index(id)]) return nullptr;
  Allocation* a = slots_[dp::slot_index(id)].get();
  return expire_parts(*a, now) ? a : nullptr;
}

const Allocation* Allocations::peek(dp::AllocId id) const {
  return dp::slot_index(id) < slots_.size() ? slots_[dp::slot_index(id)].get() : nullptr;
}

uint32_t Allocations::count_for(std::string_view quota_user) const {
  const auto it = per_user_.find(quota_user);
  return it == per_user_.end() ? 0 : it->second;
}

uint32_t Allocations::count_from(const IpAddress& client) const {
  const auto it = per_address_.find(address_key(client));
  return it == per_address_.end() ? 0 : it->second;
}

Allocations::Added Allocations::add(Allocation proto, dp::TableTime now) {
  if (free_slots_.empty()) return {dp::WriteResult::no_room, nullptr};
  const dp::AllocId id = free_slots_.back();
  const dp::AllocationEntry entry{proto.five_tuple, proto.stream, proto.relayed, proto.expires, proto.dont_fragment};
  const dp::WriteResult r = writer_.add_allocation(id, entry);
  count_write(r);
  if (r != dp::WriteResult::ok) return {r, nullptr};
  free_slots_.pop_back();

  proto.id = id;
  proto.serial = next_serial_++;
  proto.created = now;
  proto.scheduled = 0;
  proto.new_peers = NewPeerBucket(now);
  auto& slot = slots_[dp::slot_index(id)];
  slot = std::make_unique<Allocation>(std::move(proto));
  Allocation& a = *slot;
  by_five_tuple_.emplace(a.five_tuple, id);
  if (a.stream != dp::StreamId::none) by_stream_.emplace(a.stream, id);
  ++per_user_[a.quota_user];
  ++per_address_[address_key(a.five_tuple.client.ip)];
  schedule(a);
  counters_.add(Counter::allocations_created);
  logger_.line(LogLevel::info, "allocation_created")
      .kv("id", id)
      .kv("user", a.username)
      .kv(a.five_tuple)
      .kv("client_transport", to_string(a.client_transport))
      .kv("relayed", a.advertised)
      .kv("bound", a.relayed)
      .kv("lifetime", a.expires - now);
  return {dp::WriteResult::ok, &a};
}

dp::WriteResult Allocations::refresh(Allocation& a, dp::TableTime expires, dp::TableTime now) {
  const dp::WriteResult r = writer_.set_allocation_expiry(a.id, expires);
  count_write(r);
  if (r != dp::WriteResult::ok) return r;
  a.expires = expires;
  schedule(a);
  counters_.add(Counter::allocations_refreshed);
  logger_.line(LogLevel::debug, "allocation_refreshed")
      .kv("id", a.id)
      .kv("user", a.username)
      .kv(a.five_tuple)
      .kv("relayed", a.advertised)
      .kv("lifetime", expires - now);
  return r;
}

void Allocations::remove(Allocation& a, RemoveReason reason) {
  const dp::AllocId id = a.id;
  const dp::WriteResult r = writer_.remove_allocation(id);
  count_write(r);
  if (r == dp::WriteResult::ok) {
    reclaiming_.emplace(id, a.lease);
  } else {
    // Not published (nothing for workers to see): reusable at once.
    ports_.release(a.lease);
    free_slots_.push_back(id);
  }
  permissions_ -= a.permissions.size();
  channels_ -= a.channels.size();
  by_five_tuple_.erase(a.five_tuple);
  if (a.stream != dp::StreamId::none) {
    by_stream_.erase(a.stream);
    if (reason != RemoveReason::connection_closed) ended_streams_.push_back(a.stream);
  }
  if (const auto it = per_user_.find(a.quota_user); it != per_user_.end() && --it->second == 0) per_user_.erase(it);
  if (const auto it = per_address_.find(address_key(a.five_tuple.client.ip)); it != per_address_.end() && --it->second == 0)
    per_address_.erase(it);
  switch (reason) {
    case RemoveReason::deleted: counters_.add(Counter::allocations_deleted); break;
    case RemoveReason::expired: counters_.add(Counter::allocations_expired); break;
    case RemoveReason::killed: counters_.add(Counter::allocations_killed); break;
    case RemoveReason::connection_closed: counters_.add(Counter::allocations_connection_closed); break;
  }
  logger_.line(LogLevel::info, "allocation_removed")
      .kv("reason", to_string(reason))
      .kv("id", id)
      .kv("user", a.username)
      .kv(a.five_tuple)
      .kv("relayed", a.advertised);
  slots_[dp::slot_index(id)].reset();
}

PeerChange Allocations::refuse(Allocation& a, LimitRefusal refusal, const IpAddress& peer) {
  a.refusals.add(refusal);
  switch (refusal) {
    case LimitRefusal::new_peers_per_second: counters_.add(Counter::limit_new_peers_per_second); break;
    case LimitRefusal::permissions_per_allocation: counters_.add(Counter::limit_permissions_per_allocation); break;
    case LimitRefusal::channels_per_allocation: counters_.add(Counter::limit_channels_per_allocation); break;
  }
  // The first refusal of each limit per allocation is logged (info: a client at a limit repeats
  // itself); the counters carry the rest, so a flooding client cannot flood the log as well.
  if (a.refusals[refusal] != 1) return {dp::WriteResult::ok, refusal};
  logger_.line(LogLevel::info, "limit_refused")
      .kv("limit", to_string(refusal))
      .kv("id", a.id)
      .kv("user", a.username)
      .kv(a.five_tuple)
      .kv("peer", peer)
      .kv("permissions", a.permissions.size())
      .kv("channels", a.channels.size());
  return {dp::WriteResult::ok, refusal};
}

PeerChange Allocations::install_permissions(Allocation& a, std::span<const IpAddress> peers, dp::TableTime expires,
                                            dp::TableTime now) {
  struct Undo {
    IpAddress peer;
    dp::TableTime old_expires;  // 0: was new
  };
  // A request carries at most stun::kMaxAttributes peers.
  if (peers.size() > stun::kMaxAttributes) return {dp::WriteResult::no_room, std::nullopt};
  std::array<Undo, stun::kMaxAttributes> undo{};
  size_t done = 0;
  auto index_of = [&a](const IpAddress& peer) -> size_t {
    for (size_t i = 0; i < a.permissions.size(); ++i)
      if (a.permissions[i].peer == peer) return i;
    return a.permissions.size();
  };
  auto repeated = [&peers](size_t i) {
    return std::find(peers.begin(), peers.begin() + static_cast<std::ptrdiff_t>(i), peers[i]) !=
           peers.begin() + static_cast<std::ptrdiff_t>(i);
  };
  size_t fresh = 0;
  size_t first_fresh = 0;
  for (size_t i = 0; i < peers.size(); ++i) {
    if (repeated(i) || index_of(peers[i]) != a.permissions.size()) continue;
    if (fresh++ == 0) first_fresh = i;  // the peer a refusal's log line names
  }
  // Whole requests only (RFC 8656 §10.2 installs a permission for each address or the request
  // fails): the caps are checked before anything is written.
  if (fresh > 0 && limits_.permissions != 0 && a.permissions.size() + fresh > limits_.permissions)
    return refuse(a, LimitRefusal::permissions_per_allocation, peers[first_fresh]);
  const auto new_peers = static_cast<uint32_t>(fresh);
  if (fresh > 0 && !a.new_peers.fits(new_peers, now, limits_))
    return refuse(a, LimitRefusal::new_peers_per_second, peers[first_fresh]);

  for (size_t i = 0; i < peers.size(); ++i) {
    if (repeated(i)) continue;
    const IpAddress& peer = peers[i];
    const size_t at = index_of(peer);
    const bool exists = at < a.permissions.size();
    const dp::WriteResult r = writer_.set_permission(a.id, peer, expires);
    count_write(r);
    if (r != dp::WriteResult::ok) {
      // All or none: put back what this request changed.
      for (size_t d = done; d-- > 0;) {
        const Undo* u = &undo[d];
        const size_t k = index_of(u->peer);
        if (u->old_expires == 0) {
          count_write(writer_.remove_permission(a.id, u->peer));
          a.permissions.erase(a.permissions.begin() + static_cast<std::ptrdiff_t>(k));
          --permissions_;
        } else {
          count_write(writer_.set_permission(a.id, u->peer, u->old_expires));
          a.permissions[k].expires = u->old_expires;
        }
      }
      return {r, std::nullopt};
    }
    if (exists) {
      undo[done++] = {peer, a.permissions[at].expires};
      a.permissions[at].expires = expires;
    } else {
      undo[done++] = {peer, 0};
      a.permissions.push_back({peer, expires});
      ++permissions_;
    }
  }
  for (size_t d = 0; d < done; ++d)
    counters_.add(undo[d].old_expires == 0 ? Counter::permissions_created : Counter::permissions_refreshed);
  a.new_peers.take(new_peers, limits_);
  schedule(a);
  return {};
}

PeerChange Allocations::bind_channel(Allocation& a, stun::ChannelNumber number, const TransportAddress& peer,
                                     dp::TableTime channel_expires, dp::TableTime permission_expires,
                                     dp::TableTime now) {
  size_t c = a.channels.size();
  for (size_t i = 0; i < a.channels.size(); ++i)
    if (a.channels[i].number == number) c = i;
  const bool new_channel = c == a.channels.size();
  if (new_channel && limits_.channels != 0 && a.channels.size() >= limits_.channels)
    return refuse(a, LimitRefusal::channels_per_allocation, peer.ip);

  size_t p = a.permissions.size();
  for (size_t i = 0; i < a.permissions.size(); ++i)
    if (a.permissions[i].peer == peer.ip) p = i;
  const bool new_permission = p == a.permissions.size();
  if (new_permission && limits_.permissions != 0 && a.permissions.size() >= limits_.permissions)
    return refuse(a, LimitRefusal::permissions_per_allocation, peer.ip);
  if (new_permission && !a.new_peers.fits(1, now, limits_))
    return refuse(a, LimitRefusal::new_peers_per_second, peer.ip);

  dp::WriteResult r = writer_.set_permission(a.id, peer.ip, permission_expires);
  count_write(r);
  if (r != dp::WriteResult::ok) return {r, std::nullopt};
  r = writer_.set_channel(a.id, number.value, peer, channel_expires);
  count_write(r);
  if (r != dp::WriteResult::ok) {
    if (new_permission)
      count_write(writer_.remove_permission(a.id, peer.ip));
    else
      count_write(writer_.set_permission(a.id, peer.ip, a.permissions[p].expires));
    return {r, std::nullopt};
  }

  if (new_permission) {
    a.permissions.push_back({peer.ip, permission_expires});
    ++permissions_;
    a.new_peers.take(1, limits_);
    counters_.add(Counter::permissions_created);
  } else {
    a.permissions[p].expires = permission_expires;
    counters_.add(Counter::permissions_refreshed);
  }
  if (new_channel) {
    a.channels.push_back({number, peer, channel_expires});
    ++channels_;
    counters_.add(Counter::channels_bound);
  } else {
    a.channels[c].expires = channel_expires;
    counters_.add(Counter::channels_refreshed);
  }
  // Bound again: no longer cooling down.
  std::erase_if(a.cooldowns, [&](const ChannelCooldown& cd) { return cd.number == number && cd.peer == peer; });
  schedule(a);
  return {};
}

void Allocations::drop_permission(Allocation& a, size_t index) {
  count_write(writer_.remove_permission(a.id, a.permissions[index].peer));
  a.permissions.erase(a.permissions.begin() + static_cast<std::ptrdiff_t>(index));
  --permissions_;
}

void Allocations::drop_channel(Allocation& a, size_t index, bool cool_down, dp::TableTime now) {
  const ChannelBinding binding = a.channels[index];
  count_write(writer_.remove_channel(a.id, binding.number.value));
  a.channels.erase(a.channels.begin() + static_cast<std::ptrdiff_t>(index));
  --channels_;
  if (cool_down) {
    const dp::TableTime until = binding.expires + kChannelCooldown;
    if (until > now) a.cooldowns.push_back({binding.number, binding.peer, until});
  }
}

bool Allocations::expire_parts(Allocation& a, dp::TableTime now) {
  if (a.expires <= now) {
    remove(a, RemoveReason::expired);
    return false;
  }
  for (size_t i = a.permissions.size(); i-- > 0;)
    if (a.permissions[i].expires <= now) {
      drop_permission(a, i);
      counters_.add(Counter::permissions_expired);
    }
  for (size_t i = a.channels.size(); i-- > 0;)
    if (a.channels[i].expires <= now) {
      drop_channel(a, i, true, now);
      counters_.add(Counter::channels_expired);
    }
  std::erase_if(a.cooldowns, [now](const ChannelCooldown& cd) { return cd.until <= now; });
  return true;
}

dp::TableTime Allocations::next_deadline(const Allocation& a) const {
  dp::TableTime d = a.expires;
  for (const auto& p : a.permissions) d = std::min(d, p.expires);
  for (const auto& c : a.channels) d = std::min(d, c.expires);
  for (const auto& cd : a.cooldowns) d = std::min(d, cd.until);
  return d;
}

void Allocations::schedule(Allocation& a) {
  const dp::TableTime d = next_deadline(a);
  if (a.scheduled != 0 && a.scheduled <= d) return;
  a.scheduled = wheel_.schedule(a.id, a.serial, d);
}

void Allocations::expire(dp::TableTime now) {
  wheel_.advance(now, [this, now](dp::AllocId id, uint64_t serial, dp::TableTime when) {
    Allocation* a = dp::slot_index(id) < slots_.size() ? slots_[dp::slot_index(id)].get() : nullptr;
    if (a == nullptr || a->serial != serial) return;  // gone, or the slot has a new owner
    if (a->scheduled == when) a->scheduled = 0;
    if (expire_parts(*a, now)) schedule(*a);
  });
  // A live allocation has one entry that counts, the one at `scheduled`; the others (of removed
  // allocations, or superseded by an earlier deadline) wait for their second unless cleared here,
  // which keeps the wheel's memory in proportion to the allocations rather than to how many were
  // made and deleted over the longest lifetime.
  if (wheel_.size() > kWheelSlack + 2 * by_five_tuple_.size()) {
    wheel_.compact([this](dp::AllocId id, uint64_t serial, dp::TableTime when) {
      const Allocation* a = dp::slot_index(id) < slots_.size() ? slots_[dp::slot_index(id)].get() : nullptr;
      return a == nullptr || a->serial != serial || a->scheduled != when;
    });
  }
}

size_t Allocations::reclaim() {
  size_t total = 0;
  reclaimed_scratch_.resize(256);
  for (;;) {
    const size_t n = writer_.reclaimed(reclaimed_scratch_);
    for (size_t i = 0; i < n; ++i) {
      const auto it = reclaiming_.find(reclaimed_scratch_[i]);
      if (it == reclaiming_.end()) continue;
      ports_.release(it->second);
      free_slots_.push_back(it->first);
      reclaiming_.erase(it);
      ++total;
    }
    if (n < reclaimed_scratch_.size()) break;
  }
  return total;
}

}  // namespace tern::ctl
