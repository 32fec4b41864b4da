"""What the load tests share: the load generators (load_clients.py) started in the client namespace, and ternd's
resident memory sampled from /proc/PID/smaps while they run."""

import json
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "hostile"))

import hostile  # noqa: E402,F401  (puts tests/integration on the path)
from procs import wait_for  # noqa: E402
from scenario import Scenario  # noqa: E402

CLIENTS = HERE / "load_clients.py"
# ternd runs its worker on lcore 1 (CPU 1, `-l 0-1`): the generators stay on CPU 0 with the control lcore, so the
# worker's core is the worker's, as on a production relay.
GENERATOR_CPU = "0"


class Generator:
    """One load_clients.py process in the client namespace; result() waits for it and returns its JSON."""

    def __init__(self, s: Scenario, name: str, mode: str, *args: str, ready: bool = False) -> None:
        self.s = s
        self.name = name
        self.out = s.workdir / f"{name}.json"
        self.ready_path = s.workdir / f"{name}.ready"
        argv = s.python(CLIENTS, mode, "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}",
                        "--out", str(self.out), "--cpu", GENERATOR_CPU, "--ready", str(self.ready_path), *args)
        self.proc = s.procs.start(name, argv, netns=s.topo.cli)
        if ready:
            wait_for(self._ready, 60, what=f"{name} to be ready")

    def _ready(self) -> bool:
        if not self.proc.alive() and not self.ready_path.exists():
            raise RuntimeError(f"{self.name} exited early:\n{self.proc.tail()}")
        return self.ready_path.exists()

    def stop(self) -> None:
        self.s.procs.stop(self.proc, grace=10)

    def result(self, timeout: float) -> dict:
        status = self.proc.wait(timeout)
        if status is None:
            self.s.note(f"{self.name}: still running after {timeout:.0f} s, stopped")
            self.stop()
            status = self.proc.popen.returncode
        self.s.expect(status == 0 and self.out.exists(), f"{self.name} failed (status {status}):\n{self.proc.tail()}")
        result = json.loads(self.out.read_text())
        self.s.note(f"{self.name}: {json.dumps(result, sort_keys=True)}")
        return result


# DPDK's memory, reserved whole at start (`-m`): a memfd with --no-huge, hugepage files otherwise. Its resident size
# only grows as preallocated rings, pools and tables are first written, up to what was reserved; mbufs in use are
# the data plane's own figure.
_DPDK_MAPPINGS = ("/memfd:nohuge", "rtemap_", "/dev/hugepages", "/mnt/huge")


def memory_kib(pid: int) -> dict[str, int]:
    """Resident memory of `pid` in KiB: `dpdk` (DPDK's reserved memory) and `private` (everything else: the heap,
    other anonymous mappings, stacks, the binary)."""
    out = {"dpdk": 0, "private": 0}
    name = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
            name = fields[5] if len(fields) > 5 else ""
        elif fields and fields[0] == "Rss:":
            out["dpdk" if any(m in name for m in _DPDK_MAPPINGS) else "private"] += int(fields[1])
    return out


class MemorySampler:
    """ternd's resident memory (memory_kib) every `interval` seconds until stop()."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.samples: list[dict[str, int]] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stopping.is_set():
            try:
                self.samples.append(memory_kib(self.pid))
            except OSError:
                return
            self._stopping.wait(interval)

    def stop(self) -> list[dict[str, int]]:
        self._stopping.set()
        self._thread.join()
        return self.samples
