#include "control/ternctl/connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace tern::ctl::ternctl {

Connection::~Connection() { close(fd_); }

std::unique_ptr<Connection> Connection::open(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    error = "socket path '" + path + "' is empty or too long";
    return nullptr;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    close(fd);
    error = "cannot connect to " + path + ": " + std::strerror(e);
    if (e == ENOENT || e == ECONNREFUSED) error += " (is ternd running, with control.socket = \"" + path + "\"?)";
    if (e == EACCES) error += " (the socket is root's: run ternctl as root)";
    return nullptr;
  }
  return std::unique_ptr<Connection>(new Connection(fd));
}

bool Connection::send(std::string_view line, std::string& error) {
  std::string text(line);
  text += '\n';
  size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = std::string("cannot send to ternd: ") + std::strerror(errno);
      broken_ = true;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> Connection::read_line(int timeout_ms, std::string& error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (const size_t nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    int wait = -1;
    if (timeout_ms >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        error = "ternd did not answer within " + std::to_string(timeout_ms / 1000) + " s";
        broken_ = true;
        return std::nullopt;
      }
      wait = static_cast<int>(left.count());
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, wait);
    if (ready < 0) {
      if (errno == EINTR) continue;
      error = std::string("poll: ") + std::strerror(errno);
      broken_ = true;
      return std::nullopt;
    }
    if (ready == 0) continue;  // the deadline check above ends it
    char chunk[65536];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n == 0 ? "ternd closed the connection" : std::string("read: ") + std::strerror(errno);
      broken_ = true;
      return std::nullopt;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace tern::ctl::ternctl
