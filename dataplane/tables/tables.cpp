#include "dataplane/tables/tables.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include <algorithm>
#include <unordered_map>

#include "dataplane/tables/keys.hpp"

namespace tern::dp {
namespace {

rte_hash* make_hash(const std::string& name, uint32_t entries, uint32_t key_len, int socket,
                    rte_rcu_qsbr* rcu, std::string& error) {
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = std::max<uint32_t>(entries, 1024);
  params.key_len = key_len;
  params.hash_func = rte_hash_crc;
  params.socket_id = socket;
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* h = rte_hash_create(&params);
  if (h == nullptr) {
    error = "cannot create hash " + name + ": " + rte_strerror(rte_errno);
    return nullptr;
  }
  if (rcu != nullptr) {
    rte_hash_rcu_config rcu_config{};
    rcu_config.v = rcu;
    rcu_config.mode = RTE_HASH_QSBR_MODE_DQ;
    if (rte_hash_rcu_qsbr_add(h, &rcu_config) != 0) {
      error = "cannot attach RCU to hash " + name + ": " + rte_strerror(rte_errno);
      rte_hash_free(h);
      return nullptr;
    }
  }
  return h;
}

uintptr_t lookup(const rte_hash* h, const void* key) {
  void* data = nullptr;
  if (rte_hash_lookup_data(h, key, &data) < 0) return UINTPTR_MAX;
  return reinterpret_cast<uintptr_t>(data);
}

}  // namespace

std::unique_ptr<Tables> Tables::create(const TablesConfig& config, std::string& error) {
  if (config.capacity == 0 || config.capacity >= slot_index(kNoAllocation)) {
    error = "allocation table capacity must be between 1 and 2^32-2";
    return nullptr;
  }
  const size_t relays = config.relay_ips.size() + config.relay_ips6.size();
  if (relays == 0 || relays > kMaxRelayAddresses) {
    error = "between 1 and " + std::to_string(kMaxRelayAddresses) + " relay addresses are needed";
    return nullptr;
  }
  std::unique_ptr<Tables> t(new Tables());
  t->capacity_ = config.capacity;
  t->relay_count_ = static_cast<unsigned>(config.relay_ips.size());
  std::copy(config.relay_ips.begin(), config.relay_ips.end(), t->relay_ips_);
  for (unsigned i = 0; i < t->relay_count_; ++i) {
    uint8_t& slot = t->relay_slot_[relay_hash(t->relay_ips_[i])];
    slot = slot == 0 ? static_cast<uint8_t>(i + 1) : kRelaySlotShared;
  }

  const int socket = config.socket_id;
  t->slots_ = static_cast<AllocationSlot*>(
      rte_zmalloc_socket("tern_slots", sizeof(AllocationSlot) * config.capacity, 64, socket));
  t->socket_id_ = socket;
  t->relay6_count_ = static_cast<unsigned>(config.relay_ips6.size());
  std::copy(config.relay_ips6.begin(), config.relay_ips6.end(), t->relay_ips6_);
  const size_t relay_entries = relays << 16;
  t->relay_index_ = static_cast<std::atomic<AllocId>*>(rte_malloc_socket(
      "tern_relay_index", sizeof(std::atomic<AllocId>) * relay_entries, 64, socket));
  const uint32_t overflow_default = std::max<uint32_t>(config.capacity / 4, 1024);
  const uint32_t permission_overflow =
      config.permission_overflow ? config.permission_overflow : overflow_default;
  t->channel_pool_size_ = config.channel_overflow ? config.channel_overflow : overflow_default;
  t->channel_pool_ = static_cast<ChannelEntry*>(rte_zmalloc_socket(
      "tern_channel_pool", sizeof(ChannelEntry) * t->channel_pool_size_, 64, socket));
  if (t->slots_ == nullptr || t->relay_index_ == nullptr ||
      t->channel_pool_ == nullptr) {
    error = "not enough DPDK memory for " + std::to_string(config.capacity) + " allocations";
    return nullptr;
  }
  for (size_t i = 0; i < relay_entries; ++i)
    t->relay_index_[i].store(kNoAllocation, std::memory_order_relaxed);

  const std::string& n = config.name;
  if (!(t->clients_ = make_hash(n + "_clients", config.capacity, sizeof(ClientKey), socket,
                                config.rcu, error)) ||
      !(t->permission_overflow_ = make_hash(n + "_perm_ovf", permission_overflow,
                                            sizeof(PermissionKey), socket, config.rcu, error)) ||
      !(t->channel_by_number_ = make_hash(n + "_chan_num", t->channel_pool_size_,
                                          sizeof(ChannelNumberKey), socket, config.rcu, error)) ||
      !(t->channel_by_peer_ = make_hash(n + "_chan_peer", t->channel_pool_size_,
                                        sizeof(ChannelPeerKey), socket, config.rcu, error)))
    return nullptr;

  if (config.ipv6 || t->relay6_count_ > 0) {
    t->slots6_ = static_cast<AllocationSlot6*>(
        rte_zmalloc_socket("tern_slots6", sizeof(AllocationSlot6) * config.capacity, 64, socket));
    t->channel6_pool_size_ = t->channel_pool_size_;
    t->channel6_pool_ = static_cast<ChannelEntry6*>(rte_zmalloc_socket(
        "tern_channel6_pool", sizeof(ChannelEntry6) * t->channel6_pool_size_, 64, socket));
    if (t->slots6_ == nullptr || t->channel6_pool_ == nullptr) {
      error = "not enough DPDK memory for the IPv6 side of " + std::to_string(config.capacity) +
              " allocations";
      return nullptr;
    }
    if (!(t->clients6_ = make_hash(n + "_clients6", config.capacity, sizeof(ClientKey6), socket,
                                   config.rcu, error)) ||
        !(t->permission6_ = make_hash(n + "_perm6", permission_overflow, sizeof(PermissionKey6),
                                      socket, config.rcu, error)) ||
        !(t->channel6_by_number_ = make_hash(n + "_chan6_num", t->channel6_pool_size_,
                                             sizeof(ChannelNumberKey), socket, config.rcu, error)) ||
        !(t->channel6_by_peer_ = make_hash(n + "_chan6_peer", t->channel6_pool_size_,
                                           sizeof(ChannelPeerKey6), socket, config.rcu, error)))
      return nullptr;
  }

  return t;
}

Tables::~Tables() {
  rte_hash_free(channel6_by_peer_);
  rte_hash_free(channel6_by_number_);
  rte_hash_free(permission6_);
  rte_hash_free(clients6_);
  rte_free(channel6_pool_);
  rte_free(slots6_);
  rte_hash_free(channel_by_peer_);
  rte_hash_free(channel_by_number_);
  rte_hash_free(permission_overflow_);
  rte_hash_free(clients_);
  rte_free(channel_pool_);
  rte_free(relay_index_);
  rte_free(packet_buckets_.load(std::memory_order_relaxed));
  rte_free(byte_buckets_.load(std::memory_order_relaxed));
  rte_free(slots_);
}


AllocId Tables::find_client(const ClientKey& key) const {
  void* data = nullptr;
  if (rte_hash_lookup_data(clients_, &key, &data) < 0) return kNoAllocation;
  return static_cast<AllocId>(reinterpret_cast<uintptr_t>(data));
}

void Tables::find_clients(const ClientKey* const* keys, unsigned n, AllocId* out) const {
  void* data[kLookupBulkMax];
  uint64_t hits = 0;
  auto raw = reinterpret_cast<const void**>(const_cast<const ClientKey**>(keys));
  rte_hash_lookup_bulk_data(clients_, raw, n, &hits, data);
  for (unsigned i = 0; i < n; ++i)
    out[i] = (hits >> i) & 1 ? static_cast<AllocId>(reinterpret_cast<uintptr_t>(data[i]))
                             : kNoAllocation;
}

bool Tables::permitted_overflow(AllocId id, uint32_t peer_ip, TableTime now) const {
  const PermissionKey key{id, peer_ip};
  const uintptr_t expires = lookup(permission_overflow_, &key);
  return expires != UINTPTR_MAX && now < expires;
}

bool Tables::channel_peer_overflow(AllocId id, uint16_t channel, TableTime now, uint32_t& peer_ip,
                                   uint16_t& peer_port) const {
  const ChannelNumberKey key{id, channel, 0};
  const uintptr_t index = lookup(channel_by_number_, &key);
  if (index >= channel_pool_size_) return false;
  const ChannelEntry& c = channel_pool_[index];
  const uint64_t b = c.binding.load(std::memory_order_acquire);
  return b != 0 && ChannelEntry::channel(b) == channel && bound(c, b, now, peer_ip, peer_port);
}

uint16_t Tables::channel_of_peer_overflow(AllocId id, uint32_t peer_ip, uint16_t peer_port,
                                          TableTime now) const {
  const ChannelPeerKey key{id, peer_ip, peer_port, 0};
  const uintptr_t index = lookup(channel_by_peer_, &key);
  if (index >= channel_pool_size_) return 0;
  const ChannelEntry& c = channel_pool_[index];
  const uint64_t b = c.binding.load(std::memory_order_acquire);
  if (b == 0 || ChannelEntry::peer_ip(b) != peer_ip || ChannelEntry::peer_port(b) != peer_port)
    return 0;
  return now < c.expires.load(std::memory_order_acquire) ? ChannelEntry::channel(b) : 0;
}

// ---- IPv6 ----

AllocId Tables::find_client(const ClientKey6& key) const {
  void* data = nullptr;
  if (clients6_ == nullptr || rte_hash_lookup_data(clients6_, &key, &data) < 0) return kNoAllocation;
  return static_cast<AllocId>(reinterpret_cast<uintptr_t>(data));
}

void Tables::find_clients(const ClientKey6* const* keys, unsigned n, AllocId* out) const {
  if (clients6_ == nullptr) {
    std::fill(out, out + n, kNoAllocation);
    return;
  }
  void* data[kLookupBulkMax];
  uint64_t hits = 0;
  auto raw = reinterpret_cast<const void**>(const_cast<const ClientKey6**>(keys));
  rte_hash_lookup_bulk_data(clients6_, raw, n, &hits, data);
  for (unsigned i = 0; i < n; ++i)
    out[i] = (hits >> i) & 1 ? static_cast<AllocId>(reinterpret_cast<uintptr_t>(data[i]))
                             : kNoAllocation;
}

// RFC 8656 §9: an IPv6 allocation's permissions are all in the hash (no inline entries).
bool Tables::permitted(AllocId id, const AllocationSlot&, const Ip6& peer_ip, TableTime now) const {
  const PermissionKey6 key{id, 0, peer_ip};
  const uintptr_t expires = lookup(permission6_, &key);
  return expires != UINTPTR_MAX && now < expires;
}

bool Tables::channel_peer(AllocId id, const AllocationSlot&, uint16_t channel, TableTime now,
                          Ip6& peer_ip, uint16_t& peer_port) const {
  const ChannelNumberKey key{id, channel, 0};
  const uintptr_t index = lookup(channel6_by_number_, &key);
  if (index >= channel6_pool_size_) return false;
  const ChannelEntry6& c = channel6_pool_[index];
  if (c.channel != channel || now >= c.expires.load(std::memory_order_acquire)) return false;
  peer_ip = c.peer_ip;
  peer_port = c.peer_port;
  return true;
}

uint16_t Tables::channel_of_peer(AllocId id, const AllocationSlot&, const Ip6& peer_ip,
                                 uint16_t peer_port, TableTime now) const {
  const ChannelPeerKey6 key{id, peer_port, 0, peer_ip};
  const uintptr_t index = lookup(channel6_by_peer_, &key);
  if (index >= channel6_pool_size_) return 0;
  const ChannelEntry6& c = channel6_pool_[index];
  if (!(c.peer_ip == peer_ip) || c.peer_port != peer_port) return 0;
  return now < c.expires.load(std::memory_order_acquire) ? c.channel : 0;
}

}  // namespace tern::dp
