#pragma once
// tern's control plane: the entry point ternd's control loop feeds with the STUN requests the
// workers punt, and the core of every operator command. Single-threaded (the control lcore), no
// DPDK, so it runs in unit tests without an EAL.
//
//   tern::ctl::ControlPlane plane(config, table_writer, engine, logger);
//   // each wakeup:
//   size_t n = plane.handle(requests, now, responses);   // send responses[k].bytes back on
//                                                        // requests[responses[k].request]'s 5-tuple
//   plane.tick(now);                                     // expiry, reclaim (about once a second)
//
// A request is answered, or dropped silently (not STUN, an indication or response, an unknown
// method, or an unauthenticated request over its source's rate). Every answer to an authenticated
// request is kept for 40 s and sent again, byte for byte, for a retransmission.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "control/turn/operations.hpp"
#include "control/allocations/allocations.hpp"
#include "control/auth/authenticator.hpp"
#include "control/base/clock.hpp"
#include "control/base/counters.hpp"
#include "control/auth/credentials.hpp"
#include "control/base/log.hpp"
#include "control/auth/nonce.hpp"
#include "control/turn/peer_policy.hpp"
#include "control/allocations/port_pool.hpp"
#include "control/base/random.hpp"
#include "control/auth/rate_limiter.hpp"
#include "control/turn/reply.hpp"
#include "control/allocations/reservations.hpp"
#include "control/turn/settings.hpp"
#include "control/turn/transaction_cache.hpp"
#include "crypto/engine.hpp"
#include "dataplane/contract/table_writer.hpp"

namespace tern::ctl {

// One punted request: the client's 5-tuple and the UDP payload (valid during handle()).
struct Request {
  dp::FiveTuple five_tuple;
  std::span<const uint8_t> bytes;
  ClientTransport transport = ClientTransport::udp;
  dp::StreamId stream = dp::StreamId::none;  // a TCP or TLS client's connection
};

// One answer, to send from five_tuple.server to five_tuple.client of requests[request].
struct Response {
  size_t request = 0;
  std::span<const uint8_t> bytes;  // valid until the next handle()
  // The allocation this answer created (an Allocate's success), for a stream client's transport to
  // send its data to; kNoAllocation otherwise.
  dp::AllocId allocation = dp::kNoAllocation;
};

// Sizes of the control plane's bounded structures, and test hooks; the defaults suit production.
struct Options {
  size_t transaction_cache = 32768;          // answers kept for retransmissions
  size_t rest_key_cache = 65536;             // REST usernames whose keys are kept
  size_t rate_limit_sources = 16384;         // source addresses with a 401 token bucket
  uint32_t unauthenticated_total_rate = 20000;  // unauthenticated answers per second, all sources
  std::optional<std::array<uint8_t, 32>> nonce_secret = {};  // fixed nonce secret (tests); random otherwise
};

class ControlPlane {
 public:
  ControlPlane(const conf::Config& config, dp::TableWriter& writer, crypto::Engine& engine, Logger& logger,
               Options options = {});
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // ---- requests ----
  // Answers a burst of requests (any number; authenticated in batches of 32). out needs room for
  // requests.size() answers; returns how many were written.
  size_t handle(std::span<const Request> requests, Now now, std::span<Response> out);
  // Upkeep: expires allocations, permissions, channels, reservations and cached answers, and
  // returns slots and relay ports whose data plane grace period ended. Call about once a second.
  void tick(Now now);

  // ---- operator surface ----
  std::vector<AllocationSummary> list_allocations(const AllocationFilter& filter, Now now) const;
  std::optional<AllocationDetail> allocation(dp::AllocId id, Now now) const;
  // Removes one allocation / every allocation of a user; returns how many went.
  size_t kill(dp::AllocId id);
  size_t kill_user(std::string_view user);
  // Drain: new allocations are refused (300 Try Alternate with alternate_server, else 508);
  // existing ones keep working and refreshing.
  void set_draining(bool on);
  bool draining() const { return draining_; }
  // Applies a reloaded, validated configuration without dropping live allocations: users,
  // secrets, peer policy (permissions to peers it now denies are removed), quotas and the other
  // limits (live allocations' next requests see them), lifetimes, nonce lifetime, rate limit,
  // SOFTWARE, alternate server, log level.
  ApplyResult apply(const conf::Config& config);
  // Static users and REST secrets, live.
  void add_user(const conf::User& user);
  bool remove_user(std::string_view name);
  void set_secrets(std::span<const std::string> secrets);
  // RFC 8656 §3.1: a TCP or TLS client's connection closed: its allocation goes with it. true when
  // there was one.
  bool stream_closed(dp::StreamId stream);
  // Connections whose allocation ended otherwise (Refresh 0, expiry, kill), since the last call.
  void take_ended_streams(std::vector<dp::StreamId>& out) { allocations_.take_ended_streams(out); }
  std::vector<std::string> user_names() const { return credentials_.user_names(); }

  // Counters, with the gauges as of now.
  CounterValues counters() const;
  const Settings& settings() const { return settings_; }
  // Internals, for tests and benchmarks.
  const Allocations& allocations() const { return allocations_; }
  const PortPool& ports() const { return ports_; }
  const Authenticator& authenticator() const { return authenticator_; }

 private:
  enum class Kind : uint8_t {
    drop,       // no answer
    answered,   // a retransmission, answered from what was kept
    duplicate,  // the same transaction earlier in this burst: its answer
    plain,      // a Binding without credentials: answered unauthenticated
    auth,       // goes through authentication
  };
  struct Slot {
    const Request* request = nullptr;
    stun::ParseResult parsed;
    Kind kind = Kind::drop;
    size_t auth = 0;       // index into auth results
    size_t original = 0;   // Kind::duplicate: the slot it repeats
    bool cacheable = false;
    dp::AllocId created{};  // an allocation this Allocate created
    uint64_t created_serial = 0;
  };

  void handle_chunk(std::span<const Request> requests, size_t first, Now now);
  void classify(size_t i, size_t chunk_first, const Request& request, Now now);
  void answer_unauthenticated(size_t i, const Request& request, Now now);
  void answer_auth_failure(size_t i, const Request& request, const AuthResult& auth, Now now);
  void answer_authenticated(size_t i, const Request& request, const AuthResult& auth, Now now);
  void add_challenge(stun::Builder& b, const TransportAddress& client, AlgorithmOffer offer, Now now);
  void count_auth_failure(AuthFailure failure);

  Settings settings_;
  dp::TableWriter& writer_;
  crypto::Engine& engine_;
  Logger& logger_;
  Counters counters_;
  RandomSource random_;
  PortPool ports_;
  Reservations reservations_;
  Allocations allocations_;
  Credentials credentials_;
  NonceIssuer nonces_;
  Authenticator authenticator_;
  SourceRateLimiter limiter_;
  TransactionCache cache_;
  PeerPolicy policy_;
  ReplySealer sealer_;
  bool draining_ = false;
  std::vector<TransportAddress> listen_;
  std::vector<IpAddress> relay_addresses_;
  conf::PortRange relay_ports_;

  // Per-call scratch, kept to avoid allocating per burst.
  std::vector<std::array<uint8_t, kMaxResponseSize>> arena_;
  std::vector<size_t> arena_size_;  // bytes of a copied answer (answered/duplicate)
  std::vector<Slot> slots_;
  std::vector<Reply> replies_;
  std::vector<stun::BuildResult> built_;
  std::vector<AuthRequest> auth_requests_;
  std::vector<AuthResult> auth_results_;
};

}  // namespace tern::ctl
