"""OHLCV bars from events: from ``basedata`` (the last line of an index is the bar) or from trades.

``bars_from_basedata`` yields a bar when a new index closes the previous one (and the last bar
at the end); ``bars_from_trades`` buckets trades into N-minute bars (aligned to the clock, UTC
epoch), with bid/ask volume from the trade side. Both skip other events, so they can read a
whole replay.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


#: an SCDateTime with 6 decimals is exact to about 86 ms either way: a bar stamped 09:31:00 may
#: read 09:30:59.96, so a bar start is floored to the grid after adding this much
SC_SLACK = 0.1


@dataclass(slots=True)
class Bar:
    start: float          # UTC epoch seconds of the bar's start
    o: float
    h: float
    l: float
    c: float
    v: float
    bidvol: float
    askvol: float


def bars_from_basedata(events: Iterable, chart: int = 3, width: float | None = None) -> Iterator[Bar]:
    """Closed bars of ``chart``: the last line of each index, yielded when the next index starts.

    ``start`` is the time of the index's first line; with ``width`` (seconds) it is floored to
    the bar grid instead (for a unified-file replay, whose basedata times are when they were seen),
    within ``SC_SLACK`` of the SCDateTime's rounding.
    """
    last = None
    index = None
    for ev in events:
        if ev.type != "basedata" or ev.chart != chart:
            continue
        f = ev.f
        if index is not None and f["i"] != index:
            yield last
        if f["i"] != index:
            start = ev.t if width is None else ((ev.t + SC_SLACK) // width) * width
        index = f["i"]
        last = Bar(start, f["o"], f["h"], f["l"], f["c"], f["v"], f.get("bidvol", 0.0), f.get("askvol", 0.0))
    if last is not None:
        yield last


def bars_from_trades(events: Iterable, minutes: int = 1) -> Iterator[Bar]:
    """N-minute bars of the trades in ``events`` (UTC-aligned buckets); a bar is yielded when a
    trade of a later bucket arrives, the last at the end. BUY volume is ask volume, SELL bid."""
    width = 60.0 * minutes
    bar = None
    for ev in events:
        if ev.type != "trade":
            continue
        px, vol = float(ev.f["px"]), float(ev.f["vol"])
        start = (ev.t // width) * width
        if bar is not None and bar.start != start:
            yield bar
            bar = None
        buy = ev.f.get("side") == "BUY"
        if bar is None:
            bar = Bar(start, px, px, px, px, 0.0, 0.0, 0.0)
        bar.h, bar.l, bar.c = max(bar.h, px), min(bar.l, px), px
        bar.v += vol
        if buy:
            bar.askvol += vol
        else:
            bar.bidvol += vol
    if bar is not None:
        yield bar
