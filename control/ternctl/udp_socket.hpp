#pragma once
// A UDP socket for ternctl's probe: send to an address, wait for a datagram with a timeout.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conf/net.hpp"

namespace tern::ctl::ternctl {

struct Datagram {
  std::vector<uint8_t> bytes;
  TransportAddress from;
};

class UdpSocket {
 public:
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // A socket of `family` on an ephemeral port of any local address.
  static std::unique_ptr<UdpSocket> open(Family family, std::string& error);

  // The local address the kernel would send from towards `to` (nullopt: no route).
  std::optional<TransportAddress> local_towards(const TransportAddress& to, std::string& error) const;
  bool send(const TransportAddress& to, std::span<const uint8_t> bytes, std::string& error);
  // The next datagram within timeout_ms, or nullopt.
  std::optional<Datagram> receive(int timeout_ms);
  Port port() const { return port_; }

 private:
  UdpSocket(int fd, Family family, Port port) : fd_(fd), family_(family), port_(port) {}
  int fd_;
  Family family_;
  Port port_;
};

}  // namespace tern::ctl::ternctl
