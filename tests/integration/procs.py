"""Processes started by an integration scenario.

Every process runs inside one of the scenario's network namespaces (`ip netns exec NS argv...`, which execs, so the
process id we hold is the command's own), in a process group of its own, and writes its output to a log file in the
scenario's directory. It is ended by that id: SIGTERM to its group, then SIGKILL to whatever is left. If the
scenario itself dies, the kernel ends its direct children (PR_SET_PDEATHSIG), and the next run removes what is left
in stale namespaces (topology.remove_stale).
"""

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _own_group_and_die_with_parent() -> None:
    os.setsid()
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def in_netns(netns: str | None, argv: list[str]) -> list[str]:
    return list(argv) if netns is None else ["ip", "netns", "exec", netns, *argv]


class Proc:
    """One started process: its name in the logs, its Popen and its log file."""

    def __init__(self, name: str, popen: subprocess.Popen, log_path: Path) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float) -> int | None:
        """Exit status, or None if still running after `timeout` seconds."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


class Procs:
    """The processes of one scenario; `stop_all` (also on exit of the `with` block) ends them newest first."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = Path(log_dir)
        self.started: list[Proc] = []

    def __enter__(self) -> "Procs":
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    def start(self, name: str, argv: list[str], netns: str | None = None, env: dict | None = None,
              cwd: str | None = None) -> Proc:
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "ab", buffering=0)
        full_env = dict(os.environ)
        full_env.update(env or {})
        popen = subprocess.Popen(in_netns(netns, argv), stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, env=full_env, cwd=cwd,
                                 preexec_fn=_own_group_and_die_with_parent)
        log.close()
        proc = Proc(name, popen, log_path)
        self.started.append(proc)
        return proc

    def run(self, name: str, argv: list[str], netns: str | None = None, timeout: float = 60,
            env: dict | None = None) -> tuple[int | None, str]:
        """Runs to completion; returns (exit status, output). Status None: killed after `timeout` seconds."""
        proc = self.start(name, argv, netns=netns, env=env)
        status = proc.wait(timeout)
        if status is None:
            self.stop(proc, grace=2)
        return status, proc.output()

    def stop(self, proc: Proc, grace: float = 3.0, sig: int = signal.SIGTERM) -> int | None:
        if proc.alive():
            _signal_group(proc.pid, sig)
            status = proc.wait(grace)
            # Helpers the process left behind in its group (a browser's renderers, for one).
            _signal_group(proc.pid, signal.SIGKILL)
            if status is None:
                status = proc.wait(grace)
        return proc.popen.returncode

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            self.stop(proc, grace=2)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Polls `predicate` until it returns something truthy (returned) or `timeout` seconds pass (TimeoutError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
