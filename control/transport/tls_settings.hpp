#pragma once
// What the configuration carries for TURN over TLS (RFC 8656 over TLS 1.2 and 1.3, `turns:` on
// 5349 and 443): the server's certificates, the protocol versions and cipher suites, session
// tickets and ALPN. Plain data with standard types only, so conf/ can fill it (or own it: it
// includes nothing of tern's); TlsContext::create() checks it and builds from it, inspect()
// (tls_certificates.hpp) reads the certificates for `ternd --check`.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::ctl {

enum class TlsVersion : uint8_t { tls1_2, tls1_3 };
// "1.2", "1.3".
std::string_view to_string(TlsVersion version);
// "1.2" or "1.3"; anything else -> nullopt.
std::optional<TlsVersion> parse_tls_version(std::string_view text);

// TLS 1.2 cipher suites, in OpenSSL's syntax: forward secrecy (ECDHE) and AEAD only, for ECDSA
// and RSA certificates -- AES-GCM and ChaCha20-Poly1305. No RSA key exchange, no CBC, no finite-
// field DHE (the suites RFC 9325 §4.2 recommends, and Mozilla's "intermediate" list without DHE).
// The client's order decides: every one of them is strong, and a client without AES hardware
// asks for ChaCha20 first.
inline constexpr std::string_view kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// TLS 1.3 suites: OpenSSL 3.0's default (every TLS 1.3 suite is AEAD over (EC)DHE).
inline constexpr std::string_view kDefaultTls13Ciphersuites =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

// A session-ticket key encrypts tickets for one lifetime and still decrypts them for the next
// (tls_ticket_keys.hpp), so a ticket resumes for at least one lifetime after it is issued.
inline constexpr std::chrono::seconds kDefaultTicketKeyLifetime{12 * 3600};
inline constexpr std::chrono::seconds kMinTicketKeyLifetime{60};
// RFC 8446 §4.6.1: the ticket_lifetime "Servers MUST NOT use any value greater than 604800
// seconds (7 days)." Tickets are advertised for one key lifetime, so the key's is bounded too.
inline constexpr std::chrono::seconds kMaxTicketKeyLifetime{7 * 86400};

// One certificate chain and its key, PEM. At most one ECDSA and one RSA certificate: OpenSSL
// keeps one of each and answers each client with the one its signature algorithms accept.
struct TlsCertificate {
  std::string certificate;  // the server's certificate first, then its intermediates (no root)
  std::string private_key;  // unencrypted; may be the same file as `certificate`
};

struct TlsSettings {
  std::vector<TlsCertificate> certificates;
  TlsVersion min_version = TlsVersion::tls1_2;          // the maximum is TLS 1.3
  std::string ciphers{kDefaultTls12Ciphers};            // TLS 1.2 (OpenSSL cipher list syntax)
  std::string ciphersuites{kDefaultTls13Ciphersuites};  // TLS 1.3
  // Resumption by session tickets only (RFC 5077, RFC 8446 §4.6.1): tern keeps no session cache.
  bool session_tickets = true;
  std::chrono::seconds ticket_key_lifetime = kDefaultTicketKeyLifetime;
  // ALPN: "stun.turn" is always accepted. Also accept "http/1.1" (for a self-test page; tern only
  // selects it and says so, see TlsContext::application()).
  bool alpn_http = false;
};

}  // namespace tern::ctl
