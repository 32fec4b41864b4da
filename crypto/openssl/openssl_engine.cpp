// OpenSSL backend. HMAC runs on the low-level SHA contexts so that the precomputed inner/outer
// states in a MacKey can be resumed directly: OpenSSL's one-shot HMAC() re-derives the pads on
// every call and costs about ten times more for a STUN-sized message. Those contexts are
// deprecated in OpenSSL 3 but remain its only resumable-state interface.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto/openssl/openssl_engine.hpp"

#include <openssl/crypto.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace tern::crypto {
namespace {

constexpr size_t kBlock = 64;  // SHA-1 and SHA-256 block size

// Pads the key to a block XORed with `pad` (RFC 2104 §2); a key longer than a block is hashed.
template <typename HashKey>
std::array<uint8_t, kBlock> padded_key(std::span<const uint8_t> key, uint8_t pad, HashKey hash_key) {
  std::array<uint8_t, kBlock> block{};
  if (key.size() > kBlock) {
    hash_key(key, block.data());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  for (auto& b : block) b ^= pad;
  return block;
}

void sha1_state_after_block(const std::array<uint8_t, kBlock>& block, uint32_t* words) {
  SHA_CTX ctx;
  SHA1_Init(&ctx);
  SHA1_Update(&ctx, block.data(), block.size());
  words[0] = ctx.h0, words[1] = ctx.h1, words[2] = ctx.h2, words[3] = ctx.h3, words[4] = ctx.h4;
}

void sha256_state_after_block(const std::array<uint8_t, kBlock>& block, uint32_t* words) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, block.data(), block.size());
  std::copy(ctx.h, ctx.h + 8, words);
}

// Resumes a SHA-1 computation after one block whose resulting state is `words`.
void sha1_resume(const uint32_t* words, std::span<const uint8_t> data, uint8_t* digest) {
  SHA_CTX ctx;
  SHA1_Init(&ctx);
  ctx.h0 = words[0], ctx.h1 = words[1], ctx.h2 = words[2], ctx.h3 = words[3], ctx.h4 = words[4];
  ctx.Nl = kBlock * 8;
  SHA1_Update(&ctx, data.data(), data.size());
  SHA1_Final(digest, &ctx);
}

void sha256_resume(const uint32_t* words, std::span<const uint8_t> data, uint8_t* digest) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  std::copy(words, words + 8, ctx.h);
  ctx.Nl = kBlock * 8;
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(digest, &ctx);
}

void sha256_digest(std::span<const uint8_t> message, uint8_t* digest) {
  // The low-level context, not SHA256(): in OpenSSL 3 the one-shot fetches the algorithm from the
  // provider on every call, which costs about four times the hash of a STUN-sized message.
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, message.data(), message.size());
  SHA256_Final(digest, &ctx);
}

class OpensslEngine final : public Engine {
 public:
  Backend backend() const override { return Backend::openssl; }

  MacKey make_mac_key(Mac mac, std::span<const uint8_t> key) override {
    MacKey out;
    out.mac = mac;
    std::array<uint8_t, kBlock> inner_block;
    std::array<uint8_t, kBlock> outer_block;
    if (mac == Mac::hmac_sha1) {
      auto hash = [](std::span<const uint8_t> k, uint8_t* d) { SHA1(k.data(), k.size(), d); };
      inner_block = padded_key(key, 0x36, hash);
      outer_block = padded_key(key, 0x5c, hash);
      sha1_state_after_block(inner_block, out.inner.data());
      sha1_state_after_block(outer_block, out.outer.data());
    } else {
      auto hash = [](std::span<const uint8_t> k, uint8_t* d) { sha256_digest(k, d); };
      inner_block = padded_key(key, 0x36, hash);
      outer_block = padded_key(key, 0x5c, hash);
      sha256_state_after_block(inner_block, out.inner.data());
      sha256_state_after_block(outer_block, out.outer.data());
    }
    // The padded blocks are the key itself; leave no copy of it on the stack.
    OPENSSL_cleanse(inner_block.data(), inner_block.size());
    OPENSSL_cleanse(outer_block.data(), outer_block.size());
    return out;
  }

  void mac(const MacKey& key, std::span<const uint8_t> message, std::span<uint8_t> tag) override {
    openssl_hmac(key, message, tag.data());
  }

  void mac_batch(std::span<const MacJob> jobs) override {
    for (const auto& job : jobs) mac(*job.key, job.message, {job.tag, mac_size(job.key->mac)});
  }

  void sha256(std::span<const uint8_t> message, std::span<uint8_t, kSha256Size> digest) override {
    sha256_digest(message, digest.data());
  }

  void md5(std::span<const uint8_t> message, std::span<uint8_t, kMd5Size> digest) override {
    openssl_md5(message, digest);
  }

  uint32_t crc32(std::span<const uint8_t> message) override {
    return static_cast<uint32_t>(
        ::crc32_z(::crc32_z(0, nullptr, 0), message.data(), message.size()));
  }
};

}  // namespace

std::unique_ptr<Engine> make_openssl_engine() { return std::make_unique<OpensslEngine>(); }

// RFC 2104 §2: H(K xor opad, H(K xor ipad, text)), both hashes resumed after their key block.
void openssl_hmac(const MacKey& key, std::span<const uint8_t> message, uint8_t* tag) {
  uint8_t inner[kSha256Size];
  if (key.mac == Mac::hmac_sha1) {
    sha1_resume(key.inner.data(), message, inner);
    sha1_resume(key.outer.data(), {inner, kSha1Size}, tag);
  } else {
    sha256_resume(key.inner.data(), message, inner);
    sha256_resume(key.outer.data(), {inner, kSha256Size}, tag);
  }
}

void openssl_md5(std::span<const uint8_t> message, std::span<uint8_t, kMd5Size> digest) {
  MD5(message.data(), message.size(), digest.data());
}

}  // namespace tern::crypto
