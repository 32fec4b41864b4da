#pragma once
// Credential attributes: USERHASH (RFC 8489 §14.4), PASSWORD-ALGORITHM (§14.12) and
// PASSWORD-ALGORITHMS (§14.11), with the long-term key (§9.2.2, §18.5.1) and the USERHASH value
// they imply.

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

#include "control/stun/attribute.hpp"

namespace tern::crypto {
class Engine;
}

namespace tern::stun {

class Message;

// RFC 8489 §14.4: "The value of USERHASH has a fixed length of 32 bytes."
inline constexpr size_t kUserhashSize = 32;
using Userhash = std::array<uint8_t, kUserhashSize>;

std::optional<std::span<const uint8_t, kUserhashSize>> decode_userhash(std::span<const uint8_t> value);
Decoded<std::span<const uint8_t, kUserhashSize>> userhash(const Message& message);

// RFC 8489 §14.4: "userhash = SHA-256(OpaqueString(username) ":" OpaqueString(realm))". The inputs
// are taken as already prepared. nullopt if they are too long to be a USERNAME and REALM.
std::optional<Userhash> compute_userhash(std::string_view username, std::string_view realm,
                                         crypto::Engine& engine);

// RFC 8489 §18.5: the Password Algorithms registry. Any 16-bit value can arrive on the wire.
enum class PasswordAlgorithm : uint16_t { md5 = 0x0001, sha256 = 0x0002 };

// One algorithm of PASSWORD-ALGORITHM or of the PASSWORD-ALGORITHMS list. MD5 and SHA-256 take no
// parameters.
struct PasswordAlgorithmEntry {
  PasswordAlgorithm algorithm = PasswordAlgorithm::md5;
  std::span<const uint8_t> parameters;
};

// RFC 8489 §14.12:
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Algorithm            |  Algorithm Parameters Length  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Algorithm Parameters (variable)
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// "The parameters are padded to a 32-bit boundary, in the same manner as an attribute."
std::optional<PasswordAlgorithmEntry> decode_password_algorithm(std::span<const uint8_t> value);
Decoded<PasswordAlgorithmEntry> password_algorithm(const Message& message);

// RFC 8489 §14.11: PASSWORD-ALGORITHMS, a list of such entries, each padded to 4 bytes. Viewed in
// place; the decoder has checked that every entry fits.
class PasswordAlgorithmList {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = PasswordAlgorithmEntry;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = PasswordAlgorithmEntry;

    iterator() = default;
    PasswordAlgorithmEntry operator*() const;
    iterator& operator++();
    bool operator==(const iterator& other) const { return offset_ == other.offset_; }

   private:
    friend class PasswordAlgorithmList;
    iterator(std::span<const uint8_t> value, size_t offset) : value_(value), offset_(offset) {}
    std::span<const uint8_t> value_;
    size_t offset_ = 0;
  };

  PasswordAlgorithmList() = default;
  iterator begin() const { return iterator(value_, 0); }
  iterator end() const { return iterator(value_, value_.size()); }
  size_t size() const;
  bool contains(PasswordAlgorithm algorithm) const;
  // The encoded list, to compare with the one a server sent (RFC 8489 §9.2.4).
  std::span<const uint8_t> bytes() const { return value_; }

 private:
  friend std::optional<PasswordAlgorithmList> decode_password_algorithms(std::span<const uint8_t>);
  explicit PasswordAlgorithmList(std::span<const uint8_t> value) : value_(value) {}
  std::span<const uint8_t> value_;
};
// nullopt when empty or when an entry's parameters run past the value.
std::optional<PasswordAlgorithmList> decode_password_algorithms(std::span<const uint8_t> value);
Decoded<PasswordAlgorithmList> password_algorithms(const Message& message);

// Size of an entry on the wire: 4 + the padded parameters.
size_t password_algorithm_entry_size(const PasswordAlgorithmEntry& entry);
// Writes password_algorithm_entry_size(entry) bytes, padding with zeros.
void encode_password_algorithm_entry(const PasswordAlgorithmEntry& entry, uint8_t* out);

// RFC 8489 §18.5.1: the long-term credential key,
//   MD5:     key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)), 16 bytes
//   SHA-256: key = SHA-256(username ":" OpaqueString(realm) ":" OpaqueString(password)), 32 bytes
// The strings are taken as already prepared. Writes the key to the front of `key` and returns its
// length; nullopt for another algorithm or inputs too long to be a USERNAME, REALM and password.
struct LongTermKey {
  std::array<uint8_t, 32> bytes{};
  size_t size = 0;
  std::span<const uint8_t> span() const { return {bytes.data(), size}; }
};
std::optional<LongTermKey> long_term_key(PasswordAlgorithm algorithm, std::string_view username,
                                         std::string_view realm, std::string_view password,
                                         crypto::Engine& engine);

}  // namespace tern::stun
