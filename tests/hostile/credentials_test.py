#!/usr/bin/python3
"""Credential attacks against ternd.

  flood         three sources flood Allocate requests for 3 s each (wrong password with a valid nonce; no
                credentials at all; MESSAGE-INTEGRITY over garbage for an unknown user) while a fourth allocates
                normally: each flooding source gets at most the burst plus the rate of 401s
                (auth.unauthenticated_burst + auth.unauthenticated_rate per second), sends more bytes than it
                receives (measured on the client's wire), the honest client is served, and the counters add up
  stale-nonce   nonces live 3 s: an authenticated request with an expired nonce gets 438 with a fresh NONCE and
                then succeeds with it; a captured request replayed from another port gets 438 before and after
                expiry; replayed from its own 5-tuple it is a retransmission and gets the very same answer
  rest-expired  TURN REST API usernames: expired (401), signed with an unknown secret (401), and one that expires
                while its allocation lives: the allocation cannot be refreshed with it afterwards (401)

    /usr/bin/python3 tests/hostile/credentials_test.py flood
"""

import os
import sys
import time

import hostile
import scenario
import stun_codec as stun
from hostile import Capture, TurnClient, expect_code
from scenario import Scenario

FLOOD_SECONDS = 3.0
FLOOD_RATE = 500           # requests per second from each flooding source
RATE, BURST = 10, 20       # auth.unauthenticated_rate / _burst (ternd's defaults, which the test config keeps)
NONCE_LIFETIME = 3


def flood(s: Scenario, senders: list[tuple[TurnClient, list[bytes]]], seconds: float, rate: int) -> int:
    """Each sender sends its messages round-robin at `rate` per second for `seconds`; returns how many each sent."""
    interval = 1.0 / rate
    start = time.monotonic()
    sent = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed / interval) + 1
        while sent < due:
            for client, messages in senders:
                client.send(messages[sent % len(messages)])
            sent += 1
        time.sleep(interval * 4)
    return sent


def case_flood(s: Scenario) -> None:
    baseline = hostile.stats(s)
    ips = s.topo.client_ips
    capture = Capture(s.topo.cli, s.topo.cli_if)

    # The honest client and the final real client (python3-aioice) use the namespace's first address.
    honest = TurnClient(s, ips[0])
    wrong = TurnClient(s, ips[1], password="not-wonderland")
    expect_code(s, wrong.allocate(), 401, "Allocate with a wrong password")  # a 401 with a nonce, then this 401
    bare = TurnClient(s, ips[2])
    garbage = TurnClient(s, ips[3], username="mallory")

    def wrong_password() -> bytes:
        return stun.build(stun.ALLOCATE, stun.REQUEST, [(stun.REQUESTED_TRANSPORT, stun.transport_udp())]
                          + wrong.credentials(), key=wrong.key)

    def unauthenticated() -> bytes:
        return stun.build(stun.ALLOCATE, stun.REQUEST, [(stun.REQUESTED_TRANSPORT, stun.transport_udp())])

    def integrity_over_garbage() -> bytes:
        return stun.build(stun.ALLOCATE, stun.REQUEST, [(stun.REQUESTED_TRANSPORT, stun.transport_udp()),
                                                        (stun.USERNAME, b"mallory"), (stun.REALM, b"tern.test"),
                                                        (stun.NONCE, os.urandom(24).hex().encode()),
                                                        (stun.MESSAGE_INTEGRITY, os.urandom(20))])

    senders = [(wrong, [wrong_password() for _ in range(64)]), (bare, [unauthenticated() for _ in range(64)]),
               (garbage, [integrity_over_garbage() for _ in range(64)])]
    started = time.monotonic()
    per_source = flood(s, senders, FLOOD_SECONDS / 2, FLOOD_RATE)
    # In the middle of the flood an honest client allocates, relays nothing, and leaves.
    expect_code(s, honest.allocate(), None, "an honest Allocate during the flood")
    expect_code(s, honest.refresh(0), None, "an honest Refresh 0 during the flood")
    per_source += flood(s, senders, FLOOD_SECONDS / 2, FLOOD_RATE)
    elapsed = time.monotonic() - started
    hostile.serves_real_client(s)
    capture.stop(settle=0.5)
    s.note(f"flood: {per_source} requests from each of 3 sources in {elapsed:.1f} s")

    listener = (s.topo.listen_ip, s.topo.listen_port)
    wire: dict[str, dict] = {ip: {"in": 0, "out": 0, "requests": 0, "401": 0, "other": 0} for ip in ips}
    for d in capture.udp():
        if d.outgoing and (d.dst, d.dport) == listener and d.src in wire:
            wire[d.src]["in"] += d.frame_len
            wire[d.src]["requests"] += 1
        elif not d.outgoing and (d.src, d.sport) == listener and d.dst in wire:
            w = wire[d.dst]
            w["out"] += d.frame_len
            msg = stun.parse(d.payload)
            w["401" if msg is not None and msg.error_code() == 401 else "other"] += 1
    s.note(f"on the wire, per source: {wire}")

    # One bucket per source: BURST at first, then RATE per second (a second started counts whole).
    allowed = BURST + RATE * (int(elapsed) + 2)
    for client in (wrong, bare, garbage):
        w = wire[client.address[0]]
        s.expect(w["requests"] >= per_source, f"{client.address[0]}: {w['requests']} requests on the wire, "
                                              f"sent {per_source}")
        s.expect(1 <= w["401"] <= allowed and w["other"] == 0,
                 f"{client.address[0]}: {w['401']} 401s and {w['other']} other answers to {w['requests']} "
                 f"requests; at most {allowed} 401s expected")
        s.expect(w["out"] <= w["in"], f"{client.address[0]}: {w['out']} bytes out for {w['in']} bytes in")
    h = wire[honest.address[0]]
    s.expect(h["other"] >= 2, f"the honest client's address got {h['other']} answers other than 401")

    honest_ip = honest.address[0]
    for client in (wrong, bare, garbage, honest):
        client.close()
    c = hostile.finish(s, baseline)
    answered_401 = sum(wire[ip]["401"] for ip in ips)
    s.expect(c.ctl("responses_401") == answered_401,
             f"responses_401 {c.ctl('responses_401')}, 401s on the client wire {answered_401}")
    # Every flooding request that reached the control plane was answered within the rate or refused an answer.
    flooded = 3 * per_source - c.dp("drop_punt_ring_full")
    flood_401 = answered_401 - wire[honest_ip]["401"] - 2  # the wrong-password client's first two
    s.expect(c.ctl("unauthenticated_rate_limited") == flooded - flood_401,
             f"unauthenticated_rate_limited {c.ctl('unauthenticated_rate_limited')}, expected {flooded} flooding "
             f"requests - {flood_401} answered")
    s.expect(c.ctl("auth_bad_integrity") > per_source - c.dp("drop_punt_ring_full"),
             f"auth_bad_integrity {c.ctl('auth_bad_integrity')} for {per_source} wrong passwords")


def case_stale_nonce(s: Scenario) -> None:
    baseline = hostile.stats(s)
    a = TurnClient(s)
    expect_code(s, a.allocate(), None, "Allocate")
    captured = stun.build(stun.CREATE_PERMISSION, stun.REQUEST,
                          [(stun.XOR_PEER_ADDRESS, stun.xor_address(s.topo.peer_ip, 7000))] + a.credentials(),
                          key=a.key)
    first = a.transact(captured)
    expect_code(s, first, None, "CreatePermission")

    thief = TurnClient(s)  # same host, another port
    expect_code(s, thief.transact(captured), 438, "the captured CreatePermission replayed from another port")
    time.sleep(NONCE_LIFETIME + 1.5)

    # RFC 8489 §6.3.1: a retransmission (same 5-tuple and transaction) gets the answer already sent.
    again = a.transact(captured)
    s.expect(again is not None and again.raw == first.raw, "the retransmitted CreatePermission got another answer")
    expect_code(s, thief.transact(captured), 438, "the captured CreatePermission replayed after expiry")

    old_nonce = a.nonce
    reply = a.request(stun.REFRESH, [(stun.LIFETIME, stun.lifetime(600))], retry_stale=False)
    expect_code(s, reply, 438, "Refresh with an expired nonce")
    fresh = reply.get(stun.NONCE)
    s.expect(fresh is not None and fresh != old_nonce and reply.get(stun.REALM) is not None,
             "the 438 carries no fresh NONCE and REALM")
    a.nonce = fresh
    expect_code(s, a.refresh(600), None, "Refresh with the fresh nonce")
    expect_code(s, a.refresh(0), None, "Refresh 0")

    hostile.serves_real_client(s)
    a.close()
    thief.close()
    c = hostile.finish(s, baseline)
    s.expect(c.ctl("responses_438") == 3 and c.ctl("auth_stale_nonce") == 3,
             f"responses_438 {c.ctl('responses_438')}, auth_stale_nonce {c.ctl('auth_stale_nonce')}, expected 3 each")
    s.expect(c.ctl("retransmissions_answered") == 1,
             f"retransmissions_answered {c.ctl('retransmissions_answered')}, expected 1")
    s.expect(c.ctl("permissions_created") >= 1 and c.ctl("allocations_created") == 2,
             f"allocations_created {c.ctl('allocations_created')}, expected 2 (ours and the real client's)")


def case_rest_expired(s: Scenario) -> None:
    baseline = hostile.stats(s)
    user, password = scenario.rest_credentials(ttl=-60)
    expired = TurnClient(s, username=user, password=password)
    expect_code(s, expired.allocate(), 401, "Allocate with an expired REST username")

    name, _ = scenario.rest_credentials()
    _, forged = scenario.rest_credentials(secret="not-the-secret")
    forged_client = TurnClient(s, username=name, password=forged)
    expect_code(s, forged_client.allocate(), 401, "Allocate with a REST password signed by an unknown secret")

    user, password = scenario.rest_credentials(ttl=2)
    short = TurnClient(s, username=user, password=password)
    expect_code(s, short.allocate(), None, "Allocate with a REST username valid 2 s more")
    time.sleep(3.5)
    expect_code(s, short.refresh(600), 401, "Refresh after the REST username expired")

    hostile.serves_real_client(s)
    for client in (expired, forged_client, short):
        client.close()
    c = hostile.finish(s, baseline)
    s.expect(c.ctl("auth_rest_expired") == 2, f"auth_rest_expired {c.ctl('auth_rest_expired')}, expected 2")
    s.expect(c.ctl("auth_bad_integrity") == 1, f"auth_bad_integrity {c.ctl('auth_bad_integrity')}, expected 1")


CASES = {"flood": case_flood, "stale-nonce": case_stale_nonce, "rest-expired": case_rest_expired}
CONF_EDITS = {"stale-nonce": [("nonce_lifetime = 600;", f"nonce_lifetime = {NONCE_LIFETIME};")]}

if __name__ == "__main__":
    sys.exit(hostile.main(CASES, conf_edits=CONF_EDITS, clients={"flood": 4}, deadline=150))
