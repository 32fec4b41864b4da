#!/usr/bin/python3
"""pion/turn's client (Debian's golang-github-pion-turn.v2-dev, built offline from pion_client/main.go) against the
relay, with a UDP echo peer in the peer namespace. See pion_client/main.go for what the client does.

    TERN_SERVER=coturn /usr/bin/python3 tests/interop/pion_test.py relay

  relay       static credentials: Send indications first, then ChannelBind and ChannelData, every echo intact
  relay-rest  TURN REST API credentials from pion's GenerateLongTermCredentials (username = expiry timestamp)
  relay-tcp   relay over TCP to port 3478 (a net.Conn wrapped in turn.NewSTUNConn)
  relay-tls   relay over TLS to port 5349 (crypto/tls trusting only the test CA, then NewSTUNConn)

Over TCP and TLS no TURN may go over UDP (the capture), and the server says what the stream carried: ternd's log
(the allocation's listener and client transport) and `ternctl stats` (the connection, Send then ChannelData to the
peers, relayed and delivered messages, nothing dropped, CreatePermission and a ChannelBind per port, the allocation
deleted), coturn's log (the session's listener and TLS cipher, its ChannelBinds).

The binary is built with GOPATH=/usr/share/gocode, no modules and no network, into
${TMPDIR:-/tmp}/tern-interop-go/<hash of the source and the Go version>/, and reused while neither changes.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))

import scenario  # noqa: E402
import servers  # noqa: E402
from scenario import Scenario  # noqa: E402
from stream_checks import expect_accepted, expect_no_stream_drops, ternd_allocations, ternd_stream_stats  # noqa: E402

SOURCE_DIR = Path(__file__).resolve().parent / "pion_client"
ECHO_PORTS = [7000, 7001, 7002]
ROUNDS = 3
SIZES = 10  # len(sizes) in main.go


def build_client() -> Path:
    go_env = {**os.environ, "GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOPROXY": "off", "GOFLAGS": "",
              "CGO_ENABLED": "0"}
    version = subprocess.run(["go", "version"], capture_output=True, text=True, check=True, env=go_env).stdout
    digest = hashlib.sha256(version.encode())
    for source in sorted(SOURCE_DIR.glob("*.go")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    cache = Path(tempfile.gettempdir()) / "tern-interop-go" / digest.hexdigest()[:16]
    binary = cache / "pion_client"
    if binary.exists():
        return binary
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f"pion_client.{os.getpid()}"
    result = subprocess.run(["go", "build", "-o", str(partial), "."], cwd=SOURCE_DIR, capture_output=True, text=True,
                            env={**go_env, "GOCACHE": str(cache.parent / "gocache")}, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"go build of {SOURCE_DIR} failed:\n{result.stdout}{result.stderr}")
    partial.rename(binary)  # atomic: a concurrent run sees the whole binary or none
    return binary


def run_client(s: Scenario, transport: str = "udp", port: int | None = None) -> dict:
    """Runs the client against the listener `port` over `transport`; its report, after checking every echo."""
    binary = build_client()
    t = s.topo
    argv = [str(binary), "-server", f"{t.listen_ip}:{port or t.listen_port}", "-local", t.client_ips[0],
            "-realm", servers.REALM, "-peer", t.peer_ip, "-ports", ",".join(map(str, ECHO_PORTS)),
            "-rounds", str(ROUNDS), "-transport", transport]
    if transport == "tls":
        argv += ["-ca", str(s.pki.ca)]
    if s.auth == "static":
        argv += ["-user", servers.USER, "-password", servers.PASSWORD]
    else:
        argv += ["-secret", servers.REST_SECRET]
    status, out = s.run_client("pion-client", argv, timeout=90)
    lines = out.strip().splitlines()
    s.expect(bool(lines), f"pion client printed nothing (status {status})")
    result = json.loads(lines[-1])
    s.note(f"pion client: {result}")
    s.expect(status == 0 and "error" not in result, f"pion client failed: {result.get('error')} (status {status})")

    ip, relayed_port = result["relayed"].rsplit(":", 1)
    s.expect(ip == t.relay_ip and servers.RELAY_PORT_MIN <= int(relayed_port) <= servers.RELAY_PORT_MAX,
             f"relayed address {result['relayed']}")
    send, channel = result["phases"]["send"], result["phases"]["channel"]
    s.expect(send["sent"] == len(ECHO_PORTS) and send["echoed_intact"] == send["sent"] and not send["unexpected"],
             f"send phase: {send}")
    expected = ROUNDS * SIZES * len(ECHO_PORTS)
    s.expect(channel["sent"] == expected and channel["echoed_intact"] == expected and not channel["unexpected"],
             f"channel phase: {channel}, expected {expected} echoed intact")
    return result


def _relay(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    run_client(s)
    t = s.topo
    expected = ROUNDS * SIZES * len(ECHO_PORTS)
    sources = echo.sources()
    s.expect(sources == {t.relay_ip}, f"the echo peer was reached from {sources}, not only the relay")
    s.expect(wire.c2s("create-permission request") >= 1 and wire.s2c("create-permission success") >= 1,
             "no successful CreatePermission on the wire")
    s.expect(wire.c2s("send indication") >= len(ECHO_PORTS),
             f"{wire.c2s('send indication')} Send indications, expected one per peer port at least")
    s.expect(wire.s2c("channel-bind success") >= len(ECHO_PORTS), "no ChannelBind per peer port succeeded")
    # Phase two is ChannelData (a datagram may still go as a Send indication while its bind is in flight).
    s.expect(wire.c2s("channeldata") >= expected - len(ECHO_PORTS) and wire.s2c("channeldata") >= expected - len(ECHO_PORTS),
             f"ChannelData {wire.c2s('channeldata')} out / {wire.s2c('channeldata')} in, expected about {expected}")
    s.expect(wire.s2c("refresh success") >= 1, "the allocation was not deleted (Refresh 0) at the end")


def case_relay(s: Scenario) -> None:
    _relay(s)


def case_relay_rest(s: Scenario) -> None:
    _relay(s)


def _relay_stream(s: Scenario, transport: str, port: int) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    run_client(s, transport, port)
    sources = echo.sources()
    s.expect(sources == {s.topo.relay_ip}, f"the echo peer was reached from {sources}, not only the relay")
    s.expect(wire.c2s("udp") == 0 and wire.s2c("udp") == 0,
             f"TURN over UDP on the wire ({wire.c2s('udp')} out, {wire.s2c('udp')} in) in a {transport} case")
    if s.server_kind == "ternd":
        expect_ternd_stream(s, transport, port)
    else:
        expect_coturn_stream(s, transport, port)


def expect_ternd_stream(s: Scenario, transport: str, port: int) -> None:
    """One allocation, on the `port` listener by a `transport` client over one connection; a Send indication to
    each port, then ChannelData; every datagram relayed and every echo delivered over it, nothing dropped."""
    listener = f"{s.topo.listen_ip}:{port}"
    created = ternd_allocations(s)
    s.expect(created == [(listener, transport)], f"ternd's allocations (listener, client transport): {created}, "
             f"expected one on ({listener}, {transport})")
    streams, dp, cp = ternd_stream_stats(s)
    expect_accepted(s, streams, transport, 1)
    total = len(ECHO_PORTS) + ROUNDS * SIZES * len(ECHO_PORTS)
    s.expect(streams.get("relayed", 0) >= total and streams.get("delivered", 0) >= total,
             f"relayed {streams.get('relayed')}, delivered {streams.get('delivered')}: expected {total} at least")
    expect_no_stream_drops(s, streams)
    mechanisms = {k: dp.get(k, 0) for k in ("send_to_peer", "channel_data_to_peer")}
    s.expect(mechanisms["send_to_peer"] >= len(ECHO_PORTS) and sum(mechanisms.values()) == total
             and mechanisms["channel_data_to_peer"] >= total - 2 * len(ECHO_PORTS),
             f"ternd's data plane to the peers: {mechanisms}: expected a Send indication per port, then ChannelData, "
             f"{total} in all")
    # pion's Close sends Refresh 0 without waiting for the answer and closes the connection: either removes the
    # allocation.
    gone = cp.get("allocations_deleted", 0) + cp.get("allocations_connection_closed", 0)
    s.expect(cp.get("permissions_created", 0) >= 1 and cp.get("channels_bound") == len(ECHO_PORTS)
             and cp.get("requests_refresh", 0) >= 1 and gone == 1 and cp.get("allocations_live") == 0,
             f"ternd's control plane: { {k: cp.get(k) for k in CONTROL_COUNTERS} }: expected a permission, a channel "
             f"per port, the Refresh 0 and the allocation gone")


CONTROL_COUNTERS = ("permissions_created", "channels_bound", "requests_refresh", "allocations_deleted",
                    "allocations_connection_closed", "allocations_live")


def expect_coturn_stream(s: Scenario, transport: str, port: int) -> None:
    """coturn's log: one session, on the `port` listener, ciphered for TLS only, a ChannelBind per port."""
    log = s.server.log_path.read_text(errors="replace")
    closed = set(re.findall(r"session (\d+): closed \(2nd stage\)[^\n]*? local ([\d.]+:\d+),", log))
    ciphered = set(re.findall(r"session (\d+): new, [^\n]*?cipher=", log))
    listener = f"{s.topo.listen_ip}:{port}"
    s.expect(len(closed) == 1 and next(iter(closed))[1] == listener,
             f"coturn sessions (id, listener): {closed}, expected one on {listener}")
    s.expect(bool(ciphered) == (transport == "tls"), f"coturn sessions with a TLS cipher: {ciphered}, in a "
             f"{transport} case")
    binds = log.count("CHANNEL_BIND processed, success")
    s.expect(binds >= len(ECHO_PORTS), f"{binds} ChannelBinds in coturn's log, expected one per port at least")


def case_relay_tcp(s: Scenario) -> None:
    _relay_stream(s, "tcp", servers.TCP_PORT)


def case_relay_tls(s: Scenario) -> None:
    _relay_stream(s, "tls", servers.TLS_PORTS[0])


CASES = {"relay": case_relay, "relay-rest": case_relay_rest, "relay-tcp": case_relay_tcp,
         "relay-tls": case_relay_tls}
AUTH = {"relay-rest": "rest"}
STREAMS = {"relay-tcp", "relay-tls"}

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, auth=AUTH, deadline=240, streams=STREAMS))
