#pragma once
// Address attributes: MAPPED-ADDRESS (RFC 8489 §14.1), XOR-MAPPED-ADDRESS (§14.2),
// ALTERNATE-SERVER (§14.15), XOR-PEER-ADDRESS (RFC 8656 §18.3) and XOR-RELAYED-ADDRESS (§18.5).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "conf/net.hpp"
#include "control/stun/attribute.hpp"
#include "control/stun/message.hpp"

namespace tern::stun {

class Message;

// Value size of an address attribute: 8 for IPv4, 20 for IPv6.
constexpr size_t address_value_size(Family family) { return family == Family::ipv4 ? 8 : 20; }

// RFC 8489 §14.1: family, port and address in the clear. The first byte is ignored on receipt.
// nullopt when the family is neither 0x01 nor 0x02 or the length does not match the family.
std::optional<TransportAddress> decode_address(std::span<const uint8_t> value);
// Writes address_value_size(address.ip.family()) bytes.
void encode_address(const TransportAddress& address, uint8_t* out);

// RFC 8489 §14.2: the port XORed with the top 16 bits of the magic cookie, an IPv4 address with the
// magic cookie, an IPv6 address with the magic cookie followed by the transaction ID.
std::optional<TransportAddress> decode_xor_address(std::span<const uint8_t> value, const TransactionId& id);
void encode_xor_address(const TransportAddress& address, const TransactionId& id, uint8_t* out);

// The first attribute of each type, decoded.
Decoded<TransportAddress> mapped_address(const Message& message);
Decoded<TransportAddress> xor_mapped_address(const Message& message);
Decoded<TransportAddress> alternate_server(const Message& message);
// XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS may repeat: these read the first one; iterate
// message.all(AttributeType::xor_peer_address) with decode_xor_address() for every one.
Decoded<TransportAddress> xor_peer_address(const Message& message);
Decoded<TransportAddress> xor_relayed_address(const Message& message);

}  // namespace tern::stun
