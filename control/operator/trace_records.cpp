#include "control/operator/trace_records.hpp"

#include <string>
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

std::optional<dp::TraceRecord> control_decision(const IpAddress& traced, const dp::FiveTuple& five_tuple,
                                                std::span<const uint8_t> request, std::span<const uint8_t> answer,
                                                crypto::Engine& engine) {
  dp::TraceRecord r;
  r.source = dp::kTraceControl;
  r.outcome = dp::TraceOutcome::control;
  r.packet = dp::TracePacket::stun;
  r.from = five_tuple.client;
  r.to = five_tuple.server;
  bool concerns = five_tuple.client.ip == traced;
  const auto parsed = stun::parse(request, engine);
  if (parsed) {
    r.stun_type = parsed.message.type().encode();
    for (const auto attribute : parsed.message.all(stun::AttributeType::xor_peer_address)) {
      const auto peer = stun::decode_xor_address(attribute.value, parsed.message.transaction_id());
      if (!peer) continue;
      const bool traced_peer = peer->ip.canonical() == traced;
      // The peer the trace is about, else the first one named.
      if (traced_peer || !has_next(r)) r.next = *peer;
      concerns = concerns || traced_peer;
    }
  }
  if (!concerns) return std::nullopt;
  if (answer.empty()) {
    r.reason = kTraceNoAnswer;
    return r;
  }
  const auto reply = stun::parse(answer, engine);
  if (reply && reply.message.message_class() != stun::MessageClass::success_response) {
    const auto code = stun::error_code(reply.message);
    r.reason = code ? code->code.value : uint16_t{500};
  }
  return r;
}

api::TraceRecord describe(const dp::TraceRecord& r) {
  api::TraceRecord out;
  out.time = static_cast<double>(r.time_ns) / 1e9;
  out.source = r.source == dp::kTraceControl ? "control" : "worker " + std::to_string(r.source);
  out.from = r.from.to_string();
  out.to = r.to.to_string();
  if (has_next(r)) out.next = r.next.to_string();
  if (r.allocation != dp::kNoAllocation) out.allocation = dp::slot_index(r.allocation);
  if (r.channel != 0) out.channel = r.channel;
  if (r.outcome != dp::TraceOutcome::control) {
    out.packet = std::string(dp::to_string(r.packet));
    out.decision = std::string(dp::to_string(r.outcome));
    if (auto why = dp::trace_reason(r); !why.empty()) out.reason = std::move(why);
    return out;
  }
  // The control plane's: the request, and what it was answered.
  const stun::MessageType type = stun::MessageType::decode(r.stun_type);
  out.packet = r.stun_type == 0 && r.reason == kTraceNoAnswer ? std::string("STUN message")
                                                              : method_name(type.method) + " " + class_name(type.cls);
  if (r.reason == kTraceNoAnswer) {
    out.decision = "dropped";
    out.reason = "no answer: malformed, not a request the control plane serves, or over the unauthenticated rate";
  } else if (r.reason == 0) {
    out.decision = "answered";
  } else {
    out.decision = "error";
    const auto phrase = stun::reason_phrase(stun::ErrorCode{r.reason});
    out.reason = std::to_string(r.reason) + (phrase.empty() ? "" : " " + std::string(phrase));
  }
  return out;
}

}  // namespace tern::ctl
