#include "control/stun/integrity.hpp"

#include <cstring>

#include "control/stun/parser.hpp"
#include "control/stun/wire.hpp"

namespace tern::stun {

uint32_t fingerprint_value(std::span<const uint8_t> message_before_fingerprint, crypto::Engine& engine) {
  return engine.crc32(message_before_fingerprint) ^ kFingerprintXor;
}

namespace {

std::optional<size_t> attribute_offset(const Message& message, Integrity integrity) {
  return integrity == Integrity::sha1 ? message.message_integrity_offset()
                                      : message.message_integrity_sha256_offset();
}

}  // namespace

std::optional<size_t> integrity_input_size(const Message& message, Integrity integrity) {
  return attribute_offset(message, integrity);
}

std::optional<IntegrityInput> integrity_input(const Message& message, Integrity integrity,
                                              std::span<uint8_t> scratch) {
  const auto offset = attribute_offset(message, integrity);
  if (!offset || scratch.size() < *offset) return std::nullopt;
  const auto bytes = message.bytes();
  const size_t value_length = wire::load_u16(bytes.data() + *offset + 2);
  std::memcpy(scratch.data(), bytes.data(), *offset);
  // The length counts everything after the header up to the end of the integrity attribute.
  const size_t adjusted = *offset + kAttributeHeaderSize + value_length - kHeaderSize;
  wire::store_u16(scratch.data() + 2, static_cast<uint16_t>(adjusted));
  return IntegrityInput{scratch.first(*offset),
                        bytes.subspan(*offset + kAttributeHeaderSize, value_length),
                        mac_of(integrity)};
}

bool verify_integrity(const Message& message, Integrity integrity, const crypto::MacKey& key,
                      crypto::Engine& engine, std::span<uint8_t> scratch) {
  if (key.mac != mac_of(integrity)) return false;
  const auto input = integrity_input(message, integrity, scratch);
  if (!input) return false;
  return engine.verify(key, input->message, input->expected);
}

namespace {

Decoded<std::span<const uint8_t>> value_of(const Message& message, AttributeType type) {
  const auto raw = message.find(type);
  if (!raw) return Decoded<std::span<const uint8_t>>::absent();
  return raw->value;
}

}  // namespace

Decoded<std::span<const uint8_t>> message_integrity(const Message& message) {
  return value_of(message, AttributeType::message_integrity);
}

Decoded<std::span<const uint8_t>> message_integrity_sha256(const Message& message) {
  return value_of(message, AttributeType::message_integrity_sha256);
}

Decoded<uint32_t> fingerprint(const Message& message) {
  const auto raw = message.find(AttributeType::fingerprint);
  if (!raw) return Decoded<uint32_t>::absent();
  return wire::load_u32(raw->value.data());
}

}  // namespace tern::stun
