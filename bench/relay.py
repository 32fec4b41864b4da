"""Relay throughput: tern's worker loop (tern-bench relay) and dpdk-testpmd on the same pcap.

Both run the same way: EAL on lcores 0-1 (the main lcore on core 0, one forwarding lcore on core 1), hugepages
(--in-memory), one net_pcap port reading the pcap with infinite_rx=1 and no tx_* argument, so transmitted packets go
to net_pcap's drop TX queues (freed one by one, no pcap written). Both are measured in 1-second windows, as packets
per wall-clock second and as packets per second of CPU time of the forwarding thread (its schedstat): on a shared
machine core 1 is time-sliced with whatever else runs there, and the CPU-time rate is the one that compares.
"""

import json
import os
import re
import signal
import statistics
import subprocess
import time
from pathlib import Path

TESTPMD = "dpdk-testpmd"
WORKER_THREAD_NAMES = ("rte-worker-1", "lcore-worker-1")


def mbufs_for(frames: int) -> int:
    """Pool size for a pcap: the PMD holds every frame in an mbuf, plus 16383 for the packets in flight (tern-bench
    sizes its pool the same way)."""
    return frames + 16383


def write_pcap(tern_bench: Path, out: Path, allocations: int, frames: int, frame_size: int,
               indications: int) -> dict:
    argv = [str(tern_bench), "pcap", "--out", str(out), "--allocations", str(allocations),
            "--packets", str(frames), "--frame-size", str(frame_size), "--indications", str(indications)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def _worker_schedstat(pid: int) -> Path | None:
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                if (task / "comm").read_text().strip() in WORKER_THREAD_NAMES:
                    return task / "schedstat"
            except OSError:
                continue
    except OSError:
        pass
    return None


def _run_ns(path: Path) -> int:
    return int(path.read_text().split()[0])


def testpmd_argv(pcap: Path, mode: str, mbufs: int, prefix: str) -> list[str]:
    return [TESTPMD, "-l", "0-1", "--no-pci", "--in-memory", "--file-prefix", prefix, "--log-level", "error",
            "--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1", "--",
            f"--forward-mode={mode}", "--port-topology=loop", "--nb-cores=1", "--burst=32",
            f"--total-num-mbufs={mbufs}", "--stats-period=1"]


def run_testpmd(pcap: Path, frames: int, mode: str, seconds: int, log: Path) -> dict:
    """testpmd forwarding `mode` on the pcap for `seconds` measured windows (after two of warm-up)."""
    argv = testpmd_argv(pcap, mode, mbufs_for(frames), f"tern-bench-testpmd-{os.getpid()}")
    env = dict(os.environ)
    # Line-buffered stdout, so each statistics block arrives when testpmd prints it.
    proc = subprocess.Popen(["stdbuf", "-oL", *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    lines = []
    windows, windows_cpu, shares = [], [], []
    sched = None
    last = None  # (rx_packets, run_ns, monotonic)
    rx_packets = None
    deadline = time.monotonic() + seconds + 60
    try:
        for line in proc.stdout:
            lines.append(line)
            if time.monotonic() > deadline:
                break
            m = re.search(r"RX-packets:\s+(\d+)", line)
            if m:
                rx_packets = int(m.group(1))
                continue
            if "Tx-pps" in line and rx_packets is not None:
                sched = sched or _worker_schedstat(proc.pid)
                if sched is None:
                    continue
                now = (rx_packets, _run_ns(sched), time.monotonic())
                if last is not None and last[0] > 0:
                    packets = now[0] - last[0]
                    wall = now[2] - last[2]
                    cpu = now[1] - last[1]
                    windows.append(packets / wall / 1e6)
                    windows_cpu.append(packets / cpu * 1e3 if cpu > 0 else 0.0)
                    shares.append(cpu / 1e9 / wall)
                last = now
                rx_packets = None
                if len(windows) >= seconds + 1:
                    break
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=30)
            lines.append(rest or "")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        log.write_text("".join(lines))
    windows, windows_cpu, shares = windows[1:], windows_cpu[1:], shares[1:]  # the first is warm-up
    if not windows:
        raise RuntimeError(f"testpmd {mode} produced no statistics (log: {log})")
    return {"mode": mode, "argv": argv, "mpps_windows": windows, "mpps_cpu_windows": windows_cpu,
            "cpu_share_windows": shares, "mpps": statistics.median(windows),
            "mpps_cpu": statistics.median(windows_cpu), "ns_per_packet_cpu": 1e3 / statistics.median(windows_cpu)}


def tern_argv(tern_bench: Path, pcap: Path, allocations: int, seconds: int, latency_seconds: float) -> list[str]:
    return [str(tern_bench), "relay", "--pcap", str(pcap), "--allocations", str(allocations),
            "--seconds", str(seconds), "--latency-seconds", str(latency_seconds)]


def run_tern(tern_bench: Path, pcap: Path, allocations: int, seconds: int, latency_seconds: float, log: Path,
             on_steady=None) -> dict:
    """tern-bench relay; `on_steady(pid)` is called once the measured windows start (a profiler, say)."""
    argv = tern_argv(tern_bench, pcap, allocations, seconds, latency_seconds)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    err = []
    out = ""
    try:
        for line in proc.stderr:
            err.append(line)
            if "tern-bench: steady" in line and on_steady is not None:
                on_steady(proc.pid)
        out, rest = proc.communicate(timeout=120 + seconds)
        err.append(rest)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    finally:
        if proc.poll() is None:  # interrupted: stop it (it stops cleanly on SIGINT), then make sure
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    log.write_text("".join(err) + (out or ""))
    if proc.returncode != 0:
        raise RuntimeError(f"tern-bench relay failed with status {proc.returncode}: {''.join(err)[-2000:]}")
    result = json.loads(out)
    result["argv"] = argv
    return result
