#!/usr/bin/python3
"""The PROXY protocol (v1 and v2) on ternd's TCP listener, with Debian's haproxy as the load balancer in between.

    /usr/bin/python3 tests/integration/proxy_protocol_test.py proxy-v2

  proxy-v1  haproxy `send-proxy`     (the text header: "PROXY TCP4 ...")
  proxy-v2  haproxy `send-proxy-v2`  (the binary header)

The client namespace carries two addresses: the TURN client's (10.90.0.10) and haproxy's (10.90.0.11, the only
prefix in ternd's proxy_protocol.from). haproxy listens on 10.90.0.11:3478 in TCP mode and connects to ternd's TCP
listener 10.90.0.1:3478 from 10.90.0.11 with the header. Each case checks:

  - the wire: the first bytes haproxy writes on each connection to ternd are that case's PROXY header (a capture
    on the client namespace's veth);
  - a python3-aioice TURN client over TCP through haproxy: a STUN Binding and its Allocate are answered with the
    client's own address and port as XOR-MAPPED-ADDRESS (not haproxy's); ChannelData to the echo peer in the
    peer namespace comes back intact, and the peer sees only the relayed address; `ternctl allocations --json`
    and ternd's log show the allocation's client as 10.90.0.10:<its port> and its server as the address the
    client connected to (haproxy's 10.90.0.11:3478, the header's destination), client transport tcp;
  - refusals, each counted in `ternctl --json stats` (the stream transport's counters): a connection from
    haproxy's address that sends a STUN Binding without a header is closed unanswered (proxy_invalid); one from
    there that sends nothing is closed after proxy_protocol.header_timeout (proxy_timeout); one from the client's
    address (outside proxy_protocol.from) carrying a forged header is reset at once (proxy_refused_source).

The PROXY listener is ternd's feature: the case runs against ternd whatever TERN_SERVER says (coturn has none).

The same file is the helpers run inside the namespaces: `client` (the TURN client), `probe` (a raw TCP
connection), `sniff` (the capture); see their argument parsers.
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "operator"))

HAPROXY_PORT = 3478
HEADER_TIMEOUT = 2  # proxy_protocol.header_timeout (s)
PEER_PORT = 7000
V1_SIGNATURE = b"PROXY TCP4 "
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
MAGIC_COOKIE = 0x2112A442


# -- helpers run inside the namespaces -----------------------------------------------------------------------------
def _address(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


def client_main(argv: list[str]) -> int:
    """A TURN client over TCP (python3-aioice) bound to --bind: a Binding, then an Allocate, ChannelData to the
    echo peer; writes its report to --result, holds the allocation until --release exists, then deletes it."""
    import asyncio

    from aioice import stun
    from aioice.turn import UDP_TRANSPORT, TurnClientTcpProtocol

    parser = argparse.ArgumentParser(prog="proxy_protocol_test.py client")
    parser.add_argument("--server", type=_address, required=True, help="where to connect: haproxy")
    parser.add_argument("--bind", required=True, help="the client's own address")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--peer", type=_address, required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--release", required=True)
    args = parser.parse_args(argv)

    lost = asyncio.Event()

    class Client(TurnClientTcpProtocol):
        mapped = None

        def connection_lost(self, exc) -> None:
            lost.set()
            super().connection_lost(exc)

        async def connect(self):  # aioice's, keeping the Allocate answer's XOR-MAPPED-ADDRESS too
            request = stun.Message(message_method=stun.Method.ALLOCATE, message_class=stun.Class.REQUEST)
            request.attributes["LIFETIME"] = self.lifetime
            request.attributes["REQUESTED-TRANSPORT"] = UDP_TRANSPORT
            response, _ = await self.request_with_retry(request)
            self.mapped = response.attributes.get("XOR-MAPPED-ADDRESS")
            self.relayed_address = response.attributes["XOR-RELAYED-ADDRESS"]
            return self.relayed_address

    class Echoes:
        def __init__(self) -> None:
            self.received: list[tuple[bytes, tuple]] = []

        def datagram_received(self, data: bytes, addr) -> None:
            self.received.append((data, tuple(addr)))

        def connection_lost(self, exc) -> None:
            pass

    async def unless_lost(coroutine):
        """The coroutine's result, or ConnectionError as soon as the server closes the connection (aioice would
        retransmit into it until its transaction timed out)."""
        work, closed = asyncio.ensure_future(coroutine), asyncio.ensure_future(lost.wait())
        await asyncio.wait({work, closed}, return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        if work.done():
            return work.result()
        work.cancel()
        raise ConnectionError("the connection through haproxy was closed")

    async def run() -> dict:
        loop = asyncio.get_running_loop()
        transport, turn = await loop.create_connection(
            lambda: Client(args.server, username=args.user, password=args.password, lifetime=600,
                           channel_refresh_time=500),
            host=args.server[0], port=args.server[1], local_addr=(args.bind, 0))
        local = transport.get_extra_info("sockname")[:2]
        binding, _ = await unless_lost(turn.request(stun.Message(message_method=stun.Method.BINDING,
                                                                 message_class=stun.Class.REQUEST)))
        relayed = await unless_lost(turn.connect())
        echoes = Echoes()
        turn.receiver = echoes
        sent = [struct.pack("!I", i) + os.urandom(size) for i, size in enumerate([0, 16, 100, 500, 1000, 1200] * 5)]
        for data in sent:
            await unless_lost(turn.send_data(data, args.peer))
        for _ in range(50):
            if len(echoes.received) >= len(sent):
                break
            await asyncio.sleep(0.1)
        intact = sum(1 for data, source in echoes.received if source == args.peer and data in sent)
        report = {"local": list(local), "binding_mapped": list(binding.attributes.get("XOR-MAPPED-ADDRESS", ())),
                  "allocate_mapped": list(turn.mapped or ()), "relayed": list(relayed), "sent": len(sent),
                  "echoed": len(echoes.received), "intact": intact}
        Path(args.result).write_text(json.dumps(report))
        for _ in range(300):
            if Path(args.release).exists():
                break
            await asyncio.sleep(0.1)
        await turn.delete()
        return report

    try:
        report = asyncio.run(asyncio.wait_for(run(), 45))
    except Exception as e:  # noqa: BLE001 -- reported; the scenario fails on it
        report = {"exception": f"{type(e).__name__}: {e}"}
        Path(args.result).write_text(json.dumps(report))
    print(json.dumps(report), flush=True)
    return 0


def probe_main(argv: list[str]) -> int:
    """One TCP connection from --bind to --server that sends --send (nothing, a STUN Binding, or a forged PROXY v1
    header followed by a Binding) and reports how it ended: {"connected", "answer" (bytes read), "ended"
    ("closed" | "reset" | "open"), "after" (s)}."""
    parser = argparse.ArgumentParser(prog="proxy_protocol_test.py probe")
    parser.add_argument("--server", type=_address, required=True)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--send", choices=["nothing", "binding", "forged-header"], required=True)
    parser.add_argument("--wait", type=float, default=8, help="how long to wait for the server to end it")
    args = parser.parse_args(argv)
    binding = struct.pack("!HHI", 0x0001, 0, MAGIC_COOKIE) + os.urandom(12)
    payload = {"nothing": b"", "binding": binding,
               "forged-header": f"PROXY TCP4 10.90.0.99 {args.server[0]} 40000 {args.server[1]}\r\n".encode()
               + binding}[args.send]
    report = {"connected": False, "answer": 0, "ended": "open", "after": None}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((args.bind, 0))
    sock.settimeout(5)
    started = time.monotonic()
    try:
        sock.connect(args.server)
        report["connected"] = True
        if payload:
            sock.sendall(payload)
        deadline = started + args.wait
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = sock.recv(4096)
            except socket.timeout:
                break
            if not data:
                report["ended"] = "closed"
                break
            report["answer"] += len(data)
    except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError):
        report["ended"] = "reset"
    except OSError as e:
        report["ended"] = f"error: {e}"
    if report["ended"] != "open":
        report["after"] = round(time.monotonic() - started, 2)
    sock.close()
    print(json.dumps(report), flush=True)
    return 0


def sniff_main(argv: list[str]) -> int:
    """Captures on --iface; for every TCP connection from --source to --server, the first payload bytes it
    carried (hex, up to 32). Writes --ready once capturing, the JSON {"<sport>": "<hex>"} to --out on SIGTERM."""
    parser = argparse.ArgumentParser(prog="proxy_protocol_test.py sniff")
    parser.add_argument("--iface", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--server", type=_address, required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    sock.bind((args.iface, 0))
    sock.settimeout(0.2)
    first: dict[str, str] = {}
    source, server = socket.inet_aton(args.source), socket.inet_aton(args.server[0])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    Path(args.ready).write_text("ready\n")
    while not stop:
        try:
            frame = sock.recv(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 6 or ip[12:16] != source or ip[16:20] != server:
            continue
        tcp = ip[ihl:total]
        sport, dport = struct.unpack("!HH", tcp[:4])
        payload = tcp[(tcp[12] >> 4) * 4:]
        if dport == args.server[1] and payload and str(sport) not in first:
            first[str(sport)] = payload[:32].hex()
    Path(args.out).write_text(json.dumps(first))
    return 0


HELPERS = {"client": client_main, "probe": probe_main, "sniff": sniff_main}

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in HELPERS:
    sys.exit(HELPERS[sys.argv[1]](sys.argv[2:]))


# -- the scenario --------------------------------------------------------------------------------------------------
import ops  # noqa: E402
import scenario  # noqa: E402
import servers  # noqa: E402
from procs import wait_for  # noqa: E402
from scenario import Scenario  # noqa: E402

VERSIONS = {"proxy-v1": ("send-proxy", V1_SIGNATURE), "proxy-v2": ("send-proxy-v2", V2_SIGNATURE)}


def ternd_settings() -> str:
    # The topology's addresses are fixed (topology.py): the listener 10.90.0.1, haproxy the second client address.
    return (f'proxy_protocol = {{ listeners = [ "10.90.0.1:{servers.TCP_PORT}" ]; from = [ "10.90.0.11/32" ]; '
            f"header_timeout = {HEADER_TIMEOUT}; }};\n")


def start_haproxy(s: Scenario, send_proxy: str):
    t = s.topo
    lb = t.client_ips[1]
    conf = s.workdir / "haproxy.cfg"
    conf.write_text(f"""\
global
    log stdout format raw local0 info
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend turn
    bind {lb}:{HAPROXY_PORT}
    default_backend ternd
backend ternd
    server ternd {t.listen_ip}:{servers.TCP_PORT} source {lb} {send_proxy}
""")
    status, out = s.procs.run("haproxy-check", ["haproxy", "-c", "-f", str(conf)], timeout=20)
    s.expect(status == 0, f"haproxy rejects its configuration:\n{out}")
    proc = s.procs.start("haproxy", ["haproxy", "-db", "-f", str(conf)], netns=t.cli)

    def listening() -> bool:
        if not proc.alive():
            raise RuntimeError(f"haproxy exited:\n{proc.tail()}")
        _, out = s.procs.run("ss", ["ss", "-Hltn", "src", f"{lb}:{HAPROXY_PORT}"], netns=t.cli, timeout=5)
        return f"{lb}:{HAPROXY_PORT}" in out

    wait_for(listening, 10, interval=0.2, what="haproxy to listen")
    return proc


def stream_counters(s: Scenario) -> dict:
    stats = ops.ternctl_json(s, "stats")
    s.expect(isinstance(stats.get("streams"), dict), f"no stream counters in ternctl --json stats: {stats}")
    return stats["streams"]


def probe(s: Scenario, bind: str, send: str, wait: float = 8) -> dict:
    t = s.topo
    status, out = s.run_client(f"probe-{send}", s.python(Path(__file__), "probe", "--server",
                                                         f"{t.listen_ip}:{servers.TCP_PORT}", "--bind", bind,
                                                         "--send", send, "--wait", str(wait)), timeout=wait + 10)
    s.expect(status == 0, f"probe ({send} from {bind}) failed:\n{out}")
    report = json.loads(out.strip().splitlines()[-1])
    s.note(f"probe {send} from {bind}: {report}")
    return report


def case_proxy(s: Scenario) -> None:
    case = s.name.split()[-1]
    send_proxy, signature = VERSIONS[case]
    t = s.topo
    client_ip, lb = t.client_ips
    before = stream_counters(s)

    sniff_ready, sniff_out = s.workdir / "sniff.ready", s.workdir / "sniff.json"
    sniff = s.procs.start("sniff", s.python(Path(__file__), "sniff", "--iface", t.cli_if, "--source", lb,
                                            "--server", f"{t.listen_ip}:{servers.TCP_PORT}",
                                            "--ready", str(sniff_ready), "--out", str(sniff_out)), netns=t.cli)
    wait_for(sniff_ready.exists, 10, what="the capture")
    start_haproxy(s, send_proxy)
    peer = s.start_echo_peer([PEER_PORT])

    # The client through haproxy.
    result, release = s.workdir / "client.json", s.workdir / "client.release"
    user, password = s.credentials()
    client = s.procs.start("client", s.python(Path(__file__), "client", "--server", f"{lb}:{HAPROXY_PORT}",
                                              "--bind", client_ip, "--user", user, "--password", password,
                                              "--peer", f"{t.peer_ip}:{PEER_PORT}", "--result", str(result),
                                              "--release", str(release)), netns=t.cli)

    def reported() -> bool:
        if not result.exists() and not client.alive():
            raise RuntimeError(f"the client ended without a report:\n{client.tail()}")
        return result.exists()

    wait_for(reported, 40, interval=0.2, what="the client's report")
    report = json.loads(result.read_text())
    s.note(f"client: {report}")
    s.expect("exception" not in report, f"the TURN client through haproxy failed: {report.get('exception')}")
    local = report["local"]
    s.expect(local[0] == client_ip, f"the client is bound to {local}, not {client_ip}")
    s.expect(report["binding_mapped"] == local,
             f"Binding through haproxy: XOR-MAPPED-ADDRESS {report['binding_mapped']}, the client is {local}")
    s.expect(report["allocate_mapped"] == local,
             f"Allocate through haproxy: XOR-MAPPED-ADDRESS {report['allocate_mapped']}, the client is {local}")
    s.expect(report["relayed"][0] == t.relay_ip, f"relayed address {report['relayed']}, not on {t.relay_ip}")
    s.expect(report["intact"] == report["sent"], f"{report['intact']} of {report['sent']} datagrams echoed intact")

    # ternd's view of the allocation while the client holds it.
    allocations = ops.ternctl_json(s, "allocations")
    s.note(f"ternctl allocations: {json.dumps(allocations)}")
    # The header's source is the client, its destination the address the client connected to: haproxy's.
    rows = _allocations(allocations)
    s.expect(len(rows) == 1 and rows[0].get("client") == f"{client_ip}:{local[1]}"
             and rows[0].get("server") == f"{lb}:{HAPROXY_PORT}" and rows[0].get("transport") == "tcp",
             f"expected one allocation of client {client_ip}:{local[1]} to {lb}:{HAPROXY_PORT} over tcp: {rows}")
    release.write_text("release\n")
    s.expect(client.wait(15) == 0, f"the client did not end after deleting its allocation:\n{client.tail()}")
    s.expect(peer.sources() == {t.relay_ip}, "the echo peer heard from an address other than the relayed one")
    log = ops.server_log(s)
    s.expect(f"event=allocation_created id={rows[0]['id']} user={user} client={client_ip}:{local[1]} "
             f"server={lb}:{HAPROXY_PORT} transport=tcp client_transport=tcp" in log,
             "ternd's log has no allocation_created naming the client's own address")

    # The header on the wire is the version asked for.
    s.procs.stop(sniff)
    first = json.loads(sniff_out.read_text())
    s.note(f"first bytes of haproxy's connections to ternd: {first}")
    s.expect(first, "the capture saw no connection from haproxy to ternd")
    for sport, data in first.items():
        s.expect(bytes.fromhex(data).startswith(signature),
                 f"haproxy's connection from port {sport} began {bytes.fromhex(data)!r}, not {signature!r}")

    # Refusals: no header from haproxy's address; silence from there; a forged header from elsewhere.
    after_client = stream_counters(s)
    no_header = probe(s, lb, "binding")
    s.expect(no_header["connected"] and no_header["answer"] == 0 and no_header["ended"] in ("closed", "reset"),
             f"a Binding without a PROXY header from {lb} was not closed unanswered: {no_header}")
    silent = probe(s, lb, "nothing", wait=HEADER_TIMEOUT + 6)
    s.expect(silent["ended"] in ("closed", "reset") and silent["after"] >= HEADER_TIMEOUT - 0.5,
             f"a connection from {lb} without a header was not closed after {HEADER_TIMEOUT} s: {silent}")
    forged = probe(s, client_ip, "forged-header")
    s.expect(forged["answer"] == 0 and forged["ended"] == "reset",
             f"a forged PROXY header from {client_ip}, outside proxy_protocol.from, was not reset: {forged}")
    after = stream_counters(s)
    s.note(f"stream counters before: {before}\nafter the client: {after_client}\nafter the refusals: {after}")

    def delta(name: str, a: dict, b: dict) -> int:
        return b.get(name, 0) - a.get(name, 0)

    s.expect(delta("tcp_accepted", before, after_client) >= 1, "no TCP connection accepted for the client")
    for name in ("proxy_invalid", "proxy_timeout", "proxy_refused_source"):
        s.expect(delta(name, before, after_client) == 0, f"{name} counted during the client's run")
        s.expect(delta(name, after_client, after) == 1,
                 f"{name}: {delta(name, after_client, after)} counted for the refusals, expected 1")
    s.expect(delta("requests", after_client, after) == 0, "a request of a refused connection reached ternd")


def _allocations(answer) -> list[dict]:
    """The allocation rows of `ternctl --json allocations`, whatever key holds them."""
    if isinstance(answer, list):
        return [a for a in answer if isinstance(a, dict)]
    for value in answer.values():
        if isinstance(value, list) and all(isinstance(a, dict) for a in value):
            return value
    return []


CASES = {"proxy-v1": case_proxy, "proxy-v2": case_proxy}

if __name__ == "__main__":
    os.environ["TERN_SERVER"] = "ternd"
    sys.exit(scenario.main(CASES, clients={case: 2 for case in CASES}, deadline=120,
                           ternd_settings=ternd_settings(), streams=set(CASES)))
