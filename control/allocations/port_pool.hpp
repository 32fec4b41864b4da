#pragma once
// The relay ports of every relay address (relay.addresses x relay.ports). RFC 8656 §7.2: ports come
// from the configured range (49152-65535 by default), chosen at random — uniformly over every free
// (address, port) of the requested family — never in sequence, because a predictable relayed port
// helps an attacker aim at an allocation before its client uses it (RFC 8656 §21.1.5).
//
// EVEN-PORT asks for an even port; with the R bit, for an even port N whose N+1 on the same address
// is free too, and both are taken (N+1 becomes a reservation).
//
// A port leaves the pool when it is acquired and returns only through release(). The allocation
// manager releases an allocation's port only once the data plane's grace period has passed
// (TableWriter::reclaimed()), so no worker can still relay through it for the old allocation.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "conf/config.hpp"
#include "conf/net.hpp"
#include "control/base/random.hpp"

namespace tern::ctl {

struct PortLease {
  uint16_t address = 0;  // index in the relay addresses
  Port port;
  constexpr auto operator<=>(const PortLease&) const = default;
};

class PortPool {
 public:
  PortPool(std::vector<IpAddress> addresses, conf::PortRange range, RandomSource& random);

  size_t address_count() const { return addresses_.size(); }
  const IpAddress& address(uint16_t index) const { return addresses_[index].ip; }
  bool has_family(Family family) const;
  const conf::PortRange& range() const { return range_; }

  // A free port of a relay address of `family`; nullopt when none satisfies the request.
  // even: the port is even. pair (with even): port+1 is free as well and is taken too.
  std::optional<PortLease> acquire(Family family, bool even = false, bool pair = false);
  // Takes a specific port; false when it is not free.
  bool take(PortLease lease);
  void release(PortLease lease);
  bool is_free(PortLease lease) const;

  size_t free_count() const;
  size_t free_count(Family family) const;

 private:
  static constexpr uint32_t kTaken = UINT32_MAX;
  struct Address {
    IpAddress ip;
    std::vector<uint16_t> free;      // free ports, unordered
    std::vector<uint32_t> position;  // per port offset in the range: index in `free` or kTaken
  };

  bool free_at(const Address& a, uint32_t port) const;
  void remove(Address& a, uint16_t port);
  // An even N (and N+1 when pair) free on `a`: random probes, then a scan from a random offset.
  std::optional<uint16_t> find_even(Address& a, bool pair);

  std::vector<Address> addresses_;
  conf::PortRange range_;
  RandomSource& random_;
};

}  // namespace tern::ctl
