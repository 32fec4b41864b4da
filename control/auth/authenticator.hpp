#pragma once
// Long-term credential authentication of a burst of requests (RFC 8489 §9.2.4), with the
// MESSAGE-INTEGRITY(-SHA256) tags and nonce tags of the whole burst checked in one
// Engine::verify_batch call per 32 checks (one call for a burst of 32 requests whose nonces were
// verified before, two when every nonce is new).
//
// The checks, in the RFC's order:
//   1. no MESSAGE-INTEGRITY and no MESSAGE-INTEGRITY-SHA256           -> 401 with REALM, NONCE
//   2. integrity but no USERNAME/USERHASH, REALM or NONCE             -> 400
//   3. a NONCE with the cookie and the "Password algorithms" bit: no PASSWORD-ALGORITHM(S) means
//      MD5; otherwise both must be present, PASSWORD-ALGORITHMS must be exactly what this nonce
//      was sent with, and PASSWORD-ALGORITHM one of them (bid-down protection)  -> else 400
//   4. USERNAME/USERHASH not valid (unknown, REALM not ours, REST username expired, no key for
//      the algorithm)                                                  -> 401 with PASSWORD-ALGORITHMS
//   5. the integrity attribute does not verify (MESSAGE-INTEGRITY-SHA256 when present, otherwise
//      MESSAGE-INTEGRITY)                                              -> 401
//   6. the nonce is stale (expired, foreign, not ours)                 -> 438 with a new NONCE
//
// A wrong REALM is an invalid credential (the key covers the realm: RFC 8489 §9.2.2), answered 401
// like an unknown user, so the client learns our realm from the answer.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "control/auth/credentials.hpp"
#include "control/auth/nonce.hpp"
#include "control/stun/credential_attributes.hpp"
#include "control/stun/integrity.hpp"
#include "control/stun/parser.hpp"
#include "crypto/engine.hpp"

namespace tern::ctl {

enum class AuthOutcome : uint8_t {
  ok,
  challenge,        // 401: the request carried no integrity
  bad_request,      // 400
  unauthenticated,  // 401
  stale_nonce,      // 438
};

enum class AuthFailure : uint8_t {
  none,
  no_integrity,
  missing_attributes,
  bid_down,
  unknown_user,
  wrong_realm,
  rest_expired,
  no_key,
  bad_integrity,
  stale_nonce,
};
std::string_view to_string(AuthFailure failure);

struct AuthRequest {
  const stun::Message* message = nullptr;
  TransportAddress client;
  // The nonce last verified for this 5-tuple (its allocation's); the same nonce needs no HMAC.
  const Nonce* verified_nonce = nullptr;
};

struct AuthResult {
  AuthOutcome outcome = AuthOutcome::ok;
  AuthFailure failure = AuthFailure::none;
  // For 401 and 438 answers: what PASSWORD-ALGORITHMS offers, and what the new nonce records.
  AlgorithmOffer offer;
  stun::PasswordAlgorithm algorithm = stun::PasswordAlgorithm::md5;
  // Keys for the response's integrity attributes: one for each the request carried (ok only).
  crypto::MacKey response_sha1;
  crypto::MacKey response_sha256;
  bool sign_sha1 = false;
  bool sign_sha256 = false;
  std::string_view username;    // as authenticated (USERNAME, or the user a USERHASH names)
  std::string_view quota_user;  // the user part of a REST username; otherwise the username
  std::string_view nonce;       // the request's NONCE
  bool nonce_verified = false;  // its tag was checked in this burst: worth remembering
};

class Authenticator {
 public:
  Authenticator(crypto::Engine& engine, Credentials& credentials, NonceIssuer& nonces);

  // results[i] answers requests[i]. `unix_now` judges nonces and REST usernames.
  void authenticate(std::span<const AuthRequest> requests, int64_t unix_now, std::span<AuthResult> results);

  // How many verify_batch calls the last burst made (tests and benchmarks).
  size_t last_batches() const { return last_batches_; }
  // How many REST keys were derived over the authenticator's life.
  uint64_t rest_derivations() const { return rest_derivations_; }

 private:
  struct Candidate {
    size_t request = 0;
    crypto::MacKey key;
    // REST only: the secret and the keys it made, remembered when this candidate verifies.
    bool rest_miss = false;
    size_t secret = 0;
    int64_t expiry = 0;
    LongTermKeys long_term;
  };
  enum class NonceState : uint8_t {
    stale,     // expired, from the future, or not one of ours
    known,     // the 5-tuple's allocation verified this very nonce before
    to_check,  // fresh: its tag goes into the batch
  };
  struct Pending {
    stun::Integrity integrity = stun::Integrity::sha1;
    size_t input_offset = 0;
    size_t input_size = 0;
    size_t first_candidate = 0;
    size_t candidates = 0;
    size_t first_check = 0;          // its candidates' checks, then its nonce's
    size_t checked_candidates = 0;
    NonceState nonce = NonceState::stale;
    NonceFields nonce_fields;
  };
  enum class CheckKind : uint8_t { candidate, nonce };
  struct CheckRef {
    CheckKind kind;
    size_t index;  // candidate index, or request index for a nonce
  };

  // Steps 1-4 for one request; fills pending_[i] or finishes result.
  void prepare(size_t i, const AuthRequest& request, int64_t unix_now, AuthResult& result);
  void add_rest_candidates(size_t i, std::string_view username, int64_t expiry, AuthResult& result);

  crypto::Engine& engine_;
  Credentials& credentials_;
  NonceIssuer& nonces_;

  std::vector<Pending> pending_;
  std::vector<uint8_t> active_;  // per request: waiting for the batch
  std::vector<Candidate> candidates_;
  std::vector<NonceCheckInput> nonce_inputs_;
  std::vector<uint8_t> inputs_;
  std::vector<crypto::MacCheck> checks_;
  std::vector<CheckRef> check_refs_;
  std::vector<uint8_t> verified_;
  size_t last_batches_ = 0;
  uint64_t rest_derivations_ = 0;
};

}  // namespace tern::ctl
