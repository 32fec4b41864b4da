#include "dataplane/tables.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include <algorithm>
#include <unordered_map>

#include "dataplane/tables_writer.hpp"

namespace tern::dp {
namespace {

struct PermissionKey {
  AllocId id;
  uint32_t peer_ip;
};
struct ChannelNumberKey {
  AllocId id;
  uint16_t channel;
  uint16_t zero;
};
struct ChannelPeerKey {
  AllocId id;
  uint32_t peer_ip;
  uint16_t peer_port;
  uint16_t zero;
};

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
  if (config.capacity == 0 || config.capacity >= kNoAllocation) {
    error = "allocation table capacity must be between 1 and 2^32-2";
    return nullptr;
  }
  if (config.relay_ips.empty() || config.relay_ips.size() > kMaxRelayAddresses) {
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
  t->slots_ = static_cast<Allocation*>(
      rte_zmalloc_socket("tern_slots", sizeof(Allocation) * config.capacity, 64, socket));
  t->rate_limits_ = static_cast<RateLimit*>(
      rte_zmalloc_socket("tern_rate_limits", sizeof(RateLimit) * config.capacity, 64, socket));
  t->tsc_hz_ = config.tsc_hz != 0 ? config.tsc_hz : rte_get_tsc_hz();
  const size_t relay_entries = size_t{t->relay_count_} << 16;
  t->relay_index_ = static_cast<std::atomic<AllocId>*>(rte_malloc_socket(
      "tern_relay_index", sizeof(std::atomic<AllocId>) * relay_entries, 64, socket));
  const uint32_t overflow_default = std::max<uint32_t>(config.capacity / 4, 1024);
  const uint32_t permission_overflow =
      config.permission_overflow ? config.permission_overflow : overflow_default;
  t->channel_pool_size_ = config.channel_overflow ? config.channel_overflow : overflow_default;
  t->channel_pool_ = static_cast<ChannelEntry*>(rte_zmalloc_socket(
      "tern_channel_pool", sizeof(ChannelEntry) * t->channel_pool_size_, 64, socket));
  if (t->slots_ == nullptr || t->rate_limits_ == nullptr || t->relay_index_ == nullptr ||
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

  t->writer_ = TablesWriter::create(*t, config, error);
  if (!t->writer_) return nullptr;
  return t;
}

Tables::~Tables() {
  writer_.reset();
  rte_hash_free(channel_by_peer_);
  rte_hash_free(channel_by_number_);
  rte_hash_free(permission_overflow_);
  rte_hash_free(clients_);
  rte_free(channel_pool_);
  rte_free(relay_index_);
  rte_free(rate_limits_);
  rte_free(slots_);
}

TableWriter& Tables::writer() { return *writer_; }

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

}  // namespace tern::dp
