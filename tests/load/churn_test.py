#!/usr/bin/python3
"""Allocation churn against ternd while traffic flows on other allocations.

  churn   for 30 s, 256 client 5-tuples cycle Allocate -> Refresh(LIFETIME 0) (a new cycle started
          CHURN_RATE times a second; every request authenticated), while 8 other allocations relay numbered
          ChannelData to an echo peer at TRAFFIC_RATE datagrams a second and python3-aioice allocates and relays
          half-way through. Proves: the churn is served at its rate with no error and no request abandoned; not
          one datagram of the traffic is lost, duplicated or corrupted; ternd's private resident memory (DPDK's
          reserved region aside) does not grow over the second half of the churn; afterwards every allocation, relay port and table slot is back, and ternd's
          counters account for every frame and request.

    /usr/bin/python3 tests/load/churn_test.py churn
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

import hostile  # noqa: E402
import load  # noqa: E402
from scenario import Scenario  # noqa: E402

CHURN_SECONDS = 30
CHURN_RATE = 1500          # Allocate + Refresh(0) cycles started per second
CHURN_SOCKETS = 256
TRAFFIC_RATE = 400         # ChannelData per second over the traffic allocations
TRAFFIC_ALLOCATIONS = 8
# ternd's private resident memory (all but DPDK's reserved region, see load.memory_kib) grows while the churn fills
# bounded structures for the first time (the transaction cache's 32768 answers take 11 s at 3000 requests a
# second); over the second half (22 500 allocations made and deleted) it must not grow by more than this.
PRIVATE_GROWTH_KIB = 256
RELAY_PORTS = 65535 - 49152 + 1
# Every 5-tuple takes a nonce with its first (unauthenticated) request: the churn's 256 may ask at once.
CONF_EDITS = [("nonce_lifetime = 600;", "nonce_lifetime = 600; unauthenticated_rate = 0;")]


def case_churn(s: Scenario) -> None:
    ips = s.topo.client_ips
    echo = s.start_echo_peer([hostile.ECHO_PORT])
    local = [arg for ip in ips[1:] for arg in ("--local", ip)]
    traffic = load.Generator(s, "traffic", "traffic", "--local", ips[0], "--allocations", str(TRAFFIC_ALLOCATIONS),
                             "--rate", str(TRAFFIC_RATE), "--seconds", str(CHURN_SECONDS + 4),
                             "--peer", f"{s.topo.peer_ip}:{hostile.ECHO_PORT}", ready=True)
    memory = load.MemorySampler(s.server.proc.pid)
    churn = load.Generator(s, "churn", "churn", *local, "--rate", str(CHURN_RATE), "--seconds", str(CHURN_SECONDS),
                           "--sockets", str(CHURN_SOCKETS))
    time.sleep(CHURN_SECONDS / 2)
    hostile.serves_real_client(s, echo)  # a real client in the middle of the churn
    churned = churn.result(timeout=CHURN_SECONDS + 30)
    flowed = traffic.result(timeout=30)
    samples = memory.stop()
    echo.stats()

    s.expect(churned["cycles_per_second"] >= 0.9 * CHURN_RATE,
             f"{churned['cycles_per_second']:.0f} Allocate/Refresh cycles per second, expected {CHURN_RATE}")
    s.expect(not churned["errors"] and churned["abandoned"] == 0 and churned["in_flight_at_end"] == 0,
             f"churn errors {churned['errors']}, {churned['abandoned']} abandoned, {churned['in_flight_at_end']} "
             f"left in flight")
    s.expect(churned["allocated"] == churned["deleted"] == churned["cycles"],
             f"{churned['allocated']} allocated, {churned['deleted']} deleted, {churned['cycles']} cycles")
    s.expect(flowed["sent"] >= TRAFFIC_RATE * CHURN_SECONDS and flowed["missing"] == 0 and
             flowed["duplicates"] == 0 and flowed["corrupt"] == 0,
             f"traffic during the churn: {flowed}")

    first, half, last = samples[0], samples[len(samples) // 2], samples[-1]
    s.note(f"ternd resident memory (KiB), start / half-way / end: private {first['private']} / {half['private']} / "
           f"{last['private']}, DPDK's reserved region {first['dpdk']} / {half['dpdk']} / {last['dpdk']}")
    s.expect(last["private"] - half["private"] <= PRIVATE_GROWTH_KIB,
             f"ternd's private resident memory grew by {last['private'] - half['private']} KiB over the second half "
             f"of the churn")

    time.sleep(2.5)  # the control plane's upkeep returns ports and slots once the workers' grace period ends
    c = hostile.stop_ternd(s)
    s.expect(c.ctl("allocations_created") >= churned["allocated"] + TRAFFIC_ALLOCATIONS,
             f"allocations_created {c.ctl('allocations_created')}, the churn alone made {churned['allocated']}")
    s.expect(c.ctl("allocations_live") == 0 and
             c.ctl("allocations_created") == c.ctl("allocations_deleted") + c.ctl("allocations_expired"),
             f"allocations created {c.ctl('allocations_created')}, deleted {c.ctl('allocations_deleted')}, "
             f"expired {c.ctl('allocations_expired')}, live {c.ctl('allocations_live')}")
    s.expect(c.ctl("relay_ports_free") == RELAY_PORTS and c.ctl("slots_awaiting_reclaim") == 0,
             f"relay_ports_free {c.ctl('relay_ports_free')} of {RELAY_PORTS}, slots_awaiting_reclaim "
             f"{c.ctl('slots_awaiting_reclaim')}")
    s.expect(c.ctl("table_write_failures") == 0, f"table_write_failures {c.ctl('table_write_failures')}")
    hostile.check_accounted(s, c)


CASES = {"churn": case_churn}

if __name__ == "__main__":
    sys.exit(hostile.main(CASES, conf_edits={"churn": CONF_EDITS}, clients={"churn": 4}, deadline=150))
