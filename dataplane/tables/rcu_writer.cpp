#include "dataplane/tables/rcu_writer.hpp"

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include <algorithm>

#include "dataplane/tables/keys.hpp"

namespace tern::dp {
namespace {

uint32_t be_ip(const IpAddress& ip) { return rte_cpu_to_be_32(ip.canonical().v4_host_order()); }
uint16_t be_port(Port port) { return rte_cpu_to_be_16(port.value); }
bool is_v4(const IpAddress& ip) { return ip.canonical().is_v4(); }

void* as_data(uintptr_t value) { return reinterpret_cast<void*>(value); }

}  // namespace

RcuTableWriter::RcuTableWriter(Tables& tables, rte_rcu_qsbr* rcu)
    : t_(tables),
      rcu_(rcu),
      generation_(tables.capacity(), 0),
      channel_pending_(tables.capacity(), 0),
      in_use_(tables.capacity(), 0) {
  free_pool_.reserve(tables.channel_pool_size_);
  for (uint32_t i = tables.channel_pool_size_; i > 0; --i) free_pool_.push_back(i - 1);
  free_pool6_.reserve(tables.channel6_pool_size_);
  for (uint32_t i = tables.channel6_pool_size_; i > 0; --i) free_pool6_.push_back(i - 1);
}

std::unique_ptr<RcuTableWriter> RcuTableWriter::create(Tables& tables, const TablesConfig& config,
                                                   std::string& error) {
  std::unique_ptr<RcuTableWriter> w(new RcuTableWriter(tables, config.rcu));
  if (config.rcu == nullptr) return w;  // no readers on other threads: reuse at once
  const std::string name = config.name + "_dq";
  rte_rcu_qsbr_dq_parameters params{};
  params.name = name.c_str();
  params.size = tables.capacity() + tables.channel_pool_size_ + tables.channel6_pool_size_ +
                tables.capacity() * kInlineChannels;
  params.esize = sizeof(Retired);
  // 0: every enqueue (retire()) also reclaims what has passed its grace period, as reclaimed() does.
  params.trigger_reclaim_limit = 0;
  params.max_reclaim_size = 1024;
  params.free_fn = &RcuTableWriter::free_retired;
  params.p = w.get();
  params.v = config.rcu;
  w->dq_ = rte_rcu_qsbr_dq_create(&params);
  if (w->dq_ == nullptr) {
    error = "cannot create the RCU defer queue: " + std::string(rte_strerror(rte_errno));
    return nullptr;
  }
  return w;
}

RcuTableWriter::~RcuTableWriter() {
  if (dq_ != nullptr) rte_rcu_qsbr_dq_delete(dq_);
}

void RcuTableWriter::free_retired(void* self, void* elements, unsigned int n) {
  auto* w = static_cast<RcuTableWriter*>(self);
  const auto* r = static_cast<const Retired*>(elements);
  for (unsigned i = 0; i < n; ++i) w->release(r[i]);
}

// Called once no worker can still hold what r names.
void RcuTableWriter::release(const Retired& r) {
  switch (r.kind) {
    case Retired::slot:
      reclaimed_.push_back(AllocId{r.a});
      break;
    case Retired::inline_channel:
      if (generation_[r.a] == r.generation) channel_pending_[r.a] &= ~(1u << r.b);
      break;
    case Retired::pooled_channel:
      free_pool_.push_back(r.a);
      break;
    case Retired::pooled_channel6:
      free_pool6_.push_back(r.a);
      break;
  }
}

void RcuTableWriter::retire(const Retired& r) {
  if (dq_ == nullptr) {
    release(r);
    return;
  }
  if (rte_rcu_qsbr_dq_enqueue(dq_, const_cast<Retired*>(&r)) != 0) {
    // Queue full even after reclaiming: wait out a grace period here (microseconds).
    rte_rcu_qsbr_synchronize(rcu_, RTE_QSBR_THRID_INVALID);
    release(r);
  }
}

bool RcuTableWriter::published(AllocId id) const { return slot_index(id) < t_.capacity() && in_use_[slot_index(id)]; }

// The 5-tuple and the relayed address each are IPv4 or IPv6 (RFC 8656 §7.2: the relayed address's
// family is the one the client asked for, whatever its own).
// A rate's buckets for every slot (Tables::packet_buckets_, byte_buckets_), made once, zeroed (full).
// nullptr when DPDK memory runs out.
RateBuckets* RcuTableWriter::make_buckets(std::atomic<RateBuckets*>& array, const char* name) {
  RateBuckets* buckets = array.load(std::memory_order_relaxed);
  if (buckets != nullptr) return buckets;
  buckets = static_cast<RateBuckets*>(
      rte_zmalloc_socket(name, sizeof(RateBuckets) * size_t{t_.capacity_}, 64, t_.socket_id_));
  if (buckets != nullptr) array.store(buckets, std::memory_order_release);
  return buckets;
}

WriteResult RcuTableWriter::add_allocation(AllocId id, const AllocationEntry& e) {
  if (slot_index(id) >= t_.capacity() || in_use_[slot_index(id)]) return WriteResult::not_found;
  const FiveTuple& ft = e.five_tuple;
  const bool client6 = ft.client.ip.is_v6();
  const bool relay6 = e.relayed.ip.is_v6();
  if (client6 != ft.server.ip.is_v6() || ((client6 || relay6) && !t_.ipv6()))
    return WriteResult::unsupported;
  const int relay_index = relay6 ? t_.relay_index_of(Ip6::of(e.relayed.ip))
                                 : t_.relay_index_of(be_ip(e.relayed.ip));
  if (relay_index < 0) return WriteResult::unsupported;
  // allocation_pps applies to every allocation (a reload may turn it on for live ones): without
  // the packet buckets the allocation is refused (508).
  RateBuckets* packet_buckets = make_buckets(t_.packet_buckets_, "tern_packet_buckets");
  if (packet_buckets == nullptr) return WriteResult::no_room;

  AllocationSlot& a = t_.slots_[slot_index(id)];
  const bool stream = e.stream != StreamId::none;
  a.client_ip = stream ? static_cast<uint32_t>(e.stream) : client6 ? 0 : be_ip(ft.client.ip);
  a.client_port = be_port(ft.client.port);
  a.server_ip = client6 ? 0 : be_ip(ft.server.ip);
  a.server_port = be_port(ft.server.port);
  a.relay_ip = relay6 ? 0 : be_ip(e.relayed.ip);
  a.relay_port = be_port(e.relayed.port);
  if (client6 || relay6) {
    AllocationSlot6& a6 = t_.slots6_[slot_index(id)];
    a6 = AllocationSlot6{};
    if (client6) {
      a6.client_ip = Ip6::of(ft.client.ip);
      a6.server_ip = Ip6::of(ft.server.ip);
    }
    if (relay6) a6.relay_ip = Ip6::of(e.relayed.ip);
  }
  a.relay_index = static_cast<uint8_t>(relay_index);
  for (auto& p : a.permissions) p.store(0, std::memory_order_relaxed);
  for (auto& c : a.channels) {
    c.binding.store(0, std::memory_order_relaxed);
    c.expires.store(0, std::memory_order_relaxed);
  }
  channel_pending_[slot_index(id)] = 0;
  uint8_t flags = 0;
  if (e.dont_fragment) flags |= kDontFragment;
  packet_buckets[slot_index(id)].reset();
  if (RateBuckets* bytes = t_.byte_buckets_.load(std::memory_order_relaxed)) bytes[slot_index(id)].reset();
  if (client6) flags |= kClientIpv6;
  if (relay6) flags |= kRelayIpv6;
  if (stream) flags |= kStreamClient;
  a.flags.store(flags, std::memory_order_relaxed);

  if (!index_client(id, true)) return WriteResult::no_room;
  auto& relay = t_.relay_index_[(size_t{a.relay_index} << 16) | e.relayed.port.value];
  if (relay.load(std::memory_order_relaxed) != kNoAllocation) {
    index_client(id, false);
    return WriteResult::no_room;  // the port is still someone's: the control plane's bug
  }
  relay.store(id, std::memory_order_release);
  in_use_[slot_index(id)] = 1;
  a.expires.store(e.expires, std::memory_order_release);  // published
  return WriteResult::ok;
}

WriteResult RcuTableWriter::set_allocation_expiry(AllocId id, TableTime expires) {
  if (!published(id)) return WriteResult::not_found;
  t_.slots_[slot_index(id)].expires.store(expires, std::memory_order_release);
  return WriteResult::ok;
}

WriteResult RcuTableWriter::remove_allocation(AllocId id) {
  if (!published(id)) return WriteResult::not_found;
  AllocationSlot& a = t_.slots_[slot_index(id)];
  a.expires.store(0, std::memory_order_release);  // workers stop relaying for it now
  index_client(id, false);
  t_.relay_index_[(size_t{a.relay_index} << 16) | rte_be_to_cpu_16(a.relay_port)].store(
      kNoAllocation, std::memory_order_release);
  drop_overflow(id);
  for (auto& p : a.permissions) p.store(0, std::memory_order_release);
  for (auto& c : a.channels) {
    c.expires.store(0, std::memory_order_release);
    c.binding.store(0, std::memory_order_release);
  }
  // Only the overflow flags go: the others say what the allocation is (its families, a stream
  // client, DONT-FRAGMENT), and a worker that found it live a moment ago still reads them next to
  // its addresses; with them cleared it would take an IPv6 or stream client for an IPv4 one and
  // send the peer's data to the slot's zero (or StreamId) IPv4 address. add_allocation sets them
  // all again when the slot is reused, after the grace period.
  a.flags.fetch_and(static_cast<uint8_t>(~(kPermissionOverflow | kChannelOverflow)),
                    std::memory_order_release);
  in_use_[slot_index(id)] = 0;
  ++generation_[slot_index(id)];
  retire({Retired::slot, slot_index(id), 0, generation_[slot_index(id)]});
  return WriteResult::ok;
}

// Adds the allocation's 5-tuple to its family's client index, or removes it.
bool RcuTableWriter::index_client(AllocId id, bool add) {
  const AllocationSlot& a = t_.slots_[slot_index(id)];
  // A stream client's packets reach the kernel's TCP, never a worker's lookup.
  if (a.flags.load(std::memory_order_relaxed) & kStreamClient) return true;
  if (a.flags.load(std::memory_order_relaxed) & kClientIpv6) {
    const AllocationSlot6& a6 = t_.slots6_[slot_index(id)];
    const ClientKey6 key = make_client_key(a6.client_ip, a.client_port, a6.server_ip, a.server_port);
    return add ? rte_hash_add_key_data(t_.clients6_, &key, as_data(slot_index(id))) == 0
               : rte_hash_del_key(t_.clients6_, &key) >= 0;
  }
  const ClientKey key = make_client_key(a.client_ip, a.client_port, a.server_ip, a.server_port);
  return add ? rte_hash_add_key_data(t_.clients_, &key, as_data(slot_index(id))) == 0
             : rte_hash_del_key(t_.clients_, &key) >= 0;
}

void RcuTableWriter::drop_overflow(AllocId id) {
  const auto it = overflow_.find(id);
  if (it == overflow_.end()) return;
  for (const Ip6& ip : it->second.permissions6) {
    const PermissionKey6 key{id, 0, ip};
    rte_hash_del_key(t_.permission6_, &key);
  }
  for (const auto& [channel, index] : it->second.channels6) unhash_channel6(id, channel, index);
  for (const uint32_t ip : it->second.permissions) {
    const PermissionKey key{id, ip};
    rte_hash_del_key(t_.permission_overflow_, &key);
  }
  for (const auto& [channel, index] : it->second.channels) unhash_channel(id, channel, index);
  overflow_.erase(it);
}

void RcuTableWriter::update_overflow_flags(AllocId id) {
  AllocationSlot& a = t_.slots_[slot_index(id)];
  uint8_t flags = a.flags.load(std::memory_order_relaxed) &
                  static_cast<uint8_t>(~(kPermissionOverflow | kChannelOverflow));
  const auto it = overflow_.find(id);
  if (it != overflow_.end()) {
    if (!it->second.permissions.empty()) flags |= kPermissionOverflow;
    if (!it->second.channels.empty()) flags |= kChannelOverflow;
    if (it->second.empty()) overflow_.erase(it);
  }
  a.flags.store(flags, std::memory_order_release);
}

WriteResult RcuTableWriter::set_permission(AllocId id, const IpAddress& peer, TableTime expires) {
  if (!published(id)) return WriteResult::not_found;
  // RFC 8656 §9.1: a peer of the relayed address's family (the control plane answers 443 else).
  if (relays_ipv6(id)) {
    const IpAddress p = peer.canonical();
    return p.is_v6() ? set_permission6(id, Ip6::of(p), expires) : WriteResult::unsupported;
  }
  if (!is_v4(peer)) return WriteResult::unsupported;
  const uint32_t ip = be_ip(peer);
  const uint64_t word = PermissionWord::make(ip, expires);
  AllocationSlot& a = t_.slots_[slot_index(id)];
  std::atomic<uint64_t>* free_entry = nullptr;
  for (auto& p : a.permissions) {
    const uint64_t w = p.load(std::memory_order_relaxed);
    if (w != 0 && PermissionWord::peer_ip(w) == ip) {
      p.store(word, std::memory_order_release);  // refresh
      return WriteResult::ok;
    }
    if (w == 0 && free_entry == nullptr) free_entry = &p;
  }
  const PermissionKey key{id, ip};
  auto it = overflow_.find(id);
  const bool in_overflow =
      it != overflow_.end() && std::find(it->second.permissions.begin(),
                                         it->second.permissions.end(), ip) !=
                                   it->second.permissions.end();
  if (!in_overflow && free_entry != nullptr) {
    // A single 64-bit store: a reader sees the old (empty) entry or the whole new one.
    free_entry->store(word, std::memory_order_release);
    return WriteResult::ok;
  }
  if (rte_hash_add_key_data(t_.permission_overflow_, &key, as_data(expires)) != 0)
    return WriteResult::no_room;
  if (!in_overflow) {
    overflow_[id].permissions.push_back(ip);
    update_overflow_flags(id);
  }
  return WriteResult::ok;
}

WriteResult RcuTableWriter::remove_permission(AllocId id, const IpAddress& peer) {
  if (!published(id)) return WriteResult::not_found;
  if (relays_ipv6(id)) {
    const IpAddress p = peer.canonical();
    return p.is_v6() ? remove_permission6(id, Ip6::of(p)) : WriteResult::not_found;
  }
  if (!is_v4(peer)) return WriteResult::not_found;
  const uint32_t ip = be_ip(peer);
  for (auto& p : t_.slots_[slot_index(id)].permissions) {
    const uint64_t w = p.load(std::memory_order_relaxed);
    if (w != 0 && PermissionWord::peer_ip(w) == ip) {
      p.store(0, std::memory_order_release);
      return WriteResult::ok;
    }
  }
  const auto it = overflow_.find(id);
  if (it == overflow_.end()) return WriteResult::not_found;
  auto& list = it->second.permissions;
  const auto pos = std::find(list.begin(), list.end(), ip);
  if (pos == list.end()) return WriteResult::not_found;
  const PermissionKey key{id, ip};
  rte_hash_del_key(t_.permission_overflow_, &key);
  list.erase(pos);
  update_overflow_flags(id);
  return WriteResult::ok;
}

WriteResult RcuTableWriter::set_channel(AllocId id, uint16_t channel, const TransportAddress& peer,
                                      TableTime expires) {
  if (!published(id)) return WriteResult::not_found;
  if (relays_ipv6(id)) {
    const IpAddress p = peer.ip.canonical();
    return p.is_v6() ? set_channel6(id, channel, Ip6::of(p), be_port(peer.port), expires)
                     : WriteResult::unsupported;
  }
  if (!is_v4(peer.ip)) return WriteResult::unsupported;
  const uint64_t binding = ChannelEntry::make(channel, be_port(peer.port), be_ip(peer.ip));
  AllocationSlot& a = t_.slots_[slot_index(id)];

  // Refresh where the channel already is (RFC 8656 §12.2: same channel, same peer).
  for (auto& c : a.channels) {
    if (c.binding.load(std::memory_order_relaxed) == binding) {
      c.expires.store(expires, std::memory_order_release);
      return WriteResult::ok;
    }
  }
  auto it = overflow_.find(id);
  if (it != overflow_.end()) {
    for (const auto& [number, index] : it->second.channels) {
      if (number != channel) continue;
      ChannelEntry& c = t_.channel_pool_[index];
      if (c.binding.load(std::memory_order_relaxed) != binding) return WriteResult::not_found;
      c.expires.store(expires, std::memory_order_release);
      return WriteResult::ok;
    }
  }
  for (auto& c : a.channels) {
    if (ChannelEntry::channel(c.binding.load(std::memory_order_relaxed)) == channel)
      return WriteResult::not_found;  // bound to another peer: remove it first
  }

  // A new binding: a free inline entry (not awaiting a grace period), else the overflow pool.
  for (unsigned i = 0; i < kInlineChannels; ++i) {
    ChannelEntry& c = a.channels[i];
    if (c.binding.load(std::memory_order_relaxed) != 0 || (channel_pending_[slot_index(id)] >> i) & 1) continue;
    c.binding.store(binding, std::memory_order_release);
    c.expires.store(expires, std::memory_order_release);
    return WriteResult::ok;
  }
  if (free_pool_.empty()) return WriteResult::no_room;
  const uint32_t index = free_pool_.back();
  free_pool_.pop_back();
  ChannelEntry& c = t_.channel_pool_[index];
  c.binding.store(binding, std::memory_order_release);
  c.expires.store(expires, std::memory_order_release);
  const ChannelNumberKey by_number{id, channel, 0};
  const ChannelPeerKey by_peer{id, be_ip(peer.ip), be_port(peer.port), 0};
  const bool added = rte_hash_add_key_data(t_.channel_by_number_, &by_number, as_data(index)) == 0;
  if (!added || rte_hash_add_key_data(t_.channel_by_peer_, &by_peer, as_data(index)) != 0) {
    if (added) rte_hash_del_key(t_.channel_by_number_, &by_number);
    retire_pooled_channel(index);
    return WriteResult::no_room;
  }
  overflow_[id].channels.emplace_back(channel, index);
  update_overflow_flags(id);
  return WriteResult::ok;
}

WriteResult RcuTableWriter::remove_channel(AllocId id, uint16_t channel) {
  if (!published(id)) return WriteResult::not_found;
  if (relays_ipv6(id)) return remove_channel6(id, channel);
  AllocationSlot& a = t_.slots_[slot_index(id)];
  for (unsigned i = 0; i < kInlineChannels; ++i) {
    ChannelEntry& c = a.channels[i];
    const uint64_t b = c.binding.load(std::memory_order_relaxed);
    if (b == 0 || ChannelEntry::channel(b) != channel) continue;
    // Expiry first, then the binding; the entry is reused only after a grace period, so no
    // reader can pair this binding with a later entry's expiry.
    c.expires.store(0, std::memory_order_release);
    c.binding.store(0, std::memory_order_release);
    channel_pending_[slot_index(id)] |= static_cast<uint8_t>(1u << i);
    retire({Retired::inline_channel, slot_index(id), i, generation_[slot_index(id)]});
    return WriteResult::ok;
  }
  const auto it = overflow_.find(id);
  if (it == overflow_.end()) return WriteResult::not_found;
  auto& list = it->second.channels;
  const auto pos = std::find_if(list.begin(), list.end(),
                                [channel](const auto& entry) { return entry.first == channel; });
  if (pos == list.end()) return WriteResult::not_found;
  unhash_channel(id, channel, pos->second);
  list.erase(pos);
  update_overflow_flags(id);
  return WriteResult::ok;
}

size_t RcuTableWriter::reclaimed(std::span<AllocId> out) {
  if (dq_ != nullptr) {
    unsigned freed = 0, pending = 0, available = 0;
    rte_rcu_qsbr_dq_reclaim(dq_, UINT32_MAX, &freed, &pending, &available);
  }
  const size_t n = std::min(out.size(), reclaimed_.size());
  std::copy(reclaimed_.begin(), reclaimed_.begin() + static_cast<ptrdiff_t>(n), out.begin());
  reclaimed_.erase(reclaimed_.begin(), reclaimed_.begin() + static_cast<ptrdiff_t>(n));
  return n;
}

// ---- an IPv6 allocation's peers: hashed only ----

WriteResult RcuTableWriter::set_permission6(AllocId id, const Ip6& peer, TableTime expires) {
  const PermissionKey6 key{id, 0, peer};
  // Adds, or refreshes the expiry of a permission already there (one atomic data store).
  if (rte_hash_add_key_data(t_.permission6_, &key, as_data(expires)) != 0) return WriteResult::no_room;
  auto& list = overflow_[id].permissions6;
  if (std::find(list.begin(), list.end(), peer) == list.end()) list.push_back(peer);
  return WriteResult::ok;
}

WriteResult RcuTableWriter::remove_permission6(AllocId id, const Ip6& peer) {
  const auto it = overflow_.find(id);
  if (it == overflow_.end()) return WriteResult::not_found;
  auto& list = it->second.permissions6;
  const auto pos = std::find(list.begin(), list.end(), peer);
  if (pos == list.end()) return WriteResult::not_found;
  const PermissionKey6 key{id, 0, peer};
  rte_hash_del_key(t_.permission6_, &key);
  list.erase(pos);
  if (it->second.empty()) overflow_.erase(it);
  return WriteResult::ok;
}

WriteResult RcuTableWriter::set_channel6(AllocId id, uint16_t channel, const Ip6& peer,
                                       uint16_t peer_port, TableTime expires) {
  Overflow& o = overflow_[id];
  for (const auto& [number, index] : o.channels6) {
    if (number != channel) continue;
    ChannelEntry6& c = t_.channel6_pool_[index];
    // RFC 8656 §12.2: a refresh names the same peer; another peer is the control plane's 400.
    if (!(c.peer_ip == peer) || c.peer_port != peer_port) return WriteResult::not_found;
    c.expires.store(expires, std::memory_order_release);
    return WriteResult::ok;
  }
  if (free_pool6_.empty()) {
    if (o.empty()) overflow_.erase(id);
    return WriteResult::no_room;
  }
  const uint32_t index = free_pool6_.back();
  free_pool6_.pop_back();
  ChannelEntry6& c = t_.channel6_pool_[index];
  c.peer_ip = peer;
  c.peer_port = peer_port;
  c.channel = channel;
  c.expires.store(expires, std::memory_order_release);
  const ChannelNumberKey by_number{id, channel, 0};
  const ChannelPeerKey6 by_peer{id, peer_port, 0, peer};
  const bool added = rte_hash_add_key_data(t_.channel6_by_number_, &by_number, as_data(index)) == 0;
  if (!added || rte_hash_add_key_data(t_.channel6_by_peer_, &by_peer, as_data(index)) != 0) {
    if (added) rte_hash_del_key(t_.channel6_by_number_, &by_number);
    c.expires.store(0, std::memory_order_release);
    retire({Retired::pooled_channel6, index, 0, 0});
    if (o.empty()) overflow_.erase(id);
    return WriteResult::no_room;
  }
  o.channels6.emplace_back(channel, index);
  return WriteResult::ok;
}

WriteResult RcuTableWriter::remove_channel6(AllocId id, uint16_t channel) {
  const auto it = overflow_.find(id);
  if (it == overflow_.end()) return WriteResult::not_found;
  auto& list = it->second.channels6;
  const auto pos = std::find_if(list.begin(), list.end(),
                                [channel](const auto& entry) { return entry.first == channel; });
  if (pos == list.end()) return WriteResult::not_found;
  unhash_channel6(id, channel, pos->second);
  list.erase(pos);
  if (it->second.empty()) overflow_.erase(it);
  return WriteResult::ok;
}

// An overflow channel entry out of both hashes, expired at once, reused after the grace period.
void RcuTableWriter::unhash_channel(AllocId id, uint16_t channel, uint32_t index) {
  const uint64_t b = t_.channel_pool_[index].binding.load(std::memory_order_relaxed);
  const ChannelNumberKey by_number{id, channel, 0};
  const ChannelPeerKey by_peer{id, ChannelEntry::peer_ip(b), ChannelEntry::peer_port(b), 0};
  rte_hash_del_key(t_.channel_by_number_, &by_number);
  rte_hash_del_key(t_.channel_by_peer_, &by_peer);
  retire_pooled_channel(index);
}

// Expiry first, then the binding: no reader pairs this binding with a later entry's expiry, as the
// entry is reused only after the grace period.
void RcuTableWriter::retire_pooled_channel(uint32_t index) {
  ChannelEntry& c = t_.channel_pool_[index];
  c.expires.store(0, std::memory_order_release);
  c.binding.store(0, std::memory_order_release);
  retire({Retired::pooled_channel, index, 0, 0});
}

// The same for an IPv6 allocation's channel entry.
void RcuTableWriter::unhash_channel6(AllocId id, uint16_t channel, uint32_t index) {
  ChannelEntry6& c = t_.channel6_pool_[index];
  const ChannelNumberKey by_number{id, channel, 0};
  const ChannelPeerKey6 by_peer{id, c.peer_port, 0, c.peer_ip};
  rte_hash_del_key(t_.channel6_by_number_, &by_number);
  rte_hash_del_key(t_.channel6_by_peer_, &by_peer);
  c.expires.store(0, std::memory_order_release);
  retire({Retired::pooled_channel6, index, 0, 0});
}

}  // namespace tern::dp
