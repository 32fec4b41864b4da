"""The plots of bench/RESULTS.md, drawn with gnuplot (pngcairo) from the suite's results."""

import subprocess
from pathlib import Path

HEAD = """set terminal pngcairo size 1000,560 enhanced font 'DejaVu Sans,11'
set output '{png}'
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set key top right box opaque
"""
# testpmd io, testpmd 5tswap, tern, coturn
COLORS = {"io": "#9e9e9e", "5tswap": "#5b7db1", "tern": "#e07b39", "coturn": "#7a7a7a", "ternd": "#e07b39"}


def _plot(work: Path, name: str, data: dict[str, str], script: str, out: Path) -> Path | None:
    for fname, text in data.items():
        (work / fname).write_text(text)
    png = out / f"{name}.png"
    (work / f"{name}.gp").write_text(HEAD.format(png=png) + script)
    done = subprocess.run(["gnuplot", str(work / f"{name}.gp")], cwd=work, capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        (work / f"{name}.gnuplot-error.txt").write_text(done.stderr)
        return None
    return png


def throughput(results: dict, work: Path, out: Path) -> Path | None:
    rows = []
    for e in results.get("throughput", []):
        rows.append((f"{e['frame_size']} B frames", e))
    if results.get("throughput_cached"):
        e = results["throughput_cached"]
        rows.append((f"{e['frame_size']} B, {e['frames']}-frame input", e))
    if not rows:
        return None
    lines = ["# group io 5tswap tern ratio"]
    for label, e in rows:
        lines.append(f"\"{label}\" {e['io']['mpps_cpu']:.3f} {e['5tswap']['mpps_cpu']:.3f} "
                     f"{e['tern']['mpps_cpu']:.3f} {e['ratio_5tswap']:.2f}")
    top = max(max(e["io"]["mpps_cpu"], e["5tswap"]["mpps_cpu"]) for _, e in rows)
    script = f"""set title "One forwarding core, the same pcap input: packets per second of the core's CPU time" font ',13'
set ylabel 'Mpps per CPU-second (one core)'
set yrange [0:{top * 1.2:.1f}]
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
plot 'throughput.dat' using 2:xtic(1) title 'dpdk-testpmd io (ceiling)' lc rgb '{COLORS["io"]}', \\
     '' using 3 title 'dpdk-testpmd 5tswap' lc rgb '{COLORS["5tswap"]}', \\
     '' using 4 title 'tern worker (ternd code)' lc rgb '{COLORS["tern"]}', \\
     '' using ($0+0.3):4:(sprintf('%.2f x 5tswap', $5)) with labels offset 0,1 font ',10' notitle
"""
    return _plot(work, "throughput", {"throughput.dat": "\n".join(lines) + "\n"}, script, out)


def scaling(results: dict, work: Path, out: Path) -> Path | None:
    points = results.get("scaling") or []
    if not points:
        return None
    lines = ["# allocations tern 5tswap"]
    for p in points:
        ceiling = p.get("5tswap", {}).get("mpps_cpu")
        lines.append(f"{p['allocations']} {p['tern']['mpps_cpu']:.3f} {ceiling if ceiling else 'NaN'}")
    base = next((p["tern"]["mpps_cpu"] for p in points if p["allocations"] == 1000), points[0]["tern"]["mpps_cpu"])
    top = max(max(p["tern"]["mpps_cpu"], p.get("5tswap", {}).get("mpps_cpu", 0)) for p in points)
    has_ceiling = any("5tswap" in p for p in points)
    ceiling_plot = (f", 'scaling.dat' using 1:3 with linespoints lw 2 pt 5 lc rgb '{COLORS['5tswap']}' "
                    "title 'dpdk-testpmd 5tswap on the same pcap'") if has_ceiling else ""
    script = f"""set title "Scaling with state: the worker's rate as the allocation table grows" font ',13'
set xlabel 'allocations in the table (each with a permission pair and a bound channel)'
set ylabel 'Mpps per CPU-second (one core)'
set logscale x
set xrange [500:2000000]
set yrange [0:{top * 1.25:.1f}]
set xtics ('1k' 1000, '10k' 10000, '100k' 100000, '1M' 1000000)
set key bottom left box opaque
plot {base * 0.8:.3f} with lines dt 2 lw 2 lc rgb '#c0392b' title 'goal: no more than 20% below 1k', \\
     'scaling.dat' using 1:2 with linespoints lw 3 pt 7 ps 1.5 lc rgb '{COLORS["tern"]}' title 'tern worker', \\
     'scaling.dat' using 1:2:(sprintf('%.2f', $2)) with labels offset 0,1.3 notitle{ceiling_plot}
"""
    return _plot(work, "scaling", {"scaling.dat": "\n".join(lines) + "\n"}, script, out)


def latency(results: dict, work: Path, out: Path) -> Path | None:
    heads = results.get("throughput") or []
    curves = [(e["frame_size"], e["tern"]["latency_ns"]) for e in heads
              if e.get("tern", {}).get("latency_ns", {}).get("cdf")]
    if not curves:
        return None
    data = {}
    plots = []
    palette = ["#e07b39", "#5b7db1", "#2e8b57"]
    for i, (size, lat) in enumerate(curves):
        fname = f"latency-{size}.dat"
        data[fname] = "".join(f"{ns} {q * 100}\n" for q, ns in lat["cdf"])
        plots.append(f"'{fname}' using 1:2 with linespoints lw 2 pt 7 lc rgb '{palette[i % 3]}' "
                     f"title '{size} B frames (p50 {lat['p50'] / 1000:.1f} us, p99 {lat['p99'] / 1000:.1f} us)'")
    script = f"""set title "Added latency in the worker (TSC at the RX burst -> TSC at the TX burst), 100k allocations" font ',13'
set xlabel 'microseconds'
set ylabel 'percent of packets at or below'
set logscale x
set format x '%g'
set yrange [0:101]
set key bottom right box opaque
plot {', '.join(p.replace("using 1:2", "using ($1/1000):2") for p in plots)}
"""
    return _plot(work, "latency", data, script, out)


def coturn(results: dict, work: Path, out: Path) -> Path | None:
    c = results.get("coturn") or {}
    if "coturn" not in c or "ternd" not in c:
        return None
    rows = []
    for kind in ("coturn", "ternd"):
        r = c[kind]
        cpu = r.get("cpu_ns_per_packet")
        kernel = (r.get("system_seconds", 0) / max(r["relayed"], 1) * 1e9 if kind == "coturn"
                  else r.get("kernel_ns_per_packet_profiled"))
        label = (f"{cpu:,.0f} ns (kernel {kernel:,.0f})" if kernel else f"{cpu:,.0f} ns") if cpu else "n/a"
        lost = r['uclient'].get('lost', 0) / max(r['uclient'].get('sent', 1), 1) * 100
        rows.append(f"{kind} {cpu if cpu else 'NaN'} {r['pps']:.0f} {lost:.2f} \"{label}\"")
    top_pps = max(c[k]["pps"] for k in ("coturn", "ternd")) or 1
    script = f"""set multiplot layout 1,2 title "coturn and ternd under the same turnutils_uclient load (namespaces, veth)" font ',13' noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.7
set key off
set title 'CPU per relayed packet (ns, log scale)'
set logscale y
set yrange [1:100000]
plot 'coturn.dat' using 2:xtic(1) lc rgb '{COLORS["coturn"]}', \\
     '' using ($0):2:(stringcolumn(5)) with labels offset 0,1.5 notitle
unset logscale y
set title 'delivered packets per second (bars) and loss (label)'
set yrange [0:{top_pps * 1.25:.0f}]
plot 'coturn.dat' using 3:xtic(1) lc rgb '{COLORS["5tswap"]}', \\
     '' using ($0):3:(sprintf("%.0f/s\\n%.1f%% lost", $3, $4)) with labels offset 0,1.5 notitle
unset multiplot
"""
    return _plot(work, "coturn", {"coturn.dat": "\n".join(rows) + "\n"}, script, out)


def fastpaths(results: dict, work: Path, out: Path) -> Path | None:
    rows = (results.get("micro", {}).get("bm_dataplane") or {}).get("rows") or []
    paths = ["ChannelDataToPeer", "SendToPeer", "PeerToClientChannelData", "PeerToClientDataIndication", "Hairpin"]
    labels = {"ChannelDataToPeer": "ChannelData\\nclient->peer", "SendToPeer": "Send indication\\nclient->peer",
              "PeerToClientChannelData": "peer->client\\nas ChannelData",
              "PeerToClientDataIndication": "peer->client\\nas Data indication",
              "Hairpin": "hairpin\\nclient->client"}
    table = {(r["path"], r["allocations"]): r["ns"] for r in rows if not r.get("error")}
    sizes = [1000, 100000, 1000000]
    lines = ["# path 1k 100k 1M"]
    for p in paths:
        if any((p, s) in table for s in sizes):
            lines.append(f"\"{labels[p]}\" " + " ".join(f"{table.get((p, s), float('nan')):.1f}" for s in sizes))
    if len(lines) == 1:
        return None
    top = max(v for (p, _), v in table.items() if p in paths)
    io = table.get(("IoOnly", None))
    io_line = f"{io:.2f} with lines dt 2 lw 2 lc rgb '#555555' title 'harness alone (alloc, copy, TX)', " if io else ""
    script = f"""set title "Worker fast paths (bm\\\\_dataplane): ns per packet, bursts of 32 synthetic 200-byte frames" font ',13'
set ylabel 'ns per packet (CPU time)'
set yrange [0:{top * 1.3:.0f}]
set bmargin 4
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border -1
set key top center horizontal box opaque
plot {io_line}'fastpaths.dat' using 2:xtic(1) title '1k allocations' lc rgb '#f3c19d', \\
     '' using 3 title '100k' lc rgb '#e07b39', '' using 4 title '1M' lc rgb '#9c4a17'
"""
    return _plot(work, "fastpaths", {"fastpaths.dat": "\n".join(lines) + "\n"}, script, out)


def control(results: dict, work: Path, out: Path) -> Path | None:
    rows = (results.get("micro", {}).get("bm_control") or {}).get("rows") or []
    kinds = ["Refresh", "CreatePermission", "ChannelBind", "Allocate"]
    table = {(r["kind"], r["burst"]): r["per_second"] for r in rows if not r.get("error")}
    lines = ["# kind burst1 burst32"]
    for k in kinds:
        if (k, 1) in table or (k, 32) in table:
            lines.append(f"{k} {table.get((k, 1), float('nan')) / 1000:.1f} {table.get((k, 32), float('nan')) / 1000:.1f}")
    if len(lines) == 1:
        return None
    top = max(v for v in table.values()) / 1000
    script = f"""set title "Control plane on one core: authenticated transactions per second (MESSAGE-INTEGRITY checked)" font ',13'
set ylabel 'thousand transactions per second'
set yrange [0:{max(top, 200) * 1.2:.0f}]
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border -1
plot 200 with lines dt 2 lw 2 lc rgb '#c0392b' title 'goal: 200k per core', \\
     'control.dat' using 2:xtic(1) title 'one request at a time' lc rgb '#9fb6d9', \\
     '' using 3 title 'bursts of 32 (batch HMAC verify)' lc rgb '#5b7db1'
"""
    return _plot(work, "control", {"control.dat": "\n".join(lines) + "\n"}, script, out)


ALL = [throughput, scaling, latency, coturn, fastpaths, control]


def draw(results: dict, work: Path, out: Path) -> dict[str, Path]:
    drawn = {}
    for fn in ALL:
        png = fn(results, work, out)
        if png is not None:
            drawn[fn.__name__] = png
    return drawn
