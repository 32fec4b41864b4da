#include "control/api/types.hpp"

#include <array>
#include <charconv>

#include "control/api/result.hpp"

namespace tern::ctl::api {
namespace {

constexpr std::array<std::string_view, 9> kErrorCodes = {
    "parse_error", "bad_request", "unsupported_version", "unknown_command", "too_large",
    "not_found",   "busy",        "invalid_config",      "failed",
};

}  // namespace

std::string_view to_string(ErrorCode code) { return kErrorCodes[static_cast<size_t>(code)]; }

bool parse_error_code(std::string_view text, ErrorCode& out) {
  for (size_t i = 0; i < kErrorCodes.size(); ++i)
    if (kErrorCodes[i] == text) {
      out = static_cast<ErrorCode>(i);
      return true;
    }
  return false;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  if (const auto ip = IpAddress::parse(text)) return Endpoint{*ip, std::nullopt};
  if (const auto ta = TransportAddress::parse(text)) return Endpoint{ta->ip, ta->port};
  return std::nullopt;
}

std::string Endpoint::to_string() const {
  return port ? TransportAddress{ip, *port}.to_string() : ip.to_string();
}

std::string_view command_of(const Request& request) {
  return std::visit([](const auto& r) { return std::decay_t<decltype(r)>::kCommand; }, request);
}

}  // namespace tern::ctl::api
