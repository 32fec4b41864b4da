#include "control/auth/authenticator.hpp"

#include <algorithm>

#include "control/auth/rest_username.hpp"
#include "control/stun/string_attributes.hpp"

namespace tern::ctl {
namespace {

bool equal_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

std::string_view to_string(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::none: return "none";
    case AuthFailure::no_integrity: return "no_integrity";
    case AuthFailure::missing_attributes: return "missing_attributes";
    case AuthFailure::bid_down: return "bid_down";
    case AuthFailure::unknown_user: return "unknown_user";
    case AuthFailure::wrong_realm: return "wrong_realm";
    case AuthFailure::rest_expired: return "rest_expired";
    case AuthFailure::no_key: return "no_key";
    case AuthFailure::bad_integrity: return "bad_integrity";
    case AuthFailure::stale_nonce: return "stale_nonce";
  }
  return "unknown";
}

Authenticator::Authenticator(crypto::Engine& engine, Credentials& credentials, NonceIssuer& nonces)
    : engine_(engine), credentials_(credentials), nonces_(nonces) {
  pending_.reserve(crypto::kMaxBatch);
  candidates_.reserve(crypto::kMaxBatch * 2);
  checks_.reserve(crypto::kMaxBatch * 2);
  check_refs_.reserve(crypto::kMaxBatch * 2);
  nonce_inputs_.reserve(crypto::kMaxBatch);
  inputs_.reserve(crypto::kMaxBatch * 512);
}

void Authenticator::add_rest_candidates(size_t i, std::string_view username, int64_t expiry, AuthResult& r) {
  Pending& p = pending_[i];
  const RestCredential* cached = credentials_.find_rest(username);
  if (cached != nullptr && cached->expiry == expiry && cached->secret < credentials_.secret_count()) {
    candidates_.push_back({i, *cached->keys.get(r.algorithm, p.integrity), false, 0, 0, {}});
    r.response_sha1 = *cached->keys.get(r.algorithm, stun::Integrity::sha1);
    r.response_sha256 = *cached->keys.get(r.algorithm, stun::Integrity::sha256);
    return;
  }
  // Not seen yet: one candidate per secret, newest first; the batch tells which one made it.
  for (size_t s = 0; s < credentials_.secret_count(); ++s) {
    const LongTermKeys keys = credentials_.derive_rest(username, s);
    ++rest_derivations_;
    const auto& key_bytes = r.algorithm == stun::PasswordAlgorithm::sha256
                                ? std::span<const uint8_t>(*keys.sha256)
                                : std::span<const uint8_t>(keys.md5);
    candidates_.push_back({i, engine_.make_mac_key(stun::mac_of(p.integrity), key_bytes), true, s, expiry, keys});
  }
}

void Authenticator::prepare(size_t i, const AuthRequest& request, int64_t unix_now, AuthResult& r) {
  const stun::Message& m = *request.message;
  const bool mi = m.has_message_integrity();
  const bool mi256 = m.has_message_integrity_sha256();
  r.offer = credentials_.default_offer();

  // 1. RFC 8489 §9.2.4: "If the message does not contain a MESSAGE-INTEGRITY or a
  // MESSAGE-INTEGRITY-SHA256 attribute, the server MUST generate an error response with an error
  // code of 401 (Unauthenticated)."
  if (!mi && !mi256) {
    r.outcome = AuthOutcome::challenge;
    r.failure = AuthFailure::no_integrity;
    return;
  }

  // 2. "If the message contains a MESSAGE-INTEGRITY or a MESSAGE-INTEGRITY-SHA256 attribute, but
  // is missing either the USERNAME or USERHASH, REALM, or NONCE attribute, the server MUST
  // generate an error response with an error code of 400 (Bad Request)."
  const auto username = stun::username(m);
  const auto userhash = stun::userhash(m);
  const auto realm = stun::realm(m);
  const auto nonce = stun::nonce(m);
  auto fail = [&r](AuthOutcome outcome, AuthFailure failure) {
    r.outcome = outcome;
    r.failure = failure;
  };
  if (username.malformed() || userhash.malformed() || realm.malformed() || nonce.malformed() ||
      (!username && !userhash) || !realm || !nonce) {
    return fail(AuthOutcome::bad_request, AuthFailure::missing_attributes);
  }
  r.nonce = *nonce;

  // 3. "If the NONCE attribute starts with the "nonce cookie" with the STUN Security Feature
  // "Password algorithms" bit set to 1 ... If the request contains neither the PASSWORD-ALGORITHMS
  // nor the PASSWORD-ALGORITHM algorithm, then the request is processed as though
  // PASSWORD-ALGORITHM were MD5. Otherwise, unless (1) PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS
  // are both present, (2) PASSWORD-ALGORITHMS matches the value sent in the response that sent
  // this NONCE, and (3) PASSWORD-ALGORITHM matches one of the entries in PASSWORD-ALGORITHMS, the
  // server MUST generate an error response with an error code of 400 (Bad Request)."
  const auto fields = NonceIssuer::decode(*nonce);
  const auto features = stun::nonce_security_features(*nonce);
  bool negotiated = false;
  if (features && features->password_algorithms()) {
    const auto chosen = stun::password_algorithm(m);
    const auto offered = m.find(stun::AttributeType::password_algorithms);
    if (!chosen.is_absent() || offered) {
      if (!chosen || !offered || !fields) return fail(AuthOutcome::bad_request, AuthFailure::bid_down);
      if (!equal_bytes(offered->value, encode_offer(fields->offer).span()) ||
          !fields->offer.offers(chosen->algorithm) || !chosen->parameters.empty()) {
        return fail(AuthOutcome::bad_request, AuthFailure::bid_down);
      }
      r.algorithm = chosen->algorithm;
      negotiated = true;
    }
  } else if (const auto chosen = stun::password_algorithm(m);
             chosen && chosen->parameters.empty() && chosen->algorithm == stun::PasswordAlgorithm::sha256) {
    // A nonce without the bit is not one of ours (ours always carry it) and ends in 438; a client
    // that keyed its request with SHA-256 anyway (RFC 8489 Appendix B.1 does) is checked with that
    // key, so it learns of the stale nonce rather than of a failed integrity check. Nothing is
    // bid down: without the bit MD5 is the default this replaces.
    r.algorithm = chosen->algorithm;
  }

  // 4. "If the value of the USERNAME or USERHASH attribute is not valid, the server MUST generate
  // an error response with an error code of 401 (Unauthenticated)."
  if (*realm != credentials_.realm()) return fail(AuthOutcome::unauthenticated, AuthFailure::wrong_realm);
  Pending& p = pending_[i];
  p = Pending{};
  p.integrity = mi256 ? stun::Integrity::sha256 : stun::Integrity::sha1;
  p.first_candidate = candidates_.size();

  const StaticUser* user = username ? credentials_.find_user(*username) : credentials_.find_userhash(*userhash);
  if (user != nullptr) {
    r.offer = Credentials::offer_for(user->keys);
    if (!user->keys.has(r.algorithm)) return fail(AuthOutcome::unauthenticated, AuthFailure::no_key);
    r.username = user->name;
    r.quota_user = user->name;
    candidates_.push_back({i, *user->keys.get(r.algorithm, p.integrity), false, 0, 0, {}});
    r.response_sha1 = *user->keys.get(r.algorithm, stun::Integrity::sha1);
    r.response_sha256 = *user->keys.get(r.algorithm, stun::Integrity::sha256);
  } else if (username && credentials_.secret_count() > 0) {
    const auto rest = parse_rest_username(*username);
    if (!rest) return fail(AuthOutcome::unauthenticated, AuthFailure::unknown_user);
    if (rest->expiry <= unix_now) return fail(AuthOutcome::unauthenticated, AuthFailure::rest_expired);
    r.username = *username;
    r.quota_user = rest->user.empty() ? *username : rest->user;
    add_rest_candidates(i, *username, rest->expiry, r);
  } else {
    return fail(AuthOutcome::unauthenticated, AuthFailure::unknown_user);
  }
  p.candidates = candidates_.size() - p.first_candidate;
  // The answer carries the integrity attributes the request did. RFC 8489 §9.2.4 adds: "Any
  // response generated by the server MUST include the MESSAGE-INTEGRITY-SHA256 attribute ...
  // unless the request was processed as though PASSWORD-ALGORITHM was MD5 (because the request
  // contained neither PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM)."
  r.sign_sha1 = mi;
  r.sign_sha256 = mi256 || negotiated;
  p.input_size = stun::integrity_input_size(m, p.integrity).value_or(0);

  // 6 (judged after the batch): the nonce.
  if (fields && nonces_.fresh(*fields, unix_now)) {
    const bool known = request.verified_nonce != nullptr && request.verified_nonce->view() == *nonce;
    p.nonce = known ? NonceState::known : NonceState::to_check;
    p.nonce_fields = *fields;
  } else {
    p.nonce = NonceState::stale;
  }
  active_[i] = 1;
}

void Authenticator::authenticate(std::span<const AuthRequest> requests, int64_t unix_now,
                                 std::span<AuthResult> results) {
  const size_t n = requests.size();
  pending_.assign(n, Pending{});
  active_.assign(n, 0);
  candidates_.clear();
  for (size_t i = 0; i < n; ++i) {
    results[i] = AuthResult{};
    prepare(i, requests[i], unix_now, results[i]);
  }

  // The covered bytes of every message, side by side, then the checks that view them.
  size_t total = 0;
  size_t nonce_checks = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!active_[i]) continue;
    pending_[i].input_offset = total;
    total += pending_[i].input_size;
    if (pending_[i].nonce == NonceState::to_check) ++nonce_checks;
  }
  inputs_.resize(total);
  nonce_inputs_.resize(nonce_checks);
  checks_.clear();
  check_refs_.clear();
  size_t next_nonce = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!active_[i]) continue;
    Pending& p = pending_[i];
    const auto input = stun::integrity_input(*requests[i].message, p.integrity,
                                             std::span<uint8_t>(inputs_).subspan(p.input_offset, p.input_size));
    p.first_check = checks_.size();
    if (input) {
      p.checked_candidates = p.candidates;
      for (size_t c = p.first_candidate; c < p.first_candidate + p.candidates; ++c) {
        checks_.push_back(stun::mac_check(*input, candidates_[c].key));
        check_refs_.push_back({CheckKind::candidate, c});
      }
    }
    if (p.nonce == NonceState::to_check) {
      checks_.push_back(nonces_.check_input(results[i].nonce, p.nonce_fields, requests[i].client,
                                            nonce_inputs_[next_nonce++]));
      check_refs_.push_back({CheckKind::nonce, i});
    }
  }

  // One verify_batch per 32 checks.
  verified_.assign(checks_.size(), 0);
  last_batches_ = 0;
  for (size_t from = 0; from < checks_.size(); from += crypto::kMaxBatch) {
    const size_t count = std::min(crypto::kMaxBatch, checks_.size() - from);
    const uint32_t bits = engine_.verify_batch(std::span<const crypto::MacCheck>(checks_).subspan(from, count));
    for (size_t k = 0; k < count; ++k) verified_[from + k] = (bits >> k) & 1u;
    ++last_batches_;
  }
  // 5. and 6., in each request's own checks: candidates first, then its nonce.
  for (size_t i = 0; i < n; ++i) {
    if (!active_[i]) continue;
    AuthResult& r = results[i];
    const Pending& p = pending_[i];
    const Candidate* winner = nullptr;
    for (size_t k = p.first_check; k < p.first_check + p.checked_candidates && winner == nullptr; ++k)
      if (verified_[k]) winner = &candidates_[check_refs_[k].index];
    if (winner == nullptr) {
      r.outcome = AuthOutcome::unauthenticated;
      r.failure = AuthFailure::bad_integrity;
      r.sign_sha1 = r.sign_sha256 = false;
      continue;
    }
    if (winner->rest_miss) {
      credentials_.remember_rest(r.username, winner->expiry, winner->secret, winner->long_term);
      if (const RestCredential* cached = credentials_.find_rest(r.username)) {
        r.response_sha1 = *cached->keys.get(r.algorithm, stun::Integrity::sha1);
        r.response_sha256 = *cached->keys.get(r.algorithm, stun::Integrity::sha256);
      }
    }
    const bool nonce_good = p.nonce == NonceState::known ||
                            (p.nonce == NonceState::to_check && verified_[p.first_check + p.checked_candidates]);
    if (!nonce_good) {
      r.outcome = AuthOutcome::stale_nonce;
      r.failure = AuthFailure::stale_nonce;
      r.sign_sha1 = r.sign_sha256 = false;
      continue;
    }
    r.outcome = AuthOutcome::ok;
    r.failure = AuthFailure::none;
    r.nonce_verified = p.nonce == NonceState::to_check;
  }
}

}  // namespace tern::ctl
