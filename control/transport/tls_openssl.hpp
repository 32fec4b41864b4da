#pragma once
// OpenSSL objects owned by unique_ptr, and OpenSSL's error queue as text. Nothing here throws:
// OpenSSL reports failures on a per-thread error queue, which openssl_errors() turns into the
// error strings tern's APIs return.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

namespace tern::ctl {

template <auto Free>
struct OpenSslFree {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslFree<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslFree<SSL_free>>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, OpenSslFree<SSL_SESSION_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO_free_all>>;

// Every error on this thread's OpenSSL queue, oldest first, as ERR_error_string_n writes them
// ("error:0A0000C1:SSL routines::no shared cipher"), joined by "; ". The queue is left empty.
// `fallback` when it was empty already.
std::string openssl_errors(std::string_view fallback = "no detail from OpenSSL");

}  // namespace tern::ctl
