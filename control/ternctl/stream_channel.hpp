#pragma once
// ternctl's probe over TURN over TCP and TLS (RFC 8656 §3.1): a TCP connection to a listener,
// with TLS on top for a TLS listener (OpenSSL, ALPN "stun.turn" as RFC 7443 says, the
// certificate checked as a browser would: the chain to a trusted CA, the validity dates and the
// name or IP address the client connects to). The stream is cut into messages: a STUN message
// (20-byte header, its length) or ChannelData (4-byte header, data padded to four bytes, §12.5).

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/net.hpp"
#include "control/ternctl/channel.hpp"

namespace tern::ctl::ternctl {

struct TlsOptions {
  std::string ca_file;      // "": the system's trusted CAs
  std::string server_name;  // SNI and the name checked; "": the listener's IP address is checked
};

// Why a connection could not be made, for the probe's meanings.
enum class StreamFailure {
  none,
  refused,      // RST: nothing listens on the port
  timed_out,    // no answer to the SYN: filtered, or not routed here
  no_route,     // this host has no route to the listener
  tls_verify,   // the certificate failed verification (verify_error says why)
  tls_alpn,     // the server chose an ALPN protocol other than stun.turn
  tls_other,    // the handshake failed otherwise (an alert, or the server closed)
  other,
};

class StreamChannel : public Channel {
 public:
  ~StreamChannel() override;
  StreamChannel(const StreamChannel&) = delete;
  StreamChannel& operator=(const StreamChannel&) = delete;

  struct Opened {
    std::unique_ptr<StreamChannel> channel;  // null on failure
    StreamFailure failure = StreamFailure::none;
    long verify_error = 0;                   // X509_V_ERR_* with tls_verify
    std::string error;                       // what happened, for people
    std::string tls_version;                 // "TLSv1.3", after a handshake
  };
  // Connects within timeout_ms; with `tls`, also completes the handshake.
  static Opened open(const TransportAddress& server, const std::optional<TlsOptions>& tls, int timeout_ms);

  bool send(std::span<const uint8_t> message, std::string& error) override;
  std::optional<std::vector<uint8_t>> receive(int timeout_ms) override;
  bool reliable() const override { return true; }

 private:
  StreamChannel(int fd, SSL_CTX* ctx, SSL* ssl) : fd_(fd), ctx_(ctx), ssl_(ssl) {}
  // Bytes of the first whole message in buffer_, 0 when it is not all there yet, -1: not TURN.
  long framed() const;
  // Reads what is there within timeout_ms into buffer_; false on end of stream, error or timeout.
  bool read_some(int timeout_ms);

  int fd_;
  SSL_CTX* ctx_;
  SSL* ssl_;
  std::vector<uint8_t> buffer_;
};

}  // namespace tern::ctl::ternctl
