#include "control/stun/parser.hpp"

#include "control/stun/integrity.hpp"
#include "control/stun/wire.hpp"
#include "crypto/engine.hpp"

namespace tern::stun {

std::string_view to_string(ParseError error) {
  switch (error) {
    case ParseError::none: return "none";
    case ParseError::too_short: return "too_short";
    case ParseError::not_stun_first_bits: return "not_stun_first_bits";
    case ParseError::bad_magic_cookie: return "bad_magic_cookie";
    case ParseError::length_not_multiple_of_4: return "length_not_multiple_of_4";
    case ParseError::length_past_datagram: return "length_past_datagram";
    case ParseError::trailing_bytes: return "trailing_bytes";
    case ParseError::attribute_overflow: return "attribute_overflow";
    case ParseError::too_many_attributes: return "too_many_attributes";
    case ParseError::bad_message_integrity: return "bad_message_integrity";
    case ParseError::bad_message_integrity_sha256: return "bad_message_integrity_sha256";
    case ParseError::bad_fingerprint: return "bad_fingerprint";
    case ParseError::fingerprint_not_last: return "fingerprint_not_last";
    case ParseError::fingerprint_mismatch: return "fingerprint_mismatch";
  }
  return "unknown";
}

RawAttribute Message::attribute(size_t index) const {
  if (index >= count_) return {};
  const Entry& e = entries_[index];
  return {static_cast<AttributeType>(e.type), bytes_.subspan(e.value_offset, e.length)};
}

std::optional<RawAttribute> Message::find(AttributeType type) const {
  const auto code = static_cast<uint16_t>(type);
  for (size_t i = 0; i < count_; ++i) {
    if (entries_[i].type == code) return attribute(i);
  }
  return std::nullopt;
}

size_t Message::count(AttributeType type) const {
  const auto code = static_cast<uint16_t>(type);
  size_t n = 0;
  for (size_t i = 0; i < count_; ++i) n += entries_[i].type == code;
  return n;
}

struct MessageParser {
  // Where the attribute walk stands with respect to the integrity attributes.
  enum class Stage : uint8_t { body, after_mi, after_mi_sha256, after_fingerprint };

  static ParseResult run(std::span<const uint8_t> bytes, crypto::Engine& engine) {
    ParseResult result;
    Message& m = result.message;
    const ParseError error = parse_into(bytes, engine, m);
    if (error != ParseError::none) result = ParseResult{Message{}, error};
    return result;
  }

  static ParseError parse_into(std::span<const uint8_t> bytes, crypto::Engine& engine, Message& m) {
    // RFC 8489 §6.3: "it first checks that the message obeys the rules of Section 5. It checks that
    // the first two bits are 0, that the Magic Cookie field has the correct value, that the message
    // length is sensible, and that the method value is a supported method." (The method is the
    // server's business; any value parses.)
    if (bytes.size() < kHeaderSize) return ParseError::too_short;
    const uint8_t* p = bytes.data();
    if ((p[0] & 0xC0) != 0) return ParseError::not_stun_first_bits;
    if (wire::load_u32(p + 4) != kMagicCookie) return ParseError::bad_magic_cookie;
    const size_t length = wire::load_u16(p + 2);
    if (length % 4 != 0) return ParseError::length_not_multiple_of_4;
    if (kHeaderSize + length > bytes.size()) return ParseError::length_past_datagram;
    if (kHeaderSize + length < bytes.size()) return ParseError::trailing_bytes;

    m.bytes_ = bytes;
    m.type_ = MessageType::decode(wire::load_u16(p));
    m.transaction_id_ = TransactionId::from(bytes.subspan<8, kTransactionIdSize>());

    Stage stage = Stage::body;
    size_t walked = 0;
    const size_t end = bytes.size();
    size_t offset = kHeaderSize;
    // The body length is a multiple of 4 and every attribute ends on a 4-byte boundary, so a
    // remaining body is never shorter than an attribute header.
    while (offset < end) {
      const uint16_t type = wire::load_u16(p + offset);
      const size_t value_length = wire::load_u16(p + offset + 2);
      const size_t value_offset = offset + kAttributeHeaderSize;
      if (value_length > end - value_offset) return ParseError::attribute_overflow;
      if (++walked > kMaxAttributes) return ParseError::too_many_attributes;
      // RFC 8489 §14.7: "When present, the FINGERPRINT attribute MUST be the last attribute in the
      // message".
      if (stage == Stage::after_fingerprint) return ParseError::fingerprint_not_last;

      const auto kind = static_cast<AttributeType>(type);
      if (kind == AttributeType::fingerprint) {
        if (value_length != kFingerprintSize) return ParseError::bad_fingerprint;
        m.fingerprint_ = m.count_;
        add(m, type, value_length, value_offset);
        stage = Stage::after_fingerprint;
      } else if (kind == AttributeType::message_integrity_sha256 && stage != Stage::after_mi_sha256) {
        if (!valid_mi_sha256_length(value_length)) return ParseError::bad_message_integrity_sha256;
        m.mi_sha256_ = m.count_;
        add(m, type, value_length, value_offset);
        stage = Stage::after_mi_sha256;
      } else if (kind == AttributeType::message_integrity && stage == Stage::body) {
        if (value_length != kMessageIntegritySize) return ParseError::bad_message_integrity;
        m.mi_ = m.count_;
        add(m, type, value_length, value_offset);
        stage = Stage::after_mi;
      } else if (stage == Stage::body) {
        add(m, type, value_length, value_offset);
        if (is_comprehension_required(type) && !is_known(type)) note_unknown(m, type);
      }
      // RFC 8489 §9: "agents MUST ignore all attributes that follow MESSAGE-INTEGRITY, with the
      // exception of the MESSAGE-INTEGRITY-SHA256 and FINGERPRINT attributes. Similarly, agents
      // MUST ignore all attributes that follow the MESSAGE-INTEGRITY-SHA256 attribute if the
      // MESSAGE-INTEGRITY attribute is not present, with the exception of the FINGERPRINT
      // attribute." (§14.5, §14.6.) Such attributes are walked (they must still fit) and skipped.
      offset = value_offset + wire::padded(value_length);
    }

    if (m.fingerprint_ != Message::kNone) {
      const size_t fp_offset = m.entries_[m.fingerprint_].value_offset - kAttributeHeaderSize;
      const uint32_t expected = wire::load_u32(p + fp_offset + kAttributeHeaderSize);
      if (fingerprint_value(bytes.first(fp_offset), engine) != expected)
        return ParseError::fingerprint_mismatch;
    }
    return ParseError::none;
  }

  static void add(Message& m, uint16_t type, size_t length, size_t value_offset) {
    m.entries_[m.count_++] = {type, static_cast<uint16_t>(length), static_cast<uint32_t>(value_offset)};
  }

  static void note_unknown(Message& m, uint16_t type) {
    for (size_t i = 0; i < m.unknown_count_; ++i) {
      if (m.unknown_[i] == type) return;
    }
    m.unknown_[m.unknown_count_++] = type;
  }
};

ParseResult parse(std::span<const uint8_t> bytes, crypto::Engine& engine) {
  return MessageParser::run(bytes, engine);
}

}  // namespace tern::stun
