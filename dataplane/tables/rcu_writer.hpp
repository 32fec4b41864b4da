#pragma once
// The only writer of the tables (runs on the control lcore). Keeps the little shadow state the
// write side needs — which inline channel entries wait for a grace period, which overflow entries
// each allocation owns — and defers every reuse through an RCU defer queue.

#include <rte_rcu_qsbr.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/tables/tables.hpp"

namespace tern::dp {

class RcuTableWriter final : public TableWriter {
 public:
  static std::unique_ptr<RcuTableWriter> create(Tables& tables, const TablesConfig& config,
                                              std::string& error);
  ~RcuTableWriter() override;

  WriteResult add_allocation(AllocId id, const AllocationEntry& entry) override;
  WriteResult set_allocation_expiry(AllocId id, TableTime expires) override;
  WriteResult remove_allocation(AllocId id) override;
  WriteResult set_permission(AllocId id, const IpAddress& peer, TableTime expires) override;
  WriteResult remove_permission(AllocId id, const IpAddress& peer) override;
  WriteResult set_channel(AllocId id, uint16_t channel, const TransportAddress& peer,
                          TableTime expires) override;
  WriteResult remove_channel(AllocId id, uint16_t channel) override;
  size_t reclaimed(std::span<AllocId> out) override;

  // The byte buckets (max_bps) of every slot, made the first time a max_bps is set (every slot's
  // start full); the packet buckets come with the first allocation. false: no DPDK memory.
  bool make_byte_buckets() { return make_buckets(t_.byte_buckets_, "tern_byte_buckets") != nullptr; }

 private:
  // What waits in the defer queue for every worker to pass a quiescent state.
  struct Retired {
    enum Kind : uint32_t { slot, inline_channel, pooled_channel, pooled_channel6 } kind;
    uint32_t a;           // slot, inline_channel: AllocId; pooled_channel(6): pool index
    uint32_t b;           // inline_channel: entry index
    uint32_t generation;  // the slot's generation when retired
  };
  struct Overflow {
    std::vector<uint32_t> permissions;                     // peer IPs in the overflow hash
    std::vector<std::pair<uint16_t, uint32_t>> channels;   // channel -> pool index
    std::vector<Ip6> permissions6;                         // an IPv6 allocation's, all hashed
    std::vector<std::pair<uint16_t, uint32_t>> channels6;  // channel -> IPv6 pool index
    bool empty() const {
      return permissions.empty() && channels.empty() && permissions6.empty() && channels6.empty();
    }
  };

  RcuTableWriter(Tables& tables, rte_rcu_qsbr* rcu);
  static void free_retired(void* self, void* elements, unsigned int n);
  void release(const Retired& r);
  void retire(const Retired& r);
  bool published(AllocId id) const;
  bool index_client(AllocId id, bool add);
  RateBuckets* make_buckets(std::atomic<RateBuckets*>& array, const char* name);
  void drop_overflow(AllocId id);
  void update_overflow_flags(AllocId id);
  bool relays_ipv6(AllocId id) const {
    return (t_.slots_[slot_index(id)].flags.load(std::memory_order_relaxed) & kRelayIpv6) != 0;
  }
  WriteResult set_permission6(AllocId id, const Ip6& peer, TableTime expires);
  WriteResult remove_permission6(AllocId id, const Ip6& peer);
  WriteResult set_channel6(AllocId id, uint16_t channel, const Ip6& peer, uint16_t peer_port,
                           TableTime expires);
  WriteResult remove_channel6(AllocId id, uint16_t channel);
  void unhash_channel(AllocId id, uint16_t channel, uint32_t index);
  void retire_pooled_channel(uint32_t index);
  void unhash_channel6(AllocId id, uint16_t channel, uint32_t index);

  Tables& t_;
  rte_rcu_qsbr* rcu_;
  rte_rcu_qsbr_dq* dq_ = nullptr;
  std::vector<uint32_t> generation_;        // per slot, bumped when the slot is removed
  std::vector<uint8_t> channel_pending_;    // per slot: inline channel entries awaiting grace
  std::vector<uint8_t> in_use_;             // per slot: published and not yet removed
  std::vector<uint32_t> free_pool_;         // free overflow channel entries
  std::vector<uint32_t> free_pool6_;        // free IPv6 channel entries
  std::unordered_map<AllocId, Overflow> overflow_;
  std::vector<AllocId> reclaimed_;
};

}  // namespace tern::dp
