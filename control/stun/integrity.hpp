#pragma once
// The integrity attributes: MESSAGE-INTEGRITY (RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6)
// and FINGERPRINT (§14.7).
//
// Verification is built for batches. For each request of a burst the control plane asks for its
// integrity input, a contiguous copy of the message up to the integrity attribute with the header
// length adjusted as the RFC says, written into a scratch buffer, plus the tag the message carries;
// then one Engine::verify_batch call checks the whole burst:
//
//   std::array<crypto::MacCheck, crypto::kMaxBatch> checks;
//   for (i...) {
//     auto in = stun::integrity_input(msg[i], stun::Integrity::sha1, scratch[i]);
//     checks[i] = stun::mac_check(*in, key[i]);
//   }
//   uint32_t ok_bits = engine.verify_batch({checks.data(), n});

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "control/stun/attribute.hpp"
#include "crypto/engine.hpp"

#include "dataplane/contract/stun_numbers.hpp"

namespace tern::stun {

class Message;

// RFC 8489 §14.5: "Since it uses the SHA-1 hash, the HMAC will be 20 bytes."
inline constexpr size_t kMessageIntegritySize = 20;
// RFC 8489 §14.6: "The value will be at most 32 bytes, but it MUST be at least 16 bytes and MUST be
// a multiple of 4 bytes."
inline constexpr size_t kMessageIntegritySha256MaxSize = 32;
inline constexpr size_t kMessageIntegritySha256MinSize = 16;
constexpr bool valid_mi_sha256_length(size_t length) {
  return length >= kMessageIntegritySha256MinSize && length <= kMessageIntegritySha256MaxSize &&
         length % 4 == 0;
}
inline constexpr size_t kFingerprintSize = 4;
// Which integrity attribute: MESSAGE-INTEGRITY (HMAC-SHA1) or MESSAGE-INTEGRITY-SHA256.
enum class Integrity : uint8_t { sha1, sha256 };
constexpr crypto::Mac mac_of(Integrity integrity) {
  return integrity == Integrity::sha1 ? crypto::Mac::hmac_sha1 : crypto::Mac::hmac_sha256;
}
constexpr AttributeType attribute_of(Integrity integrity) {
  return integrity == Integrity::sha1 ? AttributeType::message_integrity
                                      : AttributeType::message_integrity_sha256;
}

// The FINGERPRINT value of `message_before_fingerprint`: the message up to the FINGERPRINT
// attribute, whose header length already counts the FINGERPRINT attribute.
uint32_t fingerprint_value(std::span<const uint8_t> message_before_fingerprint, crypto::Engine& engine);

// What the HMAC of one integrity attribute covers, and the tag the message carries.
struct IntegrityInput {
  // RFC 8489 §14.5: "The text used as input to HMAC is the STUN message, up to and including the
  // attribute preceding the MESSAGE-INTEGRITY attribute. The Length field of the STUN message
  // header is adjusted to point to the end of the MESSAGE-INTEGRITY attribute." (§14.6 likewise.)
  std::span<const uint8_t> message;
  // The value of the integrity attribute (20 bytes, or 16..32 for a truncated SHA-256 tag).
  std::span<const uint8_t> expected;
  crypto::Mac mac = crypto::Mac::hmac_sha1;
};

// Bytes of scratch that integrity_input() needs: the offset of the integrity attribute; nullopt if
// the message does not carry it.
std::optional<size_t> integrity_input_size(const Message& message, Integrity integrity);

// Copies the covered bytes into `scratch` and adjusts the copy's length field. nullopt if the
// message has no such attribute or scratch is too small. The result views scratch and the message.
std::optional<IntegrityInput> integrity_input(const Message& message, Integrity integrity,
                                              std::span<uint8_t> scratch);

// One entry for Engine::verify_batch. The key must be of the input's MAC type (see verify()).
inline crypto::MacCheck mac_check(const IntegrityInput& input, const crypto::MacKey& key) {
  return {&key, input.message, input.expected};
}

// Checks one integrity attribute; false when absent, the scratch is too small, the key is for the
// other hash, or the tag does not match.
bool verify_integrity(const Message& message, Integrity integrity, const crypto::MacKey& key,
                      crypto::Engine& engine, std::span<uint8_t> scratch);

// The value of a present integrity attribute, as parsed.
Decoded<std::span<const uint8_t>> message_integrity(const Message& message);
Decoded<std::span<const uint8_t>> message_integrity_sha256(const Message& message);
Decoded<uint32_t> fingerprint(const Message& message);

}  // namespace tern::stun
