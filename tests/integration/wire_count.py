#!/usr/bin/python3
"""Counts, on one interface, what crossed the wire between clients and a TURN listener (standard library only).

Reads every frame of `--iface` through an AF_PACKET socket (both directions) and classifies the UDP datagrams to and
from `--server IP:PORT`: ChannelData (RFC 8656 §12.4) or STUN by method and class, with the ERROR-CODE of error
responses; "udp" counts them all, "other" those that are neither. Writes `--ready FILE` once capturing, and the counts
as JSON to `--out FILE` on SIGTERM/SIGINT:

  {"c2s": {"udp": 820, "channeldata": 812, "send indication": 3, "allocate request": 4, ...},
   "s2c": {"udp": 818, "channeldata": 812, "allocate error 401": 2, ...}, "frames": 1700,
   "c2s_sources": {"10.90.0.10": 820}, "s2c_destinations": {"10.90.0.10": 818},
   "relayed": ["10.91.0.1:50122", ...]}   (XOR-RELAYED-ADDRESS of each Allocate success)

Pointed at a peer (`--server 10.91.0.20:7000` in the peer namespace) it counts what the relay delivered to it.

so a scenario can prove which TURN mechanism actually carried its traffic.
"""

import argparse
import json
import signal
import socket
import struct
import sys
from collections import Counter

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
MAGIC_COOKIE = 0x2112A442
ERROR_CODE = 0x0009
XOR_RELAYED_ADDRESS = 0x0016
METHODS = {0x001: "binding", 0x003: "allocate", 0x004: "refresh", 0x006: "send", 0x007: "data",
           0x008: "create-permission", 0x009: "channel-bind"}
CLASSES = {0: "request", 1: "indication", 2: "success", 3: "error"}


def stun_kind(payload: bytes) -> str | None:
    if len(payload) < 20 or payload[0] & 0xC0 or struct.unpack("!I", payload[4:8])[0] != MAGIC_COOKIE:
        return None
    msg_type, length = struct.unpack("!HH", payload[:4])
    method = (msg_type & 0x000F) | ((msg_type & 0x00E0) >> 1) | ((msg_type & 0x3E00) >> 2)
    klass = ((msg_type >> 4) & 1) | ((msg_type >> 7) & 2)
    kind = f"{METHODS.get(method, hex(method))} {CLASSES[klass]}"
    if klass == 3:
        kind += f" {error_code(payload[20:20 + length])}"
    return kind


def attribute(attrs: bytes, wanted: int) -> bytes | None:
    offset = 0
    while offset + 4 <= len(attrs):
        attr_type, attr_len = struct.unpack("!HH", attrs[offset:offset + 4])
        if attr_type == wanted:
            return attrs[offset + 4:offset + 4 + attr_len]
        offset += 4 + attr_len + (-attr_len % 4)
    return None


def error_code(attrs: bytes) -> int | None:
    value = attribute(attrs, ERROR_CODE)
    return (value[2] & 0x07) * 100 + value[3] if value and len(value) >= 4 else None


def relayed_address(payload: bytes) -> str | None:
    """XOR-RELAYED-ADDRESS (IPv4) of an Allocate success response, as "ip:port"."""
    value = attribute(payload[20:], XOR_RELAYED_ADDRESS)
    if not value or len(value) < 8 or value[1] != 0x01:
        return None
    port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC_COOKIE >> 16)
    addr = struct.unpack("!I", value[4:8])[0] ^ MAGIC_COOKIE
    return f"{socket.inet_ntoa(struct.pack('!I', addr))}:{port}"


def classify(frame: bytes, server: tuple[str, int]) -> tuple[str, str, str, bytes] | None:
    """(direction, the other end's IP, kind, payload) of a UDP datagram to or from `server`, else None."""
    if len(frame) < 14 + 20 + 8 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != socket.IPPROTO_UDP:
        return None
    src = socket.inet_ntoa(ip[12:16])
    dst = socket.inet_ntoa(ip[16:20])
    sport, dport, udp_len = struct.unpack("!HHH", ip[ihl:ihl + 6])
    payload = ip[ihl + 8:ihl + udp_len]
    if (dst, dport) == server:
        direction, far_end = "c2s", src
    elif (src, sport) == server:
        direction, far_end = "s2c", dst
    else:
        return None
    if payload and payload[0] & 0xC0 == 0x40:
        return direction, far_end, "channeldata", payload
    return direction, far_end, stun_kind(payload) or "other", payload


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iface", required=True)
    parser.add_argument("--server", required=True, help="IP:PORT of the TURN listener")
    parser.add_argument("--ready", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    host, port = args.server.rsplit(":", 1)
    server = (host, int(port))

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind((args.iface, 0))
    sock.settimeout(0.2)

    counts = {"c2s": Counter(), "s2c": Counter()}
    others = {"c2s": Counter(), "s2c": Counter()}  # the far ends: sources of c2s, destinations of s2c
    relayed = []  # XOR-RELAYED-ADDRESS of every Allocate success response, in order
    frames = 0
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(args.ready, "w") as f:
        f.write("ready\n")

    while not stopping:
        try:
            frame = sock.recv(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        frames += 1
        seen = classify(frame, server)
        if seen:
            direction, far_end, kind, payload = seen
            counts[direction][kind] += 1
            counts[direction]["udp"] += 1
            others[direction][far_end] += 1
            if kind == "allocate success":
                relayed.append(relayed_address(payload))

    with open(args.out, "w") as f:
        json.dump({"c2s": dict(counts["c2s"]), "s2c": dict(counts["s2c"]), "frames": frames,
                   "c2s_sources": dict(others["c2s"]), "s2c_destinations": dict(others["s2c"]),
                   "relayed": relayed}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
