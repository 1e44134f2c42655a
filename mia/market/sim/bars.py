"""Bars and bar studies computed from the simulated trades, as the chart dumpers write them.

- 1-minute ``basedata`` is rewritten at every chart update (every 500 ms window with trades): the
  forming bar so far; the last line of a bar index is the final bar.
- ``vwap`` (session VWAP with 1-3 standard-deviation bands), ``nbcv`` and ``cumulative_delta``
  update every 5 s of the forming bar; ``vva`` (value area) and ``atr`` once per bar, at its close.
- Chart 4 (30 minutes): ``basedata`` and ``atr`` updated at each 1-minute close.

Everything is computed from the trade arrays with cumulative sums (no loop per trade).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mia.market.sim.clock import SessionClock
from mia.market.sim.tape import Tape

BAR_UPDATE_US = 500_000
STUDY_UPDATE_US = 5_000_000
VALUE_AREA = 0.70
ATR_PERIOD = 14


@dataclass
class Updates:
    """State of the forming bar at update points (indexes into the trade arrays)."""

    at: np.ndarray       # trade index of the update (the last trade it includes)
    bar: np.ndarray      # bar rank (0 = first bar with trades)
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray
    c: np.ndarray
    v: np.ndarray
    bidvol: np.ndarray
    askvol: np.ndarray
    trades: np.ndarray
    cum_delta: np.ndarray   # session cumulative delta through the update


@dataclass
class BarSet:
    minute: np.ndarray      # session minute of each bar (bars exist only where trades are)
    first: np.ndarray       # first trade index of each bar
    last: np.ndarray        # last trade index of each bar
    bar_of_trade: np.ndarray
    # running per-trade state
    h: np.ndarray
    l: np.ndarray
    cvol: np.ndarray
    cbuy: np.ndarray
    csell: np.ndarray
    ccount_bar: np.ndarray


def build_bars(tape: Tape, clock: SessionClock) -> BarSet:
    minute = clock.minute_of(tape.t_us)
    starts = np.flatnonzero(np.r_[True, minute[1:] != minute[:-1]]) if len(minute) else np.zeros(0, np.int64)
    last = np.r_[starts[1:] - 1, len(minute) - 1] if len(minute) else starts
    rank = np.cumsum(np.r_[True, minute[1:] != minute[:-1]]) - 1 if len(minute) else minute
    big = np.int64(10_000_000)
    h = np.maximum.accumulate(rank * big + tape.px) - rank * big
    l = -(np.maximum.accumulate(rank * big - tape.px) - rank * big)
    vol = tape.vol
    cvol = np.cumsum(vol)
    cbuy = np.cumsum(np.where(tape.buy, vol, 0))
    csell = cvol - cbuy
    ccount_bar = np.arange(len(minute)) - starts[rank] + 1 if len(minute) else minute
    return BarSet(minute[starts], starts, last, rank, h, l, cvol, cbuy, csell, ccount_bar)


def _before(cum: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """cum[idx - 1], 0 where idx == 0."""
    out = np.zeros(len(idx), dtype=cum.dtype)
    ok = idx > 0
    out[ok] = cum[idx[ok] - 1]
    return out


def updates_every(tape: Tape, bars: BarSet, clock: SessionClock, window_us: int) -> Updates:
    """The forming bar's state after the last trade of each window of ``window_us`` with trades."""
    w = (tape.t_us - clock.open_us) // window_us
    at = np.flatnonzero(np.r_[w[1:] != w[:-1], True]) if len(w) else np.zeros(0, np.int64)
    b = bars.bar_of_trade[at]
    f = bars.first[b]
    v = bars.cvol[at] - _before(bars.cvol, f)
    askvol = bars.cbuy[at] - _before(bars.cbuy, f)
    bidvol = bars.csell[at] - _before(bars.csell, f)
    return Updates(at, b, tape.px[f], bars.h[at], bars.l[at], tape.px[at], v, bidvol, askvol,
                   bars.ccount_bar[at], bars.cbuy[at] - bars.csell[at])


def vwap_bands(tape: Tape, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Session VWAP (ticks) and the volume-weighted standard deviation (ticks) through ``at``."""
    ref = tape.open_ticks
    d = (tape.px - ref).astype(np.int64)
    cv = np.cumsum(tape.vol)[at].astype(float)
    c1 = np.cumsum(d * tape.vol)[at].astype(float)
    c2 = np.cumsum(d * d * tape.vol)[at].astype(float)
    mean = c1 / cv
    sd = np.sqrt(np.maximum(c2 / cv - mean * mean, 0.0))
    return ref + mean, sd


def value_areas(tape: Tape, bars: BarSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(VAH, VAL, POC) in ticks of the session profile through each bar's close.

    POC is the price with the most volume (the lowest such price on a tie); the value area is the
    narrowest price range holding the POC and at least 70 % of the volume.
    """
    lo = int(tape.px.min())
    width = int(tape.px.max()) - lo + 1
    nbar = len(bars.first)
    prof = np.zeros((nbar, width), dtype=np.int64)
    np.add.at(prof, (bars.bar_of_trade, tape.px - lo), tape.vol)
    prof = np.cumsum(prof, axis=0)
    vah = np.empty(nbar, np.int64)
    val = np.empty(nbar, np.int64)
    poc = np.argmax(prof, axis=1)
    for b in range(nbar):
        row = prof[b]
        cum = np.r_[0, np.cumsum(row)]
        need = VALUE_AREA * cum[-1]
        lows = np.arange(poc[b] + 1)
        # narrowest [lo, hi] with hi >= poc: hi+1 = first index with cum >= cum[lo] + need
        hi1 = np.searchsorted(cum, cum[lows] + need - 1e-9, side="left")
        hi = np.maximum(hi1 - 1, poc[b])
        ok = hi < width
        lows, hi = lows[ok], hi[ok]
        k = int(np.argmin(hi - lows))
        val[b], vah[b] = lows[k] + lo, hi[k] + lo
    return vah, val, poc + lo


def wilder_atr(h: np.ndarray, l: np.ndarray, c: np.ndarray, atr0: float, prev_close: float) -> np.ndarray:
    """Wilder ATR (points) per bar, seeded with ``atr0`` from the bars before the session."""
    pc = np.r_[prev_close, c[:-1]]
    tr = np.maximum(h - l, np.maximum(np.abs(h - pc), np.abs(l - pc)))
    out = np.empty(len(tr))
    a = atr0
    for k, x in enumerate(tr):
        a = (a * (ATR_PERIOD - 1) + x) / ATR_PERIOD
        out[k] = a
    return out


@dataclass
class Thirty:
    """Chart 4: the 30-minute bar so far at each 1-minute close."""

    at: np.ndarray       # trade index (last trade of the 1-minute bar)
    k: np.ndarray        # 30-minute bar number in the session
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray
    c: np.ndarray
    v: np.ndarray
    bidvol: np.ndarray
    askvol: np.ndarray
    atr: np.ndarray      # points


def thirty_minute(tape: Tape, bars: BarSet, atr0: float) -> Thirty:
    at = bars.last
    k = bars.minute // 30
    first30 = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    grp = np.cumsum(np.r_[True, k[1:] != k[:-1]]) - 1
    f = bars.first[first30[grp]]
    big = np.int64(10_000_000)
    hb = bars.h[bars.last]
    lb = bars.l[bars.last]
    h = np.maximum.accumulate(grp * big + hb) - grp * big
    l = -(np.maximum.accumulate(grp * big - lb) - grp * big)
    v = bars.cvol[at] - _before(bars.cvol, f)
    askvol = bars.cbuy[at] - _before(bars.cbuy, f)
    bidvol = bars.csell[at] - _before(bars.csell, f)
    c = tape.px[at]
    # the 30-minute ATR of the forming bar: Wilder over closed bars, plus the forming bar's range
    last_of_grp = np.r_[first30[1:] - 1, len(at) - 1]
    closed = wilder_atr(h[last_of_grp] * 0.25, l[last_of_grp] * 0.25, c[last_of_grp] * 0.25, atr0,
                        tape.open_ticks * 0.25)
    prev = np.r_[atr0, closed[:-1]][grp]
    prev_close = np.r_[tape.open_ticks, c[last_of_grp][:-1]][grp] * 0.25
    tr = np.maximum((h - l) * 0.25, np.maximum(np.abs(h * 0.25 - prev_close), np.abs(l * 0.25 - prev_close)))
    atr = (prev * (ATR_PERIOD - 1) + tr) / ATR_PERIOD
    return Thirty(at, k, tape.px[f], h, l, c, v, bidvol, askvol, atr)
