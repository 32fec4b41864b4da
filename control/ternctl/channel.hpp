#pragma once
// How ternctl's probe talks to one listener: one STUN or ChannelData message per send and per
// receive, over UDP datagrams or over a TCP or TLS stream (stream_channel.hpp).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conf/net.hpp"
#include "control/ternctl/udp_socket.hpp"

namespace tern::ctl::ternctl {

class Channel {
 public:
  virtual ~Channel() = default;
  virtual bool send(std::span<const uint8_t> message, std::string& error) = 0;
  // The server's next message within timeout_ms, or nullopt.
  virtual std::optional<std::vector<uint8_t>> receive(int timeout_ms) = 0;
  // RFC 8489 §6.2.1: requests are retransmitted over UDP only; over TCP and TLS they are sent once.
  virtual bool reliable() const = 0;
};

// UDP: datagrams to the listener; only the listener's own come back.
class UdpChannel : public Channel {
 public:
  UdpChannel(std::unique_ptr<UdpSocket> socket, const TransportAddress& server)
      : socket_(std::move(socket)), server_(server) {}

  bool send(std::span<const uint8_t> message, std::string& error) override {
    return socket_->send(server_, message, error);
  }
  std::optional<std::vector<uint8_t>> receive(int timeout_ms) override;
  bool reliable() const override { return false; }

 private:
  std::unique_ptr<UdpSocket> socket_;
  TransportAddress server_;
};

}  // namespace tern::ctl::ternctl
