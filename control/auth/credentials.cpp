#include "control/auth/credentials.hpp"

#include "conf/keys.hpp"
#include "control/base/base64.hpp"

namespace tern::ctl {
namespace {

size_t slot(stun::PasswordAlgorithm algorithm, stun::Integrity integrity) {
  return (algorithm == stun::PasswordAlgorithm::sha256 ? 2u : 0u) + (integrity == stun::Integrity::sha256 ? 1u : 0u);
}

std::string_view as_view(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

CredentialKeys CredentialKeys::make(const LongTermKeys& keys, crypto::Engine& engine) {
  CredentialKeys out;
  out.keys_[0] = engine.make_mac_key(crypto::Mac::hmac_sha1, keys.md5);
  out.keys_[1] = engine.make_mac_key(crypto::Mac::hmac_sha256, keys.md5);
  if (keys.sha256) {
    out.keys_[2] = engine.make_mac_key(crypto::Mac::hmac_sha1, *keys.sha256);
    out.keys_[3] = engine.make_mac_key(crypto::Mac::hmac_sha256, *keys.sha256);
    out.has_sha256_ = true;
  }
  return out;
}

const crypto::MacKey* CredentialKeys::get(stun::PasswordAlgorithm algorithm, stun::Integrity integrity) const {
  if (!has(algorithm)) return nullptr;
  return &keys_[slot(algorithm, integrity)];
}

Credentials::Credentials(crypto::Engine& engine, std::string realm, size_t rest_cache_capacity)
    : engine_(engine), realm_(std::move(realm)), rest_capacity_(rest_cache_capacity < 2 ? 2 : rest_cache_capacity) {}

void Credentials::add_user(const conf::User& user) {
  remove_user(user.name);
  StaticUser entry;
  entry.name = user.name;
  entry.keys = CredentialKeys::make({user.key_md5, user.key_sha256}, engine_);
  if (const auto hash = stun::compute_userhash(user.name, realm_, engine_)) entry.userhash = *hash;
  by_userhash_.emplace(std::string(as_view(entry.userhash)), user.name);
  if (user.key_sha256) ++users_with_sha256_;
  users_.emplace(user.name, std::move(entry));
}

bool Credentials::remove_user(std::string_view name) {
  const auto it = users_.find(name);
  if (it == users_.end()) return false;
  by_userhash_.erase(std::string(as_view(it->second.userhash)));
  if (it->second.keys.has(stun::PasswordAlgorithm::sha256)) --users_with_sha256_;
  users_.erase(it);
  return true;
}

void Credentials::set_users(std::span<const conf::User> users) {
  users_.clear();
  by_userhash_.clear();
  users_with_sha256_ = 0;
  for (const auto& u : users) add_user(u);
}

const StaticUser* Credentials::find_user(std::string_view name) const {
  const auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

const StaticUser* Credentials::find_userhash(std::span<const uint8_t, stun::kUserhashSize> userhash) const {
  const auto it = by_userhash_.find(as_view(userhash));
  return it == by_userhash_.end() ? nullptr : find_user(it->second);
}

std::vector<std::string> Credentials::user_names() const {
  std::vector<std::string> names;
  names.reserve(users_.size());
  for (const auto& [name, user] : users_) names.push_back(name);
  return names;
}

void Credentials::set_secrets(std::span<const std::string> secrets) {
  secret_keys_.clear();
  for (const auto& s : secrets)
    secret_keys_.push_back(engine_.make_mac_key(
        crypto::Mac::hmac_sha1, {reinterpret_cast<const uint8_t*>(s.data()), s.size()}));
  rest_current_.clear();
  rest_previous_.clear();
}

bool Credentials::has_secrets(std::span<const std::string> secrets) const {
  if (secrets.size() != secret_keys_.size()) return false;
  for (size_t i = 0; i < secrets.size(); ++i) {
    const auto key = engine_.make_mac_key(
        crypto::Mac::hmac_sha1, {reinterpret_cast<const uint8_t*>(secrets[i].data()), secrets[i].size()});
    if (key.inner != secret_keys_[i].inner || key.outer != secret_keys_[i].outer) return false;
  }
  return true;
}

LongTermKeys Credentials::derive_rest(std::string_view username, size_t secret) {
  // password = base64(HMAC-SHA1(secret, username))
  std::array<uint8_t, crypto::kSha1Size> mac{};
  engine_.mac(secret_keys_[secret], {reinterpret_cast<const uint8_t*>(username.data()), username.size()}, mac);
  std::array<char, base64_size(crypto::kSha1Size)> password{};
  base64_encode(mac, password);
  const std::string_view pw(password.data(), password.size());
  LongTermKeys keys;
  keys.md5 = conf::md5_key(engine_, username, realm_, pw);
  keys.sha256 = conf::sha256_key(engine_, username, realm_, pw);
  return keys;
}

const RestCredential* Credentials::find_rest(std::string_view username) {
  if (const auto it = rest_current_.find(username); it != rest_current_.end()) return &it->second;
  const auto old = rest_previous_.find(username);
  if (old == rest_previous_.end()) return nullptr;
  // Still in use: bring it into the current generation.
  auto node = rest_previous_.extract(old);
  if (rest_current_.size() >= rest_capacity_ / 2) {
    rest_previous_ = std::move(rest_current_);
    rest_current_.clear();
  }
  return &rest_current_.insert(std::move(node)).position->second;
}

void Credentials::remember_rest(std::string_view username, int64_t expiry, size_t secret, const LongTermKeys& keys) {
  if (const auto it = rest_current_.find(username); it != rest_current_.end()) {
    it->second = {expiry, secret, CredentialKeys::make(keys, engine_)};
    return;
  }
  rest_previous_.erase(std::string(username));
  if (rest_current_.size() >= rest_capacity_ / 2) {
    rest_previous_ = std::move(rest_current_);
    rest_current_.clear();
  }
  rest_current_.emplace(std::string(username), RestCredential{expiry, secret, CredentialKeys::make(keys, engine_)});
}

AlgorithmOffer Credentials::default_offer() const {
  AlgorithmOffer offer{AlgorithmOffer::kMd5};
  if (!secret_keys_.empty() || users_with_sha256_ > 0) offer.bits |= AlgorithmOffer::kSha256;
  return offer;
}

AlgorithmOffer Credentials::offer_for(const CredentialKeys& keys) {
  AlgorithmOffer offer{AlgorithmOffer::kMd5};
  if (keys.has(stun::PasswordAlgorithm::sha256)) offer.bits |= AlgorithmOffer::kSha256;
  return offer;
}

}  // namespace tern::ctl
