// The operator core's half of `probe`: a short-lived credential for ternctl's test allocations,
// what the probe needs to know about the listeners and relay addresses, and what the server can
// tell about its own configuration without sending a packet. ternctl does the rest from wherever
// it runs (control/ternctl/probe.hpp).

#include <algorithm>
#include <array>

#include "conf/keys.hpp"
#include "control/operator/commands.hpp"

namespace tern::ctl {
namespace {

constexpr std::string_view kProbePrefix = "tern-probe-";

bool in_any(const IpAddress& ip, std::span<const Prefix> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const Prefix& p) { return p.contains(ip); });
}

// The peer policy of conf/config.hpp, evaluated on the configuration.
bool peer_permitted(const conf::Config& c, const IpAddress& peer) {
  const IpAddress ip = peer.canonical();
  if (in_any(ip, c.peers.allow)) return true;
  return !in_any(ip, conf::default_peer_deny()) && !in_any(ip, c.peers.deny);
}

// Private, shared or link-local space: not reachable from the Internet as it is.
bool not_public(const IpAddress& ip) {
  static const std::array<Prefix, 6> kRanges = {*Prefix::parse("10.0.0.0/8"), *Prefix::parse("172.16.0.0/12"),
                                                *Prefix::parse("192.168.0.0/16"), *Prefix::parse("100.64.0.0/10"),
                                                *Prefix::parse("169.254.0.0/16"), *Prefix::parse("fc00::/7")};
  return in_any(ip, kRanges);
}

const conf::DataplanePort* port_of(const conf::Config& c, const IpAddress& ip, size_t& index) {
  for (index = 0; index < c.dataplane.ports.size(); ++index)
    for (const auto& a : c.dataplane.ports[index].addresses)
      if (a.ip == ip) return &c.dataplane.ports[index];
  return nullptr;
}

}  // namespace

std::vector<api::Finding> OperatorCommands::findings() const {
  std::vector<api::Finding> out;
  const conf::Config& c = running_;
  if (plane_.draining())
    out.push_back({"warning", "drain",
                   "the server is draining: every new Allocate is refused (300 Try Alternate or 508), so the probe's "
                   "Allocate fails; `ternctl drain off` ends it"});
  for (const auto& l : c.listen.udp) {
    size_t index = 0;
    const auto* port = port_of(c, l.ip, index);
    const std::string check = "listener " + l.to_string();
    if (port == nullptr) {
      out.push_back({"error", check, "no data plane port has this address: nothing answers on it"});
      continue;
    }
    if (port->gateways.empty())
      out.push_back({"info", check,
                     "port " + std::to_string(index) + " has no gateway: only clients on its own subnet get "
                     "answers; anything routed from further away is dropped (drop_no_route)"});
    if (not_public(l.ip))
      out.push_back({"info", check,
                     "a private address: clients on the Internet reach it only through a NAT that forwards UDP " +
                         std::to_string(l.port.value) + " to it"});
  }
  for (const auto& r : relay_addresses()) {
    const std::string check = "relay address " + r.address.to_string();
    size_t index = 0;
    const auto* port = port_of(c, r.address, index);
    if (port == nullptr) out.push_back({"error", check, "no data plane port has this address"});
    if (not_public(r.advertised))
      out.push_back({"warning", check,
                     "clients are told the relayed address " + r.advertised.to_string() +
                         ", a private address: relay candidates work only for peers inside that network; behind "
                         "a 1:1 NAT set relay.external"});
    if (!peer_permitted(c, r.advertised))
      out.push_back({"warning", check,
                     "the peer policy denies " + r.advertised.to_string() +
                         ": two clients of this server cannot reach each other through their relayed addresses "
                         "(CreatePermission gets 403); allow it in peers.allow"});
  }
  const uint64_t ports = uint64_t{c.relay.ports.size()} * c.relay.addresses.size();
  if (ports < c.dataplane.table_size)
    out.push_back({"info", "relay.ports",
                   std::to_string(c.relay.ports.size()) + " relay ports on " + std::to_string(c.relay.addresses.size()) +
                       " address(es) hold at most " + std::to_string(ports) + " allocations (table_size " +
                       std::to_string(c.dataplane.table_size) + "); more get 508"});
  return out;
}

api::Result<api::ProbeReply> OperatorCommands::handle(const api::ProbeRequest&, const Caller& caller, Now now) {
  if (probes_.size() >= kMaxProbes)
    return api::Error{api::ErrorCode::busy, std::to_string(kMaxProbes) + " probes are running; try again in a minute"};
  std::array<uint8_t, 4> tag{};
  std::array<uint8_t, 18> secret{};
  if (!crypto::random_bytes(tag) || !crypto::random_bytes(secret))
    return api::Error{api::ErrorCode::failed, "no random bytes for a probe credential"};

  ProbeUser p;
  p.name = std::string(kProbePrefix) + conf::to_hex(tag);
  const std::string password = conf::to_hex(secret);
  const std::string& realm = plane_.settings().realm;
  p.user.name = p.name;
  p.user.key_md5 = conf::md5_key(engine_, p.name, realm, password);
  p.user.key_sha256 = conf::sha256_key(engine_, p.name, realm, password);
  p.expires = now.mono + kProbeLifetime;
  plane_.add_user(p.user);
  probes_.push_back(p);
  audit("probe", caller, [&](LogLine& l) { l.kv("user", p.name).kv("expires_in", kProbeLifetime); });

  api::ProbeReply r;
  r.credential = {p.name, password, realm, kProbeLifetime};
  r.listeners = running_.listen.udp;
  stream_listeners(r.stream_listeners, r.certificate_expires);
  r.relay = relay_addresses();
  r.relay_port_min = running_.relay.ports.min.value;
  r.relay_port_max = running_.relay.ports.max.value;
  r.draining = plane_.draining();
  r.findings = findings();
  return r;
}

api::Result<api::ProbeDoneReply> OperatorCommands::handle(const api::ProbeDoneRequest& req, const Caller& caller, Now) {
  const auto it = std::find_if(probes_.begin(), probes_.end(), [&](const auto& p) { return p.name == req.username; });
  if (it == probes_.end()) return api::not_found("no probe credential " + req.username);
  api::ProbeDoneReply r;
  r.removed = true;
  r.killed = static_cast<uint32_t>(retire_probe(static_cast<size_t>(it - probes_.begin())));
  audit("probe.done", caller, [&](LogLine& l) {
    l.kv("user", req.username).kv("killed", r.killed);
    if (req.failures) l.kv("failures", *req.failures);
    if (req.warnings) l.kv("warnings", *req.warnings);
  });
  return r;
}

size_t OperatorCommands::retire_probe(size_t index) {
  const std::string name = probes_[index].name;
  probes_.erase(probes_.begin() + static_cast<std::ptrdiff_t>(index));
  const size_t killed = plane_.kill_user(name);
  plane_.remove_user(name);
  return killed;
}

void OperatorCommands::restore_probe_users() {
  for (const auto& p : probes_) plane_.add_user(p.user);
}

}  // namespace tern::ctl
