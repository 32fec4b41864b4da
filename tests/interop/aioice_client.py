#!/usr/bin/python3
"""python3-aioice's TURN client (aioice 0.8, aioice.turn), run in the client namespace by aioice_test.py.

Prints one JSON object with what happened; aioice_test.py decides whether that is right.

  relay      create_turn_endpoint() allocates; datagrams of several sizes to each echo peer port go out as
             ChannelData (aioice binds a channel per peer address first); every echo must come back intact.
             With --family 6 the Allocate asks for an IPv6 relayed address (REQUESTED-ADDRESS-FAMILY,
             RFC 8656 §7.1), which aioice 0.8 cannot say by itself: this script teaches its codec the attribute
  refused    the Allocate must fail: reports the final STUN error code
  forbidden  after allocating, ChannelBind and CreatePermission towards each `--denied` peer must fail (reports
             the error codes), then the allocation must still relay to the allowed peer

--transport tcp or tls: relay and refused talk to the server over TCP, or TLS (aioice's transport="tcp" and
ssl=True: Python's default context, which trusts SSL_CERT_FILE and checks the server's IP address).
"""

import argparse
import asyncio
import json
import os
import struct
import sys

from aioice import stun
from aioice.turn import UDP_TRANSPORT, TurnClientUdpProtocol, create_turn_endpoint

SIZES = [1, 2, 3, 4, 5, 64, 100, 255, 256, 999, 1000, 1200, 1400]


class Collector(asyncio.DatagramProtocol):
    """Receives what the relay delivers: (payload, peer address) pairs."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, tuple]] = []
        self.arrived = asyncio.Event()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.received.append((data, tuple(addr)))
        self.arrived.set()


def payload(seq: int, size: int) -> bytes:
    body = struct.pack("!I", seq) + os.urandom(max(0, size - 4))
    return body[:size] if size >= 4 else os.urandom(size)


async def wait_count(collector: Collector, count: int, timeout: float) -> None:
    async def reached():
        while len(collector.received) < count:
            collector.arrived.clear()
            await collector.arrived.wait()
    try:
        await asyncio.wait_for(reached(), timeout)
    except asyncio.TimeoutError:
        pass


async def exchange(send, collector: Collector, peers: list[tuple], rounds: int) -> dict:
    """Sends `rounds` x SIZES datagrams to every peer, waits for the echoes and compares them with what was sent."""
    expected: dict[tuple, list[bytes]] = {peer: [] for peer in peers}
    seq = 0
    for _ in range(rounds):
        for size in SIZES:
            for peer in peers:
                data = payload(seq, size)
                seq += 1
                expected[peer].append(data)
                await send(data, peer)
            await asyncio.sleep(0.002)
    total = sum(len(v) for v in expected.values())
    await wait_count(collector, total, timeout=10)
    intact = 0
    unexpected = 0
    for data, source in collector.received:
        if source in expected and data in expected[source]:
            expected[source].remove(data)
            intact += 1
        else:
            unexpected += 1
    return {"sent": total, "echoed_intact": intact, "unexpected": unexpected,
            "missing": sum(len(v) for v in expected.values())}


REQUESTED_ADDRESS_FAMILY = 0x0017  # RFC 8656 §18: family (1 IPv4, 2 IPv6), three bytes RFFU


def teach_requested_address_family() -> None:
    entry = (REQUESTED_ADDRESS_FAMILY, "REQUESTED-ADDRESS-FAMILY", lambda v: struct.pack("!B3x", v),
             lambda data: data[0])
    stun.ATTRIBUTES_BY_TYPE[entry[0]] = entry
    stun.ATTRIBUTES_BY_NAME[entry[1]] = entry


class FamilyTurnProtocol(TurnClientUdpProtocol):
    """aioice's client whose Allocate names the relayed address's family."""

    def __init__(self, *args, family: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.family = family

    async def connect(self):
        request = stun.Message(message_method=stun.Method.ALLOCATE, message_class=stun.Class.REQUEST)
        request.attributes["LIFETIME"] = self.lifetime
        request.attributes["REQUESTED-TRANSPORT"] = UDP_TRANSPORT
        request.attributes["REQUESTED-ADDRESS-FAMILY"] = 2 if self.family == 6 else 1
        response, _ = await self.request_with_retry(request)
        self.relayed_address = response.attributes["XOR-RELAYED-ADDRESS"]
        self.refresh_handle = asyncio.ensure_future(self.refresh(response.attributes["LIFETIME"]))
        return self.relayed_address


def error_code(exc: Exception) -> int | None:
    if isinstance(exc, stun.TransactionFailed):
        return exc.response.attributes["ERROR-CODE"][0]
    return None


async def case_relay(args, peers) -> dict:
    if args.family == 6:
        return await case_relay_family(args, peers)
    transport, collector = await create_turn_endpoint(Collector, server_addr=args.server, username=args.user,
                                                      password=args.password, **stream_options(args))
    relayed = transport.get_extra_info("sockname")

    async def send(data, peer):
        transport.sendto(data, peer)

    result = {"relayed": list(relayed), **await exchange(send, collector, peers, args.rounds)}
    transport.close()  # Refresh with LIFETIME 0 (RFC 8656 §7.2) deletes the allocation
    await asyncio.sleep(0.5)
    return result


async def case_relay_family(args, peers) -> dict:
    teach_requested_address_family()
    loop = asyncio.get_running_loop()
    _, turn = await loop.create_datagram_endpoint(
        lambda: FamilyTurnProtocol(args.server, username=args.user, password=args.password, lifetime=600,
                                   channel_refresh_time=500, family=args.family),
        remote_addr=args.server)
    relayed = await turn.connect()
    collector = Collector()
    turn.receiver = collector

    async def send(data, peer):
        await turn.send_data(data, peer)

    result = {"relayed": list(relayed), **await exchange(send, collector, peers, args.rounds)}
    await turn.delete()
    return result


async def case_refused(args, peers) -> dict:
    try:
        transport, _ = await create_turn_endpoint(Collector, server_addr=args.server, username=args.user,
                                                  password=args.password, **stream_options(args))
    except Exception as e:  # noqa: BLE001 -- any failure is reported; the test checks it is the right one
        return {"allocated": False, "error_code": error_code(e), "error": f"{type(e).__name__}: {e}"}
    relayed = transport.get_extra_info("sockname")
    transport.close()
    return {"allocated": True, "relayed": list(relayed)}


async def case_forbidden(args, peers) -> dict:
    loop = asyncio.get_running_loop()
    _, turn = await loop.create_datagram_endpoint(
        lambda: TurnClientUdpProtocol(args.server, username=args.user, password=args.password, lifetime=600,
                                      channel_refresh_time=500),
        remote_addr=args.server)
    relayed = await turn.connect()
    collector = Collector()
    turn.receiver = collector

    refusals = {}
    for i, denied in enumerate(args.denied):
        codes = {}
        try:
            await turn.channel_bind(0x4000 + i, denied)  # never used for data: no datagram is sent to `denied`
            codes["channel-bind"] = 0
        except stun.TransactionFailed as e:
            codes["channel-bind"] = error_code(e)
        request = stun.Message(message_method=stun.Method.CREATE_PERMISSION, message_class=stun.Class.REQUEST)
        request.attributes["XOR-PEER-ADDRESS"] = denied
        try:
            await turn.request_with_retry(request)
            codes["create-permission"] = 0
        except stun.TransactionFailed as e:
            codes["create-permission"] = error_code(e)
        refusals[f"{denied[0]}:{denied[1]}"] = codes

    turn.channel_number = 0x4000 + len(args.denied)  # the next channel aioice binds for data

    async def send(data, peer):
        await turn.send_data(data, peer)

    result = {"relayed": list(relayed), "refusals": refusals, **await exchange(send, collector, peers, 1)}
    await turn.delete()
    return result


def stream_options(args) -> dict:
    """create_turn_endpoint's transport and ssl for --transport."""
    if args.transport == "udp":
        return {}
    return {"transport": "tcp", "ssl": args.transport == "tls"}


def address(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["relay", "refused", "forbidden"])
    parser.add_argument("--server", type=address, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--peer", type=address, action="append", default=[])
    parser.add_argument("--denied", type=address, action="append", default=[])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--family", type=int, choices=[4, 6], default=4, help="the relayed address's")
    parser.add_argument("--transport", choices=["udp", "tcp", "tls"], default="udp", help="to the server")
    args = parser.parse_args()
    case = {"relay": case_relay, "refused": case_refused, "forbidden": case_forbidden}[args.case]
    try:
        result = await asyncio.wait_for(case(args, args.peer), timeout=60)
    except Exception as e:  # noqa: BLE001
        result = {"exception": f"{type(e).__name__}: {e}", "error_code": error_code(e)}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
