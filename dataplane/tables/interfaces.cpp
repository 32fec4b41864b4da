#include "dataplane/tables/interfaces.hpp"

#include <rte_byteorder.h>

namespace tern::dp {
namespace {

uint32_t be_mask(uint8_t length) {
  return rte_cpu_to_be_32(length == 0 ? 0 : ~uint32_t{0} << (32 - length));
}

}  // namespace

std::optional<Interfaces> Interfaces::create(const InterfacesConfig& config, std::string& error) {
  Interfaces out;
  if (config.ports.empty() || config.ports.size() > kMaxPorts) {
    error = "the data plane needs between 1 and " + std::to_string(kMaxPorts) + " ports";
    return std::nullopt;
  }
  for (const PortConfig& pc : config.ports) {
    PortView& v = out.ports_[out.port_count_++];
    v.port_id = pc.port_id;
    v.mac = pc.mac;
    v.tx_checksum_offload = pc.tx_checksum_offload;
    const std::string name = "port " + std::to_string(pc.port_id);
    if (pc.addresses.empty()) {
      error = name + ": an address is needed";
      return std::nullopt;
    }
    for (const InterfaceAddress& a : pc.addresses) {
      if (a.ip.is_v6()) {
        if (!out.add_address6(v, a, name, error)) return std::nullopt;
        continue;
      }
      if (v.address_count == kMaxPortAddresses) {
        error = name + ": at most " + std::to_string(kMaxPortAddresses) + " IPv4 addresses";
        return std::nullopt;
      }
      if (a.length == 0 || a.length > 32) {
        error = name + ": " + a.to_string() + ": subnet length must be 1..32";
        return std::nullopt;
      }
      const uint32_t ip = ipv4_be(a.ip);
      if (out.is_local(ip)) {
        error = name + ": " + a.ip.to_string() + " is configured twice";
        return std::nullopt;
      }
      const uint32_t mask = be_mask(a.length);
      v.addresses[v.address_count++] = {ip, mask};
      out.local_[out.local_count_++] = ip;
      out.local_filter_ |= uint64_t{1} << filter_bit(ip);
      bool known_subnet = false;
      for (unsigned i = 0; i < out.subnet_count_; ++i) {
        const Subnet& n = out.subnets_[i];
        known_subnet |= n.address.mask == mask && ((n.address.ip ^ ip) & mask) == 0;
      }
      if (!known_subnet) out.subnets_[out.subnet_count_++] = {{ip & mask, mask}, out.port_count_ - 1};
    }
    if (pc.gateway6 && !out.add_gateway6(v, *pc.gateway6, name, error)) return std::nullopt;
    if (pc.gateway) {
      if (!pc.gateway->is_v4()) {
        error = name + ": gateway " + pc.gateway->to_string() + ": IPv4 only";
        return std::nullopt;
      }
      const uint32_t gw = ipv4_be(*pc.gateway);
      bool on_link = false;
      for (unsigned i = 0; i < v.address_count; ++i)
        on_link |= ((gw ^ v.addresses[i].ip) & v.addresses[i].mask) == 0;
      if (!on_link || out.is_local(gw)) {
        error = name + ": gateway " + pc.gateway->to_string() +
                " must be another host inside one of the port's subnets";
        return std::nullopt;
      }
      v.gateway = gw;
      if (out.default_route_.port == kNoPort)
        out.default_route_ = {out.port_count_ - 1, gw};
    }
  }
  if (config.listeners.size() > kMaxListeners || config.stream_listeners.size() > kMaxListeners ||
      config.listeners.size() + config.stream_listeners.size() == 0) {
    error = "between 1 and " + std::to_string(kMaxListeners) + " UDP listeners, and at most as many TCP and TLS "
            "listeners, are needed";
    return std::nullopt;
  }
  for (const TransportAddress& l : config.listeners)
    if (!out.udp_.add(out, l, error)) return std::nullopt;
  for (const TransportAddress& l : config.stream_listeners)
    if (!out.stream_.add(out, l, error)) return std::nullopt;
  return out;
}

bool Interfaces::Listeners::add(const Interfaces& interfaces, const TransportAddress& l, std::string& error) {
  if (l.ip.is_v6()) {
    const Ip6 ip = Ip6::of(l.ip);
    if (!ip.zero() && !interfaces.is_local(ip)) {
      error = "listener " + l.to_string() + " is not on an address of a data-plane port";
      return false;
    }
    v6[count6++] = {ip, rte_cpu_to_be_16(l.port.value)};
    return true;
  }
  const uint32_t ip = ipv4_be(l.ip);
  if (ip != 0 && !interfaces.is_local(ip)) {
    error = "listener " + l.to_string() + " is not on an address of a data-plane port";
    return false;
  }
  v4[count++] = {ip, rte_cpu_to_be_16(l.port.value)};
  return true;
}

bool Interfaces::add_address6(PortView& v, const InterfaceAddress& a, const std::string& name,
                              std::string& error) {
  if (v.address6_count == kMaxPortAddresses) {
    error = name + ": at most " + std::to_string(kMaxPortAddresses) + " IPv6 addresses";
    return false;
  }
  const Ip6 ip = Ip6::of(a.ip);
  if (a.length == 0 || a.length > 128 || ip.zero() || ip.multicast()) {
    error = name + ": " + a.to_string() + ": a unicast address with a subnet length of 1..128 is needed";
    return false;
  }
  if (is_local(ip)) {
    error = name + ": " + a.ip.to_string() + " is configured twice";
    return false;
  }
  const Ip6 mask = Ip6::mask_of(a.length);
  v.addresses6[v.address6_count++] = {ip, mask};
  local6_[local6_count_++] = ip;
  local6_filter_ |= uint64_t{1} << filter_bit(ip);
  const Ip6 network = ip.masked(mask);
  for (unsigned i = 0; i < subnet6_count_; ++i)
    if (subnets6_[i].address.mask == mask && subnets6_[i].address.ip == network) return true;
  subnets6_[subnet6_count_++] = {{network, mask}, port_count_ - 1};
  return true;
}

// RFC 4861 §8.3 / RFC 4291 §2.5.6: routers usually speak from their link-local address, which is
// on-link on every port; any other gateway must be inside one of the port's subnets.
bool Interfaces::add_gateway6(PortView& v, const IpAddress& gateway, const std::string& name,
                              std::string& error) {
  const Ip6 gw = gateway.is_v6() ? Ip6::of(gateway) : Ip6{};
  bool on_link = gw.link_local();
  for (unsigned i = 0; i < v.address6_count; ++i)
    on_link |= gw.same_subnet(v.addresses6[i].ip, v.addresses6[i].mask);
  if (!gateway.is_v6() || !on_link || is_local(gw) || gw.multicast() || v.address6_count == 0) {
    error = name + ": IPv6 gateway " + gateway.to_string() +
            " must be another host, link-local or inside one of the port's IPv6 subnets";
    return false;
  }
  v.gateway6 = gw;
  if (default_route6_.port == kNoPort) default_route6_ = {port_count_ - 1, gw};
  return true;
}

}  // namespace tern::dp
