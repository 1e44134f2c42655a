"""The day cache (``market.columnar.daycache``): a day read back from its entry is the day read from its
files (same blocks, times, events, bad-line counts), and an entry is never used for files that
changed, never written for a day being written, and a damaged entry is ignored."""
from __future__ import annotations

import datetime as dt
import os

import numpy as np
import orjson
import pytest

from mia.errors import MiaError
from mia.features.engine import HANDLED_TYPES
from mia.market.columnar.blocks import blocks
from mia.market.columnar.daycache import DayCache
from mia.market.sierra import BadLines
from mia.market.sim import SimConfig, simulate


def read(paths, cache):
    """Every block of ``paths`` concatenated, and the bad lines."""
    bad = BadLines()
    bl = list(blocks(paths, bad=bad, cache=cache, wanted_types=HANDLED_TYPES))
    t = np.concatenate([b.t for b in bl])
    code = np.concatenate([b.code for b in bl])
    x = np.concatenate([b.x for b in bl])
    others = [e for b in bl for e in b.others]
    events = [b.event(i) for b in bl for i in range(len(b.t))]      # every row, symbols included
    return t, code, x, others, dict(bad.counts), events


def assert_same(a, b):
    ta, ca, xa, oa, ba, ea = a
    tb, cb, xb, ob, bb, eb = b
    assert np.array_equal(ta, tb)
    assert np.array_equal(ca, cb)
    # OTHER / PASS rows' columns carry a read-time id, not data: compare the rows the kernel reads
    data = ca < 4
    assert np.array_equal(xa[data], xb[data], equal_nan=True)
    assert oa == ob
    assert ba == bb
    assert ea == eb


def entries(cache: DayCache) -> list[str]:
    return sorted(p.name for p in cache.root.iterdir() if not p.name.startswith(".")) if cache.root.exists() else []


def copy_day(src, dst_root):
    day = dst_root / src.name
    day.mkdir()
    for p in src.iterdir():
        (day / p.name).write_bytes(p.read_bytes())
    return day


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    root = tmp_path_factory.mktemp("days")
    for k, day in enumerate((dt.date(2025, 11, 19), dt.date(2025, 11, 20))):
        simulate(SimConfig(day=day, seed=31 + k, minutes=8), root / f"{day:%Y%m%d}")
    # bad lines of several kinds, and a trade off the tick grid that float32 cannot hold exactly
    trades = root / "20251120" / "chart_3_trade_20251120.jsonl"
    lines = trades.read_bytes().splitlines(keepends=True)
    first = orjson.loads(lines[5])
    odd = dict(first, px=round(first["px"] + 0.1, 2), seq=10**9)   # its own seq, near the market
    lines[5:5] = [b"{not json\n", b'{"t": 1, "type": "trade"}\n', orjson.dumps(odd) + b"\n"]
    trades.write_bytes(b"".join(lines))
    return root


def test_warm_read_equals_cold_read(two_days, tmp_path):
    cache = DayCache(tmp_path / "c")
    cold = read([two_days], None)
    first = read([two_days], cache)
    assert len(entries(cache)) == 2                    # one entry per day
    warm = read([two_days], cache)
    assert_same(cold, first)
    assert_same(cold, warm)
    assert cold[4]                                     # the bad lines were counted, and again when warm
    odd = orjson.loads(two_days.joinpath("20251120", "chart_3_trade_20251120.jsonl").read_bytes().splitlines()[7])
    assert odd["px"] in warm[2][:, 0]                  # restored exactly from the float64 fix-ups
    assert (cold[1] == 5).any()                        # PASS rows (nbcv, cumulative_delta) exist


def test_a_changed_file_is_a_miss(two_days, tmp_path):
    cache = DayCache(tmp_path / "c")
    day = copy_day(two_days / "20251120", tmp_path)
    read([day], cache)
    (key,) = entries(cache)
    quotes = day / "chart_3_quote_20251120.jsonl"
    last = orjson.loads(quotes.read_bytes().splitlines()[-1])
    with open(quotes, "ab") as fh:
        fh.write(orjson.dumps(dict(last, t=last["t"] + 1e-5, bid=last["bid"] - 0.25)) + b"\n")
    warm = read([day], cache)
    assert_same(read([day], None), warm)
    assert key in entries(cache) and len(entries(cache)) == 2


def test_a_day_being_written_is_not_cached(two_days, tmp_path):
    cache = DayCache(tmp_path / "c")
    day = copy_day(two_days / "20251120", tmp_path)
    with open(day / "chart_3_trade_20251120.jsonl", "ab") as fh:
        fh.write(b'{"t": 45981.6, "px": 60')            # a half-written last line
    got = read([day], cache)
    assert entries(cache) == []
    assert_same(read([day], None), got)


def test_a_damaged_entry_is_ignored(two_days, tmp_path):
    cache = DayCache(tmp_path / "c")
    cold = read([two_days], cache)
    for key in entries(cache):
        t = cache.root / key / "t"
        t.write_bytes(t.read_bytes()[:-8])             # one time short
    assert_same(cold, read([two_days], cache))


def test_stopping_early_lands_no_entry(two_days, tmp_path):
    cache = DayCache(tmp_path / "c")
    for _ in blocks([two_days / "20251119"], cache=cache):
        break
    assert entries(cache) == []


def test_a_day_starting_before_the_last_ended_is_clamped_the_same(tmp_path):
    """Two folders of the same instrument whose days overlap in time: the cross-day clock."""
    simulate(SimConfig(day=dt.date(2025, 11, 20), seed=5, minutes=4), tmp_path / "20251120")
    day2 = tmp_path / "20251121"
    day2.mkdir()
    for p in (tmp_path / "20251120").iterdir():      # the same lines, filed under the next day
        (day2 / p.name.replace("20251120", "20251121")).write_bytes(p.read_bytes())
    cache = DayCache(tmp_path / "c")
    cold = read([tmp_path / "20251120", day2], None)
    read([tmp_path / "20251120", day2], cache)
    assert_same(cold, read([tmp_path / "20251120", day2], cache))
    assert np.all(np.diff(cold[0]) >= 0)


def test_least_recently_used_entries_go_beyond_the_limit(two_days, tmp_path):
    cache = DayCache(tmp_path / "c")
    read([two_days / "20251119"], cache)
    (old,) = entries(cache)
    past = os.stat(cache.root / old).st_mtime - 100
    os.utime(cache.root / old, (past, past))
    size = sum(p.stat().st_size for p in (cache.root / old).iterdir())
    small = DayCache(tmp_path / "c", limit_mb=1.5 * size / 1e6)
    read([two_days / "20251120"], small)
    assert old not in entries(small) and len(entries(small)) == 1


def test_environment_setting(monkeypatch):
    monkeypatch.setenv("MIA_DAY_CACHE_MB", "0")
    assert DayCache.from_env() is None
    monkeypatch.setenv("MIA_DAY_CACHE_MB", "512")
    assert DayCache.from_env().limit == 512e6
    monkeypatch.setenv("MIA_DAY_CACHE_MB", "lots")
    with pytest.raises(MiaError, match="MIA_DAY_CACHE_MB='lots': error"):
        DayCache.from_env()


def test_the_wanted_types_are_part_of_the_key(two_days, tmp_path):
    """PASS rows depend on what the consumer wants: another set of types is another entry."""
    cache = DayCache(tmp_path / "c")
    day = [two_days / "20251119"]
    passing = read(day, cache)
    everything = list(blocks(day, cache=cache))               # every type wanted: no PASS rows
    assert len(entries(cache)) == 2
    code = np.concatenate([b.code for b in everything])
    assert (passing[1] == 5).any() and not (code == 5).any()
    assert np.array_equal(code == 4, (passing[1] == 4) | (passing[1] == 5))
    again = list(blocks(day, cache=cache))                    # from its own entry
    assert np.array_equal(np.concatenate([b.code for b in again]), code)
    assert [e for b in again for e in b.others] == [e for b in everything for e in b.others]


@pytest.mark.parametrize("rows", [3, 64, 1 << 16])
def test_charts_and_symbols_come_back_at_any_block_size(tmp_path, monkeypatch, rows):
    """Several charts and symbols, lines kept as events first: the chart / symbol runs of an
    entry give every row back, whatever the blocks it is read in."""
    from mia.market.columnar import daycache
    from test_batch_folder import quirky_folder

    quirky_folder(tmp_path / "d")
    for p in (tmp_path / "d").iterdir():              # a day being written is not cached: end its lines
        if not p.read_bytes().endswith(b"\n"):
            p.write_bytes(p.read_bytes() + b"\n")
    monkeypatch.setattr(daycache, "ROWS", rows)
    cache = DayCache(tmp_path / "c")
    cold = read([tmp_path / "d"], None)
    read([tmp_path / "d"], cache)
    assert len(entries(cache)) == 1
    warm = read([tmp_path / "d"], cache)
    assert_same(cold, warm)
    assert {(e.chart, e.sym) for e in warm[5] if e.type == "trade"} >= {(3, ""), (5, ""), (7, "NQZ25_FUT_CME")}


def test_pass_events_are_read_only_when_asked_for(two_days, tmp_path):
    cache = DayCache(tmp_path / "c")
    cold = read([two_days], cache)
    warm = list(blocks([two_days], cache=cache, wanted_types=HANDLED_TYPES))
    assert all(b.passed.passed._events is None for b in warm)          # stepped over: never loaded
    got = [b.event(i) for b in warm for i in np.flatnonzero(b.code == 5).tolist()]
    assert got == [e for e, c in zip(cold[5], cold[1]) if c == 5] and got
    assert {e.type for e in got} <= {"nbcv", "cumulative_delta", "pvwap"}


def test_a_damaged_pass_file(two_days, tmp_path, caplog):
    """Cut short or garbage of the right size: its checksum says so before anything is used; the
    day is read from its files (the same result, one warning) and its entry written again."""
    cache = DayCache(tmp_path / "c")
    cold = read([two_days], cache)
    (first, second) = entries(cache)
    p = cache.root / first / "passed.json"
    p.write_bytes(p.read_bytes()[:-10])
    q = cache.root / second / "passed.json"
    q.write_bytes(b"\0" * q.stat().st_size)
    with caplog.at_level("WARNING"):
        warm = read([two_days], cache)
    assert_same(cold, warm)
    assert sum("damaged day-cache entry" in r.getMessage() for r in caplog.records) == 2
    assert entries(cache) == [first, second]               # written again, whole
    caplog.clear()
    assert_same(cold, read([two_days], cache))
    assert not caplog.records
