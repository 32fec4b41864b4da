#include "conf/validate.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace tern::conf {
namespace {

std::string indexed(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

std::string family_name(const IpAddress& ip) { return ip.is_v4() ? "IPv4" : "IPv6"; }

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    size_t extra = 0;
    uint32_t code = 0;
    uint32_t least = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      extra = 1;
      code = lead & 0x1f;
      least = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      extra = 2;
      code = lead & 0x0f;
      least = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      extra = 3;
      code = lead & 0x07;
      least = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = code << 6 | (next & 0x3f);
    }
    if (code < least || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

size_t utf8_chars(std::string_view text) {
  return static_cast<size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<uint8_t>(c) & 0xc0) != 0x80; }));
}

class Checker {
 public:
  explicit Checker(const Config& config) : c_(config) {}

  std::vector<Problem> run() {
    top_level();
    listen();
    tls();
    stream();
    proxy_protocol();
    relay();
    auth();
    lifetimes();
    limits();
    peers();
    control();
    dataplane();
    return std::move(problems_);
  }

 private:
  void add(std::string setting, std::string message) {
    problems_.push_back({std::move(setting), std::move(message)});
  }

  void range(std::string_view setting, int64_t value, int64_t lo, int64_t hi,
             std::string_view unit = "") {
    if (value >= lo && value <= hi) return;
    add(std::string(setting), std::to_string(value) + " is out of range (expected " +
                                  std::to_string(lo) + "-" + std::to_string(hi) +
                                  std::string(unit) + ")");
  }

  void text(std::string_view setting, std::string_view value, size_t max_chars,
            std::string_view rfc) {
    if (!valid_utf8(value)) {
      add(std::string(setting), "is not valid UTF-8");
      return;
    }
    const size_t chars = utf8_chars(value);
    if (chars > max_chars)
      add(std::string(setting), std::to_string(chars) + " characters, expected fewer than " +
                                    std::to_string(max_chars + 1) + " (" + std::string(rfc) + ")");
  }

  // Is ip one of the dataplane ports' own addresses?
  bool owned(const IpAddress& ip) const {
    for (const auto& port : c_.dataplane.ports)
      for (const auto& address : port.addresses)
        if (address.ip == ip) return true;
    return false;
  }

  bool is_relay_address(const IpAddress& ip) const {
    return std::find(c_.relay.addresses.begin(), c_.relay.addresses.end(), ip) !=
           c_.relay.addresses.end();
  }

  std::string relay_range() const {
    return std::to_string(c_.relay.ports.min.value) + "-" +
           std::to_string(c_.relay.ports.max.value);
  }

  void top_level() {
    if (c_.realm.empty())
      add("realm", "required, expected a non-empty string");
    else
      text("realm", c_.realm, kMaxRealmChars, "RFC 8489 §14.9");
    text("software", c_.software, kMaxSoftwareChars, "RFC 8489 §14.14");
    const AlternateServer& alt = c_.alternate_server;
    // alternate_server = "a:p" names UDP's and TCP's alike: checked once, under its own name.
    const bool one = alt.udp && alt.udp == alt.tcp && !alt.tls;
    const std::pair<const char*, ClientTransport> kinds[] = {
        {"udp", ClientTransport::udp}, {"tcp", ClientTransport::tcp}, {"tls", ClientTransport::tls}};
    for (const auto& [name, kind] : kinds) {
      const auto& address = alt.of(kind);
      if (!address || (one && kind == ClientTransport::tcp)) continue;
      const std::string setting = one ? "alternate_server" : std::string("alternate_server.") + name;
      const auto& own = listeners(kind);
      const bool own_tcp = one && std::find(c_.listen.tcp.begin(), c_.listen.tcp.end(), *address) != c_.listen.tcp.end();
      if (address->port.value == 0)
        add(setting, address->to_string() + " has port 0");
      else if (std::find(own.begin(), own.end(), *address) != own.end() || own_tcp)
        add(setting, address->to_string() + " is this server's own listener: clients would be sent back here");
    }
  }

  const std::vector<TransportAddress>& listeners(ClientTransport kind) const {
    return kind == ClientTransport::udp ? c_.listen.udp
           : kind == ClientTransport::tcp ? c_.listen.tcp
                                          : c_.listen.tls;
  }

  void listen() {
    if (c_.listen.udp.empty() && c_.listen.tcp.empty() && c_.listen.tls.empty())
      add("listen.udp", "empty: at least one listener is required");
    listeners_of("listen.udp", c_.listen.udp);
    listeners_of("listen.tcp", c_.listen.tcp);
    listeners_of("listen.tls", c_.listen.tls);
    // One kernel socket per TCP address:port: plain TCP or TLS, not both.
    for (size_t i = 0; i < c_.listen.tls.size(); ++i)
      if (std::find(c_.listen.tcp.begin(), c_.listen.tcp.end(), c_.listen.tls[i]) != c_.listen.tcp.end())
        add(indexed("listen.tls", i), c_.listen.tls[i].to_string() + " is also a listen.tcp listener");
  }

  void listeners_of(std::string_view path, const std::vector<TransportAddress>& list) {
    for (size_t i = 0; i < list.size(); ++i) {
      const auto setting = indexed(path, i);
      const auto& listener = list[i];
      if (std::find(list.begin(), list.begin() + static_cast<ptrdiff_t>(i), listener) !=
          list.begin() + static_cast<ptrdiff_t>(i)) {
        add(setting, listener.to_string() + " is listed twice");
        continue;
      }
      if (listener.port.value == 0) add(setting, listener.to_string() + " has port 0");
      if (!owned(listener.ip))
        add(setting, listener.ip.to_string() +
                         " is not an address of any dataplane port (dataplane.ports[].addresses)");
      // The relay index owns every port of the range on a relay address: a listener there would
      // be taken for an allocation's relayed transport address.
      if (is_relay_address(listener.ip) && c_.relay.ports.contains(listener.port))
        add(setting, "port " + std::to_string(listener.port.value) + " is inside relay.ports " +
                         relay_range() + " on relay address " + listener.ip.to_string());
    }
  }

  void tls() {
    if (!c_.listen.tls.empty() && c_.tls.certificates.empty())
      add("tls.certificate", "required by listen.tls: a PEM certificate chain and its private_key");
    for (size_t i = 0; i < c_.tls.certificates.size(); ++i) {
      const auto& c = c_.tls.certificates[i];
      if (c.certificate.empty()) add("tls.certificate", "empty: expected a file path");
      if (c.private_key.empty()) add("tls.private_key", "empty: expected a file path");
    }
    range("tls.session_tickets.key_lifetime", c_.tls.ticket_key_lifetime.count(), 60, 7 * 86400, " s");
  }

  void stream() {
    const Stream& s = c_.stream;
    range("stream.max_connections", s.max_connections, 1, 10'000'000);
    range("stream.max_connections_per_source", s.max_connections_per_source, 1, s.max_connections);
    range("stream.max_handshakes", s.max_handshakes, 1, s.max_connections);
    range("stream.handshake_timeout", s.handshake_timeout.count(), 1, 300, " s");
    range("stream.first_message_timeout", s.first_message_timeout.count(), 1, 300, " s");
    range("stream.idle_timeout", s.idle_timeout.count(), 1, kMaxLifetime.count(), " s");
    // RFC 8489 §6.2.2 leaves no bound but the 16-bit length; a few KiB hold every message tern
    // answers (the largest: an Allocate with every credential attribute).
    range("stream.max_message", s.max_message, 548, 65535, " bytes");
    range("stream.buffer", s.buffer, 4096, 64u << 20, " bytes");
  }

  void proxy_protocol() {
    const ProxyProtocol& pp = c_.proxy_protocol;
    for (size_t i = 0; i < pp.listeners.size(); ++i) {
      const auto& l = pp.listeners[i];
      const auto& tcp = c_.listen.tcp;
      const auto& tls = c_.listen.tls;
      if (std::find(tcp.begin(), tcp.end(), l) == tcp.end() && std::find(tls.begin(), tls.end(), l) == tls.end())
        add(indexed("proxy_protocol.listeners", i), l.to_string() + " is not a listen.tcp or listen.tls listener");
    }
    if (!pp.listeners.empty() && pp.from.empty())
      add("proxy_protocol.from",
          "required with proxy_protocol.listeners: the load balancers' prefixes (anyone else could forge client "
          "addresses)");
    range("proxy_protocol.header_timeout", pp.header_timeout.count(), 1, 60, " s");
  }

  void relay() {
    const auto& relay = c_.relay;
    if (relay.addresses.empty())
      add("relay.addresses", "empty: at least one relay address is required");
    for (size_t i = 0; i < relay.addresses.size(); ++i) {
      const auto setting = indexed("relay.addresses", i);
      const auto& ip = relay.addresses[i];
      if (std::find(relay.addresses.begin(), relay.addresses.begin() + static_cast<ptrdiff_t>(i),
                    ip) != relay.addresses.begin() + static_cast<ptrdiff_t>(i)) {
        add(setting, ip.to_string() + " is listed twice");
        continue;
      }
      if (!owned(ip))
        add(setting, ip.to_string() +
                         " is not an address of any dataplane port (dataplane.ports[].addresses)");
    }
    if (relay.ports.min.value == 0) add("relay.ports.min", "0 is not a port");
    if (relay.ports.max.value == 0) add("relay.ports.max", "0 is not a port");
    if (relay.ports.min.value > relay.ports.max.value)
      add("relay.ports", "min " + std::to_string(relay.ports.min.value) + " is greater than max " +
                             std::to_string(relay.ports.max.value));
    for (size_t i = 0; i < relay.external.size(); ++i) {
      const auto setting = indexed("relay.external", i);
      const auto& mapping = relay.external[i];
      bool seen = false;
      for (size_t k = 0; k < i; ++k) seen = seen || relay.external[k].relay == mapping.relay;
      if (seen) {
        add(setting + ".relay", mapping.relay.to_string() + " is mapped twice");
        continue;
      }
      if (!is_relay_address(mapping.relay))
        add(setting + ".relay", mapping.relay.to_string() + " is not one of relay.addresses");
      if (mapping.advertise.family() != mapping.relay.family())
        add(setting + ".advertise",
            mapping.advertise.to_string() + " is " + family_name(mapping.advertise) + ", relay " +
                mapping.relay.to_string() + " is " + family_name(mapping.relay));
    }
  }

  void auth() {
    const auto& auth = c_.auth;
    if (auth.users.empty() && auth.secrets.empty())
      add("auth", "no users and no secrets: no client could authenticate");
    std::unordered_map<std::string_view, size_t> first_user;
    for (size_t i = 0; i < auth.users.size(); ++i) {
      const auto setting = indexed("auth.users", i) + ".name";
      const auto& name = auth.users[i].name;
      if (name.empty()) {
        add(setting, "required, expected a non-empty string");
        continue;
      }
      if (!valid_utf8(name)) {
        add(setting, "is not valid UTF-8");
      } else if (name.size() > kMaxUsernameBytes) {
        add(setting, std::to_string(name.size()) + " bytes, expected fewer than " +
                         std::to_string(kMaxUsernameBytes + 1) + " (RFC 8489 §14.3)");
      }
      // Deployments list thousands of users: look names up, do not compare every pair.
      const auto [first, inserted] = first_user.try_emplace(name, i);
      if (!inserted)
        add(setting,
            name + " is defined twice (first as " + indexed("auth.users", first->second) + ")");
    }
    for (size_t i = 0; i < auth.secrets.size(); ++i)
      if (auth.secrets[i].empty()) add(indexed("auth.secrets", i), "empty secret");
    range("auth.nonce_lifetime", auth.nonce_lifetime.count(), 1, kMaxLifetime.count(), " seconds");
    range("auth.unauthenticated_rate", auth.unauthenticated_rate, 0, kMaxUnauthenticatedRate);
    range("auth.unauthenticated_burst", auth.unauthenticated_burst, 0, kMaxUnauthenticatedRate);
    if (auth.unauthenticated_rate != 0 && auth.unauthenticated_burst == 0)
      add("auth.unauthenticated_burst",
          "0 lets no unauthenticated request through (expected at least 1 when "
          "auth.unauthenticated_rate is set)");
  }

  void lifetime(std::string_view setting, std::chrono::seconds value, std::chrono::seconds least,
                std::string_view why) {
    if (value.count() >= 1 && value < least) {
      add(std::string(setting), std::to_string(value.count()) + " is shorter than " +
                                    std::to_string(least.count()) + " s, " + std::string(why));
      return;
    }
    range(setting, value.count(), least.count(), kMaxLifetime.count(), " seconds");
  }

  void lifetimes() {
    const auto& l = c_.lifetimes;
    lifetime("lifetimes.allocation_default", l.allocation_default, std::chrono::seconds{1}, "");
    lifetime("lifetimes.allocation_max", l.allocation_max, std::chrono::seconds{1}, "");
    lifetime("lifetimes.permission", l.permission, kMinPermissionLifetime,
             "the permission lifetime clients refresh against (RFC 8656 §9)");
    lifetime("lifetimes.channel", l.channel, kMinChannelLifetime,
             "the channel binding lifetime clients refresh against (RFC 8656 §12)");
    if (l.allocation_default > l.allocation_max)
      add("lifetimes.allocation_default", std::to_string(l.allocation_default.count()) +
                                              " is longer than lifetimes.allocation_max " +
                                              std::to_string(l.allocation_max.count()));
  }

  void limits() {
    const auto& limits = c_.limits;
    range("limits.total_quota", limits.total_quota, 0, kMaxTableSize);
    range("limits.allocation_pps", limits.allocation_pps, 0, kMaxAllocationPps);
    range("limits.new_peers_per_second", limits.new_peers_per_second, 0, kMaxNewPeersPerSecond);
    range("limits.new_peers_burst", limits.new_peers_burst, 0, kMaxNewPeersPerSecond);
    if (limits.new_peers_per_second != 0 && limits.new_peers_burst == 0)
      add("limits.new_peers_burst",
          "0 lets no new peer in (expected at least 1 when limits.new_peers_per_second is set)");
    range("limits.channels_per_allocation", limits.channels_per_allocation, 0, kMaxChannelsPerAllocation);
    prefixes("limits.allocations_per_address_exempt", limits.allocations_per_address_exempt, "client addresses");
    if (limits.total_quota == 0 || c_.relay.ports.size() == 0) return;
    // Every allocation holds one relay port on an address of the family it asked for, so each
    // family served must have room for the whole quota.
    for (const Family family : {Family::ipv4, Family::ipv6}) {
      const auto addresses = static_cast<uint64_t>(
          std::count_if(c_.relay.addresses.begin(), c_.relay.addresses.end(),
                        [family](const IpAddress& ip) { return ip.family() == family; }));
      if (addresses == 0) continue;
      const uint64_t capacity = addresses * c_.relay.ports.size();
      if (limits.total_quota > capacity) {
        const bool v4 = family == Family::ipv4;
        add("limits.total_quota", std::to_string(limits.total_quota) + " is more than the " +
                                      std::to_string(capacity) + " relay ports on " +
                                      (v4 ? "IPv4" : "IPv6") + " relay addresses (relay.ports " +
                                      relay_range() + " on " + std::to_string(addresses) +
                                      (addresses == 1 ? " address)" : " addresses)"));
      }
    }
  }

  // `compared`: what the list is matched against, for the message ("peers", "client addresses").
  void prefixes(std::string_view path, const std::vector<Prefix>& list, std::string_view compared = "peers") {
    static const auto kMapped = *Prefix::parse("::ffff:0:0/96");
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& prefix = list[i];
      if (prefix.base.is_v6() && prefix.length >= kMapped.length && kMapped.contains(prefix.base)) {
        const auto v4 =
            Prefix::make(prefix.base.canonical(), static_cast<uint8_t>(prefix.length - 96));
        add(indexed(path, i), prefix.to_string() +
                                  " is IPv4-mapped and never matches: " + std::string(compared) +
                                  " are compared in IPv4 form (write " +
                                  v4->to_string() + ")");
      }
    }
  }

  void peers() {
    prefixes("peers.allow", c_.peers.allow);
    prefixes("peers.deny", c_.peers.deny);
  }

  void control() {
    const auto& socket = c_.control.socket;
    if (socket.empty())
      add("control.socket", "required, expected an absolute path");
    else if (socket.front() != '/')
      add("control.socket", socket + " is not an absolute path");
    else if (socket.size() > kMaxSocketPath)
      add("control.socket", std::to_string(socket.size()) +
                                " bytes, longer than a Unix socket path can be (" +
                                std::to_string(kMaxSocketPath) + ")");
    if (c_.control.metrics && c_.control.metrics->port.value == 0)
      add("control.metrics", c_.control.metrics->to_string() + " has port 0");
  }

  void port_addresses(size_t p) {
    const auto& port = c_.dataplane.ports[p];
    const auto path = indexed("dataplane.ports", p) + ".addresses";
    if (port.addresses.empty()) add(path, "empty: a port needs at least one address");
    for (size_t i = 0; i < port.addresses.size(); ++i) {
      const auto& address = port.addresses[i];
      const auto setting = indexed(path, i);
      bool duplicate = false;
      for (size_t q = 0; q <= p && !duplicate; ++q) {
        const auto& other = c_.dataplane.ports[q].addresses;
        const size_t end = q == p ? i : other.size();
        for (size_t k = 0; k < end && !duplicate; ++k) {
          if (other[k].ip != address.ip) continue;
          add(setting, address.ip.to_string() + " is already an address of " +
                           indexed("dataplane.ports", q));
          duplicate = true;
        }
      }
      if (duplicate) continue;
      const unsigned width = address.ip.is_v4() ? 32 : 128;
      if (address.length > width) {
        add(setting, address.to_string() + ": prefix length above " + std::to_string(width));
        continue;
      }
      // IPv4 subnets of /30 and wider reserve their first and last address.
      if (address.ip.is_v4() && address.length <= 30) {
        const auto subnet = address.subnet();
        const uint32_t host_mask = ~uint32_t{0} >> address.length;
        if (address.ip == subnet.base)
          add(setting,
              address.to_string() + " is the subnet's network address, not a host address");
        else if ((address.ip.v4_host_order() & host_mask) == host_mask)
          add(setting,
              address.to_string() + " is the subnet's broadcast address, not a host address");
      }
    }
  }

  void port_gateways(size_t p) {
    static const auto kLinkLocal6 = *Prefix::parse("fe80::/10");
    const auto& port = c_.dataplane.ports[p];
    const auto setting = indexed("dataplane.ports", p) + ".gateway";
    for (size_t i = 0; i < port.gateways.size(); ++i) {
      const auto& gateway = port.gateways[i];
      bool twice = false;
      for (size_t k = 0; k < i && !twice; ++k) {
        if (port.gateways[k].family() != gateway.family()) continue;
        add(setting, "two " + family_name(gateway) + " gateways (" + port.gateways[k].to_string() +
                         ", " + gateway.to_string() + ")");
        twice = true;
      }
      if (twice) continue;
      bool on_link = gateway.is_v6() && kLinkLocal6.contains(gateway);  // IPv6 routers often are
      bool own = false;
      std::string subnets;
      for (const auto& address : port.addresses) {
        if (address.ip.family() != gateway.family()) continue;
        own = own || address.ip == gateway;
        on_link = on_link || address.subnet().contains(gateway);
        subnets += (subnets.empty() ? "" : ", ") + address.to_string();
      }
      if (own)
        add(setting, gateway.to_string() + " is this port's own address");
      else if (!on_link && subnets.empty())
        add(setting, gateway.to_string() + " is " + family_name(gateway) + " but the port has no " +
                         family_name(gateway) + " address");
      else if (!on_link)
        add(setting, gateway.to_string() + " is outside the port's subnets (" + subnets + ")");
    }
  }

  void dataplane() {
    const auto& dp = c_.dataplane;
    if (dp.ports.empty()) add("dataplane.ports", "empty: at least one port is required");
    for (size_t p = 0; p < dp.ports.size(); ++p) {
      const auto& device = dp.ports[p].device;
      const auto setting = indexed("dataplane.ports", p) + ".device";
      if (device.empty()) {
        add(setting, "required, expected a DPDK device (a PCI address or a vdev string)");
      } else {
        for (size_t q = 0; q < p; ++q) {
          if (dp.ports[q].device != device) continue;
          add(setting, device + " is already " + indexed("dataplane.ports", q));
          break;
        }
      }
      port_addresses(p);
      port_gateways(p);
    }
    range("dataplane.table_size", dp.table_size, 1, kMaxTableSize);
    if (c_.limits.total_quota != 0 && dp.table_size < c_.limits.total_quota)
      add("dataplane.table_size", std::to_string(dp.table_size) +
                                      " is smaller than limits.total_quota " +
                                      std::to_string(c_.limits.total_quota));
    range("dataplane.mbufs", dp.mbufs, kMinMbufs, kMaxMbufs);
  }

  const Config& c_;
  std::vector<Problem> problems_;
};

}  // namespace

std::vector<Problem> validate(const Config& config) { return Checker(config).run(); }

}  // namespace tern::conf
