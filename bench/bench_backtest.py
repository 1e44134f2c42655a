"""Benchmark: backtests of 1 and N simulated days with the default rules, vs a plain-Python loop.

mia's path (``backtest_days``): the day's JSONL files read as columnar blocks (numba scanner,
k-way merge) -> feature engine, whose numba kernel runs through the events that cannot touch
the broker or the risk gate -> numba rule kernel per bar -> engine -> paper broker. The baseline, in the same run, is the same strategy as a plain loop:
stdlib ``json.loads`` of every line of the unified file into dicts, bars and the features the
default rules read kept by hand, the rules evaluated by mia's plain-Python reference evaluator,
and brackets checked on every trade.

mia is timed three ways over the same days: ``first_read`` (from JSONL, the day cache written
as it goes: the first backtest of a day), ``rerun`` (the days read back from the day cache:
every later backtest of them, e.g. after a rule edit) and ``no_cache`` (from JSONL, no cache).
Prints a table; ``--json`` prints one JSON object with ``events_per_s``,
``ratio_vs_plain_loop`` (both of the rerun), ``days``, the first read's figures
(``first_read_events_per_s``, ``ratio_vs_plain_loop_first_read``) and every run.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from mia import HOME
from mia.backtest.driver import backtest_days
from mia.dsl import compile_rules, load_rules
from mia.dsl.program import build_program
sys.path.insert(0, str(HOME / "tests"))      # the reference oracle lives with the tests
from oracles.reference import ReferenceEvaluator  # noqa: E402
from mia.market.columnar.daycache import DayCache
from mia.market.sctime import sc_to_epoch, zone_for
from mia.market.sim import SimConfig, simulate


def make_days(root: Path, n: int, minutes: int) -> list[Path]:
    days, d = [], date(2025, 11, 3)
    while len(days) < n:
        if d.weekday() < 5:
            out = root / f"{d:%Y%m%d}"
            simulate(SimConfig(day=d, seed=len(days) + 1, minutes=minutes, unified=True), out)
            days.append(out)
        d += timedelta(days=1)
    return days


def plain_loop(days: list[Path], rules) -> tuple[int, int]:
    """The default strategy as a plain loop over json.loads dicts; returns (events, trades)."""
    ref = ReferenceEvaluator(build_program(rules))
    outputs = [o.name for o in ref.p.outputs]
    sig = {s.name: s.side for s in rules.signals}
    blocks = {h.name for h in rules.hard_rules if h.block}
    events = trades = 0
    for day in days:
        ref.state.clear()
        feats: dict[str, float] = {}
        levels_t = math.nan
        bar_i = None
        bar = {}
        pos, entry, stop, target, pending = 0, 0.0, 0.0, 0.0, 0
        unified = next(day.glob("mia_unified_*.jsonl"))
        with open(unified) as fh:
            for line in fh:
                events += 1
                ev = json.loads(line)
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
                        o, c, v = bar["o"], bar["c"], bar["v"]
                        dr = (bar["askvol"] - bar["bidvol"]) / v if v else 0.0
                        row = dict(feats, close=c)
                        row["pa_vote"] = 1.0 if c > o else -1.0 if c < o else 0.0
                        row["flow_vote"] = 1.0 if dr > 0.1 else -1.0 if dr < -0.1 else 0.0
                        vah, val = feats.get("vah", math.nan), feats.get("val", math.nan)
                        row["profile_vote"] = 1.0 if c > vah else -1.0 if c < val else 0.0
                        row["mq_vote"] = row["dom_vote"] = 0.0
                        row["minutes_since_open"] = (t % 86400) / 60 - 14.5 * 60
                        row["levels_age_min"] = (t - levels_t) / 60
                        out = dict(zip(outputs, ref.step(row)))
                        fired = [n for n in sig if out[n]]
                        if fired and not pos and not pending and not any(out[b] for b in blocks):
                            pending = 1 if sig[fired[0]] == "long" else -1
                    bar_i, bar = ev["i"], ev
    return events, trades


def timed(compiled, days: list[Path], cache) -> tuple[float, object]:
    t0 = time.perf_counter()
    res = backtest_days(compiled, [str(d) for d in days], cache=cache).result
    return time.perf_counter() - t0, res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=20, help="days of the long run (20)")
    ap.add_argument("--minutes", type=int, default=390, help="minutes per simulated day (390 = full RTH)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="3 days of 60 minutes")
    args = ap.parse_args()
    if args.quick:
        args.days, args.minutes = 3, 60
    compiled = compile_rules(load_rules([HOME / "rules"]))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        days = make_days(Path(tmp) / "data", args.days, args.minutes)
        cache = DayCache(Path(tmp) / "days", limit_mb=1e9)
        for n in sorted({1, args.days}):
            sel = days[:n]
            reps = 3 if n == 1 else 1
            cold, warm, bare = [], [], []
            for _ in range(reps):
                shutil.rmtree(cache.root, ignore_errors=True)
                wall, res = timed(compiled, sel, cache)          # first read: JSONL, the cache written
                cold.append(wall)
            for _ in range(reps):
                wall, again = timed(compiled, sel, cache)        # a re-run: the cache read
                warm.append(wall)
                assert again.trades == res.trades and again.decisions == res.decisions
            for _ in range(reps):
                bare.append(timed(compiled, sel, None)[0])      # JSONL, no cache at all
            t0 = time.perf_counter()
            base_events, _ = plain_loop(sel, compiled.ruleset)
            base_wall = time.perf_counter() - t0
            base_rate = base_events / base_wall
            row = {"days": n, "events": res.events, "trades": len(res.trades),
                   "plain_loop_s": round(base_wall, 3), "plain_loop_events_per_s": round(base_rate)}
            for name, walls in (("rerun", warm), ("first_read", cold), ("no_cache", bare)):
                wall = statistics.median(walls)
                row[name] = {"wall_s": round(wall, 3), "events_per_s": round(res.events / wall),
                             "ratio_vs_plain_loop": round(res.events / wall / base_rate, 2)}
            rows.append(row)
    last = rows[-1]
    result = {"events_per_s": last["rerun"]["events_per_s"],
              "ratio_vs_plain_loop": last["rerun"]["ratio_vs_plain_loop"],
              "days": last["days"], "wall_s": last["rerun"]["wall_s"],
              "first_read_events_per_s": last["first_read"]["events_per_s"],
              "ratio_vs_plain_loop_first_read": last["first_read"]["ratio_vs_plain_loop"],
              "wall_s_first_read": last["first_read"]["wall_s"],
              "minutes_per_day": args.minutes, "runs": rows}
    if args.json:
        print(json.dumps(result))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="mia backtest vs a plain-Python loop (same run; medians)")
    for col in ("days", "events", "trades", "read", "wall s", "events/s", "plain loop s", "plain events/s", "ratio"):
        table.add_column(col, justify="right")
    for r in rows:
        for name in ("rerun", "first_read", "no_cache"):
            m = r[name]
            table.add_row(str(r["days"]), f"{r['events']:,}", str(r["trades"]), name.replace("_", " "),
                          f"{m['wall_s']:.2f}", f"{m['events_per_s']:,}", f"{r['plain_loop_s']:.2f}",
                          f"{r['plain_loop_events_per_s']:,}", f"{m['ratio_vs_plain_loop']:.2f}")
    Console(width=140).print(table)
    print("rerun: the days read back from the day cache (what a backtest after a rule edit does); "
          "first read: from JSONL, writing the cache; no cache: from JSONL only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
