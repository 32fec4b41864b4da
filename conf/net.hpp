#pragma once
// The network nouns tern is configured in and speaks about: IP addresses, ports, transport
// addresses (RFC 8489 §3: "the combination of an IP address and port number") and prefixes.
// Plain values, no heap, usable from the data plane.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tern {

// STUN's address family codes (RFC 8489 §14.1) double as ours.
enum class Family : uint8_t { ipv4 = 0x01, ipv6 = 0x02 };

// An IPv4 or IPv6 address. IPv4 lives in the first four bytes, the rest zero, so that equal
// addresses compare and hash equal byte for byte. An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
// stays IPv6 here; canonicalisation for policy is an explicit step (see canonical()).
class IpAddress {
 public:
  constexpr IpAddress() = default;

  static constexpr IpAddress v4(uint32_t host_order) {
    IpAddress a;
    a.family_ = Family::ipv4;
    a.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
    a.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
    a.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
    a.bytes_[3] = static_cast<uint8_t>(host_order);
    return a;
  }
  static constexpr IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return v4((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
  }
  // 4 bytes -> IPv4, 16 bytes -> IPv6, in network order; any other size -> nullopt.
  static std::optional<IpAddress> from_bytes(std::span<const uint8_t> bytes);
  // Dotted quad or RFC 4291/5952 text; brackets are not accepted here (see TransportAddress).
  static std::optional<IpAddress> parse(std::string_view text);

  constexpr Family family() const { return family_; }
  constexpr bool is_v4() const { return family_ == Family::ipv4; }
  constexpr bool is_v6() const { return family_ == Family::ipv6; }
  // 4 or 16 bytes in network order.
  constexpr std::span<const uint8_t> bytes() const { return {bytes_.data(), is_v4() ? 4u : 16u}; }
  constexpr const std::array<uint8_t, 16>& raw() const { return bytes_; }
  constexpr uint32_t v4_host_order() const {
    return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
           bytes_[3];
  }

  // ::ffff:a.b.c.d -> a.b.c.d; every other address unchanged. Policy checks run on this form.
  IpAddress canonical() const;

  std::string to_string() const;

  constexpr auto operator<=>(const IpAddress&) const = default;

 private:
  std::array<uint8_t, 16> bytes_{};
  Family family_ = Family::ipv4;
};

struct Port {
  uint16_t value = 0;
  constexpr auto operator<=>(const Port&) const = default;
};

// How a client reaches a listener (RFC 8656 §3.1): UDP, TCP or TLS over TCP. The relayed
// transport address is UDP whichever it is.
enum class ClientTransport : uint8_t { udp, tcp, tls };
constexpr std::string_view to_string(ClientTransport transport) {
  return transport == ClientTransport::udp ? "udp" : transport == ClientTransport::tcp ? "tcp" : "tls";
}

// RFC 8489 §3: an IP address and a port.
struct TransportAddress {
  IpAddress ip;
  Port port;

  // "a.b.c.d:port" or "[v6]:port".
  static std::optional<TransportAddress> parse(std::string_view text);
  std::string to_string() const;

  constexpr auto operator<=>(const TransportAddress&) const = default;
};

// An address range in CIDR notation ("10.0.0.0/8", "fe80::/10"). A bare address is a host prefix.
struct Prefix {
  IpAddress base;  // host bits are zero
  uint8_t length = 0;

  static std::optional<Prefix> parse(std::string_view text);
  // Builds a prefix, clearing host bits; nullopt if length exceeds the family's width.
  static std::optional<Prefix> make(IpAddress base, uint8_t length);
  bool contains(const IpAddress& ip) const;
  std::string to_string() const;

  constexpr auto operator<=>(const Prefix&) const = default;
};

// An address assigned to an interface together with the length of its subnet ("10.90.0.1/24",
// "2001:db8::1/64"). Unlike a Prefix the host bits are the point: they are the address.
struct InterfaceAddress {
  IpAddress ip;
  uint8_t length = 0;

  // "address/length"; the length is required.
  static std::optional<InterfaceAddress> parse(std::string_view text);
  // The subnet the address is on: 10.90.0.1/24 -> 10.90.0.0/24.
  Prefix subnet() const;
  std::string to_string() const;

  constexpr auto operator<=>(const InterfaceAddress&) const = default;
};

}  // namespace tern
