"""The elite-technique features: smart money (large and block trades per bar), gamma cycles (the
SPX monthly expiry calendar) and the VIX move since the MenthorQ levels came; hand-computed values,
settings from the rules, and the columnar block path (bulk kernel) == events one by one."""
from __future__ import annotations

import datetime as dt
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from mia.dsl import catalog, load_rules
from mia.dsl.errors import RuleError
from mia.features import FeatureEngine, feature_frame_from_folder
from mia.features import expiry
from mia.features.config import FeatureConfig
from mia.market.events import Event
from mia.market.replay import replay

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 11, 20, 9, 30, tzinfo=NY).timestamp()
COL = {f.name: i for i, f in enumerate(catalog.FEATURES)}
SMART = ("large_buy_volume", "large_sell_volume", "block_trades", "large_net_flow")


def tr(t, px, vol, side="BUY"):
    return Event(t, "trade", 3, "ES", {"px": px, "vol": vol, "side": side})


def ev(t, typ, chart=3, **f):
    return Event(t, typ, chart, "ES", f)


def rows(events, config=None):
    eng = FeatureEngine("ES", config)
    out = []
    for e in events:
        if eng.update(e):
            out.append({n: eng.row[i] for n, i in COL.items()})
    if eng.flush():
        out.append({n: eng.row[i] for n, i in COL.items()})
    return out


# ---- smart money ---------------------------------------------------------------------------------

def test_large_and_block_trades_of_a_bar_built_from_trades():
    events = [tr(T0 + 1, 100.0, 150, "BUY"), tr(T0 + 5, 100.25, 100, "SELL"), tr(T0 + 10, 100.0, 99, "BUY"),
              tr(T0 + 20, 99.75, 600, "SELL"), tr(T0 + 30, 100.0, 500, "BUY"), tr(T0 + 61, 100.0, 1, "BUY")]
    r1, r2 = rows(events)
    # 99 is not large; 100 is; 500 and 600 are large and blocks
    assert (r1["large_buy_volume"], r1["large_sell_volume"], r1["block_trades"]) == (650.0, 700.0, 2.0)
    assert r1["volume"] == 1449.0 and r1["large_net_flow"] == (650.0 - 700.0) / 1449.0
    # a bar with no large trade: zeros, not missing
    assert (r2["large_buy_volume"], r2["large_sell_volume"], r2["block_trades"], r2["large_net_flow"]) == (0, 0, 0, 0)


def test_with_basedata_a_trade_after_the_bars_end_counts_in_the_next_bar():
    bar = dict(o=100.0, h=100.5, l=99.5, c=100.25, bidvol=1, askvol=1)
    events = [ev(T0, "basedata", i=1, v=400, **bar), tr(T0 + 10, 100.0, 200, "BUY"),
              tr(T0 + 61, 100.0, 300, "SELL"),                       # after bar 1's end: bar 2's
              ev(T0 + 62, "basedata", i=2, v=500, **bar), tr(T0 + 100, 100.0, 100, "BUY"),
              ev(T0 + 125, "basedata", i=3, v=50, **bar)]
    r1, r2, r3 = rows(events)
    assert (r1["large_buy_volume"], r1["large_sell_volume"], r1["block_trades"]) == (200.0, 0.0, 0.0)
    assert r1["large_net_flow"] == 200.0 / 400.0                     # the bar's own volume (basedata)
    assert (r2["large_buy_volume"], r2["large_sell_volume"], r2["large_net_flow"]) == (100.0, 300.0, -200.0 / 500.0)
    assert (r3["large_buy_volume"], r3["large_sell_volume"]) == (0.0, 0.0)


def test_the_rules_set_the_trade_sizes(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "version: 1\ninstrument: ES\nparams:\n  large_trade_contracts: 3\n  block_trade_contracts: 5\n"
        "signals:\n  - {name: s, when: large_net_flow > 0.5, side: long}\n")
    cfg = FeatureConfig.for_rules(load_rules([tmp_path]))
    assert (cfg.large_trade_contracts, cfg.block_trade_contracts) == (3.0, 5.0)
    events = [tr(T0 + 1, 100.0, 2), tr(T0 + 2, 100.0, 3), tr(T0 + 3, 100.0, 5, "SELL"), tr(T0 + 61, 100.0, 1)]
    r = rows(events, cfg)[0]
    assert (r["large_buy_volume"], r["large_sell_volume"], r["block_trades"]) == (3.0, 5.0, 1.0)
    r = rows(events)[0]                                              # the defaults: nothing is large
    assert (r["large_buy_volume"], r["large_sell_volume"], r["block_trades"]) == (0.0, 0.0, 0.0)
    # a reload's new settings apply from then on
    eng = FeatureEngine("ES")
    eng.configure(cfg)
    for e in events:
        eng.update(e)
    assert eng.row[COL["block_trades"]] == 1.0


@pytest.mark.parametrize("params, message", [
    ("large_trade_contracts: 0", "large_trade_contracts must be a whole number of at least 1, got 0"),
    ("block_trade_contracts: 2.5", "block_trade_contracts must be a whole number of at least 1, got 2.5"),
    ("large_trade_contracts: 5 ticks", "large_trade_contracts sets the feature engine"),
    ("vix_high: 14", "vix_high (14) must be more than vix_mid (15)"),
    ("gamma_peak_days: 12", "gamma_moderate_days (10) must be more than gamma_peak_days (12)"),
    ("gamma_post_expiry_days: 09:30", "gamma_post_expiry_days sets the feature engine"),
])
def test_a_setting_param_of_the_wrong_kind_is_an_error_at_its_place(tmp_path, params, message):
    (tmp_path / "r.yaml").write_text(f"version: 1\ninstrument: ES\nparams:\n  {params}\n")
    with pytest.raises(RuleError) as exc:
        load_rules([tmp_path])
    assert message in str(exc.value)
    assert f"{tmp_path / 'r.yaml'}:4:" in str(exc.value)


# ---- gamma cycles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("year, month, day", [
    (2025, 11, 21), (2025, 12, 19), (2026, 1, 16), (2025, 4, 17),   # April 18, 2025: Good Friday
    (2022, 4, 14), (2019, 4, 18), (2008, 3, 20),                    # Good Fridays on a third Friday
    (2026, 6, 18), (2027, 6, 17),                                   # Juneteenth on / observed on a Friday
    (2021, 6, 18),                                                  # before 2022 Juneteenth was a trading day
    (2026, 4, 17),                                                  # Good Friday 2026 is April 3
])
def test_the_monthly_expiry_is_the_third_friday_or_the_thursday_before_a_holiday(year, month, day):
    assert expiry.expiry_day(year, month) == dt.date(year, month, day)


def at(y, mo, d, h, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=NY).timestamp()


@pytest.mark.parametrize("when, days_to, days_since, phase", [
    (at(2025, 11, 20, 10), 1, 33, expiry.EXPIRY_WEEK),      # 30 h to Nov 21 16:00; 33 d 19 h since Oct 17 (DST ended between)
    (at(2025, 11, 21, 15, 59), 0, 35, expiry.EXPIRY_WEEK),
    (at(2025, 11, 21, 16, 0), 0, 35, expiry.EXPIRY_WEEK),   # the expiry instant itself: still to come
    (at(2025, 11, 21, 16, 1), 27, 0, expiry.POST_EXPIRY),   # then Dec 19 is next
    (at(2025, 11, 24, 10), 25, 2, expiry.POST_EXPIRY),      # the Monday after: 2 d 18 h since
    (at(2025, 11, 25, 10), 24, 3, expiry.NORMAL),
    (at(2025, 11, 17, 10), 4, 30, expiry.PEAK),
    (at(2025, 11, 18, 10), 3, 31, expiry.PEAK),
    (at(2025, 11, 13, 10), 8, 26, expiry.MODERATE),
    (at(2025, 11, 10, 10), 11, 23, expiry.NORMAL),
    (at(2025, 4, 16, 10), 1, 25, expiry.EXPIRY_WEEK),       # April 2025 expires Thursday April 17
])
def test_days_to_and_since_expiry_and_the_phase(when, days_to, days_since, phase):
    assert expiry.cycle(when) == (days_to, days_since)
    assert expiry.phase(days_to, days_since, FeatureConfig()) == phase


def test_gamma_cycle_features_of_a_bar_and_their_settings():
    events = [tr(T0 + 1, 100.0, 1), tr(T0 + 61, 100.0, 1)]
    r = rows(events)[0]                                     # the bar closing 2025-11-20 09:31
    assert (r["days_to_expiry"], r["days_since_expiry"], r["gamma_phase"]) == (1.0, 33.0, 3.0)
    cfg = FeatureConfig(gamma_expiry_week_days=0, gamma_peak_days=1, gamma_moderate_days=3)
    assert rows(events, cfg)[0]["gamma_phase"] == 2.0       # 1 day to expiry is this trader's peak


# ---- the VIX move since the levels came ------------------------------------------------------------

def test_vix_move_since_the_levels_came():
    events = [ev(T0, "vix", 8, last=15.0), tr(T0 + 1, 100.0, 1),
              ev(T0 + 5, "menthorq_level", 10, level_type="hvl", price=101.0),
              ev(T0 + 30, "vix", 8, last=17.5), tr(T0 + 61, 100.0, 1),
              ev(T0 + 70, "menthorq_level", 10, level_type="call_resistance", price=0.0),   # 0: says nothing
              tr(T0 + 121, 100.0, 1)]
    r1, r2, r3 = rows(events)
    assert r1["vix_move_since_levels"] == 2.5                # 17.5 now, 15 when the levels came
    assert r2["vix_move_since_levels"] == 2.5 and r3["vix_move_since_levels"] == 2.5
    assert math.isnan(rows([tr(T0 + 1, 100.0, 1), tr(T0 + 61, 100.0, 1)])[0]["vix_move_since_levels"])
    # levels with no VIX yet: the move is unknown
    r = rows([ev(T0 + 5, "menthorq_level", 10, level_type="hvl", price=101.0), tr(T0 + 6, 100.0, 1),
              ev(T0 + 30, "vix", 8, last=17.5), tr(T0 + 61, 100.0, 1)])[0]
    assert math.isnan(r["vix_move_since_levels"]) and r["levels_age_min"] == 55 / 60


# ---- block path == events one by one ----------------------------------------------------------------

def streamed(folder, config):
    eng = FeatureEngine("ES", config)
    out = []
    for e in replay([folder]):
        if eng.update(e):
            out.append(eng.row.copy())
    if eng.flush():
        out.append(eng.row.copy())
    return np.array(out)


@pytest.mark.parametrize("seed, large, block", [(1, 3, 8), (2, 100, 500), (5, 1, 2)])
def test_block_path_equals_events_one_by_one(tmp_path, seed, large, block):
    """The bulk kernel counts the large and block trades of the trades it takes itself: a
    simulated session read as columnar blocks gives the rows of its events one by one, with
    settings that make many trades large (and the defaults)."""
    from mia.market.sim import SimConfig, simulate

    simulate(SimConfig(day=dt.date(2025, 11, 20), seed=seed, minutes=15), tmp_path)
    cfg = FeatureConfig(large_trade_contracts=large, block_trade_contracts=block)
    frame = feature_frame_from_folder(tmp_path, config=cfg)
    want = streamed(tmp_path, cfg)
    assert np.array_equal(frame.matrix, want, equal_nan=True)
    cols = [COL[n] for n in SMART]
    assert (frame.matrix[:, COL["large_buy_volume"]] > 0).any() and (frame.matrix[:, COL["block_trades"]] > 0).any()
    assert np.isfinite(frame.matrix[:, cols]).all()
    # and the counts are those of the trades themselves, bar by bar (basedata: a trade belongs to
    # the bar whose minute it falls in)
    trades = [e for e in replay([tmp_path]) if e.type == "trade"]
    times = frame.times
    for k, t_close in enumerate(times):
        mine = [e for e in trades if t_close - 60 <= e.t < t_close]
        buy = sum(e.f["vol"] for e in mine if e.f["vol"] >= large and e.f["side"] == "BUY")
        sell = sum(e.f["vol"] for e in mine if e.f["vol"] >= large and e.f["side"] == "SELL")
        blocks = sum(1 for e in mine if e.f["vol"] >= block)
        assert (frame.matrix[k, COL["large_buy_volume"]], frame.matrix[k, COL["large_sell_volume"]],
                frame.matrix[k, COL["block_trades"]]) == (buy, sell, blocks), k
