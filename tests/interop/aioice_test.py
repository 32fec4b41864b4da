#!/usr/bin/python3
"""python3-aioice's TURN client against the relay, with a UDP echo peer in the peer namespace.

    TERN_SERVER=coturn /usr/bin/python3 tests/interop/aioice_test.py relay

  relay          static credentials: allocate, ChannelBind per peer port, ChannelData both ways, every echo intact,
                 the peer reached only from the relayed address, then the allocation deleted (Refresh 0)
  relay-rest     the same with TURN REST API credentials
  badpass        wrong password: Allocate ends in 401
  rest-expired   REST credentials whose timestamp has passed: 401
  relay-ipv6     relay, with the client speaking to the listener over IPv6 ([2001:db8:90::1]:3478); the relayed
                 address is IPv4 (no REQUESTED-ADDRESS-FAMILY: RFC 8656 §7.2's default), so are the peers
  relay-ipv6-peers  the client over IPv6 asks for an IPv6 relayed address (REQUESTED-ADDRESS-FAMILY) and relays to
                 the echo peer's IPv6 address, 2001:db8:91::20
  forbidden      ChannelBind / CreatePermission towards peers the policy denies (10.92.0.20: private, outside the
                 allowed test subnets; 127.0.0.1: loopback) answered 403 (RFC 8656 §9.1, §11.2), while the
                 same allocation still relays to the allowed echo peer
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import scenario  # noqa: E402
import servers  # noqa: E402
from scenario import Scenario  # noqa: E402

CLIENT = Path(__file__).resolve().parent / "aioice_client.py"
ECHO_PORTS = [7000, 7001]
DENIED_PEERS = ["10.92.0.20:7000", "127.0.0.1:7000"]


def run(s: Scenario, case: str, username: str, password: str, peers: bool = True, denied: bool = False,
        server_ip: str | None = None, peer_ip: str | None = None, family: int = 4) -> dict:
    argv = s.python(CLIENT, case, "--server", f"{server_ip or s.topo.listen_ip}:{s.topo.listen_port}",
                    "--user", username, "--password", password, "--family", str(family))
    if peers:
        for port in ECHO_PORTS:
            argv += ["--peer", f"{peer_ip or s.topo.peer_ip}:{port}"]
    if denied:
        for peer in DENIED_PEERS:
            argv += ["--denied", peer]
    status, out = s.run_client("aioice-client", argv, timeout=90)
    s.expect(status == 0, f"aioice client exited with status {status}:\n{out[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    s.note(f"aioice client: {result}")
    s.expect("exception" not in result or case == "refused", f"aioice client raised {result.get('exception')}")
    return result


def expect_echoed(s: Scenario, result: dict, echo, relay_ip: str) -> None:
    ip, port = result["relayed"][:2]
    s.expect(ip == relay_ip and servers.RELAY_PORT_MIN <= port <= servers.RELAY_PORT_MAX,
             f"relayed address {ip}:{port} is not on {relay_ip}:{servers.RELAY_PORT_MIN}-{servers.RELAY_PORT_MAX}")
    s.expect(result["sent"] > 0 and result["echoed_intact"] == result["sent"] and result["unexpected"] == 0,
             f"sent {result['sent']}, echoed intact {result['echoed_intact']}, unexpected {result['unexpected']}")
    sources = echo.sources()
    s.expect(sources == {relay_ip}, f"the echo peer was reached from {sources}, not only the relay")


def expect_relayed(s: Scenario, result: dict, echo, wire) -> None:
    expect_echoed(s, result, echo, s.topo.relay_ip)
    s.expect(wire.c2s("channel-bind request") >= len(ECHO_PORTS) and wire.s2c("channel-bind success") >= len(ECHO_PORTS),
             "no ChannelBind per peer address on the wire")
    s.expect(wire.c2s("channeldata") >= result["sent"] and wire.s2c("channeldata") >= result["sent"],
             f"ChannelData on the wire {wire.c2s('channeldata')} out / {wire.s2c('channeldata')} in, fewer than "
             f"the {result['sent']} datagrams")
    s.expect(wire.c2s("send indication") == 0, "aioice is expected to use channels, not Send indications")


def _relay(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    username, password = s.credentials()
    result = run(s, "relay", username, password)
    expect_relayed(s, result, echo, wire)
    s.expect(wire.c2s("refresh request") >= 1 and wire.s2c("refresh success") >= 1,
             "the allocation was not deleted with a successful Refresh")


def case_relay(s: Scenario) -> None:
    _relay(s)


def case_relay_rest(s: Scenario) -> None:
    _relay(s)


# IPv6: wire_count.py reads IPv4 only, so these cases judge by what the client and the echo peer saw.
def case_relay_ipv6(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    result = run(s, "relay", *s.credentials(), server_ip=s.topo.listen_ip6)
    expect_echoed(s, result, echo, s.topo.relay_ip)


def case_relay_ipv6_peers(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS, ip=s.topo.peer_ip6)
    result = run(s, "relay", *s.credentials(), server_ip=s.topo.listen_ip6, peer_ip=s.topo.peer_ip6, family=6)
    expect_echoed(s, result, echo, s.topo.relay_ip6)


def _refused(s: Scenario, username: str, password: str) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    result = run(s, "refused", username, password)
    s.expect(result.get("allocated") is False, f"the allocation succeeded: {result}")
    s.expect(result.get("error_code") == 401, f"Allocate failed with {result.get('error_code')}, expected 401")
    s.expect(wire.s2c("allocate success") == 0, "an Allocate success went on the wire")
    s.expect(not echo.stats()["datagrams"], "something reached the echo peer")


def case_badpass(s: Scenario) -> None:
    _refused(s, servers.USER, "not-wonderland")


def case_rest_expired(s: Scenario) -> None:
    _refused(s, *scenario.rest_credentials(ttl=-60))


def case_forbidden(s: Scenario) -> None:
    echo = s.start_echo_peer(ECHO_PORTS)
    wire = s.start_wire_count()
    username, password = s.credentials()
    result = run(s, "forbidden", username, password, denied=True)
    for peer in DENIED_PEERS:
        codes = result["refusals"].get(peer, {})
        s.expect(codes == {"channel-bind": 403, "create-permission": 403},
                 f"towards denied peer {peer}: {codes}, expected 403 for ChannelBind and CreatePermission")
    s.expect(wire.s2c("channel-bind error 403") >= len(DENIED_PEERS), "no 403 for ChannelBind on the wire")
    expect_relayed(s, result, echo, wire)


CASES = {
    "relay": case_relay,
    "relay-rest": case_relay_rest,
    "badpass": case_badpass,
    "rest-expired": case_rest_expired,
    "forbidden": case_forbidden,
    "relay-ipv6": case_relay_ipv6,
    "relay-ipv6-peers": case_relay_ipv6_peers,
}
AUTH = {"relay-rest": "rest", "rest-expired": "rest"}
IPV6 = {"relay-ipv6", "relay-ipv6-peers"}

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, auth=AUTH, deadline=150, ipv6=IPV6))
