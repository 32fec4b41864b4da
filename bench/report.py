"""bench/RESULTS.md from the suite's results: the goals and verdicts, the figures, the plots, the method, and
what the figures say (the prose is written around the numbers of the run it reports)."""

import re
from pathlib import Path

import plots

GOAL_RATIO = 0.5
GOAL_COTURN = 30.0
GOAL_SCALING = 0.8
GOAL_CONTROL = 200_000
GOAL_MEMORY = 256  # bytes per allocation, its client-index entry aside


def f(x, digits=2) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, (int,)) or (isinstance(x, float) and x.is_integer() and abs(x) >= 1000):
        return f"{int(x):,}"
    return f"{x:,.{digits}f}"


def verdict(ok: bool | None) -> str:
    return {True: "**met**", False: "**short**", None: "**not measured**"}[ok]


def headline(r: dict) -> dict | None:
    t = r.get("throughput") or []
    return next((e for e in t if e["frame_size"] == 200), None)


def scaling_ratio(r: dict) -> tuple[float | None, dict | None, dict | None]:
    pts = {p["allocations"]: p for p in r.get("scaling") or []}
    if 1000 in pts and 1000000 in pts:
        return pts[1000000]["tern"]["mpps_cpu"] / pts[1000]["tern"]["mpps_cpu"], pts[1000], pts[1000000]
    return None, None, None


def control_min(r: dict) -> tuple[float | None, dict | None]:
    rows = [x for x in (r.get("micro", {}).get("bm_control") or {}).get("rows", []) if not x.get("error")]
    if not rows:
        return None, None
    low = min(rows, key=lambda x: x["per_second"])
    return low["per_second"], low


def coturn_ratio(r: dict) -> tuple[float | None, dict, dict]:
    c = r.get("coturn") or {}
    co, te = c.get("coturn") or {}, c.get("ternd") or {}
    a, b = co.get("cpu_ns_per_packet"), te.get("cpu_ns_per_packet")
    return (a / b if a and b else None), co, te


def goals(r: dict) -> list[str]:
    out = ["| goal | measured in this run | verdict |", "|---|---|---|"]
    h = headline(r)
    if h:
        out.append(f"| tern worker >= 0.5 x testpmd 5tswap, same input, 100k allocations, both directions "
                   f"| **{h['ratio_5tswap']:.2f} x** (tern {f(h['tern']['mpps_cpu'])} vs 5tswap "
                   f"{f(h['5tswap']['mpps_cpu'])} Mpps per CPU-second; {f(h['tern']['ns_per_packet_cpu'], 1)} vs "
                   f"{f(h['5tswap']['ns_per_packet_cpu'], 1)} ns per packet) "
                   f"| {verdict(h['ratio_5tswap'] >= GOAL_RATIO)} |")
    else:
        out.append("| tern worker >= 0.5 x testpmd 5tswap | (the throughput run failed) | **not measured** |")
    ratio, co, te = coturn_ratio(r)
    if ratio:
        out.append(f"| >= 30 x less CPU per relayed packet than coturn, same client load | **{ratio:.1f} x** "
                   f"(coturn {f(co['cpu_ns_per_packet'], 0)} ns, ternd {f(te['cpu_ns_per_packet'], 0)} ns per relayed "
                   "packet, most of both in the kernel: af_packet over veth, section 3) "
                   f"| {verdict(ratio >= GOAL_COTURN)} |")
    else:
        why = ("ternd's counters in this build have no busy cycles" if te and te.get("busy_seconds") is None
               else "the side-by-side run failed")
        out.append(f"| >= 30 x less CPU per relayed packet than coturn | coturn "
                   f"{f(co.get('cpu_ns_per_packet'), 0)} ns per packet; ternd: {why} | **not measured** |")
    s, p1k, p1m = scaling_ratio(r)
    if s:
        out.append(f"| 1M allocations no more than 20% slower than 1k | 1M at **{s * 100:.0f}%** of 1k "
                   f"({f(p1m['tern']['mpps_cpu'])} vs {f(p1k['tern']['mpps_cpu'])} Mpps per CPU-second) "
                   f"| {verdict(s >= GOAL_SCALING)} |")
    else:
        out.append("| 1M allocations no more than 20% slower than 1k | (the scaling run failed) | **not measured** |")
    low, row = control_min(r)
    if low:
        out.append(f"| >= 200,000 authenticated control transactions per second per core | lowest: "
                   f"**{f(low, 0)}/s** ({row['kind']}, burst {row['burst']}) | {verdict(low >= GOAL_CONTROL)} |")
    else:
        out.append("| >= 200,000 authenticated control transactions/s per core | (bm_control failed) | **not measured** |")
    mem = (r.get("memory") or {}).get("1000000")
    if mem:
        n = mem["allocations"]
        parts = mem["parts_bytes"]
        # publish_dpdk_bytes: the allocation_pps packet buckets, made with the first allocation.
        base = (mem["tables_dpdk_bytes"] + mem["publish_dpdk_bytes"] + parts["traffic_shard_per_worker"]
                - parts["client_hash"]) / n
        limits = (mem.get("rate_limits_bytes_with_max_bps") or 0) / n
        out.append(f"| memory: <= {GOAL_MEMORY} bytes per allocation plus its hash entry, 1M allocations | "
                   f"**{base:.0f} B** with one worker ({base + limits:.0f} B once `limits.max_bps` is set), plus "
                   f"{parts['client_hash'] / n:.0f} B of client index (section 5) | {verdict(base <= GOAL_MEMORY)} |")
    else:
        out.append("| memory per allocation | (the memory run failed) | **not measured** |")
    return out


def machine(r: dict) -> list[str]:
    e = r.get("environment", {})
    opts = ", ".join(f"{k}={v}" for k, v in e.get("build_options", {}).items())
    rows = [
        ("date", e.get("date")), ("host", e.get("host")),
        ("CPU", f"{e.get('cpu')}, {e.get('cores')} cores" + (", AVX-512" if e.get("avx512") else "") +
         (", virtual machine" if e.get("hypervisor") else "")),
        ("memory", f"{e.get('memory_gib')} GiB"), ("OS, kernel", f"{e.get('os')}, {e.get('kernel')}"),
        ("DPDK", f"{e.get('dpdk')} (Debian package {e.get('dpdk_package')})"),
        ("compiler, build", f"{e.get('compiler')}; {opts}"),
        ("coturn", e.get("coturn")), ("Google Benchmark", e.get("google_benchmark")),
        ("IPsec-MB", e.get("ipsec_mb")), ("perf", e.get("perf")),
        ("tern commit", f"{e.get('commit')}" + (" (with uncommitted changes in the checkout)"
                                                 if e.get("worktree_changes") else "")),
        ("hugepages", e.get("hugepages")),
        ("load average", f"{' / '.join(f'{x:.1f}' for x in e.get('load_start', []))} at the start, "
                         f"{' / '.join(f'{x:.1f}' for x in e.get('load_end', []))} at the end (1/5/15 min)"),
    ]
    return ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]


def throughput_section(r: dict, drawn: dict) -> list[str]:
    out = ["## 1. Relay throughput: tern's worker against dpdk-testpmd on the same input", ""]
    if "throughput" in drawn:
        out += ["![throughput](throughput.png)", ""]
    rows = list(r.get("throughput") or [])
    if r.get("throughput_cached"):
        rows.append(r["throughput_cached"])
    if not rows:
        return out + ["The throughput run failed: " + str((r.get("failures") or {}).get("relay throughput")), ""]
    out += ["| input | testpmd io | testpmd 5tswap | tern worker | tern / 5tswap | tern / io | "
            "tern, wall clock | worker's share of its core |", "|---|---|---|---|---|---|---|---|"]
    for e in rows:
        t, s, i = e["tern"], e["5tswap"], e["io"]
        share = sum(t["cpu_share_windows"]) / max(len(t["cpu_share_windows"]), 1)
        out.append(f"| {e['allocations']:,} allocations, {e['frame_size']} B, {e['frames']:,}-frame pcap "
                   f"| {f(i['mpps_cpu'])} Mpps ({f(i['ns_per_packet_cpu'], 1)} ns) "
                   f"| {f(s['mpps_cpu'])} Mpps ({f(s['ns_per_packet_cpu'], 1)} ns) "
                   f"| {f(t['mpps_cpu'])} Mpps ({f(t['ns_per_packet_cpu'], 1)} ns) "
                   f"| **{e['ratio_5tswap']:.2f}** | {e['ratio_io']:.2f} "
                   f"| {f(t['mpps'])} Mpps (5tswap {f(s['mpps'])}) | {share * 100:.0f}% |")
    out += ["", "Mpps are millions of packets per second of the forwarding thread's CPU time (see Method); ns are "
            "the same figure inverted: CPU time per packet, the PMD's RX copy and TX free included.", ""]
    h = headline(r)
    if h:
        c = h["tern"].get("counters", {})
        relayed = {k: c.get(k, 0) for k in ("channel_data_to_peer", "send_to_peer", "channel_data_to_client",
                                             "data_indication_to_client")}
        total = sum(relayed.values())
        drops = {k: v for k, v in c.items() if k.startswith("drop_")}
        out += [f"What the worker did with the {h['allocations']:,}-allocation, 200-byte mix during the measured "
                f"windows (its own counters): " + ", ".join(f"{k} {v / max(total, 1) * 100:.1f}%" for k, v in relayed.items())
                + f" of {total:,} relayed packets; rx_packets {c.get('rx_packets', 0):,}, tx_packets "
                f"{c.get('tx_packets', 0):,}; " + (("drops: " + ", ".join(f"{k} {v:,}" for k, v in drops.items()))
                                                     if drops else "no drop counter moved") + ".", ""]
        lat = h["tern"].get("latency_ns") or {}
        if lat.get("samples"):
            out += ["### Added latency", ""]
            if "latency" in drawn:
                out += ["![latency](latency.png)", ""]
            out += ["| frames | samples | p50 | p90 | p99 | p99.9 | max | Mpps while stamping |",
                    "|---|---|---|---|---|---|---|---|"]
            for e in r.get("throughput") or []:
                lt = e["tern"].get("latency_ns") or {}
                if lt.get("samples"):
                    out.append(f"| {e['frame_size']} B | {lt['samples']:,} | {lt['p50'] / 1000:.2f} us | "
                               f"{lt['p90'] / 1000:.2f} us | {lt['p99'] / 1000:.2f} us | {lt['p999'] / 1000:.2f} us "
                               f"| {lt['max'] / 1000:.0f} us | {f(lt['mpps_while_stamping'])} (wall) |")
            out += ["", "How it is stamped: an ethdev RX callback on the worker's RX queue writes one `rte_rdtsc()` "
                    "into a dynamic mbuf field of every packet of a burst as `rte_eth_rx_burst` returns it; an ethdev "
                    "TX callback on the worker's TX queue reads it as `rte_eth_tx_burst` takes the packet, on the same "
                    "lcore, and files `now - stamp` in an 8 ns histogram (bench/latency.hpp). The figure is the "
                    "time a packet spends inside the worker: classification, lookups, rewrite and waiting for the "
                    "rest of its burst of 32 — at saturation a packet waits for the whole burst, so p50 is about "
                    "32 x the per-packet cost. The PMD's own RX copy and TX are not in it. The tail is the "
                    "scheduler: when another process gets the core, the packets of the burst in hand wait for the "
                    "time slice to end (the max is one such slice). The callbacks cost a little throughput, "
                    "so latency is measured in a phase of its own after the throughput windows.", ""]
    return out


def scaling_section(r: dict, drawn: dict) -> list[str]:
    out = ["## 2. Scaling with state", ""]
    if "scaling" in drawn:
        out += ["![scaling](scaling.png)", ""]
    pts = r.get("scaling") or []
    if not pts:
        return out + ["The scaling run failed: " + str((r.get("failures") or {}).get("scaling with state")), ""]
    base = next((p["tern"]["mpps_cpu"] for p in pts if p["allocations"] == 1000), None)
    out += ["| allocations | tern worker | ns per packet | vs 1k | testpmd 5tswap (same pcap) | tern / 5tswap |",
            "|---|---|---|---|---|---|"]
    for p in pts:
        t = p["tern"]
        s = p.get("5tswap")
        out.append(f"| {p['allocations']:,} | {f(t['mpps_cpu'])} Mpps | {f(t['ns_per_packet_cpu'], 1)} | "
                   f"{(t['mpps_cpu'] / base * 100) if base else float('nan'):.0f}% | "
                   f"{f(s['mpps_cpu']) + ' Mpps' if s else '-'} | {f(t['mpps_cpu'] / s['mpps_cpu']) if s else '-'} |")
    frames = r["plan"]["frames"]
    per_alloc = ((r.get("memory") or {}).get("1000000") or {}).get("bytes_per_allocation", 300)
    t1m = touched(1_000_000, frames)
    out += ["", f"Each point is its own pcap of {frames:,} frames whose allocations are drawn uniformly from the "
            f"whole table, the same 200-byte mix. With 1M allocations a pass over the pcap touches "
            f"{t1m:,.0f} distinct allocations ({t1m / 1e4:.0f}% of the table); at about {per_alloc:.0f} bytes of "
            f"table state each (section 5) that is {t1m * per_alloc / 2**20:.0f} MiB, against a 32 MiB L3 that "
            "also has to hold the frames the PMD copies: the large tables are measured largely out of cache. It is "
            "not the whole table — a pcap covering a million allocations would need a million mbufs held by the PMD.", ""]
    return out


def coturn_section(r: dict, drawn: dict) -> list[str]:
    out = ["## 3. coturn side by side", ""]
    if "coturn" in drawn:
        out += ["![coturn](coturn.png)", ""]
    ratio, co, te = coturn_ratio(r)
    if not co or not te:
        return out + ["The side-by-side run failed: " + str((r.get("failures") or {}).get("coturn side by side")), ""]
    out += ["| | coturn 4.6.1 | ternd |", "|---|---|---|"]
    for label, fn in [
        ("turnutils_uclient messages sent / echoed back", lambda x: f"{x['uclient'].get('sent', 0):,} / {x['uclient'].get('received', 0):,}"),
        ("lost (uclient's count)", lambda x: f"{x['uclient'].get('lost', 0):,} ({x['uclient'].get('lost', 0) / max(x['uclient'].get('sent', 1), 1) * 100:.1f}%)"),
        ("relayed packets (peer veth + client veth)", lambda x: f"{x['relayed']:,}"),
        ("delivered packets/s while the load ran (peak over 1 s)", lambda x: f"{x['pps']:,.0f} ({x['peak_pps']:,.0f})"),
        ("average round trip (uclient)", lambda x: f"{x['uclient'].get('average_rtt_ms', float('nan')):.1f} ms"),
        ("threads", lambda x: f"{x.get('threads')}"),
        ("CPU time over the load", lambda x: (
            f"{x['process_cpu_seconds']:.2f} s (user {x.get('user_seconds', 0):.2f} s, system "
            f"{x.get('system_seconds', 0):.2f} s), /proc/PID/stat" if x["server"] == "coturn"
            else (f"worker on its core {x.get('worker_on_cpu_seconds', 0):.1f} s, "
                  f"{x['busy_share'] * 100:.1f}% of it busy (profile) = {x['busy_cpu_profiled_seconds']:.2f} s, "
                  f"of which kernel {x['kernel_cpu_profiled_seconds']:.2f} s" if x.get("busy_cpu_profiled_seconds") is not None
                  else f"process {x['process_cpu_seconds']:.1f} s (a polling core: says nothing)"))),
        ("**CPU per relayed packet**", lambda x: (
            f"**{f(x.get('cpu_ns_per_packet'), 0)} ns** (user {x.get('user_seconds', 0) / max(x['relayed'], 1) * 1e9:,.0f}, "
            f"system {x.get('system_seconds', 0) / max(x['relayed'], 1) * 1e9:,.0f})" if x["server"] == "coturn"
            else (f"**{f(x.get('cpu_ns_per_packet'), 0)} ns** (kernel {f(x.get('kernel_ns_per_packet_profiled'), 0)}, "
                  f"ternd and DPDK {f((x.get('cpu_ns_per_packet') or 0) - (x.get('kernel_ns_per_packet_profiled') or 0), 0)})"
                  if x.get("kernel_ns_per_packet_profiled") is not None
                  else f"**{f(x.get('cpu_ns_per_packet'), 0)} ns**"))),
        ("ternd's own busy cycles per packet (TSC)", lambda x: "-" if x["server"] == "coturn" else (
            f"{f(x.get('cpu_ns_per_packet_busy_tsc'), 0)} ns (busy {x.get('busy_seconds', 0):.2f} s of "
            f"{x.get('loop_wall_seconds', 0):.1f} s; the worker waited {x.get('worker_waiting_seconds', 0):.1f} s for "
            "its core meanwhile)" if x.get("cpu_ns_per_packet_busy_tsc") is not None else "not counted by this ternd")),
    ]:
        out.append(f"| {label} | {fn(co)} | {fn(te)} |")
    if te.get("worker_relayed"):
        out += ["", f"CPU per packet is over the packets each server relayed: coturn's from the veth counts, ternd's "
                f"from its workers' own counters ({te['worker_relayed']:,}; the veth counts include the control "
                "answers)."]
    if te.get("busy_cpu_profiled_seconds") is not None:
        out += ["", "**How ternd's figure is measured.** A poll-mode worker is on its core all the time, so its CPU "
                "time says nothing; what counts is the time it spends on packets. ternd counts that itself: the TSC "
                "cycles of the loop iterations that received packets (`busy_cycles`, shown in the last row). On a "
                "dedicated core that is the answer. Here the core is shared — the worker waited for it "
                f"{te.get('worker_waiting_seconds', 0):.1f} s while it ran {te.get('worker_on_cpu_seconds', 0):.1f} s — "
                "and TSC cycles keep counting while it waits; the iteration that spans a wait is nearly always a "
                "busy one (packets pile up meanwhile), so the count is mostly waiting. The figure used instead: "
                "`perf record -t <worker thread> -e cpu-clock` for the whole load "
                "(cpu-clock samples only while the thread runs), the share of samples outside the idle poll loop "
                "(Worker::run/poll/account and net_af_packet's RX burst on an empty ring) times the thread's time "
                "on its core (schedstat) = busy CPU time, divided by the packets its workers relayed. Everything "
                "else counts as busy: tern's code, librte_hash, mbufs, net_af_packet's TX burst (the function that "
                "calls `sendto`, found in the library's .eh_frame) and every kernel sample.", ""]
    if co.get("system_seconds") is not None and te.get("kernel_ns_per_packet_profiled") is not None:
        out += [f"Most of either figure is the kernel. coturn spends {co['system_seconds'] / max(co['relayed'], 1) * 1e9:,.0f} "
                f"ns of system time per packet (its `recvmsg`/`sendmsg`) and {co['user_seconds'] / max(co['relayed'], 1) * 1e9:,.0f} "
                f"ns of its own; ternd's worker spends {te['kernel_ns_per_packet_profiled']:,.0f} ns per "
                "packet in the kernel — the af_packet `sendto`, which copies each frame out of the TX ring, "
                "pushes it through the veth and, on the same CPU, through the receiving namespace's IP and UDP "
                "stack — before any of its own work (one asymmetry, in ternd's favour: the copy of a received frame into the "
                "af_packet RX ring happens in the sender's softirq, where coturn's `recvmsg` copy is its own). That "
                "floor is the test's transport, not ternd: with a NIC the "
                "worker's cost per relayed packet is the harness's figure (section 1: "
                + (f"{headline(r)['tern']['ns_per_packet_cpu']:.0f} ns on the headline mix, the PMD's RX copy included"
                   if headline(r) else "n/a") + "), but that is another setup and not this test's comparison.", ""]
    c = r["plan"]["coturn"]
    out += ["", f"The load: `turnutils_uclient -c -m {c['sessions']} -n {c['messages']} -l {c['length']} "
            f"-z {c['interval_ms']}` — {c['sessions']} sessions, ChannelData, {c['length']}-byte messages, each "
            f"session asked to send one message every {c['interval_ms']} ms ({c['messages']:,} per session), to "
            "turnutils_peer, which echoes each back through the relay. The same command, the same topology and "
            "the same peer for both servers; coturn with one relay thread (`--relay-threads 1`), ternd with one "
            "worker.", ""]
    for kind in ("coturn", "ternd"):
        earlier = (r.get("coturn") or {}).get(kind, {}).get("earlier_attempt")
        if earlier:
            out += [f"Against {kind}, the first run of turnutils_uclient exited with status {earlier['uclient_status']} "
                    f"(its last lines: `{' / '.join(earlier['uclient_tail'])}`); the figures are from a second run. "
                    "uclient quits on the first error any session meets; the server's logs of both runs are under "
                    f"build-bench-release/bench-work/side-by-side-{kind}-1 and -2.", ""]
    out += ["The kernel is the bottleneck of this test for both servers: every packet crosses veth pairs and the "
            "namespaces' UDP stacks, and ternd's ports are net_af_packet sockets on the veth ends (a copy and a "
            "`sendto` per TX burst), all on a 2-core machine where uclient, the peer, the kernel and the server share "
            "the cores (ternd's worker takes one of them whole). uclient cannot offer the rate it is asked for "
            "(100 sessions x 1000/s) here; what it manages is what both servers got. Delivered packets per second and "
            "loss therefore describe this machine's kernel path more than either server, and the comparison that "
            "means something is the CPU each server spends per relayed packet.", ""]
    return out


def streams_section(r: dict) -> list[str]:
    """coturn and ternd under the same turnutils_uclient load over TCP and TLS; the UDP fast paths with TCP and TLS
    clients beside them."""
    out = ["## 3b. TURN over TCP and TLS", ""]
    runs = r.get("coturn_streams") or {}
    if not runs:
        failed = (r.get("failures") or {}).get("coturn side by side over TCP and TLS")
        out += ["The TCP and TLS side-by-side run " + (f"failed: {failed}" if failed else "was not part of this run"), ""]
    else:
        out += ["| transport | server | messages sent / echoed | lost | round trip | CPU per relayed message | of which |",
                "|---|---|---|---|---|---|---|"]
        for transport, pair in runs.items():
            for kind in ("coturn", "ternd"):
                x = pair.get(kind) or {}
                u = x.get("uclient") or {}
                if kind == "coturn":
                    split = (f"user {x.get('user_seconds', 0) / max(x.get('relayed', 1), 1) * 1e9:,.0f}, system "
                             f"{x.get('system_seconds', 0) / max(x.get('relayed', 1), 1) * 1e9:,.0f}")
                else:
                    split = (f"worker {f(x.get('worker_ns_per_packet'), 0)}, stream thread "
                             f"{f(x.get('stream_thread_ns_per_packet'), 0)}")
                out.append(f"| {transport.upper()} | {kind} | {u.get('sent', 0):,} / {u.get('received', 0):,} | "
                           f"{u.get('lost', 0):,} | {u.get('average_rtt_ms', float('nan')):.1f} ms | "
                           f"**{f(x.get('cpu_ns_per_packet'), 0)} ns** | {split} |")
            co, te = pair.get("coturn") or {}, pair.get("ternd") or {}
            if co.get("cpu_ns_per_packet") and te.get("cpu_ns_per_packet"):
                out.append(f"| | coturn / ternd | | | | **{co['cpu_ns_per_packet'] / te['cpu_ns_per_packet']:.1f} x** | |")
        c = r["plan"].get("coturn_streams") or {}
        out += ["", f"The load: `turnutils_uclient -t` (TCP to 3478) and `-t -S` (TLS to 5349, trusting the run's own "
                f"CA) with `-c -m {c.get('sessions')} -n {c.get('messages')} -l {c.get('length')} -z "
                f"{c.get('interval_ms')}`, ChannelData, echoed by turnutils_peer over UDP. Messages are counted from "
                "uclient's own totals (each relayed twice), since TCP segments do not map to messages. coturn's CPU is "
                "its process's; ternd's is its worker's busy time (measured as in section 3) plus all the CPU time of "
                "its stream transport thread (`tern-streams`: the sockets, OpenSSL, the exception path's TAP, and the "
                "kernel's TCP work done in its system calls). On this test transport ternd pays more than coturn for "
                "the same bytes: the kernel's TCP in its own namespace, then the TAP, then af_packet to the veth, where "
                "coturn's sockets are the TCP connection; with a NIC the af_packet leg goes, the kernel's TCP stays. "
                "The comparison says what a TCP or TLS client costs each server here, not what the UDP fast path "
                "costs.", ""]
    dp = {(x["path"], x["allocations"]): x["ns"] for x in
          ((r.get("micro") or {}).get("bm_dataplane") or {}).get("rows", []) if not x.get("error")}
    pairs = [(p, dp.get((p, 100000)), dp.get((p + "WithStreams", 100000)))
             for p in ("ChannelDataToPeer", "PeerToClientChannelData")]
    rows = [f"| {p} | {f(a, 1)} | {f(b, 1)} | {(b / a - 1) * 100:+.1f}% |" for p, a, b in pairs if a and b]
    if rows:
        out += ["The UDP fast paths beside TCP and TLS clients (bm_dataplane, 100k UDP allocations; *with streams*: "
                "TCP and TLS listeners configured and 1,000 stream clients' allocations in the same tables):", "",
                "| path | ns/packet | with streams | change |", "|---|---|---|---|"] + rows + [
                "", "What a worker does more per loop with streams (one poll of an empty from_stream ring) is per "
                "burst, not per packet, and is not in these figures.", ""]
    return out


def micro_section(r: dict, drawn: dict) -> list[str]:
    m = r.get("micro") or {}
    out = ["## 4. Micro-benchmarks (Google Benchmark, release build, CPU time)", ""]
    if not m:
        return out + ["The micro-benchmarks failed: " + str((r.get("failures") or {}).get("micro-benchmarks")), ""]
    dp = (m.get("bm_dataplane") or {}).get("rows") or []
    if dp:
        out += ["### Worker fast paths and table lookups (bm_dataplane, hugepages)", ""]
        if "fastpaths" in drawn:
            out += ["![fast paths](fastpaths.png)", ""]
        table = {}
        for x in dp:
            table.setdefault(x["path"], {})[x["allocations"]] = x
        sizes = [1000, 100000, 1000000]
        out += ["| benchmark | 1k | 100k | 1M | unit |", "|---|---|---|---|---|"]
        for path, by in table.items():
            unit = "ns/key" if "Lookup" in path else "ns/packet"
            if None in by:
                out.append(f"| {path} | {f(by[None]['ns'], 1)} | | | {unit} |")
                continue
            out.append(f"| {path} | " + " | ".join(f(by[s]["ns"], 1) if s in by else "" for s in sizes) + f" | {unit} |")
        out += ["", "Bursts of 32 synthetic frames per iteration, allocated from a real pool, processed by "
                "`Worker::process` and transmitted to a net_null port; IoOnly is that harness alone (subtract it for "
                "the worker's own cost). *Scalar* rows run the reference per-packet loop instead of the bulk one. "
                "Hairpin is client ChannelData to another allocation's relayed address on this server, delivered to "
                "that allocation's client without touching the wire. ClientLookup is the client-index `rte_hash` "
                "lookup (bulk: per key in groups of 32, a whole burst); RelayLookup the flat relayed-address array. Each path cycles "
                "through 4096 frames, so it touches at most 4096 allocations however large the table: the 1M column "
                "measures a sparse table, not cold state (tern-bench, sections 1-2, does).", ""]
    ctl = (m.get("bm_control") or {}).get("rows") or []
    if ctl:
        out += ["### Control plane: authenticated transactions per second per core (bm_control)", ""]
        if "control" in drawn:
            out += ["![control](control.png)", ""]
        out += ["| transaction | burst | per second | crypto backend |", "|---|---|---|---|"]
        for x in ctl:
            out.append(f"| {x['kind']} | {x['burst']} | {f(x['per_second'], 0)} | {x['label']} |"
                       + (f" {x['error']}" if x.get("error") else ""))
        out += ["", "Every request distinct and carrying MESSAGE-INTEGRITY (long-term credentials), through "
                "`ControlPlane::handle()` over a no-op table writer: codec, authentication, allocation logic and "
                "the reply, crypto included; Allocate also picks a relay port and a slot.", ""]
    codec = (m.get("bm_codec") or {}).get("rows") or []
    if codec:
        out += ["### STUN/TURN codec (bm_codec)", "", "| benchmark | ns per message |", "|---|---|"]
        out += [f"| {x['name'].removeprefix('BM_')} | {f(x['ns'], 1)} |" for x in codec]
        out.append("")
    cr = (m.get("bm_crypto") or {}).get("rows") or []
    if cr:
        out += ["### Crypto backends (bm_crypto): ns per message", "",
                "| operation | backend | ns per message |", "|---|---|---|"]
        for x in cr:
            op, _, backend = x["name"].rpartition("/")
            out.append(f"| {op} | {backend} | {f(x['ns_per_message'], 1)} |")
        out += ["", "HMAC over a 100-byte STUN message with keys precomputed; *batchN* is N messages per "
                "submission (multi-buffer for IPsec-MB), figure per message.", ""]
    return out


def memory_section(r: dict) -> list[str]:
    mem = (r.get("memory") or {}).get("1000000")
    out = ["## 5. Memory", ""]
    if not mem:
        return out + ["The memory run failed: " + str((r.get("failures") or {}).get("memory")), ""]
    n = mem["allocations"]
    parts = mem["parts_bytes"]
    names = {"slots": "allocation slots (2 cache lines each)",
             "relay_index": "relayed-address index (64K entries per relay address)",
             "client_hash": "client index (rte_hash, 5-tuple -> slot)",
             "permission_overflow_hash": "permission overflow hash (N/4 entries)",
             "channel_overflow_hashes": "channel overflow hashes, both directions (N/4 entries each)",
             "channel_overflow_pool": "channel overflow entries (N/4)",
             "traffic_shard_per_worker": "per-worker traffic shard (64 B per slot, one per worker)"}
    out += [f"At {n:,} allocations (DPDK heap, allocator headers included):", "",
            "| part | bytes | per allocation |", "|---|---|---|"]
    for k, label in names.items():
        out.append(f"| {label} | {parts[k]:,} | {parts[k] / n:.1f} |")
    shard = parts["traffic_shard_per_worker"]
    packets = mem["publish_dpdk_bytes"]  # the allocation_pps packet buckets, made with the first allocation
    tables = mem["tables_dpdk_bytes"] + packets
    out += [f"| `limits.allocation_pps` packet buckets, made with the first allocation | {packets:,} | "
            f"{packets / n:.1f} |",
            f"| **tables, with the first allocation** | {tables:,} | {tables / n:.1f} |",
            f"| **total with one worker** | {tables + shard:,} | **{(tables + shard) / n:.1f}** |",
            f"| each further worker | {shard:,} | {shard / n:.1f} |"]
    limits = mem.get("rate_limits_bytes_with_max_bps")
    if limits:
        out += [f"| `limits.max_bps` byte buckets, made when a max_bps is first set | {limits:,} | "
                f"{limits / n:.1f} |",
                f"| **total with one worker and max_bps set** | {tables + shard + limits:,} | "
                f"**{(tables + shard + limits) / n:.1f}** |"]
    out += ["",
            f"Publishing {n:,} allocations (two permissions and a channel each, all inline) allocated "
            f"{mem['publish_dpdk_bytes']:,} more bytes, the packet buckets: every other table is preallocated. The "
            "hashes were also built alone "
            "with the parameters tables.cpp uses, to split the total; the parts add up to the tables' figure. Not "
            "counted: the control plane's own model of each allocation (process heap).", ""]
    mp = mem["mempool"]
    small = (r.get("memory") or {}).get("1000")
    if small:
        out += [f"At 1,000 allocations the tables take {small['tables_dpdk_bytes']:,} bytes "
                f"({small['tables_dpdk_bytes'] / 1000:,.0f} per allocation: the fixed parts — the relay index, the "
                "hashes' minimum of 1024 entries — dominate).", ""]
    out += [f"Packet pool: ternd's default `dataplane.mbufs` = {mp['mbufs']:,} mbufs of {mp['data_room']:,} bytes of "
            f"data room take {mp['bytes']:,} bytes ({mp['bytes_per_mbuf']:,} per mbuf with header and "
            "headroom) per NUMA socket.", ""]
    return out


def profile_section(r: dict) -> list[str]:
    p = r.get("profile")
    out = ["## 6. Where the worker's time goes (perf, cpu-clock)", ""]
    if not p:
        return out + ["The profile run failed: " + str((r.get("failures") or {}).get("profile")), ""]
    out += [f"`perf record -e cpu-clock -t <worker thread>` for {p['seconds']} s during a tern-bench run on the "
            f"headline input (100k allocations, 200 B; {f(p['mpps_cpu'])} Mpps per CPU-second while profiled), "
            f"`{p['report_command']}`. Hardware counters are not available on this machine; cpu-clock samples "
            "land on the instruction after a stall, so a cache miss shows on the instruction that follows the load.",
            "", "| share | DSO |", "|---|---|"]
    out += [f"| {x['percent']:.1f}% | {x['what']} |" for x in p["by_dso"]]
    out += ["", "| share | DSO and symbol |", "|---|---|"]
    out += [f"| {x['percent']:.1f}% | `{x['what']}` |" for x in p["by_symbol"]]
    out += ["", "The unnamed addresses are static functions of Debian's stripped DPDK libraries: in "
            "librte_net_pcap they fall in the copy loop of the infinite-RX burst (the `rte_memcpy` of each stored "
            "frame into a fresh mbuf: `objdump -d` of the .so), in librte_hash inside the bulk lookup. The PMD's "
            "share is the generator's cost, paid by testpmd too.", ""]
    hot = p.get("hot") or []
    if hot:
        out += ["The hottest instruction of each of tern's busiest functions (`perf annotate`; a cpu-clock sample "
                "lands just after the instruction that stalled, so read the ones before it):", "",
                "| function | share of its samples | instruction | the instructions before it |", "|---|---|---|---|"]
        for h in hot:
            before = "; ".join(f"`{re.sub(r' <.*>', '', b.split(' ', 1)[1] if ' ' in b else b)}`"
                               for b in h["before"][-3:])
            out.append(f"| `{h['symbol'].removeprefix('tern::dp::')}` | {h['percent']:.0f}% | "
                       f"`{h['instruction'].split(' ', 1)[1]}` | {before} |")
        out.append("")
    return out


def touched(allocations: int, frames: int) -> float:
    """Expected distinct allocations among `frames` uniform draws."""
    return allocations * (1 - (1 - 1 / allocations) ** frames)


def dso_share(r: dict, needle: str) -> float:
    p = r.get("profile") or {}
    return sum(x["percent"] for x in p.get("by_dso", []) if needle in x["what"])


def shortfalls(r: dict) -> list[str]:
    out = ["## What falls short, and why", ""]
    h = headline(r)
    any_short = False
    if h and h["ratio_5tswap"] < GOAL_RATIO:
        any_short = True
        t, s, i = h["tern"]["ns_per_packet_cpu"], h["5tswap"]["ns_per_packet_cpu"], h["io"]["ns_per_packet_cpu"]
        p = r.get("profile") or {}
        per = 1e3 / p["mpps_cpu"] if p.get("mpps_cpu") else t
        pcap_share, hash_share, own_share = dso_share(r, "net_pcap"), dso_share(r, "librte_hash"), dso_share(r, "tern-bench")
        out += [f"**Throughput against testpmd 5tswap: {h['ratio_5tswap']:.2f} x, short of 0.5 x.** On the headline "
                f"input a 5tswap core spends {s:.0f} ns per packet and an io core {i:.0f} ns — nearly all of it the "
                f"net_pcap PMD copying each stored frame into a fresh mbuf — while tern's worker spends {t:.0f} ns. "
                f"The goal needs tern at {2 * s:.0f} ns or less: about {t - 2 * s:.0f} ns per packet less than now.", ""]
        if p:
            out += [f"Where the time goes, in the profiled run ({per:.0f} ns per packet; section 6): about {pcap_share * per / 100:.0f} ns "
                    f"({pcap_share:.0f}%) in the PMD's RX copy and TX free, {hash_share * per / 100:.0f} ns "
                    f"({hash_share:.0f}%) in librte_hash — the client-index lookup, made for the client half of the mix, "
                    f"so about {2 * hash_share * per / 100:.0f} ns per client packet — and {own_share * per / 100:.0f} ns "
                    f"({own_share:.0f}%) in tern's own code. The PMD costs tern more than it costs testpmd (whose whole "
                    f"io loop is {i:.0f} ns): it reads the stored frames, and tern's per-allocation state — slot, "
                    "client-index bucket and key, traffic shard, for the "
                    f"{touched(h['allocations'], h['frames']):,.0f} allocations the pcap touches — pushes "
                    "them out of the caches. On this shared machine the worker also gets its core only part of the "
                    "time and comes back to caches the other processes have filled; that hurts the side with the "
                    "larger working set, tern, more than testpmd.", ""]
            hot = {x["symbol"].removeprefix("tern::dp::"): x for x in p.get("hot") or []}
            notes = []
            slot = [hot[k] for k in ("Worker::client_data", "Worker::to_client") if k in hot]
            if slot:
                notes.append("in " + " and ".join(f"`{x['symbol'].removeprefix('tern::dp::')}` {x['percent']:.0f}%"
                                                 for x in slot)
                             + " of the samples sit on the first load from the allocation slot (its expiry, "
                             "`Tables::live`): the slot is not in cache yet although it was prefetched when the group "
                             "was looked up")
            if "Worker::process_group" in hot:
                notes.append(f"in `process_group` the samples gather right after the `prefetcht0` of the slots "
                             f"({hot['Worker::process_group']['percent']:.0f}% on one): with a burst of 32 packets x 3-4 "
                             "lines in flight the core runs out of miss buffers and the prefetches themselves wait")
            cl = hot.get("Worker::classify")
            if cl and cl["percent"] > 50 and any("(%rsp)" in b for b in cl["before"]):
                notes.append(f"in `classify` {cl['percent']:.0f}% of the samples follow one 8-byte load from the "
                             "stack of a value just written there as 4 + 2 bytes — `load_mac` of the destination MAC "
                             "(a 6-byte `memcpy` into a `uint64_t`): a store-forwarding stall on every packet")
            if notes:
                out += ["Annotating tern's functions (section 6): " + "; ".join(notes) + ".", ""]
        cached = r.get("throughput_cached")
        if cached:
            out += [f"With a {cached['frames']:,}-frame input that stays in cache the ceiling rises much more "
                    f"(5tswap {cached['5tswap']['ns_per_packet_cpu']:.0f} ns) than tern improves "
                    f"({cached['tern']['ns_per_packet_cpu']:.0f} ns): {cached['ratio_5tswap']:.2f} x. The "
                    f"{r['plan']['frames']:,}-frame input of the headline is the one that spreads the mix over most of "
                    "the 100k allocations, which is why the goal is judged on it; the cache-resident one shows how "
                    "far tern's own work is from a bare forwarder.", ""]
        sizes = sorted(r.get("throughput") or [], key=lambda e: e["frame_size"])
        if len(sizes) > 1:
            out += ["By frame size: " + ", ".join(f"{e['frame_size']} B {e['ratio_5tswap']:.2f} x" for e in sizes) +
                    ". What tern adds to the io loop hardly depends on the size (" +
                    ", ".join(f"{e['tern']['ns_per_packet_cpu'] - e['io']['ns_per_packet_cpu']:.0f} ns at "
                              f"{e['frame_size']} B" for e in sizes) +
                    "): it never reads the payload. The PMD's copy grows with the size, so large frames hide tern's "
                    "cost and small ones expose it.", ""]
        dp = {(x["path"], x["allocations"]): x["ns"] for x in
              ((r.get("micro") or {}).get("bm_dataplane") or {}).get("rows", []) if not x.get("error")}
        scalar, bulk = dp.get(("ChannelDataToPeerScalar", 100000)), dp.get(("ChannelDataToPeer", 100000))
        leads = ["per-allocation state: fewer cache lines per packet (the common packet reads slot line 0, the "
                 "channel line, the traffic shard and, from clients, a hash bucket and key) and lookups issued a burst "
                 "earlier (look up burst k+1 before finishing burst k; today one bulk lookup covers a whole burst, "
                 "which took 100k allocations from 135 to about 120 ns per packet against groups of 16), so slot "
                 "loads stop waiting",
                 "the client index: its bulk `rte_hash` lookup is the largest single item after the PMD; a "
                 "smaller bucket walk or a direct index would cut it"]
        scalar_1m = dp.get(("ChannelDataToPeerScalar", 1000000))
        if scalar and bulk:
            leads.append(f"the scalar loop (bursts of fewer than 4 packets, i.e. light load): {scalar:.0f} ns per "
                         f"ChannelData packet at 100k allocations"
                         + (f" and {scalar_1m:.0f} ns at 1M" if scalar_1m else "")
                         + f", against {bulk:.0f} ns in bulk at 100k (bm_dataplane) — every "
                         "lookup a chain of dependent cache misses, nothing prefetched; prefetching there, or the bulk "
                         "path for bursts of 2-3, would help the lightly loaded relay most (the coturn comparison runs "
                         "at light load)")
        hp = {n: dp.get(("Hairpin", n)) for n in (1000, 1000000)}
        if hp[1000] and hp[1000000] and dp.get(("ChannelDataToPeer", 1000000)):
            leads.append(f"hairpin: {hp[1000]:.0f} ns per packet at 1k allocations but {hp[1000000]:.0f} ns at 1M "
                         f"(ChannelData to a peer: {dp[('ChannelDataToPeer', 1000000)]:.0f} ns at 1M) — the second "
                         "allocation (relay index, slot, shard) is found and read inside the finish step, after the "
                         "group's prefetches; prefetching it with the group would bring it in line")
        out += ["Leads for the data plane, from these profiles (measured here, not changed here):", ""]
        out += [f"- {x}" for x in leads] + [""]
    ratio, co, te = coturn_ratio(r)
    if ratio is not None and ratio < GOAL_COTURN:
        any_short = True
        out += [f"**CPU per relayed packet against coturn: {ratio:.1f} x, short of 30 x.** In this test "
                "both servers' packets cross the kernel: coturn's through its sockets, ternd's through net_af_packet "
                "on the veth ends, whose `sendto` per TX burst does the veth transmit and the receiving namespace's "
                "stack on the worker's CPU. "
                + (f"That kernel work alone is {te['kernel_ns_per_packet_profiled']:,.0f} ns per packet for ternd's "
                   f"worker, against coturn's {co['cpu_ns_per_packet']:,.0f} ns in all; "
                   if te.get("kernel_ns_per_packet_profiled") is not None else "")
                + "30 x less than coturn is out of reach on this transport whatever the worker does. "
                "What would measure the goal: the same load on a NIC (or a vdev without a kernel in the path, e.g. "
                "net_memif to a DPDK traffic generator), with the worker's core isolated so that its busy cycles are "
                "CPU time.", ""]
    elif ratio is None and co:
        out += ["**CPU per relayed packet against coturn: not measured for ternd.** coturn's figure is in the table; "
                "ternd's needs its workers' busy cycles (a poll-mode core is always at 100%, so its process CPU time "
                "says nothing), and this run did not get them: see the side-by-side logs under "
                "build-bench-release/bench-work/side-by-side-ternd-1/ and -2/ (turnutils_uclient.log says what the client "
                "met).", ""]
    s, p1k, p1m = scaling_ratio(r)
    if s is not None and s < GOAL_SCALING:
        any_short = True
        pts = {p["allocations"]: p["tern"]["ns_per_packet_cpu"] for p in r.get("scaling") or []}
        steps = ", ".join(f"{n:,}: +{pts[n] - pts[1000]:.0f} ns" for n in sorted(pts) if n != 1000)
        out += [f"**Scaling: 1M allocations at {s * 100:.0f}% of 1k, short of 80%.** Per packet, against 1k: "
                f"{steps}. At 1k the per-allocation state (about 300 bytes each: slot, hash bucket and key, shard) "
                "sits in L2; by 100k the touched allocations' state is the size of L3 and most of the step has "
                "happened; at 1M it comes mostly from DRAM. bm_dataplane shows the same step on every path "
                "(section 4). It is the same cost as the throughput shortfall above, seen from the other side: the "
                "lines per packet and how early they are prefetched.", ""]
    low, row = control_min(r)
    if low is not None and low < GOAL_CONTROL:
        any_short = True
        out += [f"**Control plane: {low:,.0f} transactions/s ({row['kind']}, burst {row['burst']}), short of "
                "200,000.**", ""]
    if not any_short:
        out += ["Nothing: every goal measured in this run is met.", ""]
    return out


def method() -> list[str]:
    return ["## Method", "",
            "- **One run, side by side, as ratios.** Everything in this file comes from one `bench/run`. The machine "
            "is shared: other work runs on both cores, and a poll-mode thread gets the core only part of the "
            "time. Every rate is therefore packets per second *of the forwarding thread's CPU time* — its "
            "`/proc/<pid>/task/<tid>/schedstat` run time, sampled with the packet counters in 1-second windows, "
            "median of the windows — for tern-bench and testpmd alike; the wall-clock rate and the share of the "
            "core the thread got are shown beside it. Google Benchmark figures are CPU time too.",
            "- **Same input.** `tern-bench pcap` writes the mix once; testpmd and tern-bench read that file through "
            "the same PMD with the same arguments: `net_pcap0,rx_pcap=FILE,infinite_rx=1` and no `tx_*` argument, so "
            "both transmit into net_pcap's drop queues (one `rte_pktmbuf_free` per packet, no pcap writing; tern's "
            "port has a second RX/TX pair — net_pcap makes one TX queue per `rx_pcap` — because ternd gives the "
            "control lcore a TX queue of its own). Both on lcores 0-1: main lcore on core 0, one forwarding lcore "
            "on core 1; hugepages (`--in-memory`); mbuf pools of the same size (the PMD holds every frame of the "
            "pcap in an mbuf); bursts of 32.",
            "- **The mix.** Each frame picks an allocation uniformly at random: half from clients (ChannelData on a "
            "bound channel; 2% of all frames Send indications), half from peers to the relayed address (ChannelData "
            "back to the client; 2% from a permitted peer without a channel, relayed as Data indications), all frames "
            "the same size, one ARP request from the gateway opening the pcap (ternd learns the next hop from it). "
            "Every allocation has two permissions and one channel, published through the same `TableWriter` the "
            "control plane uses.",
            "- **The real worker.** tern-bench starts `dp::Runtime` — EAL, ports, pools, RCU, tables, the worker "
            "launched on lcore 1 running `Worker::run` — exactly as ternd does, and serves the control lcore's "
            "side (punt rings, ARP) every millisecond as ternd's service loop does.",
            "- **The ceiling.** testpmd `io` forwards without touching the packet; `5tswap` swaps the MAC, IP and "
            "UDP addresses of every packet, the least a relay must also do. The goal is judged against 5tswap.",
            "- **coturn.** Started by hand with `-n` and every option on the command line (the integration tests' "
            "command line plus `--relay-threads 1`), in the tests' namespace topology; CPU from /proc/PID/stat.",
            ""]


def commands(r: dict) -> list[str]:
    out = ["## Exact commands", "", "Run as root from the repository: `bench/run` (full) or `bench/run --quick`. "
           "It reserves hugepages (and gives them back), builds `build-bench-release` "
           "(`meson setup build-bench-release --buildtype=release -Db_ndebug=true -Dtests=false`, then ninja), and "
           "runs `bench/suite.py`, which ran:", "", "```"]
    for c in r.get("commands", []):
        out.append(f"# {c['what']}\n{c['command']}")
    out += ["```", ""]
    return out


def write(r: dict, out_dir: Path, work: Path) -> None:
    drawn = plots.draw(r, work, out_dir)
    e = r.get("environment", {})
    lines = ["# tern benchmarks", "",
             f"Generated by `bench/run{' --quick' if r['mode'] == 'quick' else ''}` ({r['mode']} run) on "
             f"{e.get('date')}, {r.get('total_seconds', 0) / 60:.1f} minutes of measuring "
             f"({', '.join(f'{k} {v:.0f} s' for k, v in r.get('durations', {}).items())}). Every figure below "
             "comes from this one run; the machine is shared and noisy, so compare the ratios, which were "
             "measured side by side.", ""]
    if r.get("failures"):
        lines += ["**Parts that failed in this run:** " + "; ".join(f"{k}: {v}" for k, v in r["failures"].items()), ""]
    lines += ["## Goals", ""] + goals(r) + ["", "## Machine", ""] + machine(r) + [""]
    lines += throughput_section(r, drawn) + scaling_section(r, drawn) + coturn_section(r, drawn) + streams_section(r)
    lines += micro_section(r, drawn) + memory_section(r) + profile_section(r) + shortfalls(r)
    lines += method() + commands(r)
    (out_dir / "RESULTS.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    # Re-renders RESULTS.md and the plots from a results.json (the figures are not measured again).
    import json
    import sys
    import tempfile

    source = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results.json")
    with tempfile.TemporaryDirectory() as tmp:
        write(json.loads(source.read_text()), source.parent, Path(tmp))
