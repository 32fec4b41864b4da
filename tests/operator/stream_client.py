#!/usr/bin/python3
"""A TURN client that keeps relayed traffic flowing while an operator acts on the server (python3-aioice).

Allocates, writes its relayed address to --ready, then sends numbered datagrams to an echo peer over a channel at
--rate per second for --seconds, and counts the echoes. Prints one JSON object: the relayed address, how many were
sent and echoed, which sequence numbers never came back (the longest run of them too), then deletes the allocation
(Refresh with LIFETIME 0) unless --keep.
"""

import argparse
import asyncio
import json
import struct
import sys

from aioice.turn import TurnClientUdpProtocol


class Echoes:
    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.duplicates = 0

    def datagram_received(self, data: bytes, addr) -> None:
        if len(data) >= 4:
            seq = struct.unpack("!I", data[:4])[0]
            if seq in self.seen:
                self.duplicates += 1
            self.seen.add(seq)


def address(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


async def run(args) -> dict:
    loop = asyncio.get_running_loop()
    _, turn = await loop.create_datagram_endpoint(
        lambda: TurnClientUdpProtocol(args.server, username=args.user, password=args.password, lifetime=600,
                                      channel_refresh_time=500),
        remote_addr=args.server)
    relayed = await turn.connect()
    echoes = Echoes()
    turn.receiver = echoes
    with open(args.ready, "w") as f:
        f.write(f"{relayed[0]}:{relayed[1]}\n")

    total = int(args.seconds * args.rate)
    start = loop.time()
    for seq in range(total):
        await turn.send_data(struct.pack("!I", seq) + b"x" * 96, args.peer)
        delay = start + (seq + 1) / args.rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
    for _ in range(30):  # up to 3 s for the last echoes
        if len(echoes.seen) >= total:
            break
        await asyncio.sleep(0.1)

    missing = sorted(set(range(total)) - echoes.seen)
    longest = run_length = 0
    for i, seq in enumerate(missing):
        run_length = run_length + 1 if i and missing[i - 1] == seq - 1 else 1
        longest = max(longest, run_length)
    if not args.keep:
        await turn.delete()
    return {"relayed": f"{relayed[0]}:{relayed[1]}", "sent": total, "echoed": len(echoes.seen),
            "lost": len(missing), "longest_gap": longest, "first_lost": missing[:10], "duplicates": echoes.duplicates}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", type=address, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--peer", type=address, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(asyncio.wait_for(run(args), timeout=args.seconds + 60))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
