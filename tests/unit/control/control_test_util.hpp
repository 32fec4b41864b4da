#pragma once
// The harness of the control plane's tests: a ControlPlane over a recording FakeTableWriter with a
// clock the test moves, and a client that builds requests with stun::Builder the way a TURN
// client does (401 first, then USERNAME, REALM, NONCE and MESSAGE-INTEGRITY).

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "conf/keys.hpp"
#include "control/turn/control_plane.hpp"
#include "control/stun/stun.hpp"
#include "crypto/engine.hpp"
#include "tests/unit/control/fake_table_writer.hpp"

namespace tern::ctl::test {

inline IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }
inline TransportAddress ta(std::string_view text) { return *TransportAddress::parse(text); }
inline std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

inline constexpr std::string_view kRealm = "example.org";
inline constexpr std::string_view kRestSecret = "north-secret";
inline const TransportAddress kListener = *TransportAddress::parse("192.0.2.1:3478");
inline const IpAddress kRelayA = *IpAddress::parse("192.0.2.10");
inline const IpAddress kRelayB = *IpAddress::parse("192.0.2.11");

inline dp::FiveTuple five_tuple(std::string_view client) { return {ta(client), kListener, dp::Transport::udp}; }

inline conf::User make_user(crypto::Engine& engine, std::string name, std::string_view password, bool sha256 = true) {
  conf::User u;
  u.key_md5 = conf::md5_key(engine, name, kRealm, password);
  if (sha256) u.key_sha256 = conf::sha256_key(engine, name, kRealm, password);
  u.name = std::move(name);
  return u;
}

// A parsed answer that owns its bytes.
class Answer {
 public:
  Answer() = default;
  Answer(std::span<const uint8_t> bytes, crypto::Engine& engine)
      : bytes_(std::make_shared<std::vector<uint8_t>>(bytes.begin(), bytes.end())) {
    parsed_ = stun::parse(*bytes_, engine);
  }
  bool present() const { return bytes_ != nullptr; }
  const std::vector<uint8_t>& bytes() const { return *bytes_; }
  const stun::Message& msg() const { return parsed_.message; }
  bool parsed() const { return present() && parsed_.ok(); }
  bool success() const { return parsed() && msg().message_class() == stun::MessageClass::success_response; }
  // The ERROR-CODE, 0 for a success, -1 for no answer.
  int code() const {
    if (!present()) return -1;
    if (success()) return 0;
    const auto e = stun::error_code(msg());
    return e ? e->code.value : -2;
  }

 private:
  std::shared_ptr<std::vector<uint8_t>> bytes_;
  stun::ParseResult parsed_;
};

class Harness {
 public:
  explicit Harness(const std::function<void(conf::Config&)>& tweak = {}, Options options = {}) {
    engine_ = crypto::make_default_engine();
    config.realm = std::string(kRealm);
    config.software = "tern-test";
    config.listen.udp = {kListener};
    config.relay.addresses = {kRelayA, kRelayB};
    config.relay.ports = {Port{50000}, Port{50199}};
    config.auth.users = {make_user(*engine_, "alice", "alice-password"),
                         make_user(*engine_, "bob", "bob-password"),
                         make_user(*engine_, "carol", "carol-password", false)};
    config.auth.secrets = {std::string(kRestSecret)};
    config.dataplane.table_size = 64;
    if (tweak) tweak(config);
    if (!options.nonce_secret) options.nonce_secret = std::array<uint8_t, 32>{1, 2, 3};
    logger_ = Logger(LogLevel::debug, [this](LogLevel, std::string_view line) { log.emplace_back(line); });
    plane_ = std::make_unique<ControlPlane>(config, writer, *engine_, logger_, options);
  }

  crypto::Engine& engine() { return *engine_; }
  ControlPlane& plane() { return *plane_; }
  Logger& logger() { return logger_; }

  void advance(uint32_t seconds) {
    now.mono += seconds;
    now.unix += seconds;
  }
  void tick() { plane_->tick(now); }

  // Answers for each request of a burst (no Answer where none was sent).
  std::vector<Answer> burst(std::span<const Request> requests) {
    std::vector<Response> out(requests.size());
    const size_t n = plane_->handle(requests, now, out);
    std::vector<Answer> answers(requests.size());
    for (size_t k = 0; k < n; ++k) answers[out[k].request] = Answer(out[k].bytes, *engine_);
    return answers;
  }
  Answer send(const dp::FiveTuple& ft, std::span<const uint8_t> request) {
    const Request r{ft, request};
    return burst({&r, 1})[0];
  }
  uint64_t counter(Counter c) const { return plane_->counters()[static_cast<size_t>(c)]; }
  bool logged(std::string_view needle) const {
    for (const auto& l : log)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }

  conf::Config config;
  FakeTableWriter writer;
  Now now{1000, 1'700'000'000};
  std::vector<std::string> log;

 private:
  std::unique_ptr<crypto::Engine> engine_;
  Logger logger_;
  std::unique_ptr<ControlPlane> plane_;
};

// Attributes a test adds to a request, before the credentials.
using AddAttributes = std::function<void(stun::Builder&)>;

inline void udp_transport(stun::Builder& b) { b.add_requested_transport({}); }

struct RequestAuth {
  stun::Integrity integrity = stun::Integrity::sha1;
  bool both = false;            // MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256
  bool fingerprint = false;
  bool userhash = false;        // USERHASH instead of USERNAME
  // Echo PASSWORD-ALGORITHMS and send PASSWORD-ALGORITHM with this choice.
  std::optional<stun::PasswordAlgorithm> algorithm = {};
  std::optional<std::string> realm = {};  // another REALM
  std::optional<std::string> nonce = {};  // another NONCE
  bool corrupt = false;              // flip a bit of the integrity tag
  bool no_credentials = false;       // neither USERNAME nor integrity
};

class Client {
 public:
  Client(Harness& h, std::string_view address, std::string username, std::string password)
      : h_(h), five_tuple_(five_tuple(address)), username_(std::move(username)), password_(std::move(password)) {}

  const dp::FiveTuple& five_tuple_of() const { return five_tuple_; }
  const std::string& nonce() const { return nonce_; }
  const std::vector<uint8_t>& offered() const { return offered_; }
  void set_nonce(std::string nonce) { nonce_ = std::move(nonce); }
  void set_username(std::string username) { username_ = std::move(username); }
  void set_password(std::string password) { password_ = std::move(password); }
  stun::TransactionId last_id() const { return last_id_; }

  // Unique over the test program, as random 96-bit IDs are in practice.
  static stun::TransactionId next_id() {
    static uint64_t counter = 0;
    stun::TransactionId id;
    ++counter;
    for (size_t i = 0; i < 8; ++i) id.bytes[i] = static_cast<uint8_t>(counter >> (8 * i));
    id.bytes[8] = 0x7e;
    return id;
  }

  crypto::MacKey key(stun::PasswordAlgorithm algorithm, stun::Integrity integrity) const {
    const auto mac = stun::mac_of(integrity);
    if (algorithm == stun::PasswordAlgorithm::sha256) {
      const auto k = conf::sha256_key(h_.engine(), username_, kRealm, password_);
      return h_.engine().make_mac_key(mac, k);
    }
    const auto k = conf::md5_key(h_.engine(), username_, kRealm, password_);
    return h_.engine().make_mac_key(mac, k);
  }

  std::vector<uint8_t> build(stun::Method method, const AddAttributes& add, const RequestAuth& c = {},
                             std::optional<stun::TransactionId> id = {}) {
    last_id_ = id ? *id : next_id();
    std::vector<uint8_t> buffer(2048);
    stun::Builder b(buffer, {method, stun::MessageClass::request}, last_id_);
    if (add) add(b);
    const auto algorithm = c.algorithm.value_or(stun::PasswordAlgorithm::md5);
    if (!c.no_credentials) {
      if (c.userhash)
        b.add_userhash(*stun::compute_userhash(username_, kRealm, h_.engine()));
      else
        b.add_username(username_);
      b.add_realm(c.realm.value_or(std::string(kRealm)));
      b.add_nonce(c.nonce.value_or(nonce_));
      if (c.algorithm) {
        b.add_raw(static_cast<uint16_t>(stun::AttributeType::password_algorithms), offered_);
        b.add_password_algorithm({*c.algorithm, {}});
      }
      if (c.integrity == stun::Integrity::sha1 || c.both) b.add_message_integrity(key(algorithm, stun::Integrity::sha1), h_.engine());
      if (c.integrity == stun::Integrity::sha256 || c.both)
        b.add_message_integrity_sha256(key(algorithm, stun::Integrity::sha256), h_.engine());
    }
    if (c.fingerprint) b.add_fingerprint(h_.engine());
    const auto built = b.finish();
    EXPECT_TRUE(built.ok()) << stun::to_string(built.error);
    buffer.resize(built.bytes.size());
    if (c.corrupt) {
      const size_t at = c.fingerprint ? buffer.size() - 9 : buffer.size() - 1;
      buffer[at] ^= 0x01;
    }
    return buffer;
  }

  Answer send(stun::Method method, const AddAttributes& add = {}, const RequestAuth& c = {}) {
    const auto request = build(method, add, c);
    Answer a = h_.send(five_tuple_, request);
    learn(a);
    return a;
  }
  Answer resend(const std::vector<uint8_t>& request) { return h_.send(five_tuple_, request); }

  // Takes NONCE and PASSWORD-ALGORITHMS from a 401 or 438.
  void learn(const Answer& a) {
    if (!a.parsed() || a.success()) return;
    if (const auto n = stun::nonce(a.msg())) nonce_ = std::string(*n);
    if (const auto pa = a.msg().find(stun::AttributeType::password_algorithms))
      offered_.assign(pa->value.begin(), pa->value.end());
  }

  // An Allocate without credentials: the 401 that teaches the nonce.
  Answer challenge() { return send(stun::Method::allocate, udp_transport, {.no_credentials = true}); }
  // 401 then an authenticated Allocate.
  Answer allocate(const AddAttributes& add = udp_transport, const RequestAuth& c = {}) {
    if (nonce_.empty()) challenge();
    return send(stun::Method::allocate, add, c);
  }
  Answer refresh(std::optional<uint32_t> lifetime = {}, const RequestAuth& c = {}) {
    return send(stun::Method::refresh, [lifetime](stun::Builder& b) {
      if (lifetime) b.add_lifetime({*lifetime});
    }, c);
  }
  Answer permit(std::vector<std::string> peers, const RequestAuth& c = {}) {
    return send(stun::Method::create_permission, [peers](stun::Builder& b) {
      for (const auto& p : peers) b.add_xor_peer_address(ta(p));
    }, c);
  }
  Answer bind(uint16_t channel, std::string_view peer, const RequestAuth& c = {}) {
    const auto address = ta(peer);
    return send(stun::Method::channel_bind, [channel, address](stun::Builder& b) {
      b.add_channel_number({channel});
      b.add_xor_peer_address(address);
    }, c);
  }

  // Whether an answer's MESSAGE-INTEGRITY(-SHA256) verifies with this client's key.
  bool verifies(const Answer& a, stun::Integrity integrity,
                stun::PasswordAlgorithm algorithm = stun::PasswordAlgorithm::md5) const {
    std::vector<uint8_t> scratch(a.bytes().size());
    return stun::verify_integrity(a.msg(), integrity, key(algorithm, integrity), h_.engine(), scratch);
  }

 private:
  Harness& h_;
  dp::FiveTuple five_tuple_;
  std::string username_;
  std::string password_;
  std::string nonce_;
  std::vector<uint8_t> offered_;
  stun::TransactionId last_id_;
};

// The TURN REST API password of `username` under `secret`: base64(HMAC-SHA1(secret, username)).
inline std::string rest_password(crypto::Engine& engine, std::string_view secret, std::string_view username) {
  const auto key = engine.make_mac_key(crypto::Mac::hmac_sha1, bytes_of(secret));
  std::array<uint8_t, 20> mac{};
  engine.mac(key, bytes_of(username), mac);
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < mac.size(); i += 3) {
    const uint32_t v = (uint32_t{mac[i]} << 16) | (i + 1 < mac.size() ? uint32_t{mac[i + 1]} << 8 : 0) |
                       (i + 2 < mac.size() ? mac[i + 2] : 0);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < mac.size() ? kB64[(v >> 6) & 63] : '=';
    out += i + 2 < mac.size() ? kB64[v & 63] : '=';
  }
  return out;
}

}  // namespace tern::ctl::test
