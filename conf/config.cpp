#include "conf/config.hpp"

#include <array>

namespace tern::conf {
namespace {

constexpr std::array<std::string_view, 5> kLogLevelNames = {"debug", "info", "notice", "warning",
                                                            "error"};

// Where a relay must never send on a client's behalf: the server's own networks and hosts, and
// addresses that are not unicast on the Internet.
constexpr std::array<std::string_view, 16> kDefaultPeerDenyText = {
    "0.0.0.0/8",       // "this network", unspecified
    "10.0.0.0/8",      // RFC 1918
    "100.64.0.0/10",   // RFC 6598 shared address space (carrier NAT; Alibaba's metadata service)
    "127.0.0.0/8",     // loopback
    "169.254.0.0/16",  // link-local, including the cloud metadata address 169.254.169.254
    "172.16.0.0/12",   // RFC 1918
    "192.168.0.0/16",  // RFC 1918
    "224.0.0.0/4",     // multicast
    "240.0.0.0/4",     // reserved, and the limited broadcast address
    "::/128",          // unspecified
    "::1/128",         // loopback
    "64:ff9b:1::/48",  // RFC 8215 local-use NAT64: reaches private IPv4 space
    "fc00::/7",        // unique local, including AWS's metadata service fd00:ec2::254
    "fe80::/10",       // link-local
    "fec0::/10",       // deprecated site-local
    "ff00::/8",        // multicast
};

}  // namespace

std::string_view to_string(LogLevel level) {
  const auto index = static_cast<size_t>(level);
  return index < kLogLevelNames.size() ? kLogLevelNames[index] : "unknown";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (size_t i = 0; i < kLogLevelNames.size(); ++i)
    if (kLogLevelNames[i] == text) return static_cast<LogLevel>(i);
  return std::nullopt;
}

std::span<const Prefix> default_peer_deny() {
  static const auto prefixes = [] {
    std::array<Prefix, kDefaultPeerDenyText.size()> out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = *Prefix::parse(kDefaultPeerDenyText[i]);
    return out;
  }();
  return prefixes;
}

}  // namespace tern::conf
