"""What a backtest keeps does not grow with the number of days: every day's columns, events,
rule states and buffers are let go when the day is done (measured as the Python and numpy
memory still held after the run, with tracemalloc: neither RSS nor time)."""
from __future__ import annotations

import datetime as dt
import gc
import tracemalloc

import pytest

from mia import HOME
from mia.backtest.driver import backtest_days
from mia.dsl import compile_rules, load_rules
from mia.market import sctime
from mia.market.sim import SimConfig, simulate
from mia.runtime.runfolder import RunWriter


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    root = tmp_path_factory.mktemp("days")
    out, d = [], dt.date(2025, 11, 3)
    while len(out) < 9:
        if d.weekday() < 5:
            folder = root / f"{d:%Y%m%d}"
            simulate(SimConfig(day=d, seed=len(out) + 1, minutes=10), folder)
            out.append(folder)
        d += dt.timedelta(days=1)
    return out


def held_after(compiled, days, out) -> int:
    """Bytes (Python objects and numpy arrays) still held once a backtest of ``days`` is done,
    with the driver and its session alive, as ``mia backtest`` runs it (records streamed)."""
    gc.collect()
    base = tracemalloc.get_traced_memory()[0]
    writer = RunWriter(out)
    bt = backtest_days(compiled, [str(d) for d in days], sinks=[writer], record=False)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    assert len(bt.session.days) == len(days)
    writer.abort()
    return held


def test_what_a_backtest_keeps_does_not_grow_with_days(days, tmp_path):
    compiled = compile_rules(load_rules([HOME / "rules"]))
    backtest_days(compiled, [str(days[0])], record=False)           # kernels, calendars, caches: loaded
    tracemalloc.start()
    try:
        few = held_after(compiled, days[:3], tmp_path / "a")
        many = held_after(compiled, days, tmp_path / "b")
    finally:
        tracemalloc.stop()
    per_day = (many - few) / (len(days) - 3)
    # a day's columns are megabytes, its bars and events tens of kilobytes: none of it stays
    assert per_day < 16_000, f"{per_day:.0f} bytes more held per extra day"


def test_the_zone_offset_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(sctime, "_offset_cache", {})
    monkeypatch.setattr(sctime, "_OFFSET_CACHE_MAX", 50)
    for day in range(40):                                # 40 days of 24 hours
        for hour in range(24):
            sctime.sc_to_epoch(45000 + day + hour / 24 + 0.001, "America/New_York")
    assert 0 < len(sctime._offset_cache) <= 50
    assert sctime.sc_to_epoch(45981.5, "America/New_York") == (45981.5 - 25569) * 86400 + 5 * 3600
