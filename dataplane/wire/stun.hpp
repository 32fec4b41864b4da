#pragma once
// The little of STUN (RFC 8489) and TURN (RFC 8656) the workers read and write themselves:
// header and attribute layout, the attribute walk, ChannelData, and the XOR address encoding.
// The full codec belongs to the control plane; this is only what the fast paths need, over raw
// bytes, trusting no length.

#include <cstdint>
#include <cstring>

#include "dataplane/contract/stun_numbers.hpp"
#include "dataplane/wire/headers.hpp"
#include "dataplane/wire/ip6.hpp"

namespace tern::dp::stun_wire {

using stun::AttributeType;

// RFC 8489 §5: the header, in the data plane's uint16_t lengths; the magic cookie in network
// order. The numbers themselves are tern::stun's (dataplane/contract/stun_numbers.hpp).
inline constexpr uint16_t kHeaderLen = stun::kHeaderSize;
inline constexpr uint16_t kTransactionIdLen = stun::kTransactionIdSize;
inline constexpr uint16_t kAttributeHeaderLen = stun::kAttributeHeaderSize;
inline constexpr uint32_t kMagicCookieBe = be32(stun::kMagicCookie);

// The message type words the workers compare and write (RFC 8489 §5, RFC 8656 §18).
constexpr uint16_t type_word(stun::Method method, stun::MessageClass cls) {
  return stun::MessageType{method, cls}.encode();
}
inline constexpr uint16_t kClassMask = type_word(stun::Method{0}, stun::MessageClass::error_response);
inline constexpr uint16_t kClassRequest = type_word(stun::Method{0}, stun::MessageClass::request);
inline constexpr uint16_t kClassIndication = type_word(stun::Method{0}, stun::MessageClass::indication);
inline constexpr uint16_t kBindingRequest = type_word(stun::Method::binding, stun::MessageClass::request);
inline constexpr uint16_t kBindingSuccess =
    type_word(stun::Method::binding, stun::MessageClass::success_response);
inline constexpr uint16_t kSendIndication = type_word(stun::Method::send, stun::MessageClass::indication);
inline constexpr uint16_t kDataIndication = type_word(stun::Method::data, stun::MessageClass::indication);

// A comprehension-required attribute tern does not understand (RFC 8489 §7.3.1: 420).
constexpr bool unknown_required(AttributeType type) {
  const auto t = static_cast<uint16_t>(type);
  return stun::is_comprehension_required(t) && !(t < 64 && ((stun::kKnownRequiredBelow64 >> t) & 1));
}

inline constexpr uint16_t kFingerprintAttributeLen = 8;

// RFC 8489 §14.1: address family.
inline constexpr uint8_t kFamilyIpv4 = static_cast<uint8_t>(Family::ipv4);
inline constexpr uint8_t kFamilyIpv6 = static_cast<uint8_t>(Family::ipv6);
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
inline void store16(uint8_t* p, AttributeType type) { store16(p, static_cast<uint16_t>(type)); }
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

  AttributeType type() const { return static_cast<AttributeType>(type_); }
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
inline constexpr uint16_t kXorPortBe = be16(stun::kMagicCookie >> 16);

// Writes an IPv4 XOR address attribute (XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS): 12 bytes.
inline void write_xor_address(uint8_t* p, AttributeType type, uint32_t ip_be, uint16_t port_be) {
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
inline void write_xor_address(uint8_t* p, AttributeType type, const Ip6& ip, uint16_t port_be,
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
inline constexpr uint16_t kChannelDataHeaderLen = stun::kChannelDataHeaderSize;
constexpr bool valid_channel(uint16_t channel) { return stun::ChannelNumber{channel}.valid(); }

// The Data indication header the server prepends to peer data (RFC 8656 §11.3): STUN header,
// XOR-PEER-ADDRESS, DATA attribute header.
inline constexpr uint16_t kDataIndicationPrefixLen =
    kHeaderLen + kXorAddressAttributeLen + kAttributeHeaderLen;  // 36

}  // namespace tern::dp::stun_wire
