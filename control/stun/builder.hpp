#pragma once
// Builds a STUN message into a caller-provided buffer: no heap, never writes past the buffer. The
// header length is kept current after every attribute. The first failure is remembered and every
// later call does nothing, so a message is built in one sequence and checked once:
//
//   stun::Builder b = stun::Builder::error_response(buffer, request, ErrorCode::kUnauthenticated);
//   b.add_realm(realm);
//   b.add_nonce(nonce);
//   b.add_fingerprint(engine);
//   auto built = b.finish();          // built.bytes, or built.error
//
// Integrity attributes go last, in the order RFC 8489 requires: MESSAGE-INTEGRITY, then
// MESSAGE-INTEGRITY-SHA256, then FINGERPRINT; any of them may be left out.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "conf/net.hpp"
#include "control/stun/attribute.hpp"
#include "control/stun/channel_data.hpp"
#include "control/stun/credential_attributes.hpp"
#include "control/stun/error_attributes.hpp"
#include "control/stun/message.hpp"
#include "control/stun/turn_attributes.hpp"
#include "crypto/engine.hpp"

namespace tern::stun {

class Message;

enum class BuildError : uint8_t {
  none = 0,
  overflow,                  // the buffer is too small
  message_too_long,          // the message would exceed 20 + 65532 bytes
  value_too_long,            // an attribute value over 65535 bytes
  invalid_value,             // a value the RFC does not allow (string limits, error code, ...)
  wrong_key,                 // a MacKey of the other hash for the integrity attribute
  out_of_order,              // an attribute after an integrity attribute or FINGERPRINT, or the
                             // integrity attributes in the wrong order
};
std::string_view to_string(BuildError error);

struct BuildResult {
  std::span<const uint8_t> bytes;
  BuildError error = BuildError::none;

  bool ok() const { return error == BuildError::none; }
  explicit operator bool() const { return ok(); }
};

class Builder {
 public:
  // Writes the 20-byte header. RFC 8489 §14: padding "MUST be set to zero on sending"; another
  // padding byte is for reproducing messages that used one (RFC 5769 pads with spaces).
  Builder(std::span<uint8_t> buffer, MessageType type, const TransactionId& id, uint8_t padding = 0);

  // A success response or an error response (with ERROR-CODE and its recommended reason phrase
  // unless one is given) to `request`: same method, same transaction ID.
  static Builder success_response(std::span<uint8_t> buffer, const Message& request);
  static Builder error_response(std::span<uint8_t> buffer, const Message& request, ErrorCode code,
                                std::string_view reason = {});

  // Any attribute as raw bytes, padded. Refuses the three integrity types, which have their own
  // calls below.
  void add_raw(uint16_t type, std::span<const uint8_t> value);

  // address_attributes.hpp
  void add_mapped_address(const TransportAddress& address);
  void add_xor_mapped_address(const TransportAddress& address);
  void add_alternate_server(const TransportAddress& address);
  void add_xor_peer_address(const TransportAddress& address);
  void add_xor_relayed_address(const TransportAddress& address);

  // string_attributes.hpp: values past the sending limits are refused with invalid_value.
  void add_username(std::string_view username);
  void add_realm(std::string_view realm);
  void add_nonce(std::string_view nonce);
  void add_software(std::string_view software);
  void add_alternate_domain(std::string_view domain);

  // credential_attributes.hpp
  void add_userhash(std::span<const uint8_t, kUserhashSize> userhash);
  void add_password_algorithm(const PasswordAlgorithmEntry& entry);
  void add_password_algorithms(std::span<const PasswordAlgorithmEntry> entries);

  // error_attributes.hpp: an empty reason is replaced by the recommended phrase.
  void add_error_code(ErrorCode code, std::string_view reason = {});
  void add_unknown_attributes(std::span<const uint16_t> types);
  void add_address_error_code(Family family, ErrorCode code, std::string_view reason = {});

  // turn_attributes.hpp
  void add_channel_number(ChannelNumber channel);
  void add_lifetime(Lifetime lifetime);
  void add_data(std::span<const uint8_t> data);
  void add_requested_address_family(Family family);
  void add_additional_address_family(Family family);
  void add_even_port(EvenPort even_port);
  void add_requested_transport(RequestedTransport transport);
  void add_dont_fragment();
  void add_reservation_token(const ReservationToken& token);
  void add_icmp(const Icmp& icmp);

  // RFC 8489 §14.5: HMAC-SHA1 over the message so far, with the header length counting the
  // MESSAGE-INTEGRITY attribute. The key must be an hmac_sha1 MacKey.
  void add_message_integrity(const crypto::MacKey& key, crypto::Engine& engine);
  // RFC 8489 §14.6: HMAC-SHA256, truncated to `size` bytes (16..32, a multiple of 4) where the
  // usage allows it. The key must be an hmac_sha256 MacKey.
  void add_message_integrity_sha256(const crypto::MacKey& key, crypto::Engine& engine,
                                    size_t size = crypto::kSha256Size);
  // For building a burst of responses and computing their MACs in one Engine::mac_batch call:
  // appends the attribute with the header length counting it and leaves the tag to the returned
  // job. The job views the buffer, header included, so run it before appending anything else:
  // MESSAGE-INTEGRITY-SHA256 and FINGERPRINT cover the tag (a message with both integrity
  // attributes takes two batches). Full-length tags only.
  std::optional<crypto::MacJob> prepare_message_integrity(const crypto::MacKey& key);
  std::optional<crypto::MacJob> prepare_message_integrity_sha256(const crypto::MacKey& key);
  // RFC 8489 §14.7: CRC-32 XOR 0x5354554e over the message so far, the length counting FINGERPRINT.
  void add_fingerprint(crypto::Engine& engine);

  bool ok() const { return error_ == BuildError::none; }
  BuildError error() const { return error_; }
  size_t size() const { return size_; }
  const TransactionId& transaction_id() const { return id_; }

  // The message, or the first error.
  BuildResult finish() const;

 private:
  enum class Stage : uint8_t { body, after_mi, after_mi_sha256, after_fingerprint };

  // Appends an attribute header and returns where its `length` value bytes go (the padding is
  // written); nullptr after an error.
  uint8_t* append(uint16_t type, size_t length);
  uint8_t* append(AttributeType type, size_t length) { return append(static_cast<uint16_t>(type), length); }
  void fail(BuildError error) {
    if (error_ == BuildError::none) error_ = error;
  }
  void add_text(AttributeType type, std::string_view text);
  void add_xor_address(AttributeType type, const TransportAddress& address);
  void add_plain_address(AttributeType type, const TransportAddress& address);
  void add_family(AttributeType type, Family family);
  uint8_t* append_integrity(AttributeType type, size_t size, Stage allowed_before, Stage after);

  std::span<uint8_t> buffer_;
  size_t size_ = 0;
  TransactionId id_;
  BuildError error_ = BuildError::none;
  Stage stage_ = Stage::body;
  uint8_t padding_ = 0;
};

}  // namespace tern::stun
