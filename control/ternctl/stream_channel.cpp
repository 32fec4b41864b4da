#include "control/ternctl/stream_channel.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

#include "control/ternctl/sockaddr.hpp"

namespace tern::ctl::ternctl {
namespace {

// RFC 7443 §6: the ALPN protocol ID of TURN.
constexpr unsigned char kAlpn[] = {9, 's', 't', 'u', 'n', '.', 't', 'u', 'r', 'n'};
constexpr std::string_view kAlpnTurn = "stun.turn";

int ms_until(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "the server closed the connection during the handshake";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

// A non-blocking TCP connect within timeout_ms.
StreamChannel::Opened connect_tcp(const TransportAddress& server, int timeout_ms, int& fd) {
  StreamChannel::Opened out;
  fd = socket(server.ip.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    out.failure = StreamFailure::other;
    out.error = std::string("socket: ") + std::strerror(errno);
    return out;
  }
  sockaddr_storage to{};
  const socklen_t len = to_sockaddr(server, to);
  int err = 0;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), len) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int ready = poll(&p, 1, timeout_ms);
      socklen_t err_len = sizeof err;
      if (ready <= 0) err = ETIMEDOUT;
      else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) err = errno;
    }
  }
  if (err == 0) return out;
  out.failure = err == ECONNREFUSED ? StreamFailure::refused
              : err == ETIMEDOUT    ? StreamFailure::timed_out
              : (err == ENETUNREACH || err == EHOSTUNREACH) ? StreamFailure::no_route
                                                             : StreamFailure::other;
  out.error = err == ETIMEDOUT ? "no answer to the connection request within " + std::to_string(timeout_ms) + " ms"
                               : std::string(std::strerror(err));
  close(fd);
  fd = -1;
  return out;
}

}  // namespace

StreamChannel::~StreamChannel() {
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

StreamChannel::Opened StreamChannel::open(const TransportAddress& server, const std::optional<TlsOptions>& tls,
                                          int timeout_ms) {
  // A write to a connection the server closed must be an error, not the end of ternctl.
  std::signal(SIGPIPE, SIG_IGN);
  int fd = -1;
  Opened out = connect_tcp(server, timeout_ms, fd);
  if (fd < 0) return out;
  if (!tls) {
    out.channel.reset(new StreamChannel(fd, nullptr, nullptr));
    return out;
  }

  // The handshake: blocking, bounded by socket timeouts; then non-blocking again for receive().
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = ctx != nullptr ? SSL_new(ctx) : nullptr;
  std::unique_ptr<StreamChannel> channel(new StreamChannel(fd, ctx, ssl));
  if (ssl == nullptr) {
    out.failure = StreamFailure::other;
    out.error = "OpenSSL: " + openssl_error();
    return out;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const bool trusted = tls->ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                                            : SSL_CTX_load_verify_locations(ctx, tls->ca_file.c_str(), nullptr) == 1;
  if (!trusted) {
    out.failure = StreamFailure::other;
    out.error = "cannot load the trusted CAs" + (tls->ca_file.empty() ? std::string() : " from " + tls->ca_file) +
                ": " + openssl_error();
    return out;
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn);
  if (!tls->server_name.empty()) {
    SSL_set_tlsext_host_name(ssl, tls->server_name.c_str());
    SSL_set1_host(ssl, tls->server_name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server.ip.to_string().c_str());
  }
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      out.failure = StreamFailure::tls_verify;
      out.verify_error = verify;
      out.error = std::string("the certificate was refused: ") + X509_verify_cert_error_string(verify);
      ERR_clear_error();
    } else {
      out.failure = StreamFailure::tls_other;
      out.error = "the TLS handshake failed: " + openssl_error();
    }
    return out;
  }
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn_len != 0 && std::string_view(reinterpret_cast<const char*>(alpn), alpn_len) != kAlpnTurn) {
    out.failure = StreamFailure::tls_alpn;
    out.error = "the server chose ALPN \"" + std::string(reinterpret_cast<const char*>(alpn), alpn_len) +
                "\" instead of stun.turn";
    return out;
  }
  out.tls_version = SSL_get_version(ssl);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  out.channel = std::move(channel);
  return out;
}

bool StreamChannel::send(std::span<const uint8_t> message, std::string& error) {
  size_t done = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (done < message.size()) {
    const int chunk = static_cast<int>(message.size() - done);
    const long n = ssl_ != nullptr ? SSL_write(ssl_, message.data() + done, chunk)
                                   : ::send(fd_, message.data() + done, static_cast<size_t>(chunk), MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    const bool again = ssl_ != nullptr ? SSL_get_error(ssl_, static_cast<int>(n)) == SSL_ERROR_WANT_WRITE
                                       : (errno == EAGAIN || errno == EINTR);
    if (!again || ms_until(deadline) == 0) {
      error = ssl_ != nullptr ? "TLS write failed: " + openssl_error() : std::string(std::strerror(errno));
      return false;
    }
    pollfd p{fd_, POLLOUT, 0};
    poll(&p, 1, ms_until(deadline));
  }
  return true;
}

long StreamChannel::framed() const {
  if (buffer_.size() < 4) return 0;
  const unsigned length = (unsigned{buffer_[2]} << 8) | buffer_[3];
  size_t total = 0;
  switch (buffer_[0] >> 6) {
    case 0: total = 20 + length; break;                    // RFC 8489 §5: STUN
    case 1: total = 4 + ((length + 3) & ~3u); break;       // RFC 8656 §12.5: ChannelData, padded
    default: return -1;
  }
  return buffer_.size() >= total ? static_cast<long>(total) : 0;
}

bool StreamChannel::read_some(int timeout_ms) {
  uint8_t chunk[16384];
  for (;;) {
    const long n = ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof chunk) : recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.insert(buffer_.end(), chunk, chunk + n);
      return true;
    }
    if (n == 0 && ssl_ == nullptr) return false;  // the server closed
    const bool again = ssl_ != nullptr ? SSL_get_error(ssl_, static_cast<int>(n)) == SSL_ERROR_WANT_READ
                                       : (errno == EAGAIN || errno == EINTR);
    if (!again) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
  }
}

std::optional<std::vector<uint8_t>> StreamChannel::receive(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const long total = framed();
    if (total < 0) return std::nullopt;
    if (total > 0) {
      std::vector<uint8_t> message(buffer_.begin(), buffer_.begin() + total);
      buffer_.erase(buffer_.begin(), buffer_.begin() + total);
      // ChannelData carries its length without the padding.
      if ((message[0] >> 6) == 1) message.resize(4 + ((unsigned{message[2]} << 8) | message[3]));
      return message;
    }
    const int left = ms_until(deadline);
    if (left == 0 || !read_some(left)) return std::nullopt;
  }
}

}  // namespace tern::ctl::ternctl
