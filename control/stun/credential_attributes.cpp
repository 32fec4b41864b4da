#include "control/stun/credential_attributes.hpp"

#include <cstring>
#include <initializer_list>

#include "control/stun/parser.hpp"
#include "control/stun/string_attributes.hpp"
#include "control/stun/wire.hpp"
#include "crypto/engine.hpp"

namespace tern::stun {
namespace {

// The longest "username:realm:password" that can be hashed: a USERNAME and a REALM of the most a
// receiver accepts and a password of the same size.
constexpr size_t kMaxPasswordBytes = 763;
constexpr size_t kMaxKeyInput = kMaxUsernameReceiveBytes + 1 + kMaxTextReceiveBytes + 1 + kMaxPasswordBytes;

// Joins the parts with ':' into `out`; the joined length, or nullopt if it does not fit.
template <size_t N>
std::optional<size_t> join(std::array<uint8_t, N>& out, std::initializer_list<std::string_view> parts) {
  size_t at = 0;
  bool first = true;
  for (const auto part : parts) {
    const size_t need = part.size() + (first ? 0 : 1);
    if (need > N - at) return std::nullopt;
    if (!first) out[at++] = ':';
    std::memcpy(out.data() + at, part.data(), part.size());
    at += part.size();
    first = false;
  }
  return at;
}

// The entry at `offset` of a list already checked by decode_password_algorithms.
PasswordAlgorithmEntry entry_at(std::span<const uint8_t> value, size_t offset) {
  const auto algorithm = static_cast<PasswordAlgorithm>(wire::load_u16(value.data() + offset));
  const size_t length = wire::load_u16(value.data() + offset + 2);
  return {algorithm, value.subspan(offset + 4, length)};
}

// Bytes taken by the entry at `offset`; nullopt if its header or parameters run past the value.
// The padding of the last entry may be left out, as the attribute is itself padded.
std::optional<size_t> entry_extent(std::span<const uint8_t> value, size_t offset) {
  if (value.size() - offset < 4) return std::nullopt;
  const size_t length = wire::load_u16(value.data() + offset + 2);
  const size_t available = value.size() - offset - 4;
  if (wire::padded(length) <= available) return 4 + wire::padded(length);
  if (length == available) return 4 + length;
  return std::nullopt;
}

}  // namespace

std::optional<std::span<const uint8_t, kUserhashSize>> decode_userhash(std::span<const uint8_t> value) {
  if (value.size() != kUserhashSize) return std::nullopt;
  return value.first<kUserhashSize>();
}

Decoded<std::span<const uint8_t, kUserhashSize>> userhash(const Message& message) {
  using Result = Decoded<std::span<const uint8_t, kUserhashSize>>;
  const auto raw = message.find(AttributeType::userhash);
  if (!raw) return Result::absent();
  const auto value = decode_userhash(raw->value);
  if (!value) return Result::malformed_value();
  return *value;
}

std::optional<Userhash> compute_userhash(std::string_view username, std::string_view realm,
                                         crypto::Engine& engine) {
  std::array<uint8_t, kMaxUsernameReceiveBytes + 1 + kMaxTextReceiveBytes> input;
  if (username.size() > kMaxUsernameReceiveBytes || realm.size() > kMaxTextReceiveBytes) return std::nullopt;
  const auto length = join(input, {username, realm});
  if (!length) return std::nullopt;
  Userhash out;
  engine.sha256({input.data(), *length}, out);
  return out;
}

std::optional<PasswordAlgorithmEntry> decode_password_algorithm(std::span<const uint8_t> value) {
  const auto extent = entry_extent(value, 0);
  if (!extent || *extent != value.size()) return std::nullopt;
  return entry_at(value, 0);
}

Decoded<PasswordAlgorithmEntry> password_algorithm(const Message& message) {
  const auto raw = message.find(AttributeType::password_algorithm);
  if (!raw) return Decoded<PasswordAlgorithmEntry>::absent();
  const auto value = decode_password_algorithm(raw->value);
  if (!value) return Decoded<PasswordAlgorithmEntry>::malformed_value();
  return *value;
}

PasswordAlgorithmEntry PasswordAlgorithmList::iterator::operator*() const { return entry_at(value_, offset_); }

PasswordAlgorithmList::iterator& PasswordAlgorithmList::iterator::operator++() {
  offset_ += *entry_extent(value_, offset_);
  return *this;
}

size_t PasswordAlgorithmList::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

bool PasswordAlgorithmList::contains(PasswordAlgorithm algorithm) const {
  for (const auto entry : *this) {
    if (entry.algorithm == algorithm) return true;
  }
  return false;
}

std::optional<PasswordAlgorithmList> decode_password_algorithms(std::span<const uint8_t> value) {
  if (value.empty()) return std::nullopt;
  size_t offset = 0;
  while (offset < value.size()) {
    const auto extent = entry_extent(value, offset);
    if (!extent) return std::nullopt;
    offset += *extent;
  }
  return PasswordAlgorithmList(value);
}

Decoded<PasswordAlgorithmList> password_algorithms(const Message& message) {
  const auto raw = message.find(AttributeType::password_algorithms);
  if (!raw) return Decoded<PasswordAlgorithmList>::absent();
  const auto value = decode_password_algorithms(raw->value);
  if (!value) return Decoded<PasswordAlgorithmList>::malformed_value();
  return *value;
}

size_t password_algorithm_entry_size(const PasswordAlgorithmEntry& entry) {
  return 4 + wire::padded(entry.parameters.size());
}

void encode_password_algorithm_entry(const PasswordAlgorithmEntry& entry, uint8_t* out) {
  wire::store_u16(out, static_cast<uint16_t>(entry.algorithm));
  wire::store_u16(out + 2, static_cast<uint16_t>(entry.parameters.size()));
  if (!entry.parameters.empty()) std::memcpy(out + 4, entry.parameters.data(), entry.parameters.size());
  std::memset(out + 4 + entry.parameters.size(), 0, wire::padded(entry.parameters.size()) - entry.parameters.size());
}

std::optional<LongTermKey> long_term_key(PasswordAlgorithm algorithm, std::string_view username,
                                         std::string_view realm, std::string_view password,
                                         crypto::Engine& engine) {
  if (algorithm != PasswordAlgorithm::md5 && algorithm != PasswordAlgorithm::sha256) return std::nullopt;
  if (username.size() > kMaxUsernameReceiveBytes || realm.size() > kMaxTextReceiveBytes ||
      password.size() > kMaxPasswordBytes)
    return std::nullopt;
  std::array<uint8_t, kMaxKeyInput> input;
  const auto length = join(input, {username, realm, password});
  if (!length) return std::nullopt;
  LongTermKey key;
  if (algorithm == PasswordAlgorithm::md5) {
    engine.md5({input.data(), *length}, std::span<uint8_t, crypto::kMd5Size>(key.bytes.data(), crypto::kMd5Size));
    key.size = crypto::kMd5Size;
  } else {
    engine.sha256({input.data(), *length}, key.bytes);
    key.size = crypto::kSha256Size;
  }
  return key;
}

}  // namespace tern::stun
