#include "bench/mix.hpp"

#include <rte_ip.h>

#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "dataplane/wire/stun.hpp"

namespace tern::bench {
namespace {

using dp::AllocId;
using dp::be16;
using Bytes = std::vector<uint8_t>;

constexpr uint32_t host_ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}
constexpr uint32_t kListener = host_ip(10, 90, 2, 0);  // also the first relayed address
constexpr uint16_t kListenerPort = 3478;
constexpr uint32_t kGateway = host_ip(10, 90, 255, 254);
constexpr uint32_t kBoundPeer = host_ip(192, 0, 2, 50);      // channel 0x4000
constexpr uint32_t kPermittedPeer = host_ip(192, 0, 2, 51);  // permission, no channel
constexpr uint16_t kPeerPort = 7000;
constexpr uint16_t kClientPort = 40000;
constexpr uint8_t kPrefix = 16;
constexpr uint16_t kMinSendFrame = dp::kUdpHeadersLen + dp::stun_wire::kHeaderLen +
                                   dp::stun_wire::kXorAddressAttributeLen + dp::stun_wire::kAttributeHeaderLen + 4;

uint32_t client_ip(uint32_t id) { return host_ip(11, 0, 0, 0) + id; }
uint32_t relay_ip(unsigned index) { return host_ip(10, 90, 2, static_cast<uint8_t>(index)); }
uint32_t relay_ip_of(uint32_t id) { return relay_ip(id / kRelayPortsPerAddress); }
uint16_t relay_port_of(uint32_t id) {
  const uint32_t port = kFirstRelayPort + id % kRelayPortsPerAddress;
  return static_cast<uint16_t>(port >= kListenerPort ? port + 1 : port);
}

// Ethernet + IPv4 + UDP around a payload, checksums filled in, from the gateway to our port.
Bytes udp_frame(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const Bytes& payload) {
  Bytes f(dp::kUdpHeadersLen + payload.size());
  if (f.data() == nullptr) return f;  // never: the headers alone are 42 bytes (for GCC's -O3 bounds checks)
  dp::write_ether(f.data(), kPcapPortMac, kGatewayMac, dp::kEtherTypeIpv4);
  dp::Ipv4Fields ip;
  ip.src = rte_cpu_to_be_32(src);
  ip.dst = rte_cpu_to_be_32(dst);
  ip.total_length = rte_cpu_to_be_16(static_cast<uint16_t>(dp::kIpv4Len + dp::kUdpLen + payload.size()));
  ip.ttl = 60;
  auto* iph = dp::ipv4(f.data());
  dp::write_ipv4(iph, ip);
  iph->hdr_checksum = dp::ipv4_checksum(ip);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(f.data() + dp::kEtherLen + dp::kIpv4Len);
  dp::write_udp(udp, rte_cpu_to_be_16(sport), rte_cpu_to_be_16(dport),
                rte_cpu_to_be_16(static_cast<uint16_t>(dp::kUdpLen + payload.size())));
  std::copy(payload.begin(), payload.end(), f.begin() + dp::kUdpHeadersLen);
  udp->dgram_cksum = rte_ipv4_udptcp_cksum(iph, udp);
  return f;
}

Bytes application_data(size_t len, std::mt19937_64& rng) {
  Bytes d(len);
  for (auto& b : d) b = static_cast<uint8_t>(rng());
  return d;
}

// RFC 8656 §12.4
Bytes channel_data(uint16_t frame_len, std::mt19937_64& rng) {
  const size_t len = frame_len - dp::kUdpHeadersLen - dp::stun_wire::kChannelDataHeaderLen;
  Bytes cd = application_data(dp::stun_wire::kChannelDataHeaderLen + len, rng);
  dp::stun_wire::store16(cd.data(), kChannel);
  dp::stun_wire::store16(cd.data() + 2, static_cast<uint16_t>(len));
  return cd;
}

// RFC 8656 §10.1: Send indication with XOR-PEER-ADDRESS and DATA.
Bytes send_indication(uint16_t frame_len, std::mt19937_64& rng) {
  namespace stun_wire = dp::stun_wire;
  const uint16_t fixed = stun_wire::kHeaderLen + stun_wire::kXorAddressAttributeLen + stun_wire::kAttributeHeaderLen;
  const uint16_t room = static_cast<uint16_t>(std::max(frame_len, kMinSendFrame) - dp::kUdpHeadersLen - fixed);
  const uint16_t data_len = static_cast<uint16_t>(room & ~3);  // padded to 4: no padding bytes
  Bytes m = application_data(fixed + data_len, rng);
  stun_wire::store16(m.data(), stun_wire::kSendIndication);
  stun_wire::store16(m.data() + 2, static_cast<uint16_t>(m.size() - stun_wire::kHeaderLen));
  stun_wire::store32_raw(m.data() + 4, stun_wire::kMagicCookieBe);
  stun_wire::write_xor_address(m.data() + stun_wire::kHeaderLen, stun::AttributeType::xor_peer_address,
                          rte_cpu_to_be_32(kBoundPeer), rte_cpu_to_be_16(kPeerPort));
  uint8_t* data = m.data() + stun_wire::kHeaderLen + stun_wire::kXorAddressAttributeLen;
  stun_wire::store16(data, stun::AttributeType::data);
  stun_wire::store16(data + 2, data_len);
  return m;
}

// RFC 826: who has 10.90.1.1? tell 10.90.255.254 — teaches the data plane the gateway's MAC.
Bytes gateway_arp() {
  Bytes f(dp::kEtherLen + dp::kArpLen);
  dp::write_ether(f.data(), dp::kBroadcastMac, kGatewayMac, dp::kEtherTypeArp);
  rte_arp_hdr* a = dp::arp(f.data());
  a->arp_hardware = be16(RTE_ARP_HRD_ETHER);
  a->arp_protocol = dp::kEtherTypeIpv4;
  a->arp_hlen = RTE_ETHER_ADDR_LEN;
  a->arp_plen = 4;
  a->arp_opcode = be16(RTE_ARP_OP_REQUEST);
  dp::store_mac(a->arp_data.arp_sha.addr_bytes, kGatewayMac);
  a->arp_data.arp_sip = rte_cpu_to_be_32(kGateway);
  dp::store_mac(a->arp_data.arp_tha.addr_bytes, 0);
  a->arp_data.arp_tip = rte_cpu_to_be_32(kListener);
  return f;
}

struct PcapFile {
  std::FILE* f = nullptr;
  ~PcapFile() {
    if (f != nullptr) std::fclose(f);
  }
};

// libpcap's file format: a global header, then a record header before each frame.
bool put_header(std::FILE* f) {
  const uint32_t magic = 0xa1b2c3d4;  // microsecond timestamps, native byte order
  const uint16_t major = 2, minor = 4;
  const int32_t zone = 0;
  const uint32_t sigfigs = 0, snaplen = 65535, linktype = 1;  // LINKTYPE_ETHERNET
  return std::fwrite(&magic, 4, 1, f) == 1 && std::fwrite(&major, 2, 1, f) == 1 &&
         std::fwrite(&minor, 2, 1, f) == 1 && std::fwrite(&zone, 4, 1, f) == 1 &&
         std::fwrite(&sigfigs, 4, 1, f) == 1 && std::fwrite(&snaplen, 4, 1, f) == 1 &&
         std::fwrite(&linktype, 4, 1, f) == 1;
}

bool put_frame(std::FILE* f, const Bytes& frame, uint32_t index) {
  const uint32_t record[4] = {1'700'000'000u + index / 1'000'000u, index % 1'000'000u,
                              static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size())};
  return std::fwrite(record, sizeof(record), 1, f) == 1 &&
         std::fwrite(frame.data(), frame.size(), 1, f) == 1;
}

}  // namespace

unsigned relay_addresses_for(uint32_t allocations) {
  return std::max(1u, (allocations + kRelayPortsPerAddress - 1) / kRelayPortsPerAddress);
}

bool write_pcap(const MixConfig& config, const std::string& path, MixCounts& counts,
                std::string& error) {
  if (config.allocations == 0 || relay_addresses_for(config.allocations) > 16) {
    error = "allocations must be between 1 and " + std::to_string(16 * kRelayPortsPerAddress);
    return false;
  }
  if (config.frame_len < dp::kUdpHeadersLen + dp::stun_wire::kChannelDataHeaderLen + 4 ||
      config.frame_len > 1514 || config.indication_percent > 100) {
    error = "frame length must be 50 to 1514 bytes, indications 0 to 100 percent";
    return false;
  }
  PcapFile out{std::fopen(path.c_str(), "wb")};
  if (out.f == nullptr || !put_header(out.f)) {
    error = "cannot write " + path;
    return false;
  }
  std::mt19937_64 rng(config.seed);
  std::uniform_int_distribution<uint32_t> pick(0, config.allocations - 1);
  std::uniform_int_distribution<unsigned> percent(0, 9999);  // hundredths of a percent
  const unsigned indication_half = config.indication_percent * 50;  // per direction, in 1/100 %
  counts = {};
  bool ok = put_frame(out.f, gateway_arp(), 0);
  ++counts.arp;
  const uint16_t payload_len = static_cast<uint16_t>(config.frame_len - dp::kUdpHeadersLen);
  for (uint32_t i = 1; ok && i < config.packets; ++i) {
    const uint32_t id = pick(rng);
    const unsigned r = percent(rng);
    Bytes frame;
    if (r < indication_half) {
      frame = udp_frame(client_ip(id), kClientPort, kListener, kListenerPort,
                        send_indication(config.frame_len, rng));
      ++counts.send_to_peer;
    } else if (r < 5000) {
      frame = udp_frame(client_ip(id), kClientPort, kListener, kListenerPort,
                        channel_data(config.frame_len, rng));
      ++counts.channel_data_to_peer;
    } else if (r < 5000 + indication_half) {
      frame = udp_frame(kPermittedPeer, kPeerPort, relay_ip_of(id), relay_port_of(id),
                        application_data(payload_len, rng));
      ++counts.data_indication_to_client;
    } else {
      frame = udp_frame(kBoundPeer, kPeerPort, relay_ip_of(id), relay_port_of(id),
                        application_data(payload_len, rng));
      ++counts.channel_data_to_client;
    }
    ok = put_frame(out.f, frame, i);
  }
  if (!ok || std::fflush(out.f) != 0) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

dp::RuntimeConfig runtime_config(uint32_t allocations, const std::string& device,
                                 std::vector<std::string> eal, uint32_t mbufs) {
  dp::RuntimeConfig c;
  c.eal = std::move(eal);
  dp::RuntimePort port;
  port.device = device;
  const unsigned relays = relay_addresses_for(allocations);
  for (unsigned r = 0; r < relays; ++r) {
    port.addresses.push_back({IpAddress::v4(relay_ip(r)), kPrefix});
    c.relay_addresses.push_back(IpAddress::v4(relay_ip(r)));
  }
  port.gateway = IpAddress::v4(kGateway);
  c.ports.push_back(std::move(port));
  c.listeners.push_back({IpAddress::v4(kListener), Port{kListenerPort}});
  c.table_size = allocations;
  c.mbufs = mbufs;
  return c;
}

bool publish(dp::TableWriter& writer, uint32_t allocations, dp::TableTime expires,
             std::string& error) {
  const TransportAddress bound{IpAddress::v4(kBoundPeer), Port{kPeerPort}};
  for (uint32_t id = 0; id < allocations; ++id) {
    dp::AllocationEntry e;
    e.five_tuple.client = {IpAddress::v4(client_ip(id)), Port{kClientPort}};
    e.five_tuple.server = {IpAddress::v4(kListener), Port{kListenerPort}};
    e.relayed = {IpAddress::v4(relay_ip_of(id)), Port{relay_port_of(id)}};
    e.expires = expires;
    if (writer.add_allocation(AllocId{id}, e) != dp::WriteResult::ok ||
        writer.set_permission(AllocId{id}, bound.ip, expires) != dp::WriteResult::ok ||
        writer.set_permission(AllocId{id}, IpAddress::v4(kPermittedPeer), expires) != dp::WriteResult::ok ||
        writer.set_channel(AllocId{id}, kChannel, bound, expires) != dp::WriteResult::ok) {
      error = "the tables refused allocation " + std::to_string(id);
      return false;
    }
  }
  return true;
}

}  // namespace tern::bench
