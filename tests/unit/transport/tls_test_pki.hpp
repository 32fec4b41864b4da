#pragma once
// A throwaway PKI for TLS tests, made with the OpenSSL API: a root CA, an intermediate CA, and
// server certificates the intermediate signs (any key, any validity window, subjectAltName IP
// 127.0.0.1 and DNS turn.test), written as PEM into a temporary directory that is removed with
// the object. No network, no fixed paths.

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "control/transport/tls_openssl.hpp"

namespace tern::ctl::testing_pki {

inline EvpPkeyPtr ec_key(const char* curve = "P-256") {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}
inline EvpPkeyPtr rsa_key(size_t bits = 2048) {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
}

struct CertSpec {
  std::string common_name = "turn.test";
  time_t not_before = 0;
  time_t not_after = 0;
  bool ca = false;
  std::string subject_alt_name = "IP:127.0.0.1,DNS:turn.test";  // empty: none
};

inline void add_extension(X509* x, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
  if (ext == nullptr) return;
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key`, signed by issuer_key (issuer == nullptr: self-signed).
inline X509Ptr make_certificate(EVP_PKEY* key, const CertSpec& spec, X509* issuer,
                                EVP_PKEY* issuer_key) {
  static std::atomic<long> serial{1};
  X509Ptr x(X509_new());
  X509_set_version(x.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), spec.not_before);
  ASN1_TIME_set(X509_getm_notAfter(x.get()), spec.not_after);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tern tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer != nullptr ? issuer : x.get();
  if (spec.ca) {
    add_extension(x.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(x.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(x.get(), signer, NID_basic_constraints, "CA:FALSE");
    add_extension(x.get(), signer, NID_ext_key_usage, "serverAuth");
    if (!spec.subject_alt_name.empty())
      add_extension(x.get(), signer, NID_subject_alt_name, spec.subject_alt_name);
  }
  X509_sign(x.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return x;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tern-tls-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  bool ok() const { return !path_.empty(); }

 private:
  std::filesystem::path path_;
};

inline bool write_pem(const std::string& path, const std::vector<X509*>& certificates,
                      EVP_PKEY* key = nullptr, const char* passphrase = nullptr) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) return false;
  for (X509* c : certificates)
    if (PEM_write_bio_X509(bio.get(), c) != 1) return false;
  if (key != nullptr) {
    const EVP_CIPHER* cipher = passphrase != nullptr ? EVP_aes_256_cbc() : nullptr;
    if (PEM_write_bio_PrivateKey(bio.get(), key, cipher,
                                 reinterpret_cast<const unsigned char*>(passphrase),
                                 passphrase != nullptr ? static_cast<int>(strlen(passphrase)) : 0,
                                 nullptr, nullptr) != 1)
      return false;
  }
  return true;
}

// Root CA -> intermediate CA -> server certificates.
class Pki {
 public:
  explicit Pki(time_t now) : now_(now), root_key_(ec_key()), intermediate_key_(ec_key()) {
    root_ = make_certificate(root_key_.get(),
                             {.common_name = "tern test root",
                              .not_before = now - 86400,
                              .not_after = now + 3650 * 86400,
                              .ca = true},
                             nullptr, nullptr);
    intermediate_ = make_certificate(intermediate_key_.get(),
                                     {.common_name = "tern test intermediate",
                                      .not_before = now - 86400,
                                      .not_after = now + 3650 * 86400,
                                      .ca = true},
                                     root_.get(), root_key_.get());
    write_pem(dir_.file("root.pem"), {root_.get()});
  }

  time_t now() const { return now_; }
  X509* root() const { return root_.get(); }
  const TempDir& dir() const { return dir_; }
  std::string root_file() const { return dir_.file("root.pem"); }

  // Writes `name`.crt (the server certificate and the intermediate) and `name`.key.
  struct Files {
    std::string certificate;
    std::string private_key;
  };
  Files issue(const std::string& name, EVP_PKEY* key, CertSpec spec) {
    X509Ptr leaf = make_certificate(key, spec, intermediate_.get(), intermediate_key_.get());
    Files files{dir_.file(name + ".crt"), dir_.file(name + ".key")};
    write_pem(files.certificate, {leaf.get(), intermediate_.get()});
    write_pem(files.private_key, {}, key);
    return files;
  }
  // A server certificate valid from a day ago for a year.
  Files issue(const std::string& name, EVP_PKEY* key) {
    return issue(name, key, {.not_before = now_ - 86400, .not_after = now_ + 365 * 86400});
  }
  X509Ptr leaf(EVP_PKEY* key, CertSpec spec) {
    return make_certificate(key, spec, intermediate_.get(), intermediate_key_.get());
  }
  X509* intermediate() const { return intermediate_.get(); }

 private:
  TempDir dir_;
  time_t now_;
  EvpPkeyPtr root_key_;
  EvpPkeyPtr intermediate_key_;
  X509Ptr root_;
  X509Ptr intermediate_;
};

}  // namespace tern::ctl::testing_pki
