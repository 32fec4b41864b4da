#include "control/transport/tls_alpn.hpp"

#include <algorithm>

namespace tern::ctl {
namespace {

// The name `want` in the list, or nullopt; nullopt too when the list is malformed (a zero
// length, or a name running past the end).
std::optional<std::span<const uint8_t>> find(std::span<const uint8_t> offered,
                                             std::string_view want) {
  size_t at = 0;
  while (at < offered.size()) {
    const size_t length = offered[at];
    if (length == 0 || length > offered.size() - at - 1) return std::nullopt;
    const auto name = offered.subspan(at + 1, length);
    if (std::equal(name.begin(), name.end(), want.begin(), want.end(),
                   [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); }))
      return name;
    at += 1 + length;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(TlsApplication application) {
  switch (application) {
    case TlsApplication::none: return "none";
    case TlsApplication::turn: return kAlpnTurn;
    case TlsApplication::http: return kAlpnHttp;
  }
  return "none";
}

TlsApplication application_of(std::string_view selected) {
  if (selected == kAlpnTurn) return TlsApplication::turn;
  if (selected == kAlpnHttp) return TlsApplication::http;
  return TlsApplication::none;
}

std::optional<std::span<const uint8_t>> select_alpn(std::span<const uint8_t> offered,
                                                    bool accept_http) {
  if (auto turn = find(offered, kAlpnTurn)) return turn;
  if (accept_http) return find(offered, kAlpnHttp);
  return std::nullopt;
}

}  // namespace tern::ctl
