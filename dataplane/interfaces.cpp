#include "dataplane/interfaces.hpp"

#include <rte_byteorder.h>

namespace tern::dp {
namespace {

uint32_t be_ip(const IpAddress& ip) { return rte_cpu_to_be_32(ip.v4_host_order()); }
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
    if (pc.addresses.empty() || pc.addresses.size() > kMaxPortAddresses) {
      error = name + ": between 1 and " + std::to_string(kMaxPortAddresses) + " addresses needed";
      return std::nullopt;
    }
    for (const InterfaceAddress& a : pc.addresses) {
      if (!a.ip.is_v4()) {
        error = name + ": " + a.to_string() + ": the data plane relays IPv4 only";
        return std::nullopt;
      }
      if (a.length == 0 || a.length > 32) {
        error = name + ": " + a.to_string() + ": subnet length must be 1..32";
        return std::nullopt;
      }
      const uint32_t ip = be_ip(a.ip);
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
    if (pc.gateway) {
      if (!pc.gateway->is_v4()) {
        error = name + ": gateway " + pc.gateway->to_string() + ": IPv4 only";
        return std::nullopt;
      }
      const uint32_t gw = be_ip(*pc.gateway);
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
  if (config.listeners.empty() || config.listeners.size() > kMaxListeners) {
    error = "between 1 and " + std::to_string(kMaxListeners) + " UDP listeners are needed";
    return std::nullopt;
  }
  for (const TransportAddress& l : config.listeners) {
    if (!l.ip.is_v4()) {
      error = "listener " + l.to_string() + ": the data plane listens on IPv4 only";
      return std::nullopt;
    }
    const uint32_t ip = be_ip(l.ip);
    if (ip != 0 && !out.is_local(ip)) {
      error = "listener " + l.to_string() + " is not on an address of a data-plane port";
      return std::nullopt;
    }
    out.listeners_[out.listener_count_++] = {ip, rte_cpu_to_be_16(l.port.value)};
  }
  return out;
}

}  // namespace tern::dp
