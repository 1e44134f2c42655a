"""Benchmark: backtests of N simulated days with the default rules, against plain-Python loops;
and the peak memory of backtests of 1, 5, 10 and 20 days.

mia's path (``backtest_days``): the day's JSONL files read as columnar blocks (numba scanner,
k-way merge) -> feature engine, whose numba kernel runs through the events that cannot touch
the broker or the risk gate -> numba rule kernel per bar -> engine -> paper broker.

The baselines, in the same run, are the same strategy as a plain loop (bars and the features the
default rules read kept by hand, the rules evaluated per bar by mia's plain-Python reference
evaluator (once a bar: a negligible share), brackets checked on every trade), fed two ways:
- ``orjson loop`` (first read): ``orjson.loads`` of every line of the day's unified file (what
  mia itself parses with), against mia's first read (from JSONL, writing its day cache as it
  goes): ``ratio_vs_orjson_loop_first_read``;
- ``cached loop`` (re-run): the loop over the columns it cached as ``.npz`` (one per day, written
  by a first orjson pass, not timed), against mia re-running from its day cache: cache meets
  cache, ``ratio_vs_cached_loop_rerun``.
Both loops are checked to see the same events and make the same trades; their event count is
checked equal to mia's. Each timing is repeated (``--repeat``, at least 3; median, min, max).
The weaker old baseline, a stdlib ``json.loads`` loop, is kept, labelled as what it is
(``ratio_vs_json_stdlib_loop_first_read``).

Memory: the peak RSS of a fresh (spawned) process that runs ``mia backtest``'s path (records
streamed to a run folder, none kept) over 1, 5, 10 and 20 days (``--rss-days``):
``rss_mb_1day`` and ``rss_mb_per_extra_day`` (the slope from 1 day to the most).

Prints a table; ``--json`` prints one JSON object with those keys, the load average and every run.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numba
import numpy as np
import orjson

from mia import HOME
from mia.backtest.driver import backtest_days
from mia.dsl import compile_rules, load_rules
from mia.dsl.program import build_program
sys.path.insert(0, str(HOME / "tests"))      # the reference oracle lives with the tests
from oracles.reference import ReferenceEvaluator  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines.memory import peak_rss_mb  # noqa: E402
from mia.market.columnar.daycache import DayCache
from mia.market.sctime import sc_to_epoch, zone_for
from mia.market.sim import SimConfig, simulate

SPAWN = multiprocessing.get_context("spawn")


def make_days(root: Path, n: int, minutes: int) -> list[Path]:
    days, d = [], date(2025, 11, 3)
    while len(days) < n:
        if d.weekday() < 5:
            out = root / f"{d:%Y%m%d}"
            simulate(SimConfig(day=d, seed=len(days) + 1, minutes=minutes, unified=True), out)
            days.append(out)
        d += timedelta(days=1)
    return days


class Strategy:
    """The default rules' strategy, decided once a bar (the plain loops feed it)."""

    def __init__(self, rules):
        self.ref = ReferenceEvaluator(build_program(rules))
        self.outputs = [o.name for o in self.ref.p.outputs]
        self.sig = {s.name: s.side for s in rules.signals}
        self.blocks = {h.name for h in rules.hard_rules if h.block}

    def new_day(self) -> None:
        self.ref.state.clear()

    def bar(self, feats: dict, o: float, c: float, v: float, bidvol: float, askvol: float, t: float,
            levels_t: float) -> int:
        """The entry a closed bar asks for: 1 long, -1 short, 0 none (before the position checks)."""
        dr = (askvol - bidvol) / v if v else 0.0
        row = dict(feats, close=c)
        row["pa_vote"] = 1.0 if c > o else -1.0 if c < o else 0.0
        row["flow_vote"] = 1.0 if dr > 0.1 else -1.0 if dr < -0.1 else 0.0
        vah, val = feats.get("vah", math.nan), feats.get("val", math.nan)
        row["profile_vote"] = 1.0 if c > vah else -1.0 if c < val else 0.0
        row["mq_vote"] = row["dom_vote"] = 0.0
        row["minutes_since_open"] = (t % 86400) / 60 - 14.5 * 60
        row["levels_age_min"] = (t - levels_t) / 60
        out = dict(zip(self.outputs, self.ref.step(row)))
        fired = [n for n in self.sig if out[n]]
        if fired and not any(out[b] for b in self.blocks):
            return 1 if self.sig[fired[0]] == "long" else -1
        return 0


def unified_file(day: Path) -> Path:
    return next(day.glob("mia_unified_*.jsonl"))


def json_loop(days: list[Path], rules, loads=orjson.loads) -> tuple[int, int]:
    """The strategy as a plain loop over the dicts ``loads`` makes of every line of each day's
    unified file; returns (events, trades)."""
    strat = Strategy(rules)
    events = trades = 0
    for day in days:
        strat.new_day()
        feats: dict[str, float] = {}
        levels_t = math.nan
        bar_i = None
        bar = {}
        pos, entry, stop, target, pending = 0, 0.0, 0.0, 0.0, 0
        with open(unified_file(day), "rb") as fh:
            for line in fh:
                events += 1
                ev = loads(line)
                typ = ev.get("type")
                t = sc_to_epoch(ev["t"], zone_for(typ))
                if typ == "trade":
                    px = ev["px"]
                    if pos and ((pos > 0 and (px <= stop or px >= target)) or (pos < 0 and (px >= stop or px <= target))):
                        pos, trades = 0, trades + 1
                    elif pending:
                        pos, pending, entry = pending, 0, px + pending * 0.25
                        stop, target = entry - pos * 2.0, entry + pos * 4.0
                elif typ == "quote":
                    feats["spread"] = (ev["ask"] - ev["bid"]) / 0.25
                elif typ == "vix" and ev.get("chart") == 8:
                    feats["vix"] = ev["last"]
                elif typ == "vva":
                    feats["vah"], feats["val"] = ev["vah"], ev["val"]
                elif typ == "menthorq_level":
                    feats[ev["level_type"]] = ev["price"]
                    levels_t = t
                elif typ == "basedata" and ev.get("chart") == 3:
                    if bar_i is not None and ev["i"] != bar_i:
                        want = strat.bar(feats, bar["o"], bar["c"], bar["v"], bar["bidvol"], bar["askvol"], t, levels_t)
                        if want and not pos and not pending:
                            pending = want
                    bar_i, bar = ev["i"], ev
    return events, trades


#: event kinds of the cached columns
C_TRADE, C_QUOTE, C_VIX, C_VVA, C_LEVEL, C_BAR, C_REST = range(7)


def cache_day(day: Path, folder: Path) -> Path:
    """The columns the strategy reads, from one orjson pass over the day's unified file, saved as
    ``.npz``: per line its kind, UTC time and up to six numbers (a level's name as an index
    into ``names``)."""
    kinds, ts, cols, names = [], [], [], {}
    with open(unified_file(day), "rb") as fh:
        for line in fh:
            ev = orjson.loads(line)
            typ = ev.get("type")
            ts.append(sc_to_epoch(ev["t"], zone_for(typ)))
            nan = math.nan
            if typ == "trade":
                kinds.append(C_TRADE)
                cols.append((ev["px"], nan, nan, nan, nan, nan))
            elif typ == "quote":
                kinds.append(C_QUOTE)
                cols.append((ev["bid"], ev["ask"], nan, nan, nan, nan))
            elif typ == "vix" and ev.get("chart") == 8:
                kinds.append(C_VIX)
                cols.append((ev["last"], nan, nan, nan, nan, nan))
            elif typ == "vva":
                kinds.append(C_VVA)
                cols.append((ev["vah"], ev["val"], nan, nan, nan, nan))
            elif typ == "menthorq_level":
                kinds.append(C_LEVEL)
                cols.append((names.setdefault(ev["level_type"], len(names)), ev["price"], nan, nan, nan, nan))
            elif typ == "basedata" and ev.get("chart") == 3:
                kinds.append(C_BAR)
                cols.append((ev["i"], ev["o"], ev["c"], ev["v"], ev["bidvol"], ev["askvol"]))
            else:
                kinds.append(C_REST)
                cols.append((nan, nan, nan, nan, nan, nan))
    out = folder / f"{day.name}.npz"
    np.savez(out, kind=np.array(kinds, np.int8), t=np.array(ts), cols=np.array(cols, np.float64),
             names=np.array(sorted(names, key=names.get)))
    return out


def cached_loop(files: list[Path], rules) -> tuple[int, int]:
    """The strategy as a plain loop over each day's cached columns; returns (events, trades)."""
    strat = Strategy(rules)
    events = trades = 0
    for path in files:
        with np.load(path) as z:
            kind, ts, cols, names = z["kind"], z["t"].tolist(), z["cols"], z["names"].tolist()
        kinds, a, b = kind.tolist(), cols[:, 0].tolist(), cols[:, 1].tolist()
        rows = np.flatnonzero(kind == C_BAR)
        bars = dict(zip(rows.tolist(), cols[rows, 1:].tolist()))
        strat.new_day()
        feats: dict[str, float] = {}
        levels_t = math.nan
        bar_i = None
        bar = None
        pos, entry, stop, target, pending = 0, 0.0, 0.0, 0.0, 0
        events += len(kinds)
        for i, k in enumerate(kinds):
            if k == C_TRADE:
                px = a[i]
                if pos and ((pos > 0 and (px <= stop or px >= target)) or (pos < 0 and (px >= stop or px <= target))):
                    pos, trades = 0, trades + 1
                elif pending:
                    pos, pending, entry = pending, 0, px + pending * 0.25
                    stop, target = entry - pos * 2.0, entry + pos * 4.0
            elif k == C_QUOTE:
                feats["spread"] = (b[i] - a[i]) / 0.25
            elif k == C_VIX:
                feats["vix"] = a[i]
            elif k == C_VVA:
                feats["vah"], feats["val"] = a[i], b[i]
            elif k == C_LEVEL:
                feats[names[int(a[i])]] = b[i]
                levels_t = ts[i]
            elif k == C_BAR:
                if bar_i is not None and a[i] != bar_i:
                    o, c, v, bidvol, askvol = bars[bar]
                    want = strat.bar(feats, o, c, v, bidvol, askvol, ts[i], levels_t)
                    if want and not pos and not pending:
                        pending = want
                bar_i, bar = a[i], i
    return events, trades


def _rss_backtest(days: list[str]) -> float:
    """In a fresh process: ``mia backtest``'s path over ``days`` (records streamed to a run
    folder); the process's peak RSS in MB."""
    from mia.runtime.runfolder import RunWriter

    compiled = compile_rules(load_rules([HOME / "rules"]))
    with tempfile.TemporaryDirectory() as tmp:
        writer = RunWriter(Path(tmp) / "run")
        bt = backtest_days(compiled, days, sinks=[writer], record=False)
        writer.commit(writer.summary(len(bt.session.days)))
    return peak_rss_mb()


def peak_rss(days: list[Path]) -> float:
    with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
        return pool.submit(_rss_backtest, [str(d) for d in days]).result()


def _stats(walls: list[float]) -> dict:
    return {"median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
            "max_s": round(max(walls), 3)}


def timed(compiled, days: list[Path], cache) -> tuple[float, object]:
    t0 = time.perf_counter()
    res = backtest_days(compiled, [str(d) for d in days], cache=cache).result
    return time.perf_counter() - t0, res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=5, help="days of the timed runs (5)")
    ap.add_argument("--minutes", type=int, default=390, help="minutes per simulated day (390 = full RTH)")
    ap.add_argument("--repeat", type=int, default=3, help="timings of each run (median, min, max; at least 3)")
    ap.add_argument("--rss-days", default="1,5,10,20", help="day counts of the peak-RSS runs ('' for none)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="2 days of 60 minutes, RSS over 1 and 3 days")
    args = ap.parse_args()
    if args.quick:
        args.days, args.minutes, args.rss_days = 2, 60, "1,3"
    args.repeat = max(3, args.repeat)
    rss_days = sorted({int(n) for n in args.rss_days.split(",") if n.strip()})
    compiled = compile_rules(load_rules([HOME / "rules"]))
    rules = compiled.ruleset
    with tempfile.TemporaryDirectory() as tmp:
        days = make_days(Path(tmp) / "data", max([args.days, *rss_days]), args.minutes)
        sel = days[:args.days]
        npz = Path(tmp) / "npz"
        npz.mkdir()
        npz_files = [cache_day(d, npz) for d in sel]          # the plain loop's own cache (not timed)
        backtest_days(compiled, [str(sel[0])], cache=None)     # kernels loaded / compiled
        walls: dict[str, list[float]] = {k: [] for k in ("first_read", "rerun", "no_cache", "orjson_loop",
                                                         "cached_loop", "json_stdlib_loop")}
        load0 = os.getloadavg()
        res = loop_out = None
        for rep in range(args.repeat):                        # interleaved: the same load for each
            cache = DayCache(Path(tmp) / f"days{rep}", limit_mb=1e9)
            t0 = time.perf_counter()
            res = backtest_days(compiled, [str(d) for d in sel], cache=cache).result     # JSONL, cache written
            walls["first_read"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = backtest_days(compiled, [str(d) for d in sel], cache=cache).result   # the cache read
            walls["rerun"].append(time.perf_counter() - t0)
            assert again.trades == res.trades and again.decisions == res.decisions
            t0 = time.perf_counter()
            backtest_days(compiled, [str(d) for d in sel], cache=None)
            walls["no_cache"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            loop_out = json_loop(sel, rules)
            walls["orjson_loop"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            cached_out = cached_loop(npz_files, rules)
            walls["cached_loop"].append(time.perf_counter() - t0)
            assert cached_out == loop_out, (cached_out, loop_out)
        t0 = time.perf_counter()
        stdlib_out = json_loop(sel, rules, loads=json.loads)   # the old, weaker baseline: once
        walls["json_stdlib_loop"].append(time.perf_counter() - t0)
        assert stdlib_out == loop_out
        load1 = os.getloadavg()
        rss = {n: round(peak_rss(days[:n]), 1) for n in rss_days}
    med = {k: statistics.median(v) for k, v in walls.items()}
    events = res.events
    result = {
        "days": args.days, "minutes_per_day": args.minutes, "events": events, "trades": len(res.trades),
        "plain_loop_events": loop_out[0], "plain_loop_trades": loop_out[1],
        "plain_loop_sees_mia_events": loop_out[0] == events,
        "events_per_s": round(events / med["rerun"]), "first_read_events_per_s": round(events / med["first_read"]),
        "ratio_vs_orjson_loop_first_read": round(med["orjson_loop"] / med["first_read"], 2),
        "ratio_vs_cached_loop_rerun": round(med["cached_loop"] / med["rerun"], 2),
        "ratio_vs_json_stdlib_loop_first_read": round(med["json_stdlib_loop"] / med["first_read"], 2),
        "ratio_vs_orjson_loop_no_cache": round(med["orjson_loop"] / med["no_cache"], 2),
        "timings": {k: _stats(v) for k, v in walls.items()},
        "rss_mb": {str(n): v for n, v in rss.items()},
        "numba_num_threads": int(numba.config.NUMBA_NUM_THREADS), "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load0], "loadavg_after": [round(x, 2) for x in load1],
        "repeat": args.repeat,
    }
    if rss:
        lo, hi = min(rss), max(rss)
        result["rss_mb_1day"] = rss[lo] if lo == 1 else None
        result["rss_mb_per_extra_day"] = round((rss[hi] - rss[lo]) / (hi - lo), 2) if hi > lo else None
    ok = result["plain_loop_sees_mia_events"]
    if args.json:
        print(json.dumps(result))
        return 0 if ok else 1
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"mia backtest vs plain-Python loops, {args.days} days of {args.minutes} min "
                        f"({events:,} events); median of {args.repeat}")
    for col in ("run", "median s", "min s", "max s", "events/s", "mia is x faster"):
        table.add_column(col, justify="right")
    rows = [("mia first read (JSONL, cache written)", "first_read", None),
            ("mia re-run (day cache)", "rerun", None), ("mia from JSONL, no cache", "no_cache", None),
            ("plain loop, orjson (first read)", "orjson_loop", result["ratio_vs_orjson_loop_first_read"]),
            ("plain loop over cached .npz columns (re-run)", "cached_loop", result["ratio_vs_cached_loop_rerun"]),
            ("plain loop, stdlib json (old baseline)", "json_stdlib_loop", result["ratio_vs_json_stdlib_loop_first_read"])]
    for name, key, ratio in rows:
        tm = result["timings"][key]
        table.add_row(name, f"{tm['median_s']:.2f}", f"{tm['min_s']:.2f}", f"{tm['max_s']:.2f}",
                      f"{events / tm['median_s']:,.0f}", "" if ratio is None else f"{ratio:.2f}")
    Console(width=140).print(table)
    print("the ratios compare like with like: mia's first read with the orjson loop, mia's re-run from its "
          "cache with the loop over its own cache")
    if rss:
        print("peak RSS of `mia backtest`'s path, fresh process: "
              + ", ".join(f"{n} days {v} MB" for n, v in rss.items())
              + f"; {result['rss_mb_per_extra_day']} MB per extra day")
    print(f"NUMBA_NUM_THREADS={result['numba_num_threads']}, {result['cpus']} cpus, load average "
          f"{result['loadavg_before']} before, {result['loadavg_after']} after")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
