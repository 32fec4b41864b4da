#!/usr/bin/python3
"""Malformed STUN and ChannelData against ternd: every datagram is answered as RFC 8489 / RFC 8656 say, or dropped
silently, and each one moves the counter of its own reason.

  stun         truncated headers, lengths past or short of the datagram, attribute lengths that overflow, a wrong
               magic cookie, bad FINGERPRINTs, MESSAGE-INTEGRITY of the wrong size and over garbage, duplicate
               attributes (the first counts), unknown comprehension-required attributes (420 with
               UNKNOWN-ATTRIBUTES), oversized USERNAME/REALM/NONCE (400), a message the kernel fragments
  channeldata  ChannelData shorter than its header, longer than its datagram, padded, from a 5-tuple without an
               allocation, on an unbound channel, on reserved numbers; ChannelBind of numbers outside 0x4000-0x4FFF

Each case then proves a real client (python3-aioice) is still served, stops ternd and reads its final counters:
exactly the drops the case caused, under their reasons, and every received frame accounted for.

    /usr/bin/python3 tests/hostile/malformed_test.py stun
"""

import os
import struct
import sys
from collections import Counter

import hostile
import stun_codec as stun
from hostile import Capture, TurnClient, expect_code
from scenario import Scenario

# Answers to unauthenticated senders are rate-limited (credentials_test.py tests that); here every one must come.
CONF_EDITS = [("nonce_lifetime = 600;", "nonce_lifetime = 600; unauthenticated_rate = 1000; "
                                        "unauthenticated_burst = 1000;")]
PEER = ("10.91.0.20", hostile.ECHO_PORT)
UNKNOWN_REQUIRED = [0x7F01, 0x0031]
# Drops the case does not cause but the network may (ARP about other hosts, frames for other MACs).
# ICMP port unreachable: the readiness probe's late answers reach sockets it has closed.
AMBIENT_DROPS = {"drop_arp_ignored", "drop_not_ours", "drop_ethertype", "drop_icmp"}


def expect_drops(s: Scenario, c: hostile.Counters, expected: Counter) -> None:
    """Every drop counter is what the case caused: `expected` exactly, zero for the others (ambient ones aside)."""
    dp = c.scopes["dataplane"]
    wrong = {name: (dp[name], expected.get(name, 0)) for name in dp
             if name.startswith("drop_") and name not in AMBIENT_DROPS and dp[name] != expected.get(name, 0)}
    s.expect(not wrong, "data plane drops (counted, expected): " + ", ".join(f"{k} {v[0]}, {v[1]}"
                                                                            for k, v in sorted(wrong.items())))


def truncate(data: bytes, n: int) -> bytes:
    return data[:n]


def with_length(data: bytes, length: int) -> bytes:
    return data[:2] + struct.pack("!H", length) + data[4:]


def case_stun(s: Scenario) -> None:
    baseline = hostile.stats(s)
    raw = TurnClient(s)               # no allocation: what it sends is answered by ternd or dropped
    drops: Counter = Counter()        # data plane drop reasons this case causes
    control_drops = 0                 # messages the control plane must discard as malformed

    binding = stun.build(stun.BINDING, stun.REQUEST)
    allocate = stun.build(stun.ALLOCATE, stun.REQUEST, [(stun.REQUESTED_TRANSPORT, stun.transport_udp())])
    send = stun.build(stun.SEND, stun.INDICATION, [(stun.XOR_PEER_ADDRESS, stun.xor_address(*PEER)),
                                                    (stun.DATA_ATTR, b"x" * 8)])
    overflow_attr = stun.attribute(stun.SOFTWARE, b"abcd", length=0xFFF0)

    def overflowing(method: int, cls: int) -> bytes:
        body = overflow_attr
        return struct.pack("!HHI", stun.message_type(method, cls), len(body), stun.MAGIC_COOKIE) + os.urandom(12) + body

    def bad_fingerprint(msg: bytes) -> bytes:
        return msg[:-4] + bytes(b ^ 0xFF for b in msg[-4:])

    fp = stun.build(stun.BINDING, stun.REQUEST, fingerprint=True)
    trailing = stun.attribute(stun.SOFTWARE, b"late")  # an attribute after FINGERPRINT

    # Silently dropped by the workers, each under its reason.
    silent_dp = [
        ("truncated header (19 bytes)", truncate(binding, 19), "drop_not_stun"),
        ("3 bytes", b"\x00\x01\x00", "drop_not_stun"),
        ("wrong magic cookie", stun.build(stun.BINDING, stun.REQUEST, cookie=0x2112A443), "drop_not_stun"),
        ("first bits 10", b"\x80" + binding[1:], "drop_not_stun"),
        ("length past the datagram", with_length(binding, 40), "drop_stun_malformed"),
        ("length short of the datagram", binding + b"\0" * 8, "drop_stun_malformed"),
        ("length not a multiple of 4", with_length(binding + b"\0\0", 2), "drop_stun_malformed"),
        ("Allocate, length past the datagram", with_length(allocate, len(allocate)), "drop_stun_malformed"),
        ("Binding, attribute overflowing", overflowing(stun.BINDING, stun.REQUEST), "drop_stun_malformed"),
        ("Send, attribute overflowing", overflowing(stun.SEND, stun.INDICATION), "drop_stun_malformed"),
        ("Binding, bad FINGERPRINT", bad_fingerprint(stun.build(stun.BINDING, stun.REQUEST, fingerprint=True)),
         "drop_bad_fingerprint"),
        ("Binding, FINGERPRINT not last", with_length(fp + trailing, len(fp) - stun.HEADER_LEN + len(trailing)),
         "drop_stun_malformed"),
        ("Send, bad FINGERPRINT", bad_fingerprint(stun.build(stun.SEND, stun.INDICATION,
                                                             [(stun.XOR_PEER_ADDRESS, stun.xor_address(*PEER)),
                                                              (stun.DATA_ATTR, b"y" * 8)], fingerprint=True)),
         "drop_bad_fingerprint"),
        ("Send, unknown comprehension-required attribute",
         stun.build(stun.SEND, stun.INDICATION, [(stun.XOR_PEER_ADDRESS, stun.xor_address(*PEER)),
                                                  (stun.DATA_ATTR, b"z" * 8), (0x7F01, b"????")]),
         "drop_unknown_attribute"),
        ("Send without DATA", stun.build(stun.SEND, stun.INDICATION,
                                         [(stun.XOR_PEER_ADDRESS, stun.xor_address(*PEER))]), "drop_stun_malformed"),
        ("Send without an allocation", send, "drop_no_allocation"),
        # The client's kernel fragments a 4000-byte datagram; the af_packet port's fanout (PACKET_FANOUT_FLAG_DEFRAG)
        # reassembles it, and the worker gets the first 2 KiB of a frame whose IPv4 length says 4020.
        ("4000-byte Binding", stun.build(stun.BINDING, stun.REQUEST, [(stun.SOFTWARE, b"s" * 3976)]),
         "drop_malformed"),
    ]

    # Punted (the workers leave requests other than a plain Binding to the control plane), then discarded by it.
    silent_ctl = [
        ("Allocate, attribute overflowing", overflowing(stun.ALLOCATE, stun.REQUEST)),
        ("Allocate, bad FINGERPRINT", bad_fingerprint(stun.build(stun.ALLOCATE, stun.REQUEST,
                                                                 [(stun.REQUESTED_TRANSPORT, stun.transport_udp())],
                                                                 fingerprint=True))),
        ("Allocate, MESSAGE-INTEGRITY of 10 bytes",
         stun.build(stun.ALLOCATE, stun.REQUEST, [(stun.REQUESTED_TRANSPORT, stun.transport_udp()),
                                                  (stun.USERNAME, b"alice"), (stun.MESSAGE_INTEGRITY, b"0" * 10)])),
        ("Allocate, 49 attributes", stun.build(stun.ALLOCATE, stun.REQUEST, [(0x8050, b"")] * 49)),
    ]

    for what, data, reason in silent_dp:
        s.expect(raw.silent(data, wait=0.3), f"{what}: answered, expected silence")
        drops[reason] += 1
    for what, data in silent_ctl:
        s.expect(raw.silent(data, wait=0.3), f"{what}: answered, expected silence")
        control_drops += 1

    # Answered.
    reply = raw.transact(stun.build(stun.BINDING, stun.REQUEST, [(t, b"\0\0\0\0") for t in UNKNOWN_REQUIRED]))
    expect_code(s, reply, 420, "Binding with unknown comprehension-required attributes")
    s.expect(reply.unknown_attributes() == UNKNOWN_REQUIRED,
             f"UNKNOWN-ATTRIBUTES {reply.unknown_attributes()}, expected {UNKNOWN_REQUIRED}")
    reply = raw.transact(stun.build(stun.BINDING, stun.REQUEST, [(0x8077, b"optional")], fingerprint=True))
    s.expect(reply is not None and reply.cls == stun.SUCCESS and reply.address(stun.XOR_MAPPED_ADDRESS) == raw.address,
             f"Binding with an unknown comprehension-optional attribute: {reply and reply.describe()}")

    # Authenticated: a nonce first, then the oddities.
    client = TurnClient(s)
    tcp = struct.pack("!B3x", 6)
    expect_code(s, client.request(stun.ALLOCATE, [(stun.REQUESTED_TRANSPORT, tcp),
                                                  (stun.REQUESTED_TRANSPORT, stun.transport_udp())]), 442,
                "Allocate with REQUESTED-TRANSPORT TCP then UDP (the first counts)")
    reply = client.request(stun.ALLOCATE, [(stun.REQUESTED_TRANSPORT, stun.transport_udp())] +
                           [(t, b"\1\2\3\4") for t in UNKNOWN_REQUIRED])
    expect_code(s, reply, 420, "authenticated Allocate with unknown comprehension-required attributes")
    s.expect(reply.unknown_attributes() == UNKNOWN_REQUIRED,
             f"UNKNOWN-ATTRIBUTES {reply.unknown_attributes()}, expected {UNKNOWN_REQUIRED}")
    s.expect(reply.integrity_ok(client.key), "the 420 to an authenticated request is not signed with the user's key")

    garbage = stun.build(stun.ALLOCATE, stun.REQUEST, [(stun.REQUESTED_TRANSPORT, stun.transport_udp())]
                         + client.credentials() + [(stun.MESSAGE_INTEGRITY, os.urandom(20))])
    reply = client.transact(garbage)
    expect_code(s, reply, 401, "MESSAGE-INTEGRITY over garbage")
    s.expect(reply.get(stun.NONCE) is not None and reply.get(stun.REALM) is not None, "the 401 carries no NONCE/REALM")

    # RFC 8489 §14.3: a USERNAME of up to 763 bytes must be parsed; not a user of ours: 401.
    reply = client.transact(stun.build(stun.ALLOCATE, stun.REQUEST,
                                       [(stun.REQUESTED_TRANSPORT, stun.transport_udp()), (stun.USERNAME, b"a" * 700),
                                        (stun.REALM, client.realm.encode()), (stun.NONCE, client.nonce)],
                                       key=client.key))
    expect_code(s, reply, 401, "USERNAME of 700 bytes")
    # Past what RFC 8489 §14.3, §14.9 and §14.10 allow: 400.
    for what, attrs in (
            ("USERNAME of 800 bytes", [(stun.USERNAME, b"a" * 800), (stun.REALM, client.realm.encode()),
                                       (stun.NONCE, client.nonce)]),
            ("REALM of 200 characters", [(stun.USERNAME, b"alice"), (stun.REALM, b"r" * 200),
                                         (stun.NONCE, client.nonce)]),
            ("REALM of 800 bytes", [(stun.USERNAME, b"alice"), (stun.REALM, b"r" * 800), (stun.NONCE, client.nonce)]),
            ("NONCE of 800 bytes", [(stun.USERNAME, b"alice"), (stun.REALM, client.realm.encode()),
                                    (stun.NONCE, b"n" * 800)]),
            ("USERNAME not UTF-8", [(stun.USERNAME, b"\xff\xfe"), (stun.REALM, client.realm.encode()),
                                    (stun.NONCE, client.nonce)])):
        reply = client.transact(stun.build(stun.ALLOCATE, stun.REQUEST,
                                           [(stun.REQUESTED_TRANSPORT, stun.transport_udp())] + attrs, key=client.key))
        expect_code(s, reply, 400, what)
        s.expect(reply.get(stun.NONCE) is None and reply.get(stun.REALM) is None,
                 f"{what}: the 400 carries NONCE or REALM (RFC 8489 §9.2.4 says it should not)")

    # Duplicates on an allocation: the first LIFETIME counts.
    expect_code(s, client.allocate(), None, "Allocate")
    reply = client.request(stun.REFRESH, [(stun.LIFETIME, stun.lifetime(700)), (stun.LIFETIME, stun.lifetime(0))])
    expect_code(s, reply, None, "Refresh with LIFETIME 700 then 0")
    got = struct.unpack("!I", reply.get(stun.LIFETIME))[0]
    s.expect(got == 700, f"Refresh with two LIFETIMEs: granted {got}, expected the first (700)")
    expect_code(s, client.refresh(0), None, "Refresh 0")

    hostile.serves_real_client(s)
    raw.close()
    client.close()
    c = hostile.finish(s, baseline, reassembled=2)  # the 4000-byte Binding: 3 fragments, 1 frame
    expect_drops(s, c, drops)
    s.expect(c.ctl("dropped_malformed") == control_drops,
             f"control plane dropped_malformed {c.ctl('dropped_malformed')}, expected {control_drops}")
    s.expect(c.ctl("responses_420") == 2, f"responses_420 {c.ctl('responses_420')}, expected 2")
    s.expect(c.ctl("responses_400") == 5 and c.ctl("auth_missing_attributes") == 5,
             f"responses_400 {c.ctl('responses_400')}, auth_missing_attributes {c.ctl('auth_missing_attributes')}, "
             f"expected 5 each")
    s.expect(c.ctl("auth_unknown_user") == 1, f"auth_unknown_user {c.ctl('auth_unknown_user')}, expected 1")
    s.expect(c.ctl("responses_442") == 1, f"responses_442 {c.ctl('responses_442')}, expected 1")
    s.expect(c.ctl("auth_bad_integrity") == 1, f"auth_bad_integrity {c.ctl('auth_bad_integrity')}, expected 1")


def case_channeldata(s: Scenario) -> None:
    baseline = hostile.stats(s)
    echo = s.start_echo_peer([hostile.ECHO_PORT])
    capture = Capture(s.topo.peer, s.topo.peer_if)
    client = TurnClient(s)
    expect_code(s, client.allocate(), None, "Allocate")
    expect_code(s, client.channel_bind(0x4000, PEER), None, "ChannelBind 0x4000")
    drops: Counter = Counter()

    # RFC 8656 §12: 0x4000-0x4FFF only; the rest of 0x4000-0x7FFF is reserved (400), 0x0000-0x3FFF and
    # 0x8000-0xFFFF are not ChannelData at all.
    for number in (0x0000, 0x3FFF, 0x5000, 0x7FFF, 0x8000, 0xFFFF):
        expect_code(s, client.channel_bind(number, (PEER[0], PEER[1] + 1)), 400, f"ChannelBind 0x{number:04x}")
    # A second number for the same peer, and the same number for another peer (RFC 8656 §11.2): 400.
    expect_code(s, client.channel_bind(0x4001, PEER), 400, "ChannelBind 0x4001 to a peer bound to 0x4000")
    expect_code(s, client.channel_bind(0x4000, (PEER[0], PEER[1] + 1)), 400,
                "ChannelBind 0x4000 to a second peer")

    stranger = TurnClient(s)  # same host, another port: no allocation
    cases = [
        (client, b"\x40\x00", "drop_not_stun"),                                     # shorter than the header
        (client, stun.channel_data(0x4000, b"abc", length=64), "drop_malformed"),   # length past the datagram
        (client, stun.channel_data(0x4001, b"unbound"), "drop_unbound_channel"),
        (client, stun.channel_data(0x4FFF, b"unbound"), "drop_unbound_channel"),
        (client, stun.channel_data(0x5000, b"reserved"), "drop_bad_channel"),
        (client, stun.channel_data(0x7FFF, b"reserved"), "drop_bad_channel"),
        (client, b"\xc0\x00\x00\x04abcd", "drop_not_stun"),                        # first bits 11
        (stranger, stun.channel_data(0x4000, b"no allocation"), "drop_no_allocation"),
    ]
    for sender, data, reason in cases:
        for _ in range(3):
            sender.send(data)
            drops[reason] += 1
    # Valid, with 4 bytes of padding past the length (RFC 8656 §12.5): the data alone is relayed.
    client.send(stun.channel_data(0x4000, b"padded!!", length=7) + b"\0")
    client.send(stun.channel_data(0x4000, b"exact"))
    echoed = client.collect(2, timeout=3)
    s.expect(sorted(echoed) == sorted([stun.channel_data(0x4000, b"padded!"), stun.channel_data(0x4000, b"exact")]),
             f"echoes of the two valid ChannelData: {echoed}")

    capture.stop()
    to_peer = [d.payload for d in capture.udp() if not d.outgoing]
    s.expect(sorted(to_peer) == [b"exact", b"padded!"], f"what reached the peer's wire: {to_peer}")
    echo.stats()
    expect_code(s, client.refresh(0), None, "Refresh 0")

    hostile.serves_real_client(s)
    client.close()
    stranger.close()
    c = hostile.finish(s, baseline)
    expect_drops(s, c, drops)
    s.expect(c.ctl("responses_400") == 8, f"responses_400 {c.ctl('responses_400')}, expected 8")


CASES = {"stun": case_stun, "channeldata": case_channeldata}

if __name__ == "__main__":
    sys.exit(hostile.main(CASES, conf_edits={case: CONF_EDITS for case in CASES}, deadline=150))
