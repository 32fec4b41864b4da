#include "dataplane/contract/trace.hpp"

#include <cstdio>

#include "dataplane/contract/control_io.hpp"

namespace tern::dp {

std::string_view to_string(TracePacket packet) {
  switch (packet) {
    case TracePacket::unclassified: return "unclassified";
    case TracePacket::channel_data: return "channel_data";
    case TracePacket::send: return "send";
    case TracePacket::peer_data: return "peer_data";
    case TracePacket::binding: return "binding";
    case TracePacket::stun: return "stun";
    case TracePacket::arp: return "arp";
    case TracePacket::ndp: return "ndp";
    case TracePacket::icmp_echo: return "icmp_echo";
    case TracePacket::datagram: return "datagram";
    case TracePacket::tcp: return "tcp";
  }
  return "unknown";
}

std::string_view to_string(TraceOutcome outcome) {
  switch (outcome) {
    case TraceOutcome::relayed: return "relayed";
    case TraceOutcome::hairpin: return "hairpin";
    case TraceOutcome::answered: return "answered";
    case TraceOutcome::punted: return "punted";
    case TraceOutcome::waiting: return "waiting";
    case TraceOutcome::dropped: return "dropped";
    case TraceOutcome::sent_after_wait: return "sent_after_wait";
    case TraceOutcome::wait_expired: return "wait_expired";
    case TraceOutcome::wait_overflow: return "wait_overflow";
    case TraceOutcome::control: return "control";
    case TraceOutcome::to_kernel: return "to_kernel";
  }
  return "unknown";
}

std::string trace_reason(const TraceRecord& r) {
  switch (r.outcome) {
    case TraceOutcome::dropped:
      if (r.reason < kCounterCount) return std::string(counter_name(static_cast<CounterId>(r.reason)));
      return "unknown";
    case TraceOutcome::punted:
      if (r.reason < kPuntReasonCount) return std::string(to_string(static_cast<PuntReason>(r.reason)));
      return "unknown";
    case TraceOutcome::control: {
      char text[40];
      if (r.reason == 0)
        std::snprintf(text, sizeof text, "STUN type 0x%04x: success", r.stun_type);
      else
        std::snprintf(text, sizeof text, "STUN type 0x%04x: error %u", r.stun_type, unsigned{r.reason});
      return text;
    }
    default:
      return {};
  }
}

std::string to_string(const TraceRecord& r) {
  std::string s = r.source == kTraceControl ? "control" : "worker " + std::to_string(r.source);
  s += ' ';
  s += to_string(r.packet);
  s += ' ';
  s += r.from.to_string();
  s += " -> ";
  s += r.to.to_string();
  s += ": ";
  s += to_string(r.outcome);
  const std::string why = trace_reason(r);
  if (!why.empty()) s += " (" + why + ")";
  if (has_next(r)) s += (r.outcome == TraceOutcome::control ? " peer " : " to ") + r.next.to_string();
  if (r.allocation != kNoAllocation || r.channel != 0) {
    s += " [";
    if (r.allocation != kNoAllocation) s += "allocation " + std::to_string(slot_index(r.allocation));
    if (r.channel != 0) {
      char channel[16];
      std::snprintf(channel, sizeof channel, "channel 0x%04x", r.channel);
      s += (r.allocation != kNoAllocation ? ", " : "") + std::string(channel);
    }
    s += ']';
  }
  return s;
}

}  // namespace tern::dp
