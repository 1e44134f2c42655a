"""Bars from basedata rewrites and from trades (1- and N-minute)."""
from __future__ import annotations

from mia.market.bars import bars_from_basedata, bars_from_trades
from mia.market.events import Event


def tr(t, px, vol, side="BUY"):
    return Event(t, "trade", 3, "ES", {"px": px, "vol": vol, "side": side})


def bd(t, i, o, h, l, c, v, chart=3):
    return Event(t, "basedata", chart, "ES", {"i": i, "o": o, "h": h, "l": l, "c": c, "v": v, "bidvol": 1, "askvol": 2})


def test_basedata_last_line_of_an_index_is_the_bar():
    events = [bd(0, 5, 10, 10, 10, 10, 1), bd(10, 5, 10, 12, 9, 11, 8), bd(20, 9, 1, 1, 1, 1, 1, chart=4),
              tr(25, 11, 1), bd(60, 6, 11, 11, 11, 11, 2), bd(70, 6, 11, 13, 11, 12, 5)]
    bars = list(bars_from_basedata(events))
    assert [(b.start, b.o, b.h, b.l, b.c, b.v) for b in bars] == [(0, 10, 12, 9, 11, 8), (60, 11, 13, 11, 12, 5)]


def test_trades_into_one_and_five_minute_bars():
    trades = [tr(0, 100, 1), tr(30, 102, 2, "SELL"), tr(61, 101, 3), tr(299, 99, 1, "SELL"), tr(300, 98, 5)]
    one = list(bars_from_trades(trades))
    assert [(b.start, b.o, b.h, b.l, b.c, b.v, b.bidvol, b.askvol) for b in one] == [
        (0, 100, 102, 100, 102, 3, 2, 1), (60, 101, 101, 101, 101, 3, 0, 3),
        (240, 99, 99, 99, 99, 1, 1, 0), (300, 98, 98, 98, 98, 5, 0, 5)]
    five = list(bars_from_trades(trades, minutes=5))
    assert [(b.start, b.o, b.h, b.l, b.c, b.v) for b in five] == [(0, 100, 102, 99, 99, 7), (300, 98, 98, 98, 98, 5)]
