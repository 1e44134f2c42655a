"""The feature engine: market events in, one row of the feature catalog per closed 1-minute bar out.

Streaming: ``FeatureEngine.update(event)`` is O(1) per event and returns True when a bar of
chart 3 closed; ``row`` then holds every catalog feature (``mia.dsl.catalog.FEATURES`` order,
NaN = missing) as of that close and ``row_time`` the close time. Bars come from ``basedata``
(the last line of an index is the bar; a new index closes it) or, for a source with no
basedata, from trades bucketed by minute. Studies (vwap, value area, ATR) are taken from the
data when present, else computed here from trades and bars. Batch (``compute_features``) runs
the same engine over a whole stream, so streaming and batch give the same numbers.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from mia.dsl import catalog
from mia.engine.clock import DayClock, local
from mia.features.config import FeatureConfig
from mia.features.levels import LevelBook

NAN = math.nan
COL = {f.name: i for i, f in enumerate(catalog.FEATURES)}


@dataclass
class FeatureFrame:
    times: np.ndarray
    columns: list[str]
    matrix: np.ndarray


class _Bar:
    __slots__ = ("start", "o", "h", "l", "c", "v", "bidvol", "askvol", "index")

    def __init__(self, start, o, h, l, c, v, bidvol, askvol, index=None):
        self.start, self.o, self.h, self.l, self.c = start, o, h, l, c
        self.v, self.bidvol, self.askvol, self.index = v, bidvol, askvol, index


class FeatureEngine:
    def __init__(self, instrument: str = "ES", config: FeatureConfig | None = None, tick_size: float = 0.25):
        self.cfg = config or FeatureConfig()
        self.tick = tick_size
        self.instrument = instrument
        self.row = np.full(len(catalog.FEATURES), NAN)
        self.row_time = NAN
        self.levels = LevelBook(self.cfg, tick_size)
        self._basedata_mode = False
        self._bar: _Bar | None = None        # the forming bar
        self._day = None
        self._clock = DayClock()
        self._handlers = {
            "basedata": self._on_basedata, "trade": self._on_trade, "quote": self._on_quote,
            "depth": self._on_depth, "vwap": self._on_vwap, "vva": self._on_vva, "atr": self._on_atr,
            "vix": self._on_vix, "menthorq_level": self._on_level,
        }
        self._new_session()
        self.vix = NAN
        self._vix_chart8 = False
        self.bid = self.ask = NAN
        self.depth = {"BID": [0.0] * 21, "ASK": [0.0] * 21}
        self.recent: deque = deque(maxlen=9)          # closed bars for base detection
        self.closes: deque = deque(maxlen=5)
        self.base = None                              # (direction, low, high)
        self.golden = NAN
        self.bias_ema = NAN

    def _new_session(self) -> None:
        self.cum_delta = 0.0
        self.pv = self.p2v = self.vol = 0.0           # VWAP from trades
        self.vwap_study = None
        self.vva = None
        self.atr_study = NAN
        self.atr_wilder = NAN
        self.atr_n = 0
        self.prev_close = NAN

    # ---- events --------------------------------------------------------------------------------
    def update(self, ev) -> bool:
        day = self._clock.day(ev.t)
        if day != self._day:
            if self._day is not None:
                self._new_session()
            self._day = day
        h = self._handlers.get(ev.type)
        return h(ev) if h is not None else False

    def _on_basedata(self, ev) -> bool:
        if ev.chart != 3:
            return False
        f = ev.f
        emitted = False
        if not self._basedata_mode:
            self._basedata_mode = True
            self._bar = None                           # drop any bar built from trades
        i = f["i"]
        if self._bar is not None and self._bar.index != i:
            emitted = self._close(self._bar)
        start = math.floor(ev.t / 60.0) * 60.0 if self._bar is None or self._bar.index != i else self._bar.start
        self._bar = _Bar(start, f["o"], f["h"], f["l"], f["c"], f["v"], f.get("bidvol", NAN), f.get("askvol", NAN), i)
        return emitted

    def _on_trade(self, ev) -> bool:
        f = ev.f
        px, vol = float(f["px"]), float(f["vol"])
        emitted = False
        b = self._bar
        start = math.floor(ev.t / 60.0) * 60.0
        if not self._basedata_mode and b is not None and b.start != start:
            emitted = self._close(b)      # before this trade counts: it belongs to the next bar
            b = None
        self.pv += px * vol
        self.p2v += px * px * vol
        self.vol += vol
        if self._basedata_mode:
            return False
        buy = f.get("side") == "BUY"
        if b is None:
            self._bar = _Bar(start, px, px, px, px, vol, 0.0 if buy else vol, vol if buy else 0.0)
        else:
            b.h, b.l, b.c = max(b.h, px), min(b.l, px), px
            b.v += vol
            if buy:
                b.askvol += vol
            else:
                b.bidvol += vol
        return emitted

    def _on_quote(self, ev) -> bool:
        self.bid, self.ask = float(ev.f["bid"]), float(ev.f["ask"])
        return False

    def _on_depth(self, ev) -> bool:
        f = ev.f
        lvl = int(f["lvl"])
        side = self.depth.get(f["side"])
        if side is not None and 1 <= lvl <= 20:
            side[lvl] = float(f["size"])
        return False

    def _on_vwap(self, ev) -> bool:
        if ev.chart == 3:
            self.vwap_study = ev.f
        return False

    def _on_vva(self, ev) -> bool:
        if ev.chart == 3:
            self.vva = ev.f
        return False

    def _on_atr(self, ev) -> bool:
        if ev.chart == 3:
            self.atr_study = float(ev.f["atr"])
        return False

    def _on_vix(self, ev) -> bool:
        # chart 8 (VIX itself) wins over the overlay on chart 3 once it has been seen
        if ev.chart == 8:
            self._vix_chart8 = True
        elif self._vix_chart8:
            return False
        self.vix = float(ev.f.get("last", ev.f.get("vix")))
        return False

    def _on_level(self, ev) -> bool:
        self.levels.update(ev.t, ev.f["level_type"], float(ev.f["price"]))
        return False

    # ---- a bar closes ----------------------------------------------------------------------------
    def _close(self, b: _Bar) -> bool:
        cfg, tick, r = self.cfg, self.tick, self.row
        r.fill(NAN)
        t = b.start + 60.0
        self.row_time = t
        o, h, l, c, v = float(b.o), float(b.h), float(b.l), float(b.c), float(b.v)
        r[COL["open"]], r[COL["high"]], r[COL["low"]], r[COL["close"]], r[COL["volume"]] = o, h, l, c, v
        r[COL["bid_volume"]], r[COL["ask_volume"]] = b.bidvol, b.askvol
        delta = float(b.askvol) - float(b.bidvol)
        ratio = delta / v if v > 0 else 0.0
        self.cum_delta += delta if delta == delta else 0.0
        r[COL["delta"]], r[COL["delta_ratio"]], r[COL["cum_delta"]] = delta, ratio, self.cum_delta
        # VWAP and bands: the study when the data has it, else from trades
        if self.vwap_study is not None:
            s = self.vwap_study
            for name, key in (("vwap", "v"), ("vwap_up1", "up1"), ("vwap_dn1", "dn1"),
                              ("vwap_up2", "up2"), ("vwap_dn2", "dn2")):
                r[COL[name]] = s.get(key, NAN)
        elif self.vol > 0:
            vw = self.pv / self.vol
            sd = math.sqrt(max(self.p2v / self.vol - vw * vw, 0.0))
            r[COL["vwap"]], r[COL["vwap_up1"]], r[COL["vwap_dn1"]] = vw, vw + sd, vw - sd
            r[COL["vwap_up2"]], r[COL["vwap_dn2"]] = vw + 2 * sd, vw - 2 * sd
        if self.vva is not None:
            for name, key in (("vah", "vah"), ("val", "val"), ("poc", "vpoc"),
                              ("pvah", "pvah"), ("pval", "pval"), ("ppoc", "ppoc")):
                r[COL[name]] = self.vva.get(key, NAN)
        # ATR: the study when present, else Wilder's over the bars seen
        tr = h - l if self.prev_close != self.prev_close else max(h - l, abs(h - self.prev_close), abs(l - self.prev_close))
        self.atr_n += 1
        n = cfg.atr_period
        if self.atr_n <= n:
            self.atr_wilder = tr if self.atr_n == 1 else (self.atr_wilder * (self.atr_n - 1) + tr) / self.atr_n
        else:
            self.atr_wilder = (self.atr_wilder * (n - 1) + tr) / n
        self.prev_close = c
        r[COL["atr"]] = self.atr_study if self.atr_study == self.atr_study else self.atr_wilder
        # volatility
        vix = self.vix
        r[COL["vix"]] = vix
        if vix == vix:
            r[COL["vix_regime"]] = 0.0 if vix < cfg.vix_mid else 1.0 if vix < cfg.vix_high else \
                2.0 if vix < cfg.vix_extreme else 3.0
        # book
        r[COL["bid"]], r[COL["ask"]] = self.bid, self.ask
        r[COL["spread"]] = (self.ask - self.bid) / tick
        bid5, ask5 = sum(self.depth["BID"][1:6]), sum(self.depth["ASK"][1:6])
        r[COL["bid_size_top5"]], r[COL["ask_size_top5"]] = bid5, ask5
        # clock (the bar's start minute, New York)
        d = local(b.start)
        tod = d.hour * 60 + d.minute
        r[COL["time_of_day"]] = tod
        r[COL["minutes_since_open"]] = tod - cfg.open_minute
        r[COL["in_rth"]] = 1.0 if cfg.open_minute <= tod < cfg.close_minute else 0.0
        # Battle Navale votes
        r[COL["pa_vote"]] = 1.0 if c > o else -1.0 if c < o else 0.0
        r[COL["flow_vote"]] = 1.0 if ratio > cfg.flow_threshold else -1.0 if ratio < -cfg.flow_threshold else 0.0
        vah, val = r[COL["vah"]], r[COL["val"]]
        r[COL["profile_vote"]] = 1.0 if c > vah else -1.0 if c < val else 0.0
        if bid5 > 0 and ask5 > 0:
            r[COL["dom_vote"]] = 1.0 if bid5 > cfg.dom_ratio * ask5 else -1.0 if ask5 > cfg.dom_ratio * bid5 else 0.0
        else:
            r[COL["dom_vote"]] = 0.0
        self.levels.fill(r, COL, t, c)
        r[COL["mq_vote"]] = self.levels.mq_vote(c)
        self._base(b, o, h, l, c)
        r[COL["base_direction"]] = 0.0 if self.base is None else float(self.base[0])
        r[COL["golden_rule_intact"]] = self.golden if self.golden == self.golden else 1.0
        raw_bias = self.levels.bias(c, r[COL["vix_regime"]])
        a = cfg.bias_alpha
        self.bias_ema = raw_bias if self.bias_ema != self.bias_ema else self.bias_ema + a * (raw_bias - self.bias_ema)
        r[COL["dealers_bias"]] = self.bias_ema
        return True

    def _base(self, b: _Bar, o: float, h: float, l: float, c: float) -> None:
        """Base detection and the golden rule, on the closed bar."""
        cfg, tick = self.cfg, self.tick
        # the golden rule first: does this bar close through the active base?
        if self.base is not None and self.golden == 1.0:
            direction, lo, hi = self.base
            if direction > 0 and c < o and c < lo - 0.5 * tick:
                self.golden = 0.0
            elif direction < 0 and c > o and c > hi + 0.5 * tick:
                self.golden = 0.0
        self.recent.append((h, l))
        self.closes.append(c)
        if len(self.closes) < 5:
            return
        ups = sum(1 for a, z in zip(list(self.closes)[:-1], list(self.closes)[1:]) if z > a)
        color = 1 if ups >= cfg.base_green_ups else -1 if ups <= cfg.base_red_max_ups else 0
        if color == 0:
            return
        bars = list(self.recent)
        for k in range(min(cfg.base_max_bars, len(bars)), cfg.base_min_bars - 1, -1):
            window = bars[-k:]
            hi = max(x[0] for x in window)
            lo = min(x[1] for x in window)
            if hi - lo <= cfg.base_max_range_ticks * tick:
                self.base = (color, lo, hi)
                self.golden = 1.0
                return


def compute_features(events, instrument: str = "ES", config: FeatureConfig | None = None) -> FeatureFrame:
    """Batch: every row the streaming engine emits over ``events``."""
    eng = FeatureEngine(instrument, config)
    times, rows = [], []
    for ev in events:
        if eng.update(ev):
            times.append(eng.row_time)
            rows.append(eng.row.copy())
    matrix = np.array(rows).reshape(len(rows), len(catalog.FEATURES))
    return FeatureFrame(np.array(times, dtype=np.float64), [f.name for f in catalog.FEATURES], matrix)
