#include "control/auth/rest_username.hpp"

namespace tern::ctl {
namespace {

std::optional<int64_t> parse_timestamp(std::string_view digits) {
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::optional<RestUsername> parse_rest_username(std::string_view username) {
  const size_t first = username.find(':');
  if (first == std::string_view::npos) {
    const auto ts = parse_timestamp(username);
    if (!ts) return std::nullopt;
    return RestUsername{*ts, {}};
  }
  if (const auto ts = parse_timestamp(username.substr(0, first))) return RestUsername{*ts, username.substr(first + 1)};
  const size_t last = username.rfind(':');
  if (const auto ts = parse_timestamp(username.substr(last + 1))) return RestUsername{*ts, username.substr(0, last)};
  return std::nullopt;
}

}  // namespace tern::ctl
