#pragma once
// The server's certificates and keys read from their PEM files: loaded for TlsContext, and
// inspected for `ternd --check` and `ternctl status` (what each certificate is, whether its key
// matches, when it expires).

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/transport/tls_openssl.hpp"
#include "control/transport/tls_settings.hpp"

namespace tern::ctl {

// A certificate this close to its notAfter is worth a warning.
inline constexpr time_t kCertificateExpiryWarning = 30 * 86400;

struct TlsCertificateInfo {
  std::string certificate;  // the files, as configured
  std::string private_key;
  std::string key_type;  // "ECDSA P-256", "ECDSA P-384", "RSA 2048"
  bool key_matches = false;
  std::string subject;  // RFC 2253: "CN=turn.example.com,O=Example"
  std::string issuer;
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress entries, as text
  time_t not_before = 0;
  time_t not_after = 0;
  size_t intermediates = 0;  // certificates after the server's own in the file
};

// Reads every configured certificate and key. `errors`: what would stop ternd (a file missing,
// unreadable or not PEM, a key that does not match its certificate, a key type other than ECDSA
// or RSA, two certificates of one key type, an expired or not yet valid certificate); `warnings`:
// what will hurt soon (expiry within 30 days, no subjectAltName, a file whose intermediates do
// not chain to its certificate). Every message names the file. One TlsCertificateInfo for each
// certificate that could be read, whatever else is wrong with it.
std::vector<TlsCertificateInfo> inspect(const TlsSettings& settings, time_t now,
                                        std::vector<std::string>& errors,
                                        std::vector<std::string>& warnings);

// ---- what TlsContext uses -------------------------------------------------------------------

struct LoadedCertificate {
  X509Ptr certificate;
  std::vector<X509Ptr> intermediates;
  EvpPkeyPtr key;
};

// Reads one certificate chain and its key. nullopt and `error` (naming the file) when a file
// cannot be read or holds no certificate or no usable key; whether they match is not checked.
std::optional<LoadedCertificate> load_certificate(const TlsCertificate& files, std::string& error);

// What a loaded certificate is (the fields of TlsCertificateInfo).
TlsCertificateInfo describe(const TlsCertificate& files, const LoadedCertificate& loaded);

// The checks inspect() and TlsContext::create() share; each false sets `error`.
inline constexpr std::string_view kNoCertificates =
    "certificates: none configured (at least one: ECDSA or RSA, or one of each)";
// Both paths are given (certificates[index] names the setting when one is empty).
bool check_paths(const TlsCertificate& files, size_t index, std::string& error);
// The key is ECDSA or RSA (of at least 2048 bits) and matches the certificate.
bool check_key(const TlsCertificate& files, const LoadedCertificate& loaded, std::string& error);
// One certificate of each key type at most: OpenSSL keeps one ECDSA and one RSA certificate.
class KeyTypes {
 public:
  bool add(const TlsCertificate& files, const LoadedCertificate& loaded, std::string& error);

 private:
  std::string ecdsa_;  // the file holding it, once seen
  std::string rsa_;
};

}  // namespace tern::ctl
