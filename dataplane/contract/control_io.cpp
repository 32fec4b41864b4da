#include "dataplane/contract/control_io.hpp"

namespace tern::dp {

std::string_view to_string(PuntReason reason) {
  switch (reason) {
    case PuntReason::stun_request: return "stun_request";
    case PuntReason::binding_authenticated: return "binding_authenticated";
    case PuntReason::binding_attributes: return "binding_attributes";
    case PuntReason::stun_indication: return "stun_indication";
    case PuntReason::stun_response: return "stun_response";
    case PuntReason::arp: return "arp";
    case PuntReason::ndp: return "ndp";
  }
  return "unknown";
}

std::string_view to_string(SendResult result) {
  switch (result) {
    case SendResult::sent: return "sent";
    case SendResult::not_local: return "not_local";
    case SendResult::unsupported: return "unsupported";
    case SendResult::no_route: return "no_route";
    case SendResult::no_neighbour: return "no_neighbour";
    case SendResult::too_big: return "too_big";
    case SendResult::no_buffer: return "no_buffer";
    case SendResult::tx_full: return "tx_full";
  }
  return "unknown";
}

}  // namespace tern::dp
