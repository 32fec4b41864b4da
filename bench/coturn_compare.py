"""coturn and ternd side by side under the same real client load, in the integration tests' namespace topology.

    <p>cli (turnutils_uclient) --veth-- <p>srv (coturn | ternd) --veth-- <p>peer (turnutils_peer, echoes)

The topology, the server command lines and ternd's configuration are the integration tests' own
(tests/integration/topology.py, servers.py); coturn runs in kernel mode, by hand with -n and every option on the
command line; ternd runs its data plane on net_af_packet ports bound to the server-side veth ends, with one worker.
Two things differ from the tests: ternd's EAL gets hugepages (--in-memory instead of --no-huge -m 1024), as a
production ternd would, and ternd accepts RFC 5766 channel numbers (turnutils_uclient binds them).

With transport "tcp" or "tls" the clients reach the server over TURN over TCP (uclient -t, port 3478) or TLS
(-t -S, port 5349, trusting a CA the run makes, as the interop tests do); the relayed legs stay UDP. There the
packets are counted as messages (uclient's own totals, each relayed twice), since TCP segments on the veth do not
map to messages, and ternd's CPU is its worker's busy time plus the whole CPU time of its stream transport thread
(tern-streams: the TCP and TLS sockets, OpenSSL, the TAP of the exception path, and the kernel's TCP work done in
its system calls). ternd's path is longer than coturn's there: the kernel's TCP in ternd's namespace, the TAP and
af_packet, where coturn's sockets hold the TCP connection directly.

Per server, one run of turnutils_uclient: `sessions` sessions (-m, no RTCP pair: -c), each sending `messages`
messages of `length` bytes at one per `interval_ms` (-n, -l, -z), ChannelData, to turnutils_peer, which echoes
every message back through the relay. Measured over that run:

  relayed packets   counted where they arrive: the peer's veth (relayed to the peer) plus the client's veth
                    (relayed back to the client, and the few hundred control answers) — the same for both servers
  loss              turnutils_uclient's own count of messages that did not come back
  CPU per packet    coturn: its process's CPU time (utime + stime, /proc/PID/stat) over the run / relayed packets.
                    ternd: its workers' busy TSC cycles / tsc_hz / the packets its workers relayed, from ternd's own
                    counters. A poll-mode worker is always at 100% of its core, so its process CPU time says nothing;
                    the busy cycles are the time it spent on bursts that carried packets.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import servers  # noqa: E402
from pki import Pki  # noqa: E402
from procs import Procs  # noqa: E402
from topology import Topology  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "interop"))
from turnutils_test import summary as uclient_summary  # noqa: E402

PEER_PORT = 3480
# turnutils_uclient binds RFC 5766 channel numbers (0x4000-0x7FFF); RFC 8656 narrowed them to 0x4FFF.
TERND_SETTINGS = "compat = { rfc5766_channels = true; };\n"
# What the benchmark changes in the tests' ternd configuration: (text in servers.TERND_CONF, replacement).
TERND_CONF_CHANGES = (
    # hugepages, as a production ternd runs (the tests run without them)
    ('"--no-huge", "-m", "1024"', '"--in-memory"'),
    # no 401 rate limit: turnutils_uclient makes every allocation from one address, and ternd's default
    # (10 answers per second per source) would spread its setup over tens of seconds; coturn has no such limit
    ("nonce_lifetime = 600;", "nonce_lifetime = 600; unauthenticated_rate = 0;"),
)


def _bench_ternd_conf() -> None:
    for old, new in TERND_CONF_CHANGES:
        if new in servers.TERND_CONF:
            continue
        if old not in servers.TERND_CONF:
            raise RuntimeError(f"servers.TERND_CONF no longer contains {old!r}, which this benchmark replaces")
        servers.TERND_CONF = servers.TERND_CONF.replace(old, new)


class _Procs(Procs):
    """The tests' process launcher; coturn additionally gets `coturn_extra` (e.g. its relay thread count)."""

    def __init__(self, log_dir: Path, coturn_extra: list[str]) -> None:
        super().__init__(log_dir)
        self.coturn_extra = coturn_extra

    def start(self, name, argv, **kwargs):
        if name == "turnserver":
            argv = [*argv, *self.coturn_extra]
        return super().start(name, argv, **kwargs)


class _LinkSampler(threading.Thread):
    """Samples the receiving veth ends every 100 ms, to find the span during which packets flowed."""

    def __init__(self, topo: Topology) -> None:
        super().__init__(daemon=True)
        self.topo = topo
        self.samples = []  # (monotonic, packets delivered to the client and peer namespaces)
        self.done = threading.Event()

    def total(self) -> int:
        return (_link_stats(self.topo.cli, self.topo.cli_if)["rx"]["packets"] +
                _link_stats(self.topo.peer, self.topo.peer_if)["rx"]["packets"])

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append((time.monotonic(), self.total()))
            self.done.wait(0.1)

    def active(self) -> tuple[float, float]:
        """(seconds during which packets flowed at a tenth of the peak rate or more, the peak rate over 1 s)."""
        s = self.samples
        peak = 0.0
        j = 0
        for i in range(len(s)):
            while s[i][0] - s[j][0] > 1.0:
                j += 1
            if s[i][0] - s[j][0] >= 0.9:
                peak = max(peak, (s[i][1] - s[j][1]) / (s[i][0] - s[j][0]))
        active = 0.0
        for i in range(1, len(s)):
            dt = s[i][0] - s[i - 1][0]
            if dt > 0 and (s[i][1] - s[i - 1][1]) / dt >= 0.1 * peak:
                active += dt
        return active, peak


def _link_stats(netns: str, ifname: str) -> dict:
    out = os.popen(f"ip -n {netns} -j -s link show dev {ifname}").read()
    return json.loads(out)[0]["stats64"]


def _proc_cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _worker_schedstat(pid: int) -> tuple[int, int, float] | None:
    """(ns on a CPU, ns waiting on a runqueue, system CPU seconds) of the process's worker lcore thread."""
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            if (task / "comm").read_text().strip() in ("rte-worker-1", "lcore-worker-1"):
                run, wait, _ = (int(x) for x in (task / "schedstat").read_text().split()[:3])
                stat = (task / "stat").read_text()
                stime = int(stat[stat.rindex(")") + 2:].split()[12]) / os.sysconf("SC_CLK_TCK")
                return run, wait, stime
    except (OSError, ValueError):
        pass
    return None


def _proc_cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


IDLE_LOOP = ("tern::dp::Worker::run", "tern::dp::Worker::poll", "tern::dp::Worker::account")


def _thread_cpu_seconds(pid: int, name: str) -> float | None:
    """utime + stime of the thread of `pid` named `name` (/proc/PID/task/TID/stat), or None."""
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            if (task / "comm").read_text().strip() == name:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        pass
    return None


def _worker_tid(pid: int) -> str | None:
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            if (task / "comm").read_text().strip() in ("rte-worker-1", "lcore-worker-1"):
                return task.name
    except OSError:
        pass
    return None


def _fde_ranges(library: str) -> list[tuple[int, int]]:
    """Function address ranges of a shared library from its .eh_frame (present even when it is stripped)."""
    out = subprocess.run(["readelf", "--debug-dump=frames", library], capture_output=True, text=True).stdout
    return [(int(a, 16), int(b, 16)) for a, b in re.findall(r"pc=([0-9a-f]+)\.\.([0-9a-f]+)", out)]


def _tx_function(library: str) -> tuple[int, int] | None:
    """The address range of the function that calls sendto (net_af_packet's TX burst)."""
    dis = subprocess.run(["objdump", "-d", library], capture_output=True, text=True).stdout
    calls = [int(m, 16) for m in re.findall(r"^\s*([0-9a-f]+):.*call.*<sendto@plt>", dis, re.MULTILINE)]
    for lo, hi in _fde_ranges(library):
        if any(lo <= c < hi for c in calls):
            return lo, hi
    return None


def worker_busy_share(data: Path) -> dict | None:
    """From a cpu-clock profile of ternd's worker thread: the share of its samples spent outside the idle poll loop.

    Idle: the loop itself (Worker::run/poll/account) and net_af_packet's RX burst finding its ring empty. Busy:
    everything else — tern's relay code, the hash, mbufs, net_af_packet's TX burst and the kernel under its sendto.
    (An RX burst that does find packets is counted idle: its copy out of the ring is the only busy work missed.)"""
    out = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,symbol", "--stdio",
                          "--full-source-path"], capture_output=True, text=True).stdout
    libs = {}
    for lib in re.findall(r"\S*librte_net_af_packet\S*\.so[.0-9]*", subprocess.run(
            ["perf", "report", "-i", str(data), "--sort", "dso", "--stdio", "-v"], capture_output=True, text=True).stdout):
        libs[Path(lib).name] = lib
    busy = idle = kernel = 0.0
    tx_ranges = {}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.+?)(\s+-\s+-)?\s*$", line)
        if not m:
            continue
        pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
        if kind == "k":
            busy += pct
            kernel += pct
        elif sym in IDLE_LOOP:
            idle += pct
        elif "af_packet" in dso and sym.startswith("0x"):
            path = libs.get(dso) or next((str(p) for p in Path("/usr/lib").rglob(dso)), None)
            if path and path not in tx_ranges:
                tx_ranges[path] = _tx_function(path)
            rng = tx_ranges.get(path)
            addr = int(sym, 16)
            if rng and rng[0] <= addr < rng[1]:
                busy += pct
            else:
                idle += pct
        else:
            busy += pct
    total = busy + idle
    if total <= 0:
        return None
    return {"busy_share": busy / total, "kernel_share": kernel / total}


def _threads(pid: int) -> int:
    try:
        return len(list(Path(f"/proc/{pid}/task").iterdir()))
    except OSError:
        return 0


def ternd_counters(log: str) -> dict:
    """Every `key=value` of ternd's final `counters` lines, by scope (control/ternd/main.cpp log_counters)."""
    scopes = {}
    for line in log.splitlines():
        if "counters" not in line or "scope=" not in line:
            continue
        pairs = dict(re.findall(r"(\w+)=([^\s]+)", line))
        scope = pairs.pop("scope", "?")
        values = {}
        for k, v in pairs.items():
            try:
                values[k] = float(v) if "." in v else int(v)
            except ValueError:
                continue
        scopes[scope] = values
    return scopes


def ternctl_stats(build: Path, socket: Path) -> dict | None:
    """`ternctl stats --json` (the first JSON object it prints), or None if there is no ternctl or no answer."""
    ternctl = build / "control" / "ternctl"
    if not ternctl.exists():
        return None
    try:
        done = subprocess.run([str(ternctl), "-s", str(socket), "--json", "stats"], capture_output=True, text=True,
                              timeout=15)
    except subprocess.TimeoutExpired:
        return None
    for line in done.stdout.splitlines():
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def _numbers(node, found: dict, prefix: str = "") -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _numbers(v, found, f"{prefix}{k}")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        found[prefix] = node


def _busy_in(node) -> tuple[float, float] | None:
    """(busy cycles, tsc_hz or 0) summed over the entries of one part of a stats reply."""
    items = node if isinstance(node, list) else [node]
    busy, hz, seen = 0.0, 0.0, False
    for item in items:
        found = {}
        _numbers(item, found)
        for k, v in found.items():
            if "busy" in k and ("cycle" in k or "tsc" in k) and "ratio" not in k:
                busy += v
                seen = True
            elif k.endswith("tsc_hz"):
                hz = v
    return (busy, hz) if seen else None


def busy_from_stats(stats: dict | None) -> tuple[float, float] | None:
    """The workers' busy cycles in a ternctl stats reply: per worker if it has them (`load`, `per_worker`), else the
    sum (`dataplane`); and tsc_hz wherever the reply carries it (0 if nowhere)."""
    if not stats:
        return None
    hz_found = {}
    _numbers(stats, hz_found)
    hz = next((v for k, v in hz_found.items() if k.endswith("tsc_hz")), 0.0)
    for part in ("load", "per_worker", "dataplane"):
        if part in stats:
            got = _busy_in(stats[part])
            if got:
                return got[0], got[1] or hz
    return None


RELAYED_COUNTERS = ("channel_data_to_peer", "send_to_peer", "channel_data_to_client", "data_indication_to_client",
                    "hairpin")


def relayed_from_stats(stats: dict | None) -> int | None:
    """Packets the workers relayed, from a ternctl stats reply's summed data-plane counters."""
    if not stats or "dataplane" not in stats:
        return None
    found = {}
    _numbers(stats["dataplane"], found)
    values = [v for k, v in found.items() if any(k.endswith(c) for c in RELAYED_COUNTERS)]
    return int(sum(values)) if values else None


def busy_seconds(scopes: dict, tsc_hz: float = 0) -> float | None:
    """The workers' busy time from ternd's final counters (the data-plane sum), if this ternd counts busy cycles;
    `tsc_hz` if the log does not say."""
    values = scopes.get("dataplane", {})
    busy = [v for k, v in values.items() if "busy" in k and ("cycle" in k or "tsc" in k)]
    hz = next((v for scope in scopes.values() for k, v in scope.items() if k.endswith("tsc_hz")), 0) or tsc_hz
    if busy and hz:
        return sum(busy) / hz
    return None


STREAM_THREAD = "tern-streams"  # ternd's stream transport thread (control/transport/stream_transport.hpp)


def run_one(kind: str, workdir: Path, build: Path, sessions: int, messages: int, length: int,
            interval_ms: int, coturn_relay_threads: int = 1, tsc_hz: float = 0, transport: str = "udp") -> dict:
    """One server under the load. `tsc_hz`: the TSC frequency to use if ternd's statistics do not carry theirs.
    `transport`: how the clients reach the server, "udp", "tcp" or "tls"."""
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["TERN_BUILD_DIR"] = str(build)
    _bench_ternd_conf()
    topo = Topology(servers.topology_mode(kind), clients=1)
    result = {"server": kind, "transport": transport}
    stream = transport != "udp"
    with _Procs(workdir, ["--relay-threads", str(coturn_relay_threads)]) as procs:
        topo.create()
        try:
            tls = None
            flags = []
            if stream:
                pki = Pki(workdir)
                tls = pki.server(topo.listen_ip)
                flags = (["-t", "-p", str(servers.TCP_PORT)] if transport == "tcp" else
                         ["-t", "-S", "-p", str(servers.TLS_PORTS[0]), "-E", str(pki.ca)])
            server = servers.start(kind, topo, procs, workdir, "static", TERND_SETTINGS, tls=tls)
            procs.start("turnutils_peer", ["turnutils_peer", "-L", topo.peer_ip, "-p", str(PEER_PORT)],
                        netns=topo.peer)
            time.sleep(0.5)
            argv = ["turnutils_uclient", *flags, "-c", "-u", servers.USER, "-w", servers.PASSWORD, "-m", str(sessions),
                    "-n", str(messages), "-l", str(length), "-z", str(interval_ms), "-e", topo.peer_ip,
                    "-r", str(PEER_PORT), topo.listen_ip]
            result["uclient_argv"] = argv
            result["server_argv"] = server.proc.popen.args
            cli0, peer0 = _link_stats(topo.cli, topo.cli_if), _link_stats(topo.peer, topo.peer_if)
            cpu0 = _proc_cpu_seconds(server.proc.pid)
            streams0 = _thread_cpu_seconds(server.proc.pid, STREAM_THREAD) if kind == "ternd" and stream else None
            stats0 = ternctl_stats(build, workdir / "ternd.sock") if kind == "ternd" else None
            sched0 = _worker_schedstat(server.proc.pid) if kind == "ternd" else None
            utime0 = _proc_cpu_split(server.proc.pid)
            profile = None
            if kind == "ternd" and _worker_tid(server.proc.pid):
                profile = subprocess.Popen(["perf", "record", "-q", "-t", _worker_tid(server.proc.pid), "-e",
                                            "cpu-clock", "-o", str(workdir / "worker.perf.data")],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                result["profile_argv"] = profile.args
            sampler = _LinkSampler(topo)
            sampler.start()
            t0 = time.monotonic()
            # Bounded: -n messages at one per interval, plus setup; killed if it runs past twice that.
            status, out = procs.run("turnutils_uclient", argv, netns=topo.cli,
                                    timeout=30 + 2 * messages * interval_ms / 1000)
            elapsed = time.monotonic() - t0
            sampler.done.set()
            sampler.join()
            if profile is not None:
                profile.send_signal(signal.SIGINT)
                profile.wait(timeout=60)
            active, peak = sampler.active()
            cpu1 = _proc_cpu_seconds(server.proc.pid)
            streams1 = _thread_cpu_seconds(server.proc.pid, STREAM_THREAD) if kind == "ternd" and stream else None
            stats1 = ternctl_stats(build, workdir / "ternd.sock") if kind == "ternd" else None
            sched1 = _worker_schedstat(server.proc.pid) if kind == "ternd" else None
            utime1 = _proc_cpu_split(server.proc.pid)
            cli1, peer1 = _link_stats(topo.cli, topo.cli_if), _link_stats(topo.peer, topo.peer_if)
            result["threads"] = _threads(server.proc.pid)
            to_peer = peer1["rx"]["packets"] - peer0["rx"]["packets"]
            to_client = cli1["rx"]["packets"] - cli0["rx"]["packets"]
            result.update({
                "uclient_status": status, "seconds": elapsed, "uclient": uclient_summary(out),
                "relayed_to_peer": to_peer, "relayed_to_client": to_client,
                "relayed": to_peer + to_client, "active_seconds": active,
                "pps": (to_peer + to_client) / active if active else 0.0, "peak_pps": peak,
                "process_cpu_seconds": cpu1 - cpu0,
                "user_seconds": utime1[0] - utime0[0], "system_seconds": utime1[1] - utime0[1],
            })
            if stream:
                # Messages, not segments: each message uclient sent went to the peer and came back.
                u = result["uclient"]
                result["relayed"] = u.get("sent", 0) + u.get("received", 0)
                if streams0 is not None and streams1 is not None:
                    result["stream_thread_cpu_seconds"] = streams1 - streams0
            procs.stop(server.proc, grace=10)
            if kind == "ternd":
                scopes = ternd_counters(server.log_tail(400))
                dp = scopes.get("dataplane", {})
                worker_relayed = sum(dp.get(k, 0) for k in RELAYED_COUNTERS)
                result["worker_relayed"] = worker_relayed
                result["ternd_counters"] = scopes
                result["ternctl_stats_after"] = stats1
                # Busy cycles over the load from ternctl (before/after), else over ternd's life from its final log.
                b0, b1 = busy_from_stats(stats0), busy_from_stats(stats1)
                r0, r1 = relayed_from_stats(stats0), relayed_from_stats(stats1)
                hz = (b1[1] or b0[1] or tsc_hz) if b0 and b1 else 0
                if b0 and b1 and hz and r0 is not None and r1 is not None:
                    busy = (b1[0] - b0[0]) / hz
                    worker_relayed = r1 - r0
                    result["worker_relayed"] = worker_relayed
                    result["busy_source"] = "ternctl stats --json, before and after the load"
                else:
                    busy = busy_seconds(scopes, tsc_hz)
                    result["busy_source"] = "ternd's final counters (its whole life)" if busy is not None else None
                result["busy_seconds"] = busy
                # How busy the worker was over the load (busy / all loop cycles), where ternd counts both.
                if stats0 and stats1:
                    f0, f1 = {}, {}
                    _numbers(stats0.get("dataplane", {}), f0)
                    _numbers(stats1.get("dataplane", {}), f1)
                    total = f1.get("total_cycles", 0) - f0.get("total_cycles", 0)
                    busy_c = f1.get("busy_cycles", 0) - f0.get("busy_cycles", 0)
                    result["busy_share"] = busy_c / total if total > 0 else None
                    # The busy cycles are TSC time: on a core shared with other processes they include the time
                    # the worker was descheduled in the middle of a busy loop iteration — and the iteration that
                    # follows a wait is nearly always busy, since packets piled up meanwhile. Bounds on the CPU
                    # time really spent in busy iterations, from the worker thread's own run and wait times:
                    #   at most  busy x (time on CPU / wall time)   (waits spread evenly over busy and idle)
                    #   at least busy - time waiting on the runqueue (every wait inside a busy iteration)
                    if sched0 and sched1 and busy is not None and total > 0 and hz:
                        run = (sched1[0] - sched0[0]) / 1e9
                        wait = (sched1[1] - sched0[1]) / 1e9
                        wall = total / hz
                        result["worker_on_cpu_seconds"] = run
                        result["worker_waiting_seconds"] = wait
                        result["loop_wall_seconds"] = wall
                        result["busy_cpu_upper_seconds"] = busy * min(1.0, run / wall)
                        # The worker makes system calls only in busy iterations (the sendto that kicks each af_packet
                        # TX burst; RX polls the mapped ring), so its system time is a floor as well.
                        result["worker_system_seconds"] = sched1[2] - sched0[2]
                        result["busy_cpu_lower_seconds"] = max(0.0, busy - wait, sched1[2] - sched0[2])
                # The measurement that holds on a shared core: the profile's busy share of the worker's samples
                # times its time on the CPU (cpu-clock samples only while it runs).
                shares = worker_busy_share(workdir / "worker.perf.data") if profile is not None else None
                if shares and sched0 and sched1:
                    run = (sched1[0] - sched0[0]) / 1e9
                    result.update(shares)
                    result["worker_on_cpu_seconds"] = run
                    result["busy_cpu_profiled_seconds"] = shares["busy_share"] * run
                    result["kernel_cpu_profiled_seconds"] = shares["kernel_share"] * run
                per = (lambda sec: sec / worker_relayed * 1e9 if sec is not None and worker_relayed else None)
                result["cpu_ns_per_packet_busy_tsc"] = per(busy)
                result["cpu_ns_per_packet_upper"] = per(result.get("busy_cpu_upper_seconds"))
                result["cpu_ns_per_packet_lower"] = per(result.get("busy_cpu_lower_seconds"))
                result["cpu_ns_per_packet_profiled"] = per(result.get("busy_cpu_profiled_seconds"))
                result["kernel_ns_per_packet_profiled"] = per(result.get("kernel_cpu_profiled_seconds"))
                result["cpu_ns_per_packet"] = (result["cpu_ns_per_packet_profiled"] or result["cpu_ns_per_packet_upper"]
                                               or result["cpu_ns_per_packet_busy_tsc"])
                if stream:
                    # The worker's share, and the stream transport thread's over the messages relayed.
                    result["worker_ns_per_packet"] = result["cpu_ns_per_packet"]
                    thread = result.get("stream_thread_cpu_seconds")
                    result["stream_thread_ns_per_packet"] = (thread / result["relayed"] * 1e9
                                                             if thread is not None and result["relayed"] else None)
                    result["cpu_ns_per_packet"] = (
                        (result["worker_ns_per_packet"] or 0) + result["stream_thread_ns_per_packet"]
                        if result["stream_thread_ns_per_packet"] is not None else None)
            else:
                result["cpu_ns_per_packet"] = result["process_cpu_seconds"] / result["relayed"] * 1e9 \
                    if result["relayed"] else None
        finally:
            procs.stop_all()
            topo.remove()
    return result
