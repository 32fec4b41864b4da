// The operator core: static users and TURN REST API secrets, changed live. Secrets and passwords
// arrive in requests and go no further than the credential store: no reply, no log line and no
// error message repeats them.

#include <algorithm>
#include <array>

#include "conf/keys.hpp"
#include "control/operator/commands.hpp"
#include "control/stun/string_attributes.hpp"

namespace tern::ctl {
namespace {

constexpr size_t kMaxSecretBytes = 1024;
constexpr size_t kMaxPasswordBytes = 1024;
constexpr size_t kMinFingerprintPrefix = 4;

}  // namespace

std::string secret_fingerprint(crypto::Engine& engine, std::string_view secret) {
  std::array<uint8_t, crypto::kSha256Size> digest{};
  engine.sha256({reinterpret_cast<const uint8_t*>(secret.data()), secret.size()}, digest);
  return conf::to_hex(std::span<const uint8_t>(digest.data(), 6));
}

api::Result<api::UsersListReply> OperatorCommands::handle(const api::UsersListRequest&, const Caller&, Now) {
  api::UsersListReply r;
  for (auto& name : plane_.user_names()) {
    const bool probe = std::any_of(probes_.begin(), probes_.end(), [&](const auto& p) { return p.name == name; });
    if (!probe) r.users.push_back(std::move(name));
  }
  std::sort(r.users.begin(), r.users.end());
  return r;
}

api::Result<api::UsersAddReply> OperatorCommands::handle(const api::UsersAddRequest& req, const Caller& caller, Now) {
  if (req.name.empty() || req.name.size() > conf::kMaxUsernameBytes || !stun::sendable_username(req.name))
    return api::bad_request("a user name is 1-" + std::to_string(conf::kMaxUsernameBytes) + " bytes of UTF-8");
  if (req.password.has_value() == req.key.has_value())
    return api::bad_request("users.add takes a password or a key, one of them");
  if (req.key_sha256 && !req.key) return api::bad_request("key_sha256 goes with key, not with password");

  conf::User user;
  user.name = req.name;
  const std::string& realm = plane_.settings().realm;
  if (req.password) {
    if (req.password->empty() || req.password->size() > kMaxPasswordBytes)
      return api::bad_request("a password is 1-" + std::to_string(kMaxPasswordBytes) + " bytes");
    user.key_md5 = conf::md5_key(engine_, user.name, realm, *req.password);
    user.key_sha256 = conf::sha256_key(engine_, user.name, realm, *req.password);
  } else {
    if (!conf::parse_hex(*req.key, user.key_md5))
      return api::bad_request("key: expected 32 hex digits, MD5(name \":\" realm \":\" password)");
    if (req.key_sha256) {
      conf::Sha256Key k{};
      if (!conf::parse_hex(*req.key_sha256, k))
        return api::bad_request("key_sha256: expected 64 hex digits, SHA-256(name \":\" realm \":\" password)");
      user.key_sha256 = k;
    }
  }
  const auto names = plane_.user_names();
  api::UsersAddReply r;
  r.name = user.name;
  r.replaced = std::find(names.begin(), names.end(), user.name) != names.end();
  r.sha256 = user.key_sha256.has_value();
  plane_.add_user(user);
  auto& users = running_.auth.users;
  const auto same = std::find_if(users.begin(), users.end(), [&](const auto& u) { return u.name == user.name; });
  if (same != users.end())
    *same = user;
  else
    users.push_back(user);
  audit("users.add", caller, [&](LogLine& l) { l.kv("user", user.name).kv("replaced", r.replaced ? "yes" : "no"); });
  return r;
}

api::Result<api::UsersRemoveReply> OperatorCommands::handle(const api::UsersRemoveRequest& req, const Caller& caller, Now) {
  const bool probe = std::any_of(probes_.begin(), probes_.end(), [&](const auto& p) { return p.name == req.name; });
  if (probe || !plane_.remove_user(req.name)) return api::not_found("no user " + req.name);
  std::erase_if(running_.auth.users, [&](const auto& u) { return u.name == req.name; });
  audit("users.remove", caller, [&](LogLine& l) { l.kv("user", req.name); });
  return api::UsersRemoveReply{req.name, static_cast<uint32_t>(plane_.user_names().size() - probes_.size())};
}

api::Result<api::SecretsReply> OperatorCommands::handle(const api::SecretsListRequest&, const Caller&, Now) {
  api::SecretsReply r;
  for (size_t i = 0; i < running_.auth.secrets.size(); ++i)
    r.secrets.push_back({static_cast<uint32_t>(i), secret_fingerprint(engine_, running_.auth.secrets[i])});
  return r;
}

api::Result<api::SecretsReply> OperatorCommands::handle(const api::SecretsAddRequest& req, const Caller& caller, Now now) {
  if (req.secret.empty() || req.secret.size() > kMaxSecretBytes)
    return api::bad_request("a secret is 1-" + std::to_string(kMaxSecretBytes) + " bytes");
  if (std::find(running_.auth.secrets.begin(), running_.auth.secrets.end(), req.secret) != running_.auth.secrets.end())
    return api::bad_request("that secret is already in use");
  // Newest first unless asked to go last.
  auto& secrets = running_.auth.secrets;
  secrets.push_back(req.secret);
  if (!req.last.value_or(false)) std::rotate(secrets.begin(), secrets.end() - 1, secrets.end());
  plane_.set_secrets(running_.auth.secrets);
  const std::string fingerprint = secret_fingerprint(engine_, req.secret);
  audit("secrets.add", caller, [&](LogLine& l) { l.kv("fingerprint", fingerprint).kv("secrets", running_.auth.secrets.size()); });
  auto r = handle(api::SecretsListRequest{}, caller, now);
  r->changed = fingerprint;
  return r;
}

api::Result<api::SecretsReply> OperatorCommands::handle(const api::SecretsRemoveRequest& req, const Caller& caller, Now now) {
  if (req.fingerprint.size() < kMinFingerprintPrefix)
    return api::bad_request("give the fingerprint (at least its first " + std::to_string(kMinFingerprintPrefix) +
                            " hex digits)");
  std::vector<size_t> matches;
  for (size_t i = 0; i < running_.auth.secrets.size(); ++i)
    if (secret_fingerprint(engine_, running_.auth.secrets[i]).starts_with(req.fingerprint)) matches.push_back(i);
  if (matches.empty()) return api::not_found("no secret with fingerprint " + req.fingerprint);
  if (matches.size() > 1) return api::bad_request("fingerprint " + req.fingerprint + " matches several secrets");
  if (running_.auth.secrets.size() == 1 && plane_.user_names().size() == probes_.size())
    return api::Error{api::ErrorCode::failed, "that is the last credential: no user and no other secret would be "
                                              "left, and every client would be refused; add one first"};
  const std::string fingerprint = secret_fingerprint(engine_, running_.auth.secrets[matches[0]]);
  running_.auth.secrets.erase(running_.auth.secrets.begin() + static_cast<std::ptrdiff_t>(matches[0]));
  plane_.set_secrets(running_.auth.secrets);
  audit("secrets.remove", caller, [&](LogLine& l) { l.kv("fingerprint", fingerprint).kv("secrets", running_.auth.secrets.size()); });
  auto r = handle(api::SecretsListRequest{}, caller, now);
  r->changed = fingerprint;
  return r;
}

}  // namespace tern::ctl
