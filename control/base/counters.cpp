#include "control/base/counters.hpp"

namespace tern::ctl {

Counter response_counter(stun::MessageClass cls, stun::ErrorCode code) {
  if (cls == stun::MessageClass::success_response) return Counter::responses_success;
  switch (code.value) {
    case 300: return Counter::responses_300;
    case 400: return Counter::responses_400;
    case 401: return Counter::responses_401;
    case 403: return Counter::responses_403;
    case 420: return Counter::responses_420;
    case 437: return Counter::responses_437;
    case 438: return Counter::responses_438;
    case 440: return Counter::responses_440;
    case 441: return Counter::responses_441;
    case 442: return Counter::responses_442;
    case 443: return Counter::responses_443;
    case 486: return Counter::responses_486;
    case 508: return Counter::responses_508;
    default: return Counter::responses_500;
  }
}

std::optional<Counter> request_counter(stun::Method method) {
  switch (method) {
    case stun::Method::binding: return Counter::requests_binding;
    case stun::Method::allocate: return Counter::requests_allocate;
    case stun::Method::refresh: return Counter::requests_refresh;
    case stun::Method::create_permission: return Counter::requests_create_permission;
    case stun::Method::channel_bind: return Counter::requests_channel_bind;
    default: return std::nullopt;
  }
}

}  // namespace tern::ctl
