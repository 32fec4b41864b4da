#pragma once
// TransportAddress to and from the kernel's socket addresses, for ternctl's sockets.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>

#include "conf/net.hpp"

namespace tern::ctl::ternctl {

inline socklen_t to_sockaddr(const TransportAddress& a, sockaddr_storage& out) {
  out = {};
  if (a.ip.is_v4()) {
    auto& sin = reinterpret_cast<sockaddr_in&>(out);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(a.port.value);
    std::memcpy(&sin.sin_addr, a.ip.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto& sin6 = reinterpret_cast<sockaddr_in6&>(out);
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(a.port.value);
  std::memcpy(&sin6.sin6_addr, a.ip.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

inline std::optional<TransportAddress> from_sockaddr(const sockaddr_storage& s) {
  if (s.ss_family == AF_INET) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(s);
    const auto ip = IpAddress::from_bytes({reinterpret_cast<const uint8_t*>(&sin.sin_addr), 4});
    return TransportAddress{*ip, Port{ntohs(sin.sin_port)}};
  }
  if (s.ss_family == AF_INET6) {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(s);
    const auto ip = IpAddress::from_bytes({reinterpret_cast<const uint8_t*>(&sin6.sin6_addr), 16});
    return TransportAddress{*ip, Port{ntohs(sin6.sin6_port)}};
  }
  return std::nullopt;
}

}  // namespace tern::ctl::ternctl
