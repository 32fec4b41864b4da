#include "control/transport/proxy_protocol.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

// Every allocation through operator new is counted, to show the parser makes none. Both forms of
// operator delete are replaced too, with free() to match (AddressSanitizer checks the pairing).
namespace {
size_t g_allocations = 0;
}  // namespace
void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace tern::ctl {
namespace {

using Bytes = std::vector<uint8_t>;
using Status = ProxyHeaderResult::Status;
using Error = ProxyHeaderError;

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes repeat(uint8_t byte, size_t n) { return Bytes(n, byte); }

ProxyHeaderResult parse(const Bytes& b, size_t n = SIZE_MAX) {
  return parse_proxy_header(std::span<const uint8_t>(b).first(std::min(n, b.size())));
}

const Bytes kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// A v2 header: signature, version and command, family and protocol, length, then `body`.
Bytes v2(uint8_t ver_cmd, uint8_t fam, const Bytes& body) {
  Bytes out = kV2Signature;
  out.push_back(ver_cmd);
  out.push_back(fam);
  out.push_back(static_cast<uint8_t>(body.size() >> 8));
  out.push_back(static_cast<uint8_t>(body.size()));
  return concat(out, body);
}

Bytes tlv(uint8_t type, const Bytes& value) {
  Bytes out = {type, static_cast<uint8_t>(value.size() >> 8), static_cast<uint8_t>(value.size())};
  return concat(out, value);
}

TransportAddress addr(std::string_view s) { return *TransportAddress::parse(s); }

// Every proper prefix of a valid header is need_more, never invalid, with a bound the header
// respects; the whole header, alone or followed by more bytes, is complete with its own size.
void expect_header(const Bytes& header, const Bytes& payload = {}) {
  for (size_t n = 0; n < header.size(); ++n) {
    const auto r = parse(header, n);
    ASSERT_EQ(r.status, Status::need_more) << "prefix of " << n << " bytes: " << to_string(r.error);
    EXPECT_EQ(r.error, Error::none);
    EXPECT_GE(r.size, header.size()) << n;
    EXPECT_LE(r.size, kMaxProxyHeader) << n;
    if (n == 0) continue;
    if (header[0] == 'P') {
      EXPECT_EQ(r.version, 1) << n;
      EXPECT_EQ(r.size, kMaxProxyV1Header) << n;
    } else {
      EXPECT_EQ(r.version, 2) << n;
      if (n >= 16) {
        EXPECT_EQ(r.size, header.size()) << n;  // 16 + length, once the length is in
      }
    }
  }
  for (const Bytes& tail : {Bytes{}, payload, text("\r\n"), repeat(0, kMaxProxyHeader)}) {
    const auto r = parse(concat(header, tail));
    ASSERT_EQ(r.status, Status::complete) << to_string(r.error);
    EXPECT_EQ(r.size, header.size());
  }
}

// The whole input is invalid for `reason`, and once a prefix is invalid every longer one is, for the
// same reason. Returns the length of the shortest invalid prefix.
size_t expect_invalid(const Bytes& input, Error reason) {
  const auto whole = parse(input);
  EXPECT_EQ(whole.status, Status::invalid);
  EXPECT_EQ(whole.error, reason) << to_string(whole.error);
  EXPECT_FALSE(whole.addresses);
  size_t first = input.size();
  for (size_t n = 0; n <= input.size(); ++n) {
    const auto r = parse(input, n);
    if (first == input.size() && r.status == Status::invalid) first = n;
    if (n < first) {
      EXPECT_EQ(r.status, Status::need_more) << n;
    } else {
      EXPECT_EQ(r.status, Status::invalid) << n;
      EXPECT_EQ(r.error, reason) << n << ": " << to_string(r.error);
    }
  }
  return first;
}

// ---- golden headers --------------------------------------------------------------------------------------

TEST(ProxyProtocol, SpecExampleV1BeforeHttp) {
  // §2.1: "An example of such a line before an HTTP request".
  const Bytes line = text("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  const Bytes http = text("GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n");
  expect_header(line, http);
  const auto r = parse(concat(line, http));
  EXPECT_EQ(r.version, 1);
  EXPECT_EQ(r.command, ProxyCommand::proxy);
  EXPECT_EQ(r.transport, ProxiedTransport::tcp4);
  EXPECT_TRUE(r.tcp());
  ASSERT_TRUE(r.addresses);
  EXPECT_EQ(r.addresses->source, addr("192.168.0.1:56324"));
  EXPECT_EQ(r.addresses->destination, addr("192.168.0.11:443"));
}

TEST(ProxyProtocol, V1Tcp4) {
  const Bytes line = text("PROXY TCP4 10.90.0.10 10.90.0.1 35704 6001\r\n");
  ASSERT_EQ(line.size(), 44u);
  expect_header(line, {0x00, 0x01, 0x00, 0x00});  // a STUN message starts
  const auto r = parse(line);
  EXPECT_EQ(r.size, 44u);
  ASSERT_TRUE(r.addresses);
  EXPECT_EQ(r.addresses->source, addr("10.90.0.10:35704"));
  EXPECT_EQ(r.addresses->destination, addr("10.90.0.1:6001"));
}

TEST(ProxyProtocol, V2Tcp4) {
  const Bytes header = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11,
                        0x00, 0x0c, 0x0a, 0x5a, 0x00, 0x0a, 0x0a, 0x5a, 0x00, 0x01, 0x86, 0x0a, 0x17, 0x72};
  ASSERT_EQ(header.size(), 28u);
  expect_header(header, {0x00, 0x01, 0x00, 0x00});
  const auto r = parse(header);
  EXPECT_EQ(r.version, 2);
  EXPECT_EQ(r.size, 28u);
  EXPECT_EQ(r.command, ProxyCommand::proxy);
  EXPECT_EQ(r.transport, ProxiedTransport::tcp4);
  ASSERT_TRUE(r.addresses);
  EXPECT_EQ(r.addresses->source, addr("10.90.0.10:34314"));
  EXPECT_EQ(r.addresses->destination, addr("10.90.0.1:6002"));
}

TEST(ProxyProtocol, V1Tcp6) {
  const Bytes line = text("PROXY TCP6 2001:db8::1 2001:DB8:0:0:0:0:0:2 61000 3478\r\n");
  expect_header(line);
  const auto r = parse(line);
  EXPECT_EQ(r.transport, ProxiedTransport::tcp6);
  ASSERT_TRUE(r.addresses);
  EXPECT_EQ(r.addresses->source, addr("[2001:db8::1]:61000"));
  EXPECT_EQ(r.addresses->destination, addr("[2001:db8::2]:3478"));
}

TEST(ProxyProtocol, V1LongestLines) {
  // §2.1: the maximum line lengths the receiver must support.
  const Bytes tcp4 = text("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
  ASSERT_EQ(tcp4.size(), 56u);
  expect_header(tcp4);
  const std::string f39 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const Bytes tcp6 = text("PROXY TCP6 " + f39 + " " + f39 + " 65535 65535\r\n");
  ASSERT_EQ(tcp6.size(), 104u);
  expect_header(tcp6);
  const auto r = parse(tcp6);
  ASSERT_TRUE(r.addresses);
  EXPECT_EQ(r.addresses->source.port, Port{65535});
  const Bytes unknown = text("PROXY UNKNOWN " + f39 + " " + f39 + " 65535 65535\r\n");
  ASSERT_EQ(unknown.size(), 107u);
  expect_header(unknown);
}

TEST(ProxyProtocol, V1Ports) {
  for (const char* line : {"PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 10 65535\r\n"})
    expect_header(text(line));
  EXPECT_EQ(parse(text("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n")).addresses->source, addr("0.0.0.0:0"));
}

TEST(ProxyProtocol, V2Tcp6) {
  Bytes body;
  for (const char* ip : {"2001:db8::10", "2001:db8::1"}) {
    uint8_t raw[16];
    ASSERT_EQ(inet_pton(AF_INET6, ip, raw), 1);
    body.insert(body.end(), raw, raw + 16);
  }
  body.insert(body.end(), {0xee, 0x46, 0x0d, 0x96});  // 60998, 3478
  const Bytes header = v2(0x21, 0x21, body);
  ASSERT_EQ(header.size(), 52u);
  expect_header(header, text("payload"));
  const auto r = parse(header);
  EXPECT_EQ(r.transport, ProxiedTransport::tcp6);
  ASSERT_TRUE(r.addresses);
  EXPECT_EQ(r.addresses->source, addr("[2001:db8::10]:60998"));
  EXPECT_EQ(r.addresses->destination, addr("[2001:db8::1]:3478"));
}

// Captured on loopback from haproxy 2.6.12 (Debian 12), `mode tcp`, a backend server with `send-proxy`
// or `send-proxy-v2`, each followed by the first bytes the client sent through it.
TEST(ProxyProtocol, Haproxy26SendProxyTcp4) {
  const Bytes captured = text("PROXY TCP4 127.0.0.1 127.0.0.1 46982 47301\r\nhello-v1-ipv4");
  const Bytes header(captured.begin(), captured.begin() + 44);
  expect_header(header, text("hello-v1-ipv4"));
  const auto r = parse(captured);
  EXPECT_EQ(r.size, 44u);
  EXPECT_EQ(r.addresses->source, addr("127.0.0.1:46982"));
  EXPECT_EQ(r.addresses->destination, addr("127.0.0.1:47301"));
}

TEST(ProxyProtocol, Haproxy26SendProxyTcp6) {
  const Bytes captured = text("PROXY TCP6 ::1 ::1 47674 47303\r\nhello-v1-ipv6");
  const auto r = parse(captured);
  ASSERT_EQ(r.status, Status::complete);
  EXPECT_EQ(r.size, 32u);
  expect_header(Bytes(captured.begin(), captured.begin() + 32));
  EXPECT_EQ(r.addresses->source, addr("[::1]:47674"));
  EXPECT_EQ(r.addresses->destination, addr("[::1]:47303"));
}

TEST(ProxyProtocol, Haproxy26SendProxyV4MappedOnDualStackBind) {
  // `bind ::ffff:127.0.0.1:47306 v4v6`: haproxy writes the mapped addresses as inet_ntop does.
  const Bytes captured = text("PROXY TCP6 ::ffff:127.0.0.1 ::ffff:127.0.0.1 58966 47306\r\nhello-v1-mapped");
  const auto r = parse(captured);
  ASSERT_EQ(r.status, Status::complete);
  EXPECT_EQ(r.size, 58u);
  expect_header(Bytes(captured.begin(), captured.begin() + 58));
  EXPECT_EQ(r.transport, ProxiedTransport::tcp6);
  ASSERT_TRUE(r.addresses);
  EXPECT_TRUE(r.addresses->source.ip.is_v6());
  EXPECT_EQ(r.addresses->source.ip.canonical(), IpAddress::v4(127, 0, 0, 1));
  EXPECT_EQ(r.addresses->source.port, Port{58966});
}

TEST(ProxyProtocol, Haproxy26SendProxyV2Tcp4) {
  const Bytes captured = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11,
                          0x00, 0x0c, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x94, 0x10, 0xb8, 0xc6,
                          'h',  'e',  'l',  'l',  'o',  '-',  'v',  '2',  '-',  'i',  'p',  'v',  '4'};
  expect_header(Bytes(captured.begin(), captured.begin() + 28), text("hello-v2-ipv4"));
  const auto r = parse(captured);
  EXPECT_EQ(r.size, 28u);
  EXPECT_EQ(r.addresses->source, addr("127.0.0.1:37904"));
  EXPECT_EQ(r.addresses->destination, addr("127.0.0.1:47302"));
}

TEST(ProxyProtocol, Haproxy26SendProxyV2Tcp6) {
  const Bytes captured = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21,
                          0x21, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xe7, 0x08, 0xb8, 0xc8,
                          'h',  'e',  'l',  'l',  'o',  '-',  'v',  '2',  '-',  'i',  'p',  'v',  '6'};
  expect_header(Bytes(captured.begin(), captured.begin() + 52), text("hello-v2-ipv6"));
  const auto r = parse(captured);
  EXPECT_EQ(r.size, 52u);
  EXPECT_EQ(r.transport, ProxiedTransport::tcp6);
  EXPECT_EQ(r.addresses->source, addr("[::1]:59144"));
  EXPECT_EQ(r.addresses->destination, addr("[::1]:47304"));
}

TEST(ProxyProtocol, Haproxy26SendProxyV2WithTlvs) {
  // `send-proxy-v2 proxy-v2-options crc32c,unique-id,authority` (no SNI, so no authority): a CRC32C TLV
  // (type 0x03, 4 bytes) and a UNIQUE_ID TLV (type 0x05, 41 bytes) after the IPv4 addresses.
  const Bytes captured = {
      0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x3f, 0x7f, 0x00,
      0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x83, 0xce, 0xb8, 0xc9, 0x03, 0x00, 0x04, 0x99, 0x58, 0x0e, 0xaa, 0x05,
      0x00, 0x29, '7',  'F',  '0',  '0',  '0',  '0',  '0',  '1',  ':',  '8',  '3',  'C',  'E',  '_',  '7',  'F',
      '0',  '0',  '0',  '0',  '0',  '1',  ':',  'B',  '8',  'C',  '9',  '_',  '6',  'B',  '1',  '6',  'F',  'E',
      '1',  '9',  '_',  '0',  '0',  '0',  '4',  'h',  'e',  'l',  'l',  'o',  '-',  'v',  '2',  '-',  't',  'l',
      'v'};
  const size_t header_size = 16 + 0x3f;
  expect_header(Bytes(captured.begin(), captured.begin() + header_size), text("hello-v2-tlv"));
  const auto r = parse(captured);
  EXPECT_EQ(r.size, header_size);
  EXPECT_EQ(r.addresses->source, addr("127.0.0.1:33742"));
  EXPECT_EQ(r.addresses->destination, addr("127.0.0.1:47305"));
}

TEST(ProxyProtocol, Haproxy26HealthChecks) {
  // `server ... send-proxy-v2 check`: each check is LOCAL, AF_UNSPEC, no address block.
  const Bytes v2_check = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
                          0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00};
  expect_header(v2_check);
  const auto r = parse(v2_check);
  EXPECT_EQ(r.command, ProxyCommand::local);
  EXPECT_EQ(r.transport, ProxiedTransport::unspec);
  EXPECT_FALSE(r.tcp());
  EXPECT_FALSE(r.addresses);
  // `server ... send-proxy check check-send-proxy`: v1 has no LOCAL; the check's own endpoints.
  const Bytes v1_check = text("PROXY TCP4 127.0.0.1 127.0.0.1 49392 47315\r\n");
  expect_header(v1_check);
  EXPECT_EQ(parse(v1_check).addresses->source, addr("127.0.0.1:49392"));
}

// ---- LOCAL, UNKNOWN, transports tern refuses -------------------------------------------------------------------

TEST(ProxyProtocol, V2LocalSkipsWhateverFollows) {
  // §2.2: "Receivers MUST always consider this field to skip the appropriate number of bytes and must
  // not assume zero is presented for LOCAL connections"; the family "is ignored".
  const Bytes with_addresses = v2(0x20, 0x11, concat(repeat(0xab, 12), tlv(0x04, {1, 2})));
  expect_header(with_addresses, text("x"));
  for (const uint8_t fam : {0x00, 0x11, 0x21, 0xff}) {
    const auto r = parse(v2(0x20, fam, repeat(0xee, 7)));  // not addresses, not TLVs: skipped unread
    ASSERT_EQ(r.status, Status::complete) << int{fam};
    EXPECT_EQ(r.size, 23u);
    EXPECT_EQ(r.command, ProxyCommand::local);
    EXPECT_EQ(r.transport, ProxiedTransport::unspec);
    EXPECT_FALSE(r.addresses);
  }
}

TEST(ProxyProtocol, V1Unknown) {
  for (const char* line : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f::f ::1 65535 65535\r\n",
                           "PROXY UNKNOWN anything\x01\xff at all\r\n", "PROXY UNKNOWN \r\n"}) {
    const Bytes b = text(line);
    expect_header(b, text("\r\n"));
    const auto r = parse(b);
    EXPECT_EQ(r.version, 1);
    EXPECT_EQ(r.command, ProxyCommand::local) << line;
    EXPECT_EQ(r.transport, ProxiedTransport::unspec);
    EXPECT_FALSE(r.addresses);
  }
  EXPECT_EQ(parse(text("PROXY UNKNOWN\r\n")).size, 15u);
}

TEST(ProxyProtocol, V2TransportsWithoutAddresses) {
  const struct {
    uint8_t fam;
    size_t length;
    ProxiedTransport transport;
  } cases[] = {
      {0x12, 12, ProxiedTransport::udp4},        {0x22, 36, ProxiedTransport::udp6},
      {0x31, 216, ProxiedTransport::unix_stream}, {0x32, 216, ProxiedTransport::unix_dgram},
      {0x00, 0, ProxiedTransport::unspec},        {0x00, 20, ProxiedTransport::unspec},
      {0x10, 12, ProxiedTransport::unspec},       {0x01, 5, ProxiedTransport::unspec},
      {0x20, 0, ProxiedTransport::unspec},
  };
  for (const auto& c : cases) {
    const Bytes header = v2(0x21, c.fam, repeat(0x01, c.length));
    expect_header(header);
    const auto r = parse(header);
    EXPECT_EQ(r.command, ProxyCommand::proxy);
    EXPECT_EQ(r.transport, c.transport) << int{c.fam};
    EXPECT_FALSE(r.tcp());
    EXPECT_FALSE(r.addresses);
  }
}

// ---- TLVs ----------------------------------------------------------------------------------------------------

TEST(ProxyProtocol, V2TlvsAreWalkedAndSkipped) {
  Bytes body = {192, 0, 2, 1, 198, 51, 100, 7, 0x13, 0x88, 0x0d, 0x96};
  body = concat(body, tlv(0x01, text("h2")));                   // PP2_TYPE_ALPN
  body = concat(body, tlv(0x02, text("turn.example.net")));     // PP2_TYPE_AUTHORITY
  body = concat(body, tlv(0x04, {}));                           // PP2_TYPE_NOOP, empty
  body = concat(body, tlv(0x20, {0x01, 0, 0, 0, 0, 0x21, 0x00, 0x07, 'T', 'L', 'S', 'v', '1', '.', '3'}));
  body = concat(body, tlv(0xe0, repeat(0x5a, 300)));            // application-specific
  const Bytes header = v2(0x21, 0x11, body);
  expect_header(header, text("data"));
  const auto r = parse(header);
  EXPECT_EQ(r.addresses->source, addr("192.0.2.1:5000"));
  EXPECT_EQ(r.addresses->destination, addr("198.51.100.7:3478"));
  // Under UDP and UNIX too.
  expect_header(v2(0x21, 0x12, concat(repeat(0, 12), tlv(0x05, text("id")))));
  expect_header(v2(0x21, 0x31, concat(repeat(0, 216), tlv(0x30, text("netns")))));
}

TEST(ProxyProtocol, V2LargestLengthAccepted) {
  // 12 address bytes and one NOOP TLV fill exactly kMaxProxyV2Length.
  const Bytes header = v2(0x21, 0x11, concat(repeat(1, 12), tlv(0x04, repeat(0, kMaxProxyV2Length - 15))));
  ASSERT_EQ(header.size(), kMaxProxyHeader);
  expect_header(header);
}

// ---- need_more -------------------------------------------------------------------------------------------------

TEST(ProxyProtocol, NeedMoreSaysHowLongTheHeaderCanBe) {
  EXPECT_EQ(parse({}).status, Status::need_more);
  EXPECT_EQ(parse({}).size, kMaxProxyHeader);
  EXPECT_EQ(parse({}).version, 0);
  EXPECT_EQ(parse(text("PROX")).size, kMaxProxyV1Header);
  EXPECT_EQ(parse(text("PROXY TCP4 1.2.3.4")).size, 107u);
  const Bytes header = v2(0x21, 0x11, repeat(0, 40));
  EXPECT_EQ(parse(header, 15).size, kMaxProxyHeader);
  EXPECT_EQ(parse(header, 16).size, 56u);
  EXPECT_EQ(parse(header, 30).size, 56u);
}

TEST(ProxyProtocol, V1NeedMoreOnlyWhileTheLineCanStillFit) {
  // An UNKNOWN line: 105 bytes before CRLF fit, 106 do not.
  const Bytes fits = text("PROXY UNKNOWN " + std::string(91, 'x'));
  ASSERT_EQ(fits.size(), 105u);
  EXPECT_EQ(parse(fits).status, Status::need_more);
  expect_header(concat(fits, text("\r\n")));
  EXPECT_EQ(parse(concat(fits, text("x"))).error, Error::bad_v1);
  EXPECT_EQ(parse(concat(fits, text("\r"))).status, Status::need_more);
  // Two 45-byte IPv6 addresses (the dotted-quad form) leave no room for " 0 0\r\n": the line is refused
  // as soon as the second address ends, before any port arrives.
  const std::string longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
  ASSERT_EQ(longest.size(), 45u);
  const Bytes line = text("PROXY TCP6 " + longest + " " + longest + " 0 0\r\n");
  ASSERT_EQ(line.size(), 108u);
  EXPECT_EQ(expect_invalid(line, Error::bad_v1), 102u);
  // One such address and a short one fit.
  expect_header(text("PROXY TCP6 " + longest + " ::1 65535 65535\r\n"));
}

TEST(ProxyProtocol, RefusedAsSoonAsTheBytesSaySo) {
  EXPECT_EQ(expect_invalid(text("GET / HTTP/1.1\r\n"), Error::not_proxy_protocol), 1u);
  EXPECT_EQ(expect_invalid(text("PROXI TCP4"), Error::not_proxy_protocol), 5u);
  EXPECT_EQ(expect_invalid(text("PROXY TCP4 010.0.0.1 10.0.0.2 1 2\r\n"), Error::bad_v1), 13u);
  EXPECT_EQ(expect_invalid(text("PROXY TCP4 10.0.0.1 10.0.0.2 65536 2\r\n"), Error::bad_v1), 34u);
  EXPECT_EQ(expect_invalid(concat(kV2Signature, {0x21, 0x11, 0x04, 0x01}), Error::too_long), 16u);
  EXPECT_EQ(expect_invalid(v2(0x21, 0x21, repeat(0, 35)), Error::length_too_short), 16u);
  EXPECT_EQ(expect_invalid(v2(0x21, 0x11, concat(repeat(0, 12), {0x04, 0x00, 0x05, 0})), Error::bad_v2_tlv), 31u);
  // A TLV whose length's high byte alone is too much for the 10 bytes left.
  EXPECT_EQ(expect_invalid(v2(0x21, 0x11, concat(repeat(0, 12), {0x04, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0})),
                           Error::bad_v2_tlv), 30u);
}

// ---- every invalid reason ------------------------------------------------------------------------------------

TEST(ProxyProtocol, NotProxyProtocol) {
  const Bytes inputs[] = {
      text("GET / HTTP/1.1\r\n\r\n"),
      {0x16, 0x03, 0x01, 0x00, 0xa5, 0x01},                    // a TLS ClientHello
      {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42},        // a STUN Binding request
      text("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
      text("PROXI"),
      concat(text("\r\n\r\n\x01"), repeat(0, 20)),
      concat(Bytes(kV2Signature.begin(), kV2Signature.end() - 1), {0x0D, 0x21}),
  };
  for (const Bytes& input : inputs) expect_invalid(input, Error::not_proxy_protocol);
  // Both signatures are checked as they arrive; until one fails, it could still be a header.
  EXPECT_EQ(parse(text("\r\n\r\n")).status, Status::need_more);
  EXPECT_EQ(parse(text("PROX")).status, Status::need_more);
}

TEST(ProxyProtocol, BadV1) {
  const std::string lines[] = {
      "PROXYX",
      "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",           // two spaces
      "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",               // a port missing
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",           // a field too many
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",            // trailing space
      "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",               // a lone LF ends the line
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",              // a lone CR
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
      "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",               // three numbers
      "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",           // five
      "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n",            // a heading zero
      "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",                 // the wrong family
      "PROXY TCP4 1.2.3.4 ::1 1 2\r\n",
      "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
      "PROXY TCP6 ::1 ::ffff:1.2.3.04 1 2\r\n",
      "PROXY TCP6 ::1 1:2:3:4:5:6:7:8:9 1 2\r\n",
      "PROXY TCP6 ::1 1::2::3 1 2\r\n",
      "PROXY TCP6 ::1 12345:: 1 2\r\n",
      "PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n",            // no zone
      "PROXY TCP6 ::1 [::1] 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",            // a heading zero
      "PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
      "PROXY UNKNOWNX\r\n",
      "PROXY UNKNOWN\n",
      "PROXY UNKNOWN bare\nLF\r\n",
      "PROXY UNKNOWN\rX",
      "PROXY UNKNOWN " + std::string(93, 'x') + "\r\n",  // 109 bytes
  };
  for (const std::string& line : lines) {
    SCOPED_TRACE(line);
    expect_invalid(text(line), Error::bad_v1);
  }
  // 108 bytes with the CRLF at its end: the CR comes too late.
  const Bytes too_long = text("PROXY UNKNOWN " + std::string(92, 'x') + "\r\n");
  ASSERT_EQ(too_long.size(), 108u);
  expect_invalid(too_long, Error::bad_v1);
}

TEST(ProxyProtocol, BadV2VersionCommandFamily) {
  for (const uint8_t ver_cmd : {0x01, 0x11, 0x31, 0xf1, 0x10})
    expect_invalid(v2(ver_cmd, 0x11, repeat(0, 12)), Error::bad_v2_version);
  for (const uint8_t ver_cmd : {0x22, 0x2f, 0x23})
    expect_invalid(v2(ver_cmd, 0x11, repeat(0, 12)), Error::bad_v2_command);
  for (const uint8_t fam : {0x41, 0xf1, 0x13, 0x1f, 0x03, 0x40})
    EXPECT_EQ(expect_invalid(v2(0x21, fam, repeat(0, 216)), Error::bad_v2_family), 14u) << int{fam};
}

TEST(ProxyProtocol, LengthTooShortForTheFamily) {
  const struct {
    uint8_t fam;
    size_t length;
  } cases[] = {{0x11, 11}, {0x12, 0}, {0x21, 35}, {0x22, 12}, {0x31, 215}, {0x32, 36}};
  for (const auto& c : cases) expect_invalid(v2(0x21, c.fam, repeat(0, c.length)), Error::length_too_short);
}

TEST(ProxyProtocol, TooLong) {
  for (const size_t length : {kMaxProxyV2Length + 1, size_t{0xffff}}) {
    const Bytes header =
        concat(kV2Signature, {0x21, 0x11, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)});
    EXPECT_EQ(expect_invalid(header, Error::too_long), 16u);
  }
  // LOCAL too: the bytes would have to be buffered all the same.
  expect_invalid(v2(0x20, 0x00, repeat(0, kMaxProxyV2Length + 1)), Error::too_long);
}

TEST(ProxyProtocol, BadV2Tlv) {
  const Bytes addresses = repeat(7, 12);
  const Bytes bodies[] = {
      concat(addresses, {0x04, 0x00, 0x02, 0x00}),                       // one byte short of its length
      concat(addresses, {0x04, 0x00}),                                   // not even a TLV header
      concat(addresses, {0x04}),
      concat(concat(addresses, tlv(0x01, text("h2"))), {0x04, 0xff, 0xff}),
      concat(concat(addresses, tlv(0x04, repeat(0, 3))), {0}),       // a byte after the last TLV
  };
  for (const Bytes& body : bodies) expect_invalid(v2(0x21, 0x11, body), Error::bad_v2_tlv);
}

TEST(ProxyProtocol, NoHeapAllocation) {
  const std::string f39 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const Bytes inputs[] = {
      text("PROXY TCP4 10.90.0.10 10.90.0.1 35704 6001\r\n"),
      text("PROXY TCP6 " + f39 + " ::ffff:1.2.3.4 65535 65535\r\n"),
      text("PROXY UNKNOWN\r\n"),
      text("PROXY TCP4 10.90.0.10 10.90.0.1 35704 6001\n"),
      v2(0x21, 0x21, concat(repeat(1, 36), tlv(0x05, text("id")))),
      v2(0x21, 0x11, concat(repeat(1, 12), {0x04, 0x00, 0x09})),
      v2(0x20, 0x00, {}),
  };
  ASSERT_GT(g_allocations, 0u);  // the counting operator new is the one in use (building `inputs` went through it)
  const size_t before = g_allocations;
  for (const Bytes& input : inputs) {
    for (size_t n = 0; n <= input.size(); ++n) (void)parse_proxy_header(std::span<const uint8_t>(input).first(n));
  }
  EXPECT_EQ(g_allocations, before);
}

// ---- the field scanners, against inet_pton -----------------------------------------------------------------------

using proxy_v1::Scan;

bool pton(int family, const std::string& s) {
  uint8_t out[16];
  return inet_pton(family, s.c_str(), out) == 1;
}

// The scanner and inet_pton agree on what is an address; every prefix of one is partial or complete, and
// min_more never overstates what the rest of the address took.
void check_scanner(Scan (*scan)(std::string_view), int family, const std::string& s) {
  const Scan whole = scan(s);
  ASSERT_EQ(whole.state == Scan::State::complete, pton(family, s)) << s;
  if (whole.state != Scan::State::complete) return;
  for (size_t k = 0; k < s.size(); ++k) {
    const Scan p = scan(std::string_view(s).substr(0, k));
    ASSERT_NE(p.state, Scan::State::invalid) << s << " at " << k;
    if (p.state == Scan::State::partial) {
      ASSERT_LE(p.min_more, s.size() - k) << s << " at " << k;
    }
  }
}

TEST(ProxyV1Scan, AddressesAgreeWithInetPton) {
  for (const char* s : {"0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3.", "1.2.3", "256.1.1.1",
                        "1.2.3.4.", "", ".", "1", "1.2.3.4 ", "a.b.c.d", "00.0.0.0", "0.0.0.00"})
    check_scanner(proxy_v1::scan_ipv4, AF_INET, s);
  for (const char* s : {"::", "::1", "1::", "1::2", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
                        "1:2:3:4:5:6:7:8::", "1:2:3:4:5:6:7:8:9", ":::", ":1", "1:", "1::2:", "::ffff:1.2.3.4",
                        "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5::1.2.3.4", "1:2:3:4:5:6::1.2.3.4",
                        "::1.2.3.4", "1.2.3.4", "::1.2.3", "::1.2.3.04", "::a.2.3.4", "ffff:FFFF:0:0:0:0:0:0",
                        "12345::", "0000:0000:0000:0000:0000:0000:0000:0001", "g::", "::1::", "1:::2",
                        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "", ":", "1:2:3:4:5:6:7", "::0:1.2.3.4"})
    check_scanner(proxy_v1::scan_ipv6, AF_INET6, s);
}

TEST(ProxyV1Scan, RandomStringsAgreeWithInetPton) {
  // Short strings over the characters addresses are made of, drawn with a fixed seed.
  // ':' and '.' weigh more, so that structure is explored rather than digits.
  const std::string v6_alphabet = "0123456789abcdefABCDEF::::::..";
  const std::string v4_alphabet = "0123456789....";
  uint32_t seed = 12345;
  const auto next = [&] { return (seed = seed * 1103515245u + 12345u) >> 16; };
  int valid_v4 = 0;
  int valid_v6 = 0;
  for (int i = 0; i < 200000; ++i) {
    const bool v6 = i % 2 == 0;
    const std::string& alphabet = v6 ? v6_alphabet : v4_alphabet;
    std::string s(next() % (v6 ? 24 : 16), ' ');
    for (char& c : s) c = alphabet[next() % alphabet.size()];
    if (v6) {
      check_scanner(proxy_v1::scan_ipv6, AF_INET6, s);
      valid_v6 += pton(AF_INET6, s);
    } else {
      check_scanner(proxy_v1::scan_ipv4, AF_INET, s);
      valid_v4 += pton(AF_INET, s);
    }
    if (HasFatalFailure()) return;
  }
  // Enough of them are addresses for the prefix checks to mean something (313 and 2903 with this seed).
  EXPECT_GT(valid_v4, 200);
  EXPECT_GT(valid_v6, 2000);
}

TEST(ProxyV1Scan, MinMoreIsTheShortestCompletion) {
  EXPECT_EQ(proxy_v1::scan_ipv4("").min_more, 7u);     // "0.0.0.0"
  EXPECT_EQ(proxy_v1::scan_ipv4("1.").min_more, 5u);   // "0.0.0"
  EXPECT_EQ(proxy_v1::scan_ipv4("1.2.3").min_more, 2u);
  EXPECT_EQ(proxy_v1::scan_ipv6("").min_more, 2u);     // "::"
  EXPECT_EQ(proxy_v1::scan_ipv6(":").min_more, 1u);
  EXPECT_EQ(proxy_v1::scan_ipv6("1").min_more, 2u);    // "1::"
  EXPECT_EQ(proxy_v1::scan_ipv6("1:").min_more, 1u);
  EXPECT_EQ(proxy_v1::scan_ipv6("::1.2").min_more, 4u);
  EXPECT_EQ(proxy_v1::scan_ipv6("1::").state, Scan::State::complete);
  EXPECT_EQ(proxy_v1::scan_port("").min_more, 1u);
  EXPECT_EQ(proxy_v1::scan_port("0").state, Scan::State::complete);
  EXPECT_EQ(proxy_v1::scan_port("65535").state, Scan::State::complete);
  EXPECT_EQ(proxy_v1::scan_port("6553").state, Scan::State::complete);
  EXPECT_EQ(proxy_v1::scan_port("65536").state, Scan::State::invalid);
  EXPECT_EQ(proxy_v1::scan_port("0").state, Scan::State::complete);
  EXPECT_EQ(proxy_v1::scan_port("05").state, Scan::State::invalid);
}

// ---- the allow-list --------------------------------------------------------------------------------------------

TEST(ProxySourceAllowed, PrefixesOfEitherFamily) {
  const std::vector<Prefix> allowed = {*Prefix::parse("10.90.0.0/24"), *Prefix::parse("192.0.2.7"),
                                       *Prefix::parse("2001:db8:1::/48")};
  const auto ok = [&](const char* ip) { return proxy_source_allowed(*IpAddress::parse(ip), allowed); };
  EXPECT_TRUE(ok("10.90.0.10"));
  EXPECT_TRUE(ok("10.90.0.255"));
  EXPECT_FALSE(ok("10.90.1.1"));
  EXPECT_TRUE(ok("192.0.2.7"));
  EXPECT_FALSE(ok("192.0.2.8"));
  EXPECT_TRUE(ok("2001:db8:1:ffff::1"));
  EXPECT_FALSE(ok("2001:db8:2::1"));
  EXPECT_TRUE(ok("::ffff:10.90.0.10"));  // a dual-stack socket's view of an IPv4 proxy
  EXPECT_FALSE(ok("::ffff:10.91.0.10"));
  EXPECT_FALSE(ok("::10.90.0.10"));      // IPv4-compatible is not mapped
  EXPECT_FALSE(proxy_source_allowed(*IpAddress::parse("10.90.0.10"), {}));
  // A mapped prefix matches a mapped peer as it stands.
  const std::vector<Prefix> mapped = {*Prefix::parse("::ffff:10.0.0.0/104")};
  EXPECT_TRUE(proxy_source_allowed(*IpAddress::parse("::ffff:10.1.2.3"), mapped));
  EXPECT_FALSE(proxy_source_allowed(*IpAddress::parse("10.1.2.3"), mapped));
}

}  // namespace
}  // namespace tern::ctl
