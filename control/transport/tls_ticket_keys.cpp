#include "control/transport/tls_ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

namespace tern::ctl {

struct TlsTicketKeys::Key {
  Name name;
  std::array<uint8_t, 32> aes;   // AES-256-CBC
  std::array<uint8_t, 32> hmac;  // HMAC-SHA256
};

void TlsTicketKeys::KeyWipe::operator()(Key* key) const {
  OPENSSL_cleanse(key, sizeof *key);
  delete key;
}

namespace {

constexpr size_t kIvSize = 16;  // AES-CBC's block; the callback's iv has EVP_MAX_IV_LENGTH room
static_assert(kIvSize <= EVP_MAX_IV_LENGTH);

bool set_mac(EVP_MAC_CTX* mac, std::array<uint8_t, 32>& key) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.data(), key.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

int TlsTicketKeys::callback_result(Use use) {
  switch (use) {
    case Use::encrypt:
    case Use::decrypt: return 1;
    case Use::decrypt_renew: return 2;
    case Use::unknown: return 0;
    case Use::error: return -1;
  }
  return -1;
}

TlsTicketKeys::KeyPtr TlsTicketKeys::make_key() {
  KeyPtr key(new Key);
  if (RAND_bytes(key->name.data(), static_cast<int>(key->name.size())) != 1 ||
      RAND_bytes(key->aes.data(), static_cast<int>(key->aes.size())) != 1 ||
      RAND_bytes(key->hmac.data(), static_cast<int>(key->hmac.size())) != 1)
    return nullptr;
  return key;
}

TlsTicketKeys::TlsTicketKeys(std::chrono::seconds lifetime)
    : lifetime_(lifetime), current_(make_key()) {}

TlsTicketKeys::~TlsTicketKeys() = default;

bool TlsTicketKeys::tick(int64_t now_seconds) {
  if (!current_) {  // the random generator failed before: try again
    current_ = make_key();
    current_since_ = now_seconds;
    return current_ != nullptr;
  }
  if (!current_since_) {
    current_since_ = now_seconds;
    return false;
  }
  if (now_seconds - *current_since_ < lifetime_.count()) return false;
  // The current key has encrypted for its lifetime: it decrypts for one more, the one before it
  // is dropped (wiped).
  previous_ = std::move(current_);
  current_ = make_key();
  current_since_ = now_seconds;
  return true;
}

TlsTicketKeys::Use TlsTicketKeys::encrypt(uint8_t* name, uint8_t* iv, EVP_CIPHER_CTX* cipher,
                                          EVP_MAC_CTX* mac) {
  if (!current_) return Use::unknown;  // no ticket rather than a failed handshake
  if (RAND_bytes(iv, kIvSize) != 1) return Use::error;
  std::memcpy(name, current_->name.data(), kNameSize);
  if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, current_->aes.data(), iv) != 1 ||
      !set_mac(mac, current_->hmac))
    return Use::error;
  return Use::encrypt;
}

TlsTicketKeys::Use TlsTicketKeys::decrypt(const uint8_t* name, const uint8_t* iv,
                                          EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac) {
  auto matches = [name](const KeyPtr& key) {
    return key && std::equal(key->name.begin(), key->name.end(), name);
  };
  Key* key = nullptr;
  Use use = Use::unknown;
  if (matches(current_)) {
    key = current_.get();
    use = Use::decrypt;
  } else if (matches(previous_)) {
    key = previous_.get();
    use = Use::decrypt_renew;
  } else {
    return Use::unknown;
  }
  if (!set_mac(mac, key->hmac) ||
      EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv) != 1)
    return Use::error;
  return use;
}

std::optional<TlsTicketKeys::Name> TlsTicketKeys::current_name() const {
  if (!current_) return std::nullopt;
  return current_->name;
}

}  // namespace tern::ctl
