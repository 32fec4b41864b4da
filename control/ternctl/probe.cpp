#include "control/ternctl/probe.hpp"

#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>

#include "control/ternctl/stream_channel.hpp"
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

constexpr const char* kProxyExpected =
    "this listener expects a PROXY protocol header from a load balancer (proxy_protocol.from) and closes anything "
    "else: probe through the load balancer, as clients reach it";
constexpr int64_t kCertificateWarning = 30 * 86400;

std::string connect_meaning(const StreamChannel::Opened& o, const std::string& name, Port port) {
  switch (o.failure) {
    case StreamFailure::refused:
      return "nothing accepts TCP on port " + std::to_string(port.value) + " there: it is not in listen.tcp or "
             "listen.tls, or ternd's exception path is down (ternctl stats: EXCEPTION PATH, to_kernel)";
    case StreamFailure::timed_out:
      return "the connection request got no answer: a firewall drops TCP " + std::to_string(port.value) +
             " on the way, or the address is not routed to the server's client-facing port. Clients on networks "
             "that block UDP cannot reach the relay";
    case StreamFailure::no_route: return kNoRoute;
    case StreamFailure::tls_verify:
      switch (o.verify_error) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
          return "the certificate has expired: every client refuses it. Renew it and `ternctl reload`";
        case X509_V_ERR_CERT_NOT_YET_VALID:
          return "the certificate is not valid yet: the server's or this host's clock is wrong";
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
          return "the certificate does not name " + name + ": clients connecting to that name refuse it, "
                 "silently (an ICE failure). --tls-name NAME checks the name clients use";
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
          return "the chain does not lead to a CA this host trusts: tls.certificate must hold the whole chain "
                 "(fullchain.pem, not cert.pem), or the CA is a private one (--ca FILE checks against it)";
        default: return "clients will refuse this certificate";
      }
    case StreamFailure::tls_alpn:
      return "ternd answers stun.turn: something else terminates TLS on this port (a proxy in front?)";
    case StreamFailure::tls_other:
      return "the handshake failed: tls.min_version or the cipher settings leave nothing in common with a "
             "current client, or something other than ternd answers on this port";
    default: return "the connection could not be made";
  }
}

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
    if (plan_.listeners.empty() && plan_.stream_listeners.empty())
      step("server", "listeners", "fail", "the server has no listener", {});
    certificate();
    for (const auto& l : plan_.listeners) probe_udp(l);
    for (const auto& l : plan_.stream_listeners) probe_stream(l);
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

  using Connect = std::function<std::unique_ptr<TurnClient>()>;

  std::unique_ptr<TurnClient> turn_client(std::unique_ptr<Channel> channel) {
    auto c = std::make_unique<TurnClient>(engine_, std::move(channel));
    c->set_credentials(plan_.credential.username, plan_.credential.password, plan_.credential.realm);
    return c;
  }

  // The certificate ternd serves on its TLS listeners, as ternd reads it.
  void certificate() {
    if (!plan_.certificate_expires) return;
    const int64_t left = *plan_.certificate_expires - static_cast<int64_t>(std::time(nullptr));
    if (left < 0)
      step("server", "certificate", "fail", "the TLS certificate expired " + std::to_string(-left / 86400) + " days ago",
           "every TLS client refuses it: renew it and `ternctl reload`");
    else if (left < kCertificateWarning)
      step("server", "certificate", "warning", "the TLS certificate expires in " + std::to_string(left / 86400) + " days",
           "renew it (certbot's deploy hook runs `ternctl reload`) before clients start refusing it");
  }

  void probe_udp(const TransportAddress& listener) {
    const std::string target = "listener " + listener.to_string();
    const Connect connect = [&]() -> std::unique_ptr<TurnClient> {
      std::string error;
      auto socket = UdpSocket::open(listener.ip.family(), error);
      return socket ? turn_client(std::make_unique<UdpChannel>(std::move(socket), listener)) : nullptr;
    };
    probe(target, listener, connect, kNothingAnswers);
  }

  // TCP or TLS: the connection and the handshake first, then what a UDP client gets.
  void probe_stream(const api::StreamListenerInfo& listener) {
    const TransportAddress& address = listener.address;
    const bool tls = listener.transport == "tls";
    const std::string target = "listener " + address.to_string() + " (" + listener.transport + ")";
    if (listener.proxy_protocol) {
      step(target, "connect", "skipped", "a PROXY protocol listener", kProxyExpected);
      return;
    }
    std::optional<TlsOptions> tls_options;
    if (tls) tls_options = TlsOptions{options_.ca_file, options_.tls_name};
    const std::string name = options_.tls_name.empty() ? address.ip.to_string() : options_.tls_name;
    StreamChannel::Opened first = StreamChannel::open(address, tls_options, options_.connect_timeout_ms);
    if (!first.channel) {
      const bool handshake = first.failure == StreamFailure::tls_verify || first.failure == StreamFailure::tls_alpn ||
                             first.failure == StreamFailure::tls_other;
      step(target, handshake ? "tls" : "connect", "fail", first.error, connect_meaning(first, name, address.port));
      return;
    }
    step(target, tls ? "tls" : "connect", "ok",
         tls ? first.tls_version + ", the certificate verified for " + name + ", ALPN stun.turn" : "TCP connected",
         std::nullopt);
    std::unique_ptr<Channel> pending = std::move(first.channel);
    const Connect connect = [&]() -> std::unique_ptr<TurnClient> {
      if (pending) return turn_client(std::move(pending));
      auto again = StreamChannel::open(address, tls_options, options_.connect_timeout_ms);
      return again.channel ? turn_client(std::move(again.channel)) : nullptr;
    };
    probe(target, address, connect,
          "the connection was made but nothing answered on it: ternd's stream transport did not pass the Binding "
          "to the control plane or its answer back (ternctl stats: TCP AND TLS)");
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

  // What every listener is asked: Binding, the 401 challenge, two allocations relaying to each other,
  // a peer's datagram, cleanup. `connect` makes a client (a socket, a connection).
  void probe(const std::string& target, const TransportAddress& listener, const Connect& connect,
             const char* nothing_answers) {
    std::string error;
    auto route = UdpSocket::open(listener.ip.family(), error);
    const auto local = route ? route->local_towards(listener, error) : std::nullopt;
    if (!local) {
      step(target, "route", "fail", "no route from here: " + error, kNoRoute);
      return;
    }
    auto a = connect();
    auto b = connect();
    if (!a || !b) {
      step(target, "socket", "fail", "cannot open a second socket or connection here", std::nullopt);
      return;
    }

    // 1. Binding: the workers answer it inline.
    const StunAnswer binding = a->binding();
    if (!binding.success()) {
      step(target, "binding", "fail",
           binding.present() ? "answered " + std::to_string(binding.code()) : "no answer from " + local->ip.to_string(),
           nothing_answers);
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
