#pragma once
// The PROXY protocol, versions 1 and 2 (HAProxy, "The PROXY protocol Versions 1 & 2", revision of
// 2020/03/05, https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt): the header a load balancer
// in front of tern puts at the start of a TCP connection to say whose connection it relays.
//
// §2: "The receiver MUST be configured to only receive the protocol described in this specification
// and MUST not try to guess whether the protocol header is present or not." A listener either expects
// the header on every connection, from allowed sources only (proxy_source_allowed), or never.
// "The receiver MUST NOT start processing the connection before it receives a complete and valid
// PROXY protocol header." The parser is incremental: it is given everything received so far and says
// whether that is a header, the start of one, or neither.
//
//   uint8_t buf[kMaxProxyHeader];   ... read into it, `have` bytes so far
//   const ProxyHeaderResult r = parse_proxy_header({buf, have});
//   need_more: read more (at most r.size - have more bytes belong to the header); a timeout of a few
//              seconds applies (§2: "at least 3 seconds to cover a TCP retransmit")
//   invalid:   close the connection (§2.1: "abort the connection as soon as possible")
//   complete:  drop r.size bytes (the rest is the client's data), then
//              r.command == local   -> use the connection's own addresses (health checks, v1 UNKNOWN)
//              r.addresses          -> use them (TCP over IPv4 or IPv6)
//              otherwise            -> UDP, UNIX or UNSPEC behind the proxy: the caller decides (tern refuses)
//
// No heap, no exceptions; every length is checked before it is used.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "conf/net.hpp"

namespace tern::ctl {

// §2.1: "worst case (optional fields set to 0xff) : "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff
// 65535 65535\r\n" => ... = 107 chars". "If the CRLF sequence is not found in the first 107 characters,
// the receiver should declare the line invalid."
constexpr size_t kMaxProxyV1Header = 107;
// §2.2: "the length of the protocol header in bytes is always exactly 16 + this value."
constexpr size_t kProxyV2FixedHeader = 16;
// The most address and TLV bytes a v2 header may announce for us to accept it. The spec allows 65535;
// addresses take at most 216 (AF_UNIX) and haproxy's TLVs (CRC32C, unique ID of up to 128 bytes,
// ALPN, authority, SSL details) fit well within this.
constexpr size_t kMaxProxyV2Length = 1024;
// The buffer that always holds a whole header we accept, of either version.
constexpr size_t kMaxProxyHeader = kProxyV2FixedHeader + kMaxProxyV2Length;
static_assert(kMaxProxyHeader >= kMaxProxyV1Header);

enum class ProxyCommand : uint8_t {
  local,  // v2 LOCAL, or v1 UNKNOWN: use the connection's own endpoints
  proxy,  // relayed on behalf of another node: the header carries the original endpoints
};

// What the proxy relays, from v2's 14th byte (or v1's TCP4 / TCP6 / UNKNOWN).
enum class ProxiedTransport : uint8_t {
  unspec,  // v2 AF_UNSPEC or protocol UNSPEC, v1 UNKNOWN, and every LOCAL header
  tcp4,
  tcp6,
  udp4,
  udp6,
  unix_stream,
  unix_dgram,
};
std::string_view to_string(ProxiedTransport transport);

enum class ProxyHeaderError : uint8_t {
  none = 0,
  not_proxy_protocol,  // starts with neither "PROXY" nor the v2 signature
  bad_v1,              // "PROXY" but not a well-formed line of at most 107 bytes ending in CRLF
  bad_v2_version,      // v2 signature, version nibble not 2
  bad_v2_command,      // command nibble neither LOCAL (0) nor PROXY (1)
  bad_v2_family,       // PROXY with an address family above 3 or a protocol above 2
  length_too_short,    // PROXY with a length shorter than the family's addresses (12, 36, 216)
  too_long,            // a length above kMaxProxyV2Length
  bad_v2_tlv,          // a TLV running past the header's end
};
std::string_view to_string(ProxyHeaderError error);

struct ProxyAddresses {
  TransportAddress source;       // the client, as the proxy saw it
  TransportAddress destination;  // the address the client connected to, on the proxy
};

struct ProxyHeaderResult {
  enum class Status : uint8_t {
    need_more,  // a prefix of a valid header: read more
    complete,   // a whole, valid header of `size` bytes
    invalid,    // cannot become a valid header: close the connection (`error` says why)
  };
  Status status = Status::need_more;
  ProxyHeaderError error = ProxyHeaderError::none;
  // complete: the header's size (what follows is the client's data); need_more: the most the header
  // can take (107 for v1, 16 + length for v2 once its length is in, kMaxProxyHeader before that).
  size_t size = kMaxProxyHeader;
  uint8_t version = 0;  // 1 or 2 once the first byte has chosen a format, 0 before
  ProxyCommand command = ProxyCommand::local;
  ProxiedTransport transport = ProxiedTransport::unspec;
  // Present exactly when complete with command proxy and transport tcp4 or tcp6; both addresses are
  // of that family (an IPv4-mapped IPv6 address under TCP6 stays IPv6: see IpAddress::canonical).
  std::optional<ProxyAddresses> addresses;

  // The proxied transport is TCP (tcp4 or tcp6). False for every LOCAL header.
  bool tcp() const { return transport == ProxiedTransport::tcp4 || transport == ProxiedTransport::tcp6; }
};

// Parses the PROXY protocol header at the start of `received`, everything the connection has
// delivered so far (bytes past the header are ignored). Monotonic: once a prefix is invalid, every
// longer input is; a prefix of a complete header is need_more. And need_more is exact: some bytes
// still to come would make the header one we accept (for v1, a line of at most 107 bytes; for v2,
// TLVs that fit), so a bad header is refused at the first byte that rules it out.
ProxyHeaderResult parse_proxy_header(std::span<const uint8_t> received);

// §5: "accepting the header only from a number of known sources should be safe." True when the
// connection's peer (the proxy) lies in one of `allowed`; an IPv4-mapped IPv6 peer (a dual-stack
// socket) also matches as its IPv4 address. An empty list allows nobody.
bool proxy_source_allowed(const IpAddress& peer, std::span<const Prefix> allowed);

// The v1 line's fields, scanned on their own; exposed for the unit tests and the fuzz target, which
// compare the address scanners with inet_pton(3).
namespace proxy_v1 {

struct Scan {
  enum class State : uint8_t {
    invalid,   // no continuation makes it valid
    partial,   // a proper prefix of a valid field, not valid itself
    complete,  // valid as it stands (and possibly the prefix of a longer valid field)
  };
  State state = State::invalid;
  size_t min_more = 0;  // partial: the fewest bytes that complete it
};

// §2.1: "IPv4 addresses must be indicated as a series of exactly 4 integers in the range [0..255]
// inclusive written in decimal representation separated by exactly one dot between each other.
// Heading zeroes are not permitted in front of numbers".
Scan scan_ipv4(std::string_view text);
// §2.1: "IPv6 addresses must be indicated as series of sets of 4 hexadecimal digits (upper or lower
// case) delimited by colons between each other, with the acceptance of one double colon sequence".
// Accepted as inet_pton(AF_INET6) accepts it, 1 to 4 digits a group and a trailing dotted quad
// included: haproxy writes inet_ntop's form ("::1", "::ffff:127.0.0.1").
Scan scan_ipv6(std::string_view text);
// §2.1: "a decimal integer in the range [0..65535] inclusive. Heading zeroes are not permitted".
Scan scan_port(std::string_view text);

}  // namespace proxy_v1

}  // namespace tern::ctl
