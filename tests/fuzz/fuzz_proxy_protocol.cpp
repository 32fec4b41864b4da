// libFuzzer target for the PROXY protocol parser (control/transport/proxy_protocol.hpp): the first
// bytes of a TCP connection, parsed whole and a prefix at a time. A complete header fits the input and
// the buffer, carries addresses exactly when it is a PROXY over TCP and then of the declared family;
// every prefix of it is need_more; once a prefix is invalid the whole input is; need_more promises
// more bytes than arrived. The input is also read as v1 address text, where the scanners must agree
// with inet_pton(3). A broken invariant aborts.

#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "control/transport/proxy_protocol.hpp"

namespace {

using namespace tern;
using ctl::ProxiedTransport;
using ctl::ProxyCommand;
using ctl::ProxyHeaderError;
using ctl::ProxyHeaderResult;
using Status = ProxyHeaderResult::Status;

void require(bool condition) {
  if (!condition) std::abort();
}

void check_one(const ProxyHeaderResult& r, size_t input_size) {
  switch (r.status) {
    case Status::need_more:
      require(r.error == ProxyHeaderError::none);
      require(r.size > input_size && r.size <= ctl::kMaxProxyHeader);
      require(!r.addresses);
      break;
    case Status::invalid:
      require(r.error != ProxyHeaderError::none);
      require(!r.addresses);
      break;
    case Status::complete:
      require(r.error == ProxyHeaderError::none);
      require(r.size <= input_size && r.size <= ctl::kMaxProxyHeader);
      require(r.version == 1 || r.version == 2);
      require(r.version == 1 ? r.size >= 15 && r.size <= ctl::kMaxProxyV1Header : r.size >= ctl::kProxyV2FixedHeader);
      require(r.addresses.has_value() == (r.command == ProxyCommand::proxy && r.tcp()));
      if (r.command == ProxyCommand::local) require(r.transport == ProxiedTransport::unspec);
      if (r.addresses) {
        const bool v4 = r.transport == ProxiedTransport::tcp4;
        require(r.addresses->source.ip.is_v4() == v4 && r.addresses->destination.ip.is_v4() == v4);
      }
      break;
  }
}

bool same(const ProxyHeaderResult& a, const ProxyHeaderResult& b) {
  return a.status == b.status && a.error == b.error && a.size == b.size && a.version == b.version &&
         a.command == b.command && a.transport == b.transport && a.addresses.has_value() == b.addresses.has_value() &&
         (!a.addresses || (a.addresses->source == b.addresses->source &&
                           a.addresses->destination == b.addresses->destination));
}

// The scanners against inet_pton: the same verdict on the whole text; every prefix of an address
// still a possible address, needing no more than what followed it.
void check_scanner(ctl::proxy_v1::Scan (*scan)(std::string_view), int family, std::string_view text) {
  using State = ctl::proxy_v1::Scan::State;
  const std::string terminated(text);
  uint8_t out[16];
  const bool pton = inet_pton(family, terminated.c_str(), out) == 1;
  require((scan(text).state == State::complete) == pton);
  if (!pton) return;
  for (size_t k = 0; k < text.size(); ++k) {
    const auto p = scan(text.substr(0, k));
    require(p.state != State::invalid);
    if (p.state == State::partial) require(p.min_more <= text.size() - k);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input{data, size};
  const ProxyHeaderResult whole = ctl::parse_proxy_header(input);
  check_one(whole, size);

  // Prefixes: all of the first 130 (the v1 window and v2's fixed part), then a few spread further.
  const auto check_prefix = [&](size_t k) {
    const ProxyHeaderResult p = ctl::parse_proxy_header(input.first(k));
    check_one(p, k);
    if (p.status == Status::invalid) require(whole.status == Status::invalid);
    if (p.status == Status::complete) require(same(p, whole));
    if (whole.status == Status::complete) require(k < whole.size ? p.status == Status::need_more : same(p, whole));
    if (whole.status == Status::need_more) require(p.status == Status::need_more);
  };
  for (size_t k = 0; k <= std::min<size_t>(size, 130); ++k) check_prefix(k);
  if (size > 130) {
    for (size_t step = 1; step <= 8; ++step) check_prefix(130 + (size - 130) * step / 8);
  }
  if (whole.status == Status::complete) check_prefix(whole.size);

  // The input as a v1 field.
  if (size <= 64 && std::memchr(data, 0, size) == nullptr) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_scanner(ctl::proxy_v1::scan_ipv4, AF_INET, text);
    check_scanner(ctl::proxy_v1::scan_ipv6, AF_INET6, text);
  }
  return 0;
}
