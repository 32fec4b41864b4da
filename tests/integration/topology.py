"""The integration test network: three namespaces joined by two veth pairs, the two-port layout of a production relay.

    <p>cli                         <p>srv                          <p>peer
    10.90.0.10/24 (.11 ...)        c0: 10.90.0.1 (client-facing)
    <p>c1 ----------- veth ------- <p>c0
                                   <p>p0 ------------ veth ------- <p>p1
                                   p0: 10.91.0.1 (peer-facing)      10.91.0.20/24

Clients reach the listener 10.90.0.1:3478 on-link; peers are reachable only through the relay (10.91.0.1): no
namespace routes between the two subnets and the server namespace does not forward.

Two modes for the server side:
  kernel  c0 and p0 carry the server addresses; a kernel-socket server (coturn) runs in <p>srv.
  dpdk    c0 and p0 carry no address and no IPv6 (no link-local, DAD or router solicitations), only link up: ternd
          binds them as net_af_packet ports and owns 10.90.0.1 and 10.91.0.1 itself (ARP, ICMP, UDP).

IPv6 (Topology(..., ipv6=True), for the cases that ask for it; every other case runs on the IPv4-only network
above, unchanged): clients 2001:db8:90::10/64 (::11 ...), the peer 2001:db8:91::20/64; the server's addresses
2001:db8:90::1 (listener) and 2001:db8:91::1 (relayed) are ternd's own in dpdk mode (its veth ends stay without
IPv6), the kernel's in kernel mode. Duplicate address detection and router solicitations are off, so the addresses
are usable at once and nothing but the test's own traffic crosses the links.

Names carry the creating process id (`tn<pid base 36>`), so a run never collides with another one or with the
leftovers of a crashed one. The creator holds an exclusive flock on /run/tern-test-netns/<prefix>.lock for as long
as it lives; namespaces whose lock nobody holds are leftovers and are removed before a new topology is built —
whatever script, in whatever directory, made them.
"""

import fcntl
import os
import re
import subprocess
from pathlib import Path

LISTEN_IP = "10.90.0.1"
LISTEN_PORT = 3478
RELAY_IP = "10.91.0.1"
CLIENT_IP_BASE = 10          # clients are 10.90.0.10, .11, ...
PEER_IP = "10.91.0.20"
PREFIX_LEN = 24
LISTEN_IP6 = "2001:db8:90::1"
RELAY_IP6 = "2001:db8:91::1"
PEER_IP6 = "2001:db8:91::20"
PREFIX_LEN6 = 64
MTU = 1500

_NAME = re.compile(r"^tn([0-9a-z]{1,6})(srv|cli|peer)$")
LOCK_DIR = Path("/run/tern-test-netns")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def _in_ns(netns: str, *argv: str) -> None:
    subprocess.run(["ip", "netns", "exec", netns, *argv], check=True, capture_output=True, text=True)


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def prefix_for(pid: int) -> str:
    return "tn" + _base36(pid)


def running(pid: int) -> bool:
    """True if `pid` is a live process (not a zombie nobody reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _lock_path(prefix: str) -> Path:
    return LOCK_DIR / f"{prefix}.lock"


def _in_use(prefix: str) -> bool:
    """True while the process that made these namespaces lives: it holds the exclusive lock on their file."""
    try:
        fd = os.open(_lock_path(prefix), os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def namespaces() -> list[str]:
    out = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def remove_namespace(netns: str) -> None:
    """Ends what still runs in a test namespace (by process id: `ip netns pids`), then deletes it and its veths."""
    for pid in _ip("netns", "pids", netns, check=False).stdout.split():
        try:
            os.kill(int(pid), 9)
        except (ProcessLookupError, ValueError):
            pass
    _ip("netns", "del", netns, check=False)


def remove_stale() -> list[str]:
    """Removes test namespaces whose creating process is gone; returns their names."""
    removed = []
    for netns in namespaces():
        match = _NAME.match(netns)
        if match and not _in_use("tn" + match.group(1)):
            remove_namespace(netns)
            removed.append(netns)
            _lock_path("tn" + match.group(1)).unlink(missing_ok=True)
    return removed


class Topology:
    def __init__(self, mode: str, clients: int = 1, ipv6: bool = False) -> None:
        if mode not in ("kernel", "dpdk"):
            raise ValueError(f"mode must be kernel or dpdk, not {mode!r}")
        self.mode = mode
        self.prefix = prefix_for(os.getpid())
        self.srv = self.prefix + "srv"
        self.cli = self.prefix + "cli"
        self.peer = self.prefix + "peer"
        self.srv_client_if = self.prefix + "c0"   # server side, client-facing
        self.cli_if = self.prefix + "c1"
        self.srv_peer_if = self.prefix + "p0"     # server side, peer-facing
        self.peer_if = self.prefix + "p1"
        self.client_ips = [f"10.90.0.{CLIENT_IP_BASE + i}" for i in range(clients)]
        self.peer_ip = PEER_IP
        self.listen_ip = LISTEN_IP
        self.listen_port = LISTEN_PORT
        self.relay_ip = RELAY_IP
        self.ipv6 = ipv6
        self.client_ips6 = [f"2001:db8:90::{CLIENT_IP_BASE + i:x}" for i in range(clients)] if ipv6 else []
        self.peer_ip6 = PEER_IP6 if ipv6 else None
        self.listen_ip6 = LISTEN_IP6 if ipv6 else None
        self.relay_ip6 = RELAY_IP6 if ipv6 else None
        self._lock_fd: int | None = None

    @property
    def all_namespaces(self) -> list[str]:
        return [self.srv, self.cli, self.peer]

    def __enter__(self) -> "Topology":
        self.create()
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def create(self) -> None:
        remove_stale()
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(_lock_path(self.prefix), os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours until remove() or this process ends
        try:
            self._create()
        except BaseException:
            self.remove()
            raise

    def _create(self) -> None:
        for netns in self.all_namespaces:
            _ip("netns", "add", netns)
            # Interfaces made from here on start without IPv6: no link-local address, DAD, router solicitation
            # or MLD report ever leaves them (in dpdk mode ternd sees every frame on its ports).
            _in_ns(netns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv6.conf.all.disable_ipv6=1")
            _ip("-n", netns, "link", "set", "lo", "up")
        _ip("link", "add", self.srv_client_if, "netns", self.srv, "mtu", str(MTU), "type", "veth",
            "peer", "name", self.cli_if, "netns", self.cli, "mtu", str(MTU))
        _ip("link", "add", self.srv_peer_if, "netns", self.srv, "mtu", str(MTU), "type", "veth",
            "peer", "name", self.peer_if, "netns", self.peer, "mtu", str(MTU))

        for ip in self.client_ips:
            _ip("-n", self.cli, "addr", "add", f"{ip}/{PREFIX_LEN}", "dev", self.cli_if)
        _ip("-n", self.peer, "addr", "add", f"{self.peer_ip}/{PREFIX_LEN}", "dev", self.peer_if)
        if self.mode == "kernel":
            _ip("-n", self.srv, "addr", "add", f"{self.listen_ip}/{PREFIX_LEN}", "dev", self.srv_client_if)
            _ip("-n", self.srv, "addr", "add", f"{self.relay_ip}/{PREFIX_LEN}", "dev", self.srv_peer_if)

        # A veth hands checksums it was told to offload to its peer unfinished; whatever reads the other end as raw
        # frames (ternd's af_packet ports, a capture) would see them wrong. Every end computes its own.
        for netns, ifname in ((self.cli, self.cli_if), (self.peer, self.peer_if),
                              (self.srv, self.srv_client_if), (self.srv, self.srv_peer_if)):
            _in_ns(netns, "ethtool", "-K", ifname, "tx", "off")
            _ip("-n", netns, "link", "set", ifname, "up")
        if self.ipv6:
            self._add_ipv6()

    def _add_ipv6(self) -> None:
        ends = [(self.cli, self.cli_if, [f"{ip}/{PREFIX_LEN6}" for ip in self.client_ips6]),
                (self.peer, self.peer_if, [f"{self.peer_ip6}/{PREFIX_LEN6}"])]
        if self.mode == "kernel":
            ends += [(self.srv, self.srv_client_if, [f"{self.listen_ip6}/{PREFIX_LEN6}"]),
                     (self.srv, self.srv_peer_if, [f"{self.relay_ip6}/{PREFIX_LEN6}"])]
        for netns, ifname, addresses in ends:
            _in_ns(netns, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.accept_dad=0",
                   f"net.ipv6.conf.{ifname}.router_solicitations=0", f"net.ipv6.conf.{ifname}.disable_ipv6=0")
            for address in addresses:
                _ip("-n", netns, "-6", "addr", "add", address, "dev", ifname, "nodad")

    def remove(self) -> None:
        for netns in self.all_namespaces:
            if netns in namespaces():
                remove_namespace(netns)
        if self._lock_fd is not None:
            _lock_path(self.prefix).unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None

    def exists(self) -> bool:
        present = namespaces()
        return all(netns in present for netns in self.all_namespaces)

    def addresses(self, netns: str, ifname: str) -> list[str]:
        """Every address (v4 and v6) configured on an interface, as `ip -o addr` prints them."""
        out = _ip("-n", netns, "-o", "addr", "show", "dev", ifname).stdout
        return [line.split()[3] for line in out.splitlines()]
