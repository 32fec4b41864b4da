"""TURN servers under test, started by hand in the server namespace of a Topology.

Both launchers offer the same service to clients, which is what every scenario relies on:

  listener    10.90.0.1:3478 (UDP)           relayed addresses  10.91.0.1:49152-65535
  realm       tern.test                      static user        alice / wonderland (long-term credentials)
  REST API    shared secret northsecret      peers              10.90.0.0/24 and 10.91.0.0/24 allowed,
                                                                 other private, loopback, ... ranges denied

`ternd` (dpdk mode) serves static users and REST credentials at once. coturn cannot: with `use-auth-secret` it
ignores static users altogether (coturn 4.6.1 userdb.c: add_static_user_account() skips them and get_user_key()
answers from the shared secrets only), so a coturn scenario names the one credential kind it needs.
"""

import os
from pathlib import Path

import netcheck
from procs import Proc, Procs, wait_for
from topology import Topology

REALM = "tern.test"
USER = "alice"
PASSWORD = "wonderland"
REST_SECRET = "northsecret"
RELAY_PORT_MIN = 49152
RELAY_PORT_MAX = 65535
AUTH_KINDS = ("static", "rest")
SERVER_KINDS = ("ternd", "coturn")
READY_TIMEOUT = 45  # seconds; ternd's EAL start with --no-huge -m 1024 takes a few


class ServerError(Exception):
    """The server could not be started or did not become ready."""


def server_kind() -> str:
    """TERN_SERVER if set, else the default meson gives (TERN_SERVER_DEFAULT), else ternd."""
    kind = os.environ.get("TERN_SERVER") or os.environ.get("TERN_SERVER_DEFAULT") or "ternd"
    if kind not in SERVER_KINDS:
        raise SystemExit(f"TERN_SERVER must be one of {', '.join(SERVER_KINDS)}, not {kind!r}")
    return kind


def topology_mode(kind: str) -> str:
    return "dpdk" if kind == "ternd" else "kernel"


class Server:
    def __init__(self, kind: str, proc: Proc, log_path: Path) -> None:
        self.kind = kind
        self.proc = proc
        self.log_path = log_path

    def log_tail(self, lines: int = 60) -> str:
        path = self.log_path if self.log_path.exists() else self.proc.log_path
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# TURN over TCP and TLS (a scenario's `streams`): the listener address on these ports, the certificate from the
# scenario's test CA (pki.py).
TCP_PORT = 3478
TLS_PORTS = (5349, 443)


def start(kind: str, topo: Topology, procs: Procs, workdir: Path, auth: str, ternd_settings: str = "",
          tls: tuple[Path, Path] | None = None) -> Server:
    """ternd_settings: libconfig text appended to ternd's configuration (coturn ignores it). tls: (certificate,
    key): the server also listens for TCP on TCP_PORT and TLS on TLS_PORTS."""
    if auth not in AUTH_KINDS:
        raise ValueError(f"auth must be one of {AUTH_KINDS}")
    if kind == "coturn":
        server = _start_coturn(topo, procs, workdir, auth, tls)
    else:
        streams = ""
        if tls:
            streams = (f'tcp = [ "{topo.listen_ip}:{TCP_PORT}" ]; tls = [ '
                       + ", ".join(f'"{topo.listen_ip}:{p}"' for p in TLS_PORTS) + " ];")
            ternd_settings = f'tls = {{ certificate = "{tls[0]}"; private_key = "{tls[1]}"; }};\n' + ternd_settings
        server = _start_ternd(topo, procs, workdir, ternd_settings, streams)
    _wait_ready(server, topo, procs)
    return server


def _wait_ready(server: Server, topo: Topology, procs: Procs) -> None:
    """Ready means: a STUN Binding from the client namespace is answered on the listener."""
    probe = [_python(), str(Path(netcheck.__file__).resolve()), "stun", topo.listen_ip, str(topo.listen_port),
             "--timeout", "1"]

    def answered() -> bool:
        if not server.proc.alive():
            output = server.proc.tail()
            if server.log_path != server.proc.log_path:
                output = f"{server.log_tail()}\n{output}"
            raise ServerError(f"{server.kind} exited with status {server.proc.popen.returncode} before it was "
                               f"ready:\n{output}")
        status, _ = procs.run("ready-probe", probe, netns=topo.cli, timeout=5)
        return status == 0

    try:
        wait_for(answered, READY_TIMEOUT, interval=0.2, what=f"{server.kind} to answer on {topo.listen_ip}:3478")
    except TimeoutError as e:
        raise ServerError(f"{e}; its output:\n{server.log_tail()}") from None


def _python() -> str:
    return "/usr/bin/python3"


# coturn 4.6.1 (Debian's /usr/bin/turnserver), kernel mode. Every option on the command line (-n: no config file),
# UDP only, no TLS/DTLS/CLI, its own user database and log in the scenario directory.
def _start_coturn(topo: Topology, procs: Procs, workdir: Path, auth: str,
                  tls: tuple[Path, Path] | None = None) -> Server:
    log_path = workdir / "turnserver.log"
    # With TLS: TCP and TLS on TCP_PORT and TLS_PORTS[0] (coturn tells them apart by their first bytes), and 443
    # as an auxiliary server.
    streams = (["--no-dtls", "--cert", str(tls[0]), "--pkey", str(tls[1]),
                "--tls-listening-port", str(TLS_PORTS[0]), "--aux-server", f"{topo.listen_ip}:{TLS_PORTS[1]}"]
               if tls else ["--no-tls", "--no-dtls", "--no-tcp"])
    argv = [
        "turnserver", "-n", "--no-cli", *streams, "--no-tcp-relay",
        "--listening-ip", topo.listen_ip, "--listening-port", str(topo.listen_port),
        "--relay-ip", topo.relay_ip,
        "--min-port", str(RELAY_PORT_MIN), "--max-port", str(RELAY_PORT_MAX),
        "--realm", REALM, "--fingerprint",
        # coturn allows private peers unless told otherwise; deny 10/8 except the two test subnets, which mirrors
        # ternd's default-deny policy plus its `peers.allow` in the test config. (Loopback peers are denied by
        # default in coturn.)
        "--denied-peer-ip", "10.0.0.0-10.255.255.255",
        "--allowed-peer-ip", "10.90.0.0-10.90.0.255",
        "--allowed-peer-ip", "10.91.0.0-10.91.0.255",
        "--userdb", str(workdir / "turndb"),
        "--pidfile", str(workdir / "turnserver.pid"),
        "--log-file", str(log_path), "--simple-log", "--verbose",
    ]
    if topo.ipv6:
        argv += ["--listening-ip", topo.listen_ip6, "--relay-ip", topo.relay_ip6]
    if auth == "static":
        argv += ["--lt-cred-mech", "--user", f"{USER}:{PASSWORD}"]
    else:
        argv += ["--use-auth-secret", "--static-auth-secret", REST_SECRET]
    proc = procs.start("turnserver", argv, netns=topo.srv)
    return Server("coturn", proc, log_path)


# ---------------------------------------------------------------------------------------------------------------
# The launcher for ternd (dpdk mode). The configuration below is the contract between these tests and ternd:
# ternd owns 10.90.0.1 and 10.91.0.1 on two net_af_packet ports bound to the server-side veth ends.
# ---------------------------------------------------------------------------------------------------------------
TERND_CONF = """\
realm = "{realm}";
listen = {{ udp = [ "{listen_ip}:{listen_port}"{listen6} ];{listen_streams} }};
relay = {{ addresses = [ "{relay_ip}"{relay6} ]; ports = {{ min = {port_min}; max = {port_max}; }}; }};
auth = {{ users = ( {{ name = "{user}"; password = "{password}"; }} ); secrets = [ "{secret}" ]; nonce_lifetime = 600; }};
peers = {{ allow = [ "10.91.0.0/24", "10.90.0.0/24"{allow6} ]; deny = [ ]; }};
control = {{ socket = "{socket}"; metrics = "127.0.0.1:9641"; }};
dataplane = {{
  eal = [ "-l", "0-1", "--no-pci", "--no-huge", "-m", "1024", "--no-shconf", "--file-prefix", "{file_prefix}" ];
  ports = ( {{ device = "net_af_packet0,iface={client_if},qdisc_bypass=1"; addresses = [ "{listen_ip}/24"{client6} ]; }},
            {{ device = "net_af_packet1,iface={peer_if},qdisc_bypass=1"; addresses = [ "{relay_ip}/24"{peer6} ]; }} );
}};
"""


def ternd_binary() -> Path:
    """TERN_TERND if set, else <TERN_BUILD_DIR or ./build>/control/ternd."""
    if os.environ.get("TERN_TERND"):
        return Path(os.environ["TERN_TERND"])
    build = Path(os.environ.get("TERN_BUILD_DIR") or Path(__file__).resolve().parents[2] / "build")
    return build / "control" / "ternd"


def _start_ternd(topo: Topology, procs: Procs, workdir: Path, settings: str = "", listen_streams: str = "") -> Server:
    binary = ternd_binary()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise ServerError(f"ternd is not built: no executable {binary} (set TERN_BUILD_DIR or TERN_TERND, or run "
                           f"the scenario against coturn with TERN_SERVER=coturn)")
    conf = workdir / "ternd.conf"
    # IPv6 (a topology made with ipv6=True): the same service on 2001:db8:90::1 and 2001:db8:91::1 as well.
    v6 = {"listen6": "", "relay6": "", "allow6": "", "client6": "", "peer6": ""}
    if topo.ipv6:
        v6 = {"listen6": f', "[{topo.listen_ip6}]:{topo.listen_port}"', "relay6": f', "{topo.relay_ip6}"',
              "allow6": ', "2001:db8:90::/64", "2001:db8:91::/64"', "client6": f', "{topo.listen_ip6}/64"',
              "peer6": f', "{topo.relay_ip6}/64"'}
    conf.write_text(TERND_CONF.format(**v6, listen_streams=(" " + listen_streams) if listen_streams else "",
        realm=REALM, listen_ip=topo.listen_ip, listen_port=topo.listen_port, relay_ip=topo.relay_ip,
        port_min=RELAY_PORT_MIN, port_max=RELAY_PORT_MAX, user=USER, password=PASSWORD, secret=REST_SECRET,
        socket=workdir / "ternd.sock", file_prefix=f"tern-it-{topo.prefix}",
        client_if=topo.srv_client_if, peer_if=topo.srv_peer_if) + settings)
    proc = procs.start("ternd", [str(binary), "-c", str(conf)], netns=topo.srv)
    return Server("ternd", proc, proc.log_path)

