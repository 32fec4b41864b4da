#pragma once
// The STUN message parser: a zero-copy view over the caller's bytes with a fixed-capacity index of
// the attributes. No heap allocation; every length on the wire is checked before it is used.
//
//   auto parsed = stun::parse(datagram, engine);
//   if (!parsed) { count(parsed.error); return; }             // silently discarded (RFC 8489 §6.3)
//   const stun::Message& msg = parsed.message;
//   if (!msg.unknown_required().empty()) reply 420 with UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1)
//   auto username = stun::username(msg);                     // typed getters, see *_attributes.hpp

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

#include "control/stun/attribute.hpp"
#include "control/stun/message.hpp"

namespace tern::crypto {
class Engine;
}

namespace tern::stun {

// Attributes a message may carry. A TURN request needs about fifteen at most (an Allocate with
// credentials, EVEN-PORT, address families, SOFTWARE, both integrity attributes and FINGERPRINT);
// the rest of the room is for CreatePermission requests with several XOR-PEER-ADDRESS attributes.
// A message with more attributes than this is rejected with ParseError::too_many_attributes.
inline constexpr size_t kMaxAttributes = 48;

// Why a byte string is not an acceptable STUN message. One kind per check, in the order the
// parser makes them.
enum class ParseError : uint8_t {
  none = 0,
  too_short,                       // fewer than 20 bytes
  not_stun_first_bits,             // RFC 8489 §5: the first two bits are not 00
  bad_magic_cookie,                // RFC 8489 §5: not 0x2112A442
  length_not_multiple_of_4,        // RFC 8489 §5: "the last 2 bits of this field are always zero"
  length_past_datagram,            // 20 + Message Length is more than the bytes given
  trailing_bytes,                  // 20 + Message Length is less than the bytes given
  attribute_overflow,              // an attribute's value (with padding) runs past the message end
  too_many_attributes,             // more than kMaxAttributes attributes
  bad_message_integrity,           // RFC 8489 §14.5: MESSAGE-INTEGRITY value is not 20 bytes
  bad_message_integrity_sha256,    // RFC 8489 §14.6: not 16..32 bytes in multiples of 4
  bad_fingerprint,                 // RFC 8489 §14.7: FINGERPRINT value is not 4 bytes
  fingerprint_not_last,            // RFC 8489 §14.7: an attribute follows FINGERPRINT
  fingerprint_mismatch,            // RFC 8489 §14.7: CRC-32 XOR 0x5354554e does not match
};
std::string_view to_string(ParseError error);

// The attributes of one type, in message order; yields RawAttribute.
class AttributeRange;

// A parsed STUN message. It views the bytes given to parse(); they must outlive it.
class Message {
 public:
  Message() = default;

  MessageType type() const { return type_; }
  Method method() const { return type_.method; }
  MessageClass message_class() const { return type_.cls; }
  const TransactionId& transaction_id() const { return transaction_id_; }
  // The whole message, header included.
  std::span<const uint8_t> bytes() const { return bytes_; }

  // Every attribute the message counts, in order: those before MESSAGE-INTEGRITY, then
  // MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT where present. Attributes after
  // an integrity attribute other than these are ignored (RFC 8489 §14.5, §14.6) and not listed.
  size_t attribute_count() const { return count_; }
  RawAttribute attribute(size_t index) const;

  // The first attribute of this type. For single-valued attributes the first one counts.
  std::optional<RawAttribute> find(AttributeType type) const;
  bool has(AttributeType type) const { return find(type).has_value(); }
  // Every attribute of this type (XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS legitimately repeat).
  AttributeRange all(AttributeType type) const;
  size_t count(AttributeType type) const;

  // RFC 8489 §6.3.1: comprehension-required attributes (0x0000-0x7FFF) tern does not understand,
  // each type once, in order of appearance. A request carrying any gets 420 (Unknown Attribute)
  // with these in UNKNOWN-ATTRIBUTES. Comprehension-optional unknowns are ignored.
  std::span<const uint16_t> unknown_required() const { return {unknown_.data(), unknown_count_}; }

  bool has_message_integrity() const { return mi_ != kNone; }
  bool has_message_integrity_sha256() const { return mi_sha256_ != kNone; }
  // A FINGERPRINT that parse() found was verified.
  bool has_fingerprint() const { return fingerprint_ != kNone; }

  // Offset from the start of the message of the integrity attribute's header; nullopt if absent.
  std::optional<size_t> message_integrity_offset() const { return offset_of(mi_); }
  std::optional<size_t> message_integrity_sha256_offset() const { return offset_of(mi_sha256_); }
  std::optional<size_t> fingerprint_offset() const { return offset_of(fingerprint_); }

 private:
  friend struct MessageParser;
  friend class AttributeRange;

  static constexpr uint8_t kNone = 0xFF;
  struct Entry {
    uint16_t type = 0;
    uint16_t length = 0;
    uint32_t value_offset = 0;  // from the start of the message
  };

  std::optional<size_t> offset_of(uint8_t index) const {
    if (index == kNone) return std::nullopt;
    return entries_[index].value_offset - kAttributeHeaderSize;
  }

  std::span<const uint8_t> bytes_;
  TransactionId transaction_id_;
  MessageType type_;
  uint8_t count_ = 0;
  uint8_t unknown_count_ = 0;
  uint8_t mi_ = kNone;
  uint8_t mi_sha256_ = kNone;
  uint8_t fingerprint_ = kNone;
  std::array<Entry, kMaxAttributes> entries_{};
  std::array<uint16_t, kMaxAttributes> unknown_{};
};

class AttributeRange {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = RawAttribute;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = RawAttribute;

    iterator() = default;
    RawAttribute operator*() const { return message_->attribute(index_); }
    iterator& operator++() {
      index_ = next(index_ + 1);
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const iterator& other) const { return index_ == other.index_; }

   private:
    friend class AttributeRange;
    iterator(const Message* message, uint16_t type, size_t index)
        : message_(message), type_(type), index_(next(index)) {}
    size_t next(size_t from) const {
      while (from < message_->count_ && message_->entries_[from].type != type_) ++from;
      return from;
    }
    const Message* message_ = nullptr;
    uint16_t type_ = 0;
    size_t index_ = 0;
  };

  AttributeRange(const Message& message, AttributeType type)
      : message_(&message), type_(static_cast<uint16_t>(type)) {}
  iterator begin() const { return iterator(message_, type_, 0); }
  iterator end() const { return iterator(message_, type_, message_->count_); }

 private:
  const Message* message_;
  uint16_t type_;
};

inline AttributeRange Message::all(AttributeType type) const { return AttributeRange(*this, type); }

struct ParseResult {
  Message message;
  ParseError error = ParseError::none;

  bool ok() const { return error == ParseError::none; }
  explicit operator bool() const { return ok(); }
};

// Parses exactly one STUN message: `bytes` is a whole UDP datagram, or one frame cut from a stream
// with next_stream_frame(). The engine computes the FINGERPRINT CRC-32 when one is present.
// MESSAGE-INTEGRITY is not checked here: see integrity.hpp (it needs the user's key, and is
// checked for a burst of requests at once).
ParseResult parse(std::span<const uint8_t> bytes, crypto::Engine& engine);

}  // namespace tern::stun
