#include "control/allocations/reservations.hpp"

namespace tern::ctl {
namespace {

uint64_t to_word(const stun::ReservationToken& token) {
  uint64_t w = 0;
  for (const uint8_t b : token.bytes) w = (w << 8) | b;
  return w;
}

stun::ReservationToken to_token(uint64_t w) {
  stun::ReservationToken token;
  for (size_t i = 0; i < token.bytes.size(); ++i) token.bytes[i] = static_cast<uint8_t>(w >> (56 - 8 * i));
  return token;
}

}  // namespace

stun::ReservationToken Reservations::add(PortLease lease, dp::TableTime now) {
  uint64_t w = random_.next();
  while (w == 0 || live_.contains(w)) w = random_.next();
  const dp::TableTime expires = now + kReservationLifetime;
  live_.emplace(w, Reservation{lease, expires});
  order_.push_back({w, expires});
  return to_token(w);
}

std::optional<PortLease> Reservations::peek(const stun::ReservationToken& token, dp::TableTime now) const {
  const auto it = live_.find(to_word(token));
  if (it == live_.end() || it->second.expires <= now) return std::nullopt;
  return it->second.lease;
}

std::optional<PortLease> Reservations::take(const stun::ReservationToken& token, dp::TableTime now) {
  const auto it = live_.find(to_word(token));
  if (it == live_.end() || it->second.expires <= now) return std::nullopt;
  const PortLease lease = it->second.lease;
  live_.erase(it);
  return lease;
}

}  // namespace tern::ctl
