#pragma once
// The long-term credentials tern accepts (RFC 8489 §9.2): static users from the configuration,
// kept as keys, and TURN REST API ephemeral credentials derived from shared secrets. Both change
// at run time (the operator socket adds and removes users and rotates secrets) without touching
// live allocations.
//
// Keys: RFC 8489 §9.2.2 / §18.5.1 make one long-term key per password algorithm (MD5: 16 bytes,
// SHA-256: 32 bytes); MESSAGE-INTEGRITY is HMAC-SHA1 and MESSAGE-INTEGRITY-SHA256 HMAC-SHA256 with
// that key. Every (algorithm, integrity) pair a user can use gets its HMAC pads precomputed when
// the user is added, never per request. A user configured by MD5 key alone has no SHA-256 key.
//
// REST credentials: password = base64(HMAC-SHA1(secret, username)), and the keys follow from the
// password as for any user. Deriving them costs an HMAC, an MD5 or SHA-256 and the pads, so the
// keys of usernames that verified are cached (bounded: two generations of at most half the
// capacity each, the older dropped when the newer fills). Several secrets are accepted at once,
// newest first, so one can be rotated; changing the secrets empties the cache.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conf/config.hpp"
#include "control/base/hash.hpp"
#include "control/auth/nonce.hpp"
#include "control/stun/credential_attributes.hpp"
#include "control/stun/integrity.hpp"
#include "crypto/engine.hpp"

namespace tern::ctl {

// The two long-term keys of one credential.
struct LongTermKeys {
  conf::Md5Key md5{};
  std::optional<conf::Sha256Key> sha256;
};

// HMAC keys with pads, per password algorithm and integrity attribute.
class CredentialKeys {
 public:
  // Precomputes every pair the long-term keys allow.
  static CredentialKeys make(const LongTermKeys& keys, crypto::Engine& engine);

  bool has(stun::PasswordAlgorithm algorithm) const {
    return algorithm == stun::PasswordAlgorithm::md5 || (algorithm == stun::PasswordAlgorithm::sha256 && has_sha256_);
  }
  // nullptr when the credential has no key for the algorithm.
  const crypto::MacKey* get(stun::PasswordAlgorithm algorithm, stun::Integrity integrity) const;

 private:
  std::array<crypto::MacKey, 4> keys_{};  // [md5/sha1, md5/sha256, sha256/sha1, sha256/sha256]
  bool has_sha256_ = false;
};

struct StaticUser {
  std::string name;
  CredentialKeys keys;
  stun::Userhash userhash{};  // RFC 8489 §14.4: SHA-256(username ":" realm)
};

// A REST username whose keys verified with secrets_[secret].
struct RestCredential {
  int64_t expiry = 0;
  size_t secret = 0;
  CredentialKeys keys;
};

class Credentials {
 public:
  Credentials(crypto::Engine& engine, std::string realm, size_t rest_cache_capacity = 65536);

  const std::string& realm() const { return realm_; }

  // ---- static users ----
  // Adds, or replaces a user of the same name.
  void add_user(const conf::User& user);
  bool remove_user(std::string_view name);
  // Replaces every user with these.
  void set_users(std::span<const conf::User> users);
  const StaticUser* find_user(std::string_view name) const;
  const StaticUser* find_userhash(std::span<const uint8_t, stun::kUserhashSize> userhash) const;
  size_t user_count() const { return users_.size(); }
  std::vector<std::string> user_names() const;

  // ---- TURN REST API ----
  void set_secrets(std::span<const std::string> secrets);
  // Whether these are the secrets in use, in the same order (compared by their HMAC keys).
  bool has_secrets(std::span<const std::string> secrets) const;
  size_t secret_count() const { return secret_keys_.size(); }
  // Both long-term keys of `username` as secret i makes them (i < secret_count()).
  LongTermKeys derive_rest(std::string_view username, size_t secret);
  // A username that verified before, or nullptr.
  const RestCredential* find_rest(std::string_view username);
  // Remembers the keys of a username that verified with `secret`.
  void remember_rest(std::string_view username, int64_t expiry, size_t secret, const LongTermKeys& keys);
  size_t rest_cached() const { return rest_current_.size() + rest_previous_.size(); }

  // What a 401 offers in PASSWORD-ALGORITHMS before the user is known: SHA-256 too when any
  // credential can use it (REST secrets always can; static users when configured with it).
  AlgorithmOffer default_offer() const;
  // What a 401 offers once the user is known.
  static AlgorithmOffer offer_for(const CredentialKeys& keys);

 private:
  using RestMap = std::unordered_map<std::string, RestCredential, StringHash, std::equal_to<>>;

  crypto::Engine& engine_;
  std::string realm_;
  std::unordered_map<std::string, StaticUser, StringHash, std::equal_to<>> users_;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> by_userhash_;  // hash bytes -> name
  size_t users_with_sha256_ = 0;
  std::vector<crypto::MacKey> secret_keys_;  // HMAC-SHA1 keys of the secrets, newest first
  size_t rest_capacity_;
  RestMap rest_current_;
  RestMap rest_previous_;
};

}  // namespace tern::ctl
