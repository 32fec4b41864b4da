"""What the operator tests share: ternctl run inside a namespace of the scenario (it reaches ternd's Unix socket through
the filesystem from any of them), the metrics endpoint scraped inside the server namespace, a Prometheus text
exposition parser that refuses any line format 0.0.4 does not allow, and the streaming TURN client.

The scenarios themselves are tests/integration's (topology, servers, procs): ternd in `<p>srv` on two net_af_packet
ports, clients in `<p>cli`, echo peers in `<p>peer`.
"""

import json
import os
import re
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import scenario  # noqa: E402
import servers  # noqa: E402
from procs import wait_for  # noqa: E402
from scenario import Scenario  # noqa: E402

STREAM_CLIENT = HERE / "stream_client.py"
METRICS = "http://127.0.0.1:9641"  # servers.TERND_CONF: control.metrics inside the server namespace
SKIP = 77  # meson's exit status for a skipped test


def require_ternd() -> None:
    """The operator surface is ternd's: against coturn there is nothing to test."""
    if servers.server_kind() != "ternd":
        print("operator tests need ternd (TERN_SERVER=ternd)", flush=True)
        sys.exit(SKIP)


def ternctl_binary() -> Path:
    build = Path(os.environ.get("TERN_BUILD_DIR") or HERE.parents[1] / "build")
    return build / "control" / "ternctl"


def socket_path(s: Scenario) -> Path:
    return s.workdir / "ternd.sock"


def ternctl(s: Scenario, *args: str, netns: str | None = None, timeout: float = 60,
            stdin: str | None = None) -> tuple[int | None, str]:
    """ternctl ARGS in `netns` (the server's by default); (exit status, output)."""
    argv = [str(ternctl_binary()), "--socket", str(socket_path(s)), *args]
    if stdin is not None:
        argv = ["/bin/sh", "-c", 'printf "%s\\n" "$0" | "$@"', stdin, *argv]
    return s.procs.run("ternctl", argv, netns=netns or s.topo.srv, timeout=timeout)


def ternctl_json(s: Scenario, *args: str, netns: str | None = None) -> dict:
    """ternctl --json ARGS, which must succeed; its one JSON object."""
    status, out = ternctl(s, "--json", *args, netns=netns)
    s.expect(status == 0, f"ternctl {' '.join(args)} exited {status}:\n{out}")
    return json.loads(out.strip().splitlines()[-1])


def scrape(s: Scenario, path: str = "/metrics") -> tuple[int, dict, str]:
    """GET on the metrics endpoint from inside the server namespace: (status, headers, body)."""
    code = ("import json, sys, urllib.request, urllib.error\n"
            "try:\n"
            f"    r = urllib.request.urlopen('{METRICS}{path}', timeout=10)\n"
            "    status, headers, body = r.status, dict(r.headers), r.read().decode()\n"
            "except urllib.error.HTTPError as e:\n"
            "    status, headers, body = e.code, dict(e.headers), e.read().decode()\n"
            "print(json.dumps([status, headers, body]))\n")
    status, out = s.procs.run("scrape", [scenario.PYTHON, "-c", code], netns=s.topo.srv, timeout=30)
    s.expect(status == 0, f"scraping {path} failed:\n{out}")
    got = json.loads(out.strip().splitlines()[-1])
    return got[0], got[1], got[2]


_HELP = re.compile(r"^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$")
_TYPE = re.compile(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$")
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|NaN|Inf))$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)')


def parse_exposition(text: str) -> tuple[dict, dict]:
    """Prometheus text format 0.0.4, strictly: every line a HELP, a TYPE or a sample of the family just typed, no
    family twice, no series twice. Returns ({(name, frozenset(labels)): value}, {name: type}); raises ValueError
    naming the first bad line."""
    if not text.endswith("\n"):
        raise ValueError("the exposition does not end with a line feed")
    samples: dict = {}
    types: dict = {}
    helped: set = set()
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if m := _HELP.match(line):
            if m[1] in helped:
                raise ValueError(f"line {n}: second HELP for {m[1]}")
            helped.add(m[1])
        elif m := _TYPE.match(line):
            if m[1] in types:
                raise ValueError(f"line {n}: family {m[1]} typed twice")
            if m[1] not in helped:
                raise ValueError(f"line {n}: TYPE before HELP")
            types[m[1]] = m[2]
            current = m[1]
        elif m := _SAMPLE.match(line):
            name, labels_text, value = m[1], m[2] or "", m[3]
            if name != current:
                raise ValueError(f"line {n}: sample of {name} outside its family: {line}")
            labels = {}
            rest = labels_text
            while rest:
                lm = _LABEL.match(rest)
                if not lm:
                    raise ValueError(f"line {n}: bad labels: {labels_text}")
                labels[lm[1]] = lm[2]
                rest = rest[lm.end():]
            key = (name, frozenset(labels.items()))
            if key in samples:
                raise ValueError(f"line {n}: series twice: {line}")
            if types[name] == "counter" and not name.endswith("_total"):
                raise ValueError(f"line {n}: counter {name} without _total")
            samples[key] = float(value)
        else:
            raise ValueError(f"line {n}: not exposition format 0.0.4: {line!r}")
    return samples, types


def metric(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


class Stream:
    """stream_client.py in the client namespace: one allocation sending numbered datagrams to the echo peer over a
    channel for `seconds`; `relayed` once allocated; `result()` waits for its end and returns its report."""

    def __init__(self, s: Scenario, name: str, seconds: float, rate: int = 100, user: str = servers.USER,
                 password: str = servers.PASSWORD, peer_port: int = 7000) -> None:
        self.s = s
        ready = s.workdir / f"{name}.ready"
        self.proc = s.procs.start(name, s.python(STREAM_CLIENT, "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}",
                                                 "--user", user, "--password", password,
                                                 "--peer", f"{s.topo.peer_ip}:{peer_port}",
                                                 "--seconds", str(seconds), "--rate", str(rate),
                                                 "--ready", str(ready)),
                                  netns=s.topo.cli)

        def allocated():
            if not self.proc.alive():
                raise RuntimeError(f"{name} ended before allocating:\n{self.proc.tail()}")
            return ready.exists() and ready.read_text().strip()

        self.relayed = wait_for(allocated, 30, what=f"{name} to allocate")

    def result(self, timeout: float = 120) -> dict:
        status = self.proc.wait(timeout)
        self.s.expect(status == 0, f"stream client exited {status}:\n{self.proc.tail()}")
        report = json.loads(self.proc.output().strip().splitlines()[-1])
        self.s.note(f"stream: {report}")
        return report


def wait_until(s: Scenario, predicate, timeout: float, what: str):
    try:
        return wait_for(predicate, timeout, interval=0.2, what=what)
    except TimeoutError as e:
        raise scenario.Failure(str(e)) from None


def server_log(s: Scenario) -> str:
    return s.server.proc.output() if s.server else ""


def wait_log(s: Scenario, needle: str, timeout: float = 10) -> None:
    wait_until(s, lambda: needle in server_log(s), timeout, f"'{needle}' in ternd's log")


def now() -> float:
    return time.monotonic()
