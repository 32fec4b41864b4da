#pragma once
// The keys that protect TLS session tickets, held by tern and rotated on the caller's clock
// (tick(), no timer thread). A ticket is the server's session state encrypted and MACed under a
// key only the server knows (RFC 5077 §4; TLS 1.3 reuses the mechanism for its PSK tickets, RFC
// 8446 §4.6.1); the client sends it back to resume without a full handshake.
//
// Two keys at most: the current key encrypts new tickets for one lifetime; at the next rotation
// it becomes the previous key, which only decrypts (a ticket under it resumes, and the client is
// given a fresh ticket under the current key); at the rotation after that it is dropped, and a
// ticket under it leads to a full handshake. Each key is a 16-byte name (RFC 5077 §4: "key_name
// serves to identify a particular set of keys used to protect the ticket"), an AES-256-CBC key
// and an HMAC-SHA256 key, all from RAND_bytes. Keys never leave the process and are wiped when
// dropped.
//
// One thread: the one that runs the handshakes (the callbacks) calls tick() too.

#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

namespace tern::ctl {

class TlsTicketKeys {
 public:
  static constexpr size_t kNameSize = 16;
  using Name = std::array<uint8_t, kNameSize>;

  // What the OpenSSL callback (SSL_CTX_set_tlsext_ticket_key_evp_cb) should answer.
  enum class Use : uint8_t {
    encrypt,        // new ticket under the current key                   -> 1
    decrypt,        // a ticket under the current key                     -> 1
    decrypt_renew,  // a ticket under the previous key: issue a new one   -> 2
    unknown,        // no such key (dropped, or never ours): full handshake -> 0
    error,          // OpenSSL could not set the cipher or MAC up         -> -1
  };
  static int callback_result(Use use);

  // Makes the first key; its lifetime starts at the first tick().
  explicit TlsTicketKeys(std::chrono::seconds lifetime);
  ~TlsTicketKeys();
  TlsTicketKeys(const TlsTicketKeys&) = delete;
  TlsTicketKeys& operator=(const TlsTicketKeys&) = delete;

  // False only when the random generator failed and there is no key to encrypt with (no tickets
  // are issued then; tick() tries again).
  bool ready() const { return current_ != nullptr; }
  void set_lifetime(std::chrono::seconds lifetime) { lifetime_ = lifetime; }
  std::chrono::seconds lifetime() const { return lifetime_; }

  // Rotates when the current key has encrypted for a whole lifetime. Returns true when it did.
  bool tick(int64_t now_seconds);

  // The callback's two halves. encrypt: writes the current key's name and a fresh IV, sets
  // `cipher` up to encrypt and `mac` to HMAC-SHA256. decrypt: finds the key by `name` and sets
  // both up to check and decrypt with the ticket's `iv`.
  Use encrypt(uint8_t* name, uint8_t* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);
  Use decrypt(const uint8_t* name, const uint8_t* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);

  // For tests and status: the current key's name, and how many keys are held (0-2).
  std::optional<Name> current_name() const;
  size_t size() const { return (current_ ? 1 : 0) + (previous_ ? 1 : 0); }

 private:
  struct Key;
  struct KeyWipe {
    void operator()(Key* key) const;
  };
  using KeyPtr = std::unique_ptr<Key, KeyWipe>;
  static KeyPtr make_key();

  std::chrono::seconds lifetime_;
  KeyPtr current_;
  KeyPtr previous_;
  std::optional<int64_t> current_since_;  // when current_ started encrypting (the first tick)
};

}  // namespace tern::ctl
