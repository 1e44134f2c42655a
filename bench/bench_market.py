"""Benchmark: a simulated day read from JSONL: to merged columns (the reader), and to features.

The reader (JSONL -> the day's lines as merged columns, what ``blocks`` yields), against the
strongest plain readers, in the same process, each timed ``--repeat`` times, interleaved (median,
min and max in the table), each checked equal to mia's output (``bench/baselines/reader.py``):
- ``orjson``: ``orjson.loads`` per line into column lists, epoch, concat, a stable sort (the
  plain loop mia itself would write);
- ``polars``: ``polars.read_ndjson`` per file with the kind's schema, epoch, concat, a stable
  sort (on all its threads);
- the limit beside them: the day's files read from the page cache into one buffer and scanned
  for newlines (a vectorised count: memchr speed), the least any JSONL reader must do;
- mia on ``NUMBA_NUM_THREADS`` threads (``mb_per_s``) and on one (``mb_per_s_1thread``).

Then JSONL -> features, as before (``--no-features`` skips it): ``batch`` (``mia.features``
over the folder's blocks: ``mia signals``), ``streaming`` (``replay`` into
``FeatureEngine.update``, the live path; checked equal to batch) and, labelled as what it is,
a stdlib ``json.loads`` loop that keeps a VWAP and a delta (``features_ratio_vs_stdlib_json``:
a weak baseline, kept for comparison with older runs). Peak memory: the ``tracemalloc`` peak
of a batch pass, and the peak RSS of fresh processes doing one over the day and a sixth of it.
The day is simulated in a child process. Prints a table; ``--json`` prints one object with
``mb_per_s``, ``mb_per_s_1thread``, ``ratio_vs_orjson``, ``ratio_vs_polars``,
``limit_mb_per_s``, the timings, ``numba_num_threads`` and the load average before and after.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numba
import numpy as np

from mia.features import FeatureEngine
from mia.features.engine import HANDLED_TYPES
from mia.features.batch import run_block
from mia.market.columnar import blocks as blocks_mod
from mia.market.columnar.blocks import blocks
from mia.market.replay import replay
from mia.market.sim import SimConfig, simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines.memory import peak_rss_mb as own_peak_rss_mb  # noqa: E402
from baselines.reader import day_files, mia_day, orjson_day, polars_day, same  # noqa: E402

#: child processes are spawned (a clean interpreter: nothing inherited from this one)
SPAWN = multiprocessing.get_context("spawn")


# ---- the reader ------------------------------------------------------------------------------------

def mia_read(folder: Path, threads: int | None = None) -> list:
    """The day's merged columns: every block ``blocks`` yields (on ``threads`` threads)."""
    old = blocks_mod.THREADS
    blocks_mod.THREADS = threads
    try:
        return list(blocks([folder], wanted_types=HANDLED_TYPES))
    finally:
        blocks_mod.THREADS = old


@numba.njit(cache=True, nogil=True)
def _newlines(b) -> int:
    n = 0
    for c in b:
        n += c == 10
    return n


def limit_read(folder: Path) -> int:
    """The least a reader does: every file read from the page cache into one buffer, and its
    newlines counted (vectorised: memory speed). Returns the lines."""
    files = day_files(folder)
    buf = np.empty(max(f.stat().st_size for f in files), np.uint8)
    lines = 0
    for path in files:
        with open(path, "rb", buffering=0) as fh:
            n = fh.readinto(buf)
        lines += _newlines(buf[:n])
    return lines


def _stats(walls: list[float]) -> dict:
    return {"median_s": round(statistics.median(walls), 4), "min_s": round(min(walls), 4),
            "max_s": round(max(walls), 4)}


def reader_bench(folder: Path, repeat: int) -> dict:
    mb = sum(f.stat().st_size for f in day_files(folder)) / 1e6
    threads = int(numba.config.NUMBA_NUM_THREADS)
    runs = {"mia": lambda: mia_read(folder), "mia_1thread": lambda: mia_read(folder, 1),
            "orjson": lambda: orjson_day(folder), "polars": lambda: polars_day(folder),
            "limit": lambda: limit_read(folder)}
    for fn in runs.values():                               # warm: kernels, caches, page cache
        fn()
    walls: dict[str, list[float]] = {k: [] for k in runs}
    load0 = os.getloadavg()
    for _ in range(repeat):
        for name, fn in runs.items():                      # interleaved: the same load for each
            t0 = time.perf_counter()
            out = fn()
            walls[name].append(time.perf_counter() - t0)
            del out
    load1 = os.getloadavg()
    mine = mia_day(mia_read(folder))
    equal = {"orjson": same(mine, orjson_day(folder)), "polars": same(mine, polars_day(folder)),
             "mia_1thread": same(mine, mia_day(mia_read(folder, 1)))}
    med = {k: statistics.median(v) for k, v in walls.items()}
    import polars

    return {
        "mb": round(mb, 1), "lines": len(mine.t),
        "mb_per_s": round(mb / med["mia"]), "mb_per_s_1thread": round(mb / med["mia_1thread"]),
        "ratio_vs_orjson": round(med["orjson"] / med["mia"], 2),
        "ratio_vs_orjson_1thread": round(med["orjson"] / med["mia_1thread"], 2),
        "ratio_vs_polars": round(med["polars"] / med["mia"], 2),
        "ratio_vs_polars_1thread": round(med["polars"] / med["mia_1thread"], 2),
        "orjson_mb_per_s": round(mb / med["orjson"]), "polars_mb_per_s": round(mb / med["polars"]),
        "limit_mb_per_s": round(mb / med["limit"]),
        "fraction_of_limit": round(med["limit"] / med["mia"], 3),
        "timings": {k: _stats(v) for k, v in walls.items()},
        "equal": {k: v is None for k, v in equal.items()},
        "differences": {k: v for k, v in equal.items() if v is not None},
        "numba_num_threads": threads, "polars_threads": polars.thread_pool_size(), "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load0], "loadavg_after": [round(x, 2) for x in load1],
        "repeat": repeat,
    }


# ---- features --------------------------------------------------------------------------------------

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
    return own_peak_rss_mb()


def peak_rss_mb(folder: Path) -> float:
    """Peak resident memory of a fresh process that ran a batch pass (numba's own allocations,
    which tracemalloc does not see, included; so are the interpreter, numpy and numba)."""
    with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
        return pool.submit(_rss_after_batch, folder).result()


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def features_bench(big: Path, small: Path, small_minutes: int) -> dict:
    batch(small)                                        # numba kernels: load from cache / compile
    (n_batch, rows_batch), wall = timed(batch, big)
    (n_stream, rows_stream), stream_wall = timed(streaming, big)
    n_base, base_wall = timed(baseline, big)
    assert n_batch == n_stream, (n_batch, n_stream)
    same_rows = np.array_equal(np.array(rows_batch), np.array(rows_stream), equal_nan=True)
    peak, peak_small = peak_mb(big), peak_mb(small)
    rss, rss_small = peak_rss_mb(big), peak_rss_mb(small)
    base_rate = n_base / base_wall
    return {"events_per_s": round(n_batch / wall), "features_ratio_vs_stdlib_json": round((n_batch / wall) / base_rate, 2),
            "peak_mb": round(peak, 1), "events": n_batch, "bars": len(rows_batch), "wall_s": round(wall, 2),
            "streaming_events_per_s": round(n_stream / stream_wall),
            "streaming_ratio_vs_stdlib_json": round((n_stream / stream_wall) / base_rate, 2),
            "stdlib_json_events_per_s": round(base_rate), "batch_equals_streaming": bool(same_rows),
            f"peak_mb_{small_minutes}min": round(peak_small, 1),
            "peak_rss_mb": round(rss, 1), f"peak_rss_mb_{small_minutes}min": round(rss_small, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=390, help="simulated minutes (390: a full RTH session)")
    ap.add_argument("--scale", type=float, default=1.0, help="simulated activity (1: ~0.9M lines, ~108 MB a day)")
    ap.add_argument("--repeat", type=int, default=5, help="timings of each reader (median, min, max; at least 3)")
    ap.add_argument("--no-features", action="store_true", help="only the reader")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    args.repeat = max(3, args.repeat)
    small_minutes = max(args.minutes // 6, 1)
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big", Path(tmp) / "small"
        with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
            pool.submit(simulate, SimConfig(day=dt.date(2025, 11, 20), seed=1, minutes=args.minutes, scale=args.scale), big).result()
            pool.submit(simulate, SimConfig(day=dt.date(2025, 11, 20), seed=1, minutes=small_minutes, scale=args.scale), small).result()
        out = reader_bench(big, args.repeat)
        if not args.no_features:
            out.update(features_bench(big, small, small_minutes))
    ok = all(out["equal"].values()) and out.get("batch_equals_streaming", True)
    if args.json:
        print(json.dumps(out))
        return 0 if ok else 1
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"JSONL -> merged columns, one simulated day ({out['mb']} MB, {out['lines']:,} lines); "
                        f"median of {out['repeat']}")
    for col in ("reader", "median s", "min s", "max s", "MB/s", "mia is x faster", "same rows as mia"):
        table.add_column(col, justify="right")
    names = {"mia": f"mia, {out['numba_num_threads']} threads", "mia_1thread": "mia, 1 thread",
             "orjson": "orjson per line", "polars": f"polars read_ndjson ({out['polars_threads']} threads)",
             "limit": "limit: page-cache read + newline scan"}
    for key, name in names.items():
        tm = out["timings"][key]
        ratio = {"orjson": out["ratio_vs_orjson"], "polars": out["ratio_vs_polars"]}.get(key)
        table.add_row(name, f"{tm['median_s']:.3f}", f"{tm['min_s']:.3f}", f"{tm['max_s']:.3f}",
                      f"{out['mb'] / tm['median_s']:.0f}", "" if ratio is None else f"{ratio:.2f}",
                      {"orjson": "yes", "polars": "yes", "mia_1thread": "yes"}.get(key, "") if out["equal"].get(key, True)
                      else "NO")
    Console(width=150).print(table)
    print(f"NUMBA_NUM_THREADS={out['numba_num_threads']}, {out['cpus']} cpus, load average "
          f"{out['loadavg_before']} before, {out['loadavg_after']} after")
    for k, v in out["differences"].items():
        print(f"{k} differs from mia: {v}")
    if not args.no_features:
        for k in ("events_per_s", "streaming_events_per_s", "stdlib_json_events_per_s", "features_ratio_vs_stdlib_json",
                  "batch_equals_streaming", "peak_mb", "peak_rss_mb", f"peak_rss_mb_{small_minutes}min"):
            print(f"{k:>32}: {out[k]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
