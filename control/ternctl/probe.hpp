#pragma once
// `ternctl probe`: the server tested from outside, the way a client would test it.
//
// How "from outside" works: ternctl asks ternd over the control socket for a short-lived
// long-term credential (a user that lives 60 s, withdrawn when the probe ends) and for what the
// server knows about itself (listeners, relay addresses as advertised, findings from its own
// configuration). Then ternctl itself, from the host and network namespace it runs in, sends real
// UDP to each UDP listener, and connects to each TCP and TLS listener (checking the certificate as
// a browser would): a Binding, an Allocate without and then with the credential, a second
// Allocate, CreatePermissions between the two relayed addresses and a Send indication from one
// that must come out of the other as a Data indication (the workers' relay path, hairpinned), and
// a datagram from a plain socket of this host to a relayed address (reachable from where peers
// are?). The packets cross the same wire, NIC, ports and workers clients' packets do; run it from
// a client-side host (or namespace) and every step means what it would mean for a client there.
// The Unix socket only needs the filesystem, so ternctl can run in another network namespace than
// ternd.

#include <string>

#include "control/api/types.hpp"
#include "crypto/engine.hpp"

namespace tern::ctl::ternctl {

struct ProbeOptions {
  int timeout_ms = 1500;          // per datagram expected, after retransmissions
  int connect_timeout_ms = 3000;  // a TCP connection and its TLS handshake
  std::string ca_file;            // TLS: the CAs to trust ("": the system's)
  std::string tls_name;           // TLS: the name clients connect to ("": the listener's IP address)
};

// Runs every step against every listener of `plan`.
api::ProbeReport run_probe(const api::ProbeReply& plan, crypto::Engine& engine, const ProbeOptions& options);

}  // namespace tern::ctl::ternctl
