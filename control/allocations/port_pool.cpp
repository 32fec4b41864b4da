#include "control/allocations/port_pool.hpp"

namespace tern::ctl {

PortPool::PortPool(std::vector<IpAddress> addresses, conf::PortRange range, RandomSource& random)
    : range_(range), random_(random) {
  for (const auto& ip : addresses) {
    Address a;
    a.ip = ip;
    a.free.reserve(range.size());
    a.position.resize(range.size());
    for (uint32_t i = 0; i < range.size(); ++i) {
      a.position[i] = i;
      a.free.push_back(static_cast<uint16_t>(range.min.value + i));
    }
    addresses_.push_back(std::move(a));
  }
}

bool PortPool::has_family(Family family) const {
  for (const auto& a : addresses_)
    if (a.ip.family() == family) return true;
  return false;
}

bool PortPool::free_at(const Address& a, uint32_t port) const {
  if (port < range_.min.value || port > range_.max.value) return false;
  return a.position[port - range_.min.value] != kTaken;
}

void PortPool::remove(Address& a, uint16_t port) {
  const uint32_t offset = port - range_.min.value;
  const uint32_t at = a.position[offset];
  const uint16_t last = a.free.back();
  a.free[at] = last;
  a.position[last - range_.min.value] = at;
  a.free.pop_back();
  a.position[offset] = kTaken;
}

std::optional<uint16_t> PortPool::find_even(Address& a, bool pair) {
  auto fits = [&](uint32_t n) { return n % 2 == 0 && free_at(a, n) && (!pair || free_at(a, n + 1)); };
  for (int probe = 0; probe < 32 && !a.free.empty(); ++probe) {
    const uint32_t p = a.free[random_.uniform(static_cast<uint32_t>(a.free.size()))];
    const uint32_t n = p % 2 == 0 ? p : p - 1;
    if (fits(n)) return static_cast<uint16_t>(n);
  }
  const uint32_t size = range_.size();
  if (size == 0) return std::nullopt;
  const uint32_t start = random_.uniform(size);
  for (uint32_t i = 0; i < size; ++i) {
    const uint32_t n = range_.min.value + (start + i) % size;
    if (fits(n)) return static_cast<uint16_t>(n);
  }
  return std::nullopt;
}

std::optional<PortLease> PortPool::acquire(Family family, bool even, bool pair) {
  const size_t total = free_count(family);
  if (total == 0) return std::nullopt;
  // Uniform over every free (address, port) of the family: pick the address by its share.
  uint32_t pick = random_.uniform(static_cast<uint32_t>(total));
  size_t first = 0;
  for (size_t i = 0; i < addresses_.size(); ++i) {
    const auto& a = addresses_[i];
    if (a.ip.family() != family) continue;
    if (pick < a.free.size()) {
      first = i;
      break;
    }
    pick -= static_cast<uint32_t>(a.free.size());
  }
  if (!even) {
    Address& a = addresses_[first];
    const uint16_t port = a.free[pick];
    remove(a, port);
    return PortLease{static_cast<uint16_t>(first), Port{port}};
  }
  // EVEN-PORT: the chosen address first, then the others of the family.
  for (size_t k = 0; k < addresses_.size(); ++k) {
    const size_t i = (first + k) % addresses_.size();
    Address& a = addresses_[i];
    if (a.ip.family() != family) continue;
    if (const auto n = find_even(a, pair)) {
      remove(a, *n);
      if (pair) remove(a, static_cast<uint16_t>(*n + 1));
      return PortLease{static_cast<uint16_t>(i), Port{*n}};
    }
  }
  return std::nullopt;
}

bool PortPool::take(PortLease lease) {
  if (lease.address >= addresses_.size() || !free_at(addresses_[lease.address], lease.port.value)) return false;
  remove(addresses_[lease.address], lease.port.value);
  return true;
}

void PortPool::release(PortLease lease) {
  if (lease.address >= addresses_.size()) return;
  Address& a = addresses_[lease.address];
  const uint32_t port = lease.port.value;
  if (port < range_.min.value || port > range_.max.value || free_at(a, port)) return;
  a.position[port - range_.min.value] = static_cast<uint32_t>(a.free.size());
  a.free.push_back(static_cast<uint16_t>(port));
}

bool PortPool::is_free(PortLease lease) const {
  return lease.address < addresses_.size() && free_at(addresses_[lease.address], lease.port.value);
}

size_t PortPool::free_count() const {
  size_t n = 0;
  for (const auto& a : addresses_) n += a.free.size();
  return n;
}

size_t PortPool::free_count(Family family) const {
  size_t n = 0;
  for (const auto& a : addresses_)
    if (a.ip.family() == family) n += a.free.size();
  return n;
}

}  // namespace tern::ctl
