#pragma once
// Stateless nonces (RFC 8489 §9.2). The server keeps no table of nonces: each one carries its
// issue time and the password algorithms the server offered with it, authenticated by an HMAC
// under a secret drawn at start, bound to the client's transport address:
//
//   nonce = "obMatJos2" + base64(security features, 3 bytes)     the nonce cookie, 13 chars
//         + base64(issued (u32, UNIX seconds) | offer (u8) | tag (10 bytes))       20 chars
//   tag   = HMAC-SHA256(secret, cookie | issued | offer | client family | client IP (16) | port)
//           truncated to 10 bytes
//
// RFC 8489 §9.2.4: "The server MUST NOT choose the same NONCE for two requests unless they have the
// same source IP address and port" — two clients never share one because the tag covers the
// address. RFC 8656 §5: the server "SHOULD expire the nonce at least once every hour" — the
// lifetime is auth.nonce_lifetime. A nonce is stale when its lifetime has passed, when it was
// issued more than kClockSkew in the future (the wall clock stepped back), when its tag does not
// verify (another client's, another server's, or from before a restart), or when it is not one of
// ours at all; every case is answered 438 with a fresh nonce.
//
// The HMAC is checked in the burst's batch: check_input() prepares the MacCheck.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "conf/net.hpp"
#include "control/stun/credential_attributes.hpp"
#include "control/stun/string_attributes.hpp"
#include "crypto/engine.hpp"

namespace tern::ctl {

// The password algorithms offered with a nonce, in the PASSWORD-ALGORITHMS the same response
// carried (RFC 8489 §14.11), in the server's order of preference: SHA-256 first.
struct AlgorithmOffer {
  static constexpr uint8_t kMd5 = 1u << 0;
  static constexpr uint8_t kSha256 = 1u << 1;
  uint8_t bits = 0;

  constexpr bool md5() const { return (bits & kMd5) != 0; }
  constexpr bool sha256() const { return (bits & kSha256) != 0; }
  constexpr bool offers(stun::PasswordAlgorithm a) const {
    return a == stun::PasswordAlgorithm::md5 ? md5() : a == stun::PasswordAlgorithm::sha256 && sha256();
  }
  constexpr bool operator==(const AlgorithmOffer&) const = default;
};

// The PASSWORD-ALGORITHMS value of an offer: 4 bytes per algorithm, SHA-256 first.
struct EncodedOffer {
  std::array<uint8_t, 8> bytes{};
  size_t size = 0;
  std::span<const uint8_t> span() const { return {bytes.data(), size}; }
};
EncodedOffer encode_offer(AlgorithmOffer offer);
// The PasswordAlgorithmEntry list for Builder::add_password_algorithms.
size_t offer_entries(AlgorithmOffer offer, std::span<stun::PasswordAlgorithmEntry, 2> out);

inline constexpr size_t kNonceTagSize = 10;
inline constexpr size_t kNonceSize = stun::kNonceCookieSize + 20;
inline constexpr int64_t kClockSkew = 5;  // seconds a nonce may come from the future
inline constexpr size_t kNonceInputSize = stun::kNonceCookieSize + 4 + 1 + 1 + 16 + 2;

// A nonce as text, kNonceSize characters.
struct Nonce {
  std::array<char, kNonceSize> chars{};
  std::string_view view() const { return {chars.data(), chars.size()}; }
};

// What a received nonce says about itself, before its tag is checked.
struct NonceFields {
  stun::SecurityFeatures features;
  uint32_t issued = 0;
  AlgorithmOffer offer;
  std::array<uint8_t, kNonceTagSize> tag{};
};

// The bytes the tag covers, kept beside the check that views them.
struct NonceCheckInput {
  std::array<uint8_t, kNonceInputSize> message{};
};

class NonceIssuer {
 public:
  // Draws the secret from the system's CSPRNG.
  NonceIssuer(crypto::Engine& engine, uint32_t lifetime_seconds);
  // With a given secret (tests).
  NonceIssuer(crypto::Engine& engine, uint32_t lifetime_seconds, std::span<const uint8_t, 32> secret);

  // tern offers both RFC 8489 security features: password algorithms and username anonymity
  // (USERHASH).
  static constexpr stun::SecurityFeatures kFeatures{stun::SecurityFeatures::kPasswordAlgorithms |
                                                     stun::SecurityFeatures::kUsernameAnonymity};

  Nonce issue(const TransportAddress& client, int64_t unix_now, AlgorithmOffer offer);

  // The fields of one of our nonces; nullopt when it does not have our shape.
  static std::optional<NonceFields> decode(std::string_view nonce);
  // Lifetime only (the tag is checked separately).
  bool fresh(const NonceFields& fields, int64_t unix_now) const;
  // Fills `input` with what the tag of `nonce` (decoded into `fields`) must cover for this client,
  // and returns the check for Engine::verify_batch; it views `input` and `fields`.
  crypto::MacCheck check_input(std::string_view nonce, const NonceFields& fields, const TransportAddress& client,
                               NonceCheckInput& input) const;
  // The whole check, for one nonce at a time.
  bool valid(std::string_view nonce, const TransportAddress& client, int64_t unix_now);

  void set_lifetime(uint32_t seconds) { lifetime_ = seconds; }
  uint32_t lifetime() const { return lifetime_; }

 private:
  crypto::Engine& engine_;
  crypto::MacKey key_;
  uint32_t lifetime_;
};

}  // namespace tern::ctl
