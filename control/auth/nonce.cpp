#include "control/auth/nonce.hpp"

#include <cstring>
#include <random>

#include "control/base/base64.hpp"

namespace tern::ctl {
namespace {

constexpr size_t kPayloadSize = 4 + 1 + kNonceTagSize;  // 15 bytes, 20 base64 characters
static_assert(base64_size(kPayloadSize) + stun::kNonceCookieSize == kNonceSize);

std::array<uint8_t, 32> fresh_secret() {
  std::array<uint8_t, 32> secret{};
  if (!crypto::random_bytes(secret)) {
    std::random_device device;
    for (auto& b : secret) b = static_cast<uint8_t>(device());
  }
  return secret;
}

void fill_input(const std::array<char, stun::kNonceCookieSize>& cookie, uint32_t issued, AlgorithmOffer offer,
                const TransportAddress& client, std::array<uint8_t, kNonceInputSize>& out) {
  size_t n = 0;
  std::memcpy(out.data(), cookie.data(), cookie.size());
  n += cookie.size();
  out[n++] = static_cast<uint8_t>(issued >> 24);
  out[n++] = static_cast<uint8_t>(issued >> 16);
  out[n++] = static_cast<uint8_t>(issued >> 8);
  out[n++] = static_cast<uint8_t>(issued);
  out[n++] = offer.bits;
  out[n++] = static_cast<uint8_t>(client.ip.family());
  std::memcpy(out.data() + n, client.ip.raw().data(), 16);
  n += 16;
  out[n++] = static_cast<uint8_t>(client.port.value >> 8);
  out[n++] = static_cast<uint8_t>(client.port.value);
}

}  // namespace

EncodedOffer encode_offer(AlgorithmOffer offer) {
  EncodedOffer out;
  auto put = [&out](stun::PasswordAlgorithm a) {
    const auto v = static_cast<uint16_t>(a);
    out.bytes[out.size++] = static_cast<uint8_t>(v >> 8);
    out.bytes[out.size++] = static_cast<uint8_t>(v);
    out.bytes[out.size++] = 0;  // no parameters
    out.bytes[out.size++] = 0;
  };
  if (offer.sha256()) put(stun::PasswordAlgorithm::sha256);
  if (offer.md5()) put(stun::PasswordAlgorithm::md5);
  return out;
}

size_t offer_entries(AlgorithmOffer offer, std::span<stun::PasswordAlgorithmEntry, 2> out) {
  size_t n = 0;
  if (offer.sha256()) out[n++] = {stun::PasswordAlgorithm::sha256, {}};
  if (offer.md5()) out[n++] = {stun::PasswordAlgorithm::md5, {}};
  return n;
}

NonceIssuer::NonceIssuer(crypto::Engine& engine, uint32_t lifetime_seconds)
    : NonceIssuer(engine, lifetime_seconds, fresh_secret()) {}

NonceIssuer::NonceIssuer(crypto::Engine& engine, uint32_t lifetime_seconds,
                         std::span<const uint8_t, 32> secret)
    : engine_(engine), key_(engine.make_mac_key(crypto::Mac::hmac_sha256, secret)), lifetime_(lifetime_seconds) {}

Nonce NonceIssuer::issue(const TransportAddress& client, int64_t unix_now, AlgorithmOffer offer) {
  const auto cookie = stun::nonce_cookie(kFeatures);
  const auto issued = static_cast<uint32_t>(unix_now);
  std::array<uint8_t, kNonceInputSize> input{};
  fill_input(cookie, issued, offer, client, input);
  std::array<uint8_t, crypto::kSha256Size> tag{};
  engine_.mac(key_, input, tag);

  std::array<uint8_t, kPayloadSize> payload{};
  payload[0] = static_cast<uint8_t>(issued >> 24);
  payload[1] = static_cast<uint8_t>(issued >> 16);
  payload[2] = static_cast<uint8_t>(issued >> 8);
  payload[3] = static_cast<uint8_t>(issued);
  payload[4] = offer.bits;
  std::memcpy(payload.data() + 5, tag.data(), kNonceTagSize);

  Nonce nonce;
  std::memcpy(nonce.chars.data(), cookie.data(), cookie.size());
  base64_encode(payload, std::span<char>(nonce.chars).subspan(cookie.size()));
  return nonce;
}

std::optional<NonceFields> NonceIssuer::decode(std::string_view nonce) {
  if (nonce.size() != kNonceSize) return std::nullopt;
  const auto features = stun::nonce_security_features(nonce);
  if (!features) return std::nullopt;
  std::array<uint8_t, kPayloadSize> payload{};
  if (!base64_decode(nonce.substr(stun::kNonceCookieSize), payload)) return std::nullopt;
  NonceFields f;
  f.features = *features;
  f.issued = (uint32_t{payload[0]} << 24) | (uint32_t{payload[1]} << 16) | (uint32_t{payload[2]} << 8) | payload[3];
  f.offer.bits = payload[4];
  std::memcpy(f.tag.data(), payload.data() + 5, kNonceTagSize);
  return f;
}

bool NonceIssuer::fresh(const NonceFields& fields, int64_t unix_now) const {
  const int64_t issued = fields.issued;
  return issued <= unix_now + kClockSkew && unix_now < issued + lifetime_;
}

crypto::MacCheck NonceIssuer::check_input(std::string_view nonce, const NonceFields& fields,
                                          const TransportAddress& client, NonceCheckInput& input) const {
  std::array<char, stun::kNonceCookieSize> cookie{};
  std::memcpy(cookie.data(), nonce.data(), cookie.size());
  fill_input(cookie, fields.issued, fields.offer, client, input.message);
  return {&key_, input.message, fields.tag};
}

bool NonceIssuer::valid(std::string_view nonce, const TransportAddress& client, int64_t unix_now) {
  const auto fields = decode(nonce);
  if (!fields || !fresh(*fields, unix_now)) return false;
  NonceCheckInput input;
  const auto check = check_input(nonce, *fields, client, input);
  return engine_.verify_batch({&check, 1}) == 1;
}

}  // namespace tern::ctl
