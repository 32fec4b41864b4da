#!/usr/bin/python3
"""ternctl against a running ternd in the integration topology: every command, the right answer and the refusals.

    /usr/bin/python3 tests/operator/commands_test.py commands

  commands  status, stats, allocations, allocation, kill (id and user), users list/add/remove, secrets
            list/add/remove, drain on/off, version: readable and --json, against a live allocation; bad input to
            each: ternctl's usage errors (exit 2), ternd's refusals (exit 1), no answer (exit 3)
  socket    the control socket itself: mode 0600, one JSON error per malformed line (never a dropped server), a
            line too long refused and the connection closed, a client that sends nothing and reads nothing
            does not hold the control plane up (the relay answers Bindings meanwhile)
  metrics   GET /metrics from inside the server namespace: every line valid text format 0.0.4, the counters equal
            to `ternctl stats --json` taken around the scrape, drops with a reason label, no user label; /healthz;
            404 and 405 for the rest
  trace     a denied peer traced: the control plane's 403s to ChannelBind and CreatePermission for it; then data
            from a peer without a permission traced: the worker's drop_no_permission, also in the allocation's
            drops by reason; `trace` while one runs: busy
  probe     `ternctl probe` from the client namespace passes every step; from the peer namespace it fails to
            route and says so; while draining it names the drain
  probe-streams  `ternctl probe --ca` over the TCP and TLS listeners too (connection, TLS handshake and the
            certificate checked for the listener's IP, then every step); without the CA or for another name the
            TLS step fails and says what that means
"""

import json
import socket
import stat
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ops  # noqa: E402
from ops import Scenario, scenario, servers  # noqa: E402

AIOICE_CLIENT = Path(__file__).resolve().parents[1] / "interop" / "aioice_client.py"
ECHO_PORTS = [7000, 7001]
NETCHECK = Path(__file__).resolve().parents[1] / "integration" / "netcheck.py"


def expect_status(s: Scenario, args: list[str], status: int, words: str = "", netns: str | None = None) -> str:
    got, out = ops.ternctl(s, *args, netns=netns)
    s.expect(got == status, f"ternctl {' '.join(args)}: exit {got}, expected {status}:\n{out}")
    s.expect(words in out, f"ternctl {' '.join(args)}: no '{words}' in:\n{out}")
    return out


def case_commands(s: Scenario) -> None:
    s.start_echo_peer(ECHO_PORTS)
    stream = ops.Stream(s, "stream", seconds=20, rate=20)

    # status
    text = expect_status(s, ["status"], 0, "state        serving")
    s.expect("10.90.0.1:3478" in text and "10.91.0.1" in text, f"status lacks the listener or relay:\n{text}")
    status = ops.ternctl_json(s, "status")
    s.expect(status["allocations"] == 1 and status["workers"] >= 1 and not status["draining"], f"status: {status}")
    s.expect(len(status["ports"]) == 2 and all(p["link_up"] for p in status["ports"]), f"ports: {status['ports']}")
    s.expect(ops.ternctl_json(s, "version")["protocol"] == 1, "version")

    # stats
    stats = ops.ternctl_json(s, "stats")
    s.expect(stats["dataplane"]["channel_data_to_peer"] > 0, "no ChannelData counted")
    s.expect(len(stats["per_worker"]) == stats["workers"] == len(stats["load"]), "per-worker parts")
    s.expect(stats["control_plane"]["allocations_live"] == 1, "allocations_live")
    s.expect(stats["tsc_hz"] > 0 and stats["pools"], f"tsc_hz or pools missing: {stats['tsc_hz']} {stats['pools']}")
    expect_status(s, ["stats", "--nonzero"], 0, "channel_data_to_peer")

    # allocations / allocation
    listed = ops.ternctl_json(s, "allocations", "--user", "alice")
    s.expect(listed["total"] == 1 and len(listed["allocations"]) == 1, f"allocations: {listed}")
    a = listed["allocations"][0]
    s.expect(a["relayed"] == stream.relayed and a["client"].startswith("10.90.0.10:"), f"allocation: {a}")
    s.expect(ops.ternctl_json(s, "allocations", "--client", "10.90.0.10")["allocations"], "--client by IP")
    s.expect(ops.ternctl_json(s, "allocations", "--client", a["client"])["allocations"], "--client by IP:port")
    s.expect(not ops.ternctl_json(s, "allocations", "--user", "nobody")["allocations"], "--user nobody")
    expect_status(s, ["allocations"], 0, stream.relayed)
    detail = ops.ternctl_json(s, "allocation", str(a["id"]))
    s.expect(detail["channel_list"] and detail["channel_list"][0]["peer"] == f"{s.topo.peer_ip}:7000",
             f"channels: {detail['channel_list']}")
    s.expect(detail["traffic"]["packets_to_peer"] > 0 and detail["traffic"]["packets_to_client"] > 0,
             f"traffic: {detail['traffic']}")
    expect_status(s, ["allocation", str(a["id"])], 0, "client -> peer")

    # users
    expect_status(s, ["users", "list"], 0, "alice")
    expect_status(s, ["users", "add", "dave", "--password", "dave-pw"], 0, "user dave added")
    got, out = ops.ternctl(s, "users", "add", "erin", "--password-stdin", stdin="erin-pw")
    s.expect(got == 0 and "erin added" in out, f"users add --password-stdin: {got}\n{out}")
    s.expect(set(ops.ternctl_json(s, "users", "list")["users"]) == {"alice", "dave", "erin"}, "users list")
    dave = run_aioice(s, "relay", "dave", "dave-pw")
    s.expect(dave.get("echoed_intact") == dave.get("sent") and dave.get("sent"), f"dave's relay: {dave}")
    expect_status(s, ["users", "remove", "erin"], 0, "removed")
    expect_status(s, ["users", "remove", "erin"], 1, "no user erin")
    expect_status(s, ["users", "add", "x"], 2, "takes --password")
    expect_status(s, ["users", "add", "x", "--key", "abc"], 1, "32 hex digits")

    # secrets
    secrets = ops.ternctl_json(s, "secrets", "list")["secrets"]
    s.expect(len(secrets) == 1 and len(secrets[0]["fingerprint"]) == 12, f"secrets: {secrets}")
    added = ops.ternctl_json(s, "secrets", "add", "southsecret")
    s.expect(len(added["secrets"]) == 2 and added["secrets"][0]["fingerprint"] == added["changed"], f"{added}")
    rest = run_aioice(s, "relay", *scenario.rest_credentials(secret="southsecret"))
    s.expect(rest.get("echoed_intact") == rest.get("sent") and rest.get("sent"), f"REST with the new secret: {rest}")
    expect_status(s, ["secrets", "remove", secrets[0]["fingerprint"]], 0, "changed")
    refused = run_aioice(s, "refused", *scenario.rest_credentials())
    s.expect(refused.get("error_code") == 401, f"REST with the removed secret: {refused}")
    expect_status(s, ["secrets", "remove", "ffff"], 1, "no secret")
    for line in ops.server_log(s).splitlines():
        s.expect("southsecret" not in line and "dave-pw" not in line and "erin-pw" not in line,
                 f"a secret in the log: {line}")

    # drain
    drained = ops.ternctl_json(s, "drain", "on")
    s.expect(drained["draining"] and drained["allocations"] == 1, f"drain on: {drained}")
    expect_status(s, ["status"], 0, "DRAINING: 1 allocation remains")
    s.expect(not ops.ternctl_json(s, "drain", "off")["draining"], "drain off")
    expect_status(s, ["drain", "maybe"], 2, "drain on | drain off")

    # kill
    report = stream.result()
    s.expect(report["lost"] == 0, f"the stream lost datagrams: {report}")
    keep = ops.Stream(s, "kept", seconds=3, rate=20)
    victim = ops.ternctl_json(s, "allocations")["allocations"][0]["id"]
    s.expect(ops.ternctl_json(s, "kill", str(victim))["killed"] == 1, "kill id")
    expect_status(s, ["kill", str(victim)], 1, f"no allocation {victim}")
    s.expect(keep.result()["lost"] > 0, "traffic went on after kill")
    expect_status(s, ["kill", "--user", "nobody"], 0, "killed 0 allocations")
    expect_status(s, ["kill"], 2, "allocation id or --user")
    ops.wait_log(s, "event=operator action=kill uid=0")

    # bad input everywhere else
    expect_status(s, ["allocation", "abc"], 2, "allocation id")
    expect_status(s, ["allocation", "4000000"], 1, "no allocation 4000000")
    expect_status(s, ["allocations", "--client", "not-an-address"], 2, "--client")
    expect_status(s, ["allocations", "--limit", "0"], 2, "--limit")
    expect_status(s, ["trace", "nowhere"], 2, "IP address")
    expect_status(s, ["frobnicate"], 2, "unknown command")
    got, out = s.procs.run("ternctl", [str(ops.ternctl_binary()), "--socket", str(s.workdir / "nope.sock"), "status"],
                           netns=s.topo.srv)
    s.expect(got == 3 and "is ternd running" in out, f"no socket: exit {got}\n{out}")


def run_aioice(s: Scenario, case: str, user: str, password: str) -> dict:
    argv = s.python(AIOICE_CLIENT, case, "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}", "--user", user,
                    "--password", password, "--peer", f"{s.topo.peer_ip}:7001", "--rounds", "1")
    status, out = s.run_client(f"aioice-{case}", argv, timeout=90)
    s.expect(status == 0, f"aioice {case} exited {status}:\n{out[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def case_socket(s: Scenario) -> None:
    path = ops.socket_path(s)
    mode = path.stat().st_mode
    s.expect(stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600, f"socket mode {oct(mode)}")
    code = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
out = []
for line in [b"hello", b"{}", b'{"v":1}', b'{"v":3,"cmd":"status"}', b'{"v":1,"cmd":"nope","id":5}',
             b'{"v":1,"cmd":"status","bogus":1}', b'{"v":1,"cmd":"allocation","allocation":"x"}',
             b"\xff\xfe", b'{"v":1,"cmd":"status","id":6}']:
    f.write(line + b"\n"); f.flush(); out.append(json.loads(f.readline()))
f.write(b"x" * 70000 + b"\n"); f.flush(); out.append(json.loads(f.readline())); out.append(f.readline().decode())
print(json.dumps(out))
"""
    status, text = s.procs.run("raw-socket", [scenario.PYTHON, "-c", code, str(path)], netns=s.topo.srv, timeout=30)
    s.expect(status == 0, f"raw socket client failed:\n{text}")
    answers = json.loads(text.strip().splitlines()[-1])
    codes = [a.get("error", {}).get("code") for a in answers[:-2]]
    s.expect(codes == ["parse_error", "bad_request", "bad_request", "unsupported_version", "unknown_command",
                       "bad_request", "bad_request", "parse_error", None], f"error codes: {codes}")
    s.expect(answers[4].get("id") == 5 and answers[8]["ok"] and answers[8]["id"] == 6, f"ids: {answers}")
    s.expect(answers[-2]["error"]["code"] == "too_large" and answers[-1] == "", f"long line: {answers[-2:]}")

    # Clients that say nothing and read nothing, while the relay keeps answering and ternctl still gets through.
    idle = [socket.socket(socket.AF_UNIX) for _ in range(5)]
    for c in idle:
        c.connect(str(path))
    probe = [scenario.PYTHON, str(NETCHECK), "stun", s.topo.listen_ip, str(s.topo.listen_port), "--timeout", "1"]
    status, out = s.procs.run("binding", probe, netns=s.topo.cli, timeout=10)
    s.expect(status == 0, f"Binding not answered while idle control clients wait:\n{out}")
    expect_status(s, ["status"], 0, "serving")
    for c in idle:
        c.close()


def case_metrics(s: Scenario) -> None:
    s.start_echo_peer(ECHO_PORTS)
    stream = ops.Stream(s, "stream", seconds=3, rate=50)
    stream.result()
    refused = run_aioice(s, "refused", servers.USER, "not-the-password")
    s.expect(refused.get("error_code") == 401, f"bad password: {refused}")

    before = ops.ternctl_json(s, "stats")
    status, headers, body = ops.scrape(s)
    after = ops.ternctl_json(s, "stats")
    s.expect(status == 200, f"/metrics: {status}")
    s.expect(headers.get("Content-Type") == "text/plain; version=0.0.4; charset=utf-8", f"headers: {headers}")
    try:
        samples, types = ops.parse_exposition(body)
    except ValueError as e:
        raise scenario.Failure(f"/metrics is not valid exposition format: {e}") from None
    s.note(f"/metrics: {len(samples)} series in {len(types)} families")

    def between(name: str, value: float | None, low: int, high: int) -> None:
        s.expect(value is not None and low <= value <= high, f"{name}: metric {value}, stats {low}..{high}")

    for w in range(before["workers"]):
        for counter, v0 in before["per_worker"][w].items():
            v1 = after["per_worker"][w][counter]
            if counter.startswith("drop_"):
                value = ops.metric(samples, "tern_dataplane_dropped_packets_total", worker=str(w), reason=counter[5:])
            else:
                value = ops.metric(samples, f"tern_dataplane_{counter}_total", worker=str(w))
            between(counter, value, v0, v1)
    for counter, v0 in before["control_io"].items():
        between(counter, ops.metric(samples, f"tern_control_io_{counter}_total"), v0, after["control_io"][counter])
    cp0, cp1 = before["control_plane"], after["control_plane"]
    between("requests_allocate", ops.metric(samples, "tern_requests_total", method="allocate"),
            cp0["requests_allocate"], cp1["requests_allocate"])
    between("responses_401", ops.metric(samples, "tern_responses_total", code="401"),
            cp0["responses_401"], cp1["responses_401"])
    between("auth_bad_integrity", ops.metric(samples, "tern_auth_failures_total", reason="bad_integrity"),
            cp0["auth_bad_integrity"], cp1["auth_bad_integrity"])
    s.expect(cp1["auth_bad_integrity"] >= 1, "the bad password was not counted")
    between("allocations_created", ops.metric(samples, "tern_allocations_created_total"),
            cp0["allocations_created"], cp1["allocations_created"])
    s.expect(ops.metric(samples, "tern_allocations_live") == cp1["allocations_live"], "allocations_live")
    s.expect(ops.metric(samples, "tern_port_link_up", port="0") == 1, "port 0 link")
    s.expect(ops.metric(samples, "tern_worker_busy_ratio", worker="0") is not None, "busy ratio")
    s.expect(ops.metric(samples, "tern_worker_punt_ring", worker="0") is not None, "punt ring")
    s.expect(any(name == "tern_mempool_in_use" for name, _ in samples), "mempool")
    labels = {k for _, ls in samples for k, _ in ls}
    s.expect(not labels & {"user", "username", "client"}, f"unbounded labels: {labels}")

    s.expect(ops.scrape(s, "/healthz")[0] == 200, "/healthz")
    s.expect(ops.scrape(s, "/other")[0] == 404, "404")


def case_trace(s: Scenario) -> None:
    s.start_echo_peer(ECHO_PORTS)
    # 1. A denied peer: the control plane's 403s, in a trace of the peer's address.
    tracer = s.procs.start("trace-denied", [str(ops.ternctl_binary()), "--socket", str(ops.socket_path(s)), "--json",
                                            "trace", "10.92.0.20", "--seconds", "6"], netns=s.topo.cli)
    ops.wait_until(s, lambda: tracer.output().strip(), 10, "the trace to start")
    busy = expect_status(s, ["trace", "10.1.2.3"], 1, "one trace at a time")
    s.note(busy.strip())
    argv = s.python(AIOICE_CLIENT, "forbidden", "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}",
                    "--user", servers.USER, "--password", servers.PASSWORD, "--peer", f"{s.topo.peer_ip}:7000",
                    "--denied", "10.92.0.20:7000", "--rounds", "1")
    status, out = s.run_client("aioice-forbidden", argv, timeout=60)
    s.expect(status == 0, f"aioice forbidden: {out[-2000:]}")
    s.expect(tracer.wait(20) == 0, f"trace did not end:\n{tracer.output()}")
    records = trace_records(tracer.output())
    s.note(f"trace of the denied peer: {records}")
    for packet in ("ChannelBind request", "CreatePermission request"):
        s.expect(any(r["source"] == "control" and r["packet"] == packet and r["decision"] == "error" and
                     r.get("reason", "").startswith("403") and r.get("next") == "10.92.0.20:7000" for r in records),
                 f"no 403 for {packet} in the trace")
    s.expect(trace_end(tracer.output())["reason"] == "elapsed", "the trace did not end on time")

    # 2. Data from a peer without a permission: the worker drops it (drop_no_permission).
    stranger = "10.91.0.21"
    status, out = s.procs.run("addr", ["ip", "-n", s.topo.peer, "addr", "add", f"{stranger}/24", "dev",
                                       s.topo.peer_if], timeout=10)
    s.expect(status == 0, f"cannot add {stranger}: {out}")
    stream = ops.Stream(s, "stream", seconds=8, rate=20)
    before = ops.ternctl_json(s, "stats")["dataplane"]["drop_no_permission"]
    tracer = s.procs.start("trace-stranger", [str(ops.ternctl_binary()), "--socket", str(ops.socket_path(s)),
                                              "--json", "trace", stranger, "--seconds", "4"], netns=s.topo.srv)
    ops.wait_until(s, lambda: tracer.output().strip(), 10, "the trace to start")
    host, port = stream.relayed.rsplit(":", 1)
    send = ("import socket, sys, time\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 7100))\n"
            "for i in range(5):\n"
            "    s.sendto(b'no permission', (sys.argv[2], int(sys.argv[3]))); time.sleep(0.1)\n")
    status, out = s.procs.run("stranger", [scenario.PYTHON, "-c", send, stranger, host, port], netns=s.topo.peer)
    s.expect(status == 0, f"stranger: {out}")
    s.expect(tracer.wait(20) == 0, f"trace did not end:\n{tracer.output()}")
    records = trace_records(tracer.output())
    s.note(f"trace of the stranger: {records[:3]}")
    dropped = [r for r in records if r["source"].startswith("worker") and r["decision"] == "dropped" and
               r.get("reason") == "drop_no_permission" and r["from"] == f"{stranger}:7100"]
    s.expect(len(dropped) == 5, f"{len(dropped)} of 5 datagrams traced as drop_no_permission")
    after = ops.ternctl_json(s, "stats")["dataplane"]["drop_no_permission"]
    s.expect(after - before == 5, f"drop_no_permission went from {before} to {after}")
    # The allocation's own drops, by reason: what `ternctl allocation ID` shows.
    allocation = [a for a in ops.ternctl_json(s, "allocations")["allocations"] if a["relayed"] == stream.relayed]
    s.expect(len(allocation) == 1, f"the stream's allocation is not listed: {allocation}")
    traffic = ops.ternctl_json(s, "allocation", str(allocation[0]["id"]))["traffic"]
    s.expect(traffic["drops_to_client"] == 5 and traffic["drops_to_client_by_reason"]["no_permission"] == 5 and
             traffic["drops_to_peer"] == 0, f"the allocation's drops: {traffic}")
    expect_status(s, ["allocation", str(allocation[0]["id"])], 0, "dropped peer -> client: 5 no_permission")
    s.expect(stream.result()["lost"] == 0, "the allocation's own traffic suffered")


def trace_records(output: str) -> list[dict]:
    records = []
    for line in output.splitlines():
        obj = json.loads(line)
        if isinstance(obj.get("records"), list):  # a batch (trace_end counts them instead)
            records.extend(obj["records"])
    return records


def trace_end(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def case_probe(s: Scenario) -> None:
    got, out = ops.ternctl(s, "--json", "probe", netns=s.topo.cli)
    report = json.loads(out.strip().splitlines()[-1])
    s.note(f"probe from the client side: {report}")
    s.expect(got == 0 and report["ok"], f"probe failed (exit {got}): {out}")
    steps = {step["step"]: step["status"] for step in report["steps"]}
    for step in ("binding", "challenge", "allocate", "second allocate", "relay", "cleanup"):
        s.expect(steps.get(step) == "ok", f"step {step}: {steps.get(step)}")
    s.expect(steps.get("peer") == "skipped", "the client namespace has no route to the relay: the peer step skips")
    s.expect(ops.ternctl_json(s, "status")["allocations"] == 0, "the probe left allocations")
    s.expect("tern-probe-" not in " ".join(ops.ternctl_json(s, "users", "list")["users"]), "probe user listed")
    ops.wait_log(s, "action=probe.done uid=0")

    got, out = ops.ternctl(s, "probe", netns=s.topo.peer)
    s.expect(got == 1 and "FAIL     route" in out and "run the probe from where clients are" in out,
             f"probe from the peer side: exit {got}\n{out}")

    ops.ternctl_json(s, "drain", "on")
    got, out = ops.ternctl(s, "probe", netns=s.topo.cli)
    s.expect(got == 1 and "server   warning  drain" in out and "draining" in out, f"probe while draining:\n{out}")
    ops.ternctl_json(s, "drain", "off")


def case_probe_streams(s: Scenario) -> None:
    """ternctl probe over TCP and TLS: each stream listener connected to (and its certificate checked against the
    test CA, for the listener's IP address), then the same exchange as over UDP; without the CA, or for a name the
    certificate does not carry, the TLS steps fail with what that means."""
    ca = str(s.pki.ca)
    got, out = ops.ternctl(s, "--json", "probe", "--ca", ca, netns=s.topo.cli)
    report = json.loads(out.strip().splitlines()[-1])
    s.note(f"probe over every transport: {report}")
    s.expect(got == 0 and report["ok"], f"probe failed (exit {got}): {out}")
    steps = {(step["target"], step["step"]): step for step in report["steps"]}
    ip = s.topo.listen_ip
    targets = {f"listener {ip}:{servers.TCP_PORT} (tcp)": "connect"}
    targets.update({f"listener {ip}:{port} (tls)": "tls" for port in servers.TLS_PORTS})
    for target, first in targets.items():
        s.expect(steps.get((target, first), {}).get("status") == "ok", f"{target} {first}: {steps.get((target, first))}")
        for step in ("binding", "challenge", "allocate", "second allocate", "relay", "cleanup"):
            s.expect(steps.get((target, step), {}).get("status") == "ok", f"{target} {step}: {steps.get((target, step))}")
    s.expect("TLSv1.3" in steps[(f"listener {ip}:{servers.TLS_PORTS[1]} (tls)", "tls")]["detail"],
             "TLS 1.3 negotiated")
    stats = ops.ternctl_json(s, "stats")
    s.note(f"stream counters: {stats.get('streams')}")
    s.expect(ops.ternctl_json(s, "status")["allocations"] == 0, "the probe left allocations")

    got, out = ops.ternctl(s, "probe", netns=s.topo.cli)
    s.expect(got == 1 and "FAIL     tls: the certificate was refused" in out and
             "does not lead to a CA this host trusts" in out, f"probe without the test CA: exit {got}\n{out}")
    got, out = ops.ternctl(s, "probe", "--ca", ca, "--tls-name", "relay.example.net", netns=s.topo.cli)
    s.expect(got == 1 and "does not name relay.example.net" in out, f"probe for another name: exit {got}\n{out}")


CASES = {
    "commands": case_commands,
    "socket": case_socket,
    "metrics": case_metrics,
    "trace": case_trace,
    "probe": case_probe,
    "probe-streams": case_probe_streams,
}

if __name__ == "__main__":
    ops.require_ternd()
    sys.exit(scenario.main(CASES, deadline=200, streams={"probe-streams"}))
