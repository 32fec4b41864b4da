// Intel IPsec-MB backend, written against release 1.3 (Debian 12).
//
// An Engine owns two multi-buffer managers, allocated once when it is made:
//
//   sse_   init_mb_mgr_sse. On a CPU with SHA extensions its HMAC code runs SHA-NI on two lanes, so
//          one job costs one pass over one buffer.
//   wide_  init_mb_mgr_auto: the widest code the CPU has. With AVX-512 that is sixteen lanes per pass;
//          a single job is flushed through a full sixteen-lane pass and costs three (SHA-1) to five
//          (SHA-256) times what it costs on sse_, but sixteen jobs share one pass.
//
// The engine picks the manager per call shape: a single MAC runs on sse_; a batch is grouped by hash
// (a burst of one hash per submission) and each group sends its whole sets of wide_'s lanes to wide_
// and the remainder to sse_, so no lane of either pass is wasted on flushing. CRC-32 runs on sse_
// below kWideCrcFrom bytes and on wide_ (VPCLMULQDQ folding) from there. bm_crypto shows the figures.
//
// IPsec-MB 1.3 has no plain MD5 (only one MD5 block and HMAC-MD5) and refuses an HMAC job over an
// empty message; those two go to the OpenSSL functions (see md5() and mac()).
#define NO_COMPAT_IMB_API_053 1  // the pre-0.53 names (SHA1, SHA256...) collide with OpenSSL's
#include <intel-ipsec-mb.h>

#include "crypto/ipsec_mb/ipsec_mb_engine.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cassert>

#include "crypto/openssl/openssl_engine.hpp"

namespace tern::crypto {
namespace {

constexpr size_t kBlock = 64;  // SHA-1 and SHA-256 block size

// The message lengths IPsec-MB accepts in a hash job: it validates 1..MB_MAX_LEN16 (2^16 - 2,
// lib/include/mb_mgr_job_check.h), and its HMAC code gives a wrong tag for an empty message.
// Every STUN message is in range: MESSAGE-INTEGRITY covers at least the 20-byte header.
constexpr size_t kMaxJobLength = (size_t{1} << 16) - 2;
constexpr bool fits_job(size_t length) { return length >= 1 && length <= kMaxJobLength; }

// From this length on, the AVX-512 CRC folds 256 bytes per step and is faster than the SSE code;
// below it the SSE code wins (about 10 ns against 12 ns for 100 bytes).
constexpr size_t kWideCrcFrom = 256;

// Lanes of the automatic manager's HMAC-SHA-1/-SHA-256 code in IPsec-MB 1.3: AVX-512 runs sixteen
// buffers per pass, AVX2 eight. Narrower architectures have nothing wider than sse_; their whole
// batch runs on sse_.
uint32_t wide_lanes(IMB_ARCH arch) {
  switch (arch) {
    case IMB_ARCH_AVX512: return 16;
    case IMB_ARCH_AVX2: return 8;
    default: return 0;
  }
}

constexpr size_t group_of(Mac mac) { return mac == Mac::hmac_sha1 ? 0 : 1; }
constexpr IMB_HASH_ALG hash_alg(Mac mac) {
  return mac == Mac::hmac_sha1 ? IMB_AUTH_HMAC_SHA_1 : IMB_AUTH_HMAC_SHA_256;
}

struct ManagerDeleter {
  void operator()(IMB_MGR* mgr) const { free_mb_mgr(mgr); }
};
using ManagerPtr = std::unique_ptr<IMB_MGR, ManagerDeleter>;

// The fields of a hash job that never change: no cipher, whole tag, hash from the first byte.
IMB_JOB prepared_job(IMB_HASH_ALG alg, uint64_t tag_size) {
  IMB_JOB job{};
  job.cipher_mode = IMB_CIPHER_NULL;
  job.cipher_direction = IMB_DIR_ENCRYPT;
  job.chain_order = IMB_ORDER_HASH_CIPHER;
  job.hash_alg = alg;
  job.hash_start_src_offset_in_bytes = 0;
  job.auth_tag_output_len_in_bytes = tag_size;
  return job;
}

// The key's states go to IPsec-MB as they are: IMB_SHA*_ONE_BLOCK leaves the state as host-order
// 32-bit words (it starts from sha*_init_digest's words and runs one block on them), and the HMAC
// code loads _hashed_auth_key_xor_ipad/opad as those words. That is MacKey's layout, so keys made by
// either backend work with the other (engine_interop_test proves it).
void set_mac(IMB_JOB& job, const MacKey& key, std::span<const uint8_t> message, uint8_t* tag) {
  job.src = message.data();
  job.msg_len_to_hash_in_bytes = message.size();
  job.auth_tag_output = tag;
  job.u.HMAC._hashed_auth_key_xor_ipad = reinterpret_cast<const uint8_t*>(key.inner.data());
  job.u.HMAC._hashed_auth_key_xor_opad = reinterpret_cast<const uint8_t*>(key.outer.data());
}

// Runs n jobs of one hash to completion: the burst API submits every job and flushes the rest, and
// leaves nothing in flight in the manager.
void run_burst(IMB_MGR* mgr, IMB_JOB* jobs, uint32_t n, IMB_HASH_ALG alg, bool check) {
  [[maybe_unused]] const uint32_t done = check ? IMB_SUBMIT_HASH_BURST(mgr, jobs, n, alg)
                                               : IMB_SUBMIT_HASH_BURST_NOCHECK(mgr, jobs, n, alg);
  assert(done == n);
}

class IpsecMbEngine final : public Engine {
 public:
  IpsecMbEngine(ManagerPtr sse, ManagerPtr wide, uint32_t lanes, const IpsecMbOptions& options)
      : sse_(std::move(sse)), wide_(std::move(wide)) {
    single_mgr_ = options.single_mac == IpsecMbOptions::Manager::sse ? sse_.get() : wide_.get();
    batch_ = options.batch;
    check_ = options.check_jobs;
    lanes_ = lanes;
    for (Mac mac : {Mac::hmac_sha1, Mac::hmac_sha256}) {
      const IMB_JOB job = prepared_job(hash_alg(mac), mac_size(mac));
      single_[group_of(mac)] = job;
      groups_[group_of(mac)].fill(job);
    }
    sha256_job_ = prepared_job(IMB_AUTH_SHA_256, kSha256Size);
  }

  Backend backend() const override { return Backend::ipsec_mb; }

  // RFC 2104 §2.
  MacKey make_mac_key(Mac mac, std::span<const uint8_t> key) override {
    MacKey out;
    out.mac = mac;
    std::array<uint8_t, kBlock> block{};
    if (key.size() > kBlock) {
      if (mac == Mac::hmac_sha1) {
        IMB_SHA1(sse_.get(), key.data(), key.size(), block.data());
      } else {
        IMB_SHA256(sse_.get(), key.data(), key.size(), block.data());
      }
    } else {
      std::copy(key.begin(), key.end(), block.begin());
    }
    auto state_after = [&](uint32_t* words) {
      if (mac == Mac::hmac_sha1) {
        IMB_SHA1_ONE_BLOCK(sse_.get(), block.data(), words);
      } else {
        IMB_SHA256_ONE_BLOCK(sse_.get(), block.data(), words);
      }
    };
    for (auto& b : block) b ^= 0x36;
    state_after(out.inner.data());
    for (auto& b : block) b ^= 0x36 ^ 0x5c;
    state_after(out.outer.data());
    OPENSSL_cleanse(block.data(), block.size());  // it holds the key
    return out;
  }

  void mac(const MacKey& key, std::span<const uint8_t> message, std::span<uint8_t> tag) override {
    assert(tag.size() >= mac_size(key.mac));
    if (!fits_job(message.size())) {
      openssl_hmac(key, message, tag.data());
      return;
    }
    IMB_JOB& job = single_[group_of(key.mac)];
    set_mac(job, key, message, tag.data());
    run_burst(single_mgr_, &job, 1, hash_alg(key.mac), check_);
  }

  void mac_batch(std::span<const MacJob> jobs) override {
    while (!jobs.empty()) {
      const size_t n = std::min(jobs.size(), kMaxBatch);
      run_batch(jobs.first(n));
      jobs = jobs.subspan(n);
    }
  }

  void sha256(std::span<const uint8_t> message, std::span<uint8_t, kSha256Size> digest) override {
    if (message.size() > kMaxJobLength) {
      IMB_SHA256(sse_.get(), message.data(), message.size(), digest.data());
      return;
    }
    // The job API, not IMB_SHA256(): in 1.3 only the multi-buffer SHA-256 code uses SHA-NI;
    // IMB_SHA256() runs the SSSE3 block function and costs about three times as much. The job
    // still costs about 1.7 times OpenSSL's SHA-256 for 100 bytes, because the flush of a lone job
    // copies it into the idle lane and runs the two-lane SHA-NI code. SHA-256 only computes
    // USERHASH and SHA-256 long-term keys (RFC 8489 §9.2.2, §14.4), never per packet.
    static constexpr uint8_t kNothing = 0;  // a job needs a source even for an empty message
    IMB_MGR* mgr = sse_.get();
    IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
    *job = sha256_job_;
    job->src = message.empty() ? &kNothing : message.data();
    job->msg_len_to_hash_in_bytes = message.size();
    job->auth_tag_output = digest.data();
    IMB_JOB* done = check_ ? IMB_SUBMIT_JOB(mgr) : IMB_SUBMIT_JOB_NOCHECK(mgr);
    while (done == nullptr) done = IMB_FLUSH_JOB(mgr);
    assert(done == job && done->status == IMB_STATUS_COMPLETED);
  }

  // IPsec-MB 1.3 has no plain MD5, and its one-block MD5 cannot be chained. MD5 only derives the
  // long-term key MD5(username ":" realm ":" password) (RFC 8489 §9.2.2), once per user when the
  // credential is added, so OpenSSL's costs nothing that matters.
  void md5(std::span<const uint8_t> message, std::span<uint8_t, kMd5Size> digest) override {
    openssl_md5(message, digest);
  }

  // IMB_CRC32_ETHERNET_FCS is the ISO-HDLC CRC-32 (reflected 0x04C11DB7, initial value and final
  // XOR 0xFFFFFFFF): zlib's crc32 and STUN's FINGERPRINT (RFC 8489 §14.7).
  uint32_t crc32(std::span<const uint8_t> message) override {
    if (message.empty()) return 0;  // the CRC-32 of nothing
    IMB_MGR* mgr = message.size() < kWideCrcFrom ? sse_.get() : wide_.get();
    return IMB_CRC32_ETHERNET_FCS(mgr, message.data(), message.size());
  }

 private:
  void run_batch(std::span<const MacJob> jobs) {
    std::array<uint32_t, 2> count{};
    for (const MacJob& job : jobs) {
      if (!fits_job(job.message.size())) {
        openssl_hmac(*job.key, job.message, job.tag);
        continue;
      }
      const size_t g = group_of(job.key->mac);
      set_mac(groups_[g][count[g]++], *job.key, job.message, job.tag);
    }
    for (Mac mac : {Mac::hmac_sha1, Mac::hmac_sha256}) {
      run_group(mac, groups_[group_of(mac)].data(), count[group_of(mac)]);
    }
  }

  void run_group(Mac mac, IMB_JOB* jobs, uint32_t n) {
    uint32_t on_wide = 0;
    switch (batch_) {
      case IpsecMbOptions::Batch::split: on_wide = lanes_ == 0 ? 0 : n / lanes_ * lanes_; break;
      case IpsecMbOptions::Batch::sse: on_wide = 0; break;
      case IpsecMbOptions::Batch::automatic: on_wide = n; break;
    }
    if (on_wide > 0) run_burst(wide_.get(), jobs, on_wide, hash_alg(mac), check_);
    if (n > on_wide) run_burst(sse_.get(), jobs + on_wide, n - on_wide, hash_alg(mac), check_);
  }

  ManagerPtr sse_;
  ManagerPtr wide_;
  IMB_MGR* single_mgr_ = nullptr;
  IpsecMbOptions::Batch batch_ = IpsecMbOptions::Batch::split;
  bool check_ = false;
  uint32_t lanes_ = 0;
  // Jobs live here, prepared once: a call only sets its message, key and tag. Index: group_of(mac).
  alignas(64) std::array<IMB_JOB, 2> single_{};
  alignas(64) std::array<std::array<IMB_JOB, kMaxBatch>, 2> groups_{};
  IMB_JOB sha256_job_{};
};

// alloc_mb_mgr() records the CPU's features; init_* then picks code for them and runs IPsec-MB's
// self-test. A failure of either, or a CPU without the SSE manager's baseline, means no engine.
ManagerPtr make_manager(bool automatic, IMB_ARCH* arch) {
  ManagerPtr mgr{alloc_mb_mgr(0)};
  if (!mgr) return nullptr;
  // The SSE code needs SSE4.2, AES-NI and PCLMULQDQ (CRC-32 by carry-less multiplication).
  if ((mgr->features & IMB_CPUFLAGS_SSE) != IMB_CPUFLAGS_SSE) return nullptr;
  if (automatic) {
    init_mb_mgr_auto(mgr.get(), arch);
  } else {
    init_mb_mgr_sse(mgr.get());
  }
  if (imb_get_errno(mgr.get()) != 0) return nullptr;
  return mgr;
}

}  // namespace

std::unique_ptr<Engine> make_ipsec_mb_engine() { return make_ipsec_mb_engine(IpsecMbOptions{}); }

std::unique_ptr<Engine> make_ipsec_mb_engine(const IpsecMbOptions& options) {
  ManagerPtr sse = make_manager(false, nullptr);
  IMB_ARCH arch = IMB_ARCH_NONE;
  ManagerPtr wide = make_manager(true, &arch);
  if (!sse || !wide || arch == IMB_ARCH_NONE) return nullptr;
  return std::make_unique<IpsecMbEngine>(std::move(sse), std::move(wide), wide_lanes(arch), options);
}

}  // namespace tern::crypto
