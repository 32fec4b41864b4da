#pragma once
// The small TURN client ternctl's probe uses (RFC 8656 over UDP, TCP or TLS, RFC 8489 long-term
// credentials): Binding, Allocate (401 first, then the nonce), CreatePermission, Send and Data
// indications, Refresh. Over UDP requests are retransmitted as RFC 8489 §6.2.1 says (RTO 500 ms,
// doubled each time); over a stream each is sent once and waited for as long.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conf/net.hpp"
#include "control/stun/stun.hpp"
#include "control/ternctl/channel.hpp"
#include "crypto/engine.hpp"

namespace tern::ctl::ternctl {

// A response, owning its bytes.
class StunAnswer {
 public:
  StunAnswer() = default;
  StunAnswer(std::vector<uint8_t> bytes, crypto::Engine& engine);
  bool present() const { return bytes_ != nullptr; }
  bool parsed() const { return present() && parsed_.ok(); }
  bool success() const { return parsed() && msg().message_class() == stun::MessageClass::success_response; }
  // 0 for a success, the ERROR-CODE for an error, -1 for no answer.
  int code() const;
  const stun::Message& msg() const { return parsed_.message; }
  double rtt_ms = 0;

 private:
  std::shared_ptr<std::vector<uint8_t>> bytes_;
  stun::ParseResult parsed_;
};

struct DataIndication {
  TransportAddress peer;
  std::vector<uint8_t> data;
};

class TurnClient {
 public:
  TurnClient(crypto::Engine& engine, std::unique_ptr<Channel> channel);

  void set_credentials(std::string username, std::string password, std::string realm);
  const std::string& server_realm() const { return server_realm_; }

  StunAnswer binding(int tries = 3);
  // Without credentials: what the server challenges with.
  StunAnswer allocate_unauthenticated(int tries = 3);
  // With credentials (a 401 or 438 first teaches the nonce, then one retry).
  StunAnswer allocate(uint32_t lifetime, int tries = 3);
  StunAnswer create_permission(const IpAddress& peer, int tries = 3);
  StunAnswer refresh(uint32_t lifetime, int tries = 3);
  bool send_indication(const TransportAddress& peer, std::span<const uint8_t> data);
  // The next Data indication within timeout_ms.
  std::optional<DataIndication> wait_data(int timeout_ms);
  // Whether the answer's MESSAGE-INTEGRITY verifies with our key.
  bool verifies(const StunAnswer& answer);

 private:
  using Add = std::function<void(stun::Builder&)>;
  StunAnswer request(stun::Method method, const Add& add, bool authenticate, int tries);
  StunAnswer authenticated(stun::Method method, const Add& add, int tries);
  void learn(const StunAnswer& answer);
  std::optional<DataIndication> as_data(std::span<const uint8_t> message);

  crypto::Engine& engine_;
  std::unique_ptr<Channel> channel_;
  std::string username_;
  std::string realm_;
  std::string nonce_;
  std::string server_realm_;
  crypto::MacKey key_{};
  std::deque<DataIndication> data_;
};

}  // namespace tern::ctl::ternctl
