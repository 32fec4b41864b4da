#!/usr/bin/python3
"""The harness itself, no TURN server involved.

  cleanup  a scenario that fails, is terminated (meson's timeout sends SIGTERM) or is killed outright leaves
           nothing that blocks or disturbs the next run
  quiet    in dpdk mode the server-side veth ends have no address and no IPv6, and the kernel sends nothing out of
           them: for a few seconds after link-up not one frame reaches the client or the peer (with IPv6 left on,
           router solicitations and DAD would)

    /usr/bin/python3 tests/integration/harness_test.py cleanup
"""

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import topology
from procs import Procs, wait_for
from topology import Topology

SELF = Path(__file__).resolve()
NETCHECK = SELF.parent / "netcheck.py"
QUIET_SECONDS = 4


def hold(ready: Path, how: str) -> int:
    """Child: builds a topology with a process in it, reports ready, then ends the way `how` says."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    with Topology("kernel") as topo, Procs(ready.parent) as procs:
        procs.start("sleeper", ["sleep", "300"], netns=topo.cli)
        ready.write_text(topo.prefix)
        if how == "raise":
            raise RuntimeError("a check failed")
        time.sleep(60)  # until SIGTERM or SIGKILL
    return 0


def namespaces_of(prefix: str) -> list[str]:
    return [ns for ns in topology.namespaces() if ns.startswith(prefix) and ns[len(prefix):] in ("srv", "cli", "peer")]


def run_child(workdir: Path, how: str) -> tuple[subprocess.Popen, str]:
    ready = workdir / f"{how}-{time.monotonic_ns()}.ready"
    child = subprocess.Popen(["/usr/bin/python3", str(SELF), "hold", "--ready", str(ready), "--how", how],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: ready.exists() and ready.read_text(), 15, what=f"child ({how}) to build its topology")
    return child, ready.read_text()


def cleanup() -> int:
    failures = []
    with tempfile.TemporaryDirectory(prefix="tern-harness-") as tmp:
        workdir = Path(tmp)

        # An exception inside the scenario: everything removed on the way out.
        child, prefix = run_child(workdir, "raise")
        child.wait(15)
        if namespaces_of(prefix):
            failures.append(f"after an exception, left {namespaces_of(prefix)}")

        # SIGTERM: removed by the handler's unwinding.
        child, prefix = run_child(workdir, "term")
        child.send_signal(signal.SIGTERM)
        child.wait(15)
        if namespaces_of(prefix):
            failures.append(f"after SIGTERM, left {namespaces_of(prefix)}")

        # SIGKILL: the namespaces stay behind (nothing can run) and the process inside dies with its parent; the
        # next topology removes them before it builds its own.
        child, prefix = run_child(workdir, "kill")
        sleeper_pids = [p for ns in namespaces_of(prefix) for p in
                        subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()]
        child.kill()
        child.wait(15)
        left = namespaces_of(prefix)
        if len(left) != 3:
            failures.append(f"a killed run should leave its 3 namespaces, found {left}")
        time.sleep(0.5)
        alive = [p for p in sleeper_pids if topology.running(int(p))]
        if alive:
            failures.append(f"processes of the killed run still alive: {alive}")
        removed = topology.remove_stale()
        if namespaces_of(prefix) or sorted(removed) != sorted(left):
            failures.append(f"stale removal removed {removed}, still present {namespaces_of(prefix)}")

        # A live run's namespaces are never taken for stale ones.
        child, prefix = run_child(workdir, "term")
        topology.remove_stale()
        if len(namespaces_of(prefix)) != 3:
            failures.append("stale removal touched the namespaces of a run still in progress")
        child.send_signal(signal.SIGTERM)
        child.wait(15)

    for failure in failures:
        print(f"FAIL: {failure}")
    print("PASS harness cleanup" if not failures else "FAIL harness cleanup", flush=True)
    return 1 if failures else 0


def quiet() -> int:
    failures = []
    with Topology("dpdk") as t:
        for ifname in (t.srv_client_if, t.srv_peer_if):
            if t.addresses(t.srv, ifname):
                failures.append(f"{ifname} has addresses {t.addresses(t.srv, ifname)}")
            disabled = subprocess.run(["ip", "netns", "exec", t.srv, "sysctl", "-n",
                                       f"net.ipv6.conf.{ifname}.disable_ipv6"], capture_output=True, text=True)
            if disabled.stdout.strip() != "1":
                failures.append(f"IPv6 is not disabled on {ifname}")
        listeners = [subprocess.Popen(["ip", "netns", "exec", netns, "/usr/bin/python3", str(NETCHECK), "quiet", ifname,
                                       "--seconds", str(QUIET_SECONDS)], stdout=subprocess.PIPE, text=True)
                     for netns, ifname in ((t.cli, t.cli_if), (t.peer, t.peer_if))]
        for listener in listeners:
            out, _ = listener.communicate(timeout=QUIET_SECONDS + 10)
            print(f"frames from the server side: {out.strip()}")
            if listener.returncode != 0:
                failures.append(f"the kernel sent frames out of a server-side end: {out.strip()}")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("PASS harness quiet" if not failures else "FAIL harness quiet", flush=True)
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["cleanup", "quiet", "hold"])
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--how", choices=["raise", "term", "kill"])
    args = parser.parse_args()
    if args.case == "hold":
        return hold(args.ready, args.how)
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"harness {args.case}: deadline of 120 s passed"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"harness {args.case}: terminated"))
    signal.alarm(120)
    return cleanup() if args.case == "cleanup" else quiet()


if __name__ == "__main__":
    sys.exit(main())
