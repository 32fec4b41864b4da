"""STUN / TURN messages built and read byte by byte (standard library only).

Hostile tests send what no well-behaved client would: lengths that lie, attributes that overflow, integrity over
garbage. So nothing here checks what it builds; every field can be given as raw bytes, and `build()` takes the
attributes as (type, value) pairs in the order they go on the wire.

    msg = build(ALLOCATE, REQUEST, [(REQUESTED_TRANSPORT, transport_udp())], key=key, fingerprint=True)
    reply = parse(datagram)        # Message or None (not STUN)
    reply.error_code()             # 401, 438, ... or None
"""

import hashlib
import hmac
import os
import socket
import struct
import zlib
from dataclasses import dataclass, field

MAGIC_COOKIE = 0x2112A442
HEADER_LEN = 20
FINGERPRINT_XOR = 0x5354554E

# Methods (RFC 8489 §18.2, RFC 8656 §17) and classes.
BINDING = 0x001
ALLOCATE = 0x003
REFRESH = 0x004
SEND = 0x006
DATA = 0x007
CREATE_PERMISSION = 0x008
CHANNEL_BIND = 0x009
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3

# Attributes (RFC 8489 §18.3, RFC 8656 §18).
MAPPED_ADDRESS = 0x0001
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA_ATTR = 0x0013
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_ADDRESS_FAMILY = 0x0017
EVEN_PORT = 0x0018
REQUESTED_TRANSPORT = 0x0019
DONT_FRAGMENT = 0x001A
MESSAGE_INTEGRITY_SHA256 = 0x001C
PASSWORD_ALGORITHM = 0x001D
USERHASH = 0x001E
XOR_MAPPED_ADDRESS = 0x0020
RESERVATION_TOKEN = 0x0022
PASSWORD_ALGORITHMS = 0x8002
SOFTWARE = 0x8022
FINGERPRINT = 0x8028

UDP = 17


def message_type(method: int, cls: int) -> int:
    """RFC 8489 §5: the class bits C1 C0 interleaved with the 12 method bits."""
    return ((method & 0x00F) | ((method & 0x070) << 1) | ((method & 0xF80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))


def split_type(msg_type: int) -> tuple[int, int]:
    method = (msg_type & 0x000F) | ((msg_type & 0x00E0) >> 1) | ((msg_type & 0x3E00) >> 2)
    cls = ((msg_type >> 4) & 1) | ((msg_type >> 7) & 2)
    return method, cls


def padded(value: bytes) -> bytes:
    return value + b"\0" * (-len(value) % 4)


def attribute(attr_type: int, value: bytes, length: int | None = None) -> bytes:
    """One attribute, padded; `length` overrides the length field (a lie about the value)."""
    return struct.pack("!HH", attr_type, len(value) if length is None else length) + padded(value)


def new_transaction_id() -> bytes:
    return os.urandom(12)


def build(method: int, cls: int, attrs: list[tuple[int, bytes]] = (), txid: bytes | None = None,
          key: bytes | None = None, fingerprint: bool = False, cookie: int = MAGIC_COOKIE,
          length: int | None = None) -> bytes:
    """A STUN message. With `key`, MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) follows the attributes; with
    `fingerprint`, FINGERPRINT comes last (§14.7). `length` overrides the header's Message Length field, `cookie`
    the magic cookie."""
    txid = txid or new_transaction_id()
    body = b"".join(attribute(t, v) for t, v in attrs)
    msg_type = message_type(method, cls)
    if key is not None:
        # The length covers MESSAGE-INTEGRITY itself; the HMAC covers the header and the attributes before it.
        header = struct.pack("!HHI", msg_type, len(body) + 24, cookie) + txid
        mac = hmac.new(key, header + body, hashlib.sha1).digest()
        body += attribute(MESSAGE_INTEGRITY, mac)
    if fingerprint:
        header = struct.pack("!HHI", msg_type, len(body) + 8, cookie) + txid
        crc = (zlib.crc32(header + body) ^ FINGERPRINT_XOR) & 0xFFFFFFFF
        body += attribute(FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI", msg_type, len(body) if length is None else length, cookie) + txid + body


def long_term_key(username: str, realm: str, password: str) -> bytes:
    """RFC 8489 §9.2.2: MD5(username ":" realm ":" password)."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).digest()


# ---- attribute values ------------------------------------------------------------------------------------------

def _xor_bytes(raw: bytes, mask: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(raw, mask))


def xor_address(ip: str, port: int, txid: bytes = b"\0" * 12) -> bytes:
    """XOR-MAPPED/PEER/RELAYED-ADDRESS value (RFC 8489 §14.2) for an IPv4 or IPv6 address."""
    cookie = struct.pack("!I", MAGIC_COOKIE)
    xport = port ^ (MAGIC_COOKIE >> 16)
    if ":" in ip:
        raw = socket.inet_pton(socket.AF_INET6, ip)
        return struct.pack("!BBH", 0, 2, xport) + _xor_bytes(raw, cookie + txid)
    raw = socket.inet_aton(ip)
    return struct.pack("!BBH", 0, 1, xport) + _xor_bytes(raw, cookie)


def read_xor_address(value: bytes, txid: bytes) -> tuple[str, int] | None:
    if len(value) < 8:
        return None
    family = value[1]
    port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC_COOKIE >> 16)
    cookie = struct.pack("!I", MAGIC_COOKIE)
    if family == 1 and len(value) == 8:
        return socket.inet_ntoa(_xor_bytes(value[4:8], cookie)), port
    if family == 2 and len(value) == 20:
        return socket.inet_ntop(socket.AF_INET6, _xor_bytes(value[4:20], cookie + txid)), port
    return None


def transport_udp() -> bytes:
    return struct.pack("!B3x", UDP)


def lifetime(seconds: int) -> bytes:
    return struct.pack("!I", seconds)


def channel_number(number: int) -> bytes:
    return struct.pack("!HH", number, 0)


def channel_data(number: int, data: bytes, length: int | None = None) -> bytes:
    """RFC 8656 §12.4; over UDP no padding is needed. `length` overrides the length field."""
    return struct.pack("!HH", number, len(data) if length is None else length) + data


# ---- reading ---------------------------------------------------------------------------------------------------

@dataclass
class Message:
    method: int
    cls: int
    txid: bytes
    attrs: list[tuple[int, bytes]] = field(default_factory=list)
    raw: bytes = b""

    def get(self, attr_type: int) -> bytes | None:
        for t, v in self.attrs:
            if t == attr_type:
                return v
        return None

    def error_code(self) -> int | None:
        value = self.get(ERROR_CODE)
        if self.cls != ERROR or value is None or len(value) < 4:
            return None
        return (value[2] & 0x07) * 100 + value[3]

    def unknown_attributes(self) -> list[int]:
        value = self.get(UNKNOWN_ATTRIBUTES) or b""
        return [struct.unpack("!H", value[i:i + 2])[0] for i in range(0, len(value) - 1, 2)]

    def address(self, attr_type: int) -> tuple[str, int] | None:
        value = self.get(attr_type)
        return read_xor_address(value, self.txid) if value is not None else None

    def text(self, attr_type: int) -> str | None:
        value = self.get(attr_type)
        return value.decode(errors="replace") if value is not None else None

    def integrity_ok(self, key: bytes) -> bool:
        """MESSAGE-INTEGRITY verifies with `key` (the header length as it was when the HMAC was computed)."""
        offset = HEADER_LEN
        while offset + 4 <= len(self.raw):
            t, n = struct.unpack("!HH", self.raw[offset:offset + 4])
            if t == MESSAGE_INTEGRITY:
                header = self.raw[:2] + struct.pack("!H", offset + 24 - HEADER_LEN) + self.raw[4:HEADER_LEN]
                expected = hmac.new(key, header + self.raw[HEADER_LEN:offset], hashlib.sha1).digest()
                return hmac.compare_digest(expected, self.raw[offset + 4:offset + 24])
            offset += 4 + n + (-n % 4)
        return False

    def describe(self) -> str:
        names = {BINDING: "binding", ALLOCATE: "allocate", REFRESH: "refresh", SEND: "send", DATA: "data",
                 CREATE_PERMISSION: "create-permission", CHANNEL_BIND: "channel-bind"}
        classes = ("request", "indication", "success", "error")
        text = f"{names.get(self.method, hex(self.method))} {classes[self.cls]}"
        return text + (f" {self.error_code()}" if self.cls == ERROR else "")


def parse(data: bytes) -> Message | None:
    """A STUN message as it arrived, or None for anything else. Attributes that run past the end stop the walk."""
    if len(data) < HEADER_LEN or data[0] & 0xC0:
        return None
    msg_type, length, cookie = struct.unpack("!HHI", data[:8])
    if cookie != MAGIC_COOKIE or HEADER_LEN + length > len(data):
        return None
    method, cls = split_type(msg_type)
    msg = Message(method, cls, data[8:20], raw=data[:HEADER_LEN + length])
    offset = HEADER_LEN
    end = HEADER_LEN + length
    while offset + 4 <= end:
        t, n = struct.unpack("!HH", data[offset:offset + 4])
        if offset + 4 + n > end:
            break
        msg.attrs.append((t, data[offset + 4:offset + 4 + n]))
        offset += 4 + n + (-n % 4)
    return msg


def is_channel_data(data: bytes) -> bool:
    return len(data) >= 4 and data[0] & 0xC0 == 0x40
