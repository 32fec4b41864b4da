#pragma once
// A client for tests of servers that run on an EventLoop in the test's own thread: every wait
// turns the loop (epoll with a 1 ms timeout) until the socket has what the test expects, or a
// bounded number of turns have passed.

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "control/base/event_loop.hpp"

namespace tern::ctl::test {

class LoopClient {
 public:
  LoopClient(EventLoop& loop, int fd) : loop_(loop), fd_(fd) { fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK); }
  ~LoopClient() {
    if (fd_ >= 0) close(fd_);
  }
  LoopClient(const LoopClient&) = delete;
  LoopClient& operator=(const LoopClient&) = delete;

  static int unix_socket(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  void turn(int times = 1) {
    for (int i = 0; i < times; ++i) loop_.poll(std::chrono::milliseconds(1));
  }

  // Sends all of `bytes`, turning the loop while the socket is full.
  bool write(std::string_view bytes) {
    size_t sent = 0;
    for (int turns = 0; sent < bytes.size() && turns < 5000; ++turns) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN) return false;
      turn();
    }
    return sent == bytes.size();
  }

  // The next line, without '\n'; nullopt when the server closed or nothing came in time.
  std::optional<std::string> line(int max_turns = 2000) {
    for (int turns = 0; turns < max_turns; ++turns) {
      const bool open = fill();
      if (const size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string out = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return out;
      }
      if (!open) return std::nullopt;
      turn();
    }
    return std::nullopt;
  }

  // Whether the server closed the connection (reads to the end).
  bool closed(int max_turns = 2000) {
    for (int turns = 0; turns < max_turns; ++turns) {
      if (!fill()) return true;
      turn();
    }
    return false;
  }

  int fd() const { return fd_; }
  std::string& buffer() { return buffer_; }

 private:
  // Reads what is there; false at the end of the stream.
  bool fill() {
    char chunk[65536];
    for (;;) {
      const ssize_t n = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) return false;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
  }

  EventLoop& loop_;
  int fd_;
  std::string buffer_;
};

}  // namespace tern::ctl::test
