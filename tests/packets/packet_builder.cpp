#include "tests/packets/packet_builder.hpp"

#include <arpa/inet.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tern::test {
namespace {

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void put_raw32(Bytes& b, uint32_t network_order) {
  const auto* p = reinterpret_cast<const uint8_t*>(&network_order);
  b.insert(b.end(), p, p + 4);
}
void put(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
void set16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

}  // namespace

Mac Mac::of(std::string_view text) {
  Mac m;
  unsigned v[6];
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    throw std::invalid_argument("bad MAC " + s);
  for (int i = 0; i < 6; ++i) m.bytes[i] = static_cast<uint8_t>(v[i]);
  return m;
}

uint64_t Mac::word() const {
  uint64_t w = 0;
  std::memcpy(&w, bytes.data(), 6);
  return w;
}

uint32_t ip_be(std::string_view dotted) {
  in_addr a{};
  const std::string s(dotted);
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) throw std::invalid_argument("bad IPv4 " + s);
  return a.s_addr;
}

std::array<uint8_t, 16> ip6_bytes(std::string_view text) {
  std::array<uint8_t, 16> a{};
  const std::string s(text);
  if (inet_pton(AF_INET6, s.c_str(), a.data()) != 1) throw std::invalid_argument("bad IPv6 " + s);
  return a;
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes pattern(size_t n, uint8_t first) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

// RFC 1071, the straightforward way: big-endian 16-bit words, end-around carry.
uint16_t internet_checksum(const Bytes& data, uint32_t initial) {
  uint64_t sum = initial;
  for (size_t i = 0; i + 1 < data.size(); i += 2) sum += (uint32_t{data[i]} << 8) | data[i + 1];
  if (data.size() % 2) sum += uint32_t{data.back()} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

PacketBuilder& PacketBuilder::ether(const Mac& src, const Mac& dst, uint16_t ether_type) {
  src_mac_ = src;
  dst_mac_ = dst;
  ether_type_ = ether_type;
  return *this;
}

PacketBuilder& PacketBuilder::ipv4(std::string_view src, std::string_view dst) {
  src_ip_ = ip_be(src);
  dst_ip_ = ip_be(dst);
  return *this;
}

PacketBuilder& PacketBuilder::ipv6(std::string_view src, std::string_view dst) {
  ipv6_ = true;
  ether_type_ = 0x86dd;
  src6_ = ip6_bytes(src);
  dst6_ = ip6_bytes(dst);
  return *this;
}

PacketBuilder& PacketBuilder::icmp6(uint8_t type, uint8_t code) {
  l4_ = L4::icmp6;
  protocol_ = 58;
  icmp_type_ = type;
  icmp_code_ = code;
  return *this;
}

PacketBuilder& PacketBuilder::udp(uint16_t src_port, uint16_t dst_port) {
  l4_ = L4::udp;
  protocol_ = 17;
  src_port_ = src_port;
  dst_port_ = dst_port;
  return *this;
}

PacketBuilder& PacketBuilder::icmp(uint8_t type, uint8_t code, uint16_t ident, uint16_t sequence) {
  l4_ = L4::icmp;
  protocol_ = 1;
  icmp_type_ = type;
  icmp_code_ = code;
  icmp_ident_ = ident;
  icmp_sequence_ = sequence;
  return *this;
}

PacketBuilder& PacketBuilder::arp(uint16_t op, const Mac& sha, std::string_view spa,
                                  const Mac& tha, std::string_view tpa) {
  l4_ = L4::arp;
  ether_type_ = 0x0806;
  arp_op_ = op;
  arp_sha_ = sha;
  arp_spa_ = ip_be(spa);
  arp_tha_ = tha;
  arp_tpa_ = ip_be(tpa);
  return *this;
}

Bytes PacketBuilder::bytes() const {
  Bytes f;
  f.insert(f.end(), dst_mac_.bytes.begin(), dst_mac_.bytes.end());
  f.insert(f.end(), src_mac_.bytes.begin(), src_mac_.bytes.end());
  put16(f, ipv6_ && ether_type_ == 0x0800 ? 0x86dd : ether_type_);
  if (l4_ == L4::arp) {
    put16(f, 1);
    put16(f, 0x0800);
    f.push_back(6);
    f.push_back(4);
    put16(f, arp_op_);
    f.insert(f.end(), arp_sha_.bytes.begin(), arp_sha_.bytes.end());
    put_raw32(f, arp_spa_);
    f.insert(f.end(), arp_tha_.bytes.begin(), arp_tha_.bytes.end());
    put_raw32(f, arp_tpa_);
    put(f, trailer_);
    return f;
  }

  Bytes l4;
  if (l4_ == L4::udp) {
    const uint16_t length = udp_length_.value_or(static_cast<uint16_t>(8 + payload_.size()));
    put16(l4, src_port_);
    put16(l4, dst_port_);
    put16(l4, length);
    put16(l4, 0);
    put(l4, payload_);
    uint16_t csum;
    if (udp_checksum_) {
      csum = *udp_checksum_;
    } else {
      // RFC 768 pseudo-header: source, destination, zero, protocol, UDP length; RFC 8200 §8.1
      // for IPv6: both addresses, the 32-bit length, three zeros, the next header.
      Bytes pseudo;
      if (ipv6_) {
        pseudo.insert(pseudo.end(), src6_.begin(), src6_.end());
        pseudo.insert(pseudo.end(), dst6_.begin(), dst6_.end());
        put32(pseudo, static_cast<uint32_t>(l4.size()));
        put32(pseudo, 17);
      } else {
        put_raw32(pseudo, src_ip_);
        put_raw32(pseudo, dst_ip_);
        put16(pseudo, 17);
        put16(pseudo, static_cast<uint16_t>(l4.size()));
      }
      put(pseudo, l4);
      csum = internet_checksum(pseudo);
      if (csum == 0) csum = 0xffff;
    }
    set16(l4, 6, csum);
  } else if (l4_ == L4::icmp) {
    l4.push_back(icmp_type_);
    l4.push_back(icmp_code_);
    put16(l4, 0);
    put16(l4, icmp_ident_);
    put16(l4, icmp_sequence_);
    put(l4, payload_);
    set16(l4, 2, internet_checksum(l4));
  } else if (l4_ == L4::icmp6) {
    l4.push_back(icmp_type_);
    l4.push_back(icmp_code_);
    put16(l4, 0);
    put(l4, payload_);
    Bytes pseudo;
    pseudo.insert(pseudo.end(), src6_.begin(), src6_.end());
    pseudo.insert(pseudo.end(), dst6_.begin(), dst6_.end());
    put32(pseudo, static_cast<uint32_t>(l4.size()));
    put32(pseudo, 58);
    put(pseudo, l4);
    set16(l4, 2, internet_checksum(pseudo));
  } else {
    l4 = payload_;
  }

  if (ipv6_) {
    // RFC 8200 §3: version, traffic class, flow label, payload length, next header, hop limit.
    put32(f, (6u << 28) | (uint32_t{tos_} << 20) | (flow_label_ & 0xfffff));
    put16(f, total_length_.value_or(static_cast<uint16_t>(l4.size())));
    f.push_back(protocol_);
    f.push_back(ttl_);
    f.insert(f.end(), src6_.begin(), src6_.end());
    f.insert(f.end(), dst6_.begin(), dst6_.end());
    put(f, l4);
    put(f, trailer_);
    return f;
  }

  Bytes ip;
  const uint16_t header_len = static_cast<uint16_t>(20 + options_.size());
  ip.push_back(static_cast<uint8_t>(0x40 | (header_len / 4)));
  ip.push_back(tos_);
  put16(ip, total_length_.value_or(static_cast<uint16_t>(header_len + l4.size())));
  put16(ip, id_);
  put16(ip, fragment_ != 0xffff ? fragment_ : (df_ ? 0x4000 : 0));
  ip.push_back(ttl_);
  ip.push_back(protocol_);
  put16(ip, 0);
  put_raw32(ip, src_ip_);
  put_raw32(ip, dst_ip_);
  put(ip, options_);
  set16(ip, 10, ip_checksum_.value_or(internet_checksum(ip)));
  put(f, ip);
  put(f, l4);
  put(f, trailer_);
  return f;
}

rte_mbuf* PacketBuilder::mbuf(rte_mempool* pool) const {
  const Bytes b = bytes();
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) throw std::runtime_error("mempool empty");
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(b.size()));
  if (p == nullptr) throw std::runtime_error("frame too big for an mbuf");
  std::memcpy(p, b.data(), b.size());
  return m;
}

StunBuilder::StunBuilder(uint16_t type, const TransactionId& id) {
  put16(message_, type);
  put16(message_, 0);
  put32(message_, 0x2112A442);
  message_.insert(message_.end(), id.begin(), id.end());
}

StunBuilder& StunBuilder::attribute(uint16_t type, const Bytes& value, uint8_t padding_byte) {
  put16(message_, type);
  put16(message_, static_cast<uint16_t>(value.size()));
  put(message_, value);
  while (message_.size() % 4) message_.push_back(padding_byte);
  set_length();
  return *this;
}

StunBuilder& StunBuilder::xor_address(uint16_t type, std::string_view ip, uint16_t port) {
  // RFC 8489 §14.2: family, port ^ (cookie >> 16), address ^ cookie (IPv4) or ^ cookie and
  // transaction ID (IPv6).
  Bytes v;
  const bool ipv6 = ip.find(':') != std::string_view::npos;
  v.push_back(0);
  v.push_back(ipv6 ? 2 : 1);
  put16(v, static_cast<uint16_t>(port ^ 0x2112));
  if (ipv6) {
    const auto a = ip6_bytes(ip);
    for (size_t i = 0; i < 16; ++i) v.push_back(static_cast<uint8_t>(a[i] ^ message_[4 + i]));
  } else {
    put32(v, ntohl(ip_be(ip)) ^ 0x2112A442);
  }
  return attribute(type, v);
}

StunBuilder& StunBuilder::fingerprint() {
  // RFC 8489 §14.7: the length already includes the FINGERPRINT attribute.
  set16(message_, 2, static_cast<uint16_t>(message_.size() - 20 + 8));
  const uint32_t crc =
      static_cast<uint32_t>(crc32(0, message_.data(), static_cast<uInt>(message_.size()))) ^
      0x5354554e;
  put16(message_, 0x8028);
  put16(message_, 4);
  put32(message_, crc);
  return *this;
}

void StunBuilder::set_length() { set16(message_, 2, static_cast<uint16_t>(message_.size() - 20)); }

TransactionId transaction_id(uint8_t seed) {
  TransactionId id;
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(seed * 16 + i);
  return id;
}

Bytes channel_data(uint16_t channel, const Bytes& data, const Bytes& padding) {
  Bytes b;
  put16(b, channel);
  put16(b, static_cast<uint16_t>(data.size()));
  put(b, data);
  put(b, padding);
  return b;
}

Bytes tcp_syn(uint16_t src_port, uint16_t dst_port) {
  Bytes h(20, 0);
  h[0] = static_cast<uint8_t>(src_port >> 8);
  h[1] = static_cast<uint8_t>(src_port);
  h[2] = static_cast<uint8_t>(dst_port >> 8);
  h[3] = static_cast<uint8_t>(dst_port);
  h[12] = 5 << 4;  // data offset: 5 words
  h[13] = 0x02;    // SYN
  h[14] = 0xfa;    // window 64000
  return h;
}

}  // namespace tern::test
