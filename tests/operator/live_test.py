#!/usr/bin/python3
"""reload and drain while relayed traffic flows: a python3-aioice client streams numbered datagrams through ternd to
an echo peer the whole time, and every one of them must come back.

    /usr/bin/python3 tests/operator/live_test.py reload

  reload  `ternctl reload` with a file that adds a user, lengthens a lifetime, raises the log level, and changes
          two settings only a restart takes (dataplane.table_size, relay.ports): the live ones applied, the others
          refused by name, the streaming allocation untouched; then SIGHUP re-reads the file the same way (logged as
          via=SIGHUP); then a file with errors changes nothing and says why
  drain   `ternctl drain on`: a new Allocate gets 300 Try Alternate naming alternate_server, `status` counts the
          allocation that remains until its client deletes it, the stream loses nothing; `drain off` lets a new
          allocation in
  reload-tls  a renewed certificate (a new key too) written over the files `tls` names, then `ternctl reload`: a
          TLS client's connection and its allocation stay (a Binding and a Refresh answered on it afterwards),
          a new connection gets the new certificate; then a certificate and a key that do not match: the reload
          is refused naming the file and line, and new connections keep the certificate in force
  reload-software  `software` set, changed and removed by reloads: the next Binding response (answered by the
          worker) and Allocate response (the control plane) carry the SOFTWARE in force, or none
  reload-rates  one live allocation relays to a peer while reloads change limits.allocation_pps and limits.max_bps:
          what reaches the peer (and the client, the other way) follows each new limit within its burst, on the same
          allocation, and everything passes again once the limits are back at the shipped defaults
"""

import hashlib
import json
import os
import re
import select
import shutil
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

import hostile  # noqa: E402
import ops  # noqa: E402
import stun_codec as stun  # noqa: E402
from hostile import StreamClient, TurnClient, expect_code  # noqa: E402
from ops import Scenario, scenario, servers  # noqa: E402

AIOICE_CLIENT = Path(__file__).resolve().parents[1] / "interop" / "aioice_client.py"
ALTERNATE = "10.90.0.2:3478"
STREAM_SECONDS = 20


def aioice(s: Scenario, case: str, user: str, password: str) -> dict:
    argv = s.python(AIOICE_CLIENT, case, "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}", "--user", user,
                    "--password", password, "--peer", f"{s.topo.peer_ip}:7001", "--rounds", "1")
    status, out = s.run_client(f"aioice-{case}", argv, timeout=90)
    s.expect(status == 0, f"aioice {case} exited {status}:\n{out[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def case_reload(s: Scenario) -> None:
    s.start_echo_peer([7000, 7001])
    stream = ops.Stream(s, "stream", seconds=STREAM_SECONDS)
    conf = s.workdir / "ternd.conf"
    original = conf.read_text()
    changed = original.replace('{ name = "alice"; password = "wonderland"; }',
                               '{ name = "alice"; password = "wonderland"; }, { name = "dave"; password = "dave-pw"; }')
    changed = changed.replace("ports = { min = 49152; max = 65535; }", "ports = { min = 49152; max = 60000; }")
    changed = changed.replace("  ports = (", "  table_size = 1024;\n  ports = (", 1)
    changed += 'lifetimes = { permission = 400; };\nlog = { level = "debug"; };\n'
    s.expect(changed.count("name = \"dave\"") == 1 and "max = 60000" in changed and "table_size = 1024" in changed,
             "the test could not edit ternd's configuration")
    conf.write_text(changed)

    reply = ops.ternctl_json(s, "reload")
    s.note(f"reload: {reply}")
    s.expect({"auth.users", "lifetimes.permission", "log.level"} <= set(reply["applied"]), f"applied: {reply}")
    refused = {n["setting"] for n in reply["not_applied"]}
    s.expect(refused == {"relay.ports", "dataplane.table_size"}, f"not applied: {refused}")
    s.expect(all("restart" in n["reason"] for n in reply["not_applied"]), "reasons")
    dave = aioice(s, "relay", "dave", "dave-pw")
    s.expect(dave.get("sent") and dave["echoed_intact"] == dave["sent"], f"dave after reload: {dave}")
    s.expect(ops.ternctl_json(s, "status")["log_level"] == "debug", "log level not applied")
    _, text = ops.ternctl(s, "reload")
    s.expect("NOT applied  dataplane.table_size: needs a restart" in text, f"readable reload:\n{text}")

    # SIGHUP: the same reload, logged with its sender.
    os.kill(s.server.proc.pid, signal.SIGHUP)
    ops.wait_log(s, "event=operator action=reload uid=0")
    ops.wait_log(s, "via=SIGHUP file=")

    # A broken file: nothing changes, the errors come back.
    conf.write_text(changed + "lifetimes = { permission = 5; };\n")
    got, out = ops.ternctl(s, "reload")
    s.expect(got == 1 and "nothing was changed" in out and "ternd.conf:" in out, f"broken reload: {got}\n{out}")
    s.expect("dave" in ops.ternctl_json(s, "users", "list")["users"], "a failed reload changed the users")

    report = stream.result()
    s.expect(report["lost"] == 0 and report["echoed"] == report["sent"], f"the stream lost datagrams: {report}")
    s.expect(ops.ternctl_json(s, "status")["allocations"] == 0, "allocations left")


def case_drain(s: Scenario) -> None:
    s.start_echo_peer([7000, 7001])
    stream = ops.Stream(s, "stream", seconds=STREAM_SECONDS)
    reply = ops.ternctl_json(s, "drain", "on")
    s.expect(reply["draining"] and reply["allocations"] == 1 and reply["alternate_server"] == ALTERNATE,
             f"drain on: {reply}")

    refused = aioice(s, "refused", servers.USER, servers.PASSWORD)
    s.note(f"Allocate while draining: {refused}")
    s.expect(refused.get("allocated") is False and refused.get("error_code") == 300,
             f"a new allocation while draining: {refused}")
    status = ops.ternctl_json(s, "status")
    s.expect(status["draining"] and status["allocations"] == 1, f"status while draining: {status}")
    _, text = ops.ternctl(s, "status")
    s.expect(f"DRAINING: 1 allocation remains; new Allocates get 300 Try Alternate -> {ALTERNATE}" in text, text)

    report = stream.result()
    s.expect(report["lost"] == 0 and report["echoed"] == report["sent"], f"the stream lost datagrams: {report}")
    ops.wait_until(s, lambda: ops.ternctl_json(s, "status")["allocations"] == 0, 10, "the last allocation to go")
    s.expect(ops.ternctl_json(s, "status")["draining"], "drain ended by itself")

    s.expect(not ops.ternctl_json(s, "drain", "off")["draining"], "drain off")
    after = aioice(s, "relay", servers.USER, servers.PASSWORD)
    s.expect(after.get("sent") and after["echoed_intact"] == after["sent"], f"relay after drain off: {after}")
    ops.wait_log(s, "action=drain uid=0 pid=")


def certificate_fingerprint(c: StreamClient) -> str:
    return hashlib.sha256(c.sock.getpeercert(binary_form=True)).hexdigest()[:16]


def case_reload_tls(s: Scenario) -> None:
    conf = (s.workdir / "ternd.conf").read_text()
    m = re.search(r'certificate = "([^"]+)"; private_key = "([^"]+)"', conf)
    s.expect(m is not None, "no tls group in ternd's configuration")
    certificate, key = Path(m[1]), Path(m[2])
    port = servers.TLS_PORTS[0]

    before = StreamClient(s, port=port, tls=True)
    s.expect(before.allocate() is not None and before.relayed is not None, "Allocate over TLS before the reload")
    first = certificate_fingerprint(before)

    # certbot's renewal: a new certificate and key for the same address, over the files the configuration names.
    renewed_cert, renewed_key = s.pki.server(s.topo.listen_ip, rsa=True)
    shutil.copy(renewed_cert, certificate)
    shutil.copy(renewed_key, key)
    got, out = ops.ternctl(s, "reload")
    s.expect(got == 0, f"reload with a renewed certificate: exit {got}\n{out}")
    ops.wait_log(s, "event=tls_reloaded", timeout=5)  # the stream transport's thread takes it up

    s.expect(before.binding() is not None, "the connection made before the reload no longer answers a Binding")
    expect_code(s, before.refresh(600), None, "Refresh of the allocation made before the reload")
    after = StreamClient(s, port=port, tls=True)
    second = certificate_fingerprint(after)
    s.note(f"certificate before the reload {first}, after {second}")
    s.expect(second != first, "a connection made after the reload still got the old certificate")
    s.expect(after.binding() is not None, "a connection made after the reload does not answer a Binding")
    after.close()

    # A key that is not the certificate's: refused with file and line, nothing changes.
    _, other_key = s.pki.rogue_server(s.topo.listen_ip)
    shutil.copy(other_key, key)
    got, out = ops.ternctl(s, "reload")
    s.expect(got == 1 and (str(key) in out or str(certificate) in out),
             f"reload with a key that does not match the certificate: exit {got}\n{out}")
    third = StreamClient(s, port=port, tls=True)
    s.expect(certificate_fingerprint(third) == second, "a refused reload changed the certificate in force")
    third.close()

    streams = ops.ternctl_json(s, "stats")["streams"]
    s.expect(streams.get("closed_by_client", 0) >= 1 and not streams.get("idle_timeout"),
             f"stream counters after the reloads: {streams}")
    expect_code(s, before.refresh(0), None, "Refresh 0 on the connection made before the reloads")
    before.close()
    ops.wait_until(s, lambda: ops.ternctl_json(s, "status")["allocations"] == 0, 10, "the allocation to go")


def reload_with(s: Scenario, original: str, extra: str) -> dict:
    """ternd's file as the scenario wrote it plus `extra`, then `ternctl reload`, which must apply."""
    (s.workdir / "ternd.conf").write_text(original + extra)
    reply = ops.ternctl_json(s, "reload")
    s.note(f"reload with {extra.strip()!r}: applied {reply['applied']}")
    s.expect(not reply["not_applied"], f"reload refused: {reply['not_applied']}")
    return reply


def case_reload_software(s: Scenario) -> None:
    conf = s.workdir / "ternd.conf"
    original = conf.read_text()
    s.expect(not re.search(r"^software\s*=", original, re.M), "the test configuration already sets software")
    client = TurnClient(s)

    def binding_software() -> str | None:
        reply = client.transact(stun.build(stun.BINDING, stun.REQUEST))
        s.expect(reply is not None and reply.cls == stun.SUCCESS, f"Binding: {reply and reply.describe()}")
        return reply.text(stun.SOFTWARE)

    s.expect(binding_software() is None, "a Binding response carried SOFTWARE before any was configured")
    for name in ("tern-reloaded 1", "tern-reloaded 2 (odd)", "tern-reloaded 3", "tern-reloaded 4", "tern-reloaded 5"):
        reply = reload_with(s, original, f'software = "{name}";\n')
        s.expect("software" in reply["applied"], f"reload did not report software: {reply}")
        got = binding_software()
        s.expect(got == name, f"the Binding response after the reload carried SOFTWARE {got!r}, not {name!r}")
    allocated = client.allocate()
    expect_code(s, allocated, None, "Allocate")
    s.expect(allocated.text(stun.SOFTWARE) == "tern-reloaded 5",
             f"the Allocate response carried SOFTWARE {allocated.text(stun.SOFTWARE)!r}")
    reload_with(s, original, "")
    s.expect(binding_software() is None, "SOFTWARE removed by a reload still in the Binding response")
    expect_code(s, client.refresh(0), None, "Refresh 0")
    client.close()


RATE_SINK_PORT = 7200
RATE_SEND_PPS = 1000
RATE_CHANNEL = 0x4001


def paced(rate: int, seconds: float, send) -> float:
    """send() `rate` times a second for `seconds`, in 2 ms steps; the seconds it took."""
    total, start, sent = int(rate * seconds), time.monotonic(), 0
    while sent < total:
        due = min(total, int(rate * (time.monotonic() - start)) + 1)
        while sent < due:
            send()
            sent += 1
        time.sleep(0.002)
    return time.monotonic() - start


def received(sock, quiet: float = 0.5) -> list[bytes]:
    """What `sock` holds and receives until `quiet` seconds pass without a datagram."""
    sock.setblocking(False)
    out = []
    while select.select([sock], [], [], quiet)[0]:
        while True:
            try:
                out.append(sock.recv(65535))
            except BlockingIOError:
                break
    return out


def case_reload_rates(s: Scenario) -> None:
    conf = s.workdir / "ternd.conf"
    original = conf.read_text()
    s.expect(not re.search(r"^limits\s*=", original, re.M), "the test configuration already sets limits")
    sink = hostile.udp_socket(s.topo.peer, s.topo.peer_ip, RATE_SINK_PORT)
    client = TurnClient(s)
    expect_code(s, client.allocate(), None, "Allocate")
    expect_code(s, client.channel_bind(RATE_CHANNEL, (s.topo.peer_ip, RATE_SINK_PORT)), None, "ChannelBind")
    relayed = client.relayed

    def to_peer(seconds: float, size: int) -> tuple[int, float]:
        message = stun.channel_data(RATE_CHANNEL, b"c" * size)
        elapsed = paced(RATE_SEND_PPS, seconds, lambda: client.send(message))
        return len([d for d in received(sink) if d == b"c" * size]), elapsed

    def to_client(seconds: float, size: int) -> tuple[int, float]:
        data = b"p" * size
        elapsed = paced(RATE_SEND_PPS, seconds, lambda: sink.sendto(data, relayed))
        frames = client.collect(int(RATE_SEND_PPS * seconds) + 1, timeout=1.0)
        return len([f for f in frames if stun.is_channel_data(f) and f[4:4 + size] == data]), elapsed

    def expect_rate(what: str, got: int, elapsed: float, per_second: float) -> None:
        # The rate over the time it was sent for, and a tenth of a second's burst (20 ms of queueing allowed); at
        # least four fifths of the rate, so a limit that blocks everything fails too.
        most = per_second * (elapsed + 0.1 + 0.02) + 1
        least = 0.8 * per_second * elapsed
        s.note(f"{what}: {got} in {elapsed:.2f} s, expected {least:.0f}-{most:.0f}")
        s.expect(least <= got <= most, f"{what}: {got} datagrams in {elapsed:.2f} s, expected {least:.0f}-{most:.0f}")

    # The shipped defaults (allocation_pps 5000, no max_bps): a call's rate passes whole.
    got, _ = to_peer(1.0, 100)
    s.expect(got == RATE_SEND_PPS, f"with the shipped limits {got} of {RATE_SEND_PPS} reached the peer")

    # allocation_pps 200 reaches the live allocation, both ways.
    reply = reload_with(s, original, "limits = { allocation_pps = 200; };\n")
    s.expect("limits.allocation_pps" in reply["applied"], f"applied: {reply['applied']}")
    expect_rate("to the peer at allocation_pps 200", *to_peer(2.0, 100), 200)
    expect_rate("to the client at allocation_pps 200", *to_client(2.0, 100), 200)
    shown = ops.ternctl_json(s, "allocation", str(ops.ternctl_json(s, "allocations")["allocations"][0]["id"]))
    s.expect(shown["allocation_pps"] == 200, f"ternctl allocation shows allocation_pps {shown['allocation_pps']}")

    # max_bps 200,000 (25,000 bytes a second: 100 datagrams of 250 bytes), the packet rate back at the default.
    reply = reload_with(s, original, "limits = { max_bps = 200000; };\n")
    s.expect({"limits.allocation_pps", "limits.max_bps"} <= set(reply["applied"]), f"applied: {reply['applied']}")
    time.sleep(0.2)  # the byte bucket refills from the last phase's traffic
    expect_rate("to the peer at max_bps 200000", *to_peer(2.0, 250), 100)
    listed = ops.ternctl_json(s, "allocations")
    s.expect(listed["total"] == 1, f"allocations: {listed}")
    shown = ops.ternctl_json(s, "allocation", str(listed["allocations"][0]["id"]))
    s.expect(shown["max_bps"] == 200000, f"ternctl allocation shows max_bps {shown['max_bps']}")
    s.expect(shown["allocation_pps"] == 5000, f"ternctl allocation shows allocation_pps {shown['allocation_pps']}")
    s.expect(shown["allocation"]["relayed"] == f"{relayed[0]}:{relayed[1]}", f"another allocation: {shown}")
    s.expect(shown["traffic"]["drops_to_peer_by_reason"]["rate_limited"] > 0, f"no rate_limited drops: {shown}")

    # Back to the shipped defaults: everything passes again.
    reload_with(s, original, "")
    time.sleep(0.2)
    got, _ = to_peer(1.0, 250)
    s.expect(got == RATE_SEND_PPS, f"after the limits were lifted {got} of {RATE_SEND_PPS} reached the peer")
    expect_code(s, client.refresh(0), None, "Refresh 0")
    client.close()
    sink.close()


CASES = {"reload": case_reload, "drain": case_drain, "reload-tls": case_reload_tls,
         "reload-software": case_reload_software, "reload-rates": case_reload_rates}

if __name__ == "__main__":
    ops.require_ternd()
    sys.exit(scenario.main(CASES, deadline=200, ternd_settings=f'alternate_server = "{ALTERNATE}";\n',
                           streams={"reload-tls"}))
