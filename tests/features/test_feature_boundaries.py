"""The feature engine at its edges: a bar without bid/ask volumes, every trade-VWAP band computed by
hand, the regular hours' first and last minutes, a late rewrite of a bar already closed, an event
exactly at the 18:00 roll, a bar built from trades before the first basedata line, a repeated
price whose variance rounds below zero. Expected values are worked out here from the events."""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mia.dsl import catalog
from mia.features import FeatureEngine
from mia.market.events import Event

NY = ZoneInfo("America/New_York")
COL = {f.name: i for i, f in enumerate(catalog.FEATURES)}


def at(hh: int, mm: int, day: int = 20) -> float:
    return datetime(2025, 11, day, hh, mm, tzinfo=NY).timestamp()


T0 = at(9, 30)


def tr(t, px, vol=1, side="BUY"):
    return Event(t, "trade", 3, "ES", {"px": px, "vol": vol, "side": side})


def bd(t, i, c, **f):
    return Event(t, "basedata", 3, "ES", {"i": i, "o": c, "h": c, "l": c, "c": c, "v": 10, **f})


def rows(events, eng=None):
    eng = eng or FeatureEngine()
    out = [(eng.row_time, {n: eng.row[k] for n, k in COL.items()}) for e in events if eng.update(e)]
    if eng.flush():
        out.append((eng.row_time, {n: eng.row[k] for n, k in COL.items()}))
    return out


def test_a_bar_without_bid_and_ask_volumes_leaves_cum_delta_alone():
    (_, r1), (_, r2), (_, r3) = rows([bd(T0, 1, 100.0),                                 # no bidvol / askvol
                                      bd(T0 + 60, 2, 100.0, bidvol=2, askvol=5),
                                      bd(T0 + 120, 3, 100.0, bidvol=4, askvol=3)])
    assert math.isnan(r1["delta"]) and r1["cum_delta"] == 0.0
    assert (r2["delta"], r2["cum_delta"]) == (3.0, 3.0)
    assert (r3["delta"], r3["cum_delta"]) == (-1.0, 2.0)


def test_every_trade_vwap_band_by_hand():
    # one bar from trades: 100 x 1, 102 x 3 -> VWAP 101.5, variance (1e4 + 3 x 10404) / 4 - 101.5^2 = 0.75
    (_, r), = rows([tr(T0 + 1, 100.0, 1), tr(T0 + 2, 102.0, 3)])
    sd = math.sqrt(0.75)
    assert r["vwap"] == 101.5
    got = [r[k] for k in ("vwap_up1", "vwap_dn1", "vwap_up2", "vwap_dn2")]
    assert got == pytest.approx([101.5 + sd, 101.5 - sd, 101.5 + 2 * sd, 101.5 - 2 * sd], abs=1e-12)


def test_a_repeated_price_whose_variance_rounds_below_zero_has_bands_on_the_vwap():
    # five one-lots at 60.01 (a CL price): sum(p^2)/n - vwap^2 is -9e-13 in floats, not 0
    (_, r), = rows([tr(T0 + 1 + k, 60.01, 1) for k in range(5)], FeatureEngine(tick_size=0.01))
    assert r["vwap"] == pytest.approx(60.01)
    assert [r[k] for k in ("vwap_up1", "vwap_dn1", "vwap_up2", "vwap_dn2")] == [r["vwap"]] * 4


@pytest.mark.parametrize("hh,mm,rth", [(9, 29, 0.0), (9, 30, 1.0), (15, 59, 1.0), (16, 0, 0.0)])
def test_the_regular_hours_hold_their_first_minute_and_not_the_close(hh, mm, rth):
    (_, r), = rows([tr(at(hh, mm) + 1, 100.0)])
    assert r["in_rth"] == rth
    assert (r["time_of_day"], r["minutes_since_open"]) == (hh * 60 + mm, hh * 60 + mm - 570)


def test_a_late_rewrite_of_a_closed_bar_is_ignored():
    got = rows([bd(T0, 5, 100.0), bd(T0 + 60, 6, 101.0),
                bd(T0 + 61, 5, 90.0),                          # bar 5 again, after it closed
                bd(T0 + 62, 6, 102.0), bd(T0 + 120, 7, 103.0)])
    assert [(t - T0, r["close"]) for t, r in got] == [(60, 100.0), (120, 102.0), (180, 103.0)]


def test_an_event_exactly_at_the_roll_starts_the_new_session():
    roll = at(18, 0)
    got = rows([tr(roll - 30, 100.0, 2, "BUY"), tr(roll, 200.0, 1, "SELL"), tr(roll + 30, 200.0, 1, "SELL")])
    (t1, r1), (t2, r2) = got
    assert (t1, r1["cum_delta"], r1["vwap"]) == (roll, 2.0, 100.0)        # the old session's last bar
    assert (t2, r2["cum_delta"], r2["vwap"]) == (roll + 60, -2.0, 200.0)  # the new session from 18:00:00


def test_a_bar_built_from_trades_is_dropped_when_basedata_begins():
    got = rows([tr(T0 + 1, 50.0), bd(T0 + 2, 1, 100.0), bd(T0 + 60, 2, 101.0)])
    assert [(t - T0, r["close"]) for t, r in got] == [(60, 100.0), (120, 101.0)]


def test_bars_from_trades_each_count_their_own_volume():
    got = rows([tr(T0 + 1, 100.0, 2, "BUY"), tr(T0 + 2, 100.25, 3, "SELL"), tr(T0 + 61, 100.5, 4, "BUY")])
    assert [(r["volume"], r["ask_volume"], r["bid_volume"]) for _, r in got] == [(5.0, 2.0, 3.0), (4.0, 4.0, 0.0)]


@pytest.mark.parametrize("askvol,bidvol,vote", [(11, 9, 0.0), (9, 11, 0.0), (12, 8, 1.0), (8, 12, -1.0)])
def test_the_flow_vote_needs_a_ratio_beyond_its_threshold(askvol, bidvol, vote):
    # volume 20: a delta of +-2 is a ratio of exactly +-0.10, the threshold: no vote
    (_, r), = rows([bd(T0, 1, 100.0, v=20, askvol=askvol, bidvol=bidvol), bd(T0 + 60, 2, 100.0)])[:1]
    assert (abs(r["delta_ratio"]), r["flow_vote"]) == (abs(askvol - bidvol) / 20, vote)


@pytest.mark.parametrize("close,vote", [(101.0, 0.0), (101.25, 1.0), (99.0, 0.0), (98.75, -1.0)])
def test_the_profile_vote_needs_a_close_beyond_the_value_area(close, vote):
    vva = Event(T0, "vva", 3, "ES", {"i": 1, "vah": 101.0, "val": 99.0, "vpoc": 100.0})
    (_, r), = rows([vva, bd(T0, 1, close), bd(T0 + 60, 2, close)])[:1]
    assert r["profile_vote"] == vote


@pytest.mark.parametrize("bid,ask,vote", [(6.0, 5.0, 0.0), (6.25, 5.0, 1.0), (5.0, 6.0, 0.0), (5.0, 6.25, -1.0)])
def test_the_dom_vote_needs_a_book_beyond_its_ratio(bid, ask, vote):
    # top 5 levels: sizes summed; 1.2 x 5 = 6 exactly: at the ratio, no vote
    book = [Event(T0, "depth", 3, "ES", {"side": side, "lvl": 1, "price": 100.0, "size": size})
            for side, size in (("BID", bid), ("ASK", ask))]
    (_, r), = rows(book + [bd(T0, 1, 100.0), bd(T0 + 60, 2, 100.0)])[:1]
    assert (r["bid_size_top5"], r["ask_size_top5"], r["dom_vote"]) == (bid, ask, vote)


def test_a_trade_at_the_next_minutes_first_instant_waits_for_the_close():
    """With basedata, a trade stamped exactly at the end of the forming bar belongs to the next
    bar: the VWAP of this close leaves it out."""
    got = rows([bd(T0, 1, 100.0), tr(T0 + 10, 100.0), tr(T0 + 60, 110.0),
                bd(T0 + 60.5, 2, 110.0), bd(T0 + 120.5, 3, 110.0)])
    assert [r["vwap"] for _, r in got[:2]] == [100.0, 105.0]


def test_a_line_stamped_in_the_day_before_the_roll_stays_in_the_new_session():
    """A bar-stamped line (its bar's start) may come after the roll with the old day's stamp: it
    neither closes the forming bar nor starts another session."""
    roll = at(18, 0)
    vix = Event(roll - 30, "vix", 8, "VIX", {"last": 17.5})
    got = rows([bd(roll - 120, 1, 100.0, bidvol=1, askvol=3), bd(roll + 1, 2, 101.0, bidvol=1, askvol=5),
                vix, bd(roll + 61, 3, 102.0, bidvol=2, askvol=3)])
    assert [(t - roll, r["cum_delta"]) for t, r in got] == [(-60, 2.0), (60, 4.0), (120, 5.0)]
    assert got[1][1]["vix"] == 17.5
