#!/usr/bin/python3
"""Load generators for tests/load, run inside the client namespace (standard library only, one process each).

  churn    allocation churn: SOCKETS UDP sockets, each cycling Allocate -> Refresh(LIFETIME 0) as fast as the
           server answers, new cycles started at --rate per second for --seconds; every request authenticated
           (long-term credentials, the nonce each 5-tuple was given kept and reused), retransmitted after 0.5 s
  traffic  steady relayed traffic: --allocations allocations, each with a channel to the echo peer, ChannelData
           at --rate datagrams per second in all, every one numbered; echoes are matched and counted
  flood    --count authenticated Binding requests (each its own transaction; the nonce taken from a 401 first),
           sent as fast as the socket takes them in --burst sized rounds; nothing else is read

Each writes one JSON object to --out when it ends (SIGTERM ends churn and traffic early, cleanly). The CPU they run
on is --cpu (default: all): keeping them off the worker's core keeps the measurement about ternd.
"""

import argparse
import collections
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

import stun_codec as stun  # noqa: E402

RETRANSMIT = 0.5
MAX_ATTEMPTS = 6
SO_RCVBUFFORCE = 33


class Stop:
    requested = False


def on_term(*_):
    Stop.requested = True


def address(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


class Endpoint:
    """One 5-tuple with its own nonce and at most one transaction in flight."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.nonce: bytes | None = None
        self.phase = "idle"      # idle | allocate | refresh
        self.message = b""
        self.txid = b""
        self.sent_at = 0.0
        self.started_at = 0.0
        self.attempts = 0


class Credentials:
    def __init__(self, user: str, password: str, realm: str) -> None:
        self.user = user.encode()
        self.realm = realm.encode()
        self.key = stun.long_term_key(user, realm, password)

    def request(self, method: int, attrs: list, nonce: bytes | None) -> bytes:
        if nonce is None:
            return stun.build(method, stun.REQUEST, attrs)
        return stun.build(method, stun.REQUEST, attrs + [(stun.USERNAME, self.user), (stun.REALM, self.realm),
                                                         (stun.NONCE, nonce)], key=self.key)


def churn(args) -> dict:
    creds = Credentials(args.user, args.password, args.realm)
    server = args.server
    selector = selectors.DefaultSelector()
    endpoints = []
    for i in range(args.sockets):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((args.local[i % len(args.local)], 0))
        sock.setblocking(False)
        endpoint = Endpoint(sock)
        endpoints.append(endpoint)
        selector.register(sock, selectors.EVENT_READ, endpoint)
    idle = collections.deque(endpoints)  # first in, first out: every 5-tuple takes its turn
    busy: set[Endpoint] = set()
    counts = {"cycles": 0, "allocated": 0, "deleted": 0, "retransmissions": 0, "abandoned": 0, "nonces": 0}
    errors: dict[str, int] = {}
    latencies: list[float] = []
    allocate_attrs = [(stun.REQUESTED_TRANSPORT, stun.transport_udp())]
    refresh_attrs = [(stun.LIFETIME, stun.lifetime(0))]

    def send(e: Endpoint, phase: str) -> None:
        e.phase = phase
        e.message = creds.request(stun.ALLOCATE if phase == "allocate" else stun.REFRESH,
                                  allocate_attrs if phase == "allocate" else refresh_attrs, e.nonce)
        e.txid = e.message[8:20]
        e.attempts = 1
        e.sent_at = time.monotonic()
        e.sock.sendto(e.message, server)

    start = time.monotonic()
    stop_at = start + args.seconds
    started = 0
    while True:
        now = time.monotonic()
        winding_down = Stop.requested or now >= stop_at
        if winding_down and not busy:
            break
        if winding_down and now >= stop_at + 5:
            break
        if not winding_down:
            due = int((now - start) * args.rate) - started
            while due > 0 and idle:
                e = idle.popleft()
                busy.add(e)
                e.started_at = now
                send(e, "allocate")
                started += 1
                due -= 1
        for key, _ in selector.select(timeout=0.001):
            e: Endpoint = key.data
            while True:
                try:
                    data = e.sock.recv(2048)
                except BlockingIOError:
                    break
                if len(data) < 20 or data[8:20] != e.txid or e.phase == "idle":
                    continue
                msg_type = struct.unpack("!H", data[:2])[0]
                _, cls = stun.split_type(msg_type)
                if cls == stun.SUCCESS:
                    if e.phase == "allocate":
                        counts["allocated"] += 1
                        send(e, "refresh")
                    else:
                        counts["deleted"] += 1
                        counts["cycles"] += 1
                        latencies.append(time.monotonic() - e.started_at)
                        e.phase = "idle"
                        busy.discard(e)
                        idle.append(e)
                    continue
                msg = stun.parse(data)
                code = msg.error_code() if msg else None
                if code in (401, 438) and msg.get(stun.NONCE) and (e.nonce is None or code == 438):
                    # The first request of a 5-tuple, or a nonce that expired: take the nonce and ask again.
                    e.nonce = msg.get(stun.NONCE)
                    counts["nonces"] += 1
                    send(e, e.phase)
                    continue
                errors[f"{e.phase} {code}"] = errors.get(f"{e.phase} {code}", 0) + 1
                if e.phase == "allocate" and code == 437:
                    send(e, "refresh")  # an allocation of this 5-tuple is still there: delete it
                    continue
                e.phase = "idle"
                busy.discard(e)
                idle.append(e)
        now = time.monotonic()
        for e in list(busy):
            if now - e.sent_at > RETRANSMIT:
                if e.attempts >= MAX_ATTEMPTS:
                    counts["abandoned"] += 1
                    e.phase = "idle"
                    busy.discard(e)
                    idle.append(e)
                    continue
                e.attempts += 1
                e.sent_at = now
                e.sock.sendto(e.message, server)
                counts["retransmissions"] += 1
    elapsed = time.monotonic() - start
    for e in endpoints:
        e.sock.close()
    return {**counts, "errors": errors, "started": started, "in_flight_at_end": len(busy), "seconds": elapsed,
            "cycles_per_second": counts["cycles"] / max(elapsed, 1e-9),
            "latency_ms": {"p50": percentile(latencies, 0.5) * 1e3, "p99": percentile(latencies, 0.99) * 1e3,
                           "max": max(latencies, default=0) * 1e3}}


def transact(sock: socket.socket, server, message: bytes, timeout: float = 5.0) -> stun.Message | None:
    txid = message[8:20]
    deadline = time.monotonic() + timeout
    next_send = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() >= next_send:
            sock.sendto(message, server)
            next_send = time.monotonic() + RETRANSMIT
        sock.settimeout(0.05)
        try:
            data = sock.recv(2048)
        except socket.timeout:
            continue
        msg = stun.parse(data)
        if msg is not None and msg.txid == txid:
            return msg
    return None


def authenticated(sock, server, creds: Credentials, method: int, attrs: list, state: dict) -> stun.Message:
    for _ in range(3):
        reply = transact(sock, server, creds.request(method, attrs, state.get("nonce")))
        if reply is None:
            raise RuntimeError(f"no answer to method 0x{method:03x}")
        if reply.cls == stun.SUCCESS:
            return reply
        if reply.error_code() in (401, 438) and reply.get(stun.NONCE):
            state["nonce"] = reply.get(stun.NONCE)
            continue
        raise RuntimeError(f"method 0x{method:03x}: {reply.describe()}")
    raise RuntimeError(f"method 0x{method:03x}: no nonce accepted")


def traffic(args) -> dict:
    creds = Credentials(args.user, args.password, args.realm)
    server = args.server
    flows = []
    for i in range(args.allocations):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)  # past rmem_max (root)
        sock.bind((args.local[i % len(args.local)], 0))
        state: dict = {}
        authenticated(sock, server, creds, stun.ALLOCATE, [(stun.REQUESTED_TRANSPORT, stun.transport_udp())], state)
        authenticated(sock, server, creds, stun.CHANNEL_BIND,
                      [(stun.CHANNEL_NUMBER, stun.channel_number(0x4000)),
                       (stun.XOR_PEER_ADDRESS, stun.xor_address(*args.peer))], state)
        sock.setblocking(False)
        flows.append((sock, state))
    Path(args.ready).write_text("ready\n")

    selector = selectors.DefaultSelector()
    for index, (sock, _) in enumerate(flows):
        selector.register(sock, selectors.EVENT_READ, index)
    outstanding: set[tuple[int, int]] = set()
    received = duplicates = corrupt = sent = 0
    filler = os.urandom(max(0, args.size - 12))

    def drain(timeout: float) -> None:
        nonlocal received, duplicates, corrupt
        for key, _ in selector.select(timeout=timeout):
            sock = key.fileobj
            while True:
                try:
                    data = sock.recv(2048)
                except BlockingIOError:
                    break
                if len(data) < 16 or data[:2] != b"\x40\x00":
                    corrupt += 1
                    continue
                flow, seq = struct.unpack("!II", data[4:12])
                if data[12:] != filler or flow != key.data:
                    corrupt += 1
                elif (flow, seq) in outstanding:
                    outstanding.discard((flow, seq))
                    received += 1
                else:
                    duplicates += 1

    start = time.monotonic()
    while not Stop.requested and (now := time.monotonic()) < start + args.seconds:
        due = int((now - start) * args.rate)
        while sent < due:
            index = sent % len(flows)
            sock, _ = flows[index]
            sock.sendto(stun.channel_data(0x4000, struct.pack("!II", index, sent) + filler), server)
            outstanding.add((index, sent))
            sent += 1
        drain(0.001)
    deadline = time.monotonic() + 3
    while outstanding and time.monotonic() < deadline:
        drain(0.05)
    for sock, state in flows:
        sock.setblocking(True)
        try:
            authenticated(sock, server, creds, stun.REFRESH, [(stun.LIFETIME, stun.lifetime(0))], state)
        except RuntimeError:
            pass
        sock.close()
    return {"sent": sent, "received": received, "missing": len(outstanding), "duplicates": duplicates,
            "corrupt": corrupt, "seconds": time.monotonic() - start}


def flood(args) -> dict:
    creds = Credentials(args.user, args.password, args.realm)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    sock.bind((args.local[0], 0))
    challenge = transact(sock, args.server, creds.request(stun.ALLOCATE, [(stun.REQUESTED_TRANSPORT,
                                                                            stun.transport_udp())], None))
    if challenge is None or challenge.get(stun.NONCE) is None:
        raise RuntimeError(f"no nonce: {challenge and challenge.describe()}")
    nonce = challenge.get(stun.NONCE)
    messages = [creds.request(stun.BINDING, [], nonce) for _ in range(args.count)]
    Path(args.ready).write_text("ready\n")
    sent = failed = 0
    start = time.monotonic()
    while sent + failed < args.count:
        for message in messages[sent + failed:sent + failed + args.burst]:
            try:
                sock.sendto(message, args.server)
                sent += 1
            except OSError:
                failed += 1
        if args.pause:
            time.sleep(args.pause)
    return {"sent": sent, "failed": failed, "seconds": time.monotonic() - start,
            "local": list(sock.getsockname())}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["churn", "traffic", "flood"])
    parser.add_argument("--server", type=address, required=True)
    parser.add_argument("--local", action="append", required=True, help="local address(es), round robin")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", default="wonderland")
    parser.add_argument("--realm", default="tern.test")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--sockets", type=int, default=256)
    parser.add_argument("--allocations", type=int, default=8)
    parser.add_argument("--peer", type=address)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--burst", type=int, default=256)
    parser.add_argument("--pause", type=float, default=0.0)
    parser.add_argument("--cpu", type=int, action="append", help="CPUs to run on")
    parser.add_argument("--ready", default=os.devnull)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.cpu:
        os.sched_setaffinity(0, set(args.cpu))
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    result = {"churn": churn, "traffic": traffic, "flood": flood}[args.mode](args)
    Path(args.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
