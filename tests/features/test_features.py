"""The feature engine on small hand-written event sequences, and the event path equal to the block
path (numba scanner and bulk kernel) on simulated sessions of every layout."""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mia.dsl import catalog
from mia.features import FeatureEngine, compute_features
from mia.market.events import Event
from profiles import examples

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 11, 20, 9, 30, tzinfo=NY).timestamp()
COL = {f.name: i for i, f in enumerate(catalog.FEATURES)}


def tr(t, px, vol, side="BUY"):
    return Event(t, "trade", 3, "ES", {"px": px, "vol": vol, "side": side})


def ev(t, typ, chart=3, **f):
    return Event(t, typ, chart, "ES", f)


def rows(events):
    eng = FeatureEngine()
    out = []
    for e in events:
        if eng.update(e):
            out.append((eng.row_time, {n: eng.row[i] for n, i in COL.items()}))
    return out


def test_bars_from_trades_vwap_delta_and_clock():
    events = [tr(T0 + 1, 100.0, 2, "BUY"), tr(T0 + 20, 101.0, 1, "SELL"), tr(T0 + 50, 99.5, 3, "SELL"),
              tr(T0 + 61, 102.0, 4, "BUY"), tr(T0 + 125, 102.0, 1)]
    (t1, r1), (t2, r2) = rows(events)
    assert t1 == T0 + 60 and t2 == T0 + 120
    assert (r1["open"], r1["high"], r1["low"], r1["close"], r1["volume"]) == (100.0, 101.0, 99.5, 99.5, 6.0)
    assert (r1["ask_volume"], r1["bid_volume"], r1["delta"]) == (2.0, 4.0, -2.0)
    assert r1["delta_ratio"] == pytest.approx(-2 / 6)
    vwap = (100 * 2 + 101 * 1 + 99.5 * 3) / 6
    assert r1["vwap"] == pytest.approx(vwap)
    sd = math.sqrt((100**2 * 2 + 101**2 + 99.5**2 * 3) / 6 - vwap**2)
    assert r1["vwap_up1"] == pytest.approx(vwap + sd)
    assert r2["cum_delta"] == -2.0 + 4.0
    assert r1["time_of_day"] == 570 and r1["minutes_since_open"] == 0 and r1["in_rth"] == 1.0
    assert r2["time_of_day"] == 571
    # votes: bar 1 closed below its open with delta ratio -0.33; bar 2 up with all buying
    assert (r1["pa_vote"], r1["flow_vote"]) == (-1.0, -1.0)
    assert (r2["pa_vote"], r2["flow_vote"]) == (0.0, 1.0)


def test_basedata_rewrites_last_line_is_the_bar():
    events = [ev(T0, "basedata", i=1, o=10.0, h=10.0, l=10.0, c=10.0, v=1, bidvol=1, askvol=0),
              ev(T0 + 0.5, "basedata", i=1, o=10.0, h=11.0, l=9.0, c=10.5, v=7, bidvol=2, askvol=5),
              ev(T0 + 5, "basedata", chart=4, i=99, o=1.0, h=1.0, l=1.0, c=1.0, v=1),  # 30-minute chart: ignored
              tr(T0 + 30, 10.5, 1),                                                  # no trade bars with basedata
              ev(T0 + 60, "basedata", i=2, o=10.5, h=10.5, l=10.5, c=10.5, v=1, bidvol=0, askvol=1)]
    ((t, r),) = rows(events)
    assert t == T0 + 60
    assert (r["open"], r["high"], r["low"], r["close"], r["volume"], r["delta"]) == (10.0, 11.0, 9.0, 10.5, 7.0, 3.0)


def test_a_basedata_bar_stamped_just_before_its_minute_starts_on_it():
    """An SCDateTime of 6 decimals may read 09:30:59.96 for the 09:31 bar: its start is 09:31
    (``sctime.SC_SLACK``), and the bar before it closes at 09:31."""
    events = [ev(T0, "basedata", i=1, o=10.0, h=10.0, l=10.0, c=10.0, v=1),
              ev(T0 + 60 - 0.04, "basedata", i=2, o=11.0, h=11.0, l=11.0, c=11.0, v=2),
              ev(T0 + 120 - 0.05, "basedata", i=3, o=12.0, h=12.0, l=12.0, c=12.0, v=3)]
    assert [(t - T0, r["close"], r["time_of_day"]) for t, r in rows(events)] == [(60, 10.0, 570), (120, 11.0, 571)]


def test_book_levels_vix_and_staleness():
    events = [ev(T0, "quote", bid=100.0, ask=100.5), ev(T0, "vix", chart=8, last=23.0),
              ev(T0 + 1, "vix", chart=3, vix=99.0)]                 # the chart-3 overlay loses to chart 8
    events += [ev(T0, "depth", side="BID", lvl=k, price=100 - k * 0.25, size=10.0) for k in range(1, 7)]
    events += [ev(T0, "depth", side="ASK", lvl=k, price=100 + k * 0.25, size=5.0) for k in range(1, 6)]
    events += [ev(T0 + 2, "menthorq_level", chart=10, level_type="1d_min", price=99.0),
               ev(T0 + 2, "menthorq_level", chart=10, level_type="blind_spot_3", price=100.25),
               ev(T0 + 2, "menthorq_level", chart=10, level_type="put_support", price=99.9),
               tr(T0 + 10, 100.0, 1), tr(T0 + 62, 100.0, 1)]
    ((t, r),) = rows(events)
    assert (r["bid"], r["ask"], r["spread"]) == (100.0, 100.5, 2.0)
    assert (r["bid_size_top5"], r["ask_size_top5"]) == (50.0, 25.0)
    assert r["dom_vote"] == 1.0                                  # 50 > 1.2 x 25
    assert (r["vix"], r["vix_regime"]) == (23.0, 2.0)
    assert (r["min_1d"], r["blind_spot_3"], r["put_support"]) == (99.0, 100.25, 99.9)
    assert math.isnan(r["blind_spot_0"]) and math.isnan(r["call_resistance"])
    assert r["levels_age_min"] == pytest.approx((T0 + 60 - (T0 + 2)) / 60)
    assert r["mq_vote"] == 1.0                                   # 0.10 above a support: within 0.2 %


def test_dealers_bias_weights_and_smoothing():
    # close 100: call resistance 3 ticks above (bearish), put support 20 ticks below (too far), VIX low
    lv = lambda t, k, p: ev(t, "menthorq_level", chart=10, level_type=k, price=p)  # noqa: E731
    events = [ev(T0, "vix", chart=8, last=14.0), lv(T0, "call_resistance", 100.75), lv(T0, "put_support", 95.0),
              tr(T0 + 1, 100.0, 1), tr(T0 + 61, 100.0, 1),
              lv(T0 + 62, "put_support", 99.9), tr(T0 + 121, 100.0, 1)]
    (_, r1), (_, r2) = rows(events)
    # components mapped to [0, 1]: resistance 0, support 0.5, blind spots 0.5, swing 0.5, GEX 0.5, VIX 0.5
    c1 = 0.25 * 0 + 0.20 * 0.5 + 0.20 * 0.5 + 0.15 * 0.5 + 0.15 * 0.5 + 0.05 * 0.5
    assert r1["dealers_bias"] == pytest.approx(2 * c1 - 1)            # -0.25, the EMA's seed
    c2 = c1 + 0.20 * 0.5                                               # support now 0.1 below: bullish
    assert r2["dealers_bias"] == pytest.approx((2 * c1 - 1) + 0.2 * ((2 * c2 - 1) - (2 * c1 - 1)))
    assert (r1["vix_regime"], r1["mq_vote"]) == (0.0, 0.0)
    assert r2["mq_vote"] == 1.0                                        # 0.1 above support: within 0.2 %


@pytest.mark.parametrize("vix,regime", [(14.99, 0.0), (15.0, 1.0), (21.9, 1.0), (22.0, 2.0), (34.9, 2.0), (35.0, 3.0)])
def test_vix_regimes(vix, regime):
    ((_, r),) = rows([ev(T0, "vix", chart=8, last=vix), tr(T0 + 1, 100.0, 1), tr(T0 + 61, 100.0, 1)])
    assert r["vix_regime"] == regime


def _flat_bars(start, closes, spread=0.25):
    out, t = [], start
    for k, c in enumerate(closes):
        o = closes[k - 1] if k else c
        out += [tr(t + 1, o, 1), tr(t + 2, c + spread, 1), tr(t + 3, c - spread, 1), tr(t + 4, c, 1)]
        t += 60
    out.append(tr(t + 1, closes[-1], 1))
    return out


def test_green_base_and_golden_rule_violation():
    # a tight rising base (range <= 10 ticks = 2.5 points), then a red bar closing well below it
    closes = [100.0, 100.25, 100.5, 100.75, 101.0]
    r = rows(_flat_bars(T0, closes))
    assert r[-1][1]["base_direction"] == 1.0 and r[-1][1]["golden_rule_intact"] == 1.0
    crash = _flat_bars(T0, closes + [98.0])
    last = rows(crash)[-1][1]
    assert last["pa_vote"] == -1.0 and last["golden_rule_intact"] == 0.0


def test_atr_wilder_without_a_study():
    closes = [100.0, 101.0, 100.0]
    r = rows(_flat_bars(T0, closes, spread=0.5))
    # bar 1: trades 100, 100.5, 99.5, 100 -> range 1.0
    # bar 2: 100 (open = previous close), 101.5, 100.5, 101 -> range 1.5, previous close 100 inside it
    # bar 3: 101, 100.5, 99.5, 100 -> range 1.5, previous close 101 at its high
    trs = [1.0, 1.5, 1.5]
    want = [trs[0], (trs[0] + trs[1]) / 2, (trs[0] + trs[1] + trs[2]) / 3]
    assert [x[1]["atr"] for x in r] == pytest.approx(want)


def streamed_rows(folder) -> tuple[np.ndarray, np.ndarray]:
    """The event path: ``replay`` (the line parser and the k-way merge) into ``FeatureEngine.update``,
    one event at a time, and the forming bar flushed at the end."""
    from mia.market.replay import replay

    eng = FeatureEngine()
    times, rows_ = [], []
    for e in replay([folder]):
        if eng.update(e):
            times.append(eng.row_time)
            rows_.append(eng.row.copy())
    if eng.flush():
        times.append(eng.row_time)
        rows_.append(eng.row.copy())
    return np.array(times), np.array(rows_).reshape(len(rows_), len(COL))


def write_layout(folder, seed: int, minutes: int, layout: str) -> int:
    """A simulated folder in one of the layouts a trader's data comes in; the bars it must give."""
    import datetime as dt

    from mia.market.sim import SimConfig, simulate

    days = [dt.date(2025, 11, 20)] + ([dt.date(2025, 11, 21)] if layout == "two_days" else [])
    for k, day in enumerate(days):
        out = folder / f"{day:%Y%m%d}"
        simulate(SimConfig(day=day, seed=seed + k, minutes=minutes, unified=layout == "unified_only"), out)
        for p in out.iterdir():
            if layout == "unified_only" and p.name.startswith("chart_"):
                p.unlink()                                   # only the unified file is left
            elif layout == "trades_only" and "_basedata_" in p.name:
                p.unlink()                                   # bars from trades, bucketed by minute
    return minutes * len(days)


@settings(max_examples=examples(3))
@given(seed=st.integers(1, 10_000), minutes=st.integers(3, 25),
       layout=st.sampled_from(["charts", "unified_only", "trades_only", "two_days"]))
@example(seed=1, minutes=25, layout="charts")
@example(seed=2, minutes=12, layout="unified_only")
@example(seed=3, minutes=9, layout="trades_only")
@example(seed=4, minutes=6, layout="two_days")
def test_streaming_equals_the_block_path_on_simulated_sessions(tmp_path_factory, seed, minutes, layout):
    """The real batch path (columnar blocks: the numba scanner, then the bulk kernel between the
    Python handlers) against the event path, row for row and bit for bit."""
    folder = tmp_path_factory.mktemp("sim")
    bars = write_layout(folder, seed, minutes, layout)
    times, streamed = streamed_rows(folder)
    frame = compute_features(folder)                         # a folder: the block path
    assert len(times) == bars
    assert np.array_equal(frame.times, times)
    assert np.array_equal(frame.matrix, streamed, equal_nan=True)
    m = frame.matrix
    c = COL
    assert np.all(m[:, c["low"]] <= m[:, c["close"]]) and np.all(m[:, c["close"]] <= m[:, c["high"]])
    assert np.all(np.isfinite(m[:, c["vwap"]])) and np.all(m[:, c["spread"]] >= 1)
    assert np.all(np.abs(m[:, c["close"]] - m[:, c["put_support"]]) < 60)


def test_a_bar_stamped_just_before_its_minute_starts_on_its_minute_and_the_end_flushes():
    # SCDateTime has ~86 ms resolution: bar 2 (09:31) may be stamped 09:30:59.96
    events = [ev(T0 + 0.02, "basedata", i=1, o=10.0, h=10.0, l=10.0, c=10.0, v=1, bidvol=1, askvol=0),
              ev(T0 + 59.96, "basedata", i=2, o=11.0, h=11.0, l=11.0, c=11.0, v=1, bidvol=0, askvol=1),
              tr(T0 + 61, 11.0, 1)]
    eng = FeatureEngine()
    times = [eng.row_time for e in events if eng.update(e)]
    assert times == [T0 + 60]
    assert eng.flush() and eng.row_time == T0 + 120 and eng.row[COL["close"]] == 11.0
    assert not eng.flush()                         # nothing is forming any more
