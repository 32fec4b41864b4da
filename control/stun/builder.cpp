#include "control/stun/builder.hpp"

#include <array>
#include <cstring>

#include "control/stun/address_attributes.hpp"
#include "control/stun/integrity.hpp"
#include "control/stun/parser.hpp"
#include "control/stun/string_attributes.hpp"
#include "control/stun/wire.hpp"

namespace tern::stun {

std::string_view to_string(BuildError error) {
  switch (error) {
    case BuildError::none: return "none";
    case BuildError::overflow: return "overflow";
    case BuildError::message_too_long: return "message_too_long";
    case BuildError::value_too_long: return "value_too_long";
    case BuildError::invalid_value: return "invalid_value";
    case BuildError::wrong_key: return "wrong_key";
    case BuildError::out_of_order: return "out_of_order";
  }
  return "unknown";
}

Builder::Builder(std::span<uint8_t> buffer, MessageType type, const TransactionId& id, uint8_t padding)
    : buffer_(buffer), id_(id), padding_(padding) {
  if (buffer_.size() < kHeaderSize) {
    error_ = BuildError::overflow;
    return;
  }
  // RFC 8489 §5: type, length, magic cookie, transaction ID.
  uint8_t* p = buffer_.data();
  wire::store_u16(p, type.encode());
  wire::store_u16(p + 2, 0);
  wire::store_u32(p + 4, kMagicCookie);
  std::memcpy(p + 8, id.bytes.data(), kTransactionIdSize);
  size_ = kHeaderSize;
}

Builder Builder::success_response(std::span<uint8_t> buffer, const Message& request) {
  return Builder(buffer, {request.method(), MessageClass::success_response}, request.transaction_id());
}

Builder Builder::error_response(std::span<uint8_t> buffer, const Message& request, ErrorCode code,
                                std::string_view reason) {
  Builder b(buffer, {request.method(), MessageClass::error_response}, request.transaction_id());
  b.add_error_code(code, reason);
  return b;
}

uint8_t* Builder::append(uint16_t type, size_t length) {
  if (error_ != BuildError::none) return nullptr;
  if (stage_ != Stage::body) {
    fail(BuildError::out_of_order);
    return nullptr;
  }
  if (length > kMaxAttributeValueSize) {
    fail(BuildError::value_too_long);
    return nullptr;
  }
  const size_t total = kAttributeHeaderSize + wire::padded(length);
  if (size_ - kHeaderSize + total > kMaxBodySize) {
    fail(BuildError::message_too_long);
    return nullptr;
  }
  if (total > buffer_.size() - size_) {
    fail(BuildError::overflow);
    return nullptr;
  }
  uint8_t* p = buffer_.data() + size_;
  wire::store_u16(p, type);
  wire::store_u16(p + 2, static_cast<uint16_t>(length));
  std::memset(p + kAttributeHeaderSize + length, padding_, wire::padded(length) - length);
  size_ += total;
  wire::store_u16(buffer_.data() + 2, static_cast<uint16_t>(size_ - kHeaderSize));
  return p + kAttributeHeaderSize;
}

void Builder::add_raw(uint16_t type, std::span<const uint8_t> value) {
  const auto kind = static_cast<AttributeType>(type);
  if (kind == AttributeType::message_integrity || kind == AttributeType::message_integrity_sha256 ||
      kind == AttributeType::fingerprint) {
    fail(BuildError::invalid_value);
    return;
  }
  if (uint8_t* out = append(type, value.size()); out != nullptr && !value.empty())
    std::memcpy(out, value.data(), value.size());
}

void Builder::add_plain_address(AttributeType type, const TransportAddress& address) {
  if (uint8_t* out = append(type, address_value_size(address.ip.family()))) encode_address(address, out);
}

void Builder::add_xor_address(AttributeType type, const TransportAddress& address) {
  if (uint8_t* out = append(type, address_value_size(address.ip.family())))
    encode_xor_address(address, id_, out);
}

void Builder::add_mapped_address(const TransportAddress& address) {
  add_plain_address(AttributeType::mapped_address, address);
}
void Builder::add_alternate_server(const TransportAddress& address) {
  add_plain_address(AttributeType::alternate_server, address);
}
void Builder::add_xor_mapped_address(const TransportAddress& address) {
  add_xor_address(AttributeType::xor_mapped_address, address);
}
void Builder::add_xor_peer_address(const TransportAddress& address) {
  add_xor_address(AttributeType::xor_peer_address, address);
}
void Builder::add_xor_relayed_address(const TransportAddress& address) {
  add_xor_address(AttributeType::xor_relayed_address, address);
}

void Builder::add_text(AttributeType type, std::string_view text) {
  if (uint8_t* out = append(type, text.size()); out != nullptr && !text.empty())
    std::memcpy(out, text.data(), text.size());
}

void Builder::add_username(std::string_view username) {
  if (!sendable_username(username)) return fail(BuildError::invalid_value);
  add_text(AttributeType::username, username);
}
void Builder::add_realm(std::string_view realm) {
  if (!sendable_text(realm)) return fail(BuildError::invalid_value);
  add_text(AttributeType::realm, realm);
}
void Builder::add_nonce(std::string_view nonce) {
  if (!sendable_text(nonce)) return fail(BuildError::invalid_value);
  add_text(AttributeType::nonce, nonce);
}
void Builder::add_software(std::string_view software) {
  if (!sendable_text(software)) return fail(BuildError::invalid_value);
  add_text(AttributeType::software, software);
}
void Builder::add_alternate_domain(std::string_view domain) {
  if (!sendable_alternate_domain(domain)) return fail(BuildError::invalid_value);
  add_text(AttributeType::alternate_domain, domain);
}

void Builder::add_userhash(std::span<const uint8_t, kUserhashSize> userhash) {
  if (uint8_t* out = append(AttributeType::userhash, kUserhashSize))
    std::memcpy(out, userhash.data(), kUserhashSize);
}

void Builder::add_password_algorithm(const PasswordAlgorithmEntry& entry) {
  if (entry.parameters.size() > 0xFFFF) return fail(BuildError::value_too_long);
  if (uint8_t* out = append(AttributeType::password_algorithm, password_algorithm_entry_size(entry)))
    encode_password_algorithm_entry(entry, out);
}

void Builder::add_password_algorithms(std::span<const PasswordAlgorithmEntry> entries) {
  if (entries.empty()) return fail(BuildError::invalid_value);
  size_t total = 0;
  for (const auto& entry : entries) {
    if (entry.parameters.size() > 0xFFFF) return fail(BuildError::value_too_long);
    total += password_algorithm_entry_size(entry);
  }
  if (uint8_t* out = append(AttributeType::password_algorithms, total)) {
    for (const auto& entry : entries) {
      encode_password_algorithm_entry(entry, out);
      out += password_algorithm_entry_size(entry);
    }
  }
}

void Builder::add_error_code(ErrorCode code, std::string_view reason) {
  if (reason.empty()) reason = reason_phrase(code);
  if (!code.valid() || !sendable_text(reason)) return fail(BuildError::invalid_value);
  if (uint8_t* out = append(AttributeType::error_code, 4 + reason.size())) {
    encode_error_header(0, code, out);
    if (!reason.empty()) std::memcpy(out + 4, reason.data(), reason.size());
  }
}

// RFC 8489 §14.13: one 16-bit type per attribute not understood.
void Builder::add_unknown_attributes(std::span<const uint16_t> types) {
  if (types.size() > kMaxAttributeValueSize / 2) return fail(BuildError::value_too_long);
  if (uint8_t* out = append(AttributeType::unknown_attributes, 2 * types.size())) {
    for (size_t i = 0; i < types.size(); ++i) wire::store_u16(out + 2 * i, types[i]);
  }
}

void Builder::add_address_error_code(Family family, ErrorCode code, std::string_view reason) {
  if (reason.empty()) reason = reason_phrase(code);
  if (!code.valid() || !sendable_text(reason)) return fail(BuildError::invalid_value);
  if (uint8_t* out = append(AttributeType::address_error_code, 4 + reason.size())) {
    encode_error_header(static_cast<uint8_t>(family), code, out);
    if (!reason.empty()) std::memcpy(out + 4, reason.data(), reason.size());
  }
}

void Builder::add_channel_number(ChannelNumber channel) {
  if (uint8_t* out = append(AttributeType::channel_number, 4)) {
    wire::store_u16(out, channel.value);
    wire::store_u16(out + 2, 0);
  }
}

void Builder::add_lifetime(Lifetime lifetime) {
  if (uint8_t* out = append(AttributeType::lifetime, 4)) wire::store_u32(out, lifetime.seconds);
}

void Builder::add_data(std::span<const uint8_t> data) { add_raw(static_cast<uint16_t>(AttributeType::data), data); }

void Builder::add_family(AttributeType type, Family family) {
  if (uint8_t* out = append(type, 4)) wire::store_u32(out, uint32_t{static_cast<uint8_t>(family)} << 24);
}

void Builder::add_requested_address_family(Family family) {
  add_family(AttributeType::requested_address_family, family);
}

void Builder::add_additional_address_family(Family family) {
  add_family(AttributeType::additional_address_family, family);
}

void Builder::add_even_port(EvenPort even_port) {
  if (uint8_t* out = append(AttributeType::even_port, 1)) out[0] = even_port.reserve ? 0x80 : 0x00;
}

void Builder::add_requested_transport(RequestedTransport transport) {
  if (uint8_t* out = append(AttributeType::requested_transport, 4))
    wire::store_u32(out, uint32_t{transport.protocol} << 24);
}

void Builder::add_dont_fragment() { append(AttributeType::dont_fragment, 0); }

void Builder::add_reservation_token(const ReservationToken& token) {
  if (uint8_t* out = append(AttributeType::reservation_token, token.bytes.size()))
    std::memcpy(out, token.bytes.data(), token.bytes.size());
}

void Builder::add_icmp(const Icmp& icmp) {
  if (uint8_t* out = append(AttributeType::icmp, 8)) {
    out[0] = 0;
    out[1] = 0;
    out[2] = icmp.type;
    out[3] = icmp.code;
    wire::store_u32(out + 4, icmp.error_data);
  }
}

// Appends an integrity attribute of `size` value bytes when the stage allows it; returns where the
// value goes. The header length then counts the attribute, as the MAC and CRC inputs require.
uint8_t* Builder::append_integrity(AttributeType type, size_t size, Stage allowed_through, Stage after) {
  if (error_ != BuildError::none) return nullptr;
  if (static_cast<uint8_t>(stage_) > static_cast<uint8_t>(allowed_through)) {
    fail(BuildError::out_of_order);
    return nullptr;
  }
  const Stage saved = stage_;
  stage_ = Stage::body;
  uint8_t* out = append(type, size);
  stage_ = out != nullptr ? after : saved;
  return out;
}

void Builder::add_message_integrity(const crypto::MacKey& key, crypto::Engine& engine) {
  if (auto job = prepare_message_integrity(key)) engine.mac(key, job->message, {job->tag, kMessageIntegritySize});
}

void Builder::add_message_integrity_sha256(const crypto::MacKey& key, crypto::Engine& engine, size_t size) {
  if (error_ != BuildError::none) return;
  if (key.mac != crypto::Mac::hmac_sha256) return fail(BuildError::wrong_key);
  if (!valid_mi_sha256_length(size)) return fail(BuildError::invalid_value);
  // RFC 8489 §14.6: "the text used as input to HMAC is the STUN message, up to and including the
  // attribute preceding the MESSAGE-INTEGRITY-SHA256 attribute. The Length field of the STUN
  // message header is adjusted to point to the end of the MESSAGE-INTEGRITY-SHA256 attribute."
  uint8_t* out = append_integrity(AttributeType::message_integrity_sha256, size, Stage::after_mi,
                                  Stage::after_mi_sha256);
  if (out == nullptr) return;
  std::array<uint8_t, crypto::kSha256Size> tag;
  const size_t covered = static_cast<size_t>(out - buffer_.data()) - kAttributeHeaderSize;
  engine.mac(key, buffer_.first(covered), tag);
  std::memcpy(out, tag.data(), size);
}

std::optional<crypto::MacJob> Builder::prepare_message_integrity(const crypto::MacKey& key) {
  if (error_ != BuildError::none) return std::nullopt;
  if (key.mac != crypto::Mac::hmac_sha1) {
    fail(BuildError::wrong_key);
    return std::nullopt;
  }
  // RFC 8489 §14.5: "The text used as input to HMAC is the STUN message, up to and including the
  // attribute preceding the MESSAGE-INTEGRITY attribute. The Length field of the STUN message
  // header is adjusted to point to the end of the MESSAGE-INTEGRITY attribute."
  uint8_t* out = append_integrity(AttributeType::message_integrity, kMessageIntegritySize, Stage::body,
                                  Stage::after_mi);
  if (out == nullptr) return std::nullopt;
  const size_t covered = static_cast<size_t>(out - buffer_.data()) - kAttributeHeaderSize;
  return crypto::MacJob{&key, buffer_.first(covered), out};
}

std::optional<crypto::MacJob> Builder::prepare_message_integrity_sha256(const crypto::MacKey& key) {
  if (error_ != BuildError::none) return std::nullopt;
  if (key.mac != crypto::Mac::hmac_sha256) {
    fail(BuildError::wrong_key);
    return std::nullopt;
  }
  uint8_t* out = append_integrity(AttributeType::message_integrity_sha256, crypto::kSha256Size,
                                  Stage::after_mi, Stage::after_mi_sha256);
  if (out == nullptr) return std::nullopt;
  const size_t covered = static_cast<size_t>(out - buffer_.data()) - kAttributeHeaderSize;
  return crypto::MacJob{&key, buffer_.first(covered), out};
}

void Builder::add_fingerprint(crypto::Engine& engine) {
  uint8_t* out = append_integrity(AttributeType::fingerprint, kFingerprintSize, Stage::after_mi_sha256,
                                  Stage::after_fingerprint);
  if (out == nullptr) return;
  const size_t covered = static_cast<size_t>(out - buffer_.data()) - kAttributeHeaderSize;
  wire::store_u32(out, fingerprint_value(buffer_.first(covered), engine));
}

BuildResult Builder::finish() const {
  if (error_ != BuildError::none) return {{}, error_};
  return {buffer_.first(size_), BuildError::none};
}

}  // namespace tern::stun
