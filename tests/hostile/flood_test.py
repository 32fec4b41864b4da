#!/usr/bin/python3
"""One valid credential is not a licence to flood: ternd holds every allocation to limits.allocation_pps (packets per
second per allocation and direction, ON by default: 5,000 with a tenth of a second of burst), in the worker.

  flood  ternd with the shipped defaults and one worker (so every allocation here shares it). A flooder allocates
         with the test user's credential and sends ChannelData to a peer far above allocation_pps (bounded in time
         and count) while two victim allocations of the same user stream numbered datagrams at a call's rate to an
         echo peer. The victims get every datagram back; the peer receives about allocation_pps of the flooder's
         (never more than the rate and its burst allow); every one of the flooder's datagrams that did not reach
         the peer is counted as drop_packet_rate_limited and as the flooder's own rate_limited drop
         (`ternctl allocation ID`); a real client is served afterwards and every frame is accounted for.

    /usr/bin/python3 tests/hostile/flood_test.py flood
"""

import select
import struct
import subprocess
import sys
import threading
import time

import hostile
import stun_codec as stun
from hostile import TurnClient, expect_code
from scenario import Scenario

SHIPPED_PPS = 5000           # conf/config.hpp kDefaultAllocationPps: the test relies on the default, not a setting
BURST_SECONDS = 0.1          # rate_limit.hpp kRateBurstDivisor
FLOOD_PPS = 25000            # five times the limit
FLOOD_SECONDS = 3.0
FLOOD_MAX = int(FLOOD_PPS * FLOOD_SECONDS)  # the flood's bound in count, whatever the pacing does
VICTIM_PPS = 200             # a call's audio and a little video, per victim
SINK_PORT = 7100
ECHO = hostile.ECHO_PORT
CHANNEL = 0x4001


def paced(rate: int, seconds: float, send) -> tuple[int, float]:
    """Calls send(i) `rate` times a second for `seconds` (in 2 ms steps), never more than rate * seconds times;
    returns (calls, elapsed seconds)."""
    total = int(rate * seconds)
    start = time.monotonic()
    sent = 0
    while sent < total:
        elapsed = time.monotonic() - start
        due = min(total, int(rate * elapsed) + 1)
        while sent < due:
            send(sent)
            sent += 1
        time.sleep(0.002)
    return sent, time.monotonic() - start


def drain(sock, stop: threading.Event, into: list) -> None:
    """Everything `sock` receives until `stop` and a quiet 0.5 s after it."""
    sock.setblocking(False)
    quiet_since = None
    while True:
        ready = select.select([sock], [], [], 0.05)[0]
        if ready:
            quiet_since = None
            while True:
                try:
                    into.append(sock.recv(65535))
                except BlockingIOError:
                    break
        elif stop.is_set():
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 0.5:
                return


class Victim:
    """An allocation of the same user streaming numbered datagrams to the echo peer over a channel."""

    def __init__(self, s: Scenario, n: int) -> None:
        self.client = TurnClient(s)
        expect_code(s, self.client.allocate(), None, f"victim {n}: Allocate")
        expect_code(s, self.client.channel_bind(CHANNEL, (s.topo.peer_ip, ECHO)), None, f"victim {n}: ChannelBind")
        self.tag = n
        self.sent = 0
        self.received: list[bytes] = []

    def stream(self, seconds: float) -> None:
        payload = b"v" * 160  # an Opus frame and its RTP header, about
        self.sent, _ = paced(VICTIM_PPS, seconds,
                             lambda i: self.client.channel_data(CHANNEL, struct.pack("!HI", self.tag, i) + payload))

    def echoed(self) -> set[int]:
        got = set()
        for frame in self.client.collect(self.sent, timeout=3):
            if stun.is_channel_data(frame) and frame[4:6] == struct.pack("!H", self.tag):
                got.add(struct.unpack("!I", frame[6:10])[0])
        return got


def allocation_of(s: Scenario, client: TurnClient) -> dict:
    ip, port = client.address
    listed = hostile.ternctl_json(s, "allocations", "--client", f"{ip}:{port}")["allocations"]
    s.expect(len(listed) == 1, f"ternctl allocations --client {ip}:{port}: {listed}")
    return hostile.ternctl_json(s, "allocation", str(listed[0]["id"]))


def case_flood(s: Scenario) -> None:
    status = hostile.ternctl_json(s, "status")
    s.expect(status["workers"] == 1, f"ternd runs {status['workers']} workers: the victims must share the flooder's")
    echo = s.start_echo_peer([ECHO])
    sink = hostile.udp_socket(s.topo.peer, s.topo.peer_ip, SINK_PORT)
    baseline = hostile.stats(s)

    flooder = TurnClient(s)
    expect_code(s, flooder.allocate(), None, "flooder: Allocate")
    expect_code(s, flooder.channel_bind(CHANNEL, (s.topo.peer_ip, SINK_PORT)), None, "flooder: ChannelBind")
    victims = [Victim(s, n) for n in (1, 2)]

    arrived: list[bytes] = []
    stop = threading.Event()
    sink_thread = threading.Thread(target=drain, args=(sink, stop, arrived), daemon=True)
    sink_thread.start()
    victim_threads = [threading.Thread(target=v.stream, args=(FLOOD_SECONDS + 1,), daemon=True) for v in victims]
    for t in victim_threads:
        t.start()
    time.sleep(0.5)  # the victims are streaming when the flood starts, and go on after it
    flood = stun.channel_data(CHANNEL, b"f" * 40)
    sent, elapsed = paced(FLOOD_PPS, FLOOD_SECONDS, lambda i: flooder.sock.sendto(flood, flooder.server))
    for t in victim_threads:
        t.join(FLOOD_SECONDS + 10)
    stop.set()
    sink_thread.join(10)
    sink.close()
    s.note(f"flooder sent {sent} datagrams in {elapsed:.2f} s ({sent / elapsed:.0f}/s); the peer received "
           f"{len(arrived)} ({len(arrived) / elapsed:.0f}/s)")
    s.expect(sent <= FLOOD_MAX, "the flood exceeded its own bound")

    # The victims lost nothing at their rate.
    for v in victims:
        got = v.echoed()
        s.expect(v.sent > 0 and got == set(range(v.sent)),
                 f"victim {v.tag}: {len(got)} of {v.sent} datagrams echoed; missing "
                 f"{sorted(set(range(v.sent)) - got)[:10]}")
        info = allocation_of(s, v.client)["traffic"]
        s.expect(info["drops_to_peer"] == 0 and info["drops_to_client"] == 0, f"victim {v.tag} had drops: {info}")
    s.note(f"victims: {[v.sent for v in victims]} datagrams each way, every one echoed")

    # The flooder got the rate and its burst, not more, and not much less (the limiter is not a wall). The worker
    # may see the flood's last datagrams a little after the sender's clock stopped: 20 ms of queueing allowed.
    allowed = SHIPPED_PPS * (elapsed + 0.02 + BURST_SECONDS) + 1
    s.expect(len(arrived) <= allowed, f"the peer received {len(arrived)} of the flood, more than the {allowed:.0f} "
                                      f"allocation_pps allows in {elapsed:.2f} s")
    s.expect(len(arrived) >= 0.8 * SHIPPED_PPS * elapsed,
             f"the peer received only {len(arrived)} of the flood in {elapsed:.2f} s: allocation_pps is {SHIPPED_PPS}")
    s.expect(all(d == b"f" * 40 for d in arrived), "the flood arrived altered")

    # The refused remainder, per allocation: the flooder's rate_limited drops, every one of them.
    flooder_info = allocation_of(s, flooder)
    traffic = flooder_info["traffic"]
    refused = traffic["drops_to_peer_by_reason"]["rate_limited"]
    s.note(f"flooder: {traffic}")
    s.expect(traffic["packets_to_peer"] == len(arrived), f"flooder relayed {traffic['packets_to_peer']}, the peer "
                                                         f"received {len(arrived)}")
    live = hostile.stats(s)
    lost = live.port_losses - baseline.port_losses
    s.expect(refused + len(arrived) + lost >= sent and refused + len(arrived) <= sent,
             f"of {sent} flooded, {len(arrived)} relayed and {refused} refused as rate_limited ({lost} lost by the "
             f"ports)")
    text = ternctl_text(s, "allocation", str(flooder_info["allocation"]["id"]))
    s.expect(f"{refused:,} rate_limited" in text or f"{refused} rate_limited" in text,
             f"ternctl allocation does not show the {refused} rate_limited drops:\n{text}")

    for v in victims:
        expect_code(s, v.client.refresh(0), None, f"victim {v.tag}: Refresh 0")
        v.client.close()
    expect_code(s, flooder.refresh(0), None, "flooder: Refresh 0")
    flooder.close()
    echo.stats()
    hostile.serves_real_client(s)
    c = hostile.finish(s, baseline)
    s.expect(c.dp("drop_packet_rate_limited") == refused,
             f"drop_packet_rate_limited {c.dp('drop_packet_rate_limited')}, the flooder's own rate_limited {refused}")
    s.expect(c.dp("drop_rate_limited") == 0, f"drop_rate_limited {c.dp('drop_rate_limited')}: max_bps is off")


def ternctl_text(s: Scenario, *args: str) -> str:
    """ternctl ARGS as a person reads it."""
    argv = [str(hostile.ternctl()), "-s", str(s.workdir / "ternd.sock"), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    s.expect(done.returncode == 0, f"ternctl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


CASES = {"flood": case_flood}

if __name__ == "__main__":
    sys.exit(hostile.main(CASES, deadline=150))
