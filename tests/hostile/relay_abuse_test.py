#!/usr/bin/python3
"""Using ternd's relay to reach what it must protect, and the one loop it must allow.

  denied-peers  CreatePermission and ChannelBind towards every range the peer policy denies, in every encoding:
                IPv4 (loopback, 0.0.0.0/8, RFC 1918 outside the allow list, CGNAT, link-local and the cloud
                metadata address, multicast, reserved, broadcast, ternd's own listener address) gets 403; IPv6
                forms, the IPv4-in-IPv6 disguises among them (::ffff:127.0.0.1, ::127.0.0.1, 64:ff9b::, 6to4,
                Teredo, ::, ::1, ...), get 443 on the IPv4 allocation (RFC 8656 §10.2 checks the family first;
                the data plane relays IPv4 only). Nothing is installed: Send indications and ChannelData towards
                them are dropped (drop_no_permission, drop_unsupported_family) and no frame leaves for the peer side
  own-ports     the relay turned on ternd itself: ChannelBind/CreatePermission towards the listener address get 403;
                ChannelData and Send towards the relay address at ports that are not a live relayed address (3478,
                9641, 22, a free relay port) are counted as drop_denied_own_port and leave nothing on the wire; a
                peer's datagrams to those ports (drop_no_relay) and a client's to the listener address's other
                ports (drop_closed_port) are answered by nothing
  hairpin       two allocations on this ternd relay to each other (both sides of a call through one server): Send
                indications arrive as Data indications, bound channels as ChannelData, from the other allocation's
                relayed address, and not one frame crosses the peer-side wire

    /usr/bin/python3 tests/hostile/relay_abuse_test.py denied-peers
"""

import sys
from collections import Counter

import hostile
import stun_codec as stun
from hostile import Capture, TurnClient, expect_code
from scenario import Scenario

DENIED_V4 = [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "10.92.0.20", "10.0.0.1", "172.16.0.1", "172.31.255.254",
    "192.168.1.1", "100.64.0.1", "100.100.100.200", "169.254.169.254", "169.254.0.1", "224.0.0.1",
    "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "10.90.0.1",  # ternd's own listener address
]
DENIED_V6 = [
    "::ffff:127.0.0.1", "::ffff:10.92.0.20", "::ffff:169.254.169.254", "::ffff:0.0.0.0", "::ffff:10.90.0.1",
    "::ffff:10.91.0.20",                      # an allowed peer, disguised: still not IPv4
    "::127.0.0.1", "::ffff:0:127.0.0.1", "64:ff9b::7f00:1", "64:ff9b:1::a5c:14", "2002:7f00:1::1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "::", "::1", "fe80::1", "ff02::1", "fc00::1", "fd00:ec2::254", "fec0::1",
]
PEER_PORT = 7000


def case_denied_peers(s: Scenario) -> None:
    baseline = hostile.stats(s)
    peer_capture = Capture(s.topo.peer, s.topo.peer_if)
    client = TurnClient(s)
    expect_code(s, client.allocate(), None, "Allocate")
    refusals: dict[str, list] = {}
    for ip in DENIED_V4 + DENIED_V6:
        expected = 443 if ":" in ip else 403
        cp = client.create_permission((ip, PEER_PORT))
        cb = client.channel_bind(0x4000, (ip, PEER_PORT))
        got = [r.error_code() if r is not None and r.cls == stun.ERROR else (r and r.describe()) for r in (cp, cb)]
        if got != [expected, expected]:
            refusals[ip] = got
    s.expect(not refusals, "expected 403 (IPv4) / 443 (IPv6) for CreatePermission and ChannelBind, got: " +
             ", ".join(f"{ip}: {codes}" for ip, codes in refusals.items()))

    # Nothing was installed: data towards them goes nowhere.
    drops: Counter = Counter()
    for ip in DENIED_V4 + DENIED_V6:
        client.send_indication((ip, PEER_PORT), b"let me in")
        drops["drop_unsupported_family" if ":" in ip else "drop_no_permission"] += 1
    client.channel_data(0x4000, b"unbound")  # the refused ChannelBind bound nothing
    drops["drop_unbound_channel"] += 1
    stray = client.collect(1, timeout=1.0)
    s.expect(not stray, f"the client received {len(stray)} datagrams after sending to denied peers")
    peer_capture.stop()
    leaked = [d for d in peer_capture.udp() if not d.outgoing]
    s.expect(not leaked, f"{len(leaked)} datagrams left ternd on the peer side: {leaked[:3]}")

    # The same allocation still relays to an allowed peer.
    echo = s.start_echo_peer([PEER_PORT])
    expect_code(s, client.create_permission((s.topo.peer_ip, PEER_PORT)), None, "CreatePermission to the echo peer")
    client.send_indication((s.topo.peer_ip, PEER_PORT), b"allowed")
    echoed = [stun.parse(d) for d in client.collect(1, timeout=3)]
    s.expect(len(echoed) == 1 and echoed[0] is not None and echoed[0].get(stun.DATA_ATTR) == b"allowed",
             f"the allowed echo peer did not answer through the relay: {echoed}")
    echo.stats()
    expect_code(s, client.refresh(0), None, "Refresh 0")

    hostile.serves_real_client(s)
    client.close()
    c = hostile.finish(s, baseline)
    for name, count in drops.items():
        s.expect(c.dp(name) == count, f"{name} {c.dp(name)}, expected {count}")
    s.expect(c.ctl("responses_403") == 2 * len(DENIED_V4) and c.ctl("peers_denied") == 2 * len(DENIED_V4),
             f"responses_403 {c.ctl('responses_403')}, peers_denied {c.ctl('peers_denied')}, "
             f"expected {2 * len(DENIED_V4)} each")
    s.expect(c.ctl("responses_443") == 2 * len(DENIED_V6),
             f"responses_443 {c.ctl('responses_443')}, expected {2 * len(DENIED_V6)}")


def case_own_ports(s: Scenario) -> None:
    baseline = hostile.stats(s)
    cli_capture = Capture(s.topo.cli, s.topo.cli_if)
    peer_capture = Capture(s.topo.peer, s.topo.peer_if)
    relay_ip = s.topo.relay_ip
    client = TurnClient(s)
    expect_code(s, client.allocate(), None, "Allocate")
    own_relayed = client.relayed
    free_port = own_relayed[1] + 1 if own_relayed[1] < 65535 else own_relayed[1] - 1

    # The listener address is ours and not a relay address: refused outright.
    expect_code(s, client.create_permission((s.topo.listen_ip, s.topo.listen_port)), 403,
                "CreatePermission towards the listener address")
    expect_code(s, client.channel_bind(0x4000, (s.topo.listen_ip, s.topo.listen_port)), 403,
                "ChannelBind towards the listener")
    # The relay address is ours to relay to (hairpin), but only its live relayed ports take anything.
    expect_code(s, client.create_permission((relay_ip, 0)), None, "CreatePermission towards the relay address")
    targets = [(relay_ip, s.topo.listen_port), (relay_ip, 9641), (relay_ip, free_port), (relay_ip, 22)]
    for number, target in enumerate(targets, start=0x4001):
        expect_code(s, client.channel_bind(number, target), None, f"ChannelBind towards {target}")
    sent = 0
    for number, target in enumerate(targets, start=0x4001):
        for _ in range(3):
            client.send_indication(target, b"to myself")
            client.channel_data(number, b"to myself")
            sent += 2
    stray = client.collect(1, timeout=1.0)
    s.expect(not stray, f"the client received {len(stray)} datagrams from ternd's own ports")

    # A peer's datagrams to the relay address's ports that are not live relayed addresses, and a client's to the
    # listener address's other ports, are answered by nothing.
    knocks = {"drop_no_relay": (s.topo.peer, s.topo.peer_ip, [(relay_ip, p) for p in (3478, 9641, 22, free_port)]),
              "drop_closed_port": (s.topo.cli, s.topo.client_ips[0],
                                   [(s.topo.listen_ip, p) for p in (9641, 22, s.topo.listen_port + 1)])}
    for netns, source, destinations in knocks.values():
        probe = hostile.udp_socket(netns, source)
        for destination in destinations:
            probe.sendto(b"knock", destination)
        probe.settimeout(1.0)
        try:
            answer = probe.recvfrom(2048)
        except OSError:
            answer = None
        s.expect(answer is None, f"ternd answered a datagram to one of its own ports: {answer}")
        probe.close()
    expect_code(s, client.refresh(0), None, "Refresh 0")

    peer_capture.stop()
    cli_capture.stop()
    to_peer = [d for d in peer_capture.udp() if not d.outgoing]
    s.expect(not to_peer, f"{len(to_peer)} datagrams left ternd on the peer side: {to_peer[:3]}")
    relayed_to_client = [d for d in cli_capture.udp() if not d.outgoing and (
        stun.is_channel_data(d.payload) or (m := stun.parse(d.payload)) is not None and m.method == stun.DATA)]
    s.expect(not relayed_to_client, f"{len(relayed_to_client)} relayed datagrams reached the client")

    hostile.serves_real_client(s)
    client.close()
    c = hostile.finish(s, baseline)
    s.expect(c.dp("drop_denied_own_port") == sent, f"drop_denied_own_port {c.dp('drop_denied_own_port')}, "
                                                   f"expected {sent}")
    for name, (_, _, destinations) in knocks.items():
        s.expect(c.dp(name) == len(destinations), f"{name} {c.dp(name)}, expected {len(destinations)}")
    s.expect(c.dp("hairpin") == 0, f"hairpin {c.dp('hairpin')}, expected 0")
    s.expect(c.ctl("responses_403") == 2, f"responses_403 {c.ctl('responses_403')}, expected 2")


def case_hairpin(s: Scenario) -> None:
    baseline = hostile.stats(s)
    peer_capture = Capture(s.topo.peer, s.topo.peer_if)
    a = TurnClient(s, s.topo.client_ips[0])
    b = TurnClient(s, s.topo.client_ips[1])
    expect_code(s, a.allocate(), None, "Allocate (A)")
    expect_code(s, b.allocate(), None, "Allocate (B)")
    # Each side permits the other's relayed address; nothing else.
    expect_code(s, a.create_permission(b.relayed), None, "A: CreatePermission for B's relayed address")
    expect_code(s, b.create_permission(a.relayed), None, "B: CreatePermission for A's relayed address")

    rounds = 20
    hairpinned = 0

    def data_indications(datagrams: list[bytes], sender: tuple) -> list[bytes]:
        out = []
        for d in datagrams:
            m = stun.parse(d)
            s.expect(m is not None and m.method == stun.DATA and m.cls == stun.INDICATION,
                     f"expected Data indications, got {d[:24].hex()}")
            s.expect(m.address(stun.XOR_PEER_ADDRESS) == sender,
                     f"Data indication from {m.address(stun.XOR_PEER_ADDRESS)}, expected {sender}")
            out.append(m.get(stun.DATA_ATTR))
        return out

    # Send indications both ways: Data indications from the other relayed address.
    payloads = [f"A->B {i}".encode() for i in range(rounds)]
    for p in payloads:
        a.send_indication(b.relayed, p)
    got = data_indications(b.collect(rounds, timeout=3), a.relayed)
    s.expect(sorted(got) == sorted(payloads), f"B got {len(got)} of A's {rounds} Send indications")
    payloads = [f"B->A {i}".encode() for i in range(rounds)]
    for p in payloads:
        b.send_indication(a.relayed, p)
    got = data_indications(a.collect(rounds, timeout=3), b.relayed)
    s.expect(sorted(got) == sorted(payloads), f"A got {len(got)} of B's {rounds} Send indications")
    hairpinned += 2 * rounds

    # Channels both ways: ChannelData on the receiver's own channel number for the sender.
    expect_code(s, a.channel_bind(0x4000, b.relayed), None, "A: ChannelBind to B")
    expect_code(s, b.channel_bind(0x4ABC, a.relayed), None, "B: ChannelBind to A")
    payloads = [f"channel A->B {i}".encode() for i in range(rounds)]
    for p in payloads:
        a.channel_data(0x4000, p)
    got = b.collect(rounds, timeout=3)
    s.expect(sorted(got) == sorted(stun.channel_data(0x4ABC, p) for p in payloads),
             f"B got {len(got)} of A's {rounds} ChannelData, on channel 0x4ABC expected")
    payloads = [f"channel B->A {i}".encode() for i in range(rounds)]
    for p in payloads:
        b.channel_data(0x4ABC, p)
    got = a.collect(rounds, timeout=3)
    s.expect(sorted(got) == sorted(stun.channel_data(0x4000, p) for p in payloads),
             f"A got {len(got)} of B's {rounds} ChannelData, on channel 0x4000 expected")
    hairpinned += 2 * rounds

    # A third allocation without a permission for A is not reached (its permission is its own business).
    c3 = TurnClient(s, s.topo.client_ips[0])
    expect_code(s, c3.allocate(), None, "Allocate (C)")
    for _ in range(3):
        a.send_indication(c3.relayed, b"uninvited")
    s.expect(not c3.collect(1, timeout=1.0), "C received data from A without a permission for A")

    peer_capture.stop()
    on_wire = peer_capture.udp()
    s.expect(not on_wire, f"{len(on_wire)} UDP datagrams crossed the peer-side wire: {on_wire[:3]}")
    for client in (a, b, c3):
        expect_code(s, client.refresh(0), None, "Refresh 0")

    hostile.serves_real_client(s)
    for client in (a, b, c3):
        client.close()
    c = hostile.finish(s, baseline)
    s.expect(c.dp("hairpin") == hairpinned, f"hairpin {c.dp('hairpin')}, expected the {hairpinned} delivered")
    s.expect(c.dp("drop_no_permission") == 3, f"drop_no_permission {c.dp('drop_no_permission')}, expected 3")
    s.expect(c.dp("send_to_peer") == 0, f"send_to_peer {c.dp('send_to_peer')}: Send indications went to the wire")


CASES = {"denied-peers": case_denied_peers, "own-ports": case_own_ports, "hairpin": case_hairpin}

if __name__ == "__main__":
    sys.exit(hostile.main(CASES, clients={"hairpin": 2}, deadline=150))
