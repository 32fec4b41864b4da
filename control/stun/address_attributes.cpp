#include "control/stun/address_attributes.hpp"

#include <array>

#include "control/stun/parser.hpp"
#include "control/stun/wire.hpp"

namespace tern::stun {
namespace {

// RFC 8489 §14.1:
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |0 0 0 0 0 0 0 0|    Family     |           Port                |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 Address (32 bits or 128 bits)                 |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// "The first 8 bits of the MAPPED-ADDRESS MUST be set to 0 and MUST be ignored by receivers."

// The 16 bytes an address is XORed with: the magic cookie, then the transaction ID.
std::array<uint8_t, 16> xor_key(const TransactionId& id) {
  std::array<uint8_t, 16> key{};
  wire::store_u32(key.data(), kMagicCookie);
  for (size_t i = 0; i < kTransactionIdSize; ++i) key[4 + i] = id.bytes[i];
  return key;
}

std::optional<TransportAddress> decode(std::span<const uint8_t> value, const std::array<uint8_t, 16>* key) {
  if (value.size() < 4) return std::nullopt;
  const uint8_t family = value[1];
  size_t address_size = 0;
  if (family == static_cast<uint8_t>(Family::ipv4)) {
    address_size = 4;
  } else if (family == static_cast<uint8_t>(Family::ipv6)) {
    address_size = 16;
  } else {
    return std::nullopt;
  }
  if (value.size() != 4 + address_size) return std::nullopt;
  uint16_t port = wire::load_u16(value.data() + 2);
  std::array<uint8_t, 16> address{};
  for (size_t i = 0; i < address_size; ++i) address[i] = value[4 + i];
  if (key != nullptr) {
    // "Port is computed by XOR'ing the mapped port with the most significant 16 bits of the magic
    // cookie."
    port ^= static_cast<uint16_t>(kMagicCookie >> 16);
    for (size_t i = 0; i < address_size; ++i) address[i] ^= (*key)[i];
  }
  const auto ip = IpAddress::from_bytes({address.data(), address_size});
  return TransportAddress{*ip, Port{port}};
}

void encode(const TransportAddress& address, const std::array<uint8_t, 16>* key, uint8_t* out) {
  const auto bytes = address.ip.bytes();
  out[0] = 0;
  out[1] = static_cast<uint8_t>(address.ip.family());
  uint16_t port = address.port.value;
  if (key != nullptr) port ^= static_cast<uint16_t>(kMagicCookie >> 16);
  wire::store_u16(out + 2, port);
  for (size_t i = 0; i < bytes.size(); ++i)
    out[4 + i] = static_cast<uint8_t>(key != nullptr ? bytes[i] ^ (*key)[i] : bytes[i]);
}

Decoded<TransportAddress> first_plain(const Message& message, AttributeType type) {
  const auto raw = message.find(type);
  if (!raw) return Decoded<TransportAddress>::absent();
  const auto address = decode_address(raw->value);
  if (!address) return Decoded<TransportAddress>::malformed_value();
  return *address;
}

Decoded<TransportAddress> first_xor(const Message& message, AttributeType type) {
  const auto raw = message.find(type);
  if (!raw) return Decoded<TransportAddress>::absent();
  const auto address = decode_xor_address(raw->value, message.transaction_id());
  if (!address) return Decoded<TransportAddress>::malformed_value();
  return *address;
}

}  // namespace

std::optional<TransportAddress> decode_address(std::span<const uint8_t> value) {
  return decode(value, nullptr);
}

void encode_address(const TransportAddress& address, uint8_t* out) { encode(address, nullptr, out); }

std::optional<TransportAddress> decode_xor_address(std::span<const uint8_t> value, const TransactionId& id) {
  const auto key = xor_key(id);
  return decode(value, &key);
}

void encode_xor_address(const TransportAddress& address, const TransactionId& id, uint8_t* out) {
  const auto key = xor_key(id);
  encode(address, &key, out);
}

Decoded<TransportAddress> mapped_address(const Message& message) {
  return first_plain(message, AttributeType::mapped_address);
}

// RFC 8489 §14.15: ALTERNATE-SERVER "is encoded in the same way as MAPPED-ADDRESS".
Decoded<TransportAddress> alternate_server(const Message& message) {
  return first_plain(message, AttributeType::alternate_server);
}

Decoded<TransportAddress> xor_mapped_address(const Message& message) {
  return first_xor(message, AttributeType::xor_mapped_address);
}

// RFC 8656 §18.3 / §18.5: XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS are "encoded in the same way as
// the XOR-MAPPED-ADDRESS attribute".
Decoded<TransportAddress> xor_peer_address(const Message& message) {
  return first_xor(message, AttributeType::xor_peer_address);
}

Decoded<TransportAddress> xor_relayed_address(const Message& message) {
  return first_xor(message, AttributeType::xor_relayed_address);
}

}  // namespace tern::stun
