#!/usr/bin/python3
"""Overload and process faults against ternd.

  punt-flood      30 000 authenticated Binding requests (each one for the control plane: integrity checked,
                  answer signed) as fast as one socket sends them, from the control lcore's own CPU, while another
                  client's plain Bindings (answered by the worker itself) keep coming: the punt ring overflows and
                  what it refuses is counted (drop_punt_ring_full), the worker answers every plain Binding
                  throughout, every flooding request is answered or counted, and right after it an Allocate and a
                  real client (python3-aioice) are served; packet buffers in use return to where they were
  sigterm         SIGTERM while allocation churn and relayed traffic run: ternd exits 0 within 10 s, logs
                  `stopped` and its counters, leaves no process in its namespace and no file in its DPDK runtime
                  directory
  kill-restart    SIGKILL while traffic runs, then ternd started again with the same configuration (same DPDK
                  file prefix, same control socket path): it comes up, answers ternctl, serves a real client, and
                  stops cleanly

    /usr/bin/python3 tests/load/faults_test.py punt-flood
"""

import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

import hostile  # noqa: E402
import load  # noqa: E402
import servers  # noqa: E402
import stun_codec as stun  # noqa: E402
from hostile import Capture, TurnClient, expect_code  # noqa: E402
from scenario import Scenario  # noqa: E402

FLOOD = 30000
STOP_SECONDS = 10


class BindingProbe:
    """Plain Binding requests every `interval` seconds from its own client until stop(): how many were sent and how
    many answered (each is given 3 tries of 0.3 s)."""

    def __init__(self, s: Scenario, local_ip: str, interval: float = 0.05) -> None:
        self.client = TurnClient(s, local_ip)
        self.sent = self.answered = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stopping.is_set():
            reply = self.client.transact(stun.build(stun.BINDING, stun.REQUEST), timeout=0.3, attempts=3)
            self.sent += 1
            self.answered += reply is not None and reply.cls == stun.SUCCESS
            self._stopping.wait(interval)

    def stop(self) -> tuple[int, int]:
        self._stopping.set()
        self._thread.join()
        self.client.close()
        return self.sent, self.answered


def case_punt_flood(s: Scenario) -> None:
    baseline = hostile.stats(s)
    ips = s.topo.client_ips
    capture = Capture(s.topo.cli, s.topo.cli_if)
    probe = BindingProbe(s, ips[1])
    flood = load.Generator(s, "flood", "flood", "--local", ips[0], "--count", str(FLOOD), "--burst", "512")
    flooded = flood.result(timeout=60)
    time.sleep(1.0)  # the control plane works through what the ring held
    # Right after the flood: a new client is served at once.
    client = TurnClient(s, ips[2])
    started = time.monotonic()
    expect_code(s, client.allocate(), None, "Allocate right after the flood")
    expect_code(s, client.refresh(0), None, "Refresh 0 right after the flood")
    s.note(f"Allocate and Refresh 0 after the flood: {time.monotonic() - started:.2f} s")
    client.close()
    probed, answered = probe.stop()
    capture.stop()
    s.expect(flooded["sent"] == FLOOD and flooded["failed"] == 0, f"the flood: {flooded}")
    s.expect(probed > 0 and answered == probed, f"the worker answered {answered} of {probed} plain Bindings")

    flood_ip, flood_port = flooded["local"]
    answers = sum(1 for d in capture.udp() if not d.outgoing and (d.dst, d.dport) == (flood_ip, flood_port))
    s.note(f"flood: {FLOOD} requests in {flooded['seconds']:.2f} s, {answers} answered; plain Bindings "
           f"{answered}/{probed}")
    hostile.serves_real_client(s)
    c = hostile.finish(s, baseline)
    ring_full = c.dp("drop_punt_ring_full")
    s.expect(ring_full > 0, "the flood never filled the punt ring: the test did not overload the control plane")
    # Every flooding request reached the control plane and was answered, or was refused by the full ring.
    binding_requests = c.ctl("requests_binding")
    s.expect(binding_requests + ring_full == FLOOD,
             f"{binding_requests} Binding requests handled + {ring_full} refused by the full punt ring, "
             f"{FLOOD} sent")
    s.expect(answers == binding_requests + 1,  # and the 401 that gave the flood its nonce
             f"{answers} answers to the flood on the wire, {binding_requests} Binding requests handled")


def runtime_dir(s: Scenario) -> Path:
    return Path("/var/run/dpdk") / f"tern-it-{s.topo.prefix}"


def namespace_pids(netns: str) -> list[str]:
    return subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True).stdout.split()


def case_sigterm(s: Scenario) -> None:
    ips = s.topo.client_ips
    echo = s.start_echo_peer([hostile.ECHO_PORT])
    traffic = load.Generator(s, "traffic", "traffic", "--local", ips[0], "--allocations", "8", "--rate", "2000",
                             "--seconds", "30", "--peer", f"{s.topo.peer_ip}:{hostile.ECHO_PORT}", ready=True)
    churn = load.Generator(s, "churn", "churn", "--local", ips[1], "--rate", "1000", "--seconds", "30",
                           "--sockets", "128")
    time.sleep(3)
    proc = s.server.proc
    started = time.monotonic()
    proc.popen.send_signal(15)
    status = proc.wait(STOP_SECONDS)
    took = time.monotonic() - started
    s.expect(status == 0, f"ternd under load: exit status {status} {took:.1f} s after SIGTERM")
    s.note(f"ternd stopped {took:.2f} s after SIGTERM, under load")
    log = proc.output()
    s.expect("event=stopped" in log and "event=counters scope=dataplane" in log,
             "ternd did not log its counters and `stopped`")
    counters = hostile.parse_counters(log)
    s.expect(counters.dp("rx_packets") > 0 and counters.ctl("allocations_created") > 0,
             f"the load did not reach ternd: {counters.nonzero()}")
    left = namespace_pids(s.topo.srv)
    s.expect(not left, f"processes left in the server namespace: {left}")
    leftovers = list(runtime_dir(s).iterdir()) if runtime_dir(s).exists() else []
    s.expect(not leftovers, f"files left in DPDK's runtime directory: {leftovers}")
    traffic.stop()
    churn.stop()
    echo.stats()


def case_kill_restart(s: Scenario) -> None:
    echo = s.start_echo_peer([hostile.ECHO_PORT])
    traffic = load.Generator(s, "traffic", "traffic", "--local", s.topo.client_ips[0], "--allocations", "2",
                             "--rate", "500", "--seconds", "60", "--peer", f"{s.topo.peer_ip}:{hostile.ECHO_PORT}",
                             ready=True)
    time.sleep(2)
    first = s.server.proc
    first.popen.kill()
    s.expect(first.wait(10) is not None, "ternd did not die of SIGKILL")
    s.expect(not namespace_pids(s.topo.srv), "processes left in the server namespace after SIGKILL")
    started = time.monotonic()
    s.server = servers.start("ternd", s.topo, s.procs, s.workdir, s.auth, s.ternd_settings)
    s.note(f"ternd answered again {time.monotonic() - started:.1f} s after it was started anew")
    baseline = hostile.stats(s)  # the control socket answers: its stale file did not block it
    s.expect(baseline.ctl("allocations_live") == 0, "allocations survived a SIGKILL")
    traffic.stop()
    echo.stats()
    hostile.serves_real_client(s)
    hostile.finish(s, baseline)


CASES = {"punt-flood": case_punt_flood, "sigterm": case_sigterm, "kill-restart": case_kill_restart}
CONF_EDITS = {
    "sigterm": [("nonce_lifetime = 600;", "nonce_lifetime = 600; unauthenticated_rate = 0;")],
    # The client-facing port's kernel ring (af_packet's "NIC ring") holds the whole flood: what overflows is the
    # punt ring, and every frame stays accountable (DPDK 22.11's af_packet PMD does not count its ring's drops).
    "punt-flood": [("net_af_packet0,iface={client_if},qdisc_bypass=1",
                    "net_af_packet0,iface={client_if},qdisc_bypass=1,framecnt=32768")],
}

if __name__ == "__main__":
    sys.exit(hostile.main(CASES, conf_edits=CONF_EDITS, clients={case: 3 for case in CASES}, deadline=150))
