#include "conf/net.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace tern {
namespace {

// inet_pton wants a NUL-terminated string; addresses are short, so a stack copy does.
template <size_t N>
bool copy_terminated(std::string_view text, char (&out)[N]) {
  if (text.empty() || text.size() >= N) return false;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return true;
}

std::optional<uint32_t> parse_decimal(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddress> IpAddress::from_bytes(std::span<const uint8_t> bytes) {
  IpAddress a;
  if (bytes.size() == 4) {
    a.family_ = Family::ipv4;
  } else if (bytes.size() == 16) {
    a.family_ = Family::ipv6;
  } else {
    return std::nullopt;
  }
  std::memcpy(a.bytes_.data(), bytes.data(), bytes.size());
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (!copy_terminated(text, buf)) return std::nullopt;
  uint8_t bytes[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, bytes) != 1) return std::nullopt;
    return from_bytes({bytes, 4});
  }
  if (inet_pton(AF_INET6, buf, bytes) != 1) return std::nullopt;
  return from_bytes({bytes, 16});
}

IpAddress IpAddress::canonical() const {
  if (is_v6() && std::memcmp(bytes_.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0)
    return v4(bytes_[12], bytes_[13], bytes_[14], bytes_[15]);
  return *this;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

std::optional<TransportAddress> TransportAddress::parse(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) return std::nullopt;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
  }
  const auto ip = IpAddress::parse(host);
  const auto number = parse_decimal(port, 65535);
  if (!ip || !number) return std::nullopt;
  return TransportAddress{*ip, Port{static_cast<uint16_t>(*number)}};
}

std::string TransportAddress::to_string() const {
  std::string out;
  if (ip.is_v6()) {
    out += '[';
    out += ip.to_string();
    out += ']';
  } else {
    out = ip.to_string();
  }
  out += ':';
  out += std::to_string(port.value);
  return out;
}

std::optional<Prefix> Prefix::make(IpAddress base, uint8_t length) {
  const unsigned width = base.is_v4() ? 32 : 128;
  if (length > width) return std::nullopt;
  std::array<uint8_t, 16> bytes = base.raw();
  for (unsigned bit = length; bit < width; ++bit)
    bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  auto cleared = IpAddress::from_bytes({bytes.data(), width / 8});
  return Prefix{*cleared, length};
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  const size_t slash = text.find('/');
  const auto ip = IpAddress::parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  if (slash == std::string_view::npos) return make(*ip, ip->is_v4() ? 32 : 128);
  const auto length = parse_decimal(text.substr(slash + 1), ip->is_v4() ? 32 : 128);
  if (!length) return std::nullopt;
  return make(*ip, static_cast<uint8_t>(*length));
}

bool Prefix::contains(const IpAddress& ip) const {
  if (ip.family() != base.family()) return false;
  const auto& a = ip.raw();
  const auto& b = base.raw();
  const unsigned whole = length / 8;
  if (std::memcmp(a.data(), b.data(), whole) != 0) return false;
  const unsigned rest = length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff00u >> rest);
  return (a[whole] & mask) == b[whole];
}

std::string Prefix::to_string() const { return base.to_string() + "/" + std::to_string(length); }

std::optional<InterfaceAddress> InterfaceAddress::parse(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto ip = IpAddress::parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  const auto length = parse_decimal(text.substr(slash + 1), ip->is_v4() ? 32 : 128);
  if (!length) return std::nullopt;
  return InterfaceAddress{*ip, static_cast<uint8_t>(*length)};
}

Prefix InterfaceAddress::subnet() const {
  // length never exceeds the family's width when built by parse(); clamp for hand-made values.
  const uint8_t width = ip.is_v4() ? 32 : 128;
  return *Prefix::make(ip, length < width ? length : width);
}

std::string InterfaceAddress::to_string() const {
  return ip.to_string() + "/" + std::to_string(length);
}

}  // namespace tern
