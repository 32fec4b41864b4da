#pragma once
// What the data plane knows of its own network: per port its MAC address, its IPv4 and IPv6
// addresses with their subnets and its gateways; which addresses:ports are TURN listeners; and
// the next hop towards any destination (on-link: the destination itself; otherwise the gateway of
// the first port that has one for the destination's family). Every method has an IPv4 form (a
// network-order uint32_t) and an IPv6 form (Ip6), so family-generic code reads the same for both.
//
// Built once at setup and never changed while workers run (dp: ro, ctl: ro), so workers read it
// without any synchronisation. Addresses are kept in network order, like the packets.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conf/net.hpp"
#include "dataplane/wire/ip6.hpp"
#include "dataplane/wire/headers.hpp"

namespace tern::dp {

inline constexpr unsigned kMaxPorts = 8;
inline constexpr unsigned kMaxPortAddresses = 16;
inline constexpr unsigned kMaxListeners = 16;
inline constexpr unsigned kNoPort = UINT32_MAX;

// One data-plane port as setup describes it.
struct PortConfig {
  uint16_t port_id = 0;                      // DPDK port id
  MacWord mac = 0;                           // our MAC on that port
  std::vector<InterfaceAddress> addresses;   // IPv4 and IPv6 addresses with their subnet lengths
  std::optional<IpAddress> gateway;          // on-link IPv4 router for everything off-link
  std::optional<IpAddress> gateway6;         // IPv6 router: on-link, or link-local (fe80::/10)
  bool tx_checksum_offload = false;          // the port computes IPv4 and UDP (v4, v6) checksums on TX
};

struct InterfacesConfig {
  std::vector<PortConfig> ports;
  std::vector<TransportAddress> listeners;   // UDP; 0.0.0.0:port ([::]:port) listens on every address
  std::vector<TransportAddress> stream_listeners;  // TCP and TLS: the kernel's, through the exception path
};

struct PortAddress {
  uint32_t ip = 0;    // network order
  uint32_t mask = 0;  // network order
};
struct PortAddress6 {
  Ip6 ip;
  Ip6 mask;
};

struct PortView {
  uint16_t port_id = 0;
  MacWord mac = 0;
  bool tx_checksum_offload = false;
  uint32_t gateway = 0;  // network order; 0 = none
  unsigned address_count = 0;
  PortAddress addresses[kMaxPortAddresses];
  Ip6 gateway6{};        // :: = none
  unsigned address6_count = 0;
  PortAddress6 addresses6[kMaxPortAddresses];
};

// Where a packet to some destination goes: out of port (an index into the ports), to the MAC of
// next_hop (the destination itself when on-link, else a gateway).
struct Route {
  unsigned port = kNoPort;
  uint32_t next_hop = 0;  // network order
};
struct Route6 {
  unsigned port = kNoPort;
  Ip6 next_hop{};
};

class Interfaces {
 public:
  // Checks the setup (at most kMaxPorts ports, listeners on our addresses, each gateway inside one
  // of its port's subnets, or link-local for IPv6); nullopt with a message otherwise.
  static std::optional<Interfaces> create(const InterfacesConfig& config, std::string& error);

  unsigned port_count() const { return port_count_; }
  const PortView& port(unsigned index) const { return ports_[index]; }
  // The index of a DPDK port id, or kNoPort.
  unsigned index_of(uint16_t port_id) const {
    for (unsigned i = 0; i < port_count_; ++i)
      if (ports_[i].port_id == port_id) return i;
    return kNoPort;
  }

  // One of our addresses (on any port)? Asked of every client -> peer packet (hairpin), almost
  // always with "no": a one-word filter answers most of those without the scan.
  bool is_local(uint32_t ip) const {
    if (!((local_filter_ >> filter_bit(ip)) & 1)) return false;
    for (unsigned i = 0; i < local_count_; ++i)
      if (local_[i] == ip) return true;
    return false;
  }
  // An address of this port (ARP answers only for the port's own addresses)?
  bool owns(unsigned port, uint32_t ip) const {
    const PortView& p = ports_[port];
    for (unsigned i = 0; i < p.address_count; ++i)
      if (p.addresses[i].ip == ip) return true;
    return false;
  }
  // A TURN listener (address and port, network order)? The address must be local: a wildcard
  // listener matches any of our addresses.
  bool is_listener(uint32_t ip, uint16_t port) const { return udp_.matches(*this, ip, port); }
  // A TCP or TLS listener (the kernel's, behind the exception path)?
  bool is_stream_listener(uint32_t ip, uint16_t port) const { return stream_.matches(*this, ip, port); }
  bool has_stream_listeners() const { return stream_.count + stream_.count6 > 0; }

  // The next hop towards dst: on-link in one of the ports' subnets (each subnet once, however
  // many of our addresses it holds), else the default gateway.
  Route route(uint32_t dst) const {
    for (unsigned i = 0; i < subnet_count_; ++i)
      if (((dst ^ subnets_[i].address.ip) & subnets_[i].address.mask) == 0)
        return {subnets_[i].port, dst};
    return default_route_;
  }

  // The address to speak from on a port towards an on-link host: the port's address in the
  // host's subnet, else its first address (the first of the family; 0 / :: when it has none).
  uint32_t source_for(unsigned port, uint32_t on_link) const {
    const PortView& v = ports_[port];
    for (unsigned i = 0; i < v.address_count; ++i)
      if (((on_link ^ v.addresses[i].ip) & v.addresses[i].mask) == 0) return v.addresses[i].ip;
    return v.address_count > 0 ? v.addresses[0].ip : 0;
  }

  // ---- IPv6 ----
  bool is_local(const Ip6& ip) const {
    if (!((local6_filter_ >> filter_bit(ip)) & 1)) return false;
    for (unsigned i = 0; i < local6_count_; ++i)
      if (local6_[i] == ip) return true;
    return false;
  }
  bool owns(unsigned port, const Ip6& ip) const {
    const PortView& p = ports_[port];
    for (unsigned i = 0; i < p.address6_count; ++i)
      if (p.addresses6[i].ip == ip) return true;
    return false;
  }
  bool is_listener(const Ip6& ip, uint16_t port) const { return udp_.matches(*this, ip, port); }
  bool is_stream_listener(const Ip6& ip, uint16_t port) const { return stream_.matches(*this, ip, port); }
  Route6 route(const Ip6& dst) const {
    for (unsigned i = 0; i < subnet6_count_; ++i)
      if (dst.same_subnet(subnets6_[i].address.ip, subnets6_[i].address.mask))
        return {subnets6_[i].port, dst};
    return default_route6_;
  }
  Ip6 source_for(unsigned port, const Ip6& on_link) const {
    const PortView& v = ports_[port];
    for (unsigned i = 0; i < v.address6_count; ++i)
      if (on_link.same_subnet(v.addresses6[i].ip, v.addresses6[i].mask)) return v.addresses6[i].ip;
    return v.address6_count > 0 ? v.addresses6[0].ip : Ip6{};
  }
  // A solicited-node multicast address of one of this port's addresses (RFC 4861 §7.2.1)?
  bool solicited_for(unsigned port, const Ip6& multicast) const {
    const PortView& p = ports_[port];
    for (unsigned i = 0; i < p.address6_count; ++i)
      if (p.addresses6[i].ip.solicited_node() == multicast) return true;
    return false;
  }
  bool has_ipv6() const { return local6_count_ > 0; }

 private:
  static unsigned filter_bit(uint32_t ip) { return (ip * 0x9E3779B1u) >> 26; }
  bool add_address6(PortView& v, const InterfaceAddress& a, const std::string& name, std::string& error);
  bool add_gateway6(PortView& v, const IpAddress& gateway, const std::string& name, std::string& error);
  static unsigned filter_bit(const Ip6& ip) { return static_cast<unsigned>(ip.hash() >> 58); }

  struct Subnet {
    PortAddress address;  // network and mask
    unsigned port;
  };
  struct Listener {
    uint32_t ip;    // network order; 0 = every local address
    uint16_t port;  // network order
  };
  struct Listener6 {
    Ip6 ip;         // :: = every local address
    uint16_t port;  // network order
  };
  // The listeners of one kind (UDP, or TCP and TLS), both families.
  struct Listeners {
    Listener v4[kMaxListeners] = {};
    unsigned count = 0;
    Listener6 v6[kMaxListeners];
    unsigned count6 = 0;
    bool add(const Interfaces& interfaces, const TransportAddress& l, std::string& error);
    bool matches(const Interfaces& interfaces, uint32_t ip, uint16_t port) const {
      for (unsigned i = 0; i < count; ++i)
        if (v4[i].port == port && (v4[i].ip == ip || v4[i].ip == 0)) return v4[i].ip != 0 || interfaces.is_local(ip);
      return false;
    }
    bool matches(const Interfaces& interfaces, const Ip6& ip, uint16_t port) const {
      for (unsigned i = 0; i < count6; ++i)
        if (v6[i].port == port && (v6[i].ip == ip || v6[i].ip.zero())) return !v6[i].ip.zero() || interfaces.is_local(ip);
      return false;
    }
  };

  PortView ports_[kMaxPorts];
  unsigned port_count_ = 0;
  uint32_t local_[kMaxPorts * kMaxPortAddresses] = {};
  unsigned local_count_ = 0;
  uint64_t local_filter_ = 0;  // bit filter_bit(ip) set for every local address
  Subnet subnets_[kMaxPorts * kMaxPortAddresses] = {};
  unsigned subnet_count_ = 0;
  Listeners udp_;
  Listeners stream_;
  Route default_route_;

  struct Subnet6 {
    PortAddress6 address;
    unsigned port;
  };
  Ip6 local6_[kMaxPorts * kMaxPortAddresses];
  unsigned local6_count_ = 0;
  uint64_t local6_filter_ = 0;
  Subnet6 subnets6_[kMaxPorts * kMaxPortAddresses];
  unsigned subnet6_count_ = 0;
  Route6 default_route6_;
};

}  // namespace tern::dp
