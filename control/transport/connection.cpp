#include "control/transport/connection.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cerrno>

namespace tern::ctl {

Connection::~Connection() {
  if (ssl && state == State::open) SSL_shutdown(ssl.get());  // close_notify, best effort
  ssl.reset();
  if (fd >= 0) close(fd);
}

Connection::Io Connection::read() {
  for (;;) {
    const auto room = framer.writable();
    if (room.empty()) return Io::ok;  // a whole message waits to be taken first
    if (ssl) {
      ERR_clear_error();
      const int n = SSL_read(ssl.get(), room.data(), static_cast<int>(room.size()));
      if (n > 0) {
        framer.commit(static_cast<size_t>(n));
        if (static_cast<size_t>(n) < room.size() && SSL_pending(ssl.get()) == 0) return Io::ok;
        continue;
      }
      const int e = SSL_get_error(ssl.get(), n);
      ERR_clear_error();
      // A TLS 1.3 KeyUpdate may want a write during a read: the next flush() makes it.
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Io::again;
      return Io::closed;
    }
    const ssize_t n = recv(fd, room.data(), room.size(), MSG_DONTWAIT);
    if (n > 0) {
      framer.commit(static_cast<size_t>(n));
      if (static_cast<size_t>(n) < room.size()) return Io::ok;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::again;
    if (n < 0 && errno == EINTR) continue;
    return Io::closed;
  }
}

bool Connection::send(const uint8_t* bytes, size_t length) {
  if (out_sent == out.size()) {
    out.clear();
    out_sent = 0;
  }
  out.append(reinterpret_cast<const char*>(bytes), length);
  return flush() != Io::closed;
}

Connection::Io Connection::flush() {
  while (out_sent < out.size()) {
    const size_t want = out.size() - out_sent;
    if (ssl) {
      ERR_clear_error();
      const int n = SSL_write(ssl.get(), out.data() + out_sent, static_cast<int>(want));
      if (n > 0) {
        out_sent += static_cast<size_t>(n);
        continue;
      }
      const int e = SSL_get_error(ssl.get(), n);
      ERR_clear_error();
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return Io::again;
      return Io::closed;
    }
    // MSG_NOSIGNAL: a client that has gone is an error here, not a SIGPIPE for ternd.
    const ssize_t n = ::send(fd, out.data() + out_sent, want, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      out_sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::again;
    if (n < 0 && errno == EINTR) continue;
    return Io::closed;
  }
  out.clear();
  out_sent = 0;
  return Io::ok;
}

}  // namespace tern::ctl
