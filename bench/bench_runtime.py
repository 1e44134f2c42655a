"""Benchmark: a running supervisor (`mia run`) replaying a simulated session, journal on.

Measured, each repeated (median, min, max):
- ``events_per_s``: a whole session replayed at speed 0 through the supervisor (queue, session,
  journal per item, snapshot, alerts), from the first item to the end of the data;
  baseline in the same process: ``mia backtest``'s path over the same day (``backtest_days``,
  the same session with no journal), the strongest way mia itself has to run those events;
- ``decision_p50_us`` / ``decision_p99_us``: event taken -> its bar's trace record journaled
  (committed), with the feed handing out one event per item as a live feed does; the limits
  beside it, in the same run: one SQLite WAL commit of a record row (``commit_floor_us``) and
  the session's own decision without a journal (``session_decision_p50_us``);
- ``reload_params_ms`` / ``reload_changed_ms``: a rule file written -> the new version active
  (watchfiles, load, check, compile off the loop, warm, swap), for a param edit and for a new
  expression (a numba compile);
- ``bar_close_p50_us`` / ``bar_close_p99_us``: the tick that closes a bar -> its ``Decision``
  (``Engine.decide`` returned): the session's ``on_event`` for that event, the feature engine's
  bar close, the rule kernel, the decision and its trace values, events handed one by one as a
  live feed does (the median over the runs of each run's percentile); ``bar_close_total_*``: the
  whole ``on_event`` of that tick (the decision published, entries expired or sent);
  ``bar_close_cpu_*``: the thread's CPU time in that ``on_event`` (what the code costs when no
  other process takes the core: on a shared machine the wall-clock p99 is the scheduler's);
- ``peak_mb``: the process's peak RSS after a 1M-event replay (full simulated day).
Prints a table; ``--json`` one JSON object. ``--quick`` uses a 60-minute session;
``--bar-close`` measures the bar close alone.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

from mia import HOME
from mia.backtest.driver import backtest_days
from mia.dsl import compile_rules, load_rules
from mia.market.columnar.blocks import blocks
from mia.market.sim import SimConfig, simulate
from mia.runtime.config import load_config
from mia.features.engine import HANDLED_TYPES
from mia.runtime.supervisor import Supervisor

REPEAT = 3


def stats(xs: list[float]) -> dict:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def config(tmp: Path, name: str, **feed) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"mode": "paper", "feed": {"kind": "replay", "speed": 0, **feed},
                                    "journal": str(tmp / name / "journal.sqlite"),
                                    "control": {"socket": str(tmp / name / "mia.sock")},
                                    "out": str(tmp / name / "out")}))
    return path


class OneByOne:
    """A replay that hands out one event per queue item (the Python path of every event), as a
    live feed does."""
    live = False

    def __init__(self, path: Path):
        from mia.market.sierra import BadLines

        self.bad = BadLines()
        self.path = path
        self.position = 0
        self.identity = f"one-by-one:{path}"

    async def items(self):
        for b in blocks([str(self.path)], bad=self.bad, wanted_types=HANDLED_TYPES):
            for i in range(len(b.t)):
                self.position += 1
                yield ("events", [b.event(i)], self.position)
        yield ("end",)


async def supervise(cfg_path: Path, rules: list[str], feed=None, latencies=False):
    sup = Supervisor(load_config(cfg_path), rules, quiet=True)
    if feed is not None:
        sup._feed = lambda skip: feed
    if latencies:
        sup.decision_latencies = []
    t0 = time.perf_counter()
    rc = await sup.run()
    assert rc == 0
    return sup, time.perf_counter() - t0


def commit_floor_us(tmp: Path, n: int = 2000) -> list[float]:
    db = sqlite3.connect(tmp / "floor.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, body BLOB)")
    body = b"x" * 600
    out = []
    for _ in range(n):
        t = time.perf_counter()
        db.execute("BEGIN")
        db.execute("INSERT INTO r (body) VALUES (?)", (body,))
        db.execute("COMMIT")
        out.append((time.perf_counter() - t) * 1e6)
    db.close()
    return out


async def reload_ms(tmp: Path, day: Path, rules_text: str, edits: list[str]) -> list[float]:
    rdir = tmp / "reload_rules"
    rdir.mkdir(exist_ok=True)
    (rdir / "r.yaml").write_text(rules_text)

    class Idle:
        live, bad, position, identity = False, None, 0, "idle"

        async def items(self):
            from mia.market.sierra import BadLines

            self.bad = BadLines()
            for b in blocks([str(day)], bad=self.bad, wanted_types=HANDLED_TYPES):
                yield ("block", b.rows(0, min(len(b.t), 5000)), 1)
                break
            await asyncio.Event().wait()        # then nothing until the end

    sup = Supervisor(load_config(config(tmp, f"reload{len(edits)}{edits[0][:3]}")), [str(rdir)], quiet=True)
    sup._feed = lambda skip: Idle()
    task = asyncio.create_task(sup.run())
    while sup.state != "running":
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)                    # the watcher is up
    out = []
    for text in edits:
        v0 = sup.session.c.ruleset.source_hash
        t = time.perf_counter()
        (rdir / "r.yaml").write_text(text)
        while sup.session.c.ruleset.source_hash == v0:
            await asyncio.sleep(0.001)
        out.append((time.perf_counter() - t) * 1e3)
        await asyncio.sleep(0.2)
    sup.stop()
    await task
    return out


def bar_close_us(compiled, day: Path) -> tuple[list[float], list[float], list[float]]:
    """Per bar closed by a tick of the simulated ``day``: microseconds from the session taking
    that tick to ``Engine.decide`` returning, to ``on_event`` returning, and the thread's CPU
    time in that ``on_event`` (sorted lists)."""
    from mia.backtest.driver import Backtest
    from mia.features import FeatureEngine
    from mia.features.config import FeatureConfig

    b = Backtest(compiled, FeatureEngine("ES", FeatureConfig.for_rules(compiled.ruleset)), record=False)
    session = b.session
    engine = session.engine
    decide = engine.decide
    decided = [0]
    clock = time.perf_counter_ns

    def timed_decide(*a, **kw):
        d = decide(*a, **kw)
        decided[0] = clock()
        return d

    engine.decide = timed_decide
    on_event = session.on_event
    cpu_clock = time.thread_time_ns
    to_decision, total, cpu = [], [], []
    for blk in blocks([str(day)], wanted_types=HANDLED_TYPES):
        for i in range(len(blk.t)):
            ev = blk.event(i)
            bars = session.bars
            c0 = cpu_clock()
            t0 = clock()
            on_event(ev)
            t1 = clock()
            c1 = cpu_clock()
            if session.bars != bars:
                to_decision.append((decided[0] - t0) / 1e3)
                total.append((t1 - t0) / 1e3)
                cpu.append((c1 - c0) / 1e3)
    return sorted(to_decision), sorted(total), sorted(cpu)


def pct(xs, q):
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def bar_close(compiled, day: Path) -> dict:
    runs = [bar_close_us(compiled, day) for _ in range(REPEAT)]
    out = {"bar_closes_timed": len(runs[0][0])}
    for key, k in (("bar_close", 0), ("bar_close_total", 1), ("bar_close_cpu", 2)):
        for q in (50, 99):
            vals = [pct(r[k], q / 100) for r in runs]
            out[f"{key}_p{q}_us"] = round(statistics.median(vals), 1)
            out[f"{key}_p{q}_us_runs"] = stats([round(x, 1) for x in vals])
    return out


RULES = """\
version: 1
instrument: ES
params:
  threshold: 0.2
features:
  score: 0.20*pa_vote + 0.25*flow_vote + 0.15*profile_vote + 0.20*mq_vote + 0.10*dom_vote
signals:
  - {name: bn_long, when: score > threshold, side: long}
  - {name: bn_short, when: score < -threshold, side: short}
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="a 60-minute session instead of a full day")
    ap.add_argument("--bar-close", action="store_true", help="only the bar close latency")
    args = ap.parse_args()
    minutes = 60 if args.quick else 390
    tmp = Path(tempfile.mkdtemp(prefix="mia-bench-runtime-"))
    day = tmp / "20251120"
    simulate(SimConfig(day=date(2025, 11, 20), seed=1, minutes=minutes), day)
    rules = [str(HOME / "rules")]
    compiled = compile_rules(load_rules(rules))
    load_start = [round(x, 2) for x in os.getloadavg()]
    closes = bar_close(compiled, day)
    if args.bar_close:
        closes.update(minutes=minutes, numba_threads=os.environ.get("NUMBA_NUM_THREADS", "default"),
                      load_avg_start=load_start, load_avg=[round(x, 2) for x in os.getloadavg()])
        print(json.dumps(closes) if args.json else "\n".join(f"{k}: {v}" for k, v in closes.items()))
        return 0

    # events/s: the supervisor at speed 0 vs the backtest path, same day, same process
    sup_rate, bt_rate, events = [], [], 0
    for k in range(REPEAT):
        t = time.perf_counter()
        bt = backtest_days(compiled, [str(day)], record=False)
        bt_rate.append(bt.session.events / (time.perf_counter() - t))
        cfg = config(tmp, f"rate{k}", path=str(day))
        sup, wall = asyncio.run(supervise(cfg, rules))
        events = sup.session.events
        assert events == bt.session.events
        sup_rate.append(events / wall)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # decision latency: one event per item, as live
    lat_runs, sess_runs = [], []
    for k in range(REPEAT):
        cfg = config(tmp, f"lat{k}")
        sup, _ = asyncio.run(supervise(cfg, rules, OneByOne(day), latencies=True))
        lat_runs.append(sorted(x * 1e6 for x in sup.decision_latencies))
        # the same decisions without the supervisor: the session's bar close alone
        from mia.backtest.driver import Backtest
        from mia.features import FeatureEngine
        from mia.features.config import FeatureConfig

        b = Backtest(compiled, FeatureEngine("ES", FeatureConfig.for_rules(compiled.ruleset)), record=False)
        times = []
        orig = b.session.on_bar

        def timed(t, row, orig=orig):
            t0 = time.perf_counter()
            orig(t, row)
            times.append((time.perf_counter() - t0) * 1e6)

        b.session.on_bar = timed
        for blk in blocks([str(day)], wanted_types=HANDLED_TYPES):
            b.session.on_block(blk)
        sess_runs.append(sorted(times))

    p50 = [pct(x, 0.5) for x in lat_runs]
    p99 = [pct(x, 0.99) for x in lat_runs]
    sess50 = [pct(x, 0.5) for x in sess_runs]
    floor = sorted(commit_floor_us(tmp))
    floor50 = pct(floor, 0.5)

    # hot reload: params-only and a new expression (each edit different)
    params_edits = [RULES.replace("threshold: 0.2", f"threshold: 0.{21 + k}") for k in range(REPEAT)]
    expr_edits = [RULES.replace("score > threshold", f"score > threshold + 0.00{k + 1}") for k in range(REPEAT)]
    reload_params = asyncio.run(reload_ms(tmp, day, RULES, params_edits))
    reload_changed = asyncio.run(reload_ms(tmp, day, RULES, expr_edits))

    result = {
        "events": events, "minutes": minutes,
        "events_per_s": round(statistics.median(sup_rate)),
        "events_per_s_runs": stats([round(x) for x in sup_rate]),
        "backtest_events_per_s": round(statistics.median(bt_rate)),
        "ratio_vs_backtest": round(statistics.median(sup_rate) / statistics.median(bt_rate), 3),
        "decision_p50_us": round(statistics.median(p50), 1),
        "decision_p99_us": round(statistics.median(p99), 1),
        "decision_p50_us_runs": stats([round(x, 1) for x in p50]),
        "decision_p99_us_runs": stats([round(x, 1) for x in p99]),
        "decisions_timed": len(lat_runs[0]),
        "session_decision_p50_us": round(statistics.median(sess50), 1),
        "commit_floor_us": round(floor50, 1),
        "reload_params_ms": round(statistics.median(reload_params), 1),
        "reload_params_ms_runs": stats([round(x, 1) for x in reload_params]),
        "reload_changed_ms": round(statistics.median(reload_changed), 1),
        "reload_changed_ms_runs": stats([round(x, 1) for x in reload_changed]),
        **closes,
        "peak_mb": round(peak_mb, 1),
        "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default"),
        "load_avg_start": load_start,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(result))
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"mia run, {events:,} events ({minutes} simulated minutes), median of {REPEAT}")
        for col in ("measure", "median", "min", "max", "beside it"):
            t.add_column(col)
        r = result
        t.add_row("events/s at speed 0, journal on", f"{r['events_per_s']:,}", f"{r['events_per_s_runs']['min']:,}",
                  f"{r['events_per_s_runs']['max']:,}", f"backtest path {r['backtest_events_per_s']:,}/s "
                  f"(ratio {r['ratio_vs_backtest']})")
        t.add_row("event -> decision journaled p50 (us)", str(r["decision_p50_us"]),
                  str(r["decision_p50_us_runs"]["min"]), str(r["decision_p50_us_runs"]["max"]),
                  f"session alone {r['session_decision_p50_us']} us; one WAL commit {r['commit_floor_us']} us")
        t.add_row("event -> decision journaled p99 (us)", str(r["decision_p99_us"]),
                  str(r["decision_p99_us_runs"]["min"]), str(r["decision_p99_us_runs"]["max"]),
                  f"{r['decisions_timed']} decisions timed per run")
        t.add_row("tick closing a bar -> decision p50 (us)", str(r["bar_close_p50_us"]),
                  str(r["bar_close_p50_us_runs"]["min"]), str(r["bar_close_p50_us_runs"]["max"]),
                  f"whole on_event p50 {r['bar_close_total_p50_us']} us, CPU time p50 {r['bar_close_cpu_p50_us']} us")
        t.add_row("tick closing a bar -> decision p99 (us)", str(r["bar_close_p99_us"]),
                  str(r["bar_close_p99_us_runs"]["min"]), str(r["bar_close_p99_us_runs"]["max"]),
                  f"whole on_event p99 {r['bar_close_total_p99_us']} us, CPU time p99 {r['bar_close_cpu_p99_us']} us; "
                  f"{r['bar_closes_timed']} bars per run")
        t.add_row("reload, params edit (ms)", str(r["reload_params_ms"]), str(r["reload_params_ms_runs"]["min"]),
                  str(r["reload_params_ms_runs"]["max"]), "file written -> new version active")
        t.add_row("reload, new expression (ms)", str(r["reload_changed_ms"]),
                  str(r["reload_changed_ms_runs"]["min"]), str(r["reload_changed_ms_runs"]["max"]),
                  "includes a numba compile")
        t.add_row("peak RSS (MB)", str(r["peak_mb"]), "", "", f"load {r['load_avg']}")
        Console().print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
