#!/usr/bin/python3
"""Chromium (headless, in the client namespace) with two RTCPeerConnections on one page, iceTransportPolicy
'relay', a data channel that opens and echoes. The page comes from chromium_page.py on the namespace's loopback and
posts its report back there; getStats() tells which candidate pair was selected.

    TERN_SERVER=coturn /usr/bin/python3 tests/interop/chromium_test.py datachannel

  datachannel       static credentials
  datachannel-rest  TURN REST API credentials
  badpass           wrong password: Chromium reports a 401 candidate error, gathers no relay candidate, the
                    channel never opens
  turn-tcp          TURN over TCP only (turn:10.90.0.1:3478?transport=tcp)
  turns-5349        TURN over TLS only (turns:10.90.0.1:5349?transport=tcp)
  turns-443         TURN over TLS only on 443
  turns-rogue-ca    TURN over TLS on 5349 with a server certificate from a CA Chromium does not trust: no relay
                    candidate, the channel never opens, the server counts a failed handshake

The stream cases give the server TCP and TLS listeners (scenario.main's streams, certificates from the scenario's
test CA; rogue_tls for turns-rogue-ca), configure the stream URL only, and make UDP to the listener unroutable in
the client namespace (a policy rule, `ip rule add to LISTEN ipproto udp prohibit`, checked with a STUN Binding that
must fail), so nothing can fall back to UDP; the selected pair's local candidate must report relayProtocol "tcp" or
"tls", and against ternd every allocation must have been made over that transport (its log) and its stream
transport must have relayed the data (ternctl --json stats). Chromium trusts the test CA through the NSS database
in its HOME ($HOME/.pki/nssdb, made with certutil from libnss3-tools); no certificate error is ignored.

Chromium gathers candidates only on interfaces with an address other than loopback: the client namespace's veth
provides one.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import scenario  # noqa: E402
import servers  # noqa: E402
from procs import wait_for  # noqa: E402
from scenario import Scenario  # noqa: E402

HERE = Path(__file__).resolve().parent
PAGE_PORT = 8080  # on the client namespace's own loopback
RESULT_TIMEOUT = 90


def chromium_binary() -> str:
    """TERN_CHROMIUM, else Debian's browser binary itself (its /usr/bin/chromium wrapper adds flags of its own)."""
    for candidate in (os.environ.get("TERN_CHROMIUM"), "/usr/lib/chromium/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("chromium not found (apt-get install chromium), or set TERN_CHROMIUM")


def trust_ca(home: Path, ca: Path) -> None:
    """The NSS database Chromium on Linux reads its locally trusted roots from ($HOME/.pki/nssdb), holding `ca`
    as a trusted CA for servers."""
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    for argv in (["certutil", "-N", "--empty-password", "-d", f"sql:{db}"],
                 ["certutil", "-A", "-n", "tern-test-ca", "-t", "C,,", "-i", str(ca), "-d", f"sql:{db}"]):
        try:
            subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30)
        except FileNotFoundError:
            raise RuntimeError("certutil not found (apt-get install libnss3-tools)") from None
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"{' '.join(argv)} failed: {e.stderr}") from None


def open_page(s: Scenario, username: str, credential: str, open_timeout_ms: int = 30000,
              turn_url: str | None = None, ca: Path | None = None) -> dict:
    """turn_url: the one ICE server URL (UDP to the listener unless named); ca: a CA Chromium trusts."""
    t = s.topo
    ready, result_path = s.workdir / "page.ready", s.workdir / "page-result.json"
    page = s.procs.start("page-server", s.python(
        HERE / "chromium_page.py", "--port", str(PAGE_PORT),
        "--turn-url", turn_url or f"turn:{t.listen_ip}:{t.listen_port}?transport=udp",
        "--username", username, "--credential", credential, "--open-timeout-ms", str(open_timeout_ms),
        "--ready", str(ready), "--result", str(result_path)), netns=t.cli)
    wait_for(ready.exists, 10, what="the page server")

    profile = s.workdir / "chromium-profile"
    home = s.workdir / "home"  # HOME, XDG dirs and TMPDIR: everything Chromium writes stays in the scenario directory
    (home / "tmp").mkdir(parents=True)
    if ca is not None:
        trust_ca(home, ca)
    browser = s.procs.start("chromium", [
        chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--no-default-browser-check", "--disable-extensions",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
        f"http://127.0.0.1:{PAGE_PORT}/"], netns=t.cli,
        env={"HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home),
             "TMPDIR": str(home / "tmp")})

    def reported() -> bool:
        if not browser.alive():
            raise RuntimeError(f"chromium exited with status {browser.popen.returncode}:\n{browser.tail()}")
        return result_path.exists() and not page.alive()

    started = time.monotonic()
    wait_for(reported, RESULT_TIMEOUT, interval=0.25, what="the page's report")
    s.procs.stop(browser)
    result = json.loads(result_path.read_text())
    s.note(f"page report after {time.monotonic() - started:.1f} s: {json.dumps(result)}")
    return result


def expect_relay_only(s: Scenario, result: dict, relay_protocol: str = "udp") -> None:
    relay = s.topo.relay_ip
    for side in ("a", "b"):
        lines = result["gathered"][side]
        s.expect(lines, f"peer {side} gathered no candidates")
        for line in lines:
            fields = line.split()
            s.expect(fields[7] == "relay" and fields[4] == relay, f"peer {side} gathered a non-relay candidate: {line}")
        # The transport's selected pair. Its `state` may read "in-progress" while a consent check on it is in
        # flight, so what counts is that it is nominated and carried data both ways.
        pair = result["selected"][side]
        s.expect(pair is not None and pair["nominated"] and pair["bytesSent"] > 0 and pair["bytesReceived"] > 0,
                 f"peer {side}: no nominated selected pair that carried data both ways: {pair}")
        for end in ("local", "remote"):
            s.expect(pair[end]["type"] == "relay" and pair[end]["address"] == relay,
                     f"peer {side}: selected {end} candidate is not a relay candidate on {relay}: {pair[end]}")
        s.expect(pair["local"]["relayProtocol"] == relay_protocol,
                 f"peer {side} relays over {pair['local']['relayProtocol']}, expected {relay_protocol}")


def _datachannel(s: Scenario) -> None:
    wire = s.start_wire_count()
    username, password = s.credentials()
    result = open_page(s, username, password)
    s.expect("error" not in result, f"the page failed: {result.get('error')}; candidate errors {result['errors']}")
    expect_relay_only(s, result)
    s.expect(result["connectionState"] == ["connected", "connected"],
             f"connection states {result['connectionState']}, expected both connected (DTLS done)")
    s.expect(result["messagesEchoed"] == result["messagesSent"] and result["echoesIntact"],
             f"{result['messagesEchoed']} of {result['messagesSent']} messages echoed, intact: {result['echoesIntact']}")
    s.expect(wire.s2c("allocate success") >= 2, "fewer than two allocations on the wire")
    relayed_up = wire.c2s("channeldata") + wire.c2s("send indication")
    relayed_down = wire.s2c("channeldata") + wire.s2c("data indication")
    s.expect(relayed_up > 0 and relayed_down > 0, "no relayed data (ChannelData or Send/Data) on the wire")


def case_datachannel(s: Scenario) -> None:
    _datachannel(s)


def case_datachannel_rest(s: Scenario) -> None:
    _datachannel(s)


def case_badpass(s: Scenario) -> None:
    wire = s.start_wire_count()
    result = open_page(s, servers.USER, "not-wonderland", open_timeout_ms=8000)
    s.expect("error" in result, "the data channel opened with a wrong TURN password")
    s.expect(not result["gathered"]["a"] and not result["gathered"]["b"],
             f"candidates gathered with a wrong password: {result['gathered']}")
    s.expect(any(" 401 " in e for e in result["errors"]), f"no 401 among the candidate errors: {result['errors']}")
    s.expect(wire.s2c("allocate error 401") > 0 and wire.s2c("allocate success") == 0,
             "expected only 401 answers to Allocate on the wire")


# -- TURN over TCP and TLS ---------------------------------------------------------------------------------------
STREAM_CASES = {  # case: (URL scheme, port, relayProtocol Chromium must report)
    "turn-tcp": ("turn", servers.TCP_PORT, "tcp"),
    "turns-5349": ("turns", servers.TLS_PORTS[0], "tls"),
    "turns-443": ("turns", servers.TLS_PORTS[1], "tls"),
    "turns-rogue-ca": ("turns", servers.TLS_PORTS[0], "tls"),
}
ROGUE_CASES = {"turns-rogue-ca"}


def block_udp_to_listener(s: Scenario) -> None:
    """UDP from the client namespace to the listener is refused by its routing (EACCES at once), TCP passes; the
    rule goes with the namespace. A STUN Binding over UDP must fail from now on."""
    t = s.topo
    subprocess.run(["ip", "-n", t.cli, "rule", "add", "to", f"{t.listen_ip}/32", "ipproto", "udp", "prohibit"],
                   check=True, capture_output=True, text=True)
    probe = s.python(HERE.parent / "integration" / "netcheck.py", "stun", t.listen_ip, str(t.listen_port),
                     "--timeout", "1")
    status, out = s.run_client("udp-blocked-probe", probe, timeout=10)
    s.expect(status not in (0, None), f"a STUN Binding over UDP still got through the block: {out}")


def stream_stats(s: Scenario) -> dict:
    """ternd's stream transport counters (ternctl --json stats), {} against coturn."""
    if s.server_kind != "ternd":
        return {}
    build = Path(os.environ.get("TERN_BUILD_DIR") or HERE.parents[1] / "build")
    status, out = s.procs.run("ternctl-stats", [str(build / "control" / "ternctl"), "--socket",
                                                str(s.workdir / "ternd.sock"), "--json", "stats"],
                              netns=s.topo.srv, timeout=20)
    s.expect(status == 0, f"ternctl --json stats exited {status}:\n{out}")
    stats = json.loads(out.strip().splitlines()[-1])
    s.note(f"ternd stream counters: {json.dumps(stats.get('streams'))}")
    return stats.get("streams") or {}


def _stream_url(s: Scenario) -> tuple[str, str]:
    scheme, port, protocol = STREAM_CASES[s.name.split()[-1]]
    return f"{scheme}:{s.topo.listen_ip}:{port}?transport=tcp", protocol


def case_stream(s: Scenario) -> None:
    url, protocol = _stream_url(s)
    block_udp_to_listener(s)
    username, password = s.credentials()
    result = open_page(s, username, password, turn_url=url, ca=s.pki.ca)
    s.expect("error" not in result, f"the page failed over {url}: {result.get('error')}; candidate errors "
                                    f"{result['errors']}")
    expect_relay_only(s, result, relay_protocol=protocol)
    s.expect(result["connectionState"] == ["connected", "connected"],
             f"connection states {result['connectionState']}, expected both connected (DTLS done)")
    s.expect(result["messagesEchoed"] == result["messagesSent"] and result["echoesIntact"],
             f"{result['messagesEchoed']} of {result['messagesSent']} messages echoed, intact: {result['echoesIntact']}")
    streams = stream_stats(s)
    if streams:  # ternd: the relayed data crossed its stream transport, over the right kind of connection
        created = [line for line in s.server.proc.output().splitlines() if "event=allocation_created" in line]
        port = STREAM_CASES[s.name.split()[-1]][1]
        s.expect(len(created) >= 2 and all(f"server={s.topo.listen_ip}:{port} transport=tcp "
                                           f"client_transport={protocol} " in line for line in created),
                 f"expected every allocation made over {protocol} on port {port}: {created}")
        accepted = streams.get("tls_accepted" if protocol == "tls" else "tcp_accepted", 0)
        s.expect(accepted >= 2, f"fewer than two {protocol} connections accepted: {streams}")
        if protocol == "tls":
            s.expect(streams.get("tls_handshakes", 0) >= 2, f"fewer than two TLS handshakes: {streams}")
        s.expect(streams.get("relayed", 0) > 0 and streams.get("delivered", 0) > 0,
                 f"no ChannelData/Send relayed from, or peer data delivered to, the stream clients: {streams}")


def case_rogue_ca(s: Scenario) -> None:
    url, _ = _stream_url(s)
    block_udp_to_listener(s)
    username, password = s.credentials()
    result = open_page(s, username, password, open_timeout_ms=10000, turn_url=url, ca=s.pki.ca)
    s.expect("error" in result, f"the data channel opened over {url} with a certificate from an untrusted CA")
    s.expect(not result["gathered"]["a"] and not result["gathered"]["b"],
             f"candidates gathered with an untrusted server certificate: {result['gathered']}")
    s.expect(result["errors"] and all(" 701 " in e and url in e for e in result["errors"]),
             f"expected only 701 candidate errors (no TLS connection to {url}): {result['errors']}")
    streams = stream_stats(s)
    if streams:  # ternd saw the handshakes fail (Chromium's alert), and no request ever reached it
        s.expect(streams.get("tls_accepted", 0) >= 1, f"no TLS connection reached ternd: {streams}")
        s.expect(streams.get("tls_failed_other", 0) >= 1, f"no failed TLS handshake counted: {streams}")
        s.expect(streams.get("requests", 0) == 0, f"STUN requests arrived over the refused TLS: {streams}")


CASES = {"datachannel": case_datachannel, "datachannel-rest": case_datachannel_rest, "badpass": case_badpass,
         "turn-tcp": case_stream, "turns-5349": case_stream, "turns-443": case_stream,
         "turns-rogue-ca": case_rogue_ca}
AUTH = {"datachannel-rest": "rest"}

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, auth=AUTH, deadline=150, streams=set(STREAM_CASES) - ROGUE_CASES,
                           rogue_tls=ROGUE_CASES))
