// Cost of the STUN/TURN codec per message: parsing the messages the control plane sees most,
// building its most common answers, and checking MESSAGE-INTEGRITY one at a time and in bursts.
// The crypto runs on the OpenSSL engine (the IPsec-MB engine is measured in bm_crypto).

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "control/stun/stun.hpp"
#include "crypto/engine.hpp"

namespace {

using namespace tern;
using namespace tern::stun;

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

struct Fixture {
  std::unique_ptr<crypto::Engine> engine = crypto::make_engine(crypto::Backend::openssl);
  crypto::MacKey sha1 = engine->make_mac_key(crypto::Mac::hmac_sha1, bytes_of("0123456789abcdef"));
  crypto::MacKey sha256 = engine->make_mac_key(crypto::Mac::hmac_sha256, bytes_of("0123456789abcdef0123456789abcdef"));
  TransactionId id = [] {
    TransactionId t;
    for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<uint8_t>(0x51 + 3 * i);
    return t;
  }();
  TransportAddress client = *TransportAddress::parse("198.51.100.20:53211");
  TransportAddress peer = *TransportAddress::parse("203.0.113.77:61000");
  TransportAddress relayed = *TransportAddress::parse("192.0.2.15:49170");
  std::vector<uint8_t> payload = std::vector<uint8_t>(160, 0x5a);
  std::string nonce = [] {
    const auto cookie = nonce_cookie({SecurityFeatures::kPasswordAlgorithms});
    return std::string(cookie.data(), cookie.size()) + "c2Vzc2lvbi1ub25jZS0xMjM0NTY3";
  }();

  std::vector<uint8_t> binding_request;
  std::vector<uint8_t> allocate_request;
  std::vector<uint8_t> send_indication;
  std::vector<uint8_t> channel_data;

  Fixture() {
    std::array<uint8_t, 1024> buffer{};
    {
      Builder b(buffer, {Method::binding, MessageClass::request}, id);
      binding_request = finish(b);
    }
    {
      // What a WebRTC client sends after the 401: credentials, transport, integrity, fingerprint.
      Builder b(buffer, {Method::allocate, MessageClass::request}, id);
      b.add_requested_transport({});
      b.add_lifetime({600});
      b.add_username("1700000000:alice@example.org");
      b.add_realm("example.org");
      b.add_nonce(nonce);
      b.add_software("libwebrtc");
      b.add_message_integrity(sha1, *engine);
      b.add_fingerprint(*engine);
      allocate_request = finish(b);
    }
    {
      Builder b(buffer, {Method::send, MessageClass::indication}, id);
      b.add_xor_peer_address(peer);
      b.add_data(payload);
      send_indication = finish(b);
    }
    std::array<uint8_t, 256> frame{};
    const auto written = write_channel_data(frame, {0x4001}, payload, Transport::datagram);
    channel_data.assign(written->begin(), written->end());
  }

  static std::vector<uint8_t> finish(const Builder& b) {
    const auto built = b.finish();
    if (!built) std::abort();
    return {built.bytes.begin(), built.bytes.end()};
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void set_bytes(benchmark::State& state, size_t per_message) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * per_message));
}

// Parsing

void BM_ParseBindingRequest(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) {
    auto parsed = parse(f.binding_request, *f.engine);
    benchmark::DoNotOptimize(parsed);
  }
  set_bytes(state, f.binding_request.size());
}
BENCHMARK(BM_ParseBindingRequest);

// Structure and FINGERPRINT (CRC-32); MESSAGE-INTEGRITY is measured below.
void BM_ParseAuthenticatedAllocate(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) {
    auto parsed = parse(f.allocate_request, *f.engine);
    benchmark::DoNotOptimize(parsed);
  }
  set_bytes(state, f.allocate_request.size());
}
BENCHMARK(BM_ParseAuthenticatedAllocate);

// Parsing plus reading what an Allocate handler reads.
void BM_ParseAuthenticatedAllocateAndRead(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) {
    const auto parsed = parse(f.allocate_request, *f.engine);
    const Message& m = parsed.message;
    auto user = username(m);
    auto r = realm(m);
    auto n = nonce(m);
    auto transport = requested_transport(m);
    auto life = lifetime(m);
    auto features = nonce_security_features(*n);
    benchmark::DoNotOptimize(user);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(transport);
    benchmark::DoNotOptimize(life);
    benchmark::DoNotOptimize(features);
  }
  set_bytes(state, f.allocate_request.size());
}
BENCHMARK(BM_ParseAuthenticatedAllocateAndRead);

void BM_ParseSendIndication160(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) {
    const auto parsed = parse(f.send_indication, *f.engine);
    auto peer = xor_peer_address(parsed.message);
    auto payload = data(parsed.message);
    benchmark::DoNotOptimize(peer);
    benchmark::DoNotOptimize(payload);
  }
  set_bytes(state, f.send_indication.size());
}
BENCHMARK(BM_ParseSendIndication160);

void BM_ParseChannelData160(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) {
    auto parsed = parse_channel_data(f.channel_data, Transport::datagram);
    benchmark::DoNotOptimize(parsed);
  }
  set_bytes(state, f.channel_data.size());
}
BENCHMARK(BM_ParseChannelData160);

// Building

void BM_BuildError401(benchmark::State& state) {
  Fixture& f = fixture();
  std::array<uint8_t, 512> out{};
  size_t size = 0;
  for (auto _ : state) {
    Builder b(out, {Method::allocate, MessageClass::error_response}, f.id);
    b.add_error_code(ErrorCode::kUnauthenticated);
    b.add_realm("example.org");
    b.add_nonce(f.nonce);
    b.add_fingerprint(*f.engine);
    const auto built = b.finish();
    size = built.bytes.size();
    benchmark::DoNotOptimize(built);
    benchmark::ClobberMemory();
  }
  set_bytes(state, size);
}
BENCHMARK(BM_BuildError401);

void BM_BuildAllocateSuccess(benchmark::State& state) {
  Fixture& f = fixture();
  std::array<uint8_t, 512> out{};
  size_t size = 0;
  for (auto _ : state) {
    Builder b(out, {Method::allocate, MessageClass::success_response}, f.id);
    b.add_xor_relayed_address(f.relayed);
    b.add_xor_mapped_address(f.client);
    b.add_lifetime({600});
    b.add_message_integrity(f.sha1, *f.engine);
    b.add_fingerprint(*f.engine);
    const auto built = b.finish();
    size = built.bytes.size();
    benchmark::DoNotOptimize(built);
    benchmark::ClobberMemory();
  }
  set_bytes(state, size);
}
BENCHMARK(BM_BuildAllocateSuccess);

void BM_BuildDataIndication160(benchmark::State& state) {
  Fixture& f = fixture();
  std::array<uint8_t, 512> out{};
  size_t size = 0;
  for (auto _ : state) {
    Builder b(out, {Method::data, MessageClass::indication}, f.id);
    b.add_xor_peer_address(f.peer);
    b.add_data(f.payload);
    const auto built = b.finish();
    size = built.bytes.size();
    benchmark::DoNotOptimize(built);
    benchmark::ClobberMemory();
  }
  set_bytes(state, size);
}
BENCHMARK(BM_BuildDataIndication160);

// Integrity

// One request: copy to scratch, adjust the length, HMAC-SHA1, compare.
void BM_VerifyIntegrity(benchmark::State& state) {
  Fixture& f = fixture();
  const auto parsed = parse(f.allocate_request, *f.engine);
  std::array<uint8_t, 512> scratch{};
  for (auto _ : state) {
    const bool ok = verify_integrity(parsed.message, Integrity::sha1, f.sha1, *f.engine, scratch);
    if (!ok) std::abort();
    benchmark::DoNotOptimize(ok);
  }
  set_bytes(state, f.allocate_request.size());
}
BENCHMARK(BM_VerifyIntegrity);

// A burst of N parsed requests: N integrity inputs, one verify_batch call. Time per burst; the
// items/s counter is requests per second.
void BM_VerifyIntegrityBatch(benchmark::State& state) {
  Fixture& f = fixture();
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<ParseResult> parsed(n);
  for (auto& p : parsed) p = parse(f.allocate_request, *f.engine);
  std::vector<std::array<uint8_t, 512>> scratch(n);
  std::array<crypto::MacCheck, crypto::kMaxBatch> checks{};
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) {
      const auto input = integrity_input(parsed[i].message, Integrity::sha1, scratch[i]);
      checks[i] = mac_check(*input, f.sha1);
    }
    const uint32_t ok = f.engine->verify_batch({checks.data(), n});
    if (ok != (n == 32 ? 0xFFFFFFFFu : (1u << n) - 1)) std::abort();
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_VerifyIntegrityBatch)->Arg(8)->Arg(32);

// MESSAGE-INTEGRITY-SHA256 over the same request.
void BM_VerifyIntegritySha256(benchmark::State& state) {
  Fixture& f = fixture();
  std::array<uint8_t, 1024> buffer{};
  Builder b(buffer, {Method::allocate, MessageClass::request}, f.id);
  b.add_requested_transport({});
  b.add_lifetime({600});
  b.add_username("1700000000:alice@example.org");
  b.add_realm("example.org");
  b.add_nonce(f.nonce);
  b.add_password_algorithm({PasswordAlgorithm::sha256, {}});
  b.add_message_integrity_sha256(f.sha256, *f.engine);
  b.add_fingerprint(*f.engine);
  const auto built = b.finish();
  const auto parsed = parse(built.bytes, *f.engine);
  std::array<uint8_t, 512> scratch{};
  for (auto _ : state) {
    const bool ok = verify_integrity(parsed.message, Integrity::sha256, f.sha256, *f.engine, scratch);
    if (!ok) std::abort();
    benchmark::DoNotOptimize(ok);
  }
  set_bytes(state, built.bytes.size());
}
BENCHMARK(BM_VerifyIntegritySha256);

}  // namespace

BENCHMARK_MAIN();
