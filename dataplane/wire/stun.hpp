#pragma once
// The little of STUN (RFC 8489) and TURN (RFC 8656) the workers read and write themselves:
// header and attribute layout, the attribute walk, ChannelData, and the XOR address encoding.
// The full codec belongs to the control plane; this is only what the fast paths need, over raw
// bytes, trusting no length.

#include <cstdint>
#include <cstring>

#include "dataplane/wire/ip6.hpp"
#include "dataplane/wire/headers.hpp"

namespace tern::dp::stun {

// RFC 8489 §5: the header. The magic cookie in network order.
inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr uint32_t kMagicCookieBe = be32(kMagicCookie);
inline constexpr uint16_t kHeaderLen = 20;
inline constexpr uint16_t kTransactionIdLen = 12;
inline constexpr uint16_t kAttributeHeaderLen = 4;

// RFC 8489 §5: message type = method and class bits interleaved.
inline constexpr uint16_t kClassMask = 0x0110;
inline constexpr uint16_t kClassRequest = 0x0000;
inline constexpr uint16_t kClassIndication = 0x0010;
inline constexpr uint16_t kClassSuccess = 0x0100;
inline constexpr uint16_t kBindingRequest = 0x0001;
inline constexpr uint16_t kBindingSuccess = 0x0101;
inline constexpr uint16_t kSendIndication = 0x0016;  // RFC 8656 §18: method 0x006
inline constexpr uint16_t kDataIndication = 0x0017;  // RFC 8656 §18: method 0x007

// Attribute types (RFC 8489 §18.3, RFC 8656 §18).
enum Attribute : uint16_t {
  kMappedAddress = 0x0001,
  kUsername = 0x0006,
  kMessageIntegrity = 0x0008,
  kErrorCode = 0x0009,
  kUnknownAttributes = 0x000A,
  kChannelNumber = 0x000C,
  kLifetime = 0x000D,
  kXorPeerAddress = 0x0012,
  kData = 0x0013,
  kRealm = 0x0014,
  kNonce = 0x0015,
  kXorRelayedAddress = 0x0016,
  kRequestedAddressFamily = 0x0017,
  kEvenPort = 0x0018,
  kRequestedTransport = 0x0019,
  kDontFragment = 0x001A,
  kMessageIntegritySha256 = 0x001C,
  kPasswordAlgorithm = 0x001D,
  kUserhash = 0x001E,
  kXorMappedAddress = 0x0020,
  kReservationToken = 0x0022,
  kSoftware = 0x8022,
  kFingerprint = 0x8028,
};

// RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required. These are the ones a TURN
// server knows (RFC 8489 and RFC 8656); a bit per type below 0x40.
inline constexpr uint64_t kKnownRequired =
    (1ULL << kMappedAddress) | (1ULL << kUsername) | (1ULL << kMessageIntegrity) |
    (1ULL << kErrorCode) | (1ULL << kUnknownAttributes) | (1ULL << kChannelNumber) |
    (1ULL << kLifetime) | (1ULL << kXorPeerAddress) | (1ULL << kData) | (1ULL << kRealm) |
    (1ULL << kNonce) | (1ULL << kXorRelayedAddress) | (1ULL << kRequestedAddressFamily) |
    (1ULL << kEvenPort) | (1ULL << kRequestedTransport) | (1ULL << kDontFragment) |
    (1ULL << kMessageIntegritySha256) | (1ULL << kPasswordAlgorithm) | (1ULL << kUserhash) |
    (1ULL << kXorMappedAddress) | (1ULL << kReservationToken);

constexpr bool comprehension_required(uint16_t type) { return type < 0x8000; }
constexpr bool known_required(uint16_t type) { return type < 64 && ((kKnownRequired >> type) & 1); }

// RFC 8489 §14.7: FINGERPRINT = CRC-32 of the message up to the attribute, XOR this.
inline constexpr uint32_t kFingerprintXor = 0x5354554e;
inline constexpr uint16_t kFingerprintAttributeLen = 8;

// RFC 8489 §14.1: address family.
inline constexpr uint8_t kFamilyIpv4 = 0x01;
inline constexpr uint8_t kFamilyIpv6 = 0x02;
inline constexpr uint16_t kXorAddressIpv4Len = 8;  // value length of an IPv4 (XOR-)address

constexpr uint16_t padded(uint16_t len) { return static_cast<uint16_t>((len + 3) & ~3); }

inline uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return rte_be_to_cpu_16(v);
}
inline uint32_t load32_raw(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void store16(uint8_t* p, uint16_t host) {
  const uint16_t v = rte_cpu_to_be_16(host);
  std::memcpy(p, &v, 2);
}
inline void store32_raw(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// A STUN message header at p, already known to be at least kHeaderLen long.
struct Header {
  uint16_t type;
  uint16_t length;  // of the attributes, excluding the header
  uint32_t cookie_be;
};
inline Header header(const uint8_t* p) { return {load16(p), load16(p + 2), load32_raw(p + 4)}; }

// Walks the attributes of a message body, checking every length against the end.
class AttributeWalker {
 public:
  AttributeWalker(const uint8_t* message, uint16_t message_len)
      : base_(message), end_(message_len), at_(kHeaderLen) {}

  // Advances to the next attribute; false at the end or when an attribute overruns the message
  // (then malformed() is true).
  bool next() {
    if (at_ == end_) return false;
    if (end_ - at_ < kAttributeHeaderLen) {
      malformed_ = true;
      return false;
    }
    type_ = load16(base_ + at_);
    len_ = load16(base_ + at_ + 2);
    offset_ = static_cast<uint16_t>(at_ + kAttributeHeaderLen);
    const uint32_t after = uint32_t{offset_} + padded(len_);
    if (after > end_) {
      malformed_ = true;
      return false;
    }
    at_ = static_cast<uint16_t>(after);
    return true;
  }

  uint16_t type() const { return type_; }
  uint16_t length() const { return len_; }
  uint16_t value_offset() const { return offset_; }  // from the start of the message
  const uint8_t* value() const { return base_ + offset_; }
  uint16_t attribute_offset() const { return static_cast<uint16_t>(offset_ - kAttributeHeaderLen); }
  bool last() const { return at_ == end_; }
  bool malformed() const { return malformed_; }

 private:
  const uint8_t* base_;
  uint16_t end_;
  uint16_t at_;
  uint16_t type_ = 0;
  uint16_t len_ = 0;
  uint16_t offset_ = 0;
  bool malformed_ = false;
};

// RFC 8489 §14.2: X-Port = port XOR the cookie's high 16 bits, X-Address = address XOR the
// cookie; on network-order values both are plain XORs with the cookie's network-order bytes.
inline constexpr uint16_t kXorPortBe = be16(kMagicCookie >> 16);

// Writes an IPv4 XOR address attribute (XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS): 12 bytes.
inline void write_xor_address(uint8_t* p, uint16_t type, uint32_t ip_be, uint16_t port_be) {
  store16(p, type);
  store16(p + 2, kXorAddressIpv4Len);
  p[4] = 0;
  p[5] = kFamilyIpv4;
  const uint16_t xport = port_be ^ kXorPortBe;
  std::memcpy(p + 6, &xport, 2);
  store32_raw(p + 8, ip_be ^ kMagicCookieBe);
}
inline constexpr uint16_t kXorAddressAttributeLen = kAttributeHeaderLen + kXorAddressIpv4Len;

// RFC 8489 §14.2: an IPv6 X-Address is the address XOR the cookie and the transaction ID.
inline constexpr uint16_t kXorAddressIpv6Len = 20;
inline constexpr uint16_t kXorAddress6AttributeLen = kAttributeHeaderLen + kXorAddressIpv6Len;
inline void write_xor_address(uint8_t* p, uint16_t type, const Ip6& ip, uint16_t port_be,
                              const uint8_t* transaction_id) {
  store16(p, type);
  store16(p + 2, kXorAddressIpv6Len);
  p[4] = 0;
  p[5] = kFamilyIpv6;
  const uint16_t xport = port_be ^ kXorPortBe;
  std::memcpy(p + 6, &xport, 2);
  uint8_t key[16];
  store32_raw(key, kMagicCookieBe);
  std::memcpy(key + 4, transaction_id, kTransactionIdLen);
  uint8_t address[16];
  ip.store(address);
  for (int i = 0; i < 16; ++i) p[8 + i] = address[i] ^ key[i];
}
// The address of an IPv6 XOR address value (the 16 bytes after family and port).
inline Ip6 read_xor_address6(const uint8_t* value, const uint8_t* transaction_id) {
  uint8_t key[16];
  store32_raw(key, kMagicCookieBe);
  std::memcpy(key + 4, transaction_id, kTransactionIdLen);
  uint8_t address[16];
  for (int i = 0; i < 16; ++i) address[i] = value[4 + i] ^ key[i];
  return Ip6::load(address);
}

// RFC 8656 §12.4: ChannelData: channel number (first two bits 01), length, application data.
inline constexpr uint16_t kChannelDataHeaderLen = 4;
inline constexpr uint16_t kChannelMin = 0x4000;  // RFC 8656 §12: 0x4000 through 0x4FFF
inline constexpr uint16_t kChannelMax = 0x4FFF;
constexpr bool valid_channel(uint16_t channel) {
  return channel >= kChannelMin && channel <= kChannelMax;
}

// The Data indication header the server prepends to peer data (RFC 8656 §11.3): STUN header,
// XOR-PEER-ADDRESS, DATA attribute header.
inline constexpr uint16_t kDataIndicationPrefixLen =
    kHeaderLen + kXorAddressAttributeLen + kAttributeHeaderLen;  // 36

}  // namespace tern::dp::stun
