#include "control/operator/trace_punt.hpp"

#include <string_view>

#include "control/stun/stun.hpp"

namespace tern::ctl {
namespace {

std::string method_name(stun::Method method) {
  switch (method) {
    case stun::Method::binding: return "Binding";
    case stun::Method::allocate: return "Allocate";
    case stun::Method::refresh: return "Refresh";
    case stun::Method::send: return "Send";
    case stun::Method::data: return "Data";
    case stun::Method::create_permission: return "CreatePermission";
    case stun::Method::channel_bind: return "ChannelBind";
  }
  return "method 0x" + std::to_string(static_cast<unsigned>(method));
}

std::string class_name(stun::MessageClass cls) {
  switch (cls) {
    case stun::MessageClass::request: return "request";
    case stun::MessageClass::indication: return "indication";
    case stun::MessageClass::success_response: return "success response";
    case stun::MessageClass::error_response: return "error response";
  }
  return "message";
}

}  // namespace

std::optional<api::TraceRecord> punt_record(const IpAddress& traced, const dp::FiveTuple& five_tuple,
                                            std::span<const uint8_t> request, std::span<const uint8_t> answer,
                                            double time, crypto::Engine& engine) {
  const auto parsed = stun::parse(request, engine);
  std::string peers;
  bool concerns = five_tuple.client.ip == traced;
  if (parsed) {
    for (const auto attribute : parsed.message.all(stun::AttributeType::xor_peer_address)) {
      const auto peer = stun::decode_xor_address(attribute.value, parsed.message.transaction_id());
      if (!peer) continue;
      concerns = concerns || peer->ip.canonical() == traced;
      peers += (peers.empty() ? " peer " : ", ") + peer->to_string();
    }
  }
  if (!concerns) return std::nullopt;

  api::TraceRecord r;
  r.time = time;
  r.source = "control";
  r.from = five_tuple.client.to_string();
  r.to = five_tuple.server.to_string();
  if (!parsed) {
    r.packet = "STUN message";
    r.decision = "dropped";
    r.reason = "malformed: " + std::string(stun::to_string(parsed.error));
    return r;
  }
  r.packet = method_name(parsed.message.method()) + " " + class_name(parsed.message.message_class()) + peers;
  if (answer.empty()) {
    r.decision = "dropped";
    r.reason = "no answer (not a request the control plane serves, or over the unauthenticated rate limit)";
    return r;
  }
  const auto reply = stun::parse(answer, engine);
  if (reply && reply.message.message_class() == stun::MessageClass::success_response) {
    r.decision = "answered";
    return r;
  }
  r.decision = "error";
  if (const auto code = reply ? stun::error_code(reply.message) : stun::Decoded<stun::ErrorCodeValue>::absent()) {
    const auto phrase = stun::reason_phrase(code->code);
    r.reason = std::to_string(code->code.value) + " " + std::string(phrase.empty() ? code->reason : phrase);
  }
  return r;
}

}  // namespace tern::ctl
