#pragma once
// The TLS server context of TURN over TLS (RFC 8656 over TLS 1.2 and 1.3, `turns:` on 5349 and
// 443): an OpenSSL SSL_CTX set up for non-blocking connections, with tern's certificates, ALPN
// "stun.turn" (RFC 7443), session tickets under keys tern rotates, and counters. No sockets: the
// caller owns them and drives each connection.
//
//   std::string error;
//   auto tls = TlsContext::create(settings, error);          // nullptr: error says why
//   SslPtr ssl = tls->new_connection();                      // per accepted socket
//   SSL_set_fd(ssl.get(), fd);                               // or SSL_set_bio
//   switch (TlsContext::handshake(ssl.get()).status) { ... } // until done; on want_read /
//                                                            // want_write, wait for the fd
//   SSL_read / SSL_write                                     // then, non-blocking
//   tls->tick(now);                                          // about once a second
//
// A reload builds a new context from the previous one (create(settings, error, old.get())):
// ticket keys and counters carry over, connections keep the SSL_CTX they were made from (each
// SSL holds a reference), and the old TlsContext may be destroyed at once.
//
// What the caller handles: readiness (want_read / want_write from handshake(), and from SSL_read
// and SSL_write, either of which may want the other direction: a TLS 1.3 KeyUpdate makes SSL_read
// write), close_notify (SSL_shutdown) and SIGPIPE: OpenSSL's socket BIO writes with write(), so a
// client that has gone raises SIGPIPE unless the process ignores it.
//
// One thread runs the handshakes and tick(); stats() may be read from any thread.

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/transport/tls_alpn.hpp"
#include "control/transport/tls_certificates.hpp"
#include "control/transport/tls_handshake.hpp"
#include "control/transport/tls_openssl.hpp"
#include "control/transport/tls_settings.hpp"

namespace tern::ctl {

class TlsTicketKeys;

class TlsContext {
 public:
  // Builds the context, or returns nullptr with `error` naming the setting or file and what is
  // wrong with it. `previous`: the context this one replaces, whose ticket keys (so tickets it
  // issued still resume) and counters are kept.
  static std::unique_ptr<TlsContext> create(const TlsSettings& settings, std::string& error,
                                            const TlsContext* previous = nullptr);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server connection in accept state; it holds its own reference to this context's SSL_CTX.
  // nullptr only when OpenSSL cannot allocate.
  SslPtr new_connection() const;
  SSL_CTX* ctx() const { return ctx_.get(); }

  // One step of a connection's handshake: SSL_do_handshake with a clean error queue, classified
  // (classify_handshake) and counted in the counters of the context the connection came from.
  // Drive the handshake with this, not with SSL_read, or it is not counted. Once it is done,
  // further calls answer done and count nothing; once it failed, close the connection.
  static TlsHandshakeStep handshake(SSL* ssl);
  // What ALPN selected on a connection whose handshake is done.
  static TlsApplication application(const SSL* ssl);

  // Rotates the session-ticket keys on the caller's clock (seconds; any epoch, as long as it is
  // the same one every call); the first call starts the first key's lifetime. Returns true when
  // the keys rotated.
  bool tick(int64_t now_seconds);

  TlsStats stats() const;
  // The certificates loaded, and the earliest notAfter among them (for ternctl status).
  const std::vector<TlsCertificateInfo>& certificates() const { return certificates_; }
  std::optional<time_t> not_after() const;

  // The session-ticket keys (tests look at their names).
  const TlsTicketKeys& ticket_keys() const;

  struct Shared;  // ticket keys and counters, shared by a context and the ones reloaded from it

 private:
  TlsContext() = default;

  SslCtxPtr ctx_;
  std::shared_ptr<Shared> shared_;
  std::vector<TlsCertificateInfo> certificates_;
};

}  // namespace tern::ctl
