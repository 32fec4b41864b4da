#!/usr/bin/python3
"""Hostile clients against ternd's TCP and TLS listeners (the stream transport, control/transport, and the
exception path to the kernel's TCP). The scenario gives ternd TCP on 3478 and TLS on 5349 and 443
(Scenario(streams=True)) and small `stream` limits and timeouts, so that every case is quick.

  slowloris       a STUN request a byte a second (TCP), a ClientHello a byte a second (TLS), a second request a
                  byte a second after a whole first one: closed by the first-message, handshake and idle timeouts,
                  each on time and under its reason
  conn-flood      one source opens more connections than stream.max_connections_per_source, one more TLS
                  connections than stream.max_handshakes, eight sources more than stream.max_connections: exactly
                  the excess is refused (RST), under each reason; closed, the connections are no longer counted
                  and a source gets its whole allowance again
  half-open       connections that never send a byte (TCP, TLS on both ports, and a client that vanishes without
                  FIN or RST): closed by the first-message and handshake timeouts, neither early nor late
  tls-garbage     random bytes, HTTP, a handshake record of random bytes, an oversized record, a truncated
                  ClientHello (left open / closed), ALPN without stun.turn, no common cipher: each handshake fails
                  under its reason, at once unless the client just waits (then the handshake timeout)
  non-stun        bytes that are neither STUN nor ChannelData (first bits 10 and 11, a ClientHello, a wrong magic
                  cookie, a length not a multiple of 4, garbage after a good request): closed at once as not_turn;
                  then HTTP requests (whose first bytes read as ChannelData headers): the same is expected
  oversize        a STUN header longer than stream.max_message (closed, message_too_big) and one exactly at it
                  (answered); ChannelData of 65535 and 1500 bytes, too long for one datagram, dropped
                  (datagram_too_big) while the connection goes on (its next ChannelData is echoed, its Binding
                  answered); the longest datagram ternd relays goes through; frames cut short by the client's FIN
                  or RST are the client closing
  never-reads     a client with an allocation and a channel stops reading while a peer floods its relayed address:
                  what ternd holds for it stays within stream.buffer (the rest is counted in
                  delivery_backpressure), ternd's memory and its TCP memory stay flat over a second flood, the
                  frames the client finally reads are whole and in order, and the connection works afterwards
  pipelined-requests
                  a client with an allocation sends up to 40000 authenticated requests back to back and never
                  reads the answers: once the answers fill stream.buffer ternd stops reading it (reading_paused),
                  holds no more for it than that, and its memory stays flat
  udp-unaffected  while eight sources flood the TCP listener with connections over both caps, a UDP client
                  relays numbered ChannelData through the same workers with no loss

Every case checks its own refusals counter by counter (`ternctl --json stats`, `streams`): the expected ones moved by
exactly what the case caused, no other refusal or drop reason moved; ternd is still up and serving: a TCP and a
TLS client allocate and get ChannelData echoed on their connection, python3-aioice relays over UDP; ternd holds no
connection any more; and at the end every frame and request is accounted for and ternd stops cleanly
(hostile.finish).

    /usr/bin/python3 tests/hostile/streams_test.py slowloris
"""

import os
import random
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

import hostile
import scenario
import servers
import stun_codec as stun
from hostile import StreamClient, closed_by_server, expect_code, tcp_connect
from scenario import Failure, Scenario

TCP = servers.TCP_PORT
TLS, TLS443 = servers.TLS_PORTS
FLOOD_PORT = 9000  # the flooding peer's port

# The stream limits of the test configuration; a case overrides what it needs.
LIMITS = {"max_connections": 64, "max_connections_per_source": 16, "max_handshakes": 8, "handshake_timeout": 2,
          "first_message_timeout": 2, "idle_timeout": 3, "max_message": 1024, "buffer": 16384}
MAX_DATAGRAM = 1500 - 40 - 8  # the exception port's max_datagram(): the ports' MTU less IPv6 and UDP headers

# Every counter that says a connection or a message was refused, dropped or closed early. A case names the ones it
# expects to move; all the others must not.
REFUSALS = ("refused_connections", "refused_per_source", "refused_handshakes", "proxy_refused_source",
            "proxy_invalid", "proxy_timeout", "tls_failed_alpn", "tls_failed_version_or_cipher", "tls_failed_other",
            "handshake_timeout", "first_message_timeout", "idle_timeout", "not_turn", "message_too_big",
            "requests_refused", "no_allocation", "datagram_too_big", "relay_dropped", "delivery_backpressure",
            "delivery_no_connection", "reading_paused")
EXCEPTION_DROPS = ("kernel_in_dropped", "kernel_out_no_route", "kernel_out_tx_full", "stream_ring_full",
                   "stream_too_big", "mempool_empty")


def settings(**overrides) -> str:
    limits = dict(LIMITS, **overrides)
    return "stream = { " + " ".join(f"{k} = {v};" for k, v in limits.items()) + " };\n"


def delta(before: dict, after: dict, scope: str = "streams") -> dict[str, int]:
    return {k: after[scope][k] - before[scope].get(k, 0) for k in after[scope]}


def expect_refusals(s: Scenario, before: dict, expected: dict, what: str) -> dict:
    """The stream transport's refusal counters moved by `expected` (a number: exactly; a (min, max) pair: within)
    since `before`, the others not at all, nor the exception path's drops. Returns the counters now."""
    after = hostile.stream_counters(s)
    d = delta(before, after)
    wrong = []
    for name in REFUSALS:
        want = expected.get(name, 0)
        low, high = want if isinstance(want, tuple) else (want, want)
        if not low <= d[name] <= high:
            wrong.append(f"{name} +{d[name]} (expected {want})")
    e = delta(before, after, "exception")
    wrong += [f"exception {name} +{e[name]}" for name in EXCEPTION_DROPS if e.get(name)]
    s.note(f"{what}: stream counters moved: {dict((k, v) for k, v in d.items() if v)}")
    s.expect(not wrong, f"{what}: " + "; ".join(wrong))
    return after


def expect_closed(s: Scenario, sock, what: str, within: float, not_before: float = 0.0,
                  since: float | None = None) -> float:
    """The server ends `sock` (FIN or RST) within `within` s of `since` (now), and not before `not_before` s;
    returns when it did, in seconds since `since`."""
    since = time.monotonic() if since is None else since
    how = closed_by_server(sock, max(0.0, since + within - time.monotonic()))
    took = time.monotonic() - since
    s.expect(how is not None, f"{what}: still open after {within:.1f} s")
    s.expect(took >= not_before, f"{what}: closed after {took:.2f} s, before its {not_before:.1f} s were up")
    return took


def still_open(sock, wait: float = 0.05) -> bool:
    return closed_by_server(sock, wait) is None


def still_serving(s: Scenario, tls_ports: tuple[int, ...] = (TLS,)) -> None:
    """ternd is up, answers ternctl, serves a TCP and a TLS client over their connections, and python3-aioice over
    UDP; afterwards it holds no stream connection."""
    s.expect(s.server.proc.alive(), f"ternd is not running:\n{s.server.proc.tail()}")
    hostile.stream_serves(s, TCP)
    for port in tls_ports:
        hostile.stream_serves(s, port, tls=True)
    hostile.serves_real_client(s)
    left = hostile.wait_connections(s, 0, timeout=5)
    s.expect(left == 0, f"ternd still holds {left} stream connections: {hostile.stream_connections(s)}")


def send_slowly(sock, data: bytes, interval: float, stop_after: float) -> tuple[int, str | None]:
    """Sends `data` a byte every `interval` s until it is all sent, `stop_after` s have passed or the server ends
    the connection; returns (bytes sent, how it ended: "eof", "reset" or None)."""
    start = time.monotonic()
    sent = 0
    while sent < len(data) and time.monotonic() - start < stop_after:
        try:
            sock.send(data[sent:sent + 1])
        except (ConnectionResetError, BrokenPipeError):
            return sent, "reset"
        sent += 1
        how = closed_by_server(sock, interval)
        if how is not None:
            return sent, how
    return sent, closed_by_server(sock, 0.01)


# ---- slowloris -------------------------------------------------------------------------------------------------

def case_slowloris(s: Scenario) -> None:
    baseline = hostile.stats(s)
    before = hostile.stream_counters(s)
    first, handshake, idle = LIMITS["first_message_timeout"], LIMITS["handshake_timeout"], LIMITS["idle_timeout"]
    results = {}

    def slow(name: str, port: int, data: bytes, prelude: bytes | None = None) -> None:
        try:
            sock = tcp_connect(s, port)
            start = time.monotonic()
            if prelude is not None:  # a whole request first, answered
                sock.sendall(prelude)
                frame = b""
                while len(frame) < 20 or len(frame) < 20 + struct.unpack("!H", frame[2:4])[0]:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    frame += chunk
                answer = stun.parse(frame)
                results[name + " answer"] = answer.describe() if answer else repr(frame[:40])
                start = time.monotonic()
            sent, how = send_slowly(sock, data, 1.0, 20)
            results[name] = (sent, how, time.monotonic() - start)
            sock.close()
        except Exception as e:  # noqa: BLE001 -- reported by the checks below
            results[name] = (0, f"{type(e).__name__}: {e}", 0.0)

    # The three at once: a byte a second each, for 20 s at most.
    request = stun.build(stun.BINDING, stun.REQUEST)
    threads = [threading.Thread(target=slow, args=("tcp", TCP, request)),
               threading.Thread(target=slow, args=("tls", TLS, hostile.client_hello())),
               threading.Thread(target=slow, args=("idle", TCP, stun.build(stun.BINDING, stun.REQUEST),
                                                   stun.build(stun.BINDING, stun.REQUEST)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    s.note(f"slowloris: (bytes sent, how ternd ended it, after s): {results}")
    s.expect(results.get("idle answer") == "binding success",
             f"the whole Binding before the slow one was answered {results.get('idle answer')}")
    for name, limit, total in (("tcp", first, len(request)), ("tls", handshake, None), ("idle", idle, 20)):
        sent, how, took = results[name]
        s.expect(how in ("eof", "reset"), f"slowloris {name}: the connection was not ended by ternd ({how})")
        s.expect(limit - 0.5 <= took <= limit + 1.5,
                 f"slowloris {name}: ended after {took:.1f} s, its timeout is {limit} s")
        s.expect(total is None or sent < total, f"slowloris {name}: all {sent} bytes went through first")
    expect_refusals(s, before, {"first_message_timeout": 1, "handshake_timeout": 1, "idle_timeout": 1}, "slowloris")
    still_serving(s)
    hostile.finish(s, baseline)


# ---- connection floods -----------------------------------------------------------------------------------------

FLOOD_LIMITS = {"max_connections": 48, "max_connections_per_source": 12, "max_handshakes": 6,
                "first_message_timeout": 60, "handshake_timeout": 60}


def open_many(s: Scenario, port: int, sources: list[str], each: int) -> list:
    """`each` connections from every source in turn; each connect() succeeds (the kernel completes the handshake
    before ternd accepts or refuses)."""
    socks = []
    for ip in sources:
        for _ in range(each):
            try:
                socks.append(tcp_connect(s, port, ip, timeout=5))
            except ConnectionResetError:
                socks.append(REFUSED_AT_CONNECT)  # refused before connect() had returned
    return socks


REFUSED_AT_CONNECT = None


def classify(socks: list, settle: float = 0.5) -> tuple[list, list]:
    """(open, refused): refused ones were reset by ternd."""
    time.sleep(settle)
    opened, refused = [], []
    for sock in socks:
        if sock is REFUSED_AT_CONNECT:
            refused.append(sock)
            continue
        how = closed_by_server(sock, 0.02)
        (opened if how is None else refused).append(sock)
        if how == "eof":
            raise Failure("a refused connection was closed with FIN, not reset")
    return opened, refused


def close_all(socks: list) -> None:
    for sock in socks:
        if sock is not REFUSED_AT_CONNECT:
            sock.close()


def case_conn_flood(s: Scenario) -> None:
    baseline = hostile.stats(s)
    ips = s.topo.client_ips
    per_source, total, handshakes = (FLOOD_LIMITS[k] for k in ("max_connections_per_source", "max_connections",
                                                                "max_handshakes"))
    before = hostile.stream_counters(s)

    # One source, 20 over its allowance.
    socks = open_many(s, TCP, [ips[0]], per_source + 20)
    opened, refused = classify(socks)
    s.note(f"one source: {len(opened)} open, {len(refused)} refused")
    s.expect(len(opened) == per_source and len(refused) == 20,
             f"one source: {len(opened)} connections open and {len(refused)} refused, expected {per_source} and 20")
    s.expect(hostile.wait_connections(s, per_source, 2) == per_source,
             f"ternd counts {hostile.stream_connections(s)} connections, {per_source} open")
    now = expect_refusals(s, before, {"refused_per_source": 20}, "one source over its allowance")
    s.expect(delta(before, now)["tcp_accepted"] == per_source, "tcp_accepted did not count the accepted ones")
    close_all(socks)
    s.expect(hostile.wait_connections(s, 0, 3) == 0, f"closed, still counted: {hostile.stream_connections(s)}")

    # TLS handshakes in flight: connections that never send a ClientHello, 4 over the limit.
    before = hostile.stream_counters(s)
    socks = open_many(s, TLS, [ips[1]], handshakes + 4)
    opened, refused = classify(socks)
    s.note(f"handshakes: {len(opened)} open, {len(refused)} refused")
    s.expect(len(opened) == handshakes and len(refused) == 4,
             f"TLS: {len(opened)} open and {len(refused)} refused, expected {handshakes} and 4")
    close_all(socks)
    s.expect(hostile.wait_connections(s, 0, 3) == 0, f"closed, still counted: {hostile.stream_connections(s)}")
    # Left during its handshake: the client's doing (tls_failed_other: "or it left").
    expect_refusals(s, before, {"refused_handshakes": 4, "tls_failed_other": handshakes}, "handshakes over the limit")

    # Eight sources, each at its allowance: the total limit refuses what is past it.
    before = hostile.stream_counters(s)
    sources = ips[1:9]
    socks = open_many(s, TCP, sources, per_source)
    opened, refused = classify(socks)
    s.note(f"{len(sources)} sources: {len(opened)} open, {len(refused)} refused")
    s.expect(len(opened) == total and len(refused) == len(socks) - total,
             f"{len(sources)} sources: {len(opened)} open and {len(refused)} refused, expected {total} and "
             f"{len(socks) - total}")
    s.expect(hostile.wait_connections(s, total, 2) == total,
             f"ternd counts {hostile.stream_connections(s)} connections, {total} open")
    # Full: one more from a source with nothing open is refused too, on TLS as well.
    extra = open_many(s, TCP, [ips[0]], 1) + open_many(s, TLS443, [ips[0]], 1)
    _, extra_refused = classify(extra)
    s.expect(len(extra_refused) == 2, "with every connection taken, a new source was accepted")
    expect_refusals(s, before, {"refused_connections": len(socks) - total + 2}, "eight sources over the total")
    close_all(socks + extra)
    s.expect(hostile.wait_connections(s, 0, 3) == 0, f"closed, still counted: {hostile.stream_connections(s)}")

    # Its whole allowance again for the first source.
    before = hostile.stream_counters(s)
    socks = open_many(s, TCP, [ips[0]], per_source)
    opened, refused = classify(socks)
    s.expect(len(opened) == per_source and not refused,
             f"after the flood the first source got {len(opened)} connections of {per_source}")
    close_all(socks)
    s.expect(hostile.wait_connections(s, 0, 3) == 0, f"closed, still counted: {hostile.stream_connections(s)}")
    expect_refusals(s, before, {}, "the allowance again")
    still_serving(s, (TLS, TLS443))
    hostile.finish(s, baseline)


# ---- half-open connections -------------------------------------------------------------------------------------

def case_half_open(s: Scenario) -> None:
    baseline = hostile.stats(s)
    before = hostile.stream_counters(s)
    first, handshake, idle = LIMITS["first_message_timeout"], LIMITS["handshake_timeout"], LIMITS["idle_timeout"]
    vanishing_ip = s.topo.client_ips[1]
    start = time.monotonic()
    tcp = [tcp_connect(s, TCP) for _ in range(5)]
    tls = [tcp_connect(s, TLS) for _ in range(5)] + [tcp_connect(s, TLS443) for _ in range(3)]
    vanished = [tcp_connect(s, TCP, vanishing_ip) for _ in range(3)]
    # A connection whose allocation is gone (Refresh 0) and that then stays silent: without an allocation it is
    # an idle connection like any other (stream.idle_timeout), not one that lives as long as an allocation could.
    refreshed = StreamClient(s)
    expect_code(s, refreshed.allocate(), None, "Allocate over TCP")
    expect_code(s, refreshed.refresh(0), None, "Refresh 0 over TCP")
    refreshed_at = time.monotonic()
    s.expect(hostile.wait_connections(s, 17, 1) == 17, f"ternd counts {hostile.stream_connections(s)}, 17 open")
    # The client at vanishing_ip disappears: its address goes, so what ternd sends it later meets neither FIN nor
    # RST (the namespace drops segments to an address it no longer has).
    subprocess.run(["ip", "-n", s.topo.cli, "addr", "del", f"{vanishing_ip}/24", "dev", s.topo.cli_if], check=True)
    states_open = _tcp_states(s)
    for i, sock in enumerate(tcp):
        expect_closed(s, sock, f"silent TCP connection {i}", within=first + 1.5, not_before=first - 0.3,
                      since=start)
    for i, sock in enumerate(tls):
        expect_closed(s, sock, f"silent TLS connection {i}", within=handshake + 1.5, not_before=handshake - 0.3,
                      since=start)
    left = hostile.wait_connections(s, 1, 2)
    s.expect(left == 1, f"{left} connections left after the timeouts, 1 expected (the vanished client's among "
                        f"them?)")
    took = time.monotonic() - start
    s.expect(took <= max(first, handshake) + 2.5, f"the silent connections took {took:.1f} s to go")
    states = _tcp_states(s)
    s.note(f"ternd's TCP sockets by state (peer): {states_open} with the connections, {states} after")
    # ternd closed them all: nothing is established any more (its side waits in FIN-WAIT for the clients, the
    # vanished client's three for an ACK that never comes; the kernel bounds both).
    live = {k: v for k, v in states.items() if k[0] in ("ESTAB", "SYN-RECV", "CLOSE-WAIT")}
    s.expect(set(live) <= {("ESTAB", s.topo.client_ips[0])} and sum(live.values()) <= 1,
             f"ternd's namespace still holds TCP sockets: {live}")
    how = closed_by_server(refreshed.sock, max(0.0, refreshed_at + idle + 1.5 - time.monotonic()))
    s.expect(how is not None, f"a connection whose allocation was deleted (Refresh 0) is still open "
                              f"{time.monotonic() - refreshed_at:.1f} s after its last message "
                              f"(stream.idle_timeout {idle} s): ternd counts {hostile.stream_connections(s)}")
    refreshed.close()
    expect_refusals(s, before, {"first_message_timeout": 8, "handshake_timeout": 8, "idle_timeout": 1}, "half-open")
    for sock in tcp + tls + vanished:
        sock.close()
    still_serving(s, (TLS, TLS443))
    hostile.finish(s, baseline)


# ---- TLS garbage -----------------------------------------------------------------------------------------------

def case_tls_garbage(s: Scenario) -> None:
    baseline = hostile.stats(s)
    before = hostile.stream_counters(s)
    handshake = 3
    rng = random.Random(8656)
    hello = hostile.client_hello()
    s.expect(len(hello) > 100 and hello[0] == 0x16, f"no ClientHello to cut: {hello[:8]!r}")
    prompt = 1.5  # a failed handshake is closed now, not at the timeout

    def garbage(n: int) -> bytes:
        data = bytearray(rng.randbytes(n))
        data[0] = rng.choice([b for b in range(256) if b not in (0x14, 0x15, 0x16, 0x17)])  # not a TLS record
        return bytes(data)

    sent = []
    for port in (TLS, TLS443):
        for i in range(5):
            sock = tcp_connect(s, port)
            sock.sendall(garbage(600))
            sent.append((f"{port}: random bytes {i}", sock))
        sock = tcp_connect(s, port)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 10.90.0.1\r\n\r\n")
        sent.append((f"{port}: HTTP", sock))
        sock = tcp_connect(s, port)
        sock.sendall(b"\x16\x03\x01\x40\x00" + rng.randbytes(0x4000))  # a whole handshake record of noise
        sent.append((f"{port}: a handshake record of random bytes", sock))
        sock = tcp_connect(s, port)
        sock.sendall(b"\x16\x03\x01\xff\xff" + rng.randbytes(2000))    # past TLS's 16 KiB + 2048
        sent.append((f"{port}: an oversized record", sock))
        sock = tcp_connect(s, port)
        sock.sendall(hello[:len(hello) // 2])
        sock.shutdown(socket.SHUT_WR)                                   # cut, then gone
        sent.append((f"{port}: a truncated ClientHello, then FIN", sock))
    for what, sock in sent:
        expect_closed(s, sock, what, within=prompt)
        sock.close()
    failed_now = len(sent)

    # A truncated ClientHello left open: the handshake timeout.
    start = time.monotonic()
    waiting = tcp_connect(s, TLS)
    waiting.sendall(hello[:len(hello) // 2])
    # Complete handshakes the server must refuse: ALPN without stun.turn, no cipher in common.
    for what, make, reason in (
            ("ALPN h2 and http/1.1", lambda: hostile.tls_client_context(s, ["h2", "http/1.1"]), "tls_failed_alpn"),
            ("TLS 1.2 with RSA key exchange only", lambda: _rsa_kx_only(s), "tls_failed_version_or_cipher")):
        sock = tcp_connect(s, TLS)
        try:
            make().wrap_socket(sock, server_hostname=s.topo.listen_ip)
            raise Failure(f"{what}: the handshake succeeded")
        except ssl.SSLError as e:
            s.note(f"{what}: refused ({e.reason or e})")
        finally:
            sock.close()
    expect_closed(s, waiting, "a truncated ClientHello left open", within=handshake + 1.5,
                  not_before=handshake - 0.3, since=start)
    waiting.close()
    expect_refusals(s, before, {"tls_failed_other": failed_now, "handshake_timeout": 1, "tls_failed_alpn": 1,
                                "tls_failed_version_or_cipher": 1}, "TLS garbage")
    s.expect(delta(before, hostile.stream_counters(s))["tls_handshakes"] == 0, "a garbage handshake completed")
    still_serving(s, (TLS, TLS443))
    hostile.finish(s, baseline)


def _rsa_kx_only(s: Scenario) -> ssl.SSLContext:
    """TLS 1.2 at most, with only RSA key exchange ciphers (ternd's are ECDHE only)."""
    ctx = hostile.tls_client_context(s)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA")
    return ctx


# ---- not STUN --------------------------------------------------------------------------------------------------

def case_non_stun(s: Scenario) -> None:
    baseline = hostile.stats(s)
    before = hostile.stream_counters(s)
    prompt = 1.5  # well before stream.first_message_timeout (5 s here)
    binding = stun.build(stun.BINDING, stun.REQUEST)
    cases = [
        ("first bits 11", b"\xff" * 64),
        ("first bits 10", b"\x80\x01\x00\x00" + b"\0" * 60),
        ("a TLS ClientHello", hostile.client_hello()),
        ("a wrong magic cookie", stun.build(stun.BINDING, stun.REQUEST, cookie=0x2112A443)),
        ("a length not a multiple of 4", binding[:2] + struct.pack("!H", 3) + binding[4:] + b"abc"),
        ("NUL bytes", b"\0" * 64),
    ]
    for what, data in cases:
        sock = tcp_connect(s, TCP)
        sock.sendall(data)
        expect_closed(s, sock, what, within=prompt)
        sock.close()
    # Garbage after a good request: the answer first, then the end.
    c = StreamClient(s)
    expect_code(s, c.binding(), None, "a Binding over TCP")
    c.send(b"\xc0garbage after a good request")
    expect_closed(s, c.sock, "garbage after a good Binding", within=prompt)
    c.close()
    expect_refusals(s, before, {"not_turn": len(cases) + 1}, "not STUN")
    still_serving(s)

    # HTTP and other text protocols: a request line's first two bytes read as a ChannelData channel number and its
    # next two as a length ("GET " = channel 0x4745, 21536 bytes). Such a connection has sent no STUN message and
    # holds no allocation: nothing it sends can be TURN.
    before = hostile.stream_counters(s)
    texts = [("HTTP GET", b"GET / HTTP/1.1\r\nHost: 10.90.0.1:3478\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"),
             ("HTTP POST", b"POST /turn HTTP/1.1\r\nHost: 10.90.0.1\r\nContent-Length: 4\r\n\r\nabcd"),
             ("an SSH banner", b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")]
    outcome, late = [], []
    for what, data in texts:
        sock = tcp_connect(s, TCP)
        sock.sendall(data)
        start = time.monotonic()
        how = closed_by_server(sock, 6)
        took = time.monotonic() - start
        outcome.append(f"{what}: " + ("still open after 6 s" if how is None else f"{how} after {took:.1f} s"))
        if how is None or took > prompt:
            late.append(what)
        sock.close()
    d = delta(before, hostile.stream_counters(s))
    s.note(f"text protocols: {outcome}; counters moved: {dict((k, v) for k, v in d.items() if v)}")
    s.expect(not late and d["not_turn"] == len(texts),
             f"text protocols on the TCP listener are not refused as not TURN: {outcome}; not_turn +{d['not_turn']} "
             f"of {len(texts)}, datagram_too_big +{d['datagram_too_big']}, no_allocation +{d['no_allocation']}, "
             f"first_message_timeout +{d['first_message_timeout']}")
    expect_refusals(s, before, {"not_turn": len(texts)}, "text protocols")
    still_serving(s)
    hostile.finish(s, baseline)


# ---- oversize --------------------------------------------------------------------------------------------------

def case_oversize(s: Scenario) -> None:
    baseline = hostile.stats(s)
    before = hostile.stream_counters(s)
    max_message = LIMITS["max_message"]
    echo = s.start_echo_peer([hostile.ECHO_PORT], name="oversize-echo")

    # A STUN header announcing more than stream.max_message: closed at once, before the body comes.
    sock = tcp_connect(s, TCP)
    sock.sendall(stun.build(stun.BINDING, stun.REQUEST, length=max_message - 20 + 4))
    expect_closed(s, sock, "a STUN header past stream.max_message", within=1.5)
    sock.close()
    sock = tcp_connect(s, TCP)
    sock.sendall(stun.build(stun.BINDING, stun.REQUEST, length=0xFFFC)[:20])
    expect_closed(s, sock, "a STUN header of 65532 bytes", within=1.5)
    sock.close()
    # Exactly stream.max_message (an unknown comprehension-optional attribute fills it): answered.
    c = StreamClient(s)
    filler = (0x8055, b"x" * (max_message - 20 - 4))
    at_limit = stun.build(stun.BINDING, stun.REQUEST, [filler])
    s.expect(len(at_limit) == max_message, f"the message at the limit is {len(at_limit)} bytes")
    expect_code(s, c.transact(at_limit), None, f"a Binding of exactly {max_message} bytes")

    # ChannelData too long for one datagram, on a connection with an allocation and a channel: dropped, and the
    # connection goes on (what follows the dropped frame in the same segment is read as the next frame).
    expect_code(s, c.allocate(), None, "Allocate over TCP")
    expect_code(s, c.channel_bind(0x4001, (s.topo.peer_ip, hostile.ECHO_PORT)), None, "ChannelBind over TCP")
    for length in (0xFFFF, 1500):
        payload = os.urandom(length)
        small = b"after %d" % length
        binding = stun.build(stun.BINDING, stun.REQUEST)
        c.send(stun.padded(stun.channel_data(0x4001, payload)) + stun.padded(stun.channel_data(0x4001, small)))
        expect_code(s, c.transact(binding), None, f"a Binding after a ChannelData of {length} bytes")
        got = c.collect(1, timeout=2)
        s.expect(got == [stun.padded(stun.channel_data(0x4001, small))],
                 f"after the {length}-byte ChannelData the next one was not echoed alone: {[g[:12] for g in got]}")
    # The longest datagram ternd relays over IPv4 or IPv6 goes through, both ways.
    longest = os.urandom(MAX_DATAGRAM)
    c.channel_data(0x4001, longest)
    got = c.collect(1, timeout=2)
    s.expect(got == [stun.padded(stun.channel_data(0x4001, longest))],
             f"a ChannelData of {MAX_DATAGRAM} bytes was not echoed intact: {[len(g) for g in got]}")
    expect_code(s, c.refresh(0), None, "Refresh 0 over TCP")
    c.close()

    # Frames the client cuts short: a FIN or a RST in the middle of a message is the client closing.
    cut = [("a STUN message cut by FIN", stun.build(stun.BINDING, stun.REQUEST, length=400) + b"\0" * 100, False),
           ("a ChannelData cut by FIN", stun.channel_data(0x4001, b"", length=1000) + b"\0" * 10, False),
           ("an oversized ChannelData cut by FIN", stun.channel_data(0x4001, b"", length=0xFFFF) + b"\0" * 1000,
            False),
           ("a STUN message cut by RST", stun.build(stun.BINDING, stun.REQUEST, length=400) + b"\0" * 100, True)]
    s.expect(hostile.wait_connections(s, 0, 3) == 0, f"connections left: {hostile.stream_connections(s)}")
    closed_before = hostile.stream_counters(s)["streams"]["closed_by_client"]
    for what, data, reset in cut:
        sock = tcp_connect(s, TCP)
        sock.sendall(stun.build(stun.BINDING, stun.REQUEST))  # a first message: no first-message timeout
        reply = sock.recv(4096)
        s.expect(stun.parse(reply) is not None, f"{what}: the first Binding was not answered")
        sock.sendall(data)
        time.sleep(0.2)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    left = hostile.wait_connections(s, 0, 3)
    s.expect(left == 0, f"{left} connections left open after their clients closed mid-frame")
    closed = hostile.stream_counters(s)["streams"]["closed_by_client"] - closed_before
    s.expect(closed == len(cut), f"closed_by_client +{closed} for the {len(cut)} clients that closed mid-frame")
    # The 65535 and 1500-byte ChannelData, and the oversized one cut short.
    expect_refusals(s, before, {"message_too_big": 2, "datagram_too_big": 3}, "oversize")
    stats = echo.stats()
    echoed = sum(stats["datagrams"].values())
    s.expect(echoed == 3, f"the echo peer got {echoed} datagrams, expected 3 (two small, one of {MAX_DATAGRAM})")
    still_serving(s)
    hostile.finish(s, baseline)


# ---- a client that never reads ---------------------------------------------------------------------------------

def flood_relay(s: Scenario, peer_sock: socket.socket, relayed: tuple[str, int], count: int, seconds: float,
                first_seq: int) -> int:
    """Up to `count` numbered 1000-byte datagrams from the peer to the relayed address within `seconds`; returns
    how many were sent."""
    start = time.monotonic()
    rate = count / seconds
    sent = 0
    while sent < count and (elapsed := time.monotonic() - start) < seconds:
        due = min(count, int(elapsed * rate) + 50)
        while sent < due:
            peer_sock.sendto(struct.pack("!I", first_seq + sent) + b"\xa5" * 996, relayed)
            sent += 1
        time.sleep(0.005)
    return sent


def case_never_reads(s: Scenario) -> None:
    baseline = hostile.stats(s)
    buffer = LIMITS["buffer"]
    peer = hostile.udp_socket(s.topo.peer, s.topo.peer_ip, FLOOD_PORT)
    c = StreamClient(s, rcvbuf=4096)
    expect_code(s, c.allocate(), None, "Allocate over TCP")
    expect_code(s, c.channel_bind(0x4001, (s.topo.peer_ip, FLOOD_PORT)), None, "ChannelBind over TCP")
    peer.sendto(b"hello", c.relayed)
    got = c.collect(1, timeout=2)
    s.expect(got == [stun.padded(stun.channel_data(0x4001, b"hello"))], f"the peer's hello did not arrive: {got}")
    before = hostile.stream_counters(s)
    idle_private, idle_rss = _private_kib(s), hostile.vm_rss_kib(s)
    # From here on the client reads nothing.
    rounds = []
    seq = 0
    for round_ in range(2):
        sent = flood_relay(s, peer, c.relayed, 20000, 4.0, seq)
        seq += sent
        time.sleep(1.0)
        counters = hostile.stream_counters(s)
        rounds.append({"sent": sent, "rss_kib": hostile.vm_rss_kib(s), "private_kib": _private_kib(s),
                       "sockstat": hostile.stream_sockstat(s), "skmem": _skmem(s),
                       "streams": delta(before, counters)})
        s.note(f"flood round {round_ + 1}: {rounds[-1]}")
    ss = hostile.stream_ss(s)
    s.note(f"ternd's TCP sockets:\n{ss}")
    client_queued = _inq(c.sock)
    server_queued = _send_q(ss, c.address)
    d = rounds[-1]["streams"]
    s.expect(d["delivery_backpressure"] > 0, "the flood was never held back: delivery_backpressure did not move")
    # The same drops, per allocation: `ternctl allocation ID`, peer -> client, stream_backpressure.
    listed = hostile.ternctl_json(s, "allocations")["allocations"]
    s.expect(len(listed) == 1, f"one allocation expected: {listed}")
    traffic = hostile.ternctl_json(s, "allocation", str(listed[0]["id"]))["traffic"]
    per_allocation = traffic["drops_to_client_by_reason"]["stream_backpressure"]
    s.expect(per_allocation == d["delivery_backpressure"] and traffic["drops_to_client"] >= per_allocation,
             f"ternctl allocation counts {per_allocation} peer datagrams dropped for the connection "
             f"(drops_to_client {traffic['drops_to_client']}), the transport {d['delivery_backpressure']}")
    e = delta(before, hostile.stream_counters(s), "exception")
    s.expect(d["delivered"] + d["delivery_backpressure"] + d["delivery_no_connection"] == e["stream_delivered"],
             f"the workers handed {e['stream_delivered']} datagrams to the stream transport, which delivered "
             f"{d['delivered']} and dropped {d['delivery_backpressure']} + {d['delivery_no_connection']}")
    # Flat: the first flood costs ternd's own memory next to nothing (DPDK's reserved region aside, whose pages
    # the packet pools touch once), the second nothing the first did not.
    r1, r2 = rounds
    s.note(f"ternd before the floods: VmRSS {idle_rss} KiB, private {idle_private} KiB")
    # Under AddressSanitizer (scripts/ci-sanitize) freed memory stays in its quarantine, so ternd's memory is
    # checked by the main suite's run of this case; both runs check what ternd's sockets hold (below).
    if not hostile.sanitized(s):
        s.expect(r1["private_kib"] - idle_private <= 1024,
                 f"ternd's private resident memory grew from {idle_private} to {r1['private_kib']} KiB over the flood")
        s.expect(r2["private_kib"] - r1["private_kib"] <= 512,
                 f"ternd's private resident memory grew from {r1['private_kib']} to {r2['private_kib']} KiB over "
                 f"the second flood")
        s.expect(r2["rss_kib"] - r1["rss_kib"] <= 1024,
                 f"ternd's VmRSS grew from {r1['rss_kib']} to {r2['rss_kib']} KiB over the second flood")
    # sockstat's `mem` (and `orphan`) are the host's, whatever namespace reads them: only `inuse` is ternd's.
    # What ternd's own sockets hold comes from ss (skmem: receive, send queue, options, backlog).
    s.expect(r2["sockstat"]["inuse"] == r1["sockstat"]["inuse"],
             f"ternd's TCP sockets went from {r1['sockstat']['inuse']} to {r2['sockstat']['inuse']}")
    s.expect(r2["skmem"] - r1["skmem"] <= 64 << 10 and r2["skmem"] <= (4 << 20) + buffer,
             f"the kernel memory of ternd's TCP sockets went from {r1['skmem']} to {r2['skmem']} bytes over the "
             f"second flood")

    # What the client finally reads: whole frames, in order, no more than its window, ternd's socket and
    # stream.buffer held.
    frames = []
    total = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        frame = c._receive(0.5)
        if frame is None:
            break
        frames.append(frame)
        total += len(frame)
    seqs = []
    for frame in frames:
        s.expect(len(frame) == 1004 and frame[:4] == b"\x40\x01\x03\xe8" and frame[8:] == b"\xa5" * 996,
                 f"a frame read after the flood is not a whole ChannelData of the flood: {frame[:16]!r}...")
        seqs.append(struct.unpack("!I", frame[4:8])[0])
    s.expect(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "the frames read are out of order or repeated")
    held = total - client_queued - server_queued
    s.note(f"read {total} bytes ({len(frames)} frames): {client_queued} were in the client's socket, "
           f"{server_queued} in ternd's, {held} in ternd's own buffer (stream.buffer {buffer})")
    s.expect(held <= buffer, f"ternd held {held} bytes for the client beyond the kernel's sockets, more than "
                             f"stream.buffer ({buffer})")
    s.expect(server_queued <= 4 << 20, f"ternd's socket held {server_queued} bytes for the client")
    delivered = hostile.stream_counters(s)["streams"]["delivered"] - before["streams"]["delivered"]
    s.expect(len(frames) == delivered, f"the client read {len(frames)} frames of the {delivered} ternd delivered")
    # The connection works again once the client reads.
    for i in range(5):
        peer.sendto(b"again %d" % i, c.relayed)
    got = c.collect(5, timeout=3)
    s.expect(got == [stun.padded(stun.channel_data(0x4001, b"again %d" % i)) for i in range(5)],
             f"after draining, the peer's datagrams did not all arrive: {len(got)} of 5")
    expect_code(s, c.refresh(0), None, "Refresh 0 over TCP")
    c.close()
    peer.close()
    expect_refusals(s, before, {"delivery_backpressure": (1, seq)}, "never reads")
    still_serving(s)
    hostile.finish(s, baseline)


def case_pipelined_requests(s: Scenario) -> None:
    """A client with an allocation that sends requests and never reads their answers: ternd holds for it no more than for one that
    does not read peers' data (stream.buffer, beyond the kernel's sockets), and its memory stays flat."""
    baseline = hostile.stats(s)
    buffer = LIMITS["buffer"]
    c = StreamClient(s, rcvbuf=4096)
    expect_code(s, c.allocate(), None, "Allocate over TCP")
    before = hostile.stream_counters(s)
    idle_private = _private_kib(s)
    # 40000 authenticated Refresh requests (unauthenticated ones are rate-limited: auth.unauthenticated_rate),
    # back to back, within 10 s; the client reads nothing.
    burst = b"".join(stun.build(stun.REFRESH, stun.REQUEST, [(stun.LIFETIME, stun.lifetime(600))] + c.credentials(),
                                key=c.key) for _ in range(1000))
    c.sock.settimeout(0.5)
    sent = 0
    start = time.monotonic()
    while sent < 40 and time.monotonic() - start < 10:
        try:
            c.sock.sendall(burst)
            sent += 1
        except socket.timeout:
            break  # ternd stopped reading: that bounds it too
    # Until ternd has answered what it took.
    last, deadline = -1, time.monotonic() + 10
    while time.monotonic() < deadline:
        now = hostile.stream_counters(s)["streams"]
        if now["replies"] == last:
            break
        last = now["replies"]
        time.sleep(0.5)
    d = delta(before, hostile.stream_counters(s))
    private = _private_kib(s)
    ss = hostile.stream_ss(s)
    client_queued = _inq(c.sock)
    server_queued = _send_q(ss, c.address)
    # Every answer is the same Refresh success: its size from the first one times the answers ternd had written
    # when the queues were read, less what sits in the two sockets, is what ternd held itself. (Reading more
    # would let ternd take the requests still waiting in its socket and answer those too.)
    c.sock.settimeout(5.0)
    header = b""
    while len(header) < 20:
        chunk = c.sock.recv(20 - len(header))
        if not chunk:
            break
        header += chunk
    s.expect(len(header) == 20, "the connection closed before its first answer")
    answer = 20 + struct.unpack("!H", header[2:4])[0]
    total = d["replies"] * answer
    held = total - client_queued - server_queued
    # ternd stops reading the connection once the answers it could not write fill stream.buffer: the rest of the
    # requests wait in the sockets (the client's sends block), never in ternd.
    s.expect(d["reading_paused"] >= 1 and d["requests"] > 0,
             f"ternd took {d['requests']} + {d['requests_refused']} of the {sent * 1000} requests and stopped "
             f"reading {d['reading_paused']} times: expected it to stop once stream.buffer filled")
    s.note(f"{sent * 1000} requests sent; ternd counted {d['requests']} requests, {d['requests_refused']} refused, "
           f"{d['replies']} answers of {answer} bytes, {total} in all: {client_queued} in the client's socket, "
           f"{server_queued} in ternd's, {held} ternd held itself (stream.buffer {buffer}); ternd's private "
           f"memory {idle_private} -> {private} KiB")
    # stream.buffer, and the answers to the requests in flight when it filled (ternd passes at most 32 of a
    # connection's requests to the control plane at a time).
    s.expect(held <= buffer + 32 * answer,
             f"ternd held {held} bytes of answers for a client that does not read, beyond its socket's "
             f"{server_queued}: more than stream.buffer ({buffer}) and 32 answers in flight")
    if not hostile.sanitized(s):  # as in never-reads: AddressSanitizer's quarantine keeps freed memory
        s.expect(private - idle_private <= 1024, f"ternd's private resident memory grew from {idle_private} to "
                                                 f"{private} KiB")
    c.close()
    expect_refusals(s, before, {"requests_refused": (0, sent * 1000), "reading_paused": (1, sent * 1000)},
                    "pipelined requests")
    still_serving(s)
    hostile.finish(s, baseline)


def _private_kib(s: Scenario) -> int:
    sys.path.insert(0, str(hostile.TESTS / "load"))
    import load  # noqa: E402 -- tests/load/load.py: resident memory apart from DPDK's reserved region
    return load.memory_kib(s.server.proc.pid)["private"]


def _inq(sock: socket.socket) -> int:
    import fcntl
    import termios
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def _skmem(s: Scenario) -> int:
    """Bytes the kernel holds for ternd's TCP sockets: skmem's r (receive), w (send queue), o and bl, summed."""
    total = 0
    for line in hostile.stream_ss(s).splitlines():
        if "skmem:(" in line:
            fields = line.split("skmem:(", 1)[1].split(")", 1)[0].split(",")
            values = {f.rstrip("0123456789"): int(f[len(f.rstrip("0123456789")):]) for f in fields}
            total += sum(values.get(k, 0) for k in ("r", "w", "o", "bl"))
    return total


def _tcp_states(s: Scenario) -> dict[tuple[str, str], int]:
    """ternd's TCP sockets by (state, peer address), from `ss -tan` in its stream namespace."""
    out: dict[tuple[str, str], int] = {}
    for line in hostile.stream_ss(s).splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[0].replace("-", "").isupper() and ":" in fields[4]:
            key = (fields[0], fields[4].rsplit(":", 1)[0])
            out[key] = out.get(key, 0) + 1
    return out


def _send_q(ss: str, client: tuple[str, int]) -> int:
    """The Send-Q of ternd's socket connected to `client`, from `ss -tanmi`."""
    for line in ss.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[4] == f"{client[0]}:{client[1]}":
            return int(fields[2])
    raise Failure(f"no socket of ternd is connected to {client[0]}:{client[1]}:\n{ss}")


# ---- UDP during a connection flood -----------------------------------------------------------------------------

UDP_FLOOD_LIMITS = {"max_connections": 32, "max_connections_per_source": 8, "first_message_timeout": 30}


def case_udp_unaffected(s: Scenario) -> None:
    baseline = hostile.stats(s)
    echo = s.start_echo_peer([hostile.ECHO_PORT], name="udp-echo")
    udp = hostile.TurnClient(s, s.topo.client_ips[0])
    expect_code(s, udp.allocate(), None, "Allocate over UDP")
    expect_code(s, udp.channel_bind(0x4001, (s.topo.peer_ip, hostile.ECHO_PORT)), None, "ChannelBind over UDP")
    before = hostile.stream_counters(s)
    flood_ips = s.topo.client_ips[1:9]
    stop = threading.Event()
    tally = {"connects": 0, "accepted": 0, "refused": 0, "rounds": 0, "error": None}

    def connection_flood() -> None:
        # Rounds of 10 connections from each of eight sources (per source 8, in all 32), then RST on all of them;
        # at most 6 s and 4000 connections.
        start = time.monotonic()
        try:
            while not stop.is_set() and time.monotonic() - start < 6 and tally["connects"] < 4000:
                socks = []
                for ip in flood_ips:
                    for _ in range(10):
                        sock = hostile.tcp_socket(s, ip)
                        sock.settimeout(5)
                        try:
                            sock.connect((s.topo.listen_ip, TCP))
                        except ConnectionResetError:
                            pass  # refused before connect() had returned: closed_by_server() sees the reset
                        socks.append(sock)
                tally["connects"] += len(socks)
                time.sleep(0.15)
                for sock in socks:
                    if closed_by_server(sock, 0) is None:
                        tally["accepted"] += 1
                    else:
                        tally["refused"] += 1
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                tally["rounds"] += 1
                # ternd must have let go of this round's connections before the next one is counted against it.
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline and sum(hostile.stream_connections(s).values()):
                    time.sleep(0.02)
        except Exception as e:  # noqa: BLE001 -- reported below
            tally["error"] = f"{type(e).__name__}: {e}"

    flooder = threading.Thread(target=connection_flood, daemon=True)
    flooder.start()
    # Numbered ChannelData, 200 a second, while the flood lasts (at most 8 s).
    sent = []
    start = time.monotonic()
    while flooder.is_alive() and time.monotonic() - start < 8:
        payload = struct.pack("!I", len(sent)) + os.urandom(196)
        udp.channel_data(0x4001, payload)
        sent.append(payload)
        time.sleep(0.005)
    flooder.join(10)
    stop.set()
    got = udp.collect(len(sent), timeout=3)
    echoed = [g[4:] for g in got if stun.is_channel_data(g) and g[:2] == b"\x40\x01"]
    s.note(f"connection flood: {tally}; UDP: {len(echoed)} of {len(sent)} echoed")
    s.expect(tally["error"] is None, f"the connection flood failed: {tally['error']}")
    s.expect(tally["rounds"] >= 5, f"the connection flood made only {tally['rounds']} rounds")
    s.expect(sorted(echoed) == sorted(sent), f"UDP relaying lost {len(sent) - len(set(echoed) & set(sent))} of "
                                             f"{len(sent)} datagrams during the connection flood")
    d = delta(before, hostile.stream_counters(s))
    s.expect(d["refused_per_source"] + d["refused_connections"] == tally["refused"],
             f"ternd counted {d['refused_per_source']} + {d['refused_connections']} refusals, the clients saw "
             f"{tally['refused']} connections reset at once")
    s.expect(d["tcp_accepted"] == tally["accepted"],
             f"tcp_accepted +{d['tcp_accepted']}, the clients saw {tally['accepted']} connections accepted")
    rounds = tally["rounds"]
    # A round: the first four sources get 8 each and fill the 32; the first three's 2 over that are
    # refused_per_source, the fourth's (the total is checked first) and the other four sources' 40 are
    # refused_connections.
    expect_refusals(s, before, {"refused_per_source": 6 * rounds, "refused_connections": 42 * rounds},
                    "connection flood")
    expect_code(s, udp.refresh(0), None, "Refresh 0 over UDP")
    udp.close()
    echo.stats()
    still_serving(s)
    hostile.finish(s, baseline)


CASES = {"slowloris": case_slowloris, "conn-flood": case_conn_flood, "half-open": case_half_open,
         "tls-garbage": case_tls_garbage, "non-stun": case_non_stun, "oversize": case_oversize,
         "never-reads": case_never_reads, "pipelined-requests": case_pipelined_requests,
         "udp-unaffected": case_udp_unaffected}
SETTINGS = {case: settings() for case in CASES}
SETTINGS["conn-flood"] = settings(**FLOOD_LIMITS)
SETTINGS["tls-garbage"] = settings(handshake_timeout=3)
SETTINGS["non-stun"] = settings(first_message_timeout=5)
SETTINGS["udp-unaffected"] = settings(**UDP_FLOOD_LIMITS)
CLIENTS = {"conn-flood": 9, "half-open": 2, "udp-unaffected": 9}

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, clients=CLIENTS, deadline=150, ternd_settings=SETTINGS, streams=set(CASES)))
