#pragma once
// RESERVATION-TOKEN (RFC 8656 §7.2): an Allocate with EVEN-PORT and the R bit takes an even port N
// and reserves N+1 on the same address for a later Allocate, which names it by an 8-byte token.
// "The server MUST hold this reservation for at least 30 seconds"; tern holds it exactly that long.
// "the reservation is a server-wide reservation and is not specific to a particular allocation":
// any 5-tuple may claim it. Tokens are random, so one client cannot guess another's.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

#include "control/allocations/port_pool.hpp"
#include "control/base/random.hpp"
#include "control/stun/turn_attributes.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

inline constexpr uint32_t kReservationLifetime = 30;

class Reservations {
 public:
  explicit Reservations(RandomSource& random) : random_(random) {}

  stun::ReservationToken add(PortLease lease, dp::TableTime now);
  // The port a live reservation holds, without claiming it (RFC 8656 §7.2 step 5 checks the token
  // before anything is taken); nullopt when the token is unknown or has expired.
  std::optional<PortLease> peek(const stun::ReservationToken& token, dp::TableTime now) const;
  // Claims a live reservation: its port, now the caller's. nullopt when the token is unknown or has
  // expired.
  std::optional<PortLease> take(const stun::ReservationToken& token, dp::TableTime now);
  // Drops expired reservations and calls release(PortLease) for each.
  template <typename Release>
  size_t expire(dp::TableTime now, Release&& release) {
    size_t n = 0;
    while (!order_.empty() && order_.front().expires <= now) {
      const auto it = live_.find(order_.front().token);
      if (it != live_.end() && it->second.expires == order_.front().expires) {
        release(it->second.lease);
        live_.erase(it);
        ++n;
      }
      order_.pop_front();
    }
    return n;
  }
  // Drops every reservation, calling release for each.
  template <typename Release>
  void clear(Release&& release) {
    for (const auto& [token, r] : live_) release(r.lease);
    live_.clear();
    order_.clear();
  }
  size_t size() const { return live_.size(); }

 private:
  struct Reservation {
    PortLease lease;
    dp::TableTime expires = 0;
  };
  struct Pending {
    uint64_t token = 0;
    dp::TableTime expires = 0;
  };
  RandomSource& random_;
  std::unordered_map<uint64_t, Reservation> live_;
  std::deque<Pending> order_;  // in expiry order: every reservation lives as long
};

}  // namespace tern::ctl
