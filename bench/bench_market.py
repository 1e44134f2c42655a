"""Benchmark: replay of a simulated session from JSONL through the feature engine, end to end.

Baseline in the same run: stdlib ``json.loads`` of every line into dicts and a plain-Python
VWAP / delta loop over the same files. Peak memory is the process's maximum resident size
after the replay minus before it (streaming should keep it flat in the number of events); the
session is simulated in a child process so that its memory does not count.
Prints a table; ``--json`` prints ``events_per_s``, ``ratio_vs_baseline``, ``peak_mb``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from mia.features import FeatureEngine
from mia.market.replay import replay
from mia.market.simulate import SimConfig, simulate


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(folder: Path) -> int:
    n = 0
    pv = vol = delta = 0.0
    for path in sorted(folder.glob("chart_*.jsonl")):
        with open(path) as fh:
            for line in fh:
                d = json.loads(line)
                n += 1
                if d.get("type") == "trade":
                    pv += d["px"] * d["vol"]
                    vol += d["vol"]
                    delta += d["vol"] if d["side"] == "BUY" else -d["vol"]
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=390, help="simulated minutes (390: a full RTH session)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # simulate in a child process, so this process's peak memory is the replay's alone
        with ProcessPoolExecutor(1) as pool:
            pool.submit(simulate, SimConfig(day=dt.date(2025, 11, 20), seed=1, minutes=args.minutes), folder).result()
        before = rss_mb()
        t0 = time.perf_counter()
        eng, events, rows = FeatureEngine(), 0, 0
        for ev in replay([folder]):
            events += 1
            rows += eng.update(ev)
        wall = time.perf_counter() - t0
        peak = rss_mb() - before
        t0 = time.perf_counter()
        n_base = baseline(folder)
        base_wall = time.perf_counter() - t0
    out = {"events_per_s": round(events / wall), "ratio_vs_baseline": round((events / wall) / (n_base / base_wall), 3),
           "peak_mb": round(peak, 1), "events": events, "bars": rows, "wall_s": round(wall, 2),
           "baseline_events_per_s": round(n_base / base_wall)}
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>22}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
