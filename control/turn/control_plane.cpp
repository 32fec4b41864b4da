#include "control/turn/control_plane.hpp"

#include <algorithm>
#include <cstring>

#include "control/turn/handlers.hpp"
#include "control/stun/string_attributes.hpp"

namespace tern::ctl {
namespace {

NonceIssuer make_nonces(crypto::Engine& engine, const conf::Config& config, const Options& options) {
  const auto lifetime = static_cast<uint32_t>(config.auth.nonce_lifetime.count());
  if (options.nonce_secret) return NonceIssuer(engine, lifetime, *options.nonce_secret);
  return NonceIssuer(engine, lifetime);
}

}  // namespace

ControlPlane::ControlPlane(const conf::Config& config, dp::TableWriter& writer, crypto::Engine& engine,
                           Logger& logger, Options options)
    : settings_(Settings::from(config)),
      writer_(writer),
      engine_(engine),
      logger_(logger),
      ports_(config.relay.addresses, config.relay.ports, random_),
      reservations_(random_),
      allocations_(writer, ports_, config.dataplane.table_size, counters_, logger_, settings_.allocation_limits),
      credentials_(engine, config.realm, options.rest_key_cache),
      nonces_(make_nonces(engine, config, options)),
      authenticator_(engine, credentials_, nonces_),
      limiter_(config.auth.unauthenticated_rate, config.auth.unauthenticated_burst,
               options.unauthenticated_total_rate, options.rate_limit_sources),
      cache_(options.transaction_cache),
      policy_(PeerPolicy::from_config(config)),
      listen_(config.listen.udp),
      relay_addresses_(config.relay.addresses),
      relay_ports_(config.relay.ports) {
  credentials_.set_users(config.auth.users);
  credentials_.set_secrets(config.auth.secrets);
}

size_t ControlPlane::handle(std::span<const Request> requests, Now now, std::span<Response> out) {
  const size_t n = requests.size();
  if (arena_.size() < n) {
    arena_.resize(n);
    arena_size_.resize(n);
    slots_.resize(n);
    replies_.resize(n);
    built_.resize(n);
  }
  for (size_t first = 0; first < n; first += crypto::kMaxBatch)
    handle_chunk(requests.subspan(first, std::min(crypto::kMaxBatch, n - first)), first, now);

  size_t produced = 0;
  auto bytes_of = [this](size_t i) -> std::span<const uint8_t> {
    const Slot& s = slots_[i];
    if (s.kind == Kind::answered) return {arena_[i].data(), arena_size_[i]};
    if ((s.kind == Kind::plain || s.kind == Kind::auth) && replies_[i].started() && built_[i].ok())
      return built_[i].bytes;
    return {};
  };
  for (size_t i = 0; i < n && produced < out.size(); ++i) {
    const size_t from = slots_[i].kind == Kind::duplicate ? slots_[i].original : i;
    const auto bytes = bytes_of(from);
    if (bytes.empty()) continue;
    const Slot& s = slots_[from];
    out[produced++] = {i, bytes, s.created_serial != 0 && from == i ? s.created : dp::kNoAllocation};
  }
  return produced;
}

void ControlPlane::classify(size_t i, size_t chunk_first, const Request& request, Now now) {
  Slot& s = slots_[i];
  s = Slot{};
  s.request = &request;
  replies_[i].clear();
  s.parsed = stun::parse(request.bytes, engine_);
  if (!s.parsed) {
    counters_.add(Counter::dropped_malformed);
    return;
  }
  const stun::Message& m = s.parsed.message;
  // RFC 8489 §6.3: the agent checks "that the method value is a supported method. It checks that the
  // message class is allowed for the particular method ... If any errors are detected, the message
  // is silently discarded." Indications are never answered (§6.3.2).
  if (m.message_class() == stun::MessageClass::indication) {
    counters_.add(Counter::indications_ignored);
    return;
  }
  if (m.message_class() != stun::MessageClass::request) {
    counters_.add(Counter::responses_ignored);
    return;
  }
  const auto counter = request_counter(m.method());
  if (!counter) {
    counters_.add(Counter::dropped_unsupported);
    return;
  }
  counters_.add(*counter);

  // A retransmission: the answer already sent (RFC 8489 §6.3.1).
  const TransactionKey key{request.five_tuple, m.transaction_id()};
  if (const auto kept = cache_.find(key, now.mono); !kept.empty()) {
    std::memcpy(arena_[i].data(), kept.data(), kept.size());
    arena_size_[i] = kept.size();
    s.kind = Kind::answered;
    counters_.add(Counter::retransmissions_answered);
    return;
  }
  for (size_t j = chunk_first; j < i; ++j) {
    const Slot& earlier = slots_[j];
    if ((earlier.kind == Kind::plain || earlier.kind == Kind::auth) &&
        earlier.parsed.message.transaction_id() == m.transaction_id() &&
        earlier.request->five_tuple == request.five_tuple) {
      s.kind = Kind::duplicate;
      s.original = j;
      counters_.add(Counter::retransmissions_answered);
      return;
    }
  }
  Allocation* a = allocations_.find(request.five_tuple, now.mono);
  // RFC 8656 §7.2: a retransmitted Allocate must not get 437 — its allocation keeps the answer.
  if (m.method() == stun::Method::allocate && a != nullptr && a->allocate_id == m.transaction_id() &&
      !a->allocate_response.empty()) {
    std::memcpy(arena_[i].data(), a->allocate_response.data(), a->allocate_response.size());
    arena_size_[i] = a->allocate_response.size();
    s.kind = Kind::answered;
    counters_.add(Counter::retransmissions_answered);
    return;
  }

  replies_[i].reset(arena_[i], m);
  // A Binding without credentials is answered as the data plane would (RFC 8489 §6.3.1.1); any
  // other request, and a Binding with credentials, authenticates (RFC 8656 §7.2, RFC 8489 §9.2.4).
  const bool credentials = m.has_message_integrity() || m.has_message_integrity_sha256();
  if (m.method() == stun::Method::binding && !credentials) {
    s.kind = Kind::plain;
    return;
  }
  s.kind = Kind::auth;
  s.auth = auth_requests_.size();
  auth_requests_.push_back(
      {&m, request.five_tuple.client, a != nullptr && a->has_verified_nonce ? &a->verified_nonce : nullptr});
}

void ControlPlane::handle_chunk(std::span<const Request> requests, size_t first, Now now) {
  auth_requests_.clear();
  for (size_t k = 0; k < requests.size(); ++k) classify(first + k, first, requests[k], now);
  auth_results_.resize(auth_requests_.size());
  authenticator_.authenticate(auth_requests_, now.unix, auth_results_);

  // In arrival order: a request sees the model as every earlier one left it.
  for (size_t k = 0; k < requests.size(); ++k) {
    const size_t i = first + k;
    Slot& s = slots_[i];
    if (s.kind == Kind::plain) {
      answer_unauthenticated(i, requests[k], now);
    } else if (s.kind == Kind::auth) {
      const AuthResult& auth = auth_results_[s.auth];
      if (auth.outcome == AuthOutcome::ok)
        answer_authenticated(i, requests[k], auth, now);
      else
        answer_auth_failure(i, requests[k], auth, now);
    }
  }

  sealer_.seal(std::span<Reply>(replies_).subspan(first, requests.size()), engine_,
               std::span<stun::BuildResult>(built_).subspan(first, requests.size()));

  for (size_t k = 0; k < requests.size(); ++k) {
    const size_t i = first + k;
    Slot& s = slots_[i];
    if ((s.kind != Kind::plain && s.kind != Kind::auth) || !replies_[i].started()) continue;
    const stun::BuildResult& built = built_[i];
    if (!built.ok()) {
      counters_.add(Counter::responses_unbuilt);
      continue;
    }
    counters_.add(response_counter(replies_[i].is_error() ? stun::MessageClass::error_response
                                                          : stun::MessageClass::success_response,
                                   replies_[i].code()));
    if (s.cacheable && !cache_.store({requests[k].five_tuple, s.parsed.message.transaction_id()}, built.bytes, now.mono))
      counters_.add(Counter::transactions_uncacheable);
    if (s.created_serial != 0) {
      Allocation* a = allocations_.find(s.created, now.mono);
      if (a != nullptr && a->serial == s.created_serial) a->allocate_response.assign(built.bytes.begin(), built.bytes.end());
    }
  }
}

void ControlPlane::answer_unauthenticated(size_t i, const Request& request, Now now) {
  Slot& s = slots_[i];
  Reply& reply = replies_[i];
  if (!limiter_.allow(request.five_tuple.client.ip, now.mono)) {
    counters_.add(Counter::unauthenticated_rate_limited);
    reply.clear();
    s.kind = Kind::drop;
    return;
  }
  const stun::Message& m = s.parsed.message;
  // RFC 8489 §6.3.1: "If the request contains one or more unknown comprehension-required
  // attributes, the server replies with an error response with an error code of 420 (Unknown
  // Attribute) and includes an UNKNOWN-ATTRIBUTES attribute".
  if (!m.unknown_required().empty()) {
    reply.error(stun::ErrorCode::kUnknownAttribute).add_unknown_attributes(m.unknown_required());
    return;
  }
  static const AuthResult kNone{};
  HandlerContext ctx{settings_, allocations_, ports_, reservations_, policy_, counters_, logger_, now, draining_};
  Transaction tx{request.five_tuple, request.transport, request.stream, m, kNone, nullptr, reply};
  handle_binding(ctx, tx);
}

void ControlPlane::add_challenge(stun::Builder& b, const TransportAddress& client, AlgorithmOffer offer, Now now) {
  // RFC 8489 §9.2.4: "This response MUST include a REALM value ... The response MUST include a
  // NONCE, selected by the server ... If the server adds a PASSWORD-ALGORITHMS attribute, it MUST
  // set the STUN Security Feature "Password algorithms" bit to 1." Nothing else: a 401 answers
  // an unauthenticated sender and stays small.
  b.add_realm(settings_.realm);
  b.add_nonce(nonces_.issue(client, now.unix, offer).view());
  std::array<stun::PasswordAlgorithmEntry, 2> entries{};
  const size_t count = offer_entries(offer, entries);
  b.add_password_algorithms(std::span<const stun::PasswordAlgorithmEntry>(entries.data(), count));
}

void ControlPlane::count_auth_failure(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::none: break;
    case AuthFailure::no_integrity: counters_.add(Counter::auth_challenges); break;
    case AuthFailure::missing_attributes: counters_.add(Counter::auth_missing_attributes); break;
    case AuthFailure::bid_down: counters_.add(Counter::auth_bid_down); break;
    case AuthFailure::unknown_user: counters_.add(Counter::auth_unknown_user); break;
    case AuthFailure::wrong_realm: counters_.add(Counter::auth_wrong_realm); break;
    case AuthFailure::rest_expired: counters_.add(Counter::auth_rest_expired); break;
    case AuthFailure::no_key: counters_.add(Counter::auth_no_key); break;
    case AuthFailure::bad_integrity: counters_.add(Counter::auth_bad_integrity); break;
    case AuthFailure::stale_nonce: counters_.add(Counter::auth_stale_nonce); break;
  }
}

void ControlPlane::answer_auth_failure(size_t i, const Request& request, const AuthResult& auth, Now now) {
  Slot& s = slots_[i];
  Reply& reply = replies_[i];
  count_auth_failure(auth.failure);
  // A 438 answers a request whose integrity verified; every other failure answers a sender that
  // proved nothing, and is rate-limited.
  if (auth.outcome != AuthOutcome::stale_nonce && !limiter_.allow(request.five_tuple.client.ip, now.mono)) {
    counters_.add(Counter::unauthenticated_rate_limited);
    reply.clear();
    s.kind = Kind::drop;
    return;
  }
  switch (auth.outcome) {
    case AuthOutcome::challenge:
    case AuthOutcome::unauthenticated:
      add_challenge(reply.error(stun::ErrorCode::kUnauthenticated), request.five_tuple.client, auth.offer, now);
      break;
    case AuthOutcome::bad_request:
      // "This response SHOULD NOT include a USERNAME, USERHASH, NONCE, or REALM attribute."
      reply.error(stun::ErrorCode::kBadRequest);
      break;
    case AuthOutcome::stale_nonce:
      // "This response MUST include NONCE, REALM, and PASSWORD-ALGORITHMS attributes".
      add_challenge(reply.error(stun::ErrorCode::kStaleNonce), request.five_tuple.client, auth.offer, now);
      break;
    case AuthOutcome::ok: break;
  }
  if (auth.outcome != AuthOutcome::challenge) {
    // A stale nonce is routine (every nonce_lifetime, for every client): debug.
    const auto username = stun::username(s.parsed.message);
    logger_.line(auth.outcome == AuthOutcome::stale_nonce ? LogLevel::debug : LogLevel::info, "auth_failed")
        .kv("reason", to_string(auth.failure))
        .kv("method", stun::to_string(s.parsed.message.method()))
        .kv("user", username ? *username : std::string_view("-"))
        .kv(request.five_tuple);
  }
}

void ControlPlane::answer_authenticated(size_t i, const Request& request, const AuthResult& auth, Now now) {
  Slot& s = slots_[i];
  Reply& reply = replies_[i];
  const stun::Message& m = s.parsed.message;
  reply.sign_sha1 = auth.sign_sha1 ? &auth.response_sha1 : nullptr;
  reply.sign_sha256 = auth.sign_sha256 ? &auth.response_sha256 : nullptr;
  s.cacheable = true;

  // RFC 8489 §6.3: "Once the authentication checks are done, the STUN agent checks for unknown
  // attributes"; §6.3.1: 420 with UNKNOWN-ATTRIBUTES.
  if (!m.unknown_required().empty()) {
    reply.error(stun::ErrorCode::kUnknownAttribute).add_unknown_attributes(m.unknown_required());
    return;
  }
  Allocation* a = allocations_.find(request.five_tuple, now.mono);
  // RFC 8656 §5: "if ... a non-Allocate request passes authentication under this mechanism, and;
  // the 5-tuple identifies an existing allocation, but; the request does not use the same username
  // as used to create the allocation, then the request MUST be rejected with a 441 (Wrong
  // Credentials) error."
  const stun::Method method = m.method();
  if (method != stun::Method::allocate && method != stun::Method::binding && a != nullptr &&
      a->username != auth.username) {
    counters_.add(Counter::auth_wrong_credentials);
    reply.error(stun::ErrorCode::kWrongCredentials);
    logger_.line(LogLevel::info, "auth_failed")
        .kv("reason", "wrong_credentials")
        .kv("method", stun::to_string(method))
        .kv("user", auth.username)
        .kv(request.five_tuple);
    return;
  }

  HandlerContext ctx{settings_, allocations_, ports_, reservations_, policy_, counters_, logger_, now, draining_};
  Transaction tx{request.five_tuple, request.transport, request.stream, m, auth, a, reply};
  switch (method) {
    case stun::Method::allocate: handle_allocate(ctx, tx); break;
    case stun::Method::refresh: handle_refresh(ctx, tx); break;
    case stun::Method::create_permission: handle_create_permission(ctx, tx); break;
    case stun::Method::channel_bind: handle_channel_bind(ctx, tx); break;
    default: handle_binding(ctx, tx); break;
  }

  Allocation* live = allocations_.find(request.five_tuple, now.mono);
  if (method == stun::Method::allocate && live != nullptr && !reply.is_error()) {
    s.created = live->id;
    s.created_serial = live->serial;
  }
  // The nonce verified: the next request on this 5-tuple with it needs no HMAC.
  if (live != nullptr && auth.nonce_verified && auth.nonce.size() == kNonceSize) {
    std::memcpy(live->verified_nonce.chars.data(), auth.nonce.data(), kNonceSize);
    live->has_verified_nonce = true;
  }
  // RFC 8656 §5: "The server SHOULD include the SOFTWARE attribute in all Allocate and Refresh
  // responses (either success or failure)".
  if ((method == stun::Method::allocate || method == stun::Method::refresh) && !settings_.software.empty())
    reply.builder().add_software(settings_.software);
}

void ControlPlane::tick(Now now) {
  allocations_.expire(now.mono);
  allocations_.reclaim();
  const size_t expired = reservations_.expire(now.mono, [this](PortLease lease) { ports_.release(lease); });
  counters_.add(Counter::reservations_expired, expired);
  cache_.expire(now.mono);
}

CounterValues ControlPlane::counters() const {
  Counters c = counters_;
  c.set(Counter::allocations_live, allocations_.size());
  c.set(Counter::permissions_live, allocations_.permission_count());
  c.set(Counter::channels_live, allocations_.channel_count());
  c.set(Counter::reservations_live, reservations_.size());
  c.set(Counter::slots_awaiting_reclaim, allocations_.awaiting_reclaim());
  c.set(Counter::relay_ports_free, ports_.free_count());
  c.set(Counter::transactions_cached, cache_.size());
  c.set(Counter::static_users, credentials_.user_count());
  c.set(Counter::rest_secrets, credentials_.secret_count());
  c.set(Counter::draining, draining_ ? 1 : 0);
  return c.values();
}

}  // namespace tern::ctl
