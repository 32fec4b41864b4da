#pragma once
// The allocation tables, read side (docs/ARCHITECTURE.md "Tables"): many lock-free readers (the
// workers) and one writer, RcuTableWriter (rcu_writer.hpp), which the control lcore owns and which
// reaches into these arrays and hashes as a friend.
//
//   allocations    AllocId -> AllocationSlot        preallocated array of two-line slots
//   client index   client 5-tuple -> AllocId    rte_hash, RW_CONCURRENCY_LF, RCU-reclaimed keys
//   relay index    (relay address, port) -> AllocId   flat atomic array, O(1), no hashing
//   permissions    (AllocId, peer IP) -> expiry  inline in the slot, overflow to an rte_hash
//   channels       (AllocId, channel) <-> peer   inline in the slot, overflow to two rte_hashes
//                                                over a preallocated entry pool
//
// IPv6 (only when configured, TablesConfig::ipv6): an allocation with an IPv6 side keeps its
// addresses in a parallel array of AllocationSlot6 lines; IPv6 5-tuples have their own client index
// (a 40-byte key); IPv6 relay addresses follow the IPv4 ones in the relay index; an IPv6
// allocation's permissions and channels live in hashes of their own (16-byte peers do not fit the
// inline words). Chosen for simplicity over speed: an IPv6 peer's permission is one hash lookup,
// where an IPv4 peer's is usually a word in a line already in cache (bm_dataplane measures both).
//
// Workers report quiescent on the RCU variable every loop iteration; nothing a worker may still
// hold (a slot, an overflow channel entry, a hash key) is reused before every worker has done so.
// Addresses and ports are in network byte order throughout.

#include <rte_byteorder.h>
#include <rte_hash.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataplane/tables/slot.hpp"
#include "dataplane/tables/rate_limit.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::dp {

inline constexpr unsigned kMaxRelayAddresses = 64;
inline constexpr unsigned kLookupBulkMax = RTE_HASH_LOOKUP_BULK_MAX;

// The client index key: an IPv4/UDP 5-tuple in 16 bytes.
struct ClientKey {
  uint32_t client_ip;    // network order
  uint32_t server_ip;    // network order
  uint16_t client_port;  // network order
  uint16_t server_port;  // network order
  uint8_t transport;     // IPPROTO_UDP
  uint8_t zero[3];       // always zero: part of the hashed key
};
static_assert(sizeof(ClientKey) == 16);

inline ClientKey make_client_key(uint32_t client_ip, uint16_t client_port, uint32_t server_ip,
                                 uint16_t server_port, Transport transport = Transport::udp) {
  return ClientKey{client_ip, server_ip, client_port, server_port, static_cast<uint8_t>(transport),
                   {0, 0, 0}};
}

// The IPv6 client index key: 16 + 16 + 2 + 2 + 1, padded to 40 bytes.
struct ClientKey6 {
  Ip6 client_ip;
  Ip6 server_ip;
  uint16_t client_port;  // network order
  uint16_t server_port;  // network order
  uint8_t transport;     // IPPROTO_UDP
  uint8_t zero[3];       // always zero: part of the hashed key
};
static_assert(sizeof(ClientKey6) == 40);

inline ClientKey6 make_client_key(const Ip6& client_ip, uint16_t client_port, const Ip6& server_ip,
                                  uint16_t server_port, Transport transport = Transport::udp) {
  return ClientKey6{client_ip, server_ip, client_port, server_port,
                    static_cast<uint8_t>(transport), {0, 0, 0}};
}

struct TablesConfig {
  std::string name = "tern";                   // prefix of the DPDK object names
  uint32_t capacity = 65536;                   // allocation slots
  std::vector<uint32_t> relay_ips;             // network order, index = relay address index
  std::vector<Ip6> relay_ips6;                 // indexes follow the IPv4 ones
  bool ipv6 = false;                           // IPv6 5-tuples or relayed addresses may come
  uint32_t permission_overflow = 0;            // 0: capacity / 4 (at least 1024)
  uint32_t channel_overflow = 0;               // 0: capacity / 4 (at least 1024)
  int socket_id = 0;                           // NUMA node for the memory
  rte_rcu_qsbr* rcu = nullptr;                 // the workers' quiescent-state variable
};

class RcuTableWriter;

class Tables {
 public:
  // Setup-time: allocates everything once. nullptr with a message on failure.
  static std::unique_ptr<Tables> create(const TablesConfig& config, std::string& error);
  ~Tables();
  Tables(const Tables&) = delete;
  Tables& operator=(const Tables&) = delete;

  uint32_t capacity() const { return capacity_; }
  std::span<const uint32_t> relay_ips() const { return {relay_ips_, relay_count_}; }
  bool ipv6() const { return slots6_ != nullptr; }

  // ---- worker side: read only, lock-free, no allocation ----

  // Index of a relay address, or -1 when ip is not one: one byte of a small direct-mapped table,
  // a scan only when two relay addresses share a byte.
  int relay_index_of(uint32_t ip) const {
    const uint8_t v = relay_slot_[relay_hash(ip)];
    if (v == 0) return -1;
    if (v != kRelaySlotShared) return relay_ips_[v - 1] == ip ? v - 1 : -1;
    for (unsigned i = 0; i < relay_count_; ++i)
      if (relay_ips_[i] == ip) return static_cast<int>(i);
    return -1;
  }

  // RFC 8656 §10.1 (peer -> client): relayed transport address -> allocation in O(1).
  AllocId find_relay(unsigned relay_index, uint16_t port) const {
    return relay_index_[(relay_index << 16) | rte_be_to_cpu_16(port)].load(std::memory_order_acquire);
  }

  void prefetch_relay(unsigned relay_index, uint16_t port) const {
    rte_prefetch0(&relay_index_[(relay_index << 16) | rte_be_to_cpu_16(port)]);
  }

  AllocId find_client(const ClientKey& key) const;
  // Up to kLookupBulkMax keys in one rte_hash bulk lookup; misses are kNoAllocation.
  void find_clients(const ClientKey* const* keys, unsigned n, AllocId* out) const;

  // ---- IPv6 (worker side) ----
  int relay_index_of(const Ip6& ip) const {
    for (unsigned i = 0; i < relay6_count_; ++i)
      if (relay_ips6_[i] == ip) return static_cast<int>(relay_count_ + i);
    return -1;
  }
  AllocId find_client(const ClientKey6& key) const;
  void find_clients(const ClientKey6* const* keys, unsigned n, AllocId* out) const;
  // The IPv6 side of an allocation flagged kClientIpv6 or kRelayIpv6.
  const AllocationSlot6& slot6(AllocId id) const { return slots6_[slot_index(id)]; }
  void prefetch6(AllocId id) const { rte_prefetch0(&slots6_[slot_index(id)]); }
  bool permitted(AllocId id, const AllocationSlot& a, const Ip6& peer_ip, TableTime now) const;
  bool channel_peer(AllocId id, const AllocationSlot& a, uint16_t channel, TableTime now, Ip6& peer_ip,
                    uint16_t& peer_port) const;
  uint16_t channel_of_peer(AllocId id, const AllocationSlot& a, const Ip6& peer_ip, uint16_t peer_port,
                           TableTime now) const;

  const AllocationSlot& slot(AllocId id) const { return slots_[slot_index(id)]; }
  // Line 0 (5-tuple, relayed address, expiry, first permissions).
  void prefetch(AllocId id) const { rte_prefetch0(&slots_[slot_index(id)]); }
  // Both lines: for packets that also look at the channels.
  void prefetch_with_channels(AllocId id) const {
    rte_prefetch0(&slots_[slot_index(id)]);
    rte_prefetch0(reinterpret_cast<const char*>(&slots_[slot_index(id)]) + RTE_CACHE_LINE_SIZE);
  }

  // An allocation's rate buckets (rate_limit.hpp; the rates are the workers' settings). Workers
  // update them atomically; the control plane resets them before it publishes the allocation.
  // Packet buckets exist once an allocation was published; byte buckets once a max_bps was
  // (WorkerSettingsBoard makes them before it publishes the settings that set one).
  RateBuckets& packet_buckets(AllocId id) const {
    return packet_buckets_.load(std::memory_order_acquire)[slot_index(id)];
  }
  RateBuckets& byte_buckets(AllocId id) const { return byte_buckets_.load(std::memory_order_acquire)[slot_index(id)]; }

  // A live allocation: published and not yet expired.
  static bool live(const AllocationSlot& a, TableTime now) {
    return now < a.expires.load(std::memory_order_acquire);
  }

  // RFC 8656 §9: is there an unexpired permission for this peer IP?
  bool permitted(AllocId id, const AllocationSlot& a, uint32_t peer_ip, TableTime now) const {
    for (const auto& p : a.permissions) {
      const uint64_t w = p.load(std::memory_order_acquire);
      if (PermissionWord::peer_ip(w) == peer_ip && w != 0) return now < PermissionWord::expires(w);
    }
    if (!(a.flags.load(std::memory_order_acquire) & kPermissionOverflow)) return false;
    return permitted_overflow(id, peer_ip, now);
  }

  // RFC 8656 §12: the peer a channel is bound to. false when unbound or expired.
  bool channel_peer(AllocId id, const AllocationSlot& a, uint16_t channel, TableTime now,
                    uint32_t& peer_ip, uint16_t& peer_port) const {
    for (const auto& c : a.channels) {
      const uint64_t b = c.binding.load(std::memory_order_acquire);
      if (b != 0 && ChannelEntry::channel(b) == channel)
        return bound(c, b, now, peer_ip, peer_port);
    }
    if (!(a.flags.load(std::memory_order_acquire) & kChannelOverflow)) return false;
    return channel_peer_overflow(id, channel, now, peer_ip, peer_port);
  }

  // The channel bound to a peer transport address, or 0 when none is (a Data indication then).
  uint16_t channel_of_peer(AllocId id, const AllocationSlot& a, uint32_t peer_ip, uint16_t peer_port,
                           TableTime now) const {
    const uint64_t want = ChannelEntry::make(0, peer_port, peer_ip);
    for (const auto& c : a.channels) {
      const uint64_t b = c.binding.load(std::memory_order_acquire);
      if (b != 0 && (b & 0xffffffffffffULL) == want)
        return now < c.expires.load(std::memory_order_acquire) ? ChannelEntry::channel(b) : 0;
    }
    if (!(a.flags.load(std::memory_order_acquire) & kChannelOverflow)) return 0;
    return channel_of_peer_overflow(id, peer_ip, peer_port, now);
  }

 private:
  friend class RcuTableWriter;
  Tables() = default;

  static bool bound(const ChannelEntry& c, uint64_t binding, TableTime now, uint32_t& peer_ip,
                    uint16_t& peer_port) {
    if (now >= c.expires.load(std::memory_order_acquire)) return false;
    peer_ip = ChannelEntry::peer_ip(binding);
    peer_port = ChannelEntry::peer_port(binding);
    return true;
  }
  bool permitted_overflow(AllocId id, uint32_t peer_ip, TableTime now) const;
  bool channel_peer_overflow(AllocId id, uint16_t channel, TableTime now, uint32_t& peer_ip,
                             uint16_t& peer_port) const;
  uint16_t channel_of_peer_overflow(AllocId id, uint32_t peer_ip, uint16_t peer_port,
                                    TableTime now) const;

  uint32_t capacity_ = 0;
  AllocationSlot* slots_ = nullptr;                      // capacity_ slots, rte_zmalloc'd
  // capacity_ entries each, rte_zmalloc'd by the writer: the packet buckets with the first
  // allocation, published (release) before any slot, which a worker reads only after it found the
  // slot; the byte buckets with the first max_bps, published before the settings that set it,
  // which a worker loads (acquire) before it reads them.
  std::atomic<RateBuckets*> packet_buckets_{nullptr};
  std::atomic<RateBuckets*> byte_buckets_{nullptr};
  int socket_id_ = 0;
  std::atomic<AllocId>* relay_index_ = nullptr;      // relay_count_ << 16 entries
  static constexpr uint8_t kRelaySlotShared = 0xff;
  static unsigned relay_hash(uint32_t ip) { return (ip * 0x9E3779B1u) >> 24; }

  uint32_t relay_ips_[kMaxRelayAddresses] = {};
  unsigned relay_count_ = 0;
  Ip6 relay_ips6_[kMaxRelayAddresses] = {};
  unsigned relay6_count_ = 0;
  AllocationSlot6* slots6_ = nullptr;                    // capacity_ lines when IPv6 is on
  rte_hash* clients6_ = nullptr;                     // ClientKey6 -> AllocId
  rte_hash* permission6_ = nullptr;                  // (AllocId, peer IPv6) -> expiry
  rte_hash* channel6_by_number_ = nullptr;           // (AllocId, channel) -> entry6 index
  rte_hash* channel6_by_peer_ = nullptr;             // (AllocId, peer IPv6, port) -> entry6 index
  ChannelEntry6* channel6_pool_ = nullptr;
  uint32_t channel6_pool_size_ = 0;
  uint8_t relay_slot_[256] = {};  // relay_hash(ip) -> index + 1; 0: none; shared: scan
  rte_hash* clients_ = nullptr;                      // ClientKey -> AllocId
  rte_hash* permission_overflow_ = nullptr;          // (AllocId, peer IP) -> expiry
  rte_hash* channel_by_number_ = nullptr;            // (AllocId, channel) -> entry index
  rte_hash* channel_by_peer_ = nullptr;              // (AllocId, peer IP, port) -> entry index
  ChannelEntry* channel_pool_ = nullptr;             // overflow channel entries
  uint32_t channel_pool_size_ = 0;
};

}  // namespace tern::dp
