#include "control/transport/tls_handshake.hpp"

#include <openssl/err.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace tern::ctl {
namespace {

// The failure an OpenSSL reason code (ERR_GET_REASON of an ERR_LIB_SSL error) stands for;
// nullopt when it says nothing particular.
std::optional<TlsFailure> failure_of(int reason) {
  switch (reason) {
    // RFC 7301 §3.2: "In the event that the server supports no protocols that the client
    // advertises, then the server SHALL respond with a fatal "no_application_protocol" alert."
    // OpenSSL raises this when the select callback answers SSL_TLSEXT_ERR_ALERT_FATAL.
    case SSL_R_NO_APPLICATION_PROTOCOL: return TlsFailure::alpn_refused;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_CIPHERS_AVAILABLE:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: return TlsFailure::no_shared_cipher;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_UNSUPPORTED_SSL_VERSION:
    case SSL_R_UNKNOWN_SSL_VERSION:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_INAPPROPRIATE_FALLBACK: return TlsFailure::no_shared_version;
    // OpenSSL 3 reports a peer that closes without close_notify as an error (unless
    // SSL_OP_IGNORE_UNEXPECTED_EOF is set, which TlsContext does).
    case SSL_R_UNEXPECTED_EOF_WHILE_READING: return TlsFailure::closed;
    default: break;
  }
  // An alert received from the client: its reason is SSL_AD_REASON_OFFSET + the alert.
  if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
    switch (reason - SSL_AD_REASON_OFFSET) {
      case SSL_AD_PROTOCOL_VERSION: return TlsFailure::no_shared_version;
      case SSL_AD_INSUFFICIENT_SECURITY: return TlsFailure::no_shared_cipher;
      default: return TlsFailure::peer_alert;
    }
  }
  return std::nullopt;
}

// Empties the error queue into `detail` and classifies by the first SSL error that means
// something particular (the queue's oldest error is usually the cause).
TlsFailure drain_ssl_errors(std::string& detail) {
  std::optional<TlsFailure> failure;
  while (const unsigned long code = ERR_get_error()) {
    if (!failure && ERR_GET_LIB(code) == ERR_LIB_SSL) failure = failure_of(ERR_GET_REASON(code));
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    if (!detail.empty()) detail += "; ";
    detail += line;
  }
  return failure.value_or(TlsFailure::protocol_error);
}

}  // namespace

std::string_view to_string(TlsFailure failure) {
  switch (failure) {
    case TlsFailure::alpn_refused: return "alpn_refused";
    case TlsFailure::no_shared_cipher: return "no_shared_cipher";
    case TlsFailure::no_shared_version: return "no_shared_version";
    case TlsFailure::peer_alert: return "peer_alert";
    case TlsFailure::protocol_error: return "protocol_error";
    case TlsFailure::closed: return "closed";
  }
  return "protocol_error";
}

TlsHandshakeStep classify_handshake(const SSL* ssl, int ret) {
  using Status = TlsHandshakeStep::Status;
  const int saved_errno = errno;
  TlsHandshakeStep step;
  if (ret == 1) {
    ERR_clear_error();
    step.status = Status::done;
    return step;
  }
  step.status = Status::failed;
  switch (const int error = SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
      step.status = Status::want_read;
      break;
    case SSL_ERROR_WANT_WRITE:
      step.status = Status::want_write;
      break;
    case SSL_ERROR_ZERO_RETURN:  // close_notify, or EOF with SSL_OP_IGNORE_UNEXPECTED_EOF
      step.failure = TlsFailure::closed;
      step.detail = "the client closed the connection";
      break;
    case SSL_ERROR_SYSCALL:  // EOF or a socket error, nothing from TLS itself
      step.failure = TlsFailure::closed;
      step.detail = saved_errno != 0 && ret < 0 ? std::strerror(saved_errno)
                                                : "the client closed the connection";
      break;
    case SSL_ERROR_SSL:
      step.failure = drain_ssl_errors(step.detail);
      break;
    default:  // the WANT_* of features tern does not use (async, X509 lookup, ClientHello cb)
      step.failure = TlsFailure::protocol_error;
      step.detail = "SSL_get_error " + std::to_string(error);
      break;
  }
  ERR_clear_error();
  return step;
}

void TlsCounters::count(const SSL* ssl, const TlsHandshakeStep& step) {
  using Status = TlsHandshakeStep::Status;
  if (step.status == Status::failed) {
    add(failures_[static_cast<size_t>(step.failure)]);
  } else if (step.status == Status::done) {
    add(SSL_version(ssl) == TLS1_3_VERSION ? tls13_ : tls12_);
    if (SSL_session_reused(ssl)) add(resumptions_);
  }
}

TlsStats TlsCounters::snapshot() const {
  TlsStats s;
  s.handshakes_tls12 = tls12_.load(std::memory_order_relaxed);
  s.handshakes_tls13 = tls13_.load(std::memory_order_relaxed);
  s.resumptions = resumptions_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kTlsFailureKinds; ++i)
    s.failures[i] = failures_[i].load(std::memory_order_relaxed);
  s.tickets_issued = tickets_issued_.load(std::memory_order_relaxed);
  s.tickets_unknown_key = tickets_unknown_key_.load(std::memory_order_relaxed);
  s.ticket_key_rotations = ticket_key_rotations_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tern::ctl
