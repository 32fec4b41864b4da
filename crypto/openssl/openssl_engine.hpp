#pragma once
#include <cstdint>
#include <memory>
#include <span>

#include "crypto/engine.hpp"

namespace tern::crypto {
// The reference backend: OpenSSL's SHA-1/SHA-256/MD5 and zlib-compatible CRC-32.
std::unique_ptr<Engine> make_openssl_engine();

// The same computations as free functions, for another backend to use where its library has no
// equivalent: IPsec-MB 1.3 has no plain MD5 and no HMAC job for an empty message.
// tag receives mac_size(key.mac) bytes.
void openssl_hmac(const MacKey& key, std::span<const uint8_t> message, uint8_t* tag);
void openssl_md5(std::span<const uint8_t> message, std::span<uint8_t, kMd5Size> digest);
}  // namespace tern::crypto
