#!/usr/bin/python3
"""UDP echo peer for the peer namespace (standard library only).

Echoes every datagram back to its sender on each of the given ports. Writes `--ready FILE` once bound, and on
SIGTERM/SIGINT writes `--stats FILE`: datagrams and bytes echoed per (port, source address), so a scenario can check
that the traffic came from the relayed address and nowhere else.
"""

import argparse
import json
import selectors
import signal
import socket
import sys
from collections import Counter


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ip", required=True)
    parser.add_argument("--ports", required=True, help="comma separated")
    parser.add_argument("--ready", required=True)
    parser.add_argument("--stats", required=True)
    args = parser.parse_args()

    selector = selectors.DefaultSelector()
    for port in (int(p) for p in args.ports.split(",")):
        sock = socket.socket(socket.AF_INET6 if ":" in args.ip else socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((args.ip, port))
        selector.register(sock, selectors.EVENT_READ, port)

    datagrams: Counter = Counter()
    octets: Counter = Counter()
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(args.ready, "w") as f:
        f.write("ready\n")

    while not stopping:
        for key, _ in selector.select(timeout=0.2):
            try:
                data, source = key.fileobj.recvfrom(65535)
                key.fileobj.sendto(data, source)
            except OSError:
                continue
            flow = f"{key.data} {source[0]}:{source[1]}"
            datagrams[flow] += 1
            octets[flow] += len(data)

    with open(args.stats, "w") as f:
        json.dump({"datagrams": dict(datagrams), "bytes": dict(octets)}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
