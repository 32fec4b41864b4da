#pragma once
// tern's crypto engine: the hashes and MACs STUN/TURN needs, behind one interface with two
// backends (Intel IPsec-MB, OpenSSL). An Engine holds per-thread state: each thread that hashes
// (the control plane, every worker) owns its own instance.
//
//   HMAC-SHA1      MESSAGE-INTEGRITY            (RFC 8489 §14.5)
//   HMAC-SHA256    MESSAGE-INTEGRITY-SHA256     (RFC 8489 §14.6)
//   SHA-256        USERHASH, SHA-256 long-term key (RFC 8489 §14.4, §9.2.2)
//   MD5            the MD5 long-term key MD5(username ":" realm ":" password) (RFC 8489 §9.2.2)
//   CRC-32         FINGERPRINT = CRC-32 XOR 0x5354554e (RFC 8489 §14.7)

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace tern::crypto {

inline constexpr size_t kSha1Size = 20;
inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kMd5Size = 16;
inline constexpr size_t kMaxBatch = 32;  // one burst of requests

enum class Mac : uint8_t { hmac_sha1, hmac_sha256 };
constexpr size_t mac_size(Mac mac) { return mac == Mac::hmac_sha1 ? kSha1Size : kSha256Size; }

// An HMAC key with RFC 2104's inner and outer states precomputed when the key is made:
// the hash state after one block of (K xor ipad) and of (K xor opad), as host-order 32-bit words
// (SHA-1 uses the first five). Every message then costs only its own blocks. The layout is the
// same for every backend, so a key made by one engine works with any other.
struct MacKey {
  std::array<uint32_t, 8> inner{};
  std::array<uint32_t, 8> outer{};
  Mac mac = Mac::hmac_sha1;
};

// One MAC of a batch: tag receives mac_size(key->mac) bytes.
struct MacJob {
  const MacKey* key = nullptr;
  std::span<const uint8_t> message;
  uint8_t* tag = nullptr;
};

// One check of a batch: expected may be shorter than the full tag (a truncated
// MESSAGE-INTEGRITY-SHA256, RFC 8489 §14.6); its leading bytes are compared in constant time.
struct MacCheck {
  const MacKey* key = nullptr;
  std::span<const uint8_t> message;
  std::span<const uint8_t> expected;
};

enum class Backend : uint8_t { ipsec_mb, openssl };
std::string_view to_string(Backend backend);

class Engine {
 public:
  virtual ~Engine() = default;
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  virtual Backend backend() const = 0;

  // Precomputes the inner/outer states; a key longer than the block is hashed first (RFC 2104).
  virtual MacKey make_mac_key(Mac mac, std::span<const uint8_t> key) = 0;
  // tag.size() must be at least mac_size(key.mac); exactly that many bytes are written.
  virtual void mac(const MacKey& key, std::span<const uint8_t> message, std::span<uint8_t> tag) = 0;
  // Up to kMaxBatch MACs, each with its own key and message, computed together where the backend
  // can (IPsec-MB's multi-buffer burst API).
  virtual void mac_batch(std::span<const MacJob> jobs) = 0;

  virtual void sha256(std::span<const uint8_t> message, std::span<uint8_t, kSha256Size> digest) = 0;
  virtual void md5(std::span<const uint8_t> message, std::span<uint8_t, kMd5Size> digest) = 0;
  // ISO-HDLC CRC-32 (the one in Ethernet, zlib and STUN FINGERPRINT); check value 0xCBF43926.
  virtual uint32_t crc32(std::span<const uint8_t> message) = 0;

  // Verifies up to kMaxBatch MACs in one batch; bit i of the result is set when check i matched.
  uint32_t verify_batch(std::span<const MacCheck> checks);
  bool verify(const MacKey& key, std::span<const uint8_t> message, std::span<const uint8_t> expected);
};

// nullptr when the backend was not built or this CPU cannot run it.
std::unique_ptr<Engine> make_engine(Backend backend);
// IPsec-MB where it was built and the CPU supports it, otherwise OpenSSL.
std::unique_ptr<Engine> make_default_engine();

// Compares in time that depends only on the lengths, never on where the bytes differ.
bool equal_constant_time(std::span<const uint8_t> a, std::span<const uint8_t> b);

// Cryptographically strong random bytes (nonces, secrets); false if the system could not supply them.
[[nodiscard]] bool random_bytes(std::span<uint8_t> out);

}  // namespace tern::crypto
