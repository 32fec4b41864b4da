#include "control/transport/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/tls1.h>

#include <algorithm>
#include <cerrno>

#include "control/transport/tls_ticket_keys.hpp"

namespace tern::ctl {

struct TlsContext::Shared {
  explicit Shared(std::chrono::seconds lifetime) : keys(lifetime) {}
  TlsTicketKeys keys;
  TlsCounters counters;
};

namespace {

// What an SSL_CTX's callbacks need, kept in the SSL_CTX (ex_data) and freed with it, so a
// connection made before a reload finds it for as long as the connection holds the SSL_CTX.
struct CtxData {
  std::shared_ptr<TlsContext::Shared> shared;
  bool alpn_http = false;
};

void free_ctx_data(void*, void* data, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<CtxData*>(data);
}

int ctx_data_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_ctx_data);
  return index;
}

CtxData* ctx_data(const SSL* ssl) {
  return static_cast<CtxData*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_data_index()));
}

// RFC 7301 §3.2: "The server SHOULD select the most highly preferred protocol that it supports
// and that is also advertised by the client. In the event that the server supports no protocols
// that the client advertises, then the server SHALL respond with a fatal
// "no_application_protocol" alert." A client that sends no ALPN extension never gets here, and
// is served TURN as before ALPN existed.
int select_alpn_callback(SSL* ssl, const unsigned char** out, unsigned char* out_length,
                         const unsigned char* in, unsigned int in_length, void*) {
  const CtxData* data = ctx_data(ssl);
  const auto chosen = select_alpn({in, in_length}, data != nullptr && data->alpn_http);
  // OpenSSL 3.0 answers SSL_TLSEXT_ERR_ALERT_FATAL from this callback with alert 120,
  // no_application_protocol, and raises SSL_R_NO_APPLICATION_PROTOCOL (classify_handshake counts
  // it as alpn_refused).
  if (!chosen) return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = chosen->data();  // inside `in`: OpenSSL copies it
  *out_length = static_cast<unsigned char>(chosen->size());
  return SSL_TLSEXT_ERR_OK;
}

int ticket_key_callback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                        EVP_MAC_CTX* mac, int encrypt) {
  CtxData* data = ctx_data(ssl);
  if (data == nullptr) return -1;
  TlsContext::Shared& shared = *data->shared;
  using Use = TlsTicketKeys::Use;
  const Use use = encrypt ? shared.keys.encrypt(name, iv, cipher, mac)
                          : shared.keys.decrypt(name, iv, cipher, mac);
  if (use == Use::encrypt) shared.counters.ticket_issued();
  if (use == Use::unknown && !encrypt) shared.counters.ticket_unknown_key();
  return TlsTicketKeys::callback_result(use);
}

std::nullptr_t fail(std::string& error, std::string text) {
  error = std::move(text);
  ERR_clear_error();
  return nullptr;
}

// Whether any TLS 1.2 suite of the context's list authenticates with a key type we have: a
// cipher list of ECDSA suites only and an RSA certificate would fail every TLS 1.2 client.
bool tls12_usable(SSL_CTX* ctx, bool ecdsa, bool rsa) {
  const STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    // TLS 1.3 suites say NID_auth_any: the certificate is chosen by signature algorithm alone.
    const int auth = SSL_CIPHER_get_auth_nid(cipher);
    if ((auth == NID_auth_ecdsa && ecdsa) || (auth == NID_auth_rsa && rsa)) return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<TlsContext> TlsContext::create(const TlsSettings& settings, std::string& error,
                                               const TlsContext* previous) {
  ERR_clear_error();
  const auto lifetime = settings.ticket_key_lifetime;
  if (settings.session_tickets &&
      (lifetime < kMinTicketKeyLifetime || lifetime > kMaxTicketKeyLifetime))
    return fail(error, "ticket_key_lifetime: " + std::to_string(lifetime.count()) +
                           " s is out of range (" + std::to_string(kMinTicketKeyLifetime.count()) +
                           "-" + std::to_string(kMaxTicketKeyLifetime.count()) + " s)");
  if (settings.certificates.empty()) return fail(error, std::string(kNoCertificates));
  if (settings.min_version == TlsVersion::tls1_3 && settings.ciphersuites.empty())
    return fail(error, "ciphersuites: empty, and min_version 1.3 needs at least one");
  const int index = ctx_data_index();
  if (index < 0) return fail(error, "SSL_CTX_get_ex_new_index: " + openssl_errors());

  std::unique_ptr<TlsContext> context(new TlsContext);
  context->shared_ = previous != nullptr ? previous->shared_ : std::make_shared<Shared>(lifetime);
  if (settings.session_tickets && !context->shared_->keys.ready())
    return fail(error, "session tickets: no random bytes for a key: " + openssl_errors());

  context->ctx_.reset(SSL_CTX_new(TLS_server_method()));
  SSL_CTX* ctx = context->ctx_.get();
  if (ctx == nullptr) return fail(error, "SSL_CTX_new: " + openssl_errors());
  auto* data = new CtxData{context->shared_, settings.alpn_http};
  if (SSL_CTX_set_ex_data(ctx, index, data) != 1) {
    delete data;
    return fail(error, "SSL_CTX_set_ex_data: " + openssl_errors());
  }

  // TLS 1.2 and 1.3 only, whatever the system's openssl.cnf says.
  if (SSL_CTX_set_min_proto_version(
          ctx, settings.min_version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
    return fail(error, "min_version: " + openssl_errors());
  // No renegotiation (a client could make the server redo the handshake's public-key work at
  // will, and TURN has no use for it); no compression (CRIME). A client that closes its TCP
  // connection without close_notify ends the stream like one that sends it: STUN and ChannelData
  // carry their own lengths, so a truncated message is seen as one (OpenSSL 3 otherwise reports
  // SSL_R_UNEXPECTED_EOF_WHILE_READING, an error, for what TURN clients routinely do).
  uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF;
  if (!settings.session_tickets) options |= SSL_OP_NO_TICKET;
  SSL_CTX_set_options(ctx, options);
  // Non-blocking use: SSL_write may write part of a buffer and return (the caller resumes with
  // the rest), and a retried SSL_write may pass the same bytes from another address (the
  // caller's buffer may move). Idle connections give their read and write buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // Resumption by tickets only: the server keeps no per-session state.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

  if (!settings.ciphers.empty() || settings.min_version == TlsVersion::tls1_2) {
    if (SSL_CTX_set_cipher_list(ctx, settings.ciphers.c_str()) != 1)
      return fail(error, "ciphers: no TLS 1.2 cipher suite in \"" + settings.ciphers +
                             "\": " + openssl_errors());
  }
  if (SSL_CTX_set_ciphersuites(ctx, settings.ciphersuites.c_str()) != 1)
    return fail(error, "ciphersuites: no TLS 1.3 cipher suite in \"" + settings.ciphersuites +
                           "\": " + openssl_errors());

  SSL_CTX_set_alpn_select_cb(ctx, select_alpn_callback, nullptr);

  if (settings.session_tickets) {
    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_callback) != 1)
      return fail(error, "session tickets: " + openssl_errors());
    // The lifetime a ticket is advertised with (TLS 1.2's lifetime hint, TLS 1.3's
    // ticket_lifetime) and after which OpenSSL refuses the session: one key lifetime. A ticket
    // issued under the current key stays decryptable for one to two lifetimes, so a ticket is
    // never advertised for longer than its key is kept.
    SSL_CTX_set_timeout(ctx, static_cast<long>(lifetime.count()));
    // TLS 1.3 sends tickets after the handshake (OpenSSL's default is two); a TURN client keeps
    // one connection per server, one ticket serves it, and a resumption brings a fresh one.
    SSL_CTX_set_num_tickets(ctx, 1);
  } else {
    SSL_CTX_set_num_tickets(ctx, 0);
  }

  // The certificates: OpenSSL keeps one per key type and, in each handshake, uses the one the
  // client's signature algorithms (and, in TLS 1.2, the cipher suite) allow.
  KeyTypes seen;
  bool ecdsa = false;
  bool rsa = false;
  for (size_t i = 0; i < settings.certificates.size(); ++i) {
    const TlsCertificate& files = settings.certificates[i];
    if (!check_paths(files, i, error)) return fail(error, error);
    auto loaded = load_certificate(files, error);
    if (!loaded || !check_key(files, *loaded, error) || !seen.add(files, *loaded, error))
      return fail(error, error);
    if (SSL_CTX_use_certificate(ctx, loaded->certificate.get()) != 1)
      return fail(error, files.certificate + ": " + openssl_errors());
    if (SSL_CTX_use_PrivateKey(ctx, loaded->key.get()) != 1)
      return fail(error, files.private_key + ": " + openssl_errors());
    // The intermediates go to the certificate just set (the "current" one).
    for (const X509Ptr& intermediate : loaded->intermediates)
      if (SSL_CTX_add1_chain_cert(ctx, intermediate.get()) != 1)
        return fail(error, files.certificate + ": intermediate: " + openssl_errors());
    if (SSL_CTX_check_private_key(ctx) != 1)
      return fail(error, files.private_key + " is not the key of " + files.certificate + ": " +
                             openssl_errors());
    (EVP_PKEY_get_base_id(loaded->key.get()) == EVP_PKEY_EC ? ecdsa : rsa) = true;
    context->certificates_.push_back(describe(files, *loaded));
  }
  if (settings.min_version == TlsVersion::tls1_2 && !tls12_usable(ctx, ecdsa, rsa))
    return fail(error, "ciphers: none of \"" + settings.ciphers + "\" can be used with the " +
                           (ecdsa && rsa ? "ECDSA and RSA certificates"
                            : ecdsa      ? "ECDSA certificate"
                                         : "RSA certificate") +
                           " configured: every TLS 1.2 handshake would fail");

  if (settings.session_tickets) context->shared_->keys.set_lifetime(lifetime);
  ERR_clear_error();
  return context;
}

TlsContext::~TlsContext() = default;

SslPtr TlsContext::new_connection() const {
  SslPtr ssl(SSL_new(ctx_.get()));
  if (ssl) SSL_set_accept_state(ssl.get());
  return ssl;
}

TlsHandshakeStep TlsContext::handshake(SSL* ssl) {
  if (SSL_is_init_finished(ssl)) return {.status = TlsHandshakeStep::Status::done, .detail = {}};
  ERR_clear_error();
  errno = 0;
  const int ret = SSL_do_handshake(ssl);
  TlsHandshakeStep step = classify_handshake(ssl, ret);
  if (CtxData* data = ctx_data(ssl)) data->shared->counters.count(ssl, step);
  return step;
}

TlsApplication TlsContext::application(const SSL* ssl) {
  const unsigned char* name = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &name, &length);
  if (name == nullptr) return TlsApplication::none;
  return application_of({reinterpret_cast<const char*>(name), length});
}

bool TlsContext::tick(int64_t now_seconds) {
  const bool rotated = shared_->keys.tick(now_seconds);
  if (rotated) shared_->counters.ticket_key_rotated();
  return rotated;
}

TlsStats TlsContext::stats() const { return shared_->counters.snapshot(); }

std::optional<time_t> TlsContext::not_after() const {
  std::optional<time_t> earliest;
  for (const TlsCertificateInfo& info : certificates_)
    if (!earliest || info.not_after < *earliest) earliest = info.not_after;
  return earliest;
}

const TlsTicketKeys& TlsContext::ticket_keys() const { return shared_->keys; }

}  // namespace tern::ctl
