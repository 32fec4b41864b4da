#pragma once
#include <memory>

#include "crypto/engine.hpp"

namespace tern::crypto {
// The reference backend: OpenSSL's SHA-1/SHA-256/MD5 and zlib-compatible CRC-32.
std::unique_ptr<Engine> make_openssl_engine();
}  // namespace tern::crypto
