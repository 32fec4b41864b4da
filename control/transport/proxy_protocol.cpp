#include "control/transport/proxy_protocol.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "control/stun/wire.hpp"

namespace tern::ctl {

std::string_view to_string(ProxiedTransport transport) {
  switch (transport) {
    case ProxiedTransport::unspec: return "unspec";
    case ProxiedTransport::tcp4: return "tcp4";
    case ProxiedTransport::tcp6: return "tcp6";
    case ProxiedTransport::udp4: return "udp4";
    case ProxiedTransport::udp6: return "udp6";
    case ProxiedTransport::unix_stream: return "unix_stream";
    case ProxiedTransport::unix_dgram: return "unix_dgram";
  }
  return "unknown";
}

std::string_view to_string(ProxyHeaderError error) {
  switch (error) {
    case ProxyHeaderError::none: return "none";
    case ProxyHeaderError::not_proxy_protocol: return "not_proxy_protocol";
    case ProxyHeaderError::bad_v1: return "bad_v1";
    case ProxyHeaderError::bad_v2_version: return "bad_v2_version";
    case ProxyHeaderError::bad_v2_command: return "bad_v2_command";
    case ProxyHeaderError::bad_v2_family: return "bad_v2_family";
    case ProxyHeaderError::length_too_short: return "length_too_short";
    case ProxyHeaderError::too_long: return "too_long";
    case ProxyHeaderError::bad_v2_tlv: return "bad_v2_tlv";
  }
  return "unknown";
}

// ---- v1: the fields of the line ---------------------------------------------------------------------

namespace proxy_v1 {
namespace {

using State = Scan::State;

constexpr Scan invalid() { return {State::invalid, 0}; }
constexpr Scan partial(size_t min_more) { return {State::partial, min_more}; }
constexpr Scan complete() { return {State::complete, 0}; }

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

Scan scan_ipv4(std::string_view text) {
  unsigned dots = 0;
  unsigned digits = 0;  // in the current number
  unsigned value = 0;
  for (const char c : text) {
    if (is_digit(c)) {
      if (digits > 0 && value == 0) return invalid();  // "Heading zeroes are not permitted"
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 255) return invalid();
      ++digits;
    } else if (c == '.') {
      if (digits == 0 || dots == 3) return invalid();  // "exactly one dot between each other", 4 numbers
      ++dots;
      digits = 0;
      value = 0;
    } else {
      return invalid();
    }
  }
  if (dots == 3 && digits > 0) return complete();
  // Each missing number is one digit, each missing dot one byte.
  return partial((digits == 0 ? 1 : 0) + 2 * (3 - dots));
}

// The grammar inet_pton(AF_INET6) accepts (RFC 4291 §2.2), decided byte by byte so that a prefix can
// be judged: up to 8 groups of 1 to 4 hex digits separated by ':', one "::" standing for one or more
// zero groups, and the last 32 bits possibly a dotted quad (strict, as scan_ipv4).
Scan scan_ipv6(std::string_view text) {
  if (text.empty()) return partial(2);  // "::"
  size_t i = 0;
  bool double_colon = false;
  if (text[0] == ':') {  // only as the start of a leading "::"
    if (text.size() == 1) return partial(1);
    if (text[1] != ':') return invalid();
    double_colon = true;
    i = 2;
  }
  unsigned groups = 0;   // completed 16-bit groups
  unsigned digits = 0;   // hex digits of the group being read
  bool closed = false;   // the last byte was a ':' that closed a group
  size_t token = i;      // where the group being read starts
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (is_hex(c)) {
      if (digits == 4) return invalid();
      ++digits;
      closed = false;
    } else if (c == ':') {
      if (digits == 0) {  // the second ':' of a "::"
        if (double_colon) return invalid();
        double_colon = true;
        closed = false;
      } else {
        if (groups == 8) return invalid();
        ++groups;
        digits = 0;
        closed = true;
      }
      token = i + 1;
    } else if (c == '.') {
      // The group being read was the first number of a dotted quad, which takes the last two groups.
      const bool fits = double_colon ? groups + 2 <= 7 : groups + 2 == 8;
      if (!fits) return invalid();
      return scan_ipv4(text.substr(token));
    } else {
      return invalid();
    }
  }
  if (digits > 0) {  // a group is being read; it will count
    const unsigned total = groups + 1;
    if (double_colon) return total <= 7 ? complete() : invalid();
    if (total == 8) return complete();
    return total < 8 ? partial(2) : invalid();  // "::" completes it
  }
  if (closed) return (double_colon ? groups <= 6 : groups <= 7) ? partial(1) : invalid();  // a digit, or ':'
  // Just after a "::", which stands for at least one zero group.
  return groups <= 7 ? complete() : invalid();
}

Scan scan_port(std::string_view text) {
  if (text.empty()) return partial(1);
  unsigned value = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_digit(text[i])) return invalid();
    if (i > 0 && value == 0) return invalid();  // "Heading zeroes are not permitted"
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
    if (value > 65535) return invalid();
  }
  return complete();
}

}  // namespace proxy_v1

namespace {

using Status = ProxyHeaderResult::Status;
using proxy_v1::Scan;

ProxyHeaderResult fail(ProxyHeaderResult r, ProxyHeaderError error) {
  r.status = Status::invalid;
  r.error = error;
  r.addresses.reset();
  return r;
}

// ---- v1 -----------------------------------------------------------------------------------------------

// §2.1: "a string identifying the protocol : "PROXY" ( \x50 \x52 \x4F \x58 \x59 ) Seeing this string
// indicates that this is version 1 of the protocol."
constexpr std::string_view kV1Signature = "PROXY";

// "a string indicating the proxied INET protocol and family. As of version 1, only "TCP4" ... for TCP
// over IPv4, and "TCP6" ... for TCP over IPv6 are allowed. Other, unsupported, or unknown protocols
// must be reported with the name "UNKNOWN"".
constexpr std::string_view kTcp4 = "TCP4";
constexpr std::string_view kTcp6 = "TCP6";
constexpr std::string_view kUnknown = "UNKNOWN";

uint16_t port_value(std::string_view text) {  // scan_port() said complete
  unsigned value = 0;
  for (const char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  return static_cast<uint16_t>(value);
}

// The line is read field by field. A field runs to the next ' ' or '\r'; a '\n' anywhere but after
// the CR is an error (§2.1: "The receiver must not tolerate a single CR or LF character to end the
// line when a complete CRLF sequence is expected").
struct Field {
  std::string_view text;
  char end = 0;  // ' ', '\r' or '\n'; 0 when the bytes ran out first
};
Field next_field(std::string_view line, size_t at) {
  const size_t stop = line.find_first_of(" \r\n", at);
  if (stop == std::string_view::npos) return {line.substr(at), 0};
  return {line.substr(at, stop - at), line[stop]};
}

ProxyHeaderResult parse_v1(std::span<const uint8_t> received) {
  ProxyHeaderResult r;
  r.version = 1;
  r.size = kMaxProxyV1Header;
  // Only the first 107 bytes can belong to the line; what follows cannot change the verdict.
  const std::string_view line(reinterpret_cast<const char*>(received.data()),
                              std::min(received.size(), kMaxProxyV1Header));
  const auto need_more = [&](size_t still_needed) {
    // Whether what is missing can still fit the 107 bytes.
    return line.size() + still_needed <= kMaxProxyV1Header ? r : fail(r, ProxyHeaderError::bad_v1);
  };

  const size_t sig = std::min(line.size(), kV1Signature.size());
  if (line.substr(0, sig) != kV1Signature.substr(0, sig)) return fail(r, ProxyHeaderError::not_proxy_protocol);
  if (line.size() <= kV1Signature.size()) return r;
  // "exactly one space"
  size_t at = kV1Signature.size();
  if (line[at] != ' ') return fail(r, ProxyHeaderError::bad_v1);
  ++at;

  const Field proto = next_field(line, at);
  if (proto.end == 0) {
    // At most 13 bytes so far: any name's shortest line fits the 107.
    for (const std::string_view name : {kTcp4, kTcp6, kUnknown})
      if (name.substr(0, std::min(name.size(), proto.text.size())) == proto.text) return r;
    return fail(r, ProxyHeaderError::bad_v1);
  }
  at += proto.text.size() + 1;

  if (proto.text == kUnknown) {
    // "For "UNKNOWN", the rest of the line before the CRLF may be omitted by the sender, and the
    // receiver must ignore anything presented before the CRLF is found." A bare LF is refused all the
    // same: it means a broken sender, and accepting it could swallow the client's first bytes.
    size_t cr = at - 1;
    if (proto.end == ' ') {
      cr = line.find_first_of("\r\n", at);
      if (cr == std::string_view::npos) return need_more(2);
    }
    if (line[cr] != '\r') return fail(r, ProxyHeaderError::bad_v1);
    if (cr + 1 == line.size()) return need_more(1);
    if (line[cr + 1] != '\n') return fail(r, ProxyHeaderError::bad_v1);
    // "If the announced transport protocol is "UNKNOWN", then the receiver knows that the sender speaks
    // the correct PROXY protocol with the appropriate version, and SHOULD accept the connection and use
    // the real connection's parameters as if there were no PROXY protocol header on the wire."
    r.status = Status::complete;
    r.size = cr + 2;
    r.command = ProxyCommand::local;
    r.transport = ProxiedTransport::unspec;
    return r;
  }

  const bool v4 = proto.text == kTcp4;
  if ((!v4 && proto.text != kTcp6) || proto.end != ' ') return fail(r, ProxyHeaderError::bad_v1);

  // §2.1, after the protocol: the source address, the destination address ("It is the same format as
  // the layer 3 source address and matches the same family."), the source port, the destination port,
  // "exactly one space" before each, then "the CRLF sequence ( \x0D \x0A )".
  enum Kind : uint8_t { address, port };
  struct Expected {
    Kind kind;
    char end;
  };
  constexpr std::array<Expected, 4> kFields = {
      Expected{address, ' '}, Expected{address, ' '}, Expected{port, ' '}, Expected{port, '\r'}};
  // The shortest field of each kind ("0.0.0.0" or "::", "0"), to know what the rest of the line needs.
  const size_t shortest_address = v4 ? 7 : 2;
  std::array<std::string_view, 4> texts;
  for (size_t k = 0; k < kFields.size(); ++k) {
    const Field f = next_field(line, at);
    const Scan scan = kFields[k].kind == address ? (v4 ? proxy_v1::scan_ipv4(f.text) : proxy_v1::scan_ipv6(f.text))
                                                 : proxy_v1::scan_port(f.text);
    if (scan.state == Scan::State::invalid) return fail(r, ProxyHeaderError::bad_v1);
    if (f.end == 0) {
      // The bytes ran out inside this field: the rest of it, then a space and the shortest of each
      // later field, then CRLF.
      size_t rest = scan.min_more;
      for (size_t later = k + 1; later < kFields.size(); ++later)
        rest += 1 + (kFields[later].kind == address ? shortest_address : 1);
      return need_more(rest + 2);
    }
    if (scan.state != Scan::State::complete || f.end != kFields[k].end) return fail(r, ProxyHeaderError::bad_v1);
    texts[k] = f.text;
    at += f.text.size() + 1;
  }
  // `at` is past the CR.
  if (at == line.size()) return need_more(1);
  if (line[at] != '\n') return fail(r, ProxyHeaderError::bad_v1);

  // "The receiver must wait for the CRLF sequence before starting to decode the addresses in order to
  // ensure they are complete and properly parsed."
  const auto source = IpAddress::parse(texts[0]);
  const auto destination = IpAddress::parse(texts[1]);
  if (!source || !destination || source->is_v4() != v4 || destination->is_v4() != v4)
    return fail(r, ProxyHeaderError::bad_v1);  // the scanners agree with inet_pton; kept as a guard
  r.status = Status::complete;
  r.size = at + 1;
  r.command = ProxyCommand::proxy;
  r.transport = v4 ? ProxiedTransport::tcp4 : ProxiedTransport::tcp6;
  r.addresses = ProxyAddresses{{*source, Port{port_value(texts[2])}}, {*destination, Port{port_value(texts[3])}}};
  return r;
}

// ---- v2 -----------------------------------------------------------------------------------------------

// §2.2: "The binary header format starts with a constant 12 bytes block containing the protocol
// signature : \x0D \x0A \x0D \x0A \x00 \x0D \x0A \x51 \x55 \x49 \x54 \x0A"
constexpr std::array<uint8_t, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

ProxyHeaderResult parse_v2(std::span<const uint8_t> in) {
  ProxyHeaderResult r;
  r.version = 2;
  r.size = kMaxProxyHeader;
  const size_t sig = std::min(in.size(), kV2Signature.size());
  if (std::memcmp(in.data(), kV2Signature.data(), sig) != 0) return fail(r, ProxyHeaderError::not_proxy_protocol);
  if (in.size() <= 12) return r;

  // "The next byte (the 13th one) is the protocol version and command. The highest four bits contains
  // the version. As of this specification, it must always be sent as \x2 and the receiver must only
  // accept this value."
  if ((in[12] >> 4) != 0x2) return fail(r, ProxyHeaderError::bad_v2_version);
  // "The lowest four bits represents the command : \x0 : LOCAL ... \x1 : PROXY ... other values are
  // unassigned and must not be emitted by senders. Receivers must drop connections presenting
  // unexpected values here."
  const unsigned command = in[12] & 0x0F;
  if (command > 1) return fail(r, ProxyHeaderError::bad_v2_command);
  r.command = command == 1 ? ProxyCommand::proxy : ProxyCommand::local;
  if (in.size() <= 13) return r;

  // "The 14th byte contains the transport protocol and address family. The highest 4 bits contain the
  // address family, the lowest 4 bits contain the protocol." Families: "0x0 : AF_UNSPEC", "0x1 :
  // AF_INET", "0x2 : AF_INET6", "0x3 : AF_UNIX", "other values are unspecified and must not be emitted
  // in version 2 of this protocol and must be rejected as invalid by receivers." Protocols: "0x0 :
  // UNSPEC", "0x1 : STREAM", "0x2 : DGRAM", "other values ... must be rejected as invalid".
  // Under LOCAL, though, the receiver "must use the real connection endpoints and discard the protocol
  // block including the family which is ignored": the byte is not checked there.
  const unsigned family = in[13] >> 4;
  const unsigned protocol = in[13] & 0x0F;
  const bool proxy = r.command == ProxyCommand::proxy;
  if (proxy && (family > 3 || protocol > 2)) return fail(r, ProxyHeaderError::bad_v2_family);
  if (in.size() < kProxyV2FixedHeader) return r;

  // "The 15th and 16th bytes is the address length in bytes in network endian order. ... Receivers MUST
  // always consider this field to skip the appropriate number of bytes and must not assume zero is
  // presented for LOCAL connections."
  const size_t length = stun::wire::load_u16(in.data() + 14);
  if (length > kMaxProxyV2Length) return fail(r, ProxyHeaderError::too_long);
  const size_t total = kProxyV2FixedHeader + length;
  r.size = total;

  // "\x11 : TCP over IPv4 ... Address length is 2*4 + 2*2 = 12 bytes. \x12 : UDP over IPv4 ... 12 bytes.
  // \x21 : TCP over IPv6 ... 2*16 + 2*2 = 36 bytes. \x22 : UDP over IPv6 ... 36 bytes. \x31 : UNIX
  // stream ... 2*108 = 216 bytes. \x32 : UNIX datagram ... 216 bytes."
  // An UNSPEC family or protocol: "The receiver should ignore address information." Its bytes, and
  // everything after a LOCAL header's 16, are skipped unread.
  size_t address_length = 0;
  if (proxy && family != 0 && protocol != 0) {
    const bool stream = protocol == 1;
    switch (family) {
      case 1:
        address_length = 12;
        r.transport = stream ? ProxiedTransport::tcp4 : ProxiedTransport::udp4;
        break;
      case 2:
        address_length = 36;
        r.transport = stream ? ProxiedTransport::tcp6 : ProxiedTransport::udp6;
        break;
      default:
        address_length = 216;
        r.transport = stream ? ProxiedTransport::unix_stream : ProxiedTransport::unix_dgram;
        break;
    }
    if (length < address_length) return fail(r, ProxyHeaderError::length_too_short);

    // "If the length specified in the PROXY protocol header indicates that additional bytes are part
    // of the header beyond the address information, a receiver may choose to skip over and ignore
    // those bytes, or attempt to interpret those bytes. The information in those bytes will be
    // arranged in Type-Length-Value (TLV vectors) ... The first byte is the Type of the vector. The
    // second two bytes represent the length in bytes of the value (not included the Type and Length
    // bytes), and following the length field is the number of bytes specified by the length."
    // tern uses none of them (nor checks PP2_TYPE_CRC32C); each must fit the header, checked as its
    // bytes arrive.
    size_t at = kProxyV2FixedHeader + address_length;
    while (at < total) {
      if (total - at < 3) return fail(r, ProxyHeaderError::bad_v2_tlv);
      const size_t room = total - at - 3;  // for the value, after the type and length
      if (in.size() < at + 3) {
        // The length's high byte alone may already say it cannot fit.
        if (in.size() == at + 2 && size_t{in[at + 1]} << 8 > room) return fail(r, ProxyHeaderError::bad_v2_tlv);
        break;
      }
      if (stun::wire::load_u16(in.data() + at + 1) > room) return fail(r, ProxyHeaderError::bad_v2_tlv);
      at += 3 + stun::wire::load_u16(in.data() + at + 1);
    }
  }
  // "The receiver must not start to parse an address before the whole address block is received."
  if (in.size() < total) return r;

  r.status = Status::complete;
  if (r.transport == ProxiedTransport::tcp4 || r.transport == ProxiedTransport::tcp6) {
    // "Starting from the 17th byte, addresses are presented in network byte order. The address order
    // is always the same : - source layer 3 address in network byte order - destination layer 3
    // address in network byte order - source layer 4 address if any, in network byte order (port) -
    // destination layer 4 address if any, in network byte order (port)"
    const size_t ip = r.transport == ProxiedTransport::tcp4 ? 4 : 16;
    const uint8_t* a = in.data() + kProxyV2FixedHeader;
    const auto source = IpAddress::from_bytes({a, ip});
    const auto destination = IpAddress::from_bytes({a + ip, ip});
    r.addresses = ProxyAddresses{{*source, Port{stun::wire::load_u16(a + 2 * ip)}},
                                 {*destination, Port{stun::wire::load_u16(a + 2 * ip + 2)}}};
  }
  return r;
}

}  // namespace

// §2.2: "Identifying the protocol version is easy : - if the incoming byte count is 16 or above and the
// 13 first bytes match the protocol signature block followed by the protocol version 2 ... - otherwise,
// if the incoming byte count is 8 or above, and the 5 first characters match the US-ASCII
// representation of "PROXY" then the protocol must be parsed as version 1 ... - otherwise the protocol
// is not covered by this specification and the connection must be dropped." The two signatures differ
// in their first byte, which is enough to choose; each parser then checks its signature as it arrives.
ProxyHeaderResult parse_proxy_header(std::span<const uint8_t> received) {
  if (received.empty()) return {};
  if (received[0] == static_cast<uint8_t>(kV1Signature[0])) return parse_v1(received);
  if (received[0] == kV2Signature[0]) return parse_v2(received);
  return fail({}, ProxyHeaderError::not_proxy_protocol);
}

// §2: "The receiver SHOULD ensure proper access filtering so that only trusted proxies are allowed to
// use this protocol." §5: "if the opportunity is left to a normal client to use the protocol, it will be
// able to hide its activities or make them appear as coming from somewhere else."
bool proxy_source_allowed(const IpAddress& peer, std::span<const Prefix> allowed) {
  const IpAddress canonical = peer.canonical();
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const Prefix& p) { return p.contains(peer) || p.contains(canonical); });
}

}  // namespace tern::ctl
