#pragma once
// The allocation manager: the control plane's model of every allocation (the shadow state) and the
// only code that writes the data plane's tables, through dp::TableWriter. Every change is made to
// the model and pushed as exactly the table calls it needs (Katran's shadow-state-push-changes),
// so a fake writer in a test sees precisely the expected calls.
//
//   - AllocIds come from a free list over 0 .. capacity-1.
//   - A removed allocation is unpublished at once; its slot and relayed port return to use only
//     when the writer reports the data plane's grace period over (reclaim()).
//   - Expiry is by timestamp: every lookup drops what has expired, and a timer wheel visits each
//     allocation at its next deadline (allocation, permission, channel or channel cooldown).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "control/allocations/allocation.hpp"
#include "control/base/counters.hpp"
#include "control/allocations/expiry_wheel.hpp"
#include "control/allocations/limits.hpp"
#include "control/base/hash.hpp"
#include "control/base/log.hpp"
#include "control/allocations/port_pool.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

enum class RemoveReason : uint8_t {
  deleted,  // the client's Refresh with LIFETIME 0 (RFC 8656 §8.2)
  expired,  // its time-to-expiry ran out
  killed,   // the operator
  connection_closed,  // a TCP or TLS client's connection closed (RFC 8656 §3.1)
};
std::string_view to_string(RemoveReason reason);

// What a CreatePermission or ChannelBind did to the model: refused by a limit (nothing changed,
// the refusal counted), or the tables' verdict.
struct PeerChange {
  dp::WriteResult result = dp::WriteResult::ok;
  std::optional<LimitRefusal> refused;
  bool ok() const { return !refused && result == dp::WriteResult::ok; }
};

class Allocations {
 public:
  Allocations(dp::TableWriter& writer, PortPool& ports, uint32_t capacity, Counters& counters,
              const Logger& logger, AllocationLimits limits = {});

  // ---- lookups; both drop what has expired by `now` first ----
  // The live allocation of a 5-tuple, or nullptr.
  Allocation* find(const dp::FiveTuple& five_tuple, dp::TableTime now);
  // The allocation of a TCP or TLS client's connection, or nullptr.
  Allocation* find(dp::StreamId stream);
  // The live allocation in slot `id`, or nullptr.
  Allocation* find(dp::AllocId id, dp::TableTime now);
  const Allocation* peek(dp::AllocId id) const;
  // Slot `id`'s allocation as the model holds it, expired or not (the operator's kill).
  Allocation* at(dp::AllocId id) { return dp::slot_index(id) < slots_.size() ? slots_[dp::slot_index(id)].get() : nullptr; }

  size_t size() const { return by_five_tuple_.size(); }
  uint32_t capacity() const { return capacity_; }
  bool has_free_slot() const { return !free_slots_.empty(); }
  // Live allocations counted against this quota user.
  uint32_t count_for(std::string_view quota_user) const;
  // Live allocations of clients at this address (its address_key(): an IPv6 client's /64).
  uint32_t count_from(const IpAddress& client) const;

  // ---- changes ----
  struct Added {
    dp::WriteResult result = dp::WriteResult::ok;
    Allocation* allocation = nullptr;  // when ok
  };
  // Publishes `proto` in a free slot (its id, serial and scheduling are filled in here). When the
  // write fails nothing is kept and the lease stays the caller's to release.
  Added add(Allocation proto, dp::TableTime now);
  // RFC 8656 §8.2: sets the time-to-expiry.
  dp::WriteResult refresh(Allocation& a, dp::TableTime expires, dp::TableTime now);
  // Unpublishes and forgets; `a` is gone afterwards.
  void remove(Allocation& a, RemoveReason reason);
  // Connections whose allocation went while they stay open (deleted, expired or killed): the
  // stream transport must stop relaying their data and time them out as connections without one.
  // Swaps them into `out`.
  void take_ended_streams(std::vector<dp::StreamId>& out) { out.swap(ended_streams_); }

  // RFC 8656 §10.2: installs or refreshes a permission for every peer, or for none: when the
  // limits refuse the new ones or one does not fit the tables, the others are put back as they
  // were and the result says why.
  PeerChange install_permissions(Allocation& a, std::span<const IpAddress> peers, dp::TableTime expires,
                                 dp::TableTime now);
  // RFC 8656 §12.2: creates or refreshes the binding and the permission for the peer's address,
  // both or neither, within the limits. The caller has checked the channel rules.
  PeerChange bind_channel(Allocation& a, stun::ChannelNumber number, const TransportAddress& peer,
                          dp::TableTime channel_expires, dp::TableTime permission_expires, dp::TableTime now);
  // Removes the permissions (and channels to them) for peers `keep` refuses; returns how many
  // permissions went.
  template <typename Keep>
  size_t revoke_peers(Keep&& keep) {
    size_t revoked = 0;
    for (auto& a : slots_) {
      if (!a) continue;
      for (size_t i = a->channels.size(); i-- > 0;)
        if (!keep(a->channels[i].peer.ip)) drop_channel(*a, i, false);
      for (size_t i = a->permissions.size(); i-- > 0;)
        if (!keep(a->permissions[i].peer)) {
          drop_permission(*a, i);
          ++revoked;
        }
    }
    return revoked;
  }

  // ---- time ----
  // Stale expiry-wheel entries tolerated beyond twice the live allocations before they are cleared.
  static constexpr size_t kWheelSlack = 16384;
  // Visits every allocation that has something due by `now` and drops what expired.
  void expire(dp::TableTime now);
  // Slots and ports whose grace period ended go back to use; returns how many slots.
  size_t reclaim();
  size_t awaiting_reclaim() const { return reclaiming_.size(); }
  // Expiry-wheel entries held, stale ones included.
  size_t scheduled_entries() const { return wheel_.size(); }

  size_t permission_count() const { return permissions_; }
  size_t channel_count() const { return channels_; }
  // Applies to live allocations from their next request (a reload).
  void set_limits(AllocationLimits limits) { limits_ = limits; }
  const AllocationLimits& limits() const { return limits_; }

  // Every live allocation, in no particular order.
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& a : slots_)
      if (a) f(*a);
  }

 private:
  // Drops expired permissions, channels and cooldowns; false when the allocation itself expired
  // (and is removed).
  bool expire_parts(Allocation& a, dp::TableTime now);
  void drop_permission(Allocation& a, size_t index);
  void drop_channel(Allocation& a, size_t index, bool cool_down, dp::TableTime now = 0);
  void schedule(Allocation& a);
  dp::TableTime next_deadline(const Allocation& a) const;
  void count_write(dp::WriteResult result);
  // Counts and logs a limit's refusal; the PeerChange to return.
  PeerChange refuse(Allocation& a, LimitRefusal refusal, const IpAddress& peer);

  dp::TableWriter& writer_;
  PortPool& ports_;
  uint32_t capacity_;
  Counters& counters_;
  const Logger& logger_;
  AllocationLimits limits_;
  uint64_t next_serial_ = 1;
  std::vector<dp::AllocId> free_slots_;  // a stack: the lowest ids first
  std::vector<std::unique_ptr<Allocation>> slots_;  // by AllocId
  std::unordered_map<dp::FiveTuple, dp::AllocId, FiveTupleHash> by_five_tuple_;
  std::unordered_map<dp::StreamId, dp::AllocId> by_stream_;  // stream clients' allocations
  std::vector<dp::StreamId> ended_streams_;                  // take_ended_streams()
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> per_user_;
  std::unordered_map<IpAddress, uint32_t, IpAddressHash> per_address_;  // by address_key()
  std::unordered_map<dp::AllocId, PortLease> reclaiming_;  // removed, waiting for the grace period
  ExpiryWheel wheel_;
  std::vector<dp::AllocId> reclaimed_scratch_;
  size_t permissions_ = 0;
  size_t channels_ = 0;
};

}  // namespace tern::ctl
