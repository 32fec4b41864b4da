#!/usr/bin/python3
"""A valid credential used to abuse the control plane: each of the `limits` group's control-plane limits refuses at
its configured value, on the wire, and is counted by limit (`ternctl allocation ID`, the counters, the metrics).

  new-peers     limits.new_peers_per_second = 4, new_peers_burst = 8: a CreatePermission of 8 new peers passes,
                one of 9 gets 508 and installs none of them (all or nothing, RFC 8656 §10.2), refreshing the 8
                costs nothing; ChannelBinds to new addresses empty the bucket and then get 508, one to a known
                address passes; single new peers every 50 ms for 3 s pass at 4 a second and no faster
  caps          limits.permissions_per_allocation = 6, channels_per_allocation = 3: the seventh permission (alone,
                in a request with refreshes, or by ChannelBind) and the fourth channel get 508 and change nothing;
                refreshes of what the allocation holds still pass
  per-address   limits.allocations_per_address = 3 with the second client address exempt: the first address's
                fourth Allocate gets 486 (RFC 8656 §7.2), the exempt address allocates 5, and a deleted allocation
                makes room again
  reload        the caps lowered by `ternctl reload` below what a live allocation holds: its next new permission
                and channel get 508 and a second Allocate from its address 486, while what it holds stays and
                refreshes; raised again, the same requests pass

    /usr/bin/python3 tests/hostile/limits_test.py new-peers
"""

import re
import sys
import time
from pathlib import Path

import hostile
import stun_codec as stun
from hostile import TurnClient, expect_code
from scenario import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "operator"))
import ops  # noqa: E402
from topology import CLIENT_IP_BASE  # noqa: E402

PEER_PORT = 7000
LIMITS = ("new_peers_per_second", "permissions_per_allocation", "channels_per_allocation",
          "allocations_per_address", "user_quota", "total_quota")
EXEMPT_IP = f"10.90.0.{CLIENT_IP_BASE + 1}"  # the scenario's second client address


def peers(first: int, count: int, net: str = "198.51.100") -> list[tuple[str, int]]:
    """Peer addresses the peer policy permits (TEST-NET, never sent to: permissions only)."""
    return [(f"{net}.{i}", PEER_PORT) for i in range(first, first + count)]


def code(reply: stun.Message | None) -> int | None:
    """0 for a success, the error code of an error, None for no answer."""
    if reply is None:
        return None
    return 0 if reply.cls == stun.SUCCESS else reply.error_code()


def allocation_of(s: Scenario, client: TurnClient) -> dict:
    """`ternctl --json allocation ID` of the client's allocation."""
    ip, port = client.address
    found = hostile.ternctl_json(s, "allocations", "--client", f"{ip}:{port}")["allocations"]
    s.expect(len(found) == 1, f"ternctl allocations --client {ip}:{port}: {found}")
    return hostile.ternctl_json(s, "allocation", str(found[0]["id"]))


def check_refused(s: Scenario, client: TurnClient, expected: dict[str, int]) -> dict:
    """The allocation's `refused` is `expected` (limits not named: 0), and ternctl's table says so too."""
    detail = allocation_of(s, client)
    want = {name: expected.get(name, 0) for name in ("new_peers_per_second", "permissions_per_allocation",
                                                       "channels_per_allocation")}
    s.expect(detail["refused"] == want, f"ternctl allocation: refused {detail['refused']}, expected {want}")
    status, text = ops.ternctl(s, "allocation", str(detail["allocation"]["id"]))
    line = next((l for l in text.splitlines() if l.startswith("refused")), "")
    for name, n in want.items():
        s.expect((f"{n} {name}" in line) == (n > 0), f"ternctl allocation's table, {name} {n}: {line!r}")
    return detail


def check_counted(s: Scenario, baseline: hostile.Counters, expected: dict[str, int]) -> None:
    """Live: the refusal counters moved by `expected` (every other limit's by nothing), in `ternctl stats` and in
    the metrics (tern_limit_refusals_total{reason})."""
    now = hostile.stats(s)
    got = {name: now.ctl(f"limit_{name}") - baseline.ctl(f"limit_{name}") for name in LIMITS}
    want = {name: expected.get(name, 0) for name in LIMITS}
    s.expect(got == want, f"limit refusals counted {got}, expected {want}")
    status, _, body = ops.scrape(s)
    s.expect(status == 200, f"GET /metrics: {status}")
    for name in LIMITS:
        m = re.search(rf'^tern_limit_refusals_total{{reason="{name}"}} (\d+)$', body, re.M)
        s.expect(m is not None and int(m.group(1)) == now.ctl(f"limit_{name}"),
                 f"tern_limit_refusals_total{{reason=\"{name}\"}}: {m and m.group(0)}, ternctl stats "
                 f"{now.ctl(f'limit_{name}')}")


def finish(s: Scenario, baseline: hostile.Counters, clients: list[TurnClient], expected: dict[str, int],
           responses_508: int, responses_486: int) -> None:
    """Deletes the case's allocations, proves a real client is served, stops ternd and checks its final counts."""
    for c in clients:
        if c.relayed is not None:
            expect_code(s, c.refresh(0), None, "Refresh 0")
        c.close()
    hostile.serves_real_client(s)
    c = hostile.finish(s, baseline)
    for name in LIMITS:
        got = c.ctl(f"limit_{name}") - baseline.ctl(f"limit_{name}")
        s.expect(got == expected.get(name, 0), f"limit_{name} {got}, expected {expected.get(name, 0)}")
    s.expect(c.ctl("responses_508") - baseline.ctl("responses_508") == responses_508,
             f"responses_508 {c.ctl('responses_508')}, expected {responses_508}")
    s.expect(c.ctl("responses_486") - baseline.ctl("responses_486") == responses_486,
             f"responses_486 {c.ctl('responses_486')}, expected {responses_486}")


# ---- cases -----------------------------------------------------------------------------------------------------

def case_new_peers(s: Scenario) -> None:
    baseline = hostile.stats(s)
    client = TurnClient(s)
    expect_code(s, client.allocate(), None, "Allocate")
    refused = 0

    # The burst: 8 new peers at once. 9 never fit a bucket of 8, whatever the clock says: refused whole.
    expect_code(s, client.create_permission(*peers(1, 8)), None, "CreatePermission of 8 new peers (the burst)")
    expect_code(s, client.create_permission(*peers(101, 9)), 508, "CreatePermission of 9 new peers")
    refused += 1
    held = {p["peer"] for p in allocation_of(s, client)["permission_list"]}
    s.expect(held == {ip for ip, _ in peers(1, 8)}, f"after the refused request the allocation holds {sorted(held)}")
    expect_code(s, client.create_permission(*peers(1, 8)), None, "CreatePermission refreshing the 8")

    # ChannelBinds to new addresses take tokens too: they empty the bucket (whatever a second put back) and the
    # first one refused installs nothing. A ChannelBind to an address the allocation has takes none.
    n = 0
    while (got := code(client.channel_bind(0x4000 + n, (f"203.0.113.{n + 1}", PEER_PORT)))) == 0:
        n += 1
        s.expect(n < 30, "the bucket never emptied")
    s.expect(got == 508, f"ChannelBind to a new address on an empty bucket: answered {got}, expected 508")
    refused += 1
    s.expect(f"203.0.113.{n + 1}" not in {p["peer"] for p in allocation_of(s, client)["permission_list"]},
             "the refused ChannelBind installed a permission")
    expect_code(s, client.channel_bind(0x4000 + n, peers(1, 1)[0]), None, "ChannelBind to a permitted address")

    # One new peer every 50 ms for 3 s.
    window, passed, answers = 3.0, 0, 0
    start = time.monotonic()
    peer = 1
    while time.monotonic() - start < window:
        got = code(client.create_permission((f"192.0.2.{peer + 1}", PEER_PORT)))
        s.expect(got in (0, 508), f"a single new peer: answered {got}")
        answers += 1
        if got == 0:
            passed += 1
            peer += 1
        time.sleep(0.05)
    refused += answers - passed
    # Whole seconds: 3 s cross 3 or 4 refills of 4 tokens; the last may come too late to be spent.
    s.note(f"new peers at 4 a second: {passed} of {answers} passed in {window} s")
    s.expect(8 <= passed <= 16, f"{passed} new peers passed in {window} s at 4 a second (expected 8-16)")

    check_refused(s, client, {"new_peers_per_second": refused})
    check_counted(s, baseline, {"new_peers_per_second": refused})
    finish(s, baseline, [client], {"new_peers_per_second": refused}, responses_508=refused, responses_486=0)


def case_caps(s: Scenario) -> None:
    baseline = hostile.stats(s)
    client = TurnClient(s)
    expect_code(s, client.allocate(), None, "Allocate")
    expect_code(s, client.create_permission(*peers(1, 5)), None, "CreatePermission of 5")
    expect_code(s, client.create_permission(*peers(5, 3)), 508, "CreatePermission of 1 known and 2 new, one too many")
    expect_code(s, client.create_permission(*peers(5, 2)), None, "CreatePermission of 1 known and the sixth")
    expect_code(s, client.create_permission(*peers(7, 1)), 508, "CreatePermission of a seventh")
    expect_code(s, client.channel_bind(0x4000, peers(8, 1)[0]), 508, "ChannelBind to a seventh address")
    held = {p["peer"] for p in allocation_of(s, client)["permission_list"]}
    s.expect(held == {ip for ip, _ in peers(1, 6)}, f"the allocation holds {sorted(held)}, expected the first 6")
    expect_code(s, client.create_permission(*peers(1, 6)), None, "CreatePermission refreshing the 6")

    for number in range(3):
        expect_code(s, client.channel_bind(0x4000 + number, peers(1 + number, 1)[0]), None, f"ChannelBind {number}")
    expect_code(s, client.channel_bind(0x4003, peers(4, 1)[0]), 508, "a fourth ChannelBind")
    expect_code(s, client.channel_bind(0x4002, peers(3, 1)[0]), None, "ChannelBind refreshing the third")
    detail = check_refused(s, client, {"permissions_per_allocation": 3, "channels_per_allocation": 1})
    s.expect(len(detail["channel_list"]) == 3, f"channels: {detail['channel_list']}")
    expected = {"permissions_per_allocation": 3, "channels_per_allocation": 1}
    check_counted(s, baseline, expected)
    finish(s, baseline, [client], expected, responses_508=4, responses_486=0)


def case_per_address(s: Scenario) -> None:
    baseline = hostile.stats(s)
    first, exempt = s.topo.client_ips[0], s.topo.client_ips[1]
    s.expect(exempt == EXEMPT_IP, f"the second client address is {exempt}, the configuration exempts {EXEMPT_IP}")
    mine = [TurnClient(s, first) for _ in range(4)]
    for i, c in enumerate(mine[:3]):
        expect_code(s, c.allocate(), None, f"Allocate {i + 1} from {first}")
    expect_code(s, mine[3].allocate(), 486, f"a fourth Allocate from {first}")
    others = [TurnClient(s, exempt) for _ in range(5)]
    for i, c in enumerate(others):
        expect_code(s, c.allocate(), None, f"Allocate {i + 1} from the exempt {exempt}")
    expect_code(s, mine[0].refresh(0), None, "Refresh 0")
    mine[0].relayed = None
    expect_code(s, mine[3].allocate(), None, f"the fourth Allocate from {first}, after one was deleted")
    live = hostile.ternctl_json(s, "allocations", "--client", first)
    s.expect(len(live["allocations"]) == 3, f"{len(live['allocations'])} allocations from {first}, expected 3")
    check_counted(s, baseline, {"allocations_per_address": 1})
    finish(s, baseline, mine + others, {"allocations_per_address": 1}, responses_508=0, responses_486=1)


def reload(s: Scenario, limits: str) -> dict:
    """Rewrites the limits group of ternd's file and reloads; the reply."""
    conf = s.workdir / "ternd.conf"
    text, n = re.subn(r"^limits = \{.*\};$", limits, conf.read_text(), flags=re.M)
    s.expect(n == 1, "the test could not find ternd's limits line")
    conf.write_text(text)
    return hostile.ternctl_json(s, "reload")


def case_reload(s: Scenario) -> None:
    baseline = hostile.stats(s)
    client = TurnClient(s)
    expect_code(s, client.allocate(), None, "Allocate")
    expect_code(s, client.create_permission(*peers(1, 6)), None, "CreatePermission of 6")
    for number in range(3):
        expect_code(s, client.channel_bind(0x4000 + number, peers(1 + number, 1)[0]), None, f"ChannelBind {number}")

    reply = reload(s, "limits = { new_peers_per_second = 0; permissions_per_allocation = 4; "
                      "channels_per_allocation = 2; allocations_per_address = 1; };")
    s.note(f"reload: applied {reply['applied']}")
    s.expect({"limits.permissions_per_allocation", "limits.channels_per_allocation",
              "limits.allocations_per_address"} <= set(reply["applied"]) and not reply["not_applied"],
             f"reload: {reply}")
    # What the allocation holds above the new caps stays and refreshes; nothing new goes beyond them.
    expect_code(s, client.create_permission(*peers(1, 6)), None, "refreshing 6 permissions above a cap of 4")
    expect_code(s, client.channel_bind(0x4002, peers(3, 1)[0]), None, "refreshing a third channel above a cap of 2")
    expect_code(s, client.create_permission(*peers(7, 1)), 508, "a new permission above the lowered cap")
    expect_code(s, client.channel_bind(0x4003, peers(4, 1)[0]), 508, "a new channel above the lowered cap")
    second = TurnClient(s)
    expect_code(s, second.allocate(), 486, "a second Allocate from the address after the cap went to 1")
    detail = check_refused(s, client, {"permissions_per_allocation": 1, "channels_per_allocation": 1})
    s.expect(len(detail["permission_list"]) == 6 and len(detail["channel_list"]) == 3,
             f"the allocation no longer holds what it had: {detail['permission_list']}, {detail['channel_list']}")

    reply = reload(s, "limits = { new_peers_per_second = 0; permissions_per_allocation = 16; "
                      "channels_per_allocation = 8; allocations_per_address = 2; };")
    s.expect(not reply["not_applied"], f"reload: {reply}")
    expect_code(s, client.create_permission(*peers(7, 1)), None, "the same new permission under the raised cap")
    expect_code(s, client.channel_bind(0x4003, peers(4, 1)[0]), None, "the same new channel under the raised cap")
    expect_code(s, second.allocate(), None, "the second Allocate under the raised cap")
    expected = {"permissions_per_allocation": 1, "channels_per_allocation": 1, "allocations_per_address": 1}
    check_counted(s, baseline, expected)
    finish(s, baseline, [client, second], expected, responses_508=2, responses_486=1)


CASES = {"new-peers": case_new_peers, "caps": case_caps, "per-address": case_per_address, "reload": case_reload}
SETTINGS = {
    "new-peers": "limits = { new_peers_per_second = 4; new_peers_burst = 8; };\n",
    "caps": "limits = { new_peers_per_second = 0; permissions_per_allocation = 6; channels_per_allocation = 3; };\n",
    "per-address": f'limits = {{ allocations_per_address = 3; allocations_per_address_exempt = [ "{EXEMPT_IP}/32" ]; }};\n',
    "reload": "limits = { new_peers_per_second = 0; permissions_per_allocation = 8; channels_per_allocation = 8; "
              "allocations_per_address = 4; };\n",
}

if __name__ == "__main__":
    sys.exit(hostile.main(CASES, clients={"per-address": 2}, ternd_settings=SETTINGS, deadline=150))
