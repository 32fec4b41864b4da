#include "conf/decode.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

#include "conf/keys.hpp"
#include "conf/suggest.hpp"

namespace tern::conf {
namespace {

using libconfig::Setting;
using Names = std::span<const std::string_view>;

constexpr std::array<std::string_view, 16> kRootNames = {
    "realm",  "software", "alternate_server", "listen", "tls",       "stream",
    "proxy_protocol", "relay", "auth", "lifetimes", "limits", "peers",
    "control", "log", "compat", "dataplane"};
constexpr std::array<std::string_view, 3> kListenNames = {"udp", "tcp", "tls"};
constexpr std::array<std::string_view, 3> kAlternateNames = {"udp", "tcp", "tls"};
constexpr std::array<std::string_view, 7> kTlsNames = {
    "certificate", "private_key", "certificates", "min_version", "ciphers", "ciphersuites", "session_tickets"};
constexpr std::array<std::string_view, 2> kTlsCertificateNames = {"certificate", "private_key"};
constexpr std::array<std::string_view, 8> kStreamNames = {
    "max_connections", "max_connections_per_source", "max_handshakes", "handshake_timeout",
    "first_message_timeout", "idle_timeout", "max_message", "buffer"};
constexpr std::array<std::string_view, 3> kProxyProtocolNames = {"listeners", "from", "header_timeout"};
constexpr std::array<std::string_view, 3> kRelayNames = {"addresses", "ports", "external"};
constexpr std::array<std::string_view, 2> kPortRangeNames = {"min", "max"};
constexpr std::array<std::string_view, 2> kExternalNames = {"relay", "advertise"};
constexpr std::array<std::string_view, 5> kAuthNames = {
    "users", "secrets", "nonce_lifetime", "unauthenticated_rate", "unauthenticated_burst"};
constexpr std::array<std::string_view, 4> kUserNames = {"name", "password", "key", "key_sha256"};
constexpr std::array<std::string_view, 4> kLifetimeNames = {"allocation_default", "allocation_max",
                                                            "permission", "channel"};
constexpr std::array<std::string_view, 10> kLimitNames = {
    "user_quota", "total_quota", "max_bps", "allocation_pps", "new_peers_per_second", "new_peers_burst",
    "permissions_per_allocation", "channels_per_allocation", "allocations_per_address",
    "allocations_per_address_exempt"};
constexpr std::array<std::string_view, 2> kPeerNames = {"allow", "deny"};
constexpr std::array<std::string_view, 2> kControlNames = {"socket", "metrics"};
constexpr std::array<std::string_view, 2> kLogNames = {"level", "syslog"};
constexpr std::array<std::string_view, 1> kCompatNames = {"rfc5766_channels"};
constexpr std::array<std::string_view, 4> kDataplaneNames = {"eal", "ports", "table_size", "mbufs"};
constexpr std::array<std::string_view, 3> kPortNames = {"device", "addresses", "gateway"};

std::string_view type_name(Setting::Type type) {
  switch (type) {
    case Setting::TypeInt:
    case Setting::TypeInt64: return "an integer";
    case Setting::TypeFloat: return "a number with a fraction";
    case Setting::TypeString: return "a string";
    case Setting::TypeBoolean: return "a boolean";
    case Setting::TypeGroup: return "a group { ... }";
    case Setting::TypeArray: return "an array [ ... ]";
    case Setting::TypeList: return "a list ( ... )";
    case Setting::TypeNone: break;
  }
  return "nothing";
}

// A string value as it appears in a message: quoted, control bytes escaped.
std::string quoted(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte < 0x20 || byte == 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A setting and the path it is reported under ("relay.ports.max", "auth.users[1].name").
struct Node {
  const Setting* s;
  std::string path;

  unsigned line() const { return s->getSourceLine(); }
  Setting::Type type() const { return s->getType(); }
};

// An integer as the operator wrote it: text is what messages quote; value saturates at the
// 64-bit limits, where `beyond_64_bits` tells the saturated from the real.
struct Integer {
  int64_t value = 0;
  std::string text;
  bool beyond_64_bits = false;
};

class Decoder {
 public:
  Decoder(const SourceScan& scan, crypto::Engine& engine, std::vector<LocatedError>& errors)
      : scan_(scan), wide_used_(scan.wide.size(), false), engine_(engine), errors_(errors) {}

  bool run(const Setting& root, Config& c) {
    const size_t before = errors_.size();
    top(Node{&root, ""}, c);
    return errors_.size() == before;
  }

 private:
  // ---- reporting -------------------------------------------------------------------------------

  void error(const Node& n, std::string_view message) {
    errors_.push_back({n.line(), n.path + ": " + std::string(message)});
  }

  void wrong_type(const Node& n, std::string_view expected) {
    error(n, "expected " + std::string(expected) + ", found " + std::string(type_name(n.type())));
  }

  // ---- structure -------------------------------------------------------------------------------

  static std::string child_path(std::string_view parent, std::string_view name) {
    return parent.empty() ? std::string(name) : std::string(parent) + "." + std::string(name);
  }

  static std::optional<Node> child(const Node& group, const char* name) {
    if (!group.s->exists(name)) return std::nullopt;
    return Node{&(*group.s)[name], child_path(group.path, name)};
  }

  void missing(const Node& group, std::string_view name, std::string_view expected) {
    error(Node{group.s, child_path(group.path, name)},
          "required, expected " + std::string(expected));
  }

  bool is_group(const Node& n) {
    if (n.type() == Setting::TypeGroup) return true;
    wrong_type(n, "a group { ... }");
    return false;
  }

  // Reports every member of `group` whose name is not one of `names`.
  void known(const Node& group, Names names) {
    for (int i = 0; i < group.s->getLength(); ++i) {
      const Setting& member = (*group.s)[i];
      const std::string_view name = member.getName() ? member.getName() : "";
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      std::string message = "unknown setting";
      if (const auto guess = closest_name(name, names))
        message += " (did you mean " + child_path(group.path, *guess) + "?)";
      error(Node{&member, child_path(group.path, name)}, message);
    }
  }

  // Calls each(element) for every element of an array or list.
  void elements(const Node& n, const std::function<void(const Node&)>& each) {
    if (n.type() != Setting::TypeArray && n.type() != Setting::TypeList) {
      wrong_type(n, "a list [ ... ]");
      return;
    }
    for (int i = 0; i < n.s->getLength(); ++i)
      each(Node{&(*n.s)[i], n.path + "[" + std::to_string(i) + "]"});
  }

  // Calls each(element) for every element of a list of groups ( { ... }, { ... } ).
  void groups(const Node& n, Names names, const std::function<void(const Node&)>& each) {
    if (n.type() != Setting::TypeList && n.type() != Setting::TypeArray) {
      wrong_type(n, "a list of groups ( { ... } )");
      return;
    }
    for (int i = 0; i < n.s->getLength(); ++i) {
      const Node element{&(*n.s)[i], n.path + "[" + std::to_string(i) + "]"};
      if (!is_group(element)) continue;
      known(element, names);
      each(element);
    }
  }

  // Calls each(element, text) for every string of a list of strings.
  void strings(const Node& n, const std::function<void(const Node&, const std::string&)>& each) {
    elements(n, [&](const Node& element) {
      if (const auto text = string(element)) each(element, *text);
    });
  }

  // ---- scalars ---------------------------------------------------------------------------------

  std::optional<std::string> string(const Node& n) {
    if (n.type() != Setting::TypeString) {
      wrong_type(n, "a string");
      return std::nullopt;
    }
    return std::string(n.s->c_str());
  }

  std::optional<bool> boolean(const Node& n) {
    if (n.type() != Setting::TypeBoolean) {
      wrong_type(n, "a boolean (true or false)");
      return std::nullopt;
    }
    return static_cast<bool>(*n.s);
  }

  // libconfig keeps only the low 32 bits of an unsuffixed literal that does not fit them; the
  // source scan knows what was written (conf/scan.hpp).
  std::optional<Integer> integer(const Node& n) {
    int64_t read = 0;
    bool suffixed = false;
    if (n.type() == Setting::TypeInt) {
      read = static_cast<int>(*n.s);
    } else if (n.type() == Setting::TypeInt64) {
      read = static_cast<long long>(*n.s);
      suffixed = true;
    } else {
      wrong_type(n, "an integer");
      return std::nullopt;
    }
    for (size_t i = 0; i < scan_.wide.size(); ++i) {
      const auto& wide = scan_.wide[i];
      if (wide_used_[i] || wide.line != n.line() || wide.suffixed != suffixed ||
          wide.as_read != read)
        continue;
      wide_used_[i] = true;
      const bool negative = !wide.text.empty() && wide.text.front() == '-';
      const int64_t value = wide.value ? *wide.value
                            : negative ? std::numeric_limits<int64_t>::min()
                                       : std::numeric_limits<int64_t>::max();
      return Integer{value, wide.text, !wide.value};
    }
    return Integer{read, std::to_string(read), false};
  }

  void port(const Node& n, Port& out) {
    const auto number = integer(n);
    if (!number) return;
    if (number->value < 0 || number->value > 65535) {
      error(n, number->text + " is not a port");
      return;
    }
    out = Port{static_cast<uint16_t>(number->value)};
  }

  std::optional<uint64_t> unsigned_integer(const Node& n, uint64_t max) {
    const auto number = integer(n);
    if (!number) return std::nullopt;
    if (number->value < 0) {
      error(n, number->text + " is negative");
      return std::nullopt;
    }
    if (static_cast<uint64_t>(number->value) > max || number->beyond_64_bits) {
      error(n, number->text + " is too large (at most " + std::to_string(max) + ")");
      return std::nullopt;
    }
    return static_cast<uint64_t>(number->value);
  }

  void count(const Node& n, uint32_t& out) {
    if (const auto v = unsigned_integer(n, std::numeric_limits<uint32_t>::max()))
      out = static_cast<uint32_t>(*v);
  }

  void count64(const Node& n, uint64_t& out) {
    if (const auto v = unsigned_integer(n, std::numeric_limits<int64_t>::max())) out = *v;
  }

  void seconds(const Node& n, std::chrono::seconds& out) {
    if (const auto v = unsigned_integer(n, std::numeric_limits<uint32_t>::max()))
      out = std::chrono::seconds{static_cast<int64_t>(*v)};
  }

  // ---- network values --------------------------------------------------------------------------

  std::optional<IpAddress> ip(const Node& n, const std::string& text) {
    const auto ip = IpAddress::parse(text);
    if (!ip) error(n, quoted(text) + " is not an IP address");
    return ip;
  }

  std::optional<IpAddress> ip(const Node& n) {
    const auto text = string(n);
    return text ? ip(n, *text) : std::nullopt;
  }

  std::optional<TransportAddress> transport(const Node& n, const std::string& text) {
    const auto address = TransportAddress::parse(text);
    if (!address)
      error(n, quoted(text) +
                   " is not a transport address (expected address:port, [IPv6 address]:port)");
    return address;
  }

  std::optional<Prefix> prefix(const Node& n, const std::string& text) {
    const auto prefix = Prefix::parse(text);
    if (!prefix) {
      error(n, quoted(text) + " is not a prefix (expected address/length, e.g. 10.0.0.0/8)");
      return std::nullopt;
    }
    if (IpAddress::parse(std::string_view(text).substr(0, text.find('/'))) != prefix->base) {
      error(n, quoted(text) + " has host bits set (did you mean " + prefix->to_string() + "?)");
      return std::nullopt;
    }
    return prefix;
  }

  // ---- sections --------------------------------------------------------------------------------

  void top(const Node& root, Config& c) {
    known(root, kRootNames);
    if (const auto n = child(root, "realm"))
      if (const auto v = string(*n)) c.realm = *v;
    if (const auto n = child(root, "software"))
      if (const auto v = string(*n)) c.software = *v;
    if (const auto n = child(root, "alternate_server")) alternate_server(*n, c.alternate_server);
    if (const auto n = child(root, "listen")) listen(*n, c.listen);
    if (const auto n = child(root, "tls")) tls(*n, c.tls);
    if (const auto n = child(root, "stream")) stream(*n, c.stream);
    if (const auto n = child(root, "proxy_protocol")) proxy_protocol(*n, c.proxy_protocol);
    if (const auto n = child(root, "relay")) relay(*n, c.relay);
    if (const auto n = child(root, "auth")) auth(*n, c.realm, c.auth);
    if (const auto n = child(root, "lifetimes")) lifetimes(*n, c.lifetimes);
    if (const auto n = child(root, "limits")) limits(*n, c.limits);
    if (const auto n = child(root, "peers")) peers(*n, c.peers);
    if (const auto n = child(root, "control")) control(*n, c.control);
    if (const auto n = child(root, "log")) log(*n, c.log);
    if (const auto n = child(root, "compat")) compat(*n, c.compat);
    if (const auto n = child(root, "dataplane")) dataplane(*n, c.dataplane);
  }

  void transports(const Node& n, const char* name, std::vector<TransportAddress>& out) {
    if (const auto list = child(n, name))
      strings(*list, [&](const Node& e, const std::string& text) {
        if (const auto address = transport(e, text)) out.push_back(*address);
      });
  }

  void listen(const Node& n, Listen& out) {
    if (!is_group(n)) return;
    known(n, kListenNames);
    transports(n, "udp", out.udp);
    transports(n, "tcp", out.tcp);
    transports(n, "tls", out.tls);
  }

  // A string names the UDP and the TCP alternate (one address:port usually serves both); a
  // group names each transport's.
  void alternate_server(const Node& n, AlternateServer& out) {
    if (n.type() == Setting::TypeString) {
      if (const auto v = string(n)) out.udp = out.tcp = transport(n, *v);
      return;
    }
    if (!is_group(n)) return;
    known(n, kAlternateNames);
    for (const auto& [name, slot] : {std::pair{"udp", &out.udp}, {"tcp", &out.tcp}, {"tls", &out.tls}})
      if (const auto e = child(n, name))
        if (const auto v = string(*e)) *slot = transport(*e, *v);
  }

  void tls(const Node& n, Tls& out) {
    if (!is_group(n)) return;
    known(n, kTlsNames);
    const auto pair = [&](const Node& group) {
      TlsCertificate c;
      c.line = group.line();
      const auto certificate = child(group, "certificate");
      const auto key = child(group, "private_key");
      if (!certificate) missing(group, "certificate", "a PEM certificate chain file");
      if (!key) missing(group, "private_key", "the PEM private key file of that certificate");
      if (certificate)
        if (const auto v = string(*certificate)) c.certificate = *v, c.line = certificate->line();
      if (key)
        if (const auto v = string(*key)) c.private_key = *v;
      if (certificate && key) out.certificates.push_back(std::move(c));
    };
    if (child(n, "certificate") || child(n, "private_key")) pair(n);
    if (const auto list = child(n, "certificates"))
      groups(*list, kTlsCertificateNames, [&](const Node& e) { pair(e); });
    if (const auto v = child(n, "min_version"))
      if (const auto s = string(*v)) {
        if (*s == "1.2" || *s == "1.3")
          out.min_version = *s;
        else
          error(*v, quoted(*s) + " is not a TLS version tern offers (expected \"1.2\" or \"1.3\")");
      }
    if (const auto v = child(n, "ciphers"))
      if (const auto s = string(*v)) out.ciphers = *s;
    if (const auto v = child(n, "ciphersuites"))
      if (const auto s = string(*v)) out.ciphersuites = *s;
    if (const auto v = child(n, "session_tickets")) {
      if (v->type() == Setting::TypeBoolean) {
        if (const auto b = boolean(*v)) out.session_tickets = *b;
      } else if (is_group(*v)) {
        // session_tickets = { key_lifetime = 43200; } turns them on with a rotation period.
        known(*v, std::array<std::string_view, 1>{"key_lifetime"});
        out.session_tickets = true;
        if (const auto k = child(*v, "key_lifetime")) seconds(*k, out.ticket_key_lifetime);
      }
    }
  }

  void stream(const Node& n, Stream& out) {
    if (!is_group(n)) return;
    known(n, kStreamNames);
    if (const auto v = child(n, "max_connections")) count(*v, out.max_connections);
    if (const auto v = child(n, "max_connections_per_source")) count(*v, out.max_connections_per_source);
    if (const auto v = child(n, "max_handshakes")) count(*v, out.max_handshakes);
    if (const auto v = child(n, "handshake_timeout")) seconds(*v, out.handshake_timeout);
    if (const auto v = child(n, "first_message_timeout")) seconds(*v, out.first_message_timeout);
    if (const auto v = child(n, "idle_timeout")) seconds(*v, out.idle_timeout);
    if (const auto v = child(n, "max_message")) count(*v, out.max_message);
    if (const auto v = child(n, "buffer")) count(*v, out.buffer);
  }

  void proxy_protocol(const Node& n, ProxyProtocol& out) {
    if (!is_group(n)) return;
    known(n, kProxyProtocolNames);
    transports(n, "listeners", out.listeners);
    if (const auto from = child(n, "from"))
      strings(*from, [&](const Node& e, const std::string& text) {
        if (const auto p = prefix(e, text)) out.from.push_back(*p);
      });
    if (const auto v = child(n, "header_timeout")) seconds(*v, out.header_timeout);
  }

  void relay(const Node& n, Relay& out) {
    if (!is_group(n)) return;
    known(n, kRelayNames);
    if (const auto addresses = child(n, "addresses"))
      strings(*addresses, [&](const Node& e, const std::string& text) {
        if (const auto address = ip(e, text)) out.addresses.push_back(*address);
      });
    if (const auto ports = child(n, "ports"); ports && is_group(*ports)) {
      known(*ports, kPortRangeNames);
      if (const auto min = child(*ports, "min")) port(*min, out.ports.min);
      if (const auto max = child(*ports, "max")) port(*max, out.ports.max);
    }
    if (const auto external = child(n, "external"))
      groups(*external, kExternalNames, [&](const Node& e) {
        const auto relay = child(e, "relay");
        const auto advertise = child(e, "advertise");
        if (!relay) missing(e, "relay", "one of relay.addresses");
        if (!advertise) missing(e, "advertise", "the address clients are given");
        const auto relay_ip = relay ? ip(*relay) : std::nullopt;
        const auto advertise_ip = advertise ? ip(*advertise) : std::nullopt;
        if (relay_ip && advertise_ip) out.external.push_back({*relay_ip, *advertise_ip});
      });
  }

  void user(const Node& n, std::string_view realm, std::vector<User>& users) {
    User u;
    if (const auto name = child(n, "name"))
      if (const auto v = string(*name)) u.name = *v;
    const auto password = child(n, "password");
    const auto key = child(n, "key");
    const auto key_sha256 = child(n, "key_sha256");
    if (password && key) error(n, "password and key both given: give one");
    if (!password && !key) error(n, "neither password nor key given: give one");
    if (password && key_sha256) error(*key_sha256, "goes with key: a password gives both keys");
    if (password && !key) {
      if (const auto v = string(*password)) {
        if (v->empty()) error(*password, "empty password");
        // RFC 8489 §9.2.2: only the keys are kept.
        u.key_md5 = md5_key(engine_, u.name, realm, *v);
        u.key_sha256 = sha256_key(engine_, u.name, realm, *v);
      }
    } else if (key && !password) {
      if (const auto v = string(*key); v && !parse_hex(*v, u.key_md5))
        error(*key, quoted(*v) + " is not an MD5 key (expected 32 hex digits)");
      if (key_sha256) {
        Sha256Key k{};
        if (const auto v = string(*key_sha256)) {
          if (parse_hex(*v, k))
            u.key_sha256 = k;
          else
            error(*key_sha256, quoted(*v) + " is not a SHA-256 key (expected 64 hex digits)");
        }
      }
    }
    users.push_back(std::move(u));
  }

  void auth(const Node& n, std::string_view realm, Auth& out) {
    if (!is_group(n)) return;
    known(n, kAuthNames);
    if (const auto users = child(n, "users"))
      groups(*users, kUserNames, [&](const Node& e) { user(e, realm, out.users); });
    if (const auto secrets = child(n, "secrets"))
      strings(*secrets, [&](const Node&, const std::string& text) { out.secrets.push_back(text); });
    if (const auto v = child(n, "nonce_lifetime")) seconds(*v, out.nonce_lifetime);
    if (const auto v = child(n, "unauthenticated_rate")) count(*v, out.unauthenticated_rate);
    if (const auto v = child(n, "unauthenticated_burst")) count(*v, out.unauthenticated_burst);
  }

  void lifetimes(const Node& n, Lifetimes& out) {
    if (!is_group(n)) return;
    known(n, kLifetimeNames);
    if (const auto v = child(n, "allocation_default")) seconds(*v, out.allocation_default);
    if (const auto v = child(n, "allocation_max")) seconds(*v, out.allocation_max);
    if (const auto v = child(n, "permission")) seconds(*v, out.permission);
    if (const auto v = child(n, "channel")) seconds(*v, out.channel);
  }

  void limits(const Node& n, Limits& out) {
    if (!is_group(n)) return;
    known(n, kLimitNames);
    if (const auto v = child(n, "user_quota")) count(*v, out.user_quota);
    if (const auto v = child(n, "total_quota")) count(*v, out.total_quota);
    if (const auto v = child(n, "max_bps")) count64(*v, out.max_bps);
    if (const auto v = child(n, "allocation_pps")) count(*v, out.allocation_pps);
    if (const auto v = child(n, "new_peers_per_second")) count(*v, out.new_peers_per_second);
    if (const auto v = child(n, "new_peers_burst")) count(*v, out.new_peers_burst);
    if (const auto v = child(n, "permissions_per_allocation")) count(*v, out.permissions_per_allocation);
    if (const auto v = child(n, "channels_per_allocation")) count(*v, out.channels_per_allocation);
    if (const auto v = child(n, "allocations_per_address")) count(*v, out.allocations_per_address);
    if (const auto l = child(n, "allocations_per_address_exempt"))
      strings(*l, [&](const Node& e, const std::string& text) {
        if (const auto p = prefix(e, text)) out.allocations_per_address_exempt.push_back(*p);
      });
  }

  void peers(const Node& n, Peers& out) {
    if (!is_group(n)) return;
    known(n, kPeerNames);
    const auto list = [&](const char* name, std::vector<Prefix>& into) {
      if (const auto l = child(n, name))
        strings(*l, [&](const Node& e, const std::string& text) {
          if (const auto p = prefix(e, text)) into.push_back(*p);
        });
    };
    list("allow", out.allow);
    list("deny", out.deny);
  }

  void control(const Node& n, Control& out) {
    if (!is_group(n)) return;
    known(n, kControlNames);
    if (const auto socket = child(n, "socket"))
      if (const auto v = string(*socket)) out.socket = *v;
    if (const auto metrics = child(n, "metrics")) {
      if (const auto v = string(*metrics)) {
        out.metrics.reset();  // "" turns the endpoint off
        if (!v->empty()) out.metrics = transport(*metrics, *v);
      }
    }
  }

  void log(const Node& n, Log& out) {
    if (!is_group(n)) return;
    known(n, kLogNames);
    if (const auto level = child(n, "level")) {
      if (const auto v = string(*level)) {
        if (const auto parsed = parse_log_level(*v))
          out.level = *parsed;
        else
          error(*level,
                quoted(*v) + " is not a level (expected debug, info, notice, warning or error)");
      }
    }
    if (const auto syslog = child(n, "syslog"))
      if (const auto v = boolean(*syslog)) out.syslog = *v;
  }

  void compat(const Node& n, Compat& out) {
    if (!is_group(n)) return;
    known(n, kCompatNames);
    if (const auto channels = child(n, "rfc5766_channels"))
      if (const auto v = boolean(*channels)) out.rfc5766_channels = *v;
  }

  void dataplane_port(const Node& n, std::vector<DataplanePort>& ports) {
    DataplanePort port;
    if (const auto device = child(n, "device"))
      if (const auto v = string(*device)) port.device = *v;
    if (const auto addresses = child(n, "addresses"))
      strings(*addresses, [&](const Node& e, const std::string& text) {
        if (const auto a = InterfaceAddress::parse(text))
          port.addresses.push_back(*a);
        else
          error(e, quoted(text) +
                       " is not an interface address (expected address/length, e.g. 10.90.0.1/24)");
      });
    if (const auto gateway = child(n, "gateway")) {
      if (gateway->type() == Setting::TypeString) {
        if (const auto g = ip(*gateway)) port.gateways.push_back(*g);
      } else if (gateway->type() == Setting::TypeArray || gateway->type() == Setting::TypeList) {
        strings(*gateway, [&](const Node& e, const std::string& text) {
          if (const auto g = ip(e, text)) port.gateways.push_back(*g);
        });
      } else {
        wrong_type(*gateway, "an IP address or a list of them");
      }
    }
    ports.push_back(std::move(port));
  }

  void dataplane(const Node& n, Dataplane& out) {
    if (!is_group(n)) return;
    known(n, kDataplaneNames);
    if (const auto eal = child(n, "eal"))
      strings(*eal, [&](const Node&, const std::string& text) { out.eal.push_back(text); });
    if (const auto ports = child(n, "ports"))
      groups(*ports, kPortNames, [&](const Node& e) { dataplane_port(e, out.ports); });
    if (const auto v = child(n, "table_size")) count(*v, out.table_size);
    if (const auto v = child(n, "mbufs")) count(*v, out.mbufs);
  }

  const SourceScan& scan_;
  std::vector<bool> wide_used_;
  crypto::Engine& engine_;
  std::vector<LocatedError>& errors_;
};

}  // namespace

bool decode(const Setting& root, const SourceScan& scan, crypto::Engine& engine, Config& config,
            std::vector<LocatedError>& errors) {
  return Decoder(scan, engine, errors).run(root, config);
}

}  // namespace tern::conf
