#pragma once
// What one step of a server's TLS handshake came to, and the counters kept over all of them:
// handshakes completed by version, resumptions, failures by reason, session tickets.

#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tern::ctl {

// Why a handshake failed.
enum class TlsFailure : uint8_t {
  alpn_refused,       // the client offered ALPN, but neither "stun.turn" nor an accepted other
  no_shared_cipher,   // no cipher suite, group or signature algorithm in common
  no_shared_version,  // no protocol version in common (a TLS 1.2-only client, min_version 1.3)
  peer_alert,         // the client ended it with an alert (it did not accept our certificate...)
  protocol_error,     // malformed or unexpected messages; not TLS at all
  closed,             // the client went away (EOF, or a socket error) before it finished
};
inline constexpr size_t kTlsFailureKinds = 6;
std::string_view to_string(TlsFailure failure);

struct TlsHandshakeStep {
  enum class Status : uint8_t {
    done,        // the handshake is complete: SSL_read / SSL_write from now on
    want_read,   // call again when the socket is readable
    want_write,  // call again when the socket is writable
    failed,      // close the connection (OpenSSL has queued any alert it had to send: flush it)
  };
  Status status = Status::failed;
  TlsFailure failure = TlsFailure::protocol_error;  // when failed
  std::string detail;  // when failed: what OpenSSL or the socket said, for the log
};

// Classifies what SSL_do_handshake (or SSL_accept) returned on a server connection. Reads this
// thread's OpenSSL error queue and leaves it empty: call it right after the handshake call (and
// clear the queue before that call, as TlsContext::handshake() does). Counts nothing.
TlsHandshakeStep classify_handshake(const SSL* ssl, int ret);

// A snapshot of the counters.
struct TlsStats {
  uint64_t handshakes_tls12 = 0;  // completed handshakes, full or resumed
  uint64_t handshakes_tls13 = 0;
  uint64_t resumptions = 0;  // of the completed handshakes, those that resumed a session (tickets)
  std::array<uint64_t, kTlsFailureKinds> failures{};  // by TlsFailure
  uint64_t tickets_issued = 0;       // tickets encrypted (TLS 1.3 sends one after each handshake)
  uint64_t tickets_unknown_key = 0;  // tickets under a dropped or foreign key: full handshake
  uint64_t ticket_key_rotations = 0;

  uint64_t handshakes() const { return handshakes_tls12 + handshakes_tls13; }
  uint64_t failed(TlsFailure failure) const { return failures[static_cast<size_t>(failure)]; }
};

// The counters. Relaxed atomics: the handshaking thread writes, any thread may read a snapshot.
class TlsCounters {
 public:
  // A step of a handshake: counts a completion (by version, resumed or not) or a failure; a
  // step that wants to read or write counts nothing.
  void count(const SSL* ssl, const TlsHandshakeStep& step);
  void ticket_issued() { add(tickets_issued_); }
  void ticket_unknown_key() { add(tickets_unknown_key_); }
  void ticket_key_rotated() { add(ticket_key_rotations_); }

  TlsStats snapshot() const;

 private:
  static void add(std::atomic<uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> tls12_{0};
  std::atomic<uint64_t> tls13_{0};
  std::atomic<uint64_t> resumptions_{0};
  std::array<std::atomic<uint64_t>, kTlsFailureKinds> failures_{};
  std::atomic<uint64_t> tickets_issued_{0};
  std::atomic<uint64_t> tickets_unknown_key_{0};
  std::atomic<uint64_t> ticket_key_rotations_{0};
};

}  // namespace tern::ctl
