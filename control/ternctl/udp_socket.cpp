#include "control/ternctl/udp_socket.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "control/ternctl/sockaddr.hpp"

namespace tern::ctl::ternctl {

UdpSocket::~UdpSocket() { close(fd_); }

std::unique_ptr<UdpSocket> UdpSocket::open(Family family, std::string& error) {
  const int domain = family == Family::ipv4 ? AF_INET : AF_INET6;
  const int fd = socket(domain, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  sockaddr_storage any{};
  any.ss_family = static_cast<sa_family_t>(domain);
  const socklen_t len = domain == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (bind(fd, reinterpret_cast<sockaddr*>(&any), len) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    error = std::string("bind: ") + std::strerror(errno);
    close(fd);
    return nullptr;
  }
  const auto local = from_sockaddr(bound);
  return std::unique_ptr<UdpSocket>(new UdpSocket(fd, family, local ? local->port : Port{}));
}

std::optional<TransportAddress> UdpSocket::local_towards(const TransportAddress& to, std::string& error) const {
  // A connected scratch socket asks the kernel's routing table, without sending anything.
  const int fd = socket(family_ == Family::ipv4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_storage dst{};
  const socklen_t len = to_sockaddr(to, dst);
  std::optional<TransportAddress> out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&dst), len) == 0) {
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0) out = from_sockaddr(local);
    if (out) out->port = port_;
  } else {
    error = std::strerror(errno);
  }
  close(fd);
  return out;
}

bool UdpSocket::send(const TransportAddress& to, std::span<const uint8_t> bytes, std::string& error) {
  sockaddr_storage dst{};
  const socklen_t len = to_sockaddr(to, dst);
  if (sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&dst), len) < 0) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

std::optional<Datagram> UdpSocket::receive(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) return std::nullopt;
    if (ready <= 0) continue;
    Datagram d;
    d.bytes.resize(65536);
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = recvfrom(fd_, d.bytes.data(), d.bytes.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) continue;  // ICMP errors surface here (ECONNREFUSED): keep waiting
    d.bytes.resize(static_cast<size_t>(n));
    const auto source = from_sockaddr(from);
    if (!source) continue;
    d.from = *source;
    return d;
  }
}

}  // namespace tern::ctl::ternctl
