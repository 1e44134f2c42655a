"""VIX and MenthorQ levels: published on schedule, plausible, near price, only positive values."""
from __future__ import annotations

import numpy as np
from simdata import epoch_ms

from mia.market.sim.levels import BLIND_TYPES, GAMMA_TYPES, vix_start


def test_menthorq_every_15_minutes_near_price_and_positive(session):
    levels = session.of(10, "menthorq_level")
    trades = session.of(3, "trade")
    trade_ms = np.array([epoch_ms(t["t"]) for t in trades])
    pubs = sorted({epoch_ms(x["t"], session.ny) for x in levels})
    start_ms = session.start * 1000
    assert [round((p - start_ms) / 60000) for p in pubs] == list(range(0, session.cfg.minutes, 15))
    for x in levels:
        assert x["price"] > 0
        assert x["level_type"] in GAMMA_TYPES + BLIND_TYPES
        k = int(np.searchsorted(trade_ms, epoch_ms(x["t"], session.ny))) - 1
        ref = trades[max(k, 0)]["px"]
        assert abs(x["price"] - ref) <= 40, x
    for p in pubs:
        names = {x["level_type"] for x in levels if epoch_ms(x["t"], session.ny) == p}
        assert {"call_resistance", "put_support", "hvl", "gamma_wall_0dte"} <= names
        assert 7 <= len(names & set(BLIND_TYPES)) <= 10


def test_resistance_above_support(session):
    by_t = {}
    for x in session.of(10, "menthorq_level"):
        by_t.setdefault(x["t"], {})[x["level_type"]] = x["price"]
    for lv in by_t.values():
        assert lv["put_support"] < lv["call_resistance"] and lv["1d_min"] < lv["1d_max"]
        assert lv["put_support_0dte"] < lv["call_resistance_0dte"]


def test_vix_every_15_seconds_and_plausible(session):
    vix = session.of(8, "vix")
    assert len(vix) == session.cfg.minutes * 4
    values = np.array([x["last"] for x in vix])
    assert values.min() > 8 and values.max() < 90
    assert np.abs(np.diff(values)).max() < 0.05 * values.max()


def test_vix_start_varies_by_seed_and_some_seeds_are_high():
    starts = [vix_start(np.random.Generator(np.random.PCG64(s))) for s in range(60)]
    assert 5 <= sum(v >= 22 for v in starts) <= 25
    assert sum(v < 15 for v in starts) >= 5
