#pragma once
// STUN attribute types (RFC 8489 §18.3, RFC 8656 §18), the raw TLV view the parser hands out, and
// Decoded<T>, the result of reading one typed attribute out of a message.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "dataplane/contract/stun_numbers.hpp"

namespace tern::stun {



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
