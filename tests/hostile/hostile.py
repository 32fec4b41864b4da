"""What the hostile and load tests share, on top of the integration harness (tests/integration):

  socket_in(netns, ...)   a socket that lives in a test namespace, created from this process (setns around
                          socket()), so a test drives raw clients and captures without a helper process each
  Capture                 every frame on one interface of a namespace, both directions, from a thread
  TurnClient              a TURN client over one UDP socket that sends exactly the bytes it is given, and does
                          the long-term credential dance (401 -> NONCE/REALM -> MESSAGE-INTEGRITY) when asked
  stats()                 ternd's live counters and gauges (`ternctl --json stats` on its control socket), and
                          the frames the kernel has delivered to its ports
  serves_real_client()    python3-aioice allocates, binds a channel and relays to an echo peer, every echo intact
  finish()                the end of every case: frames delivered to ternd's ports all accounted for, packet
                          buffers back at the baseline, a clean SIGTERM (exit 0, `stopped`), and ternd's final
                          counters (logged on its way out) checked by check_accounted() and returned
  main()                  scenario.main() with per-case edits of ternd's configuration

A case takes ternd's live figures first (the baseline), does its damage, checks what came back on the wire, proves
a real client is still served, and calls finish(); then it checks that its own drops were counted, each under its
reason.
"""

import ctypes
import json
import os
import subprocess
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
sys.path.insert(0, str(TESTS / "integration"))

import accounting  # noqa: E402
import scenario  # noqa: E402
import servers  # noqa: E402
import stun_codec as stun  # noqa: E402
from scenario import Failure, Scenario  # noqa: E402

AIOICE_CLIENT = TESTS / "interop" / "aioice_client.py"
ECHO_PORT = 7000

_CLONE_NEWNET = 0x40000000
_SO_RCVBUFFORCE = 33
_libc = ctypes.CDLL(None, use_errno=True)


def socket_in(netns: str, family: int = socket.AF_INET, kind: int = socket.SOCK_DGRAM, proto: int = 0) -> socket.socket:
    """A socket of network namespace `netns` (it keeps its namespace; only its creation needs to happen there)."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(target, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {netns}")
        try:
            return socket.socket(family, kind, proto)
        finally:
            if _libc.setns(own, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


def udp_socket(netns: str, ip: str, port: int = 0) -> socket.socket:
    sock = socket_in(netns)
    sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 4 << 20)
    sock.bind((ip, port))
    return sock


# ---- capture ---------------------------------------------------------------------------------------------------

@dataclass
class Datagram:
    outgoing: bool      # sent by the namespace the capture is in
    src: str
    sport: int
    dst: str
    dport: int
    payload: bytes
    frame_len: int      # bytes on the wire (Ethernet header included)


class Capture:
    """Every frame on `iface` of `netns`, both directions, until stop(). `frames` holds (outgoing, frame)."""

    _PACKET_OUTGOING = 4
    _ETH_P_ALL = 0x0003

    def __init__(self, netns: str, iface: str) -> None:
        self.sock = socket_in(netns, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(self._ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 64 << 20)  # past rmem_max: floods are captured
        self.sock.bind((iface, 0))
        self.sock.settimeout(0.05)
        self.frames: list[tuple[bool, bytes]] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                frame, address = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.frames.append((address[2] == self._PACKET_OUTGOING, frame))

    def stop(self, settle: float = 0.3) -> "Capture":
        if not self._stopping.is_set():
            time.sleep(settle)  # the last frames in flight
            self._stopping.set()
            self._thread.join()
            self.sock.close()
        return self

    def udp(self) -> list[Datagram]:
        out = []
        for outgoing, frame in self.frames:
            if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != socket.IPPROTO_UDP:
                continue
            ihl = (frame[14] & 0x0F) * 4
            total = struct.unpack("!H", frame[16:18])[0]
            l4 = 14 + ihl
            sport, dport, udp_len = struct.unpack("!HHH", frame[l4:l4 + 6])
            out.append(Datagram(outgoing, socket.inet_ntoa(frame[26:30]), sport, socket.inet_ntoa(frame[30:34]),
                                dport, frame[l4 + 8:l4 + udp_len], 14 + total))
        return out


# ---- a raw TURN client -----------------------------------------------------------------------------------------

class TurnClient:
    """One UDP socket in the client namespace talking to the listener. Datagrams that answer no transaction
    (ChannelData, Data indications) wait in `inbox`."""

    def __init__(self, s: Scenario, local_ip: str | None = None, username: str = servers.USER,
                 password: str = servers.PASSWORD, realm: str = servers.REALM) -> None:
        self.server = (s.topo.listen_ip, s.topo.listen_port)
        self.sock = udp_socket(s.topo.cli, local_ip or s.topo.client_ips[0])
        self._start(username, password, realm)

    def _start(self, username: str, password: str, realm: str) -> None:
        """The state of a client that has sent nothing yet: its long-term credentials, no nonce, no allocation."""
        self.username = username
        self.realm = realm
        self.key = stun.long_term_key(username, realm, password)
        self.nonce: bytes | None = None
        self.inbox: list[bytes] = []
        self.relayed: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def _receive(self, timeout: float) -> bytes | None:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, _ = self.sock.recvfrom(65535)
            return data
        except socket.timeout:
            return None

    def transact(self, data: bytes, timeout: float = 0.5, attempts: int = 3) -> stun.Message | None:
        """Sends `data` (a request) until a response with its transaction ID arrives, `attempts` times at most."""
        txid = data[8:20]
        for _ in range(attempts):
            self.send(data)
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                got = self._receive(left)
                if got is None:
                    break
                msg = stun.parse(got)
                if msg is not None and msg.txid == txid and msg.cls in (stun.SUCCESS, stun.ERROR):
                    return msg
                self.inbox.append(got)
        return None

    def silent(self, data: bytes, wait: float = 0.5) -> bool:
        """Sends `data` once; True if nothing answered its transaction within `wait` seconds."""
        return self.transact(data, timeout=wait, attempts=1) is None

    def credentials(self) -> list[tuple[int, bytes]]:
        return [(stun.USERNAME, self.username.encode()), (stun.REALM, self.realm.encode()),
                (stun.NONCE, self.nonce or b"")]

    def request(self, method: int, attrs: list[tuple[int, bytes]] = (), retry_stale: bool = True,
                fingerprint: bool = False) -> stun.Message | None:
        """An authenticated request. Without a nonce yet, the first answer (401) provides one; a 438 with a new
        nonce is retried once when `retry_stale`."""
        if self.nonce is None:
            challenge = self.transact(stun.build(method, stun.REQUEST, attrs))
            if challenge is None or challenge.get(stun.NONCE) is None:
                return challenge
            self.nonce = challenge.get(stun.NONCE)
            self.realm = challenge.text(stun.REALM) or self.realm
        reply = self.transact(stun.build(method, stun.REQUEST, list(attrs) + self.credentials(), key=self.key,
                                         fingerprint=fingerprint))
        if reply is not None and reply.error_code() == 438 and retry_stale and reply.get(stun.NONCE):
            self.nonce = reply.get(stun.NONCE)
            reply = self.transact(stun.build(method, stun.REQUEST, list(attrs) + self.credentials(), key=self.key,
                                             fingerprint=fingerprint))
        return reply

    def allocate(self, extra: list[tuple[int, bytes]] = ()) -> stun.Message | None:
        reply = self.request(stun.ALLOCATE, [(stun.REQUESTED_TRANSPORT, stun.transport_udp()), *extra])
        if reply is not None and reply.cls == stun.SUCCESS:
            self.relayed = reply.address(stun.XOR_RELAYED_ADDRESS)
        return reply

    def create_permission(self, *peers: tuple[str, int]) -> stun.Message | None:
        return self.request(stun.CREATE_PERMISSION, [(stun.XOR_PEER_ADDRESS, stun.xor_address(ip, port))
                                                     for ip, port in peers])

    def channel_bind(self, number: int, peer: tuple[str, int]) -> stun.Message | None:
        return self.request(stun.CHANNEL_BIND, [(stun.CHANNEL_NUMBER, stun.channel_number(number)),
                                                (stun.XOR_PEER_ADDRESS, stun.xor_address(*peer))])

    def refresh(self, seconds: int) -> stun.Message | None:
        return self.request(stun.REFRESH, [(stun.LIFETIME, stun.lifetime(seconds))])

    def send_indication(self, peer: tuple[str, int], data: bytes) -> None:
        self.send(stun.build(stun.SEND, stun.INDICATION, [(stun.XOR_PEER_ADDRESS, stun.xor_address(*peer)),
                                                           (stun.DATA_ATTR, data)]))

    def channel_data(self, number: int, data: bytes) -> None:
        self.send(stun.channel_data(number, data))

    def collect(self, count: int, timeout: float) -> list[bytes]:
        """Datagrams that are not answers to a transaction: what is in the inbox, then what arrives, until `count`
        are there or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while len(self.inbox) < count and (left := deadline - time.monotonic()) > 0:
            got = self._receive(left)
            if got is not None:
                self.inbox.append(got)
        out, self.inbox = self.inbox, []
        return out


def expect_code(s: Scenario, reply: stun.Message | None, code: int | None, what: str) -> None:
    """`reply` is an error response with `code`, or a success when `code` is None."""
    if reply is None:
        raise Failure(f"{what}: no answer")
    got = reply.error_code() if reply.cls == stun.ERROR else None
    s.expect(reply.cls in (stun.SUCCESS, stun.ERROR) and got == code,
             f"{what}: answered {reply.describe()}, expected {'success' if code is None else code}")


# ---- ternd's counters --------------------------------------------------------------------------------------------

class Counters:
    """ternd's counters by scope (dataplane, control_io, control); live ones (stats()) also carry the packet
    buffers in use and the ports' own figures when the data plane reports them."""

    def __init__(self, scopes: dict[str, dict[str, int]], reply: dict | None = None) -> None:
        self.scopes = scopes
        self.reply = reply or {}
        self.wire_rx = 0

    @property
    def mempool_in_use(self) -> int | None:
        """Packet buffers out of every pool (exact when the data plane is idle)."""
        pools = self.reply.get("pools")
        return sum(p["in_use"] for p in pools) if pools else None

    @property
    def port_losses(self) -> int:
        """Frames the ports themselves dropped before a worker saw them (RX queue full, no buffer, bad frame)."""
        return sum(p.get("rx_missed", 0) + p.get("rx_no_buffer", 0) + p.get("rx_errors", 0)
                   for p in self.reply.get("ports", []))

    def dp(self, name: str) -> int:
        return self.scopes["dataplane"][name]

    def io(self, name: str) -> int:
        return self.scopes["control_io"][name]

    def ctl(self, name: str) -> int:
        return self.scopes["control"][name]

    def nonzero(self) -> dict[str, dict[str, int]]:
        return {scope: {k: v for k, v in values.items() if v} for scope, values in self.scopes.items()}


def parse_counters(log: str) -> Counters:
    scopes: dict[str, dict[str, int]] = {}
    for line in log.splitlines():
        if " event=counters " not in f"{line} ":
            continue
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        scope = fields.pop("scope", None)
        for key in ("level", "event"):
            fields.pop(key, None)
        if scope:
            scopes[scope] = {k: int(v) for k, v in fields.items()}
    return Counters(scopes)


def ternctl() -> Path:
    return servers.ternd_binary().parent / "ternctl"


def stats(s: Scenario) -> Counters:
    """ternd's live counters (`ternctl --json stats` on the scenario's control socket), then the frames the kernel
    has delivered to ternd's ports so far (`wire_rx`): a baseline for finish()."""
    argv = [str(ternctl()), "-s", str(s.workdir / "ternd.sock"), "--json", "stats"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    s.expect(done.returncode == 0, f"ternctl stats failed (status {done.returncode}): {done.stderr.strip()}")
    reply = json.loads(done.stdout.splitlines()[0])
    c = Counters({"dataplane": reply["dataplane"], "control_io": reply["control_io"],
                  "control": reply["control_plane"]}, reply)
    c.wire_rx = wire_rx(s)
    return c


def wire_rx(s: Scenario) -> int:
    """Frames the server namespace's kernel has delivered to the veth ends ternd's ports read (its RX counters)."""
    total = 0
    for ifname in (s.topo.srv_client_if, s.topo.srv_peer_if):
        out = subprocess.run(["ip", "-n", s.topo.srv, "-s", "-j", "link", "show", "dev", ifname],
                             capture_output=True, text=True, check=True).stdout
        total += json.loads(out)[0]["stats64"]["rx"]["packets"]
    return total


def settled_buffers(s: Scenario, baseline: Counters, timeout: float = 5) -> Counters:
    """Live stats once ternd is idle again: the packet buffers in use are back at the baseline's (nothing leaked);
    they may take a moment (packets waiting for a next hop are held up to a second)."""
    now = stats(s)
    s.expect(baseline.mempool_in_use is not None, "ternd's stats report no packet buffer pools")
    deadline = time.monotonic() + timeout
    while now.mempool_in_use != baseline.mempool_in_use and time.monotonic() < deadline:
        time.sleep(0.2)
        now = stats(s)
    s.expect(now.mempool_in_use == baseline.mempool_in_use,
             f"packet buffers in use: {now.mempool_in_use}, {baseline.mempool_in_use} before the case")
    return now


def finish(s: Scenario, baseline: Counters, reassembled: int = 0) -> Counters:
    """The end of a case: every frame the kernel delivered to ternd's ports since the baseline reached a worker or
    was counted lost by the port; packet buffers in use back at the baseline; ternd stopped cleanly; every frame
    and request accounted for in its final counters, which are returned for the case's own checks. `reassembled`:
    IPv4 fragments the case sent beyond the first of each datagram, which the kernel counts one by one and the
    af_packet port's fanout (PACKET_FANOUT_FLAG_DEFRAG) hands over as one frame."""
    # Read before ternd's figures, so ternd's cannot be short of it.
    arrived = wire_rx(s) - baseline.wire_rx - reassembled
    live = settled_buffers(s, baseline)
    received = live.dp("rx_packets") - baseline.dp("rx_packets")
    lost = live.port_losses - baseline.port_losses
    if lost:
        s.note(f"the ports counted {lost} frames lost before the workers saw them")
    s.expect(received + lost >= arrived,
             f"{arrived} frames reached ternd's ports during the case; its workers received {received} and the "
             f"ports counted {lost} lost: {arrived - received - lost} vanished uncounted")
    # With TCP and TLS listeners, stream clients' requests reach the control plane too (read while ternd runs).
    streamed = stream_counters(s)["streams"]["requests"] if s.streams else 0
    c = stop_ternd(s)
    c.reply = live.reply  # the ports' and pools' own figures, which only the live stats have
    check_accounted(s, c, streamed)
    return c


def stop_ternd(s: Scenario, grace: float = 30) -> Counters:
    """Stops ternd (SIGTERM): it must exit 0 having logged `stopped`; returns the counters it logged."""
    proc = s.server.proc
    s.expect(proc.alive(), f"ternd is not running (exit status {proc.popen.returncode}):\n{proc.tail()}")
    status = s.procs.stop(proc, grace=grace)
    log = proc.output()
    s.expect(status == 0, f"ternd exited with status {status} on SIGTERM:\n{proc.tail()}")
    s.expect("event=stopped" in log, f"ternd did not log event=stopped:\n{proc.tail()}")
    counters = parse_counters(log)
    scopes = {"dataplane", "control_io", "control"} | ({"streams", "exception"} if s.streams else set())
    s.expect(set(counters.scopes) == scopes,
             f"ternd logged counters for {sorted(counters.scopes)}, not {', '.join(sorted(scopes))}")
    s.note(f"ternd counters (non-zero): {json.dumps(counters.nonzero(), sort_keys=True)}")
    return counters


# A message handed to the control plane is a request of a method it serves, or is discarded under one of these.
_CTL_OUTCOMES = ("dropped_malformed", "dropped_unsupported", "indications_ignored", "responses_ignored")


def check_accounted(s: Scenario, c: Counters, streamed: int = 0) -> None:
    """Every frame the workers received ended under exactly one counter (the exception path to the kernel's TCP,
    `to_kernel`, among them), and so did every message the control plane was handed: punted by a worker, or one
    of `streamed` requests from TCP and TLS clients."""
    dp = c.scopes["dataplane"]
    # The workers' identities, from the roles dataplane/contract/counters.hpp gives each counter.
    stream_delivered = c.scopes.get("exception", {}).get("stream_delivered", 0)
    for failure in accounting.check(dp, stream_delivered):
        s.expect(False, f"the workers' accounting does not close: {failure}: "
                        f"{json.dumps(c.nonzero()['dataplane'], sort_keys=True)}")
    ctl = c.scopes["control"]
    requests = sum(v for k, v in ctl.items() if k.startswith("requests_"))
    handled = requests + sum(ctl[k] for k in _CTL_OUTCOMES)
    s.expect(handled == c.io("punts_received") + streamed,
             f"the control plane was handed {c.io('punts_received')} punted messages and {streamed} stream "
             f"requests but counted {handled}: {json.dumps(c.nonzero()['control'], sort_keys=True)}")
    # A request is answered (responses_<code>), answered again from the transaction cache, or refused an answer
    # by the rate limit.
    answered = sum(v for k, v in ctl.items() if k.startswith("responses_"))
    settled = answered + ctl["retransmissions_answered"] + ctl["unauthenticated_rate_limited"]
    s.expect(settled == requests, f"the control plane counted {requests} requests but {answered} answers, "
                                  f"{ctl['retransmissions_answered']} retransmissions answered and "
                                  f"{ctl['unauthenticated_rate_limited']} rate-limited")


# ---- a real client ---------------------------------------------------------------------------------------------

def serves_real_client(s: Scenario, echo=None) -> None:
    """python3-aioice allocates, binds a channel to the echo peer and gets every datagram back intact."""
    own_echo = echo is None
    if own_echo:
        echo = s.start_echo_peer([ECHO_PORT], name="final-echo")
    argv = s.python(AIOICE_CLIENT, "relay", "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}",
                    "--user", servers.USER, "--password", servers.PASSWORD,
                    "--peer", f"{s.topo.peer_ip}:{ECHO_PORT}")
    status, out = s.run_client("aioice-final", argv, timeout=60)
    s.expect(status == 0, f"aioice client exited with status {status}:\n{out[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    s.expect("exception" not in result and result.get("sent", 0) > 0 and result["echoed_intact"] == result["sent"],
             f"a real client is no longer served: {result}")
    s.note(f"aioice relay after the attack: {result['echoed_intact']}/{result['sent']} echoed intact")
    if own_echo:
        echo.stats()


# ---- running a case ----------------------------------------------------------------------------------------------

def main(cases: dict, conf_edits: dict | None = None, **kwargs) -> int:
    """scenario.main() for the case named on the command line, with `conf_edits[case]` — (old, new) pairs — applied
    to ternd's configuration first. Each `old` must be in it: an edit that no longer applies fails the case."""
    case = sys.argv[1] if len(sys.argv) > 1 else ""
    for old, new in (conf_edits or {}).get(case, []):
        if old not in servers.TERND_CONF:
            print(f"FAIL {case}: ternd's test configuration no longer contains {old!r}", flush=True)
            return 1
        servers.TERND_CONF = servers.TERND_CONF.replace(old, new)
    return scenario.main(cases, **kwargs)


def wait_until(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# ---- TURN over TCP and TLS (streams_test.py) ---------------------------------------------------------------------
# A scenario with `streams` gives ternd TCP on servers.TCP_PORT and TLS on servers.TLS_PORTS; its stream sockets
# live in a network namespace of ternd's own (the exception path's TAP), which only its stream thread enters.

import errno  # noqa: E402
import select  # noqa: E402
import ssl  # noqa: E402


def tcp_socket(s: Scenario, local_ip: str | None = None, rcvbuf: int | None = None) -> socket.socket:
    """An unconnected TCP socket of the client namespace, bound to `local_ip` (the first client address)."""
    sock = socket_in(s.topo.cli, socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect(): the window follows it
    sock.bind((local_ip or s.topo.client_ips[0], 0))
    return sock


def tcp_connect(s: Scenario, port: int = servers.TCP_PORT, local_ip: str | None = None, timeout: float = 5,
                rcvbuf: int | None = None) -> socket.socket:
    sock = tcp_socket(s, local_ip, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((s.topo.listen_ip, port))
    return sock


def tls_client_context(s: Scenario, alpn: list[str] | None = None) -> ssl.SSLContext:
    """A client context that trusts the scenario's test CA and checks the listener's IP."""
    ctx = ssl.create_default_context(cafile=str(s.pki.ca))
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    return ctx


def client_hello(alpn: list[str] | None = None) -> bytes:
    """The first flight of a TLS client (its ClientHello record), as OpenSSL makes it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def closed_by_server(sock: socket.socket, timeout: float) -> str | None:
    """Waits up to `timeout` s for the server to end the connection, discarding what it sends meanwhile: "eof"
    (FIN), "reset" (RST), or None (still open)."""
    deadline = time.monotonic() + timeout
    while True:
        left = max(0.0, deadline - time.monotonic())
        try:
            if isinstance(sock, ssl.SSLSocket) and sock.pending():
                ready = True
            else:
                ready = bool(select.select([sock], [], [], left)[0])
            if not ready:
                return None
            data = sock.recv(65536)
            if not data:
                return "eof"
        except (ConnectionResetError, BrokenPipeError):
            return "reset"
        except ssl.SSLError:
            return "eof"
        except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
            continue
        except OSError as e:
            if e.errno in (errno.ECONNRESET, errno.EPIPE):
                return "reset"
            raise


class StreamClient(TurnClient):
    """A TURN client over one TCP (or TLS) connection from the client namespace, with TurnClient's requests.
    Transactions are sent once (the stream is reliable); frames that answer none (ChannelData, Data indications)
    wait in `inbox`."""

    def __init__(self, s: Scenario, port: int = servers.TCP_PORT, tls: bool = False, local_ip: str | None = None,
                 rcvbuf: int | None = None, alpn: list[str] | None = None, username: str = servers.USER,
                 password: str = servers.PASSWORD, realm: str = servers.REALM) -> None:
        self.server = (s.topo.listen_ip, port)
        sock = tcp_connect(s, port, local_ip, rcvbuf=rcvbuf)
        if tls:
            sock = tls_client_context(s, alpn).wrap_socket(sock, server_hostname=s.topo.listen_ip)
        self.sock = sock
        self._start(username, password, realm)
        self._pending = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    @staticmethod
    def frame_size(buffer: bytes) -> int | None:
        """The size of the frame at the start of `buffer` (RFC 8656 §12.5: ChannelData padded to 4), or None."""
        if len(buffer) < 4:
            return None
        length = struct.unpack("!H", buffer[2:4])[0]
        if buffer[0] & 0xC0 == 0x40:
            return 4 + length + (-length % 4)
        return 20 + length

    def _receive(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while True:
            size = self.frame_size(self._pending)
            if size is not None and len(self._pending) >= size:
                frame, self._pending = self._pending[:size], self._pending[size:]
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(max(left, 0.001))
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                return None
            if not data:
                raise ConnectionError("the server closed the connection")
            self._pending += data

    def transact(self, data: bytes, timeout: float = 3.0, attempts: int = 1) -> stun.Message | None:
        return super().transact(data, timeout=timeout, attempts=1)

    def channel_data(self, number: int, data: bytes) -> None:
        self.send(stun.padded(stun.channel_data(number, data)))

    def binding(self, timeout: float = 3.0) -> stun.Message | None:
        return self.transact(stun.build(stun.BINDING, stun.REQUEST), timeout=timeout)


def stream_serves(s: Scenario, port: int = servers.TCP_PORT, tls: bool = False, local_ip: str | None = None,
                  rounds: int = 20) -> None:
    """A client over TCP (or TLS) allocates, binds a channel to an echo peer and gets every datagram back intact
    as ChannelData on its connection; its Refresh 0 succeeds."""
    echo = s.start_echo_peer([ECHO_PORT], name=f"stream-echo-{port}-{time.monotonic_ns()}")
    what = f"{'TLS' if tls else 'TCP'} client on port {port}"
    c = StreamClient(s, port, tls=tls, local_ip=local_ip)
    try:
        expect_code(s, c.allocate(), None, f"{what}: Allocate")
        expect_code(s, c.channel_bind(0x4001, (s.topo.peer_ip, ECHO_PORT)), None, f"{what}: ChannelBind")
        sent = [struct.pack("!I", i) + os.urandom(i * 37 % 1200) for i in range(rounds)]
        for payload in sent:
            c.channel_data(0x4001, payload)
        got = []
        deadline = time.monotonic() + 5
        while len(got) < len(sent) and time.monotonic() < deadline:
            for frame in c.collect(len(sent) - len(got), timeout=deadline - time.monotonic()):
                if stun.is_channel_data(frame):
                    length = struct.unpack("!H", frame[2:4])[0]
                    got.append((struct.unpack("!H", frame[:2])[0], frame[4:4 + length]))
        s.expect(got == [(0x4001, p) for p in sent],
                 f"{what}: {len(got)} of {len(sent)} ChannelData echoed back intact and in order")
        expect_code(s, c.refresh(0), None, f"{what}: Refresh 0")
        s.note(f"{what}: allocated, {len(got)}/{len(sent)} echoed intact")
    finally:
        c.close()
        echo.stats()


def stream_counters(s: Scenario) -> dict[str, dict[str, int]]:
    """The stream transport's counters (`streams`) and the exception path's (`exception`) from `ternctl --json
    stats`, with `dataplane`, `control_io` and `control` beside them."""
    argv = [str(ternctl()), "-s", str(s.workdir / "ternd.sock"), "--json", "stats"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    s.expect(done.returncode == 0, f"ternctl stats failed (status {done.returncode}): {done.stderr.strip()}")
    reply = json.loads(done.stdout.splitlines()[0])
    s.expect(bool(reply.get("streams")), "ternctl stats reports no stream transport counters")
    return {"streams": reply["streams"], "exception": reply.get("exception", {}), "dataplane": reply["dataplane"],
            "control_io": reply["control_io"], "control": reply["control_plane"]}


def ternctl_json(s: Scenario, *args: str) -> dict:
    """The first JSON line ternctl prints for `args` on the scenario's control socket."""
    argv = [str(ternctl()), "-s", str(s.workdir / "ternd.sock"), "--json", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    s.expect(done.returncode == 0, f"ternctl {' '.join(args)} failed (status {done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout.splitlines()[0])


def stream_connections(s: Scenario) -> dict[str, int]:
    """Open connections per stream listener ("tcp 10.90.0.1:3478": n), from `ternctl --json status`."""
    argv = [str(ternctl()), "-s", str(s.workdir / "ternd.sock"), "--json", "status"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    s.expect(done.returncode == 0, f"ternctl status failed (status {done.returncode}): {done.stderr.strip()}")
    reply = json.loads(done.stdout.splitlines()[0])
    return {f"{l['transport']} {l['address']}": int(l["connections"]) for l in reply.get("stream_listeners", [])}


def wait_connections(s: Scenario, total: int, timeout: float) -> int:
    """Waits until ternd holds `total` stream connections; returns what it holds then."""
    deadline = time.monotonic() + timeout
    while True:
        now = sum(stream_connections(s).values())
        if now == total or time.monotonic() > deadline:
            return now
        time.sleep(0.1)


def stream_thread_netns(s: Scenario) -> str:
    """/proc path of the network namespace ternd's stream sockets live in: that of the one thread of ternd that is
    not in the server namespace (the main thread's, /proc/PID/ns/net, is the scenario's)."""
    pid = s.server.proc.pid
    main_ns = os.readlink(f"/proc/{pid}/ns/net")
    for task in sorted(Path(f"/proc/{pid}/task").iterdir()):
        try:
            if os.readlink(task / "ns" / "net") != main_ns:
                return str(task / "ns" / "net")
        except OSError:
            continue
    raise Failure("no thread of ternd is in a network namespace of its own (the stream transport's)")


def stream_sockstat(s: Scenario) -> dict[str, int]:
    """/proc/net/sockstat's TCP line in ternd's stream namespace: inuse, orphan, tw, alloc, mem (pages)."""
    out = subprocess.run(["nsenter", f"--net={stream_thread_netns(s)}", "cat", "/proc/net/sockstat"],
                         capture_output=True, text=True, check=True, timeout=10).stdout
    for line in out.splitlines():
        if line.startswith("TCP:"):
            fields = line.split()[1:]
            return {fields[i]: int(fields[i + 1]) for i in range(0, len(fields) - 1, 2)}
    raise Failure(f"no TCP line in ternd's /proc/net/sockstat:\n{out}")


def stream_ss(s: Scenario) -> str:
    """`ss -tnmi` in ternd's stream namespace: its TCP sockets with queues and memory."""
    return subprocess.run(["nsenter", f"--net={stream_thread_netns(s)}", "ss", "-tanmi"],
                          capture_output=True, text=True, timeout=10).stdout


def sanitized(s: Scenario) -> bool:
    """Whether ternd runs under AddressSanitizer (scripts/ci-sanitize): its quarantine keeps freed memory resident,
    so memory that stays flat in a normal build grows there by design."""
    return "libasan" in Path(f"/proc/{s.server.proc.pid}/maps").read_text()


def vm_rss_kib(s: Scenario) -> int:
    for line in Path(f"/proc/{s.server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise Failure("ternd's /proc/PID/status has no VmRSS")
