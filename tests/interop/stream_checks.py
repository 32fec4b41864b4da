"""What the TCP and TLS interop cases check of the server, whichever client drove it: the listener and client
transport of each allocation ternd made, its stream transport's counters (the connections came in over the
transport the case names, nothing dropped), and coturn's sessions from its log."""

import re

import ops
from scenario import Scenario

# The stream transport's counters that mean a client's data or request was lost.
STREAM_DROPS = ("no_allocation", "datagram_too_big", "relay_dropped", "delivery_backpressure",
                "delivery_no_connection", "not_turn", "message_too_big", "requests_refused")


def ternd_allocations(s: Scenario) -> list:
    """(listener, client transport) of each allocation ternd logged as created."""
    return re.findall(r"event=allocation_created .*?server=(\S+) .*?client_transport=(\w+)",
                      s.server.log_path.read_text(errors="replace"))


def ternd_stream_stats(s: Scenario) -> tuple[dict, dict, dict]:
    """ternd's stream transport, data plane and control plane counters (`ternctl stats`), the first noted."""
    stats = ops.ternctl_json(s, "stats")
    streams = stats["streams"]
    s.note(f"ternd streams: { {k: v for k, v in streams.items() if v} }")
    return streams, stats["dataplane"], stats["control_plane"]


def expect_accepted(s: Scenario, streams: dict, transport: str, connections: int) -> None:
    """Exactly `connections` connections over `transport` and none over the other; over TLS, each handshake done."""
    other = "tcp" if transport == "tls" else "tls"
    s.expect(streams.get(f"{transport}_accepted") == connections and not streams.get(f"{other}_accepted"),
             f"{transport}_accepted {streams.get(f'{transport}_accepted')}, {other}_accepted "
             f"{streams.get(f'{other}_accepted')}: expected the clients' {connections} {transport} connections")
    if transport == "tls":
        s.expect(streams.get("tls_handshakes") == connections,
                 f"{streams.get('tls_handshakes')} TLS handshakes, expected {connections}")


def expect_no_stream_drops(s: Scenario, streams: dict) -> None:
    dropped = {k: v for k, v in streams.items() if v and k in STREAM_DROPS}
    s.expect(not dropped, f"ternd dropped stream traffic: {dropped}")


def coturn_sessions(s: Scenario) -> dict:
    """coturn's log, per session: the listener it came in on ("local"), its TLS cipher if any, and how many packets
    it sent to peers. coturn's threads sometimes splice one log line into another: every match is searched for in
    the whole text, not line by line."""
    log = s.server.log_path.read_text(errors="replace")
    sessions: dict = {}

    def session(sid: str) -> dict:
        return sessions.setdefault(sid, {"local": None, "cipher": None, "peer_sent": 0})

    for m in re.finditer(r"session (\d+): closed \(2nd stage\)[^\n]*? local ([\d.]+:\d+),", log):
        session(m[1])["local"] = m[2]
    for m in re.finditer(r"session (\d+): new, [^\n]*?cipher=([^,\n]+)", log):
        session(m[1])["cipher"] = m[2]
    for m in re.finditer(r"session (\d+): peer usage: [^\n]*? sp=(\d+),", log):
        session(m[1])["peer_sent"] = int(m[2])  # logged more than once: the last word counts
    return sessions
