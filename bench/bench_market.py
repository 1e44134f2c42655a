"""Benchmark: a simulated session replayed from JSONL through the feature engine, end to end.

Measured in the same run, over the same files:
- ``batch``: ``mia.features`` over the folder (columnar blocks + bulk kernel), the path of
  ``mia signals`` / ``compute_features(folder)``;
- ``streaming``: ``mia.market.replay`` into ``FeatureEngine.update``, one event at a time (the
  live path; its rows are checked equal to batch's);
- ``baseline``: stdlib ``json.loads`` of every line into dicts and a plain-Python VWAP / delta loop.
Peak memory: ``tracemalloc`` peak of a separate batch pass (Python and numpy allocations), and
the peak RSS of a fresh process doing one, over the full session and over a session a sixth of
its size: flat in the number of events means about equal. Sessions are simulated in a child process. Prints a table; ``--json`` prints one
object with ``events_per_s``, ``ratio_vs_baseline``, ``peak_mb`` (and the details).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from mia.features import FeatureEngine
from mia.features.engine import HANDLED_TYPES
from mia.features.batch import run_block
from mia.market.columnar.blocks import blocks
from mia.market.replay import replay
from mia.market.sim import SimConfig, simulate

#: child processes are spawned: the scanner's OpenMP threads do not survive a fork (``jsonscan``)
SPAWN = multiprocessing.get_context("spawn")


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


def batch(folder: Path) -> tuple[int, list]:
    eng, rows = FeatureEngine(), []
    n = 0
    for block in blocks([folder], wanted_types=HANDLED_TYPES):
        n += run_block(eng, block, lambda e: rows.append(e.row.copy()))
    return n, rows


def streaming(folder: Path) -> tuple[int, list]:
    eng, rows, n = FeatureEngine(), [], 0
    for ev in replay([folder]):
        n += 1
        if eng.update(ev):
            rows.append(eng.row.copy())
    return n, rows


def peak_mb(folder: Path) -> float:
    tracemalloc.start()
    batch(folder)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _rss_after_batch(folder: Path) -> float:
    batch(folder)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb(folder: Path) -> float:
    """Peak resident memory of a fresh process that ran a batch pass (numba's own allocations,
    which tracemalloc does not see, included; so are the interpreter, numpy and numba)."""
    with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
        return pool.submit(_rss_after_batch, folder).result()


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=390, help="simulated minutes (390: a full RTH session)")
    ap.add_argument("--scale", type=float, default=1.5, help="simulated activity (1.5 x 390 minutes: ~1.3M events)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    small_minutes = max(args.minutes // 6, 1)
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big", Path(tmp) / "small"
        with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
            pool.submit(simulate, SimConfig(day=dt.date(2025, 11, 20), seed=1, minutes=args.minutes, scale=args.scale), big).result()
            pool.submit(simulate, SimConfig(day=dt.date(2025, 11, 20), seed=1, minutes=small_minutes, scale=args.scale), small).result()
        batch(small)                                        # numba kernels: load from cache / compile
        (n_batch, rows_batch), wall = timed(batch, big)
        (n_stream, rows_stream), stream_wall = timed(streaming, big)
        n_base, base_wall = timed(baseline, big)
        assert n_batch == n_stream, (n_batch, n_stream)
        same = np.array_equal(np.array(rows_batch), np.array(rows_stream), equal_nan=True)
        peak, peak_small = peak_mb(big), peak_mb(small)
        rss, rss_small = peak_rss_mb(big), peak_rss_mb(small)
    base_rate = n_base / base_wall
    out = {"events_per_s": round(n_batch / wall), "ratio_vs_baseline": round((n_batch / wall) / base_rate, 2),
           "peak_mb": round(peak, 1), "events": n_batch, "bars": len(rows_batch), "wall_s": round(wall, 2),
           "streaming_events_per_s": round(n_stream / stream_wall),
           "streaming_ratio_vs_baseline": round((n_stream / stream_wall) / base_rate, 2),
           "baseline_events_per_s": round(base_rate), "batch_equals_streaming": bool(same),
           f"peak_mb_{small_minutes}min": round(peak_small, 1),
           "peak_rss_mb": round(rss, 1), f"peak_rss_mb_{small_minutes}min": round(rss_small, 1)}
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>28}: {v}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
