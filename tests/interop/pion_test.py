#!/usr/bin/python3
"""pion/turn's client (Debian's golang-github-pion-turn.v2-dev, built offline from pion_client/main.go) against the
relay, with a UDP echo peer in the peer namespace. See pion_client/main.go for what the client does.

    TERN_SERVER=coturn /usr/bin/python3 tests/interop/pion_test.py relay

  relay       static credentials: Send indications first, then ChannelBind and ChannelData, every echo intact
  relay-rest  TURN REST API credentials from pion's GenerateLongTermCredentials (username = expiry timestamp)

The binary is built with GOPATH=/usr/share/gocode, no modules and no network, into
${TMPDIR:-/tmp}/tern-interop-go/<hash of the source and the Go version>/, and reused while neither changes.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import scenario  # noqa: E402
import servers  # noqa: E402
from scenario import Scenario  # noqa: E402

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


def _relay(s: Scenario) -> None:
    binary = build_client()
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    t = s.topo
    argv = [str(binary), "-server", f"{t.listen_ip}:{t.listen_port}", "-local", t.client_ips[0],
            "-realm", servers.REALM, "-peer", t.peer_ip, "-ports", ",".join(map(str, ECHO_PORTS)),
            "-rounds", str(ROUNDS)]
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

    ip, port = result["relayed"].rsplit(":", 1)
    s.expect(ip == t.relay_ip and servers.RELAY_PORT_MIN <= int(port) <= servers.RELAY_PORT_MAX,
             f"relayed address {result['relayed']}")
    send, channel = result["phases"]["send"], result["phases"]["channel"]
    s.expect(send["sent"] == len(ECHO_PORTS) and send["echoed_intact"] == send["sent"] and not send["unexpected"],
             f"send phase: {send}")
    expected = ROUNDS * SIZES * len(ECHO_PORTS)
    s.expect(channel["sent"] == expected and channel["echoed_intact"] == expected and not channel["unexpected"],
             f"channel phase: {channel}, expected {expected} echoed intact")

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


CASES = {"relay": case_relay, "relay-rest": case_relay_rest}
AUTH = {"relay-rest": "rest"}

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, auth=AUTH, deadline=240))
