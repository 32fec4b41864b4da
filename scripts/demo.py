#!/usr/bin/python3
"""tern's main job, end to end: a relay serving real TURN clients across network namespaces.

    <p>cli 10.90.0.10 --veth-- [ ternd: 10.90.0.1:3478 | 10.91.0.1 relayed ] --veth-- <p>peer 10.91.0.20

ternd runs its DPDK data plane on two net_af_packet ports bound to the server-side veth ends (one worker on a
2-core machine) and owns both addresses itself. Through it:
  1. coturn's turnutils_uclient: sessions that allocate, bind channels and send ChannelData to turnutils_peer,
     which echoes every message back;
  2. python3-aioice's TURN client: allocate, bind a channel, echo datagrams of 1 to 1400 bytes via a UDP peer.
Then it prints what the clients saw and `ternctl status` once, tears everything down, and says what to try next.

Run it with `bash scripts/demo` (installs and builds only ternd and ternctl first), or directly once built:
    /usr/bin/python3 scripts/demo.py [--build build] [--sessions 20] [--messages 1000] [--interval 5]
"""

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "interop"))

os.environ["TERN_SERVER"] = "ternd"
import servers  # noqa: E402
from scenario import Scenario  # noqa: E402
from turnutils_test import summary as uclient_summary  # noqa: E402

PEER_PORT = 3480
AIOICE_CLIENT = ROOT / "tests" / "interop" / "aioice_client.py"
# turnutils_uclient binds RFC 5766 channel numbers (0x4000-0x7FFF); RFC 8656 narrowed them to 0x4FFF.
TERND_SETTINGS = "compat = { rfc5766_channels = true; };\n"


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def ternctl(s: Scenario, build: Path, *args: str) -> str:
    socket = s.workdir / "ternd.sock"
    status, out = s.procs.run("ternctl", [str(build / "control" / "ternctl"), "--socket", str(socket), *args],
                              netns=s.topo.srv, timeout=20)
    return out if status == 0 else f"(ternctl {' '.join(args)} failed with status {status})\n{out}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(ROOT / "build"), help="meson build directory (default: build)")
    parser.add_argument("--sessions", type=int, default=20, help="turnutils_uclient sessions (default 20)")
    parser.add_argument("--messages", type=int, default=1000, help="messages per session (default 1000)")
    parser.add_argument("--interval", type=int, default=5,
                        help="milliseconds between a session's messages (default 5; turnutils_uclient's own is 20)")
    args = parser.parse_args()
    build = Path(args.build).resolve()
    os.environ["TERN_BUILD_DIR"] = str(build)

    workdir = Path(tempfile.mkdtemp(prefix="tern-demo-"))
    failures = []
    with Scenario("demo", "static", 1, workdir, TERND_SETTINGS) as s:
        section("ternd started in namespace " + s.topo.srv)
        print(s.server.log_tail(20), flush=True)

        section(f"turnutils_uclient: {args.sessions} sessions x {args.messages} messages x 200 bytes, one every "
                f"{args.interval} ms, ChannelData")
        s.procs.start("turnutils_peer", ["turnutils_peer", "-L", s.topo.peer_ip, "-p", str(PEER_PORT)],
                      netns=s.topo.peer)
        started = time.monotonic()
        status, out = s.run_client("turnutils_uclient", [
            "turnutils_uclient", "-u", servers.USER, "-w", servers.PASSWORD, "-m", str(args.sessions),
            "-n", str(args.messages), "-z", str(args.interval), "-l", "200", "-e", s.topo.peer_ip,
            "-r", str(PEER_PORT), s.topo.listen_ip],
            timeout=300)
        elapsed = time.monotonic() - started
        got = uclient_summary(out)
        print(f"status {status}, {elapsed:.1f} s: sent {got.get('sent')}, echoed back {got.get('received')}, "
              f"lost {got.get('lost')}, average round trip {got.get('average_rtt_ms')} ms", flush=True)
        if status != 0 or got.get("sent") != got.get("received"):
            failures.append("turnutils_uclient")

        section("python3-aioice: allocate, ChannelBind, datagrams of 1..1400 bytes to an echo peer")
        echo = s.start_echo_peer([PEER_PORT + 10])
        status, out = s.run_client("aioice", s.python(
            AIOICE_CLIENT, "relay", "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}",
            "--user", servers.USER, "--password", servers.PASSWORD,
            "--peer", f"{s.topo.peer_ip}:{PEER_PORT + 10}"), timeout=120)
        print(out.strip().splitlines()[-1] if out.strip() else f"(no output, status {status})", flush=True)
        echo.stats()
        if status != 0:
            failures.append("aioice")

        section("ternd: ternctl status")
        print(ternctl(s, build, "status"), flush=True)

    section("result")
    if failures:
        print("FAILED: " + ", ".join(failures) + f" (logs in {workdir})")
        return 1
    print(f"every message relayed through ternd and echoed back (logs in {workdir})")
    what_next(build)
    return 0


def what_next(build: Path) -> None:
    try:
        b = build.relative_to(Path.cwd())
    except ValueError:
        b = build
    things = [
        ("bash scripts/test", "installs and builds the rest (tests, benchmarks, clang, Chromium, Go), then runs every "
                              "suite, the sanitizer builds and the fuzzers: about 35 minutes on two cores"),
        (f"{b}/control/ternctl --help", "every operator command: stats, allocations, kill, users, reload, drain, "
                                        "trace ADDR (what ternd decided for every packet from or to one address), "
                                        "probe (the server as a client sees it)"),
        (f"{b}/control/ternd -c conf/ternd.conf --check", "conf/ternd.conf is the commented example of every "
                                                          "setting; --check validates a file without starting"),
        ("/usr/bin/python3 scripts/demo.py --sessions 50", "this demo again, without the setup step"),
        ("bench/run --quick", "benchmarks: ternd's worker against dpdk-testpmd, coturn side by side (installs "
                              "what it needs, builds its own release build)"),
        ("docs/ARCHITECTURE.md", "how the parts fit: threads, tables and their one writer, the worker loop"),
        ("deploy/README.md", "a bare-metal relay: hugepages, vfio-pci, NUMA, systemd, Prometheus"),
    ]
    section("what to try next")
    for command, what in things:
        print(f"  {command}")
        print(textwrap.fill(what, width=110, initial_indent="      ", subsequent_indent="      "))
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
