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
"""

import hashlib
import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

import ops  # noqa: E402
from hostile import StreamClient, expect_code  # noqa: E402
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


CASES = {"reload": case_reload, "drain": case_drain, "reload-tls": case_reload_tls}

if __name__ == "__main__":
    ops.require_ternd()
    sys.exit(scenario.main(CASES, deadline=200, ternd_settings=f'alternate_server = "{ALTERNATE}";\n',
                           streams={"reload-tls"}))
