#!/usr/bin/python3
"""Small network checks run inside a test namespace (standard library only); each prints one JSON line.

  netcheck.py stun HOST PORT [--timeout S]   STUN Binding (RFC 8489 §5): prints the XOR-MAPPED-ADDRESS
  netcheck.py ping HOST [--count N]          ICMP echo (answers prove ARP and ICMP on the target)
  netcheck.py unreachable HOST               passes only if this namespace has no route to HOST
  netcheck.py quiet IFACE [--seconds S]      passes only if no frame arrives on IFACE for S seconds

Exit status 0 when the check passed.
"""

import argparse
import json
import os
import socket
import struct
import sys
import time

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
XOR_MAPPED_ADDRESS = 0x0020


def stun_binding(host: str, port: int, timeout: float) -> dict:
    txid = os.urandom(12)
    request = struct.pack("!HHI", BINDING_REQUEST, 0, MAGIC_COOKIE) + txid
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.25)
        sock.connect((host, port))  # fixes the local address, to compare with the mapped one
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                sock.send(request)
                data, source = sock.recvfrom(2048)
            except (socket.timeout, ConnectionRefusedError):
                continue
            msg_type, length, cookie = struct.unpack("!HHI", data[:8])
            if data[8:20] != txid or cookie != MAGIC_COOKIE:
                continue
            if msg_type != BINDING_SUCCESS:
                return {"ok": False, "error": f"response type 0x{msg_type:04x}"}
            mapped = _xor_mapped_address(data[20:20 + length])
            local = sock.getsockname()
            return {"ok": mapped == list(local), "mapped": mapped, "local": list(local), "source": list(source)}
    return {"ok": False, "error": f"no Binding response from {host}:{port} in {timeout} s"}


def _xor_mapped_address(attrs: bytes) -> list | None:
    offset = 0
    while offset + 4 <= len(attrs):
        attr_type, attr_len = struct.unpack("!HH", attrs[offset:offset + 4])
        value = attrs[offset + 4:offset + 4 + attr_len]
        if attr_type == XOR_MAPPED_ADDRESS and len(value) >= 8 and value[1] == 0x01:
            port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC_COOKIE >> 16)
            addr = struct.unpack("!I", value[4:8])[0] ^ MAGIC_COOKIE
            return [socket.inet_ntoa(struct.pack("!I", addr)), port]
        offset += 4 + attr_len + (-attr_len % 4)
    return None


def _icmp_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ping(host: str, count: int, timeout: float) -> dict:
    ident = os.getpid() & 0xFFFF
    replies = 0
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.settimeout(timeout)
        for seq in range(count):
            payload = struct.pack("!d", time.time()) + b"tern-netcheck"
            header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            packet = struct.pack("!BBHHH", 8, 0, _icmp_checksum(header + payload), ident, seq) + payload
            sock.sendto(packet, (host, 0))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    data, source = sock.recvfrom(2048)
                except socket.timeout:
                    break
                ihl = (data[0] & 0x0F) * 4
                icmp_type, _, _, r_ident, r_seq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                if icmp_type == 0 and r_ident == ident and r_seq == seq and source[0] == host \
                        and data[ihl + 8:] == payload:
                    replies += 1
                    break
    return {"ok": replies == count, "sent": count, "replies": replies}


def unreachable(host: str) -> dict:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(b"x", (host, 9))
        except OSError as e:
            return {"ok": e.errno == 101, "error": str(e)}  # ENETUNREACH
    return {"ok": False, "error": f"a datagram to {host} left this namespace"}


def quiet(iface: str, seconds: float) -> dict:
    """Frames that arrive on `iface` (not the ones this namespace sends), by EtherType."""
    packet_outgoing = 4
    seen: dict[str, int] = {}
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003)) as sock:
        sock.bind((iface, 0))
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                frame, address = sock.recvfrom(65535)
            except socket.timeout:
                break
            if address[2] != packet_outgoing and len(frame) >= 14:
                ethertype = f"0x{struct.unpack('!H', frame[12:14])[0]:04x}"
                seen[ethertype] = seen.get(ethertype, 0) + 1
    return {"ok": not seen, "arrived": seen}


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="check", required=True)
    p = sub.add_parser("stun")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=5)
    p = sub.add_parser("ping")
    p.add_argument("host")
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--timeout", type=float, default=2)
    p = sub.add_parser("unreachable")
    p.add_argument("host")
    p = sub.add_parser("quiet")
    p.add_argument("iface")
    p.add_argument("--seconds", type=float, default=4)
    args = parser.parse_args()

    if args.check == "stun":
        result = stun_binding(args.host, args.port, args.timeout)
    elif args.check == "ping":
        result = ping(args.host, args.count, args.timeout)
    elif args.check == "unreachable":
        result = unreachable(args.host)
    else:
        result = quiet(args.iface, args.seconds)
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
