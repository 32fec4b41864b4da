// The control plane on one core: authenticated transactions per second through
// ControlPlane::handle(), requests arriving one at a time (burst 1: one verify per request) and in
// bursts of 32 (one Engine::verify_batch per burst). Refresh, CreatePermission and ChannelBind run
// against 1024 live allocations; Allocate creates allocations (random port from the pool, slot from
// the free list, one add_allocation each) until 16384 exist, then they are killed and reclaimed
// outside the timed region.
//
// The data plane's tables are a no-op TableWriter (every write succeeds, removed slots are
// reclaimed at once): the figures are the control plane's own cost, codec and crypto included,
// without the DPDK hash inserts of the real writer.
//
// Every request is distinct (a fresh transaction ID, so none is answered as a retransmission) and
// pre-built with MESSAGE-INTEGRITY (HMAC-SHA1 over the MD5 key), as browsers and most clients send
// them. Between passes over the request pool the injected clock moves 41 s ahead so the
// transaction cache forgets the previous pass.
//
//   build/bench/bm_control [--benchmark_filter=REGEX]

#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "conf/keys.hpp"
#include "control/turn/control_plane.hpp"
#include "control/stun/stun.hpp"
#include "crypto/engine.hpp"

namespace {

using namespace tern;
using ctl::ControlPlane;
using ctl::Request;
using ctl::Response;

constexpr std::string_view kRealm = "bench.example";
constexpr std::string_view kPassword = "bench-password";

class NoopWriter final : public dp::TableWriter {
 public:
  dp::WriteResult add_allocation(dp::AllocId, const dp::AllocationEntry&) override { return ok(); }
  dp::WriteResult set_allocation_expiry(dp::AllocId, dp::TableTime) override { return ok(); }
  dp::WriteResult remove_allocation(dp::AllocId id) override {
    removed_.push_back(id);
    return ok();
  }
  dp::WriteResult set_permission(dp::AllocId, const IpAddress&, dp::TableTime) override { return ok(); }
  dp::WriteResult remove_permission(dp::AllocId, const IpAddress&) override { return ok(); }
  dp::WriteResult set_channel(dp::AllocId, uint16_t, const TransportAddress&, dp::TableTime) override { return ok(); }
  dp::WriteResult remove_channel(dp::AllocId, uint16_t) override { return ok(); }
  size_t reclaimed(std::span<dp::AllocId> out) override {
    size_t n = 0;
    while (n < out.size() && !removed_.empty()) {
      out[n++] = removed_.back();
      removed_.pop_back();
    }
    return n;
  }
  uint64_t writes = 0;

 private:
  dp::WriteResult ok() {
    ++writes;
    return dp::WriteResult::ok;
  }
  std::vector<dp::AllocId> removed_;
};

struct BenchClient {
  dp::FiveTuple five_tuple;
  std::string nonce;
};

class Bench {
 public:
  explicit Bench(size_t burst) : burst_(burst) {
    engine_ = crypto::make_default_engine();
    config_.realm = std::string(kRealm);
    config_.listen.udp = {*TransportAddress::parse("192.0.2.1:3478")};
    for (int i = 0; i < 4; ++i) config_.relay.addresses.push_back(IpAddress::v4(192, 0, 2, static_cast<uint8_t>(10 + i)));
    config_.relay.ports = {Port{49152}, Port{65535}};
    config_.auth.users = {user("alice")};
    config_.auth.nonce_lifetime = std::chrono::seconds(86400);
    config_.auth.unauthenticated_rate = 0;
    config_.lifetimes.allocation_default = std::chrono::seconds(86400);
    config_.lifetimes.allocation_max = std::chrono::seconds(86400);
    config_.lifetimes.permission = std::chrono::seconds(86400);
    config_.lifetimes.channel = std::chrono::seconds(86400);
    config_.dataplane.table_size = 1u << 17;
    plane_ = std::make_unique<ControlPlane>(config_, writer_, *engine_, logger_);
    key_ = engine_->make_mac_key(crypto::Mac::hmac_sha1, conf::md5_key(*engine_, "alice", kRealm, kPassword));
    responses_.resize(crypto::kMaxBatch);
  }

  conf::User user(std::string name) {
    conf::User u;
    u.key_md5 = conf::md5_key(*engine_, name, kRealm, kPassword);
    u.key_sha256 = conf::sha256_key(*engine_, name, kRealm, kPassword);
    u.name = std::move(name);
    return u;
  }

  // `count` clients, each with a nonce from a 401.
  std::vector<BenchClient> clients(size_t count, uint32_t first_host) {
    std::vector<BenchClient> out;
    for (size_t i = 0; i < count; ++i) {
      const uint32_t host = first_host + static_cast<uint32_t>(i / 1000);
      const auto port = static_cast<uint16_t>(20000 + i % 1000);
      BenchClient c{{{IpAddress::v4(host), Port{port}}, config_.listen.udp[0], dp::Transport::udp}, {}};
      const auto challenge = build(stun::Method::allocate, c, false, [](stun::Builder& b) { b.add_requested_transport({}); });
      const Request r{c.five_tuple, challenge};
      Response resp;
      if (plane_->handle({&r, 1}, now_, {&resp, 1}) == 1) {
        const auto parsed = stun::parse(resp.bytes, *engine_);
        if (const auto n = stun::nonce(parsed.message)) c.nonce = std::string(*n);
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  template <typename Add>
  std::vector<uint8_t> build(stun::Method method, const BenchClient& c, bool authenticated, Add&& add) {
    stun::TransactionId id;
    ++next_id_;
    for (size_t i = 0; i < 8; ++i) id.bytes[i] = static_cast<uint8_t>(next_id_ >> (8 * i));
    std::vector<uint8_t> buffer(512);
    stun::Builder b(buffer, {method, stun::MessageClass::request}, id);
    add(b);
    if (authenticated) {
      b.add_username("alice");
      b.add_realm(kRealm);
      b.add_nonce(c.nonce);
      b.add_message_integrity(key_, *engine_);
    }
    buffer.resize(b.finish().bytes.size());
    return buffer;
  }

  // Sends a prepared pool in bursts; returns how many answers were successes.
  size_t run(const std::vector<Request>& pool) {
    size_t ok = 0;
    for (size_t i = 0; i < pool.size(); i += burst_) {
      const size_t n = std::min(burst_, pool.size() - i);
      const size_t got = plane_->handle({pool.data() + i, n}, now_, responses_);
      for (size_t k = 0; k < got; ++k) ok += (responses_[k].bytes[0] & 0x01) == 0x01 && (responses_[k].bytes[1] & 0x10) == 0;
    }
    return ok;
  }

  void next_pass() {
    now_.mono += 41;
    now_.unix += 41;
    plane_->tick(now_);
  }

  ControlPlane& plane() { return *plane_; }
  std::string_view backend() const { return crypto::to_string(engine_->backend()); }
  uint64_t retransmissions() const {
    return plane_->counters()[static_cast<size_t>(ctl::Counter::retransmissions_answered)];
  }
  ctl::Now now_{1000, 1'700'000'000};

 private:
  size_t burst_;
  std::unique_ptr<crypto::Engine> engine_;
  conf::Config config_;
  NoopWriter writer_;
  ctl::Logger logger_;
  std::unique_ptr<ControlPlane> plane_;
  crypto::MacKey key_;
  uint64_t next_id_ = 0;
  std::vector<Response> responses_;
};

constexpr size_t kLiveAllocations = 1024;
constexpr size_t kPool = 8192;

enum class Kind { refresh, create_permission, channel_bind };

void run_transactions(benchmark::State& state, Kind kind) {
  Bench bench(static_cast<size_t>(state.range(0)));
  state.SetLabel(std::string(bench.backend()));
  auto clients = bench.clients(kLiveAllocations, 0x0A000001);
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<Request> allocs;
  for (const auto& c : clients)
    bytes.push_back(bench.build(stun::Method::allocate, c, true, [](stun::Builder& b) { b.add_requested_transport({}); }));
  for (size_t i = 0; i < clients.size(); ++i) allocs.push_back({clients[i].five_tuple, bytes[i]});
  if (bench.run(allocs) != clients.size()) {
    state.SkipWithError("allocations failed");
    return;
  }
  bytes.clear();
  for (size_t i = 0; i < kPool; ++i) {
    const auto& c = clients[i % clients.size()];
    const auto peer = TransportAddress{IpAddress::v4(203, 0, 113, static_cast<uint8_t>(1 + i % 7)), Port{7000}};
    const auto channel = static_cast<uint16_t>(0x4000 + i % 7);
    switch (kind) {
      case Kind::refresh:
        bytes.push_back(bench.build(stun::Method::refresh, c, true, [](stun::Builder& b) { b.add_lifetime({600}); }));
        break;
      case Kind::create_permission:
        bytes.push_back(bench.build(stun::Method::create_permission, c, true,
                                    [&](stun::Builder& b) { b.add_xor_peer_address(peer); }));
        break;
      case Kind::channel_bind:
        bytes.push_back(bench.build(stun::Method::channel_bind, c, true, [&](stun::Builder& b) {
          b.add_channel_number({channel});
          b.add_xor_peer_address(peer);
        }));
        break;
    }
  }
  std::vector<Request> pool;
  for (size_t i = 0; i < kPool; ++i) pool.push_back({clients[i % clients.size()].five_tuple, bytes[i]});

  size_t done = 0;
  size_t ok = 0;
  for (auto _ : state) {
    ok += bench.run(pool);
    done += pool.size();
    state.PauseTiming();
    bench.next_pass();
    state.ResumeTiming();
  }
  if (ok != done) state.SkipWithError("some transactions failed");
  if (bench.retransmissions() != 0) state.SkipWithError("answered from the transaction cache");
  state.SetItemsProcessed(static_cast<int64_t>(done));
  state.counters["per_txn"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate |
                                                                                 benchmark::Counter::kInvert);
}

void BM_Refresh(benchmark::State& state) { run_transactions(state, Kind::refresh); }
void BM_CreatePermission(benchmark::State& state) { run_transactions(state, Kind::create_permission); }
void BM_ChannelBind(benchmark::State& state) { run_transactions(state, Kind::channel_bind); }

void BM_Allocate(benchmark::State& state) {
  constexpr size_t kClients = 16384;
  Bench bench(static_cast<size_t>(state.range(0)));
  state.SetLabel(std::string(bench.backend()));
  auto clients = bench.clients(kClients, 0x0B000001);
  size_t done = 0;
  size_t ok = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // Fresh requests (the previous pass's are in the transaction cache until the clock moves).
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<Request> pool;
    for (const auto& c : clients)
      bytes.push_back(bench.build(stun::Method::allocate, c, true, [](stun::Builder& b) { b.add_requested_transport({}); }));
    for (size_t i = 0; i < clients.size(); ++i) pool.push_back({clients[i].five_tuple, bytes[i]});
    state.ResumeTiming();

    ok += bench.run(pool);
    done += pool.size();

    state.PauseTiming();
    bench.plane().kill_user("alice");
    bench.next_pass();  // reclaims every slot and port
    state.ResumeTiming();
  }
  if (ok != done) state.SkipWithError("some allocations failed");
  if (bench.retransmissions() != 0) state.SkipWithError("answered from the transaction cache");
  state.SetItemsProcessed(static_cast<int64_t>(done));
  state.counters["per_txn"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate |
                                                                                 benchmark::Counter::kInvert);
}

BENCHMARK(BM_Refresh)->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CreatePermission)->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChannelBind)->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Allocate)->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
