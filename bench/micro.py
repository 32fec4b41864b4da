"""The Google Benchmark micro-benchmarks (bench/bm_*.cpp), run from the release build with JSON output.

Every figure is taken from the benchmark's CPU time (Google Benchmark divides its rate counters by CPU time, not
wall time), so a core shared with other work slows the run down but does not change the figures much.
"""

import json
import subprocess
from pathlib import Path

# name -> (arguments, full-run minimum time per benchmark, quick-run filter)
SUITES = {
    "bm_crypto": ([], 0.05, "single|batch32|crc32/100/|sha256/|md5/"),
    "bm_codec": ([], 0.1, ""),
    "bm_control": ([], 0.3, ""),
    "bm_dataplane": (["--huge"], 0.2, "IoOnly|ChannelDataToPeer/|SendToPeer|PeerToClientChannelData/|"
                                      "PeerToClientDataIndication|Binding|Hairpin|ClientLookupBulk|RelayLookup|WithStreams"),
}


def run(build: Path, name: str, out: Path, quick: bool) -> tuple[list[str], dict]:
    args, min_time, quick_filter = SUITES[name]
    argv = [str(build / "bench" / name), *args, f"--benchmark_min_time={0.02 if quick else min_time}",
            f"--benchmark_out={out}", "--benchmark_out_format=json", "--benchmark_format=console"]
    if quick and quick_filter:
        argv.append(f"--benchmark_filter={quick_filter}")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    (out.with_suffix(".log")).write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed with status {done.returncode}: {done.stderr[-2000:]}")
    return argv, json.loads(out.read_text())


def by_name(report: dict) -> dict:
    return {b["name"]: b for b in report["benchmarks"] if b.get("run_type", "iteration") == "iteration"}


def ns(b: dict) -> float:
    """A benchmark's CPU time per iteration in ns."""
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["cpu_time"] * scale


def crypto_table(report: dict) -> list[dict]:
    """bm_crypto: ns per message for every operation and backend."""
    rows = []
    for name, b in by_name(report).items():
        if "error_message" in b:
            continue
        per_msg = b.get("per_msg")
        rows.append({"name": name, "ns_per_message": per_msg * 1e9 if per_msg else ns(b),
                     "per_second": b.get("items_per_second")})
    return rows


def codec_table(report: dict) -> list[dict]:
    return [{"name": name, "ns": ns(b), "per_second": b.get("items_per_second")}
            for name, b in by_name(report).items() if "error_message" not in b]


def control_table(report: dict) -> list[dict]:
    """bm_control: authenticated transactions per second on one core, by kind and burst."""
    rows = []
    for name, b in by_name(report).items():
        kind, _, burst = name.removeprefix("BM_").partition("/")
        rows.append({"name": name, "kind": kind, "burst": int(burst or 1), "label": b.get("label", ""),
                     "per_second": b.get("items_per_second", 0.0), "error": b.get("error_message")})
    return rows


def dataplane_table(report: dict) -> list[dict]:
    """bm_dataplane: ns per packet (fast paths) or per key (lookups) at each table size."""
    rows = []
    for name, b in by_name(report).items():
        base, _, size = name.removeprefix("BM_").partition("/")
        value = b.get("ns/pkt") or b.get("ns/key")
        rows.append({"name": name, "path": base, "allocations": int(size) if size else None,
                     "ns": value * 1e9 if value else ns(b), "error": b.get("error_message")})
    return rows
