#!/usr/bin/python3
"""The test network with a server in it: addresses where they belong, the server answering ARP, ICMP echo and STUN
Binding on both of its addresses, and no path between clients and peers except through the relay.

    TERN_SERVER=coturn /usr/bin/python3 tests/integration/network_test.py reachability
"""

import json
import sys
from pathlib import Path

import scenario
from scenario import Scenario

NETCHECK = Path(__file__).resolve().parent / "netcheck.py"


def netcheck(s: Scenario, netns: str, *args: str) -> dict:
    status, out = s.run_client("netcheck-" + args[0], s.python(NETCHECK, *args), timeout=30, netns=netns)
    lines = out.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"ok": False, "error": "no output"}
    s.note(f"{netns}: netcheck {' '.join(args)} -> {result}")
    s.expect(status == 0 and result["ok"], f"netcheck {' '.join(args)} from {netns} failed: {result}")
    return result


def case_reachability(s: Scenario) -> None:
    t = s.topo
    # Addresses: in dpdk mode the server's veth ends are bare (ternd owns the addresses); nowhere is there IPv6.
    expected = {
        (t.cli, t.cli_if): [f"{ip}/24" for ip in t.client_ips],
        (t.peer, t.peer_if): [f"{t.peer_ip}/24"],
        (t.srv, t.srv_client_if): [f"{t.listen_ip}/24"] if t.mode == "kernel" else [],
        (t.srv, t.srv_peer_if): [f"{t.relay_ip}/24"] if t.mode == "kernel" else [],
    }
    for (netns, ifname), want in expected.items():
        have = t.addresses(netns, ifname)
        s.expect(have == want, f"{netns}/{ifname} has addresses {have}, expected {want}")

    # ARP + ICMP echo answered by the server on each side.
    netcheck(s, t.cli, "ping", t.listen_ip, "--count", "3")
    netcheck(s, t.peer, "ping", t.relay_ip, "--count", "3")
    # STUN Binding: XOR-MAPPED-ADDRESS is the client's own address and port (no NAT in between).
    result = netcheck(s, t.cli, "stun", t.listen_ip, str(t.listen_port))
    s.expect(result["mapped"][0] == t.client_ips[0], f"mapped address {result['mapped']} is not the client's")
    # Clients and peers see each other only through the relay.
    netcheck(s, t.cli, "unreachable", t.peer_ip)
    netcheck(s, t.peer, "unreachable", t.client_ips[0])


if __name__ == "__main__":
    sys.exit(scenario.main({"reachability": case_reachability}, deadline=120))
