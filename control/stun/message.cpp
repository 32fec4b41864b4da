#include "control/stun/message.hpp"

#include "control/stun/wire.hpp"

namespace tern::stun {

std::string_view to_string(Method method) {
  switch (method) {
    case Method::binding: return "Binding";
    case Method::allocate: return "Allocate";
    case Method::refresh: return "Refresh";
    case Method::send: return "Send";
    case Method::data: return "Data";
    case Method::create_permission: return "CreatePermission";
    case Method::channel_bind: return "ChannelBind";
  }
  return "unknown";
}

std::string_view to_string(MessageClass cls) {
  switch (cls) {
    case MessageClass::request: return "request";
    case MessageClass::indication: return "indication";
    case MessageClass::success_response: return "success response";
    case MessageClass::error_response: return "error response";
  }
  return "unknown";
}

Demux demux(std::span<const uint8_t> bytes) {
  if (bytes.size() < 4) return Demux::other;
  switch (bytes[0] >> 6) {
    case 0b00:
      // RFC 8489 §5: "The most significant 2 bits of every STUN message MUST be zeroes."
      if (bytes.size() >= 8 && wire::load_u32(bytes.data() + 4) == kMagicCookie) return Demux::stun;
      return Demux::other;
    case 0b01:
      return Demux::channel_data;
    default:
      return Demux::other;
  }
}

}  // namespace tern::stun
