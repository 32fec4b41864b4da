#include "control/ternctl/probe.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

#include "control/ternctl/turn_client.hpp"

namespace tern::ctl::ternctl {
namespace {

constexpr uint32_t kLifetime = 60;  // seconds asked for the probe's allocations

constexpr const char* kNothingAnswers =
    "nothing answered over UDP. Usually: the address is not routed to this server, or the NIC that carries it is "
    "not the port tern drives (dataplane.ports: device and addresses); the port's link is down or the NIC is not "
    "bound to vfio-pci; a firewall or security group drops the UDP port; the client-facing port has no gateway "
    "towards this host's network. Clients stay in ICE gathering and get no candidate from this server";
constexpr const char* kNoRoute =
    "this host has no route to the listener: run the probe from where clients are (or a host that can reach it)";
constexpr const char* kAllocateSilent =
    "the Binding was answered by the workers but the Allocate was not: the control plane did not answer (see "
    "`ternctl stats`: drop_punt_ring_full, unauthenticated_rate_limited) or its answer could not be routed back "
    "(ternctl stats, control I/O: send_no_route, held_expired, held_overflow)";
constexpr const char* kHairpin =
    "the workers did not carry a Send indication from one allocation to the other's relayed address. With "
    "relay.external the packet leaves through the NAT and must come back (NAT hairpinning); otherwise see "
    "`ternctl stats` drop_* counters and `ternctl trace` of the relayed address. Two clients of this server "
    "will not reach each other";
constexpr const char* kPeerUnreachable =
    "a datagram from this host to the relayed address did not reach the allocation. Expected when this host is "
    "not on a network peers use (run the probe from such a host). Otherwise: the relay address is not routed to "
    "this server's peer-facing port, a firewall drops UDP to relay.ports, or relay.external advertises an address "
    "whose NAT does not forward to the relay address. Peers' media would not arrive";

std::string meaning_of(int code) {
  switch (code) {
    case 300: return "the server is draining and sends clients to its alternate server (ternctl drain off)";
    case 401: return "the probe's credential was refused: the realm or the key does not match (a reload changed "
                     "the realm without a restart?)";
    case 403: return "forbidden by the server's policy";
    case 437: return "an allocation already exists for this 5-tuple";
    case 438: return "the nonce went stale twice: the server's clock jumped?";
    case 486: return "a quota is reached (limits.user_quota / limits.total_quota)";
    case 508: return "no capacity: the relay ports (relay.ports x relay.addresses) or the allocation table "
                     "(dataplane.table_size) are exhausted, or the server is draining without an alternate server";
    default: return "the server refused with error " + std::to_string(code);
  }
}

class Run {
 public:
  Run(const api::ProbeReply& plan, crypto::Engine& engine, const ProbeOptions& options)
      : plan_(plan), engine_(engine), options_(options) {}

  api::ProbeReport report() {
    report_.findings = plan_.findings;
    if (plan_.listeners.empty()) step("server", "listeners", "fail", "the server has no listener", {});
    for (const auto& l : plan_.listeners) probe(l);
    report_.ok = report_.failures == 0;
    return report_;
  }

 private:
  void step(const std::string& target, std::string name, std::string status, std::string detail,
            std::optional<std::string> meaning) {
    if (status == "fail") ++report_.failures;
    if (status == "warning") ++report_.warnings;
    report_.steps.push_back({target, std::move(name), std::move(status), std::move(detail), std::move(meaning)});
  }

  std::unique_ptr<TurnClient> client(const TransportAddress& listener) {
    std::string error;
    auto socket = UdpSocket::open(listener.ip.family(), error);
    if (!socket) return nullptr;
    auto c = std::make_unique<TurnClient>(listener, engine_, std::move(socket));
    c->set_credentials(plan_.credential.username, plan_.credential.password, plan_.credential.realm);
    return c;
  }

  bool advertised(const IpAddress& ip) const {
    return std::any_of(plan_.relay.begin(), plan_.relay.end(), [&](const auto& r) { return r.advertised == ip; });
  }

  std::optional<TransportAddress> allocate(const std::string& target, TurnClient& c, const char* name) {
    const StunAnswer a = c.allocate(kLifetime);
    if (a.code() == -1) {
      step(target, name, "fail", "no answer to an authenticated Allocate", kAllocateSilent);
      return std::nullopt;
    }
    if (!a.success()) {
      step(target, name, "fail", "answered " + std::to_string(a.code()), meaning_of(a.code()));
      return std::nullopt;
    }
    const auto relayed = stun::xor_relayed_address(a.msg());
    if (!relayed) {
      step(target, name, "fail", "success without XOR-RELAYED-ADDRESS", "the server's answer is malformed");
      return std::nullopt;
    }
    if (!c.verifies(a)) step(target, name, "warning", "the answer's MESSAGE-INTEGRITY does not verify", std::nullopt);
    const bool in_range = relayed->port.value >= plan_.relay_port_min && relayed->port.value <= plan_.relay_port_max;
    if (!advertised(relayed->ip) || !in_range) {
      step(target, name, "fail", "relayed address " + relayed->to_string() + " is not an advertised relay address and port",
           "the server hands out an address clients cannot use: check relay.addresses, relay.ports and relay.external");
      return std::nullopt;
    }
    char rtt[32];
    std::snprintf(rtt, sizeof rtt, "%.1f ms", a.rtt_ms);
    step(target, name, "ok", "relayed address " + relayed->to_string() + " in " + rtt, std::nullopt);
    return *relayed;
  }

  void probe(const TransportAddress& listener) {
    const std::string target = "listener " + listener.to_string();
    auto a = client(listener);
    auto b = client(listener);
    if (!a || !b) {
      step(target, "socket", "fail", "cannot open a UDP socket here", std::nullopt);
      return;
    }
    std::string error;
    const auto local = a->socket().local_towards(listener, error);
    if (!local) {
      step(target, "route", "fail", "no route from here: " + error, kNoRoute);
      return;
    }

    // 1. Binding: the workers answer it inline.
    const StunAnswer binding = a->binding();
    if (!binding.success()) {
      step(target, "binding", "fail",
           binding.present() ? "answered " + std::to_string(binding.code()) : "no answer from " + local->ip.to_string(),
           kNothingAnswers);
      return;
    }
    const auto mapped = stun::xor_mapped_address(binding.msg());
    char rtt[32];
    std::snprintf(rtt, sizeof rtt, "%.1f ms", binding.rtt_ms);
    std::string detail = std::string("answered in ") + rtt;
    if (mapped) detail += ", mapped address " + mapped->to_string() +
                          (mapped->ip == local->ip ? " (no NAT between here and the server)" : " (a NAT is between here and the server)");
    step(target, "binding", "ok", detail, std::nullopt);

    // 2. Allocate without credentials: the control plane's 401 with realm and nonce.
    const StunAnswer challenge = a->allocate_unauthenticated();
    if (challenge.code() == 401 && !a->server_realm().empty()) {
      const bool same = a->server_realm() == plan_.credential.realm;
      step(target, "challenge", same ? "ok" : "warning", "401 with realm \"" + a->server_realm() + "\" and a nonce",
           same ? std::nullopt : std::optional<std::string>("the realm differs from the server's own"));
    } else if (challenge.code() == -1) {
      step(target, "challenge", "fail", "no answer to an Allocate without credentials", kAllocateSilent);
      return;
    } else {
      step(target, "challenge", "fail", "answered " + std::to_string(challenge.code()) + " instead of 401",
           meaning_of(challenge.code()));
      return;
    }

    // 3. Two allocations.
    const auto relayed_a = allocate(target, *a, "allocate");
    if (!relayed_a) return;
    const auto relayed_b = allocate(target, *b, "second allocate");
    if (relayed_b) hairpin(target, *a, *b, *relayed_a, *relayed_b);
    from_peer(target, *a, *relayed_a);

    // 4. Cleanup: RFC 8656 §7: a Refresh with LIFETIME 0 deletes the allocation.
    const bool deleted_a = a->refresh(0).success();
    const bool deleted_b = !relayed_b || b->refresh(0).success();
    step(target, "cleanup", deleted_a && deleted_b ? "ok" : "warning",
         deleted_a && deleted_b ? "allocations deleted" : "a Refresh with LIFETIME 0 failed (probe.done removes them)",
         std::nullopt);
  }

  // A Send indication from A to B's relayed address comes out of B as a Data indication from A's
  // relayed address: client -> worker -> (hairpin) -> worker -> client.
  void hairpin(const std::string& target, TurnClient& a, TurnClient& b, const TransportAddress& ra,
               const TransportAddress& rb) {
    const StunAnswer pa = a.create_permission(rb.ip);
    const StunAnswer pb = b.create_permission(ra.ip);
    if (!pa.success() || !pb.success()) {
      const int code = pa.success() ? pb.code() : pa.code();
      step(target, "permissions", code == 403 ? "warning" : "fail",
           "CreatePermission between the two relayed addresses answered " + std::to_string(code),
           code == 403 ? std::optional<std::string>("the peer policy denies the server's own relayed addresses: two "
                                                    "clients of this server cannot reach each other (peers.allow)")
                       : std::optional<std::string>(meaning_of(code)));
      return;
    }
    std::array<uint8_t, 16> payload{'t', 'e', 'r', 'n', '-', 'p', 'r', 'o', 'b', 'e'};
    if (!crypto::random_bytes(std::span<uint8_t>(payload).subspan(10))) payload[10] = 0x5a;
    for (int attempt = 0; attempt < 3; ++attempt) {
      a.send_indication(rb, payload);
      while (auto d = b.wait_data(options_.timeout_ms / 3)) {
        if (d->peer == ra && std::equal(d->data.begin(), d->data.end(), payload.begin(), payload.end())) {
          step(target, "relay", "ok", "a Send indication to " + rb.to_string() + " came out as a Data indication from " +
                                          ra.to_string(), std::nullopt);
          return;
        }
      }
    }
    step(target, "relay", "fail", "a Send indication to " + rb.to_string() + " never arrived", kHairpin);
  }

  // A datagram from a plain socket of this host reaches the relayed address, and the allocation's
  // answer comes back from it: what a peer does.
  void from_peer(const std::string& target, TurnClient& a, const TransportAddress& relayed) {
    std::string error;
    auto peer = UdpSocket::open(relayed.ip.family(), error);
    const auto local = peer ? peer->local_towards(relayed, error) : std::nullopt;
    if (!local) {
      step(target, "peer", "skipped", "no route from this host to " + relayed.to_string(), std::nullopt);
      return;
    }
    const StunAnswer permit = a.create_permission(local->ip);
    if (!permit.success()) {
      step(target, "peer", "skipped",
           "CreatePermission for this host's address " + local->ip.to_string() + " answered " +
               std::to_string(permit.code()) + (permit.code() == 403 ? " (the peer policy denies it)" : ""),
           std::nullopt);
      return;
    }
    const std::array<uint8_t, 12> hello{'t', 'e', 'r', 'n', '-', 'p', 'e', 'e', 'r', '-', 'u', 'p'};
    std::optional<DataIndication> got;
    for (int attempt = 0; attempt < 3 && !got; ++attempt) {
      peer->send(relayed, hello, error);
      while (auto d = a.wait_data(options_.timeout_ms / 3))
        if (std::equal(d->data.begin(), d->data.end(), hello.begin(), hello.end())) {
          got = std::move(d);
          break;
        }
    }
    if (!got) {
      step(target, "peer", "warning", "a datagram from " + local->to_string() + " to " + relayed.to_string() +
                                          " did not arrive", kPeerUnreachable);
      return;
    }
    const std::array<uint8_t, 12> back{'t', 'e', 'r', 'n', '-', 'p', 'e', 'e', 'r', '-', 'o', 'k'};
    for (int attempt = 0; attempt < 3; ++attempt) {
      a.send_indication(got->peer, back);
      if (const auto d = peer->receive(options_.timeout_ms / 3); d && d->from == relayed) {
        step(target, "peer", "ok", "a peer at " + got->peer.to_string() + " reached " + relayed.to_string() +
                                       " and got the answer from it", std::nullopt);
        return;
      }
    }
    step(target, "peer", "warning", "datagrams from " + got->peer.to_string() + " arrive but the answers do not",
         "the relay's packets towards peers are lost: no route or gateway on the peer-facing port (ternctl stats "
         "drop_no_route, drop_hold_ring_full; control I/O held_expired, held_overflow)");
  }

  const api::ProbeReply& plan_;
  crypto::Engine& engine_;
  ProbeOptions options_;
  api::ProbeReport report_;
};

}  // namespace

api::ProbeReport run_probe(const api::ProbeReply& plan, crypto::Engine& engine, const ProbeOptions& options) {
  return Run(plan, engine, options).report();
}

}  // namespace tern::ctl::ternctl
