"""The soak's steady set, run inside the client namespace (standard library only, one process):

  steady   --allocations UDP allocations, each with a channel to the echo peer, relaying numbered ChannelData
           at --rate datagrams a second in all for --seconds, and kept alive the whole time: every
           --refresh seconds each one sends a Refresh (LIFETIME --lifetime) and its ChannelBind again (which
           refreshes the channel and the permission, RFC 8656 §12.2), without pausing the traffic. Echoes are
           matched to what was sent; at the end every allocation is deleted (Refresh LIFETIME 0).

It writes one JSON object to --out when it ends (SIGTERM ends it early, cleanly): sent, received, missing,
duplicates, corrupt, the refreshes done and any request that failed, and per allocation what it sent and got back.
"""

import argparse
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "load"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

import load_clients  # noqa: E402
import stun_codec as stun  # noqa: E402

from load_clients import MAX_ATTEMPTS, RETRANSMIT, SO_RCVBUFFORCE, Stop, on_term  # noqa: E402

CHANNEL = 0x4000


class Flow:
    """One allocation of the steady set: its socket, nonce, and the request it has in flight (at most one)."""

    def __init__(self, index: int, sock: socket.socket, nonce: bytes) -> None:
        self.index = index
        self.sock = sock
        self.nonce = nonce
        self.sent = 0
        self.received = 0
        self.pending: list[tuple[str, list]] = []  # requests still to send: (name, attributes)
        self.request: tuple[str, list] | None = None
        self.message = b""
        self.sent_at = 0.0
        self.attempts = 0


def steady(args) -> dict:
    creds = load_clients.Credentials(args.user, args.password, args.realm)
    server = args.server
    peer_attr = stun.xor_address(*args.peer)
    flows: list[Flow] = []
    for i in range(args.allocations):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
        sock.bind((args.local[i % len(args.local)], 0))
        state: dict = {}
        load_clients.authenticated(sock, server, creds, stun.ALLOCATE,
                                   [(stun.REQUESTED_TRANSPORT, stun.transport_udp()),
                                    (stun.LIFETIME, stun.lifetime(args.lifetime))], state)
        load_clients.authenticated(sock, server, creds, stun.CHANNEL_BIND,
                                   [(stun.CHANNEL_NUMBER, stun.channel_number(CHANNEL)),
                                    (stun.XOR_PEER_ADDRESS, peer_attr)], state)
        sock.setblocking(False)
        flows.append(Flow(i, sock, state["nonce"]))
    Path(args.ready).write_text("ready\n")

    refresh_attrs = [(stun.LIFETIME, stun.lifetime(args.lifetime))]
    bind_attrs = [(stun.CHANNEL_NUMBER, stun.channel_number(CHANNEL)), (stun.XOR_PEER_ADDRESS, peer_attr)]
    methods = {"refresh": stun.REFRESH, "channel-bind": stun.CHANNEL_BIND}
    counts = {"refreshes": 0, "channel_binds": 0, "retransmissions": 0, "stale_nonces": 0}
    errors: dict[str, int] = {}
    selector = selectors.DefaultSelector()
    for flow in flows:
        selector.register(flow.sock, selectors.EVENT_READ, flow)
    outstanding: set[tuple[int, int]] = set()
    duplicates = corrupt = sent = 0
    filler = os.urandom(max(0, args.size - 8))

    def send_request(flow: Flow) -> None:
        name, attrs = flow.request
        flow.message = creds.request(methods[name], attrs, flow.nonce)
        flow.attempts = 1
        flow.sent_at = time.monotonic()
        flow.sock.sendto(flow.message, server)

    def next_request(flow: Flow) -> None:
        flow.request = flow.pending.pop(0) if flow.pending else None
        if flow.request:
            send_request(flow)

    def answered(flow: Flow, data: bytes) -> None:
        msg = stun.parse(data)
        if msg is None or flow.request is None or msg.txid != flow.message[8:20]:
            return  # an answer to an earlier attempt, already settled
        name = flow.request[0]
        if msg.cls == stun.SUCCESS:
            counts["refreshes" if name == "refresh" else "channel_binds"] += 1
            return next_request(flow)
        code = msg.error_code()
        if code == 438 and msg.get(stun.NONCE):
            # RFC 8489 §9.2.4: the nonce expired; the answer carries the next one.
            flow.nonce = msg.get(stun.NONCE)
            counts["stale_nonces"] += 1
            return send_request(flow)
        errors[f"{name} {code}"] = errors.get(f"{name} {code}", 0) + 1
        next_request(flow)

    def drain(timeout: float) -> None:
        nonlocal duplicates, corrupt
        for key, _ in selector.select(timeout=timeout):
            flow: Flow = key.data
            while True:
                try:
                    data = flow.sock.recv(2048)
                except BlockingIOError:
                    break
                if len(data) >= 20 and data[0] & 0xC0 == 0:
                    answered(flow, data)
                    continue
                if len(data) < 12 or struct.unpack("!H", data[:2])[0] != CHANNEL:
                    corrupt += 1
                    continue
                index, seq = struct.unpack("!II", data[4:12])
                if data[12:] != filler or index != flow.index:
                    corrupt += 1
                elif (index, seq) in outstanding:
                    outstanding.discard((index, seq))
                    flow.received += 1
                else:
                    duplicates += 1

    def retransmit(now: float) -> None:
        for flow in flows:
            if flow.request and now - flow.sent_at > RETRANSMIT:
                if flow.attempts >= MAX_ATTEMPTS:
                    errors[f"{flow.request[0]} unanswered"] = errors.get(f"{flow.request[0]} unanswered", 0) + 1
                    next_request(flow)
                    continue
                flow.attempts += 1
                flow.sent_at = now
                flow.sock.sendto(flow.message, server)
                counts["retransmissions"] += 1

    start = time.monotonic()
    next_refresh = start + args.refresh
    while not Stop.requested and (now := time.monotonic()) < start + args.seconds:
        due = int((now - start) * args.rate)
        while sent < due:
            flow = flows[sent % len(flows)]
            flow.sock.sendto(stun.channel_data(CHANNEL, struct.pack("!II", flow.index, sent) + filler), server)
            outstanding.add((flow.index, sent))
            flow.sent += 1
            sent += 1
        if now >= next_refresh:
            next_refresh += args.refresh
            for flow in flows:
                flow.pending += [("refresh", refresh_attrs), ("channel-bind", bind_attrs)]
                if flow.request is None:
                    next_request(flow)
        drain(0.001)
        retransmit(time.monotonic())
    deadline = time.monotonic() + 3
    while (outstanding or any(f.request for f in flows)) and time.monotonic() < deadline:
        drain(0.05)
        retransmit(time.monotonic())
    in_flight = sum(1 for f in flows if f.request)
    deleted = 0
    for flow in flows:
        flow.sock.setblocking(True)
        try:
            load_clients.authenticated(flow.sock, server, creds, stun.REFRESH, [(stun.LIFETIME, stun.lifetime(0))],
                                       {"nonce": flow.nonce})
            deleted += 1
        except RuntimeError as e:
            errors[f"delete: {e}"] = errors.get(f"delete: {e}", 0) + 1
        flow.sock.close()
    return {"sent": sent, "received": sum(f.received for f in flows), "missing": len(outstanding),
            "duplicates": duplicates, "corrupt": corrupt, **counts, "errors": errors, "requests_in_flight": in_flight,
            "deleted": deleted, "seconds": time.monotonic() - start,
            "flows": [{"sent": f.sent, "received": f.received} for f in flows]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["steady"])
    parser.add_argument("--server", type=load_clients.address, required=True)
    parser.add_argument("--local", action="append", required=True, help="local address(es), round robin")
    parser.add_argument("--peer", type=load_clients.address, required=True)
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", default="wonderland")
    parser.add_argument("--realm", default="tern.test")
    parser.add_argument("--allocations", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200, help="datagrams per second, all allocations together")
    parser.add_argument("--size", type=int, default=120, help="application data bytes per datagram")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--refresh", type=float, default=60, help="seconds between an allocation's refreshes")
    parser.add_argument("--lifetime", type=int, default=600)
    parser.add_argument("--cpu", type=int, action="append", help="CPUs to run on")
    parser.add_argument("--ready", default=os.devnull)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.cpu:
        os.sched_setaffinity(0, set(args.cpu))
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    Path(args.out).write_text(json.dumps(steady(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
