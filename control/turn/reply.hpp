#pragma once
// The answer to one request, built in a buffer of its own, and the sealing of a burst of answers:
// every MESSAGE-INTEGRITY tag of the burst in one Engine::mac_batch, then every
// MESSAGE-INTEGRITY-SHA256 tag in another (it covers the first), then FINGERPRINT.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "control/stun/builder.hpp"
#include "control/stun/error_attributes.hpp"
#include "control/stun/parser.hpp"
#include "crypto/engine.hpp"

namespace tern::ctl {

// Room for the longest answer tern builds: an Allocate success with an IPv6 relayed address,
// ADDRESS-ERROR-CODE, a reservation, a 127-character SOFTWARE and both integrity attributes, or
// a 420 listing kMaxAttributes unknown attributes.
inline constexpr size_t kMaxResponseSize = 1280;

class Reply {
 public:
  // Drops any previous answer and prepares to answer `request` in `buffer`.
  void reset(std::span<uint8_t> buffer, const stun::Message& request);
  // No answer.
  void clear();

  stun::Builder& success();
  stun::Builder& error(stun::ErrorCode code, std::string_view reason = {});

  bool started() const { return builder_.has_value(); }
  stun::Builder& builder() { return *builder_; }
  bool is_error() const { return code_.value != 0; }
  stun::ErrorCode code() const { return code_; }

  // How to protect it: RFC 8489 §9.2.4 "computed using the username and password utilized to
  // authenticate the request", with the integrity attribute(s) the request used.
  const crypto::MacKey* sign_sha1 = nullptr;
  const crypto::MacKey* sign_sha256 = nullptr;
  bool fingerprint = false;

 private:
  std::span<uint8_t> buffer_;
  const stun::Message* request_ = nullptr;
  std::optional<stun::Builder> builder_;
  stun::ErrorCode code_;
};

class ReplySealer {
 public:
  // Adds the integrity attributes and FINGERPRINT to every started reply and finishes it.
  // results[i] is the finished message of replies[i] (empty when it was not started or failed).
  void seal(std::span<Reply> replies, crypto::Engine& engine, std::span<stun::BuildResult> results);

 private:
  void run(crypto::Engine& engine);
  std::vector<crypto::MacJob> jobs_;
};

}  // namespace tern::ctl
