"""One integration scenario: a fresh topology, a TURN server in it, helpers to start peers and clients, and the
teardown of all of it however the scenario ends (pass, failure, exception, deadline, SIGTERM from meson).

    def case_channel(s: Scenario) -> None:
        peer = s.start_echo_peer([7000])
        status, out = s.run_client("uclient", [...])
        s.expect(status == 0, "uclient failed")

    sys.exit(scenario.main({"channel": case_channel, "channel-rest": case_channel}, auth={"channel-rest": "rest"}))

The server is chosen by TERN_SERVER (ternd | coturn, default ternd). ternd accepts the static user and REST
credentials at once; coturn is started for the credential kind the case names (servers.py says why), and
Scenario.credentials() hands out matching ones. A scenario's directory (logs, configs, captures) is removed when it
passes and kept, with its path printed, when it fails.
"""

import argparse
import base64
import hashlib
import hmac
import json
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import servers
from pki import Pki
from procs import Proc, Procs, wait_for
from topology import Topology

HERE = Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"  # Debian's interpreter: the one with python3-aioice and python3-aiortc


class Failure(Exception):
    """A check of the scenario did not hold."""


class Deadline(Exception):
    """The case ran past its deadline."""


def rest_credentials(secret: str = servers.REST_SECRET, user: str = servers.USER, ttl: int = 3600) -> tuple[str, str]:
    """TURN REST API ephemeral credentials: username "<expiry>:<user>", password base64(HMAC-SHA1(secret, username))."""
    username = f"{int(time.time()) + ttl}:{user}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


class Scenario:
    def __init__(self, name: str, auth: str, clients: int, workdir: Path, ternd_settings: str = "",
                 ipv6: bool = False, streams: bool = False, rogue_tls: bool = False) -> None:
        """streams: TURN over TCP (servers.TCP_PORT) and TLS (servers.TLS_PORTS) too, with a certificate from a
        test CA made for the scenario (self.pki.ca is the CA clients trust). rogue_tls: the same listeners, but the
        server's certificate comes from the other CA (pki.rogue_server), which clients must refuse."""
        self.name = name
        self.streams = streams or rogue_tls
        self.rogue_tls = rogue_tls
        self.pki: Pki | None = None
        self.auth = auth
        self.ternd_settings = ternd_settings
        self.server_kind = servers.server_kind()
        self.workdir = workdir
        self.topo = Topology(servers.topology_mode(self.server_kind), clients=clients, ipv6=ipv6)
        self.procs = Procs(workdir)
        self.server: servers.Server | None = None
        self.notes: list[str] = []

    # -- lifetime ------------------------------------------------------------------------------------------------
    def __enter__(self) -> "Scenario":
        self.topo.create()
        try:
            tls = None
            if self.streams:
                self.pki = Pki(self.workdir)
                tls = (self.pki.rogue_server if self.rogue_tls else self.pki.server)(self.topo.listen_ip)
            self.server = servers.start(self.server_kind, self.topo, self.procs, self.workdir, self.auth,
                                        self.ternd_settings, tls)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        # Teardown runs to its end: a deadline or SIGTERM arriving now is delivered once everything is removed.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGALRM, signal.SIGINT})
        try:
            self.procs.stop_all()
        finally:
            self.topo.remove()
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    # -- credentials ---------------------------------------------------------------------------------------------
    def credentials(self) -> tuple[str, str]:
        """The (username, password) this scenario's server accepts for its credential kind."""
        return (servers.USER, servers.PASSWORD) if self.auth == "static" else rest_credentials()

    # -- helpers -------------------------------------------------------------------------------------------------
    def expect(self, condition: bool, message: str) -> None:
        if not condition:
            raise Failure(message)

    def note(self, message: str) -> None:
        self.notes.append(message)
        print(message, flush=True)

    def start_echo_peer(self, ports: list[int], name: str = "echo-peer", ip: str | None = None) -> "EchoPeer":
        """ip: the peer's address to listen on (its IPv4 one unless named, e.g. topo.peer_ip6)."""
        return EchoPeer(self, ports, name, ip)

    def start_wire_count(self, name: str = "wire") -> "WireCount":
        """Counts TURN traffic between the client namespace and the listener."""
        t = self.topo
        return WireCount(self, name, t.cli, t.cli_if, f"{t.listen_ip}:{t.listen_port}")

    def start_peer_wire_count(self, port: int, name: str = "peer-wire") -> "WireCount":
        """Counts what reaches the peer's `port` (c2s: from the relay) and what it sends back (s2c)."""
        t = self.topo
        return WireCount(self, name, t.peer, t.peer_if, f"{t.peer_ip}:{port}")

    def run_client(self, name: str, argv: list[str], timeout: float, netns: str | None = None) -> tuple[int | None, str]:
        """Runs a client to completion in the client namespace (or `netns`); (status, output); status None = killed."""
        status, out = self.procs.run(name, argv, netns=netns or self.topo.cli, timeout=timeout)
        if status is None:
            self.note(f"{name}: killed after {timeout} s")
        return status, out

    def python(self, script: Path, *args: str) -> list[str]:
        return [PYTHON, str(script), *args]


class EchoPeer:
    """udp_echo.py in the peer namespace; `stats()` stops it and returns what it echoed per (port, source)."""

    def __init__(self, s: Scenario, ports: list[int], name: str, ip: str | None = None) -> None:
        self.s = s
        self.ports = ports
        self.ip = ip or s.topo.peer_ip
        ready = s.workdir / f"{name}.ready"
        self.stats_path = s.workdir / f"{name}.json"
        self.proc = s.procs.start(name, s.python(HERE / "udp_echo.py", "--ip", self.ip,
                                                 "--ports", ",".join(map(str, ports)),
                                                 "--ready", str(ready), "--stats", str(self.stats_path)),
                                  netns=s.topo.peer)
        _wait_file(self.proc, ready)

    def stats(self) -> dict:
        self.s.procs.stop(self.proc)
        return json.loads(self.stats_path.read_text())

    def sources(self) -> set[str]:
        """Source IPs that reached the echo peer (each must be the relay address)."""
        return {flow.split()[1].rsplit(":", 1)[0] for flow in self.stats()["datagrams"]}


class WireCount:
    """wire_count.py on a namespace's veth; `counts()` stops it and returns what it saw."""

    def __init__(self, s: Scenario, name: str, netns: str, iface: str, server: str) -> None:
        self.s = s
        self.name = name
        ready = s.workdir / f"{name}.ready"
        self.out = s.workdir / f"{name}.json"
        self.proc = s.procs.start(name, s.python(HERE / "wire_count.py", "--iface", iface, "--server", server,
                                                 "--ready", str(ready), "--out", str(self.out)),
                                  netns=netns)
        _wait_file(self.proc, ready)
        self._counts: dict | None = None

    def counts(self) -> dict:
        if self._counts is None:
            time.sleep(0.3)  # let the last frames in flight arrive
            self.s.procs.stop(self.proc)
            self._counts = json.loads(self.out.read_text())
            self.s.note(f"{self.name}: {json.dumps(self._counts, sort_keys=True)}")
        return self._counts

    def c2s(self, kind: str) -> int:
        return self.counts()["c2s"].get(kind, 0)

    def s2c(self, kind: str) -> int:
        return self.counts()["s2c"].get(kind, 0)


def _wait_file(proc: Proc, path: Path, timeout: float = 10) -> None:
    def ready() -> bool:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        return path.exists()

    wait_for(ready, timeout, what=f"{proc.name} to start")


def main(cases: dict, auth: dict | None = None, clients: dict | None = None, deadline: int = 240,
         ternd_settings: str | dict = "", ipv6: set | None = None, streams: set | None = None,
         rogue_tls: set | None = None) -> int:
    """Runs one case named on the command line; exit status 0 only when every check of the case held.

    `auth[case]` is the credential kind the case needs from coturn ("static" unless named); `clients[case]` the
    number of client addresses; the cases in `ipv6` get the IPv6 addresses too (topology.py). `deadline`
    (seconds) bounds the whole case, setup and teardown included.
    `ternd_settings` is libconfig text added to ternd's configuration for every case of the script, or a dict of
    such texts by case.
    The cases in `streams` get TCP and TLS listeners and a test CA (Scenario's streams); those in `rogue_tls` the
    same listeners with a certificate of the other CA.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=sorted(cases))
    args = parser.parse_args()
    auth_kind = (auth or {}).get(args.case, "static")
    if isinstance(ternd_settings, dict):
        ternd_settings = ternd_settings.get(args.case, "")
    n_clients = (clients or {}).get(args.case, 1)

    def on_alarm(*_):
        raise Deadline(f"case {args.case} did not finish in {deadline} s")

    def on_term(*_):
        raise SystemExit(f"case {args.case}: terminated")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(deadline)

    workdir = Path(tempfile.mkdtemp(prefix=f"tern-{Path(sys.argv[0]).stem}-{args.case}-"))
    name = f"{Path(sys.argv[0]).stem} {args.case}"
    kind = servers.server_kind()
    print(f"{name}: server {kind}, credentials {auth_kind}, directory {workdir}", flush=True)
    s = None
    try:
        with Scenario(name, auth_kind, n_clients, workdir, ternd_settings, args.case in (ipv6 or set()),
                      streams=args.case in (streams or set()), rogue_tls=args.case in (rogue_tls or set())) as s:
            cases[args.case](s)
        print(f"PASS {name} ({kind})", flush=True)
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    except BaseException as e:  # noqa: BLE001 -- every way out is reported, then the run fails
        signal.alarm(0)
        if isinstance(e, (Failure, Deadline, servers.ServerError)):
            print(f"FAIL {name} ({kind}): {e}", flush=True)
        else:
            traceback.print_exc()
            print(f"FAIL {name} ({kind}): {type(e).__name__}: {e}", flush=True)
        if s is not None and s.server is not None:
            print(f"--- {kind} log (tail) ---\n{s.server.log_tail()}", flush=True)
        print(f"logs kept in {workdir}", flush=True)
        return 1
