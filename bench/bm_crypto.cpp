// The crypto engines side by side, per message: HMAC-SHA1/-SHA256 single and in batches, SHA-256,
// MD5 and CRC-32, against OpenSSL's one-shot HMAC() and zlib's crc32. Every benchmark reports
// items (messages) per second and `per_msg`, the time per message.
//
//   build-crypto/bench/bm_crypto [--benchmark_filter=REGEX] [--benchmark_repetitions=N]

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "crypto/engine.hpp"
#if TERN_HAVE_IPSEC_MB
#include "crypto/ipsec_mb/ipsec_mb_engine.hpp"
#endif

namespace {

using tern::crypto::Backend;
using tern::crypto::Engine;
using tern::crypto::Mac;
using tern::crypto::MacJob;
using tern::crypto::MacKey;

constexpr size_t kMessageSize = 100;  // a typical authenticated STUN request
constexpr size_t kKeySize = 16;       // the MD5 long-term key (RFC 8489 §9.2.2)

struct Variant {
  std::string name;
  std::unique_ptr<Engine> (*make)();
};

std::vector<Variant> variants() {
  std::vector<Variant> out;
  out.push_back({"openssl", [] { return tern::crypto::make_engine(Backend::openssl); }});
#if TERN_HAVE_IPSEC_MB
  using Options = tern::crypto::IpsecMbOptions;
  out.push_back({"ipsec_mb", [] { return tern::crypto::make_engine(Backend::ipsec_mb); }});
  out.push_back({"ipsec_mb_single_auto", [] {
                   Options options;
                   options.single_mac = Options::Manager::automatic;
                   return tern::crypto::make_ipsec_mb_engine(options);
                 }});
  out.push_back({"ipsec_mb_batch_sse", [] {
                   Options options;
                   options.batch = Options::Batch::sse;
                   return tern::crypto::make_ipsec_mb_engine(options);
                 }});
  out.push_back({"ipsec_mb_batch_auto", [] {
                   Options options;
                   options.batch = Options::Batch::automatic;
                   return tern::crypto::make_ipsec_mb_engine(options);
                 }});
#endif
  return out;
}

std::vector<uint8_t> pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(seed + i * 31);
  return out;
}

void per_message(benchmark::State& state, size_t messages_per_iteration) {
  const auto items = static_cast<int64_t>(state.iterations() * messages_per_iteration);
  state.SetItemsProcessed(items);
  state.counters["per_msg"] = benchmark::Counter(
      static_cast<double>(items), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

const char* mac_name(Mac mac) { return mac == Mac::hmac_sha1 ? "hmac_sha1" : "hmac_sha256"; }

// The reference: OpenSSL's one-shot HMAC(), which derives the pads from the key on every call.
void bm_openssl_hmac_one_shot(benchmark::State& state, Mac mac) {
  const auto key = pattern(kKeySize, 1);
  const auto message = pattern(kMessageSize, 2);
  const EVP_MD* md = mac == Mac::hmac_sha1 ? EVP_sha1() : EVP_sha256();
  std::array<uint8_t, EVP_MAX_MD_SIZE> tag{};
  unsigned int size = 0;
  for (auto _ : state) {
    HMAC(md, key.data(), static_cast<int>(key.size()), message.data(), message.size(), tag.data(),
         &size);
    benchmark::DoNotOptimize(tag.data());
    benchmark::ClobberMemory();
  }
  per_message(state, 1);
}

void bm_mac(benchmark::State& state, const Variant& variant, Mac mac) {
  const auto engine = variant.make();
  const MacKey key = engine->make_mac_key(mac, pattern(kKeySize, 1));
  const auto message = pattern(kMessageSize, 2);
  std::array<uint8_t, tern::crypto::kSha256Size> tag{};
  for (auto _ : state) {
    engine->mac(key, message, tag);
    benchmark::DoNotOptimize(tag.data());
    benchmark::ClobberMemory();
  }
  per_message(state, 1);
}

// A burst of n requests, each with its own message and one of a few users' keys; `mixed`
// alternates HMAC-SHA1 and HMAC-SHA256 (MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256).
void bm_mac_batch(benchmark::State& state, const Variant& variant, Mac mac, bool mixed, size_t n) {
  const auto engine = variant.make();
  std::vector<MacKey> keys;
  for (uint8_t user = 0; user < 4; ++user) {
    keys.push_back(engine->make_mac_key(Mac::hmac_sha1, pattern(kKeySize, user)));
    keys.push_back(engine->make_mac_key(Mac::hmac_sha256, pattern(kKeySize, user)));
  }
  std::vector<std::vector<uint8_t>> messages;
  std::vector<std::array<uint8_t, tern::crypto::kSha256Size>> tags(n);
  std::vector<MacJob> jobs(n);
  for (size_t i = 0; i < n; ++i) {
    messages.push_back(pattern(kMessageSize, static_cast<uint8_t>(i)));
    const bool sha256 = mixed ? i % 2 == 1 : mac == Mac::hmac_sha256;
    jobs[i] = {&keys[(i % 4) * 2 + (sha256 ? 1 : 0)], messages.back(), tags[i].data()};
  }
  for (auto _ : state) {
    engine->mac_batch(jobs);
    benchmark::DoNotOptimize(tags.data());
    benchmark::ClobberMemory();
  }
  per_message(state, n);
}

void bm_sha256(benchmark::State& state, const Variant& variant) {
  const auto engine = variant.make();
  const auto message = pattern(kMessageSize, 3);
  std::array<uint8_t, tern::crypto::kSha256Size> digest{};
  for (auto _ : state) {
    engine->sha256(message, digest);
    benchmark::DoNotOptimize(digest.data());
    benchmark::ClobberMemory();
  }
  per_message(state, 1);
}

void bm_md5(benchmark::State& state, const Variant& variant) {
  const auto engine = variant.make();
  const auto message = pattern(kMessageSize, 4);
  std::array<uint8_t, tern::crypto::kMd5Size> digest{};
  for (auto _ : state) {
    engine->md5(message, digest);
    benchmark::DoNotOptimize(digest.data());
    benchmark::ClobberMemory();
  }
  per_message(state, 1);
}

void bm_crc32(benchmark::State& state, const Variant& variant, size_t size) {
  const auto engine = variant.make();
  const auto message = pattern(size, 5);
  for (auto _ : state) {
    uint32_t crc = engine->crc32(message);
    benchmark::DoNotOptimize(crc);
  }
  per_message(state, 1);
}

void bm_zlib_crc32(benchmark::State& state, size_t size) {
  const auto message = pattern(size, 5);
  for (auto _ : state) {
    auto crc = ::crc32_z(::crc32_z(0, nullptr, 0), message.data(), message.size());
    benchmark::DoNotOptimize(crc);
  }
  per_message(state, 1);
}

void register_all(const std::vector<Variant>& all) {
  const Variant* openssl = &all[0];
  const Variant* ipsec_mb = all.size() > 1 ? &all[1] : nullptr;
  // The first two variants are the backends as they ship; the rest force a manager.
  const std::vector<const Variant*> backends =
      ipsec_mb ? std::vector<const Variant*>{openssl, ipsec_mb} : std::vector<const Variant*>{openssl};

  for (Mac mac : {Mac::hmac_sha1, Mac::hmac_sha256}) {
    const std::string m = mac_name(mac);
    benchmark::RegisterBenchmark((m + "/single/openssl_HMAC_one_shot").c_str(),
                                 bm_openssl_hmac_one_shot, mac);
    for (const Variant& v : all) {
      if (v.name.starts_with("ipsec_mb_batch")) continue;  // same single path as ipsec_mb
      benchmark::RegisterBenchmark((m + "/single/" + v.name).c_str(), bm_mac, v, mac);
    }
  }
  for (size_t n : {8, 16, 24, 32}) {
    for (const Variant& v : all) {
      if (v.name == "ipsec_mb_single_auto") continue;  // same batch path as ipsec_mb
      for (Mac mac : {Mac::hmac_sha1, Mac::hmac_sha256}) {
        benchmark::RegisterBenchmark(
            (std::string(mac_name(mac)) + "/batch" + std::to_string(n) + "/" + v.name).c_str(),
            bm_mac_batch, v, mac, false, n);
      }
      benchmark::RegisterBenchmark(
          ("mixed/batch" + std::to_string(n) + "/" + v.name).c_str(), bm_mac_batch, v,
          Mac::hmac_sha1, true, n);
    }
  }
  for (const Variant* v : backends) {
    benchmark::RegisterBenchmark(("sha256/" + v->name).c_str(), bm_sha256, *v);
  }
  for (const Variant* v : backends) {
    benchmark::RegisterBenchmark(("md5/" + v->name).c_str(), bm_md5, *v);
  }
  for (size_t size : {kMessageSize, size_t{1500}}) {
    const std::string s = std::to_string(size);
    for (const Variant* v : backends) {
      benchmark::RegisterBenchmark(("crc32/" + s + "/" + v->name).c_str(), bm_crc32, *v, size);
    }
    benchmark::RegisterBenchmark(("crc32/" + s + "/zlib").c_str(), bm_zlib_crc32, size);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<Variant> all = variants();
  for (const Variant& v : all) {
    if (!v.make()) {
      std::fprintf(stderr, "bm_crypto: engine %s was built but cannot run on this CPU\n",
                   v.name.c_str());
      return 1;
    }
  }
  register_all(all);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
