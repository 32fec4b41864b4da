#!/usr/bin/python3
"""The benchmark suite behind bench/run: micro-benchmarks, the relay harness against dpdk-testpmd, scaling with
state, coturn side by side, memory; then bench/RESULTS.md, bench/results.json and the plots (bench/*.png).

    /usr/bin/python3 bench/suite.py --build build-bench-release [--quick]

bench/run reserves hugepages and builds first; run this directly only with both done.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import coturn_compare  # noqa: E402
import micro  # noqa: E402
import relay  # noqa: E402
import report  # noqa: E402

FULL = {
    "windows": 8, "latency_seconds": 2, "frames": 131072, "cached_frames": 8192, "frame_sizes": [200, 64, 1200],
    "scaling": [1000, 10000, 100000, 1000000], "scaling_ceiling": True, "profile_seconds": 5,
    "coturn": {"sessions": 100, "messages": 5000, "length": 200, "interval_ms": 1},
    "coturn_streams": {"sessions": 20, "messages": 2000, "length": 200, "interval_ms": 1},
}
QUICK = {
    "windows": 3, "latency_seconds": 1, "frames": 131072, "cached_frames": None, "frame_sizes": [200],
    "scaling": [1000, 10000, 100000, 1000000], "scaling_ceiling": False, "profile_seconds": 3,
    "coturn": {"sessions": 100, "messages": 1000, "length": 200, "interval_ms": 1},
    "coturn_streams": {"sessions": 20, "messages": 500, "length": 200, "interval_ms": 1},
}
HEADLINE_ALLOCATIONS = 100000
INDICATIONS = 4  # percent of frames that are Send/Data indications


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def command(argv) -> str:
    """A command line as run, with paths inside the checkout shown relative to it."""
    return " ".join(str(a) for a in argv).replace(str(ROOT) + "/", "")


def sh(*argv: str) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def environment(build: Path) -> dict:
    cpu = ""
    for line in sh("lscpu").splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    flags = sh("grep", "-m1", "^flags", "/proc/cpuinfo")
    mem_kb = int(sh("awk", "/MemTotal/ {print $2}", "/proc/meminfo") or 0)
    compiler = ""
    intro = sh("meson", "introspect", str(build), "--compilers")
    try:
        c = json.loads(intro)["host"]["cpp"]
        compiler = f"{c['id']} {c['full_version']}" if "full_version" in c else f"{c['id']} {c['version']}"
    except (ValueError, KeyError):
        compiler = sh("c++", "--version").splitlines()[0] if sh("c++", "--version") else ""
    options = {}
    try:
        for o in json.loads(sh("meson", "introspect", str(build), "--buildoptions")):
            if o["name"] in ("buildtype", "b_ndebug", "march", "ipsec_mb"):
                options[o["name"]] = o["value"]
    except ValueError:
        pass

    def pkg(name: str) -> str:
        return sh("dpkg-query", "-W", "-f=${Version}", name)

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 1048576, 1),
        "avx512": "avx512f" in flags, "hypervisor": "hypervisor" in flags,
        "kernel": platform.release(), "os": sh("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
        "dpdk": sh("pkg-config", "--modversion", "libdpdk"), "dpdk_package": pkg("dpdk"),
        "compiler": compiler, "build_options": options,
        "coturn": pkg("coturn"), "google_benchmark": pkg("libbenchmark-dev"), "ipsec_mb": pkg("libipsec-mb-dev"),
        "perf": sh("perf", "--version"),
        # A checkout, or an export of one (git archive) that says which commit it is.
        "commit": sh("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD") or os.environ.get("TERN_BENCH_COMMIT", "?"),
        "worktree_changes": bool(sh("git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no")),
        "hugepages": os.environ.get("TERN_BENCH_HUGEPAGES", "(not reported)"),
        "load_start": os.getloadavg(),
    }


def worker_tid(pid: int) -> int | None:
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip() in relay.WORKER_THREAD_NAMES:
                return int(task.name)
        except OSError:
            continue
    return None


def hot_instructions(data: Path, symbol: str, context: int = 4) -> dict | None:
    """The instruction of `symbol` with the most samples (perf annotate) and the few before it: with cpu-clock the
    sample lands just after a stall, so the stalling instruction is among those before."""
    out = sh("perf", "annotate", "-i", str(data), "--stdio", "-s", symbol)
    lines = []
    for line in out.splitlines():
        pct, sep, rest = line.partition(" :")
        try:
            lines.append((float(pct), " ".join(rest.split())))
        except ValueError:
            continue
    if not lines:
        return None
    i = max(range(len(lines)), key=lambda k: lines[k][0])
    return {"symbol": symbol, "percent": lines[i][0], "instruction": lines[i][1],
            "before": [x[1] for x in lines[max(0, i - context):i]]}


def perf_report(data: Path, sort: str) -> list[dict]:
    out = sh("perf", "report", "-i", str(data), "--no-children", "--sort", sort, "--stdio")
    rows = []
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "%" not in line:
            continue
        pct, _, rest = line.partition("%")
        try:
            what = " ".join(rest.split()).replace("[.] ", "").replace("[k] ", "[kernel] ")
            rows.append({"percent": float(pct), "what": what.removesuffix(" - -")})
        except ValueError:
            continue
    return rows


class Suite:
    def __init__(self, build: Path, quick: bool, work: Path) -> None:
        self.build = build
        self.quick = quick
        self.plan = QUICK if quick else FULL
        self.work = work
        self.tern_bench = build / "bench" / "tern-bench"
        self.results: dict = {"mode": "quick" if quick else "full", "plan": self.plan, "commands": [],
                              "durations": {}}

    def timed(self, name: str, fn) -> None:
        t0 = time.monotonic()
        log(f"{name} ...")
        try:
            fn()
        except Exception as e:  # noqa: BLE001 -- one part failing must not lose the others' figures
            log(f"{name} FAILED: {type(e).__name__}: {e}")
            self.results.setdefault("failures", {})[name] = f"{type(e).__name__}: {e}"
        self.results["durations"][name] = round(time.monotonic() - t0, 1)

    def note_command(self, what: str, argv) -> None:
        self.results["commands"].append({"what": what, "command": command(argv)})

    # ---- 1. micro-benchmarks --------------------------------------------------------------------------------
    def micro(self) -> None:
        out = {}
        for name in micro.SUITES:
            argv, rep = micro.run(self.build, name, self.work / f"{name}.json", self.quick)
            self.note_command(name, argv)
            out[name] = {"context": {k: rep["context"].get(k) for k in ("num_cpus", "mhz_per_cpu", "library_build_type")}}
            if name == "bm_crypto":
                out[name]["rows"] = micro.crypto_table(rep)
            elif name == "bm_codec":
                out[name]["rows"] = micro.codec_table(rep)
            elif name == "bm_control":
                out[name]["rows"] = micro.control_table(rep)
            else:
                out[name]["rows"] = micro.dataplane_table(rep)
        self.results["micro"] = out

    # ---- 2-3. relay harness, testpmd, scaling -------------------------------------------------------------------
    def pcap(self, allocations: int, frames: int, frame_size: int) -> tuple[Path, dict]:
        path = self.work / f"mix-{allocations}-{frames}-{frame_size}.pcap"
        info = relay.write_pcap(self.tern_bench, path, allocations, frames, frame_size, INDICATIONS)
        self.note_command(f"pcap {allocations} allocations, {frames} frames of {frame_size} bytes",
                          [self.tern_bench, "pcap", "--out", path, "--allocations", allocations, "--packets", frames,
                           "--frame-size", frame_size, "--indications", INDICATIONS])
        return path, info

    def testpmd(self, pcap: Path, frames: int, mode: str, tag: str) -> dict:
        r = relay.run_testpmd(pcap, frames, mode, self.plan["windows"], self.work / f"testpmd-{mode}-{tag}.log")
        self.note_command(f"testpmd {mode} ({tag})", r["argv"])
        return r

    def tern(self, pcap: Path, allocations: int, tag: str, latency: bool = True, on_steady=None) -> dict:
        r = relay.run_tern(self.tern_bench, pcap, allocations, self.plan["windows"],
                           self.plan["latency_seconds"] if latency else 0, self.work / f"tern-{tag}.log", on_steady)
        self.note_command(f"tern-bench relay ({tag})", r["argv"])
        return r

    def side_by_side(self, allocations: int, frames: int, frame_size: int, tag: str) -> dict:
        pcap, info = self.pcap(allocations, frames, frame_size)
        entry = {"allocations": allocations, "frames": frames, "frame_size": frame_size, "pcap": info}
        entry["io"] = self.testpmd(pcap, frames, "io", tag)
        entry["5tswap"] = self.testpmd(pcap, frames, "5tswap", tag)
        entry["tern"] = self.tern(pcap, allocations, tag)
        entry["ratio_5tswap"] = entry["tern"]["mpps_cpu"] / entry["5tswap"]["mpps_cpu"]
        entry["ratio_io"] = entry["tern"]["mpps_cpu"] / entry["io"]["mpps_cpu"]
        entry["ratio_5tswap_wall"] = entry["tern"]["mpps"] / entry["5tswap"]["mpps"]
        log(f"  {tag}: tern {entry['tern']['mpps_cpu']:.2f} Mpps/CPU-s, 5tswap {entry['5tswap']['mpps_cpu']:.2f}, "
            f"io {entry['io']['mpps_cpu']:.2f}: ratio {entry['ratio_5tswap']:.2f}")
        if frame_size == 200 and frames == self.plan["frames"]:
            self.pcaps[allocations] = pcap
        return entry

    def throughput(self) -> None:
        self.pcaps = {}
        out = []
        for size in self.plan["frame_sizes"]:
            out.append(self.side_by_side(HEADLINE_ALLOCATIONS, self.plan["frames"], size, f"100k-{size}B"))
            self.results["throughput"] = out
        if self.plan["cached_frames"]:
            self.results["throughput_cached"] = self.side_by_side(HEADLINE_ALLOCATIONS, self.plan["cached_frames"],
                                                                  200, "100k-200B-cached")

    def scaling(self) -> None:
        points = []
        for n in self.plan["scaling"]:
            if n == HEADLINE_ALLOCATIONS and self.results.get("throughput"):
                head = self.results["throughput"][0]
                points.append({"allocations": n, "tern": head["tern"], "5tswap": head["5tswap"]})
                continue
            pcap, info = self.pcap(n, self.plan["frames"], 200)
            point = {"allocations": n, "pcap": info, "tern": self.tern(pcap, n, f"{n}", latency=False)}
            if self.plan["scaling_ceiling"]:
                point["5tswap"] = self.testpmd(pcap, self.plan["frames"], "5tswap", f"{n}")
            log(f"  {n} allocations: tern {point['tern']['mpps_cpu']:.2f} Mpps/CPU-s")
            points.append(point)
            pcap.unlink(missing_ok=True)
        self.results["scaling"] = points

    def profile(self) -> None:
        pcap = self.pcaps.get(HEADLINE_ALLOCATIONS)
        if pcap is None:
            pcap, _ = self.pcap(HEADLINE_ALLOCATIONS, self.plan["frames"], 200)
        data = self.work / "perf.data"
        seconds = self.plan["profile_seconds"]
        started = {}

        def on_steady(pid: int) -> None:
            tid = worker_tid(pid)
            if tid is None:
                return
            argv = ["perf", "record", "-q", "-t", str(tid), "-e", "cpu-clock", "-o", str(data), "--", "sleep",
                    str(seconds)]
            started["argv"] = argv
            started["proc"] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        saved = self.plan["windows"]
        self.plan["windows"] = seconds + 2
        try:
            run = self.tern(pcap, HEADLINE_ALLOCATIONS, "100k-200B-profiled", latency=False, on_steady=on_steady)
        finally:
            self.plan["windows"] = saved
        if "proc" not in started:
            raise RuntimeError("the profiler never started (worker thread not found)")
        started["proc"].wait(timeout=60)
        self.note_command("profile of the worker thread", started["argv"])
        by_symbol = perf_report(data, "dso,symbol")
        own = [x["what"].split(" ", 1)[1] for x in by_symbol if x["what"].startswith("tern-bench ")][:6]
        self.results["profile"] = {
            "mpps_cpu": run["mpps_cpu"], "seconds": seconds,
            "by_dso": perf_report(data, "dso")[:12], "by_symbol": by_symbol[:25],
            "hot": [h for h in (hot_instructions(data, sym) for sym in own) if h],
            "report_command": "perf report -i perf.data --no-children --sort dso,symbol",
        }

    # ---- 4. coturn side by side --------------------------------------------------------------------------------
    def against_coturn(self, c: dict, transport: str) -> dict:
        out = {}
        for kind in ("coturn", "ternd"):
            head = (self.results.get("throughput") or [{}])[0].get("tern", {})
            tag = f"side-by-side-{kind}" + ("" if transport == "udp" else f"-{transport}")

            def attempt(n: int) -> dict:
                return coturn_compare.run_one(kind, self.work / f"{tag}-{n}", self.build, c["sessions"],
                                              c["messages"], c["length"], c["interval_ms"],
                                              tsc_hz=head.get("tsc_hz", 0), transport=transport)
            r = attempt(1)
            if r.get("uclient_status") != 0:
                # turnutils_uclient quits on the first error any of its sessions meets (one in a few runs here: a
                # kernel-reused local port still holding the allocation of its closed probe socket, or two random
                # channel numbers that collide). One more run, and the report says the first one failed and why.
                tail = (self.work / f"{tag}-1" / "turnutils_uclient.log").read_text(errors="replace")
                log(f"  {kind} ({transport}): turnutils_uclient exited with {r.get('uclient_status')}; once more")
                first = {"uclient_status": r.get("uclient_status"), "uclient_tail": tail.strip().splitlines()[-4:]}
                r = attempt(2)
                r["earlier_attempt"] = first
            suffix = "" if transport == "udp" else f" over {transport.upper()}"
            self.note_command(f"{kind} (server){suffix}", r["server_argv"])
            if r.get("profile_argv"):
                self.note_command(f"profile of ternd's worker thread during the load{suffix}", r["profile_argv"])
            self.note_command(f"turnutils_uclient against {kind}{suffix}", r["uclient_argv"])
            log(f"  {kind} ({transport}): {r['pps']:.0f} packets/s relayed, CPU per packet "
                f"{r['cpu_ns_per_packet'] if r['cpu_ns_per_packet'] is not None else 'n/a'} ns")
            out[kind] = r
        return out

    def coturn(self) -> None:
        self.results["coturn"] = self.against_coturn(self.plan["coturn"], "udp")

    # ---- 4b. coturn side by side over TCP and TLS ----------------------------------------------------------------
    def coturn_streams(self) -> None:
        self.results["coturn_streams"] = {t: self.against_coturn(self.plan["coturn_streams"], t) for t in ("tcp", "tls")}

    # ---- 5. memory ----------------------------------------------------------------------------------------------
    def memory(self) -> None:
        out = {}
        for n in (1000, 1000000):
            argv = [str(self.tern_bench), "memory", "--allocations", str(n)]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"tern-bench memory failed: {done.stderr[-1000:]}")
            self.note_command(f"memory at {n} allocations", argv)
            out[str(n)] = json.loads(done.stdout)
        self.results["memory"] = out

    def run(self) -> dict:
        self.results["environment"] = environment(self.build)
        self.pcaps = {}
        self.timed("micro-benchmarks", self.micro)
        self.timed("relay throughput", self.throughput)
        self.timed("scaling with state", self.scaling)
        self.timed("profile", self.profile)
        self.timed("coturn side by side", self.coturn)
        self.timed("coturn side by side over TCP and TLS", self.coturn_streams)
        self.timed("memory", self.memory)
        self.results["environment"]["load_end"] = os.getloadavg()
        return self.results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(ROOT / "build-bench-release"))
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs (under 3 minutes)")
    parser.add_argument("--out", default=str(HERE), help="where RESULTS.md, results.json and the plots go")
    args = parser.parse_args()
    build = Path(args.build).resolve()
    out = Path(args.out).resolve()
    work = build / "bench-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.monotonic()
    results = Suite(build, args.quick, work).run()
    results["total_seconds"] = round(time.monotonic() - t0, 1)
    for pcap in work.glob("*.pcap"):
        pcap.unlink()
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    report.write(results, out, work)
    log(f"done in {results['total_seconds']:.0f} s: {out / 'RESULTS.md'} (logs in {work})")
    return 1 if results.get("failures") else 0


if __name__ == "__main__":
    sys.exit(main())
