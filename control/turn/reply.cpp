#include "control/turn/reply.hpp"

#include <algorithm>

namespace tern::ctl {

void Reply::reset(std::span<uint8_t> buffer, const stun::Message& request) {
  buffer_ = buffer;
  request_ = &request;
  builder_.reset();
  code_ = {};
  sign_sha1 = nullptr;
  sign_sha256 = nullptr;
  fingerprint = request.has_fingerprint();
}

void Reply::clear() {
  builder_.reset();
  code_ = {};
  sign_sha1 = nullptr;
  sign_sha256 = nullptr;
  fingerprint = false;
}

stun::Builder& Reply::success() {
  builder_.emplace(stun::Builder::success_response(buffer_, *request_));
  code_ = {};
  return *builder_;
}

stun::Builder& Reply::error(stun::ErrorCode code, std::string_view reason) {
  builder_.emplace(stun::Builder::error_response(buffer_, *request_, code, reason));
  code_ = code;
  return *builder_;
}

void ReplySealer::run(crypto::Engine& engine) {
  for (size_t from = 0; from < jobs_.size(); from += crypto::kMaxBatch) {
    const size_t n = std::min(crypto::kMaxBatch, jobs_.size() - from);
    engine.mac_batch(std::span<const crypto::MacJob>(jobs_).subspan(from, n));
  }
  jobs_.clear();
}

void ReplySealer::seal(std::span<Reply> replies, crypto::Engine& engine, std::span<stun::BuildResult> results) {
  jobs_.clear();
  for (auto& r : replies)
    if (r.started() && r.sign_sha1 != nullptr)
      if (auto job = r.builder().prepare_message_integrity(*r.sign_sha1)) jobs_.push_back(*job);
  run(engine);
  for (auto& r : replies)
    if (r.started() && r.sign_sha256 != nullptr)
      if (auto job = r.builder().prepare_message_integrity_sha256(*r.sign_sha256)) jobs_.push_back(*job);
  run(engine);
  for (size_t i = 0; i < replies.size(); ++i) {
    Reply& r = replies[i];
    if (!r.started()) {
      results[i] = {};
      continue;
    }
    if (r.fingerprint) r.builder().add_fingerprint(engine);
    results[i] = r.builder().finish();
  }
}

}  // namespace tern::ctl
