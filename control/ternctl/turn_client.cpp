#include "control/ternctl/turn_client.hpp"

#include <array>
#include <chrono>

#include "conf/keys.hpp"

namespace tern::ctl::ternctl {
namespace {

constexpr int kInitialRto = 500;  // ms, RFC 8489 §6.2.1

stun::TransactionId random_id() {
  stun::TransactionId id;
  if (!crypto::random_bytes(id.bytes)) {
    // Unique enough for a probe even without the CSPRNG.
    const auto t = std::chrono::steady_clock::now().time_since_epoch().count();
    for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(t >> (8 * (i % 8)));
  }
  return id;
}

}  // namespace

StunAnswer::StunAnswer(std::vector<uint8_t> bytes, crypto::Engine& engine)
    : bytes_(std::make_shared<std::vector<uint8_t>>(std::move(bytes))) {
  parsed_ = stun::parse(*bytes_, engine);
}

int StunAnswer::code() const {
  if (!present()) return -1;
  if (success()) return 0;
  const auto e = parsed() ? stun::error_code(msg()) : stun::Decoded<stun::ErrorCodeValue>::absent();
  return e ? e->code.value : -2;
}

TurnClient::TurnClient(crypto::Engine& engine, std::unique_ptr<Channel> channel)
    : engine_(engine), channel_(std::move(channel)) {}

void TurnClient::set_credentials(std::string username, std::string password, std::string realm) {
  username_ = std::move(username);
  realm_ = std::move(realm);
  const auto key = conf::md5_key(engine_, username_, realm_, password);
  key_ = engine_.make_mac_key(crypto::Mac::hmac_sha1, key);
}

std::optional<DataIndication> TurnClient::as_data(std::span<const uint8_t> message) {
  const auto parsed = stun::parse(message, engine_);
  if (!parsed || parsed.message.method() != stun::Method::data ||
      parsed.message.message_class() != stun::MessageClass::indication)
    return std::nullopt;
  const auto peer = stun::xor_peer_address(parsed.message);
  const auto data = stun::data(parsed.message);
  if (!peer || !data) return std::nullopt;
  return DataIndication{*peer, std::vector<uint8_t>(data->begin(), data->end())};
}

StunAnswer TurnClient::request(stun::Method method, const Add& add, bool authenticate, int tries) {
  const stun::TransactionId id = random_id();
  std::vector<uint8_t> buffer(2048);
  stun::Builder b(buffer, {method, stun::MessageClass::request}, id);
  if (add) add(b);
  if (authenticate) {
    b.add_username(username_);
    b.add_realm(realm_);
    b.add_nonce(nonce_);
    b.add_message_integrity(key_, engine_);
  }
  b.add_fingerprint(engine_);
  const auto built = b.finish();
  if (!built) return {};
  const std::vector<uint8_t> bytes(built.bytes.begin(), built.bytes.end());

  int rto = kInitialRto;
  if (channel_->reliable()) {
    // Sent once, and given the time all the UDP transmissions would have had.
    for (int attempt = 1; attempt < tries; ++attempt) rto = 2 * rto + kInitialRto;
    tries = 1;
  }
  const auto start = std::chrono::steady_clock::now();
  for (int attempt = 0; attempt < tries; ++attempt, rto *= 2) {
    std::string error;
    if (!channel_->send(bytes, error)) return {};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(rto);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      auto d = channel_->receive(static_cast<int>(left.count()));
      if (!d) break;
      if (auto data = as_data(*d)) {
        data_.push_back(std::move(*data));
        continue;
      }
      StunAnswer answer(std::move(*d), engine_);
      if (!answer.parsed() || answer.msg().transaction_id() != id ||
          answer.msg().message_class() == stun::MessageClass::request ||
          answer.msg().message_class() == stun::MessageClass::indication)
        continue;
      answer.rtt_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      return answer;
    }
  }
  return {};
}

void TurnClient::learn(const StunAnswer& answer) {
  if (!answer.parsed() || answer.success()) return;
  if (const auto n = stun::nonce(answer.msg())) nonce_ = std::string(*n);
  if (const auto r = stun::realm(answer.msg())) server_realm_ = std::string(*r);
}

StunAnswer TurnClient::authenticated(stun::Method method, const Add& add, int tries) {
  if (nonce_.empty()) {
    // RFC 8489 §9.2.3: the first request goes without credentials and the 401 brings the nonce.
    const StunAnswer first = request(method, add, false, tries);
    learn(first);
    if (first.code() != 401) return first;
  }
  StunAnswer a = request(method, add, true, tries);
  if (a.code() == 438 || a.code() == 401) {
    // A stale nonce, or one from before: once more with the one just learnt.
    learn(a);
    a = request(method, add, true, tries);
  }
  return a;
}

StunAnswer TurnClient::binding(int tries) { return request(stun::Method::binding, {}, false, tries); }

StunAnswer TurnClient::allocate_unauthenticated(int tries) {
  StunAnswer a = request(stun::Method::allocate, [](stun::Builder& b) { b.add_requested_transport({}); }, false, tries);
  learn(a);
  return a;
}

StunAnswer TurnClient::allocate(uint32_t lifetime, int tries) {
  return authenticated(stun::Method::allocate, [lifetime](stun::Builder& b) {
    b.add_requested_transport({});
    b.add_lifetime({lifetime});
  }, tries);
}

StunAnswer TurnClient::create_permission(const IpAddress& peer, int tries) {
  return authenticated(stun::Method::create_permission,
                       [peer](stun::Builder& b) { b.add_xor_peer_address({peer, Port{0}}); }, tries);
}

StunAnswer TurnClient::refresh(uint32_t lifetime, int tries) {
  return authenticated(stun::Method::refresh, [lifetime](stun::Builder& b) { b.add_lifetime({lifetime}); }, tries);
}

bool TurnClient::send_indication(const TransportAddress& peer, std::span<const uint8_t> data) {
  std::vector<uint8_t> buffer(2048);
  stun::Builder b(buffer, {stun::Method::send, stun::MessageClass::indication}, random_id());
  b.add_xor_peer_address(peer);
  b.add_data(data);
  const auto built = b.finish();
  std::string error;
  return built && channel_->send(built.bytes, error);
}

std::optional<DataIndication> TurnClient::wait_data(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (!data_.empty()) {
      DataIndication d = std::move(data_.front());
      data_.pop_front();
      return d;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    const auto d = channel_->receive(static_cast<int>(left.count()));
    if (!d) return std::nullopt;
    if (auto data = as_data(*d)) data_.push_back(std::move(*data));
  }
}

bool TurnClient::verifies(const StunAnswer& answer) {
  if (!answer.parsed()) return false;
  std::array<uint8_t, 2048> scratch{};
  return stun::verify_integrity(answer.msg(), stun::Integrity::sha1, key_, engine_, scratch);
}

}  // namespace tern::ctl::ternctl
