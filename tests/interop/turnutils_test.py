#!/usr/bin/python3
"""coturn's own test clients against the relay: turnutils_stunclient (Binding) and turnutils_uclient with
turnutils_peer in each of uclient's modes.

    TERN_SERVER=coturn /usr/bin/python3 tests/interop/turnutils_test.py channel

uclient's summary must show every message sent and echoed (zero loss at a moderate rate), and a capture on the
client's veth must show that the mode really used the TURN mechanism it names:

  channel         ChannelData (ChannelBind, RFC 8656 §12) and, without uclient's -c, an RTP/RTCP pair of
                  allocations per client: EVEN-PORT then RESERVATION-TOKEN (§7.2), relayed ports p, p+1
  send            Send and Data indications (§10, §11) and no ChannelData
  hairpin         -y: uclients relay to each other's relayed addresses on the same server (client-to-client)
  hairpin-send    -y -s
  rest            TURN REST API credentials (-W northsecret): username "<expiry>:alice", HMAC password
  multihost       three client hosts (10.90.0.10-12) run uclient at the same time, each with zero loss
  badpass         wrong password: every Allocate answered 401, nothing relayed, uclient reports the failure
  rest-badsecret  REST credentials made with the wrong secret: 401, as above
  tcp             -t: TURN over TCP to port 3478, ChannelData (padded to four bytes on the stream, RFC 8656 §12.5)
  tcp-send        -t -s: TURN over TCP, Send and Data indications
  tls             -t -S: TURN over TLS to port 5349, the server's certificate checked against the test CA (-E),
                  ChannelData
  tls-443         -t -S -p 443: the same on the second TLS listener

Over TCP and TLS the capture can only say that no TURN went over UDP; the server says which transport carried the
relayed data: ternd's `ternctl stats` (its TCP and TLS counters: connections, messages relayed and delivered, and
nothing dropped), coturn's log (the session's TCP or TLS socket and the ChannelBinds).
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))

import scenario  # noqa: E402
import servers  # noqa: E402
from scenario import Scenario  # noqa: E402
from stream_checks import coturn_sessions, expect_no_stream_drops, ternd_allocations, ternd_stream_stats  # noqa: E402

PEER_PORT = 3480   # turnutils_peer echoes on this port and the next (uclient's RTCP peer)
CLIENTS = 8        # uclient -m; a multiple of 4, which -y (client pairs, each with an RTCP pair) rounds up to
MESSAGES = 200     # -n, per client
LENGTH = 200       # -l, bytes
UCLIENT_TIMEOUT = 90


def start_peer(s: Scenario) -> None:
    s.procs.start("turnutils_peer", ["turnutils_peer", "-L", s.topo.peer_ip, "-p", str(PEER_PORT)],
                  netns=s.topo.peer)


def uclient_argv(s: Scenario, *flags: str, peer: bool = True, user: str = servers.USER,
                 password: str | None = servers.PASSWORD, secret: str | None = None,
                 clients: int = CLIENTS) -> list[str]:
    argv = ["turnutils_uclient", *flags, "-u", user, "-m", str(clients), "-n", str(MESSAGES), "-l", str(LENGTH)]
    argv += ["-W", secret] if secret else ["-w", password]
    if peer:
        argv += ["-e", s.topo.peer_ip, "-r", str(PEER_PORT)]
    argv.append(s.topo.listen_ip)
    return argv


def uclient(s: Scenario, *flags: str, **options) -> tuple[int | None, str]:
    return s.run_client("turnutils_uclient", uclient_argv(s, *flags, **options), timeout=UCLIENT_TIMEOUT)


def summary(out: str) -> dict:
    """uclient's closing summary: messages and bytes sent/received, lost and dropped packets."""
    found = {}
    patterns = {
        "sent": r"tot_send_msgs=(\d+), tot_recv_msgs=\d+\s*$",
        "received": r"tot_send_msgs=\d+, tot_recv_msgs=(\d+)\s*$",
        "sent_bytes": r"tot_send_bytes ~ (\d+), tot_recv_bytes ~ \d+\s*$",
        "received_bytes": r"tot_send_bytes ~ \d+, tot_recv_bytes ~ (\d+)\s*$",
        "lost": r"Total lost packets (\d+) ",
        "dropped": r"total send dropped (\d+) ",
        "average_rtt_ms": r"Average round trip delay ([\d.]+) ms",
    }
    for key, pattern in patterns.items():
        values = re.findall(pattern, out, re.MULTILINE)
        if values:
            found[key] = float(values[-1]) if "." in values[-1] else int(values[-1])
    return found


def expect_all_echoed(s: Scenario, status: int | None, out: str, clients: int = CLIENTS) -> int:
    s.expect(status == 0, f"turnutils_uclient exited with status {status}:\n{out[-2000:]}")
    got = summary(out)
    s.note(f"uclient summary: {got}")
    total = clients * MESSAGES
    s.expect(got.get("sent") == total, f"uclient sent {got.get('sent')} messages, expected {total}")
    s.expect(got.get("received") == total, f"uclient received {got.get('received')} of {total} messages")
    s.expect(got.get("sent_bytes") == total * LENGTH and got.get("received_bytes") == total * LENGTH,
             f"bytes sent/received {got.get('sent_bytes')}/{got.get('received_bytes')}, expected {total * LENGTH}")
    s.expect(got.get("lost") == 0 and got.get("dropped") == 0,
             f"lost {got.get('lost')}, send dropped {got.get('dropped')}: expected none")
    return total


def expect_relayed_addresses(s: Scenario, relayed: list, rtcp_pairs: bool) -> None:
    s.expect(relayed, "no Allocate success seen on the wire")
    for address in relayed:
        ip, port = (address or ":0").rsplit(":", 1)
        s.expect(ip == s.topo.relay_ip and servers.RELAY_PORT_MIN <= int(port) <= servers.RELAY_PORT_MAX,
                 f"relayed address {address} is not {s.topo.relay_ip}:{servers.RELAY_PORT_MIN}-"
                 f"{servers.RELAY_PORT_MAX}")
    if rtcp_pairs:
        # uclient alternates: an RTP allocation with EVEN-PORT (R bit set), then the RTCP one with the
        # RESERVATION-TOKEN it got back, which must land on the next port.
        ports = [int(a.rsplit(":", 1)[1]) for a in relayed]
        pairs = [(ports[i], ports[i + 1]) for i in range(0, len(ports) - 1, 2)]
        s.expect(pairs and all(rtp % 2 == 0 and rtcp == rtp + 1 for rtp, rtcp in pairs),
                 f"RTP/RTCP relayed ports are not even/next pairs: {pairs}")


def expect_peer_saw(s: Scenario, peer_wires: list, total: int) -> None:
    sent = sum(w.c2s("udp") for w in peer_wires)
    echoed = sum(w.s2c("udp") for w in peer_wires)
    sources = set().union(*(w.counts()["c2s_sources"] for w in peer_wires))
    s.expect(sent == total and echoed == total, f"the peer received {sent} and echoed {echoed}, expected {total}")
    s.expect(sources == {s.topo.relay_ip}, f"the peer was reached from {sources}, not only {s.topo.relay_ip}")


def peer_wires(s: Scenario) -> list:
    return [s.start_peer_wire_count(PEER_PORT), s.start_peer_wire_count(PEER_PORT + 1, name="peer-wire-rtcp")]


def case_binding(s: Scenario) -> None:
    status, out = s.run_client("turnutils_stunclient", ["turnutils_stunclient", "-p", str(s.topo.listen_port),
                                                        s.topo.listen_ip], timeout=30)
    s.expect(status == 0, f"turnutils_stunclient exited with status {status}:\n{out}")
    mapped = re.findall(r"UDP reflexive addr: ([\d.]+):(\d+)", out)
    s.expect(bool(mapped), f"no reflexive address in stunclient's output:\n{out}")
    s.expect(mapped[-1][0] == s.topo.client_ips[0], f"reflexive address {mapped[-1]} is not the client's")


def _relay_via_peer(s: Scenario, *flags: str, secret: str | None = None) -> tuple[dict, int]:
    start_peer(s)
    wire = s.start_wire_count()
    peers = peer_wires(s)
    status, out = uclient(s, *flags, secret=secret)
    total = expect_all_echoed(s, status, out)
    expect_peer_saw(s, peers, total)
    return wire.counts(), total


def case_channel(s: Scenario) -> None:
    wire, total = _relay_via_peer(s)
    expect_channeldata_only(s, wire, total)
    expect_relayed_addresses(s, wire["relayed"], rtcp_pairs=True)


def case_rest(s: Scenario) -> None:
    wire, total = _relay_via_peer(s, secret=servers.REST_SECRET)
    expect_channeldata_only(s, wire, total)
    expect_relayed_addresses(s, wire["relayed"], rtcp_pairs=True)


def case_multihost(s: Scenario) -> None:
    start_peer(s)
    wire = s.start_wire_count()
    peers = peer_wires(s)
    per_host = CLIENTS // 2
    runs = [s.procs.start(f"turnutils_uclient-{ip}", uclient_argv(s, "-L", ip, clients=per_host), netns=s.topo.cli)
            for ip in s.topo.client_ips]
    for proc in runs:
        status = proc.wait(UCLIENT_TIMEOUT)
        if status is None:
            s.procs.stop(proc)
        expect_all_echoed(s, status, proc.output(), clients=per_host)
    total = per_host * MESSAGES * len(runs)
    expect_peer_saw(s, peers, total)
    sources = set(wire.counts()["c2s_sources"])
    s.expect(sources == set(s.topo.client_ips), f"traffic came from {sources}, expected {s.topo.client_ips}")
    expect_channeldata_only(s, wire.counts(), total)
    relayed = wire.counts()["relayed"]
    s.expect(len(set(relayed)) == len(relayed), f"a relayed address was handed out twice: {relayed}")


def case_send(s: Scenario) -> None:
    wire, total = _relay_via_peer(s, "-s")
    expect_indications_only(s, wire, total)
    expect_relayed_addresses(s, wire["relayed"], rtcp_pairs=True)


def expect_channeldata_only(s: Scenario, wire: dict, total: int) -> None:
    c2s, s2c = wire["c2s"], wire["s2c"]
    s.expect(c2s.get("channel-bind request", 0) > 0 and s2c.get("channel-bind success", 0) > 0,
             "no successful ChannelBind on the wire")
    s.expect(c2s.get("channeldata", 0) >= total and s2c.get("channeldata", 0) >= total,
             f"ChannelData client->server {c2s.get('channeldata', 0)}, server->client {s2c.get('channeldata', 0)}, "
             f"expected at least {total} each way")
    s.expect("send indication" not in c2s and "data indication" not in s2c,
             "Send/Data indications seen in ChannelData mode")


def expect_indications_only(s: Scenario, wire: dict, total: int) -> None:
    c2s, s2c = wire["c2s"], wire["s2c"]
    s.expect(c2s.get("send indication", 0) >= total and s2c.get("data indication", 0) >= total,
             f"Send indications {c2s.get('send indication', 0)}, Data indications {s2c.get('data indication', 0)}, "
             f"expected at least {total} each")
    s.expect("channeldata" not in c2s and "channeldata" not in s2c, "ChannelData seen in Send/Data mode")


def _hairpin(s: Scenario, *flags: str) -> tuple[dict, int]:
    # Peers are the other uclients' relayed addresses: nothing may reach the peer network.
    peers = peer_wires(s)
    wire = s.start_wire_count()
    status, out = uclient(s, "-y", *flags, peer=False)
    total = expect_all_echoed(s, status, out)
    stray = sum(w.c2s("udp") + w.s2c("udp") for w in peers)
    s.expect(stray == 0, f"{stray} datagrams of a client-to-client session reached the peer network")
    expect_relayed_addresses(s, wire.counts()["relayed"], rtcp_pairs=True)
    return wire.counts(), total


def case_hairpin(s: Scenario) -> None:
    wire, total = _hairpin(s)
    expect_channeldata_only(s, wire, total)


def case_hairpin_send(s: Scenario) -> None:
    wire, total = _hairpin(s, "-s")
    expect_indications_only(s, wire, total)


def _refused(s: Scenario, **credentials) -> None:
    start_peer(s)
    wire = s.start_wire_count()
    peers = peer_wires(s)
    status, out = uclient(s, **credentials)
    s.expect(status not in (0, None), f"uclient with bad credentials exited with status {status}")
    s.expect("Cannot complete Allocation" in out, f"uclient did not report the failed Allocation:\n{out[-2000:]}")
    s.expect(wire.s2c("allocate error 401") > 0, "no 401 answer to Allocate on the wire")
    s.expect(wire.s2c("allocate success") == 0, "an Allocate succeeded with bad credentials")
    relayed = sum(w.c2s("udp") for w in peers)
    s.expect(relayed == 0, f"{relayed} datagrams relayed to the peer with bad credentials")


def case_badpass(s: Scenario) -> None:
    _refused(s, password="not-wonderland")


def case_rest_badsecret(s: Scenario) -> None:
    _refused(s, secret="southsecret")


def _relay_stream(s: Scenario, transport: str, port: int, *flags: str) -> int:
    """uclient over TCP (-t) or TLS (-t -S, verifying the test CA) to `port`; returns the messages echoed."""
    stream_flags = ["-t", "-p", str(port)]
    if transport == "tls":
        stream_flags += ["-S", "-E", str(s.pki.ca)]
    start_peer(s)
    wire = s.start_wire_count()
    peers = peer_wires(s)
    status, out = uclient(s, *stream_flags, *flags)
    total = expect_all_echoed(s, status, out)
    expect_peer_saw(s, peers, total)
    s.expect(wire.c2s("udp") == 0 and wire.s2c("udp") == 0,
             f"TURN over UDP on the wire ({wire.c2s('udp')} out, {wire.s2c('udp')} in) in a {transport} case")
    expect_stream_transport(s, transport, port, total, channels=("-s" not in flags))
    return total


def expect_stream_transport(s: Scenario, transport: str, port: int, total: int, channels: bool) -> None:
    if s.server_kind == "ternd":
        expect_ternd_streams(s, transport, port, total, channels)
    else:
        expect_coturn_streams(s, transport, port, total, channels)


def expect_ternd_streams(s: Scenario, transport: str, port: int, total: int, channels: bool) -> None:
    """ternd's log: every allocation was made on the `port` listener by a `transport` client; its TCP and TLS
    counters: the connections came in on `transport`, every message was relayed and every echo delivered to them,
    nothing dropped; its data plane's: the mechanism both ways."""
    created = ternd_allocations(s)
    s.expect(created and set(created) == {(f"{s.topo.listen_ip}:{port}", transport)},
             f"ternd's allocations (listener, client transport): {sorted(set(created))}, expected all "
             f"({s.topo.listen_ip}:{port}, {transport})")
    streams, dp, _ = ternd_stream_stats(s)
    other = "tcp" if transport == "tls" else "tls"
    s.expect(streams.get(f"{transport}_accepted", 0) >= 1 and streams.get(f"{other}_accepted", 0) == 0,
             f"{transport}_accepted {streams.get(f'{transport}_accepted')}, {other}_accepted "
             f"{streams.get(f'{other}_accepted')}: uclient's connections did not come in over {transport}")
    if transport == "tls":
        # uclient picks one of its TLS contexts at random for each connection, TLS 1.0 and TLS 1.1 only ones among
        # them; ternd (TLS 1.2 at least) refuses those and uclient connects again. Nothing else may fail.
        handshakes, refused = streams.get("tls_handshakes", 0), streams.get("tls_failed_version_or_cipher", 0)
        s.expect(handshakes >= 1 and handshakes + refused == streams.get("tls_accepted"),
                 f"{handshakes} TLS handshakes and {refused} refused for an old version, of "
                 f"{streams.get('tls_accepted')} connections")
    s.expect(streams.get("relayed", 0) >= total and streams.get("delivered", 0) >= total,
             f"relayed {streams.get('relayed')} and delivered {streams.get('delivered')} over {transport}, "
             f"expected at least {total} each")
    expect_no_stream_drops(s, streams)
    used, unused = ((("channel_data_to_peer", "channel_data_to_client"), ("send_to_peer", "data_indication_to_client"))
                    if channels else
                    (("send_to_peer", "data_indication_to_client"), ("channel_data_to_peer", "channel_data_to_client")))
    s.expect(all(dp.get(k, 0) >= total for k in used) and not any(dp.get(k, 0) for k in unused),
             f"ternd's data plane: { {k: dp.get(k) for k in used + unused} }, expected at least {total} for {used} "
             f"and none for {unused}")


def expect_coturn_streams(s: Scenario, transport: str, port: int, total: int, channels: bool) -> None:
    """coturn's log: every session came in on `port` (ciphered for TLS, not for TCP), together they relayed
    `total` messages to the peer; ChannelBinds only in ChannelData mode."""
    sessions = coturn_sessions(s)
    relaying = {k: v for k, v in sessions.items() if v["peer_sent"]}
    s.note(f"coturn sessions that relayed: {relaying}")
    listener = f"{s.topo.listen_ip}:{port}"
    s.expect(relaying and all(v["local"] == listener for v in relaying.values()),
             f"coturn sessions did not all come in on {listener}: {relaying}")
    ciphered = [k for k, v in relaying.items() if v["cipher"]]
    s.expect(len(ciphered) == (len(relaying) if transport == "tls" else 0),
             f"{len(ciphered)} of {len(relaying)} coturn sessions used TLS, in a {transport} case")
    sent = sum(v["peer_sent"] for v in relaying.values())
    s.expect(sent >= total, f"coturn sent {sent} packets to peers, expected at least {total}")
    binds = s.server.log_path.read_text(errors="replace").count("CHANNEL_BIND processed, success")
    s.expect(bool(binds) == channels,
             f"{binds} ChannelBinds in coturn's log, in {'ChannelData' if channels else 'Send'} mode")


def case_tcp(s: Scenario) -> None:
    _relay_stream(s, "tcp", servers.TCP_PORT)


def case_tcp_send(s: Scenario) -> None:
    _relay_stream(s, "tcp", servers.TCP_PORT, "-s")


def case_tls(s: Scenario) -> None:
    _relay_stream(s, "tls", servers.TLS_PORTS[0])


def case_tls_443(s: Scenario) -> None:
    _relay_stream(s, "tls", servers.TLS_PORTS[1])


CASES = {
    "binding": case_binding,
    "channel": case_channel,
    "send": case_send,
    "hairpin": case_hairpin,
    "hairpin-send": case_hairpin_send,
    "rest": case_rest,
    "multihost": case_multihost,
    "badpass": case_badpass,
    "rest-badsecret": case_rest_badsecret,
    "tcp": case_tcp,
    "tcp-send": case_tcp_send,
    "tls": case_tls,
    "tls-443": case_tls_443,
}
AUTH = {"rest": "rest", "rest-badsecret": "rest"}
CLIENT_HOSTS = {"multihost": 3}
STREAMS = {"tcp", "tcp-send", "tls", "tls-443"}
# turnutils_uclient is an RFC 5766 client: it binds channel numbers anywhere in 0x4000-0x7FFF, which
# RFC 8656 §12 narrowed to 0x4000-0x4FFF. ternd answers such a ChannelBind 400 unless told otherwise.
TERND_SETTINGS = "compat = { rfc5766_channels = true; };\n"

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, auth=AUTH, clients=CLIENT_HOSTS, deadline=180, ternd_settings=TERND_SETTINGS,
                           streams=STREAMS))
