#!/usr/bin/python3
"""python3-aioice's TURN client against the relay, with a UDP echo peer in the peer namespace.

    TERN_SERVER=coturn /usr/bin/python3 tests/interop/aioice_test.py relay

  relay          static credentials: allocate, ChannelBind per peer port, ChannelData both ways, every echo intact,
                 the peer reached only from the relayed address, then the allocation deleted (Refresh 0)
  relay-rest     the same with TURN REST API credentials
  badpass        wrong password: Allocate ends in 401
  rest-expired   REST credentials whose timestamp has passed: 401
  relay-ipv6     relay, with the client speaking to the listener over IPv6 ([2001:db8:90::1]:3478); the relayed
                 address is IPv4 (no REQUESTED-ADDRESS-FAMILY: RFC 8656 §7.2's default), so are the peers
  relay-ipv6-peers  the client over IPv6 asks for an IPv6 relayed address (REQUESTED-ADDRESS-FAMILY) and relays to
                 the echo peer's IPv6 address, 2001:db8:91::20
  forbidden      ChannelBind / CreatePermission towards peers the policy denies (10.92.0.20: private, outside the
                 allowed test subnets; 127.0.0.1: loopback) answered 403 (RFC 8656 §9.1, §11.2), while the
                 same allocation still relays to the allowed echo peer
  relay-tcp      relay over TCP to port 3478 (aioice's transport="tcp"): ChannelData padded to four bytes on the
                 stream (RFC 8656 §12.5), every echo intact
  relay-tls      relay over TLS to port 5349 (ssl=True), the client trusting the test CA (SSL_CERT_FILE)
  tls-rogue-ca   the server's certificate comes from another CA: the client, trusting the test CA, refuses it and
                 gets no relayed address, no allocation is made, nothing reaches the peer; trusting that other CA
                 instead, the same client allocates (so the refusal was the certificate's)

Over TCP and TLS no TURN may go over UDP (the capture), and the server must say that the stream carried it: ternd's
log (each allocation's listener and client transport) and `ternctl stats` (TCP and TLS connections, relayed and
delivered messages, nothing dropped, ChannelData both ways), coturn's log (the session's listener and TLS cipher).
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))

import ops  # noqa: E402
import scenario  # noqa: E402
import servers  # noqa: E402
from scenario import Scenario  # noqa: E402
from stream_checks import coturn_sessions, expect_accepted, expect_no_stream_drops, ternd_allocations, ternd_stream_stats  # noqa: E402

CLIENT = Path(__file__).resolve().parent / "aioice_client.py"
ECHO_PORTS = [7000, 7001]
DENIED_PEERS = ["10.92.0.20:7000", "127.0.0.1:7000"]


def run(s: Scenario, case: str, username: str, password: str, peers: bool = True, denied: bool = False,
        server_ip: str | None = None, peer_ip: str | None = None, family: int = 4, transport: str = "udp",
        port: int | None = None, ca: Path | None = None) -> dict:
    """transport udp, tcp or tls to `port` (the UDP listener's by default); ca: the client's SSL_CERT_FILE."""
    argv = s.python(CLIENT, case, "--server", f"{server_ip or s.topo.listen_ip}:{port or s.topo.listen_port}",
                    "--user", username, "--password", password, "--family", str(family), "--transport", transport)
    if peers:
        for port in ECHO_PORTS:
            argv += ["--peer", f"{peer_ip or s.topo.peer_ip}:{port}"]
    if denied:
        for peer in DENIED_PEERS:
            argv += ["--denied", peer]
    status, out = s.procs.run("aioice-client", argv, netns=s.topo.cli, timeout=90,
                              env={"SSL_CERT_FILE": str(ca)} if ca else None)
    s.expect(status == 0, f"aioice client exited with status {status}:\n{out[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    s.note(f"aioice client: {result}")
    s.expect("exception" not in result or case == "refused", f"aioice client raised {result.get('exception')}")
    return result


def expect_echoed(s: Scenario, result: dict, echo, relay_ip: str) -> None:
    ip, port = result["relayed"][:2]
    s.expect(ip == relay_ip and servers.RELAY_PORT_MIN <= port <= servers.RELAY_PORT_MAX,
             f"relayed address {ip}:{port} is not on {relay_ip}:{servers.RELAY_PORT_MIN}-{servers.RELAY_PORT_MAX}")
    s.expect(result["sent"] > 0 and result["echoed_intact"] == result["sent"] and result["unexpected"] == 0,
             f"sent {result['sent']}, echoed intact {result['echoed_intact']}, unexpected {result['unexpected']}")
    sources = echo.sources()
    s.expect(sources == {relay_ip}, f"the echo peer was reached from {sources}, not only the relay")


def expect_relayed(s: Scenario, result: dict, echo, wire) -> None:
    expect_echoed(s, result, echo, s.topo.relay_ip)
    s.expect(wire.c2s("channel-bind request") >= len(ECHO_PORTS) and wire.s2c("channel-bind success") >= len(ECHO_PORTS),
             "no ChannelBind per peer address on the wire")
    s.expect(wire.c2s("channeldata") >= result["sent"] and wire.s2c("channeldata") >= result["sent"],
             f"ChannelData on the wire {wire.c2s('channeldata')} out / {wire.s2c('channeldata')} in, fewer than "
             f"the {result['sent']} datagrams")
    s.expect(wire.c2s("send indication") == 0, "aioice is expected to use channels, not Send indications")


def _relay(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    username, password = s.credentials()
    result = run(s, "relay", username, password)
    expect_relayed(s, result, echo, wire)
    s.expect(wire.c2s("refresh request") >= 1 and wire.s2c("refresh success") >= 1,
             "the allocation was not deleted with a successful Refresh")


def case_relay(s: Scenario) -> None:
    _relay(s)


def case_relay_rest(s: Scenario) -> None:
    _relay(s)


# IPv6: wire_count.py reads IPv4 only, so these cases judge by what the client and the echo peer saw.
def case_relay_ipv6(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    result = run(s, "relay", *s.credentials(), server_ip=s.topo.listen_ip6)
    expect_echoed(s, result, echo, s.topo.relay_ip)


def case_relay_ipv6_peers(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS, ip=s.topo.peer_ip6)
    result = run(s, "relay", *s.credentials(), server_ip=s.topo.listen_ip6, peer_ip=s.topo.peer_ip6, family=6)
    expect_echoed(s, result, echo, s.topo.relay_ip6)


def _refused(s: Scenario, username: str, password: str) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    result = run(s, "refused", username, password)
    s.expect(result.get("allocated") is False, f"the allocation succeeded: {result}")
    s.expect(result.get("error_code") == 401, f"Allocate failed with {result.get('error_code')}, expected 401")
    s.expect(wire.s2c("allocate success") == 0, "an Allocate success went on the wire")
    s.expect(not echo.stats()["datagrams"], "something reached the echo peer")


def case_badpass(s: Scenario) -> None:
    _refused(s, servers.USER, "not-wonderland")


def case_rest_expired(s: Scenario) -> None:
    _refused(s, *scenario.rest_credentials(ttl=-60))


def case_forbidden(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    username, password = s.credentials()
    result = run(s, "forbidden", username, password, denied=True)
    for peer in DENIED_PEERS:
        codes = result["refusals"].get(peer, {})
        s.expect(codes == {"channel-bind": 403, "create-permission": 403},
                 f"towards denied peer {peer}: {codes}, expected 403 for ChannelBind and CreatePermission")
    s.expect(wire.s2c("channel-bind error 403") >= len(DENIED_PEERS), "no 403 for ChannelBind on the wire")
    expect_relayed(s, result, echo, wire)


def _relay_stream(s: Scenario, transport: str, port: int) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    result = run(s, "relay", *s.credentials(), transport=transport, port=port, ca=s.pki.ca)
    expect_echoed(s, result, echo, s.topo.relay_ip)
    s.expect(wire.c2s("udp") == 0 and wire.s2c("udp") == 0,
             f"TURN over UDP on the wire ({wire.c2s('udp')} out, {wire.s2c('udp')} in) in a {transport} case")
    if s.server_kind == "ternd":
        expect_ternd_stream(s, transport, port, result["sent"])
    else:
        expect_coturn_stream(s, transport, port, result["sent"])


def expect_ternd_stream(s: Scenario, transport: str, port: int, sent: int) -> None:
    """One allocation, made on the `port` listener by a `transport` client over one connection; every datagram
    relayed and every echo delivered as ChannelData over it, nothing dropped; the allocation deleted at the end."""
    listener = f"{s.topo.listen_ip}:{port}"
    created = ternd_allocations(s)
    s.expect(created == [(listener, transport)], f"ternd's allocations (listener, client transport): {created}, "
             f"expected one on ({listener}, {transport})")
    streams, dp, cp = ternd_stream_stats(s)
    expect_accepted(s, streams, transport, 1)
    s.expect(streams.get("relayed", 0) >= sent and streams.get("delivered", 0) >= sent,
             f"relayed {streams.get('relayed')}, delivered {streams.get('delivered')}: expected {sent} at least")
    expect_no_stream_drops(s, streams)
    mechanisms = {k: dp.get(k, 0) for k in ("channel_data_to_peer", "channel_data_to_client", "send_to_peer",
                                             "data_indication_to_client")}
    s.expect(mechanisms["channel_data_to_peer"] >= sent and mechanisms["channel_data_to_client"] >= sent
             and not mechanisms["send_to_peer"] and not mechanisms["data_indication_to_client"],
             f"ternd's data plane: {mechanisms}, expected ChannelData only")
    s.expect(cp.get("allocations_deleted") == 1,
             f"{cp.get('allocations_deleted')} allocations deleted by Refresh 0, expected 1")


def expect_coturn_stream(s: Scenario, transport: str, port: int, sent: int) -> None:
    """One session relayed: on the `port` listener, ciphered for TLS only, every datagram sent to the peer."""
    relaying = [v for v in coturn_sessions(s).values() if v["peer_sent"]]
    s.note(f"coturn sessions that relayed: {relaying}")
    listener = f"{s.topo.listen_ip}:{port}"
    s.expect(len(relaying) == 1 and relaying[0]["local"] == listener
             and bool(relaying[0]["cipher"]) == (transport == "tls") and relaying[0]["peer_sent"] >= sent,
             f"coturn sessions {relaying}: expected one on {listener} over {transport} that sent {sent} to peers")


def case_relay_tcp(s: Scenario) -> None:
    _relay_stream(s, "tcp", servers.TCP_PORT)


def case_relay_tls(s: Scenario) -> None:
    _relay_stream(s, "tls", servers.TLS_PORTS[0])


def case_tls_rogue_ca(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    port = servers.TLS_PORTS[0]
    result = run(s, "refused", *s.credentials(), transport="tls", port=port, ca=s.pki.ca)
    s.expect(result.get("allocated") is False and "CERTIFICATE_VERIFY_FAILED" in result.get("error", ""),
             f"the client did not refuse the other CA's certificate: {result}")
    s.expect(not echo.stats()["datagrams"], "something reached the echo peer")
    if s.server_kind == "ternd":
        s.expect(not ternd_allocations(s), f"ternd made allocations: {ternd_allocations(s)}")
        streams = ops.ternctl_json(s, "stats")["streams"]
        s.note(f"ternd streams: { {k: v for k, v in streams.items() if v} }")
        s.expect(streams.get("tls_accepted", 0) >= 1 and not streams.get("tls_handshakes")
                 and streams.get("tls_failed_other", 0) >= 1 and not streams.get("requests"),
                 f"ternd's TLS counters {streams}: expected a connection whose handshake the client failed, and "
                 f"no request")
    else:
        allocated = s.server.log_path.read_text(errors="replace").count("ALLOCATE processed, success")
        s.expect(allocated == 0, f"coturn logged {allocated} successful Allocates")
    # The control: trusting the other CA, the same client gets its allocation from the same server.
    trusting = run(s, "refused", *s.credentials(), peers=False, transport="tls", port=port, ca=s.pki.rogue_ca)
    s.expect(trusting.get("allocated") is True, f"trusting the server's own CA, the client still failed: {trusting}")


CASES = {
    "relay": case_relay,
    "relay-rest": case_relay_rest,
    "badpass": case_badpass,
    "rest-expired": case_rest_expired,
    "forbidden": case_forbidden,
    "relay-ipv6": case_relay_ipv6,
    "relay-ipv6-peers": case_relay_ipv6_peers,
    "relay-tcp": case_relay_tcp,
    "relay-tls": case_relay_tls,
    "tls-rogue-ca": case_tls_rogue_ca,
}
AUTH = {"relay-rest": "rest", "rest-expired": "rest"}
IPV6 = {"relay-ipv6", "relay-ipv6-peers"}
STREAMS = {"relay-tcp", "relay-tls"}
ROGUE_TLS = {"tls-rogue-ca"}

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, auth=AUTH, deadline=150, ipv6=IPV6, streams=STREAMS, rogue_tls=ROGUE_TLS))
