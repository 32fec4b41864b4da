#!/usr/bin/python3
"""The soak: ternd in the integration test network for --minutes (default 20, at most 20), under the real clients'
mix, with allocation churn, a `ternctl reload` every minute and `ternctl drain on` / `off` half-way between reloads.
Not part of any meson suite (it takes too long for CI); run it by hand, as root:

    TERN_BUILD_DIR=build /usr/bin/python3 tests/soak/soak_test.py --minutes 20

What runs, all the time:
  steady   STEADY_ALLOCATIONS UDP allocations that live the whole run (soak_clients.py: Refresh and ChannelBind
           every minute), relaying numbered ChannelData at STEADY_RATE datagrams a second to an echo peer
  churn    load_clients.py churn: Allocate -> Refresh(LIFETIME 0) cycles at CHURN_RATE a second
and in turn, twice a minute, one real client to completion: coturn's turnutils_uclient over UDP, TCP and TLS (to
5349 and 443), python3-aioice over UDP, pion/turn over UDP and TLS (when Go can build it offline).

What must hold at the end:
  - the steady set lost nothing: every datagram sent came back once and intact, every Refresh and ChannelBind
    succeeded, every allocation was still there to delete;
  - every real client run echoed everything; every reload applied and refused nothing; every drain refused a new
    Allocate (508) and let it through again afterwards; the churn saw no error but drain's 508s and abandoned nothing;
  - packet buffers in use back at their idle baseline, ternd's private resident memory (DPDK's reserved region
    aside) no higher at the end than MEMORY_GROWTH_KIB above its level half-way;
  - every allocation ended (the few turnutils_uclient over UDP leaves behind to expire are removed with
    `ternctl kill`; any other still live fails the run), every relay port and table slot back;
  - the accounting closes: every frame delivered to ternd's ports reached a worker; the workers' identities, derived
    from the roles in dataplane/contract/counters.hpp (integration/accounting.py); the control plane's (every punted message
    and stream request handled, every request answered: hostile.check_accounted).

It prints its figures (figures.json in its directory, which is kept when it fails); tests/README.md records a run.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for folder in ("integration", "hostile", "load", "interop", "operator"):
    sys.path.insert(0, str(TESTS / folder))

import accounting  # noqa: E402
import hostile  # noqa: E402
import load  # noqa: E402
import servers  # noqa: E402
import stun_codec as stun  # noqa: E402
import turnutils_test as turnutils  # noqa: E402
from procs import wait_for  # noqa: E402
from scenario import Deadline, Failure, Scenario  # noqa: E402

STEADY_ALLOCATIONS = 8
STEADY_RATE = 200            # ChannelData a second over the steady set, echoed by the peer
STEADY_REFRESH = 60          # seconds between a steady allocation's Refresh + ChannelBind
CHURN_RATE = 40              # Allocate + Refresh(0) cycles started a second
CHURN_SOCKETS = 64
UCLIENT_CLIENTS = 4          # turnutils_uclient -m
ECHO_PORTS = [7000, 7001, 7002]
# ternd's private memory grows while bounded structures fill for the first time (the transaction cache's 32768
# answers take about 7 minutes at the churn's 80 requests a second); over the second half it must not grow by more
# than this.
MEMORY_GROWTH_KIB = 1024
RELAY_PORTS = servers.RELAY_PORT_MAX - servers.RELAY_PORT_MIN + 1
# turnutils_uclient binds RFC 5766 channel numbers; the reload toggles SOFTWARE, a setting that applies live.
TERND_SETTINGS = 'compat = { rfc5766_channels = true; };\nsoftware = "tern-soak-0";\n'
# Every 5-tuple of the churn takes a nonce with its first (unauthenticated) request.
CONF_EDITS = [("nonce_lifetime = 600;", "nonce_lifetime = 600; unauthenticated_rate = 0;")]


class Steady(load.Generator):
    """soak_clients.py steady in the client namespace (load.Generator's life cycle: ready file, JSON result)."""

    def __init__(self, s: Scenario, seconds: float) -> None:
        self.s = s
        self.name = "steady"
        self.out = s.workdir / "steady.json"
        self.ready_path = s.workdir / "steady.ready"
        argv = s.python(HERE / "soak_clients.py", "steady", "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}",
                        "--local", s.topo.client_ips[0], "--peer", f"{s.topo.peer_ip}:{ECHO_PORTS[0]}",
                        "--allocations", str(STEADY_ALLOCATIONS), "--rate", str(STEADY_RATE),
                        "--refresh", str(STEADY_REFRESH), "--seconds", str(seconds), "--out", str(self.out),
                        "--cpu", load.GENERATOR_CPU, "--ready", str(self.ready_path))
        self.proc = s.procs.start("steady", argv, netns=s.topo.cli)
        wait_for(self._ready, 60, what="the steady set to be ready")


class Soak:
    def __init__(self, s: Scenario, seconds: float) -> None:
        self.s = s
        self.seconds = seconds
        self.failures: list[str] = []
        self.events: dict[str, int] = {}
        self.software = 0

    # -- what happens during the run -----------------------------------------------------------------------------
    def ternctl(self, *args: str) -> tuple[int, dict | None, str]:
        argv = [str(hostile.ternctl()), "-s", str(self.s.workdir / "ternd.sock"), "--json", *args]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        reply = json.loads(done.stdout.splitlines()[0]) if done.stdout.strip() else None
        return done.returncode, reply, done.stderr.strip()

    def fail(self, what: str) -> None:
        self.failures.append(what)
        self.s.note(f"FAILED: {what}")

    def count(self, event: str) -> None:
        self.events[event] = self.events.get(event, 0) + 1

    def reload(self) -> None:
        """`ternctl reload` of a file whose SOFTWARE changed: applied, nothing refused."""
        conf = self.s.workdir / "ternd.conf"
        old = f'software = "tern-soak-{self.software}";'
        self.software += 1
        conf.write_text(conf.read_text().replace(old, f'software = "tern-soak-{self.software}";'))
        status, reply, err = self.ternctl("reload")
        if status != 0 or reply is None or "software" not in reply.get("applied", []) or reply.get("not_applied"):
            return self.fail(f"reload {self.software}: status {status}, {reply}, {err}")
        self.count("reloads")

    def drain(self) -> None:
        """`ternctl drain on`: a new Allocate gets 508 (no alternate_server); `drain off`: allowed again."""
        status, reply, err = self.ternctl("drain", "on")
        if status != 0 or not (reply or {}).get("draining"):
            return self.fail(f"drain on: status {status}, {reply}, {err}")
        client = hostile.TurnClient(self.s, self.s.topo.client_ips[-1])
        try:
            refused = client.allocate()
            code = refused.error_code() if refused is not None and refused.cls == stun.ERROR else None
            if code != 508:
                self.fail(f"Allocate while draining: {refused.describe() if refused else 'no answer'}, expected 508")
            status, reply, err = self.ternctl("status")
            if not (reply or {}).get("draining"):
                self.fail(f"status while draining: {reply} {err}")
            time.sleep(2)
        finally:
            status, reply, err = self.ternctl("drain", "off")
            if status != 0 or (reply or {}).get("draining", True):
                self.fail(f"drain off: status {status}, {reply}, {err}")
        allowed = client.allocate()
        if allowed is None or allowed.cls != stun.SUCCESS:
            self.fail(f"Allocate after drain off: {allowed.describe() if allowed else 'no answer'}")
        elif (deleted := client.refresh(0)) is None or deleted.cls != stun.SUCCESS:
            self.fail(f"Refresh 0 after drain off: {deleted.describe() if deleted else 'no answer'}")
        client.close()
        self.count("drains")

    def real_clients(self) -> list:
        def uclient(name: str, *flags: str):
            def run() -> None:
                argv = turnutils.uclient_argv(self.s, *flags, clients=UCLIENT_CLIENTS)
                status, out = self.s.run_client(f"uclient-{name}", argv, timeout=turnutils.UCLIENT_TIMEOUT)
                turnutils.expect_all_echoed(self.s, status, out, clients=UCLIENT_CLIENTS)
            return (f"turnutils_uclient {name}", run)

        ca = str(self.s.pki.ca)
        clients = [uclient("udp"), uclient("tcp", "-t", "-p", str(servers.TCP_PORT)),
                   ("aioice udp", lambda: hostile.serves_real_client(self.s, self.echo)),
                   uclient("tls", "-t", "-p", str(servers.TLS_PORTS[0]), "-S", "-E", ca),
                   uclient("tls-443", "-t", "-p", str(servers.TLS_PORTS[1]), "-S", "-E", ca)]
        try:
            import pion_test as pion
            pion.build_client()
            clients += [("pion udp", lambda: pion.run_client(self.s, "udp")),
                        ("pion tls", lambda: pion.run_client(self.s, "tls", servers.TLS_PORTS[0]))]
        except Exception as e:  # noqa: BLE001 -- Go or pion/turn missing: the others still run
            self.s.note(f"pion/turn client not available, left out: {e}")
        return clients

    def run_client(self, name: str, run) -> None:
        try:
            run()
            self.count(name)
        except Failure as e:
            self.fail(f"{name}: {e}")

    # -- the run -------------------------------------------------------------------------------------------------
    def run(self) -> dict:
        s = self.s
        self.echo = s.start_echo_peer(ECHO_PORTS)
        turnutils.start_peer(s)
        clients = self.real_clients()
        time.sleep(1)
        baseline = hostile.stats(s)
        memory_start = load.memory_kib(s.server.proc.pid)
        s.note(f"baseline: mbufs in use {baseline.mempool_in_use}, ternd memory {memory_start} KiB")

        steady = Steady(s, self.seconds)
        memory = load.MemorySampler(s.server.proc.pid, interval=2)
        local = [arg for ip in s.topo.client_ips[1:-1] for arg in ("--local", ip)]
        churn = load.Generator(s, "churn", "churn", *local, "--rate", str(CHURN_RATE), "--seconds",
                               str(self.seconds - 5), "--sockets", str(CHURN_SOCKETS))
        start = time.monotonic()
        peak = {"allocations": 0, "mbufs_in_use": 0}
        turn = 0
        minute = 0
        while (elapsed := time.monotonic() - start) < self.seconds - 20:
            # Each minute: reload at :00, a real client at :05, drain at :30, another real client at :35.
            at = minute * 60
            if elapsed >= at:
                self.reload()
            self._until(start + at + 5)
            self.run_client(*clients[turn % len(clients)])
            turn += 1
            self._sample(peak)
            if time.monotonic() - start >= self.seconds - 20:
                break
            self._until(start + at + 30)
            self.drain()
            self._until(start + at + 35)
            if time.monotonic() - start < self.seconds - 20:
                self.run_client(*clients[turn % len(clients)])
                turn += 1
            self._sample(peak)
            minute += 1
            self._until(start + minute * 60)
        churned = churn.result(timeout=self.seconds + 60)
        flowed = steady.result(timeout=self.seconds + 60)
        samples = memory.stop()
        elapsed = time.monotonic() - start
        self.echo.stats()

        # The steady set: nothing lost.
        expected = int(STEADY_RATE * self.seconds * 0.95)
        if not (flowed["sent"] >= expected and flowed["missing"] == 0 and flowed["duplicates"] == 0 and
                flowed["corrupt"] == 0 and flowed["received"] == flowed["sent"]):
            self.fail(f"steady traffic: sent {flowed['sent']} (expected {expected} at least), received "
                      f"{flowed['received']}, missing {flowed['missing']}, duplicates {flowed['duplicates']}, "
                      f"corrupt {flowed['corrupt']}")
        refreshes = STEADY_ALLOCATIONS * int((self.seconds - 1) // STEADY_REFRESH)
        if flowed["errors"] or flowed["refreshes"] < refreshes or flowed["channel_binds"] < refreshes or \
                flowed["deleted"] != STEADY_ALLOCATIONS:
            self.fail(f"steady allocations: errors {flowed['errors']}, {flowed['refreshes']} refreshes and "
                      f"{flowed['channel_binds']} ChannelBinds (expected {refreshes} each), {flowed['deleted']} of "
                      f"{STEADY_ALLOCATIONS} deleted at the end")
        # The churn: only drain's refusals.
        other_errors = {k: v for k, v in churned["errors"].items() if k != "allocate 508"}
        if other_errors or churned["abandoned"] or churned["in_flight_at_end"] or \
                churned["allocated"] != churned["deleted"]:
            self.fail(f"churn: errors {churned['errors']}, abandoned {churned['abandoned']}, in flight at the end "
                      f"{churned['in_flight_at_end']}, allocated {churned['allocated']}, deleted {churned['deleted']}")

        # Memory: over the second half.
        half, last = samples[len(samples) // 2], samples[-1]
        growth = last["private"] - half["private"]
        if growth > MEMORY_GROWTH_KIB:
            self.fail(f"ternd's private resident memory grew by {growth} KiB over the second half of the run "
                      f"({half['private']} -> {last['private']} KiB)")

        # The end: idle, settled, stopped; every frame and allocation accounted for.
        left = self.remove_abandoned()
        time.sleep(2.5)  # the control plane's upkeep returns ports and slots after the workers' grace period
        live = hostile.stats(s)
        memory_end = load.memory_kib(s.server.proc.pid)
        exception = hostile.stream_counters(s)["exception"]
        counters = hostile.finish(s, baseline)  # mbufs back at the baseline, wire vs workers, ternd's control plane
        dp = counters.scopes["dataplane"]
        stream_delivered = counters.scopes["exception"]["stream_delivered"]
        roles = accounting.worker_counter_roles()
        for failure in accounting.check(dp, stream_delivered, roles):
            self.fail(f"worker accounting: {failure}")
        ctl = counters.ctl
        ended = ctl("allocations_deleted") + ctl("allocations_expired") + ctl("allocations_connection_closed") + \
            ctl("allocations_killed")
        if ctl("allocations_live") != 0 or ctl("allocations_created") != ended:
            self.fail(f"allocations: created {ctl('allocations_created')}, ended {ended}, live "
                      f"{ctl('allocations_live')}")
        if ctl("relay_ports_free") != RELAY_PORTS or ctl("slots_awaiting_reclaim") != 0 or ctl("table_write_failures"):
            self.fail(f"relay_ports_free {ctl('relay_ports_free')} of {RELAY_PORTS}, slots_awaiting_reclaim "
                      f"{ctl('slots_awaiting_reclaim')}, table_write_failures {ctl('table_write_failures')}")

        by_role = accounting.sums(dp, roles)
        return {
            "seconds": round(elapsed, 1),
            "cpu": cpu_model(),
            "steady": {k: flowed[k] for k in ("sent", "received", "missing", "duplicates", "corrupt", "refreshes",
                                              "channel_binds", "stale_nonces", "retransmissions", "deleted")},
            "churn": {k: churned[k] for k in ("cycles", "allocated", "deleted", "errors", "abandoned",
                                              "retransmissions", "latency_ms")},
            "events": self.events,
            "allocations": {**{k: ctl(f"allocations_{k}") for k in ("created", "deleted", "expired",
                                                                     "connection_closed", "killed", "live")},
                            "left_by_uclient_and_killed": left},
            "peak": peak,
            "relayed": {k: dp[k] for k in ("channel_data_to_peer", "send_to_peer", "channel_data_to_client",
                                           "data_indication_to_client", "hairpin")},
            "mbufs_in_use": {"start": baseline.mempool_in_use, "end": live.mempool_in_use},
            "memory_kib": {"start": memory_start, "half": half, "end": memory_end,
                           # private resident memory once a minute (MemorySampler samples every 2 s)
                           "private_by_minute": [x["private"] for x in samples[::30]]},
            "accounting": {"roles": {k: v for k, v in by_role.items() if k != "measure"},
                           "stream_delivered": stream_delivered,
                           "control_punts_received": counters.io("punts_received"),
                           "exception_live": {k: exception.get(k, 0) for k in ("kernel_in", "stream_delivered",
                                                                               "stream_relayed")}},
            "failures": self.failures,
        }

    def remove_abandoned(self) -> int:
        """turnutils_uclient over UDP leaves some of its allocations behind (it deletes 4 of the 6 it makes with
        -m 4), to expire after the LIFETIME it asked for (777 s). Those still live are removed with `ternctl kill`;
        any other live allocation is a failure: every other client deletes what it made."""
        status, reply, err = self.ternctl("allocations")
        if status != 0 or reply is None:
            self.fail(f"ternctl allocations: status {status}, {err}")
            return 0
        created = {}
        for line in self.s.server.proc.output().splitlines():
            if " event=allocation_created " in line:
                fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
                created[fields.get("client")] = fields
        killed = 0
        for allocation in reply.get("allocations", []):
            made = created.get(allocation.get("client"), {})
            if made.get("lifetime") != "777" or made.get("client_transport") != "udp":
                self.fail(f"an allocation no client deleted: {allocation}, made as {made}")
                continue
            status, _, err = self.ternctl("kill", str(allocation["id"]))
            if status != 0:
                self.fail(f"ternctl kill {allocation['id']}: status {status}, {err}")
            killed += 1
        return killed

    def _until(self, when: float) -> None:
        while (left := when - time.monotonic()) > 0:
            time.sleep(min(left, 1))

    def _sample(self, peak: dict) -> None:
        status, reply, _ = self.ternctl("stats")
        if status == 0 and reply:
            peak["mbufs_in_use"] = max(peak["mbufs_in_use"], sum(p["in_use"] for p in reply.get("pools", [])))
        status, reply, _ = self.ternctl("status")
        if status == 0 and reply:
            peak["allocations"] = max(peak["allocations"], int(reply.get("allocations", 0)))


def cpu_model() -> str:
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} CPUs"
    return platform.processor()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20, help="how long to soak (at most 20; default 20)")
    args = parser.parse_args()
    if not 2 <= args.minutes <= 20:
        parser.error("--minutes must be between 2 and 20")
    seconds = args.minutes * 60
    deadline = int(seconds) + 600  # setup, the last client, the final checks and teardown

    def on_alarm(*_):
        raise Deadline(f"the soak did not finish in {deadline} s")

    def on_term(*_):
        raise SystemExit("the soak: terminated")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(deadline)
    for old, new in CONF_EDITS:
        servers.TERND_CONF = servers.TERND_CONF.replace(old, new)
    workdir = Path(tempfile.mkdtemp(prefix="tern-soak-"))
    print(f"soak: {args.minutes:g} minutes, directory {workdir}", flush=True)
    command = f"TERN_BUILD_DIR={os.environ.get('TERN_BUILD_DIR', '')} /usr/bin/python3 tests/soak/soak_test.py " \
              f"--minutes {args.minutes:g}"
    s = None
    try:
        with Scenario("soak", "static", 4, workdir, TERND_SETTINGS, streams=True) as s:
            figures = {"command": command, **Soak(s, seconds).run()}
        (workdir / "figures.json").write_text(json.dumps(figures, indent=2, sort_keys=True))
        print(json.dumps(figures, indent=2, sort_keys=True), flush=True)
        if figures["failures"]:
            print(f"FAIL soak: {len(figures['failures'])} checks failed; logs kept in {workdir}", flush=True)
            return 1
        print("PASS soak", flush=True)
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    except BaseException as e:  # noqa: BLE001 -- every way out is reported, then the run fails
        signal.alarm(0)
        if not isinstance(e, (Failure, Deadline, servers.ServerError)):
            traceback.print_exc()
        print(f"FAIL soak: {type(e).__name__}: {e}", flush=True)
        if s is not None and s.server is not None:
            print(f"--- ternd log (tail) ---\n{s.server.log_tail()}", flush=True)
        print(f"logs kept in {workdir}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
