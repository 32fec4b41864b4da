#pragma once
// STUN attribute types (RFC 8489 §18.3, RFC 8656 §18), the raw TLV view the parser hands out, and
// Decoded<T>, the result of reading one typed attribute out of a message.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace tern::stun {

// RFC 8489 §14: "Each attribute MUST be TLV encoded, with a 16-bit type, 16-bit length, and value."
inline constexpr size_t kAttributeHeaderSize = 4;
inline constexpr size_t kMaxAttributeValueSize = 0xFFFF;

// Every attribute of RFC 8489 and RFC 8656: X(name, code, "RFC name"). One list defines the enum,
// the names and the set of attributes tern understands.
#define TERN_STUN_ATTRIBUTES(X)                                          \
  /* RFC 8489 §18.3, comprehension-required */                           \
  X(mapped_address, 0x0001, "MAPPED-ADDRESS")                            \
  X(username, 0x0006, "USERNAME")                                        \
  X(message_integrity, 0x0008, "MESSAGE-INTEGRITY")                      \
  X(error_code, 0x0009, "ERROR-CODE")                                    \
  X(unknown_attributes, 0x000A, "UNKNOWN-ATTRIBUTES")                    \
  X(realm, 0x0014, "REALM")                                              \
  X(nonce, 0x0015, "NONCE")                                              \
  X(message_integrity_sha256, 0x001C, "MESSAGE-INTEGRITY-SHA256")        \
  X(password_algorithm, 0x001D, "PASSWORD-ALGORITHM")                    \
  X(userhash, 0x001E, "USERHASH")                                        \
  X(xor_mapped_address, 0x0020, "XOR-MAPPED-ADDRESS")                    \
  /* RFC 8656 §18, comprehension-required */                             \
  X(channel_number, 0x000C, "CHANNEL-NUMBER")                            \
  X(lifetime, 0x000D, "LIFETIME")                                        \
  X(xor_peer_address, 0x0012, "XOR-PEER-ADDRESS")                        \
  X(data, 0x0013, "DATA")                                                \
  X(xor_relayed_address, 0x0016, "XOR-RELAYED-ADDRESS")                  \
  X(requested_address_family, 0x0017, "REQUESTED-ADDRESS-FAMILY")        \
  X(even_port, 0x0018, "EVEN-PORT")                                      \
  X(requested_transport, 0x0019, "REQUESTED-TRANSPORT")                  \
  X(dont_fragment, 0x001A, "DONT-FRAGMENT")                              \
  X(reservation_token, 0x0022, "RESERVATION-TOKEN")                      \
  /* RFC 8656 §18, comprehension-optional */                             \
  X(additional_address_family, 0x8000, "ADDITIONAL-ADDRESS-FAMILY")      \
  X(address_error_code, 0x8001, "ADDRESS-ERROR-CODE")                    \
  X(icmp, 0x8004, "ICMP")                                                \
  /* RFC 8489 §18.3, comprehension-optional */                           \
  X(password_algorithms, 0x8002, "PASSWORD-ALGORITHMS")                  \
  X(alternate_domain, 0x8003, "ALTERNATE-DOMAIN")                        \
  X(software, 0x8022, "SOFTWARE")                                        \
  X(alternate_server, 0x8023, "ALTERNATE-SERVER")                        \
  X(fingerprint, 0x8028, "FINGERPRINT")

enum class AttributeType : uint16_t {
#define TERN_STUN_ATTRIBUTE_ENUM(name, code, text) name = code,
  TERN_STUN_ATTRIBUTES(TERN_STUN_ATTRIBUTE_ENUM)
#undef TERN_STUN_ATTRIBUTE_ENUM
};

// RFC 8489 §14: "Attributes with type values between 0x0000 and 0x7FFF are comprehension-required
// attributes, which means that the STUN agent cannot successfully process the message unless it
// understands the attribute. Attributes with type values between 0x8000 and 0xFFFF are
// comprehension-optional attributes, which means that those attributes can be ignored by the STUN
// agent if it does not understand them."
constexpr bool is_comprehension_required(uint16_t type) { return type < 0x8000; }
constexpr bool is_comprehension_required(AttributeType type) {
  return is_comprehension_required(static_cast<uint16_t>(type));
}

// True for the attributes listed in AttributeType: the ones tern understands.
bool is_known(uint16_t type);
inline bool is_known(AttributeType type) { return is_known(static_cast<uint16_t>(type)); }

// The RFC's name ("XOR-PEER-ADDRESS"), or "unknown".
std::string_view to_string(AttributeType type);

// One attribute as it sits in the message: its type and its value without padding. The value
// points into the caller's bytes.
struct RawAttribute {
  AttributeType type{};
  std::span<const uint8_t> value;

  uint16_t type_code() const { return static_cast<uint16_t>(type); }
};

// Reading a single-valued attribute from a message has three outcomes: the attribute is absent,
// present but malformed (wrong length, bad family, string too long, ...), or present with a value.
// A server typically treats absent as "use the default" and malformed as 400 (Bad Request).
//
//   if (auto lifetime = stun::lifetime(msg)) use(lifetime->seconds);
//   else if (lifetime.malformed()) reply(ErrorCode::kBadRequest);
template <typename T>
class Decoded {
 public:
  static Decoded absent() { return Decoded(Empty::absent); }
  static Decoded malformed_value() { return Decoded(Empty::malformed); }
  Decoded(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose

  bool present() const { return value_.has_value(); }
  bool is_absent() const { return !value_ && !malformed_; }
  bool malformed() const { return malformed_; }
  explicit operator bool() const { return present(); }

  // Only when present().
  const T& operator*() const { return *value_; }
  const T* operator->() const { return &*value_; }
  const T& value() const { return *value_; }
  T value_or(T fallback) const { return value_ ? *value_ : fallback; }

 private:
  enum class Empty : uint8_t { absent, malformed };
  explicit Decoded(Empty why) : malformed_(why == Empty::malformed) {}

  std::optional<T> value_;
  bool malformed_ = false;
};

}  // namespace tern::stun
