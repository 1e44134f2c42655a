"""Feature engine contract details: day roll, study attribution by bar index, trade VWAP at a basedata
close, golden rule through a continuing base, Wilder smoothing, votes, VIX overlay; sim checks (the
block path, numba scanner and bulk kernel, against the event path)."""
from __future__ import annotations

import datetime as dt
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pytest

from mia.dsl import catalog
from mia.features import FeatureConfig, FeatureEngine, compute_features
from mia.market.events import Event

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 11, 20, 9, 30, tzinfo=NY).timestamp()
COL = {f.name: i for i, f in enumerate(catalog.FEATURES)}


def ev(t, typ, chart=3, **f):
    return Event(t, typ, chart, "ES", f)


def tr(t, px, vol, side="BUY"):
    return ev(t, "trade", px=px, vol=vol, side=side)


def bd(t, i, o, h, l, c, v=10, bidvol=5, askvol=5):
    return ev(t, "basedata", i=i, o=o, h=h, l=l, c=c, v=v, bidvol=bidvol, askvol=askvol)


def rows(events, config=None):
    eng = FeatureEngine(config=config)
    out = []
    for e in events:
        if eng.update(e):
            out.append((eng.row_time, {n: eng.row[i] for n, i in COL.items()}))
    return out


def test_day_roll_closes_the_last_bar_in_its_own_session():
    d0 = datetime(2025, 11, 20, 16, 58, tzinfo=NY).timestamp()
    d1 = datetime(2025, 11, 20, 18, 0, tzinfo=NY).timestamp()          # the next trading day
    events = [tr(d0 + 5, 100.0, 2, "BUY"), tr(d0 + 65, 101.0, 1, "SELL"),
              tr(d1 + 10, 200.0, 1, "BUY"), tr(d1 + 65, 200.0, 1, "BUY")]
    (t1, r1), (t2, r2), (t3, r3) = rows(events)
    assert (t1, t2, t3) == (d0 + 60, d0 + 120, d1 + 60)
    assert (r1["cum_delta"], r1["vwap"]) == (2.0, 100.0)
    assert r2["cum_delta"] == 1.0 and r2["vwap"] == pytest.approx((200 + 101) / 3)   # old session
    assert (r3["cum_delta"], r3["vwap"]) == (1.0, 200.0)                             # new session
    assert (r3["time_of_day"], r3["minutes_since_open"], r3["in_rth"]) == (1080, 510, 0.0)
    assert (r2["time_of_day"], r2["in_rth"]) == (1019, 0.0)


def test_studies_are_taken_from_the_closing_bar_index():
    # studies of bar 2 come before the basedata line that closes bar 1 (stream tie order)
    events = [bd(T0, 1, 10.0, 11.0, 9.0, 10.5),
              ev(T0, "vwap", i=1, v=10.2, up1=10.4, dn1=10.0, up2=10.6, dn2=9.8),
              ev(T0, "vva", i=1, vah=10.25, val=9.5, vpoc=10.0, pvah=12.0, pval=8.0, ppoc=11.0),
              ev(T0, "atr", i=1, atr=1.5),
              ev(T0 + 60, "atr", i=2, atr=9.0), ev(T0 + 60, "vwap", i=2, v=99.0, up1=99, dn1=99, up2=99, dn2=99),
              bd(T0 + 60, 2, 10.5, 10.5, 10.5, 10.5),
              ev(T0 + 60, "vva", i=2, vah=1.0, val=1.0, vpoc=1.0, pvah=1.0, pval=1.0, ppoc=1.0),
              bd(T0 + 120, 3, 10.5, 10.5, 10.5, 10.5)]
    (_, r1), (_, r2) = rows(events)
    assert (r1["vwap"], r1["vwap_up2"], r1["vwap_dn1"], r1["atr"]) == (10.2, 10.6, 10.0, 1.5)
    assert (r1["vah"], r1["val"], r1["poc"], r1["pvah"], r1["pval"], r1["ppoc"]) == (10.25, 9.5, 10.0, 12.0, 8.0, 11.0)
    assert r1["profile_vote"] == 1.0                                    # 10.5 above VAH 10.25
    assert (r2["vwap"], r2["atr"], r2["vah"]) == (99.0, 9.0, 1.0)
    assert r2["profile_vote"] == 1.0                                    # 10.5 above VAH 1.0


def test_trade_vwap_at_a_basedata_close_ignores_trades_of_the_next_minute():
    events = [bd(T0, 1, 100.0, 100.0, 100.0, 100.0), tr(T0 + 10, 100.0, 1),
              tr(T0 + 61, 110.0, 1),                                    # next minute, before the close line
              bd(T0 + 61.5, 2, 110.0, 110.0, 110.0, 110.0), bd(T0 + 121, 3, 110.0, 110.0, 110.0, 110.0)]
    (t1, r1), (t2, r2) = rows(events)
    assert (t1, t2) == (T0 + 60, T0 + 120)
    assert r1["vwap"] == 100.0 and r1["vwap_up1"] == 100.0
    assert r2["vwap"] == 105.0 and r2["vwap_up2"] == 115.0 and r2["vwap_dn1"] == 100.0   # sd 5


BASE = [(100.00, 100.25, 99.75, 100.00), (100.00, 100.50, 100.00, 100.25), (100.25, 100.75, 100.25, 100.50),
        (100.50, 101.00, 100.50, 100.75), (100.75, 101.25, 100.75, 101.00)]


def _bars(ohlc):
    out = [bd(T0 + 60 * k, k, *b) for k, b in enumerate(ohlc)]
    return out + [bd(T0 + 60 * len(ohlc), len(ohlc), 50.0, 50.0, 50.0, 50.0)]


def _mirror(ohlc):
    return [(200 - o, 200 - l, 200 - h, 200 - c) for o, h, l, c in ohlc]


@pytest.mark.parametrize("mirror", [False, True])
def test_base_and_golden_rule(mirror):
    f = _mirror if mirror else (lambda x: x)
    sign = -1.0 if mirror else 1.0
    r = rows(_bars(f(BASE)))
    # closes rise 4 times in a 6-tick range: green base [99.75, 101.25] on the 5th bar
    assert [x[1]["base_direction"] for x in r] == [0.0, 0.0, 0.0, 0.0, sign]
    assert all(x[1]["golden_rule_intact"] == 1.0 for x in r)
    # a red bar closing on the base low: intact
    r = rows(_bars(f(BASE + [(100.50, 100.50, 99.75, 99.75)])))
    assert (r[-1][1]["base_direction"], r[-1][1]["golden_rule_intact"]) == (sign, 1.0)
    # a red bar closing one tick below the low: violated, although it extends the same base (7 ticks)
    r = rows(_bars(f(BASE + [(100.25, 100.25, 99.50, 99.50), (99.50, 99.75, 99.50, 99.75)])))
    assert (r[-2][1]["pa_vote"], r[-2][1]["base_direction"], r[-2][1]["golden_rule_intact"]) == (-sign, sign, 0.0)
    assert r[-1][1]["golden_rule_intact"] == 0.0                        # stays violated


def test_a_wide_bar_leaves_no_new_base_and_a_green_close_below_does_not_violate():
    r = rows(_bars(BASE + [(99.0, 99.5, 97.0, 99.5)]))                  # green bar below the base
    assert (r[-1][1]["base_direction"], r[-1][1]["golden_rule_intact"]) == (1.0, 1.0)


def test_wilder_smoothing_after_the_period_and_the_study_override():
    bars = [(100.5, 101.0, 100.0, 100.5), (101.5, 102.0, 101.0, 101.5), (101.0, 101.5, 101.0, 101.0)]
    r = rows(_bars(bars), FeatureConfig(atr_period=2))
    # true ranges 1.0, max(1, 1.5, 0.5) = 1.5, max(0.5, 0, 0.5) = 0.5
    assert [x[1]["atr"] for x in r[:3]] == [1.0, 1.25, (1.25 * 1 + 0.5) / 2]
    evs = _bars(bars)
    evs.insert(1, ev(T0 + 1, "atr", i=0, atr=3.0))
    assert rows(evs)[0][1]["atr"] == 3.0


def test_votes_resistance_dom_flow_and_vix_overlay():
    lv = lambda k, p: ev(T0, "menthorq_level", chart=10, level_type=k, price=p)  # noqa: E731
    events = [lv("gamma_wall_0dte", 100.15), lv("put_support", 90.0),
              ev(T0, "vix", vix=36.0),                                   # chart-3 overlay only
              ev(T0, "quote", bid=99.75, ask=100.25)]
    events += [ev(T0, "depth", side=s, lvl=k, price=100.0, size=z) for k in range(1, 6)
               for s, z in (("BID", 10.0), ("ASK", 12.5))]
    events += [bd(T0, 1, 100.5, 100.5, 100.0, 100.0, v=20, bidvol=11, askvol=9),   # ratio -0.10: no vote
               bd(T0 + 60, 2, 100.0, 100.0, 100.0, 100.0)]
    ((_, r),) = rows(events)
    assert (r["delta"], r["delta_ratio"], r["flow_vote"], r["pa_vote"]) == (-2.0, -0.1, 0.0, -1.0)
    assert r["mq_vote"] == -1.0                                          # 0.15 below the 0DTE gamma wall
    assert r["dom_vote"] == -1.0                                         # 62.5 > 1.2 x 50
    assert (r["vix"], r["vix_regime"], r["spread"]) == (36.0, 3.0, 2.0)
    assert r["profile_vote"] == 0.0 and math.isnan(r["vah"])


def test_delta_ratio_zero_volume_and_no_data_defaults():
    ((_, r),) = rows([bd(T0, 1, 5.0, 5.0, 5.0, 5.0, v=0, bidvol=0, askvol=0), bd(T0 + 60, 2, 5.0, 5.0, 5.0, 5.0)])
    assert (r["delta_ratio"], r["dom_vote"], r["mq_vote"], r["dealers_bias"]) == (0.0, 0.0, 0.0, 0.0)
    assert math.isnan(r["vix"]) and math.isnan(r["vix_regime"]) and math.isnan(r["levels_age_min"])
    assert math.isnan(r["spread"]) and math.isnan(r["vwap"])


def _last_per_index(path, key):
    last = {}
    for line in path.read_bytes().splitlines():
        d = orjson.loads(line)
        last[d["i"]] = d[key]
    return [last[i] for i in sorted(last)]


def test_simulated_folder_studies_match_their_bar_and_batch_equals_streaming(tmp_path):
    from mia.market.replay import replay
    from mia.market.sim import SimConfig, simulate

    simulate(SimConfig(day=dt.date(2025, 11, 20), seed=7, minutes=15), tmp_path)
    frame = compute_features(tmp_path)                 # the block path: scanner and bulk kernel
    eng = FeatureEngine()                              # against the event path
    streamed = [eng.row.copy() for e in replay([tmp_path]) if eng.update(e)]
    assert eng.flush()                                 # the end of the data closes the last bar
    streamed.append(eng.row.copy())
    assert np.array_equal(np.array(streamed), frame.matrix, equal_nan=True)
    n = len(frame.times)
    assert n == 15 and np.all(np.diff(frame.times) == 60.0)
    m = frame.matrix
    assert m[:, COL["vwap"]].tolist() == _last_per_index(tmp_path / "chart_3_vwap_20251120.jsonl", "v")[:n]
    assert m[:, COL["atr"]].tolist() == _last_per_index(tmp_path / "chart_3_atr_20251120.jsonl", "atr")[:n]
    assert m[:, COL["close"]].tolist() == _last_per_index(tmp_path / "chart_3_basedata_20251120.jsonl", "c")[:n]
    assert m[0, COL["time_of_day"]] == 570 and m[-1, COL["minutes_since_open"]] == 14


def test_two_simulated_days_roll_the_session(tmp_path):
    from mia.market.replay import replay
    from mia.market.sim import SimConfig, simulate

    for day in (20, 21):
        simulate(SimConfig(day=dt.date(2025, 11, day), seed=day, minutes=5), tmp_path / f"2025-11-{day}")
    frame = compute_features(tmp_path)                 # the block path
    events = compute_features(replay([tmp_path]))      # the event path
    assert np.array_equal(frame.times, events.times) and np.array_equal(frame.matrix, events.matrix, equal_nan=True)
    m, t = frame.matrix, frame.times
    # day 1's last bar closes when day 2 starts; day 2's when the data ends
    assert len(t) == 10 and t[4] == datetime(2025, 11, 20, 9, 35, tzinfo=NY).timestamp()
    assert t[5] == datetime(2025, 11, 21, 9, 31, tzinfo=NY).timestamp()
    assert m[5, COL["cum_delta"]] == m[5, COL["delta"]] and m[5, COL["time_of_day"]] == 570
    assert m[4, COL["cum_delta"]] == m[:5, COL["delta"]].sum()
