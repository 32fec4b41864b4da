#!/usr/bin/python3
"""Chromium (headless, in the client namespace) with two RTCPeerConnections on one page, iceTransportPolicy
'relay', a data channel that opens and echoes. The page comes from chromium_page.py on the namespace's loopback and
posts its report back there; getStats() tells which candidate pair was selected.

    TERN_SERVER=coturn /usr/bin/python3 tests/interop/chromium_test.py datachannel

  datachannel       static credentials
  datachannel-rest  TURN REST API credentials
  badpass           wrong password: Chromium reports a 401 candidate error, gathers no relay candidate, the
                    channel never opens

Chromium gathers candidates only on interfaces with an address other than loopback: the client namespace's veth
provides one.
"""

import json
import os
import shutil
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


def open_page(s: Scenario, username: str, credential: str, open_timeout_ms: int = 30000) -> dict:
    t = s.topo
    ready, result_path = s.workdir / "page.ready", s.workdir / "page-result.json"
    page = s.procs.start("page-server", s.python(
        HERE / "chromium_page.py", "--port", str(PAGE_PORT),
        "--turn-url", f"turn:{t.listen_ip}:{t.listen_port}?transport=udp",
        "--username", username, "--credential", credential, "--open-timeout-ms", str(open_timeout_ms),
        "--ready", str(ready), "--result", str(result_path)), netns=t.cli)
    wait_for(ready.exists, 10, what="the page server")

    profile = s.workdir / "chromium-profile"
    home = s.workdir / "home"  # HOME, XDG dirs and TMPDIR: everything Chromium writes stays in the scenario directory
    (home / "tmp").mkdir(parents=True)
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


def expect_relay_only(s: Scenario, result: dict) -> None:
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
        s.expect(pair["local"]["relayProtocol"] == "udp", f"peer {side} relays over {pair['local']['relayProtocol']}")


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


CASES = {"datachannel": case_datachannel, "datachannel-rest": case_datachannel_rest, "badpass": case_badpass}
AUTH = {"datachannel-rest": "rest"}

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, auth=AUTH, deadline=150))
