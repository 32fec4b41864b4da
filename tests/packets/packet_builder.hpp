#pragma once
// Builds the exact bytes of test frames: Ethernet / IPv4 or IPv6 / UDP (or ICMP, ICMPv6, ARP) around STUN,
// ChannelData or raw payloads. Everything is computed from scratch here (checksums by plain
// RFC 1071 summing, FINGERPRINT by zlib's CRC-32), independently of the data plane's own code, so
// a golden test that compares the worker's output with a builder's frame checks both.
//
// Addresses are text ("10.90.0.1", "2001:db8::1"), ports host order; the bytes come out in
// network order.

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tern::test {

using Bytes = std::vector<uint8_t>;
using TransactionId = std::array<uint8_t, 12>;

struct Mac {
  std::array<uint8_t, 6> bytes{};
  static Mac of(std::string_view text);  // "02:00:00:00:00:01"
  uint64_t word() const;                 // tern::dp::MacWord
};

uint32_t ip_be(std::string_view dotted);  // network order
std::array<uint8_t, 16> ip6_bytes(std::string_view text);
Bytes text(std::string_view s);
Bytes pattern(size_t n, uint8_t first = 0);  // n bytes: first, first+1, ...

// RFC 1071 checksum over bytes, complemented (0 stays 0: callers apply RFC 768's rule).
uint16_t internet_checksum(const Bytes& data, uint32_t initial = 0);

class PacketBuilder {
 public:
  PacketBuilder& ether(const Mac& src, const Mac& dst, uint16_t ether_type = 0x0800);
  PacketBuilder& ipv4(std::string_view src, std::string_view dst);
  // IPv6 (ether type 0x86dd): tos() is the traffic class, ttl() the hop limit.
  PacketBuilder& ipv6(std::string_view src, std::string_view dst);
  PacketBuilder& flow_label(uint32_t v) { flow_label_ = v; return *this; }
  PacketBuilder& payload_length(uint16_t v) { total_length_ = v; return *this; }  // IPv6: overrides
  PacketBuilder& next_header(uint8_t v) { protocol_ = v; return *this; }  // IPv6: raw, with payload()
  // ICMPv6 (RFC 4443): type, code, then the payload as the message body (checksummed).
  PacketBuilder& icmp6(uint8_t type, uint8_t code);
  PacketBuilder& tos(uint8_t v) { tos_ = v; return *this; }
  PacketBuilder& ttl(uint8_t v) { ttl_ = v; return *this; }
  PacketBuilder& df(bool v = true) { df_ = v; return *this; }
  PacketBuilder& id(uint16_t v) { id_ = v; return *this; }
  PacketBuilder& fragment_field(uint16_t v) { fragment_ = v; return *this; }  // raw flags+offset
  PacketBuilder& protocol(uint8_t v) { protocol_ = v; return *this; }
  PacketBuilder& ip_options(Bytes v) { options_ = std::move(v); return *this; }
  PacketBuilder& ip_checksum(uint16_t v) { ip_checksum_ = v; return *this; }  // overrides
  PacketBuilder& ip_total_length(uint16_t v) { total_length_ = v; return *this; }  // overrides
  PacketBuilder& udp(uint16_t src_port, uint16_t dst_port);
  PacketBuilder& udp_checksum(uint16_t v) { udp_checksum_ = v; return *this; }  // 0 = none
  PacketBuilder& udp_length(uint16_t v) { udp_length_ = v; return *this; }      // overrides
  PacketBuilder& icmp(uint8_t type, uint8_t code, uint16_t ident, uint16_t sequence);
  PacketBuilder& arp(uint16_t op, const Mac& sha, std::string_view spa, const Mac& tha,
                     std::string_view tpa);
  PacketBuilder& payload(Bytes v) { payload_ = std::move(v); return *this; }
  PacketBuilder& trailer(Bytes v) { trailer_ = std::move(v); return *this; }  // after the datagram

  Bytes bytes() const;
  rte_mbuf* mbuf(rte_mempool* pool) const;

 private:
  enum class L4 { none, udp, icmp, icmp6, arp } l4_ = L4::none;
  bool ipv6_ = false;
  std::array<uint8_t, 16> src6_{}, dst6_{};
  uint32_t flow_label_ = 0;
  Mac src_mac_, dst_mac_;
  uint16_t ether_type_ = 0x0800;
  uint32_t src_ip_ = 0, dst_ip_ = 0;
  uint8_t tos_ = 0, ttl_ = 64, protocol_ = 17;
  bool df_ = false;
  uint16_t id_ = 0;
  uint16_t fragment_ = 0xffff;  // 0xffff: from df_
  Bytes options_;
  std::optional<uint16_t> ip_checksum_, total_length_, udp_checksum_, udp_length_;
  uint16_t src_port_ = 0, dst_port_ = 0;
  uint8_t icmp_type_ = 0, icmp_code_ = 0;
  uint16_t icmp_ident_ = 0, icmp_sequence_ = 0;
  uint16_t arp_op_ = 0;
  Mac arp_sha_, arp_tha_;
  uint32_t arp_spa_ = 0, arp_tpa_ = 0;
  Bytes payload_;
  Bytes trailer_;
};

// A STUN message (RFC 8489 §5, §14), attributes in the order added.
class StunBuilder {
 public:
  StunBuilder(uint16_t type, const TransactionId& id);
  StunBuilder& attribute(uint16_t type, const Bytes& value, uint8_t padding_byte = 0);
  // IPv4 or IPv6 (RFC 8489 §14.2: an IPv6 address is XORed with the cookie and transaction ID).
  StunBuilder& xor_address(uint16_t type, std::string_view ip, uint16_t port);
  StunBuilder& fingerprint();  // computed over what is there, length already counting it
  Bytes bytes() const { return message_; }

 private:
  void set_length();
  Bytes message_;
};

TransactionId transaction_id(uint8_t seed);

// RFC 8656 §12.4: ChannelData; `padding` follows the data (over UDP it is optional).
Bytes channel_data(uint16_t channel, const Bytes& data, const Bytes& padding = {});

// RFC 9293 §3.1: a 20-byte TCP header with SYN set (the exception path's input).
Bytes tcp_syn(uint16_t src_port, uint16_t dst_port);

}  // namespace tern::test
