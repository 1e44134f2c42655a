"""The feature engine: market events in, one row of the feature catalog per closed 1-minute bar out.

Streaming: ``FeatureEngine.update(event)`` is O(1) per event and returns True when a bar of
chart 3 closed; ``row`` then holds every catalog feature (``mia.dsl.catalog.FEATURES`` order,
NaN = missing) as of that close and ``row_time`` the close time. Bars come from ``basedata``
(the last line of an index is the bar; a new index closes it) or, for a source with no
basedata, from trades bucketed by minute. Studies (vwap, value area, ATR) are taken from the
data when present, else computed here from trades and bars. Batch (``compute_features``) runs
the same engine over a whole stream, so streaming and batch give the same numbers.
Sessions roll at 18:00 New York: the first event of a later trading day closes the forming
bar (in its own session), then cum_delta, VWAP, studies, Wilder ATR and bases restart.
Study lines are attributed to bars by their index ``i`` (``studies.Indexed``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mia.dsl import catalog
from mia.engine.clock import day_bounds, local
from mia.features.config import FeatureConfig
from mia.features.base import BaseTracker
from mia.features.levels import LevelBook
from mia.features.studies import Indexed, TradeVwap, WilderAtr

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
        self.base = BaseTracker(self.cfg, tick_size)
        self._basedata_mode = False
        self._bar: _Bar | None = None        # the forming bar
        self._day = None
        self._day_start = self._day_end = NAN
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
        self.bias_ema = NAN

    def _new_session(self) -> None:
        self.cum_delta = 0.0
        self.tvwap = TradeVwap()
        self.vwap_study = Indexed()
        self.vva = Indexed()
        self.atr_study = Indexed()
        self.atr = WilderAtr(self.cfg.atr_period)
        self.base.reset()

    # ---- events --------------------------------------------------------------------------------
    def update(self, ev) -> bool:
        emitted = self._roll(ev.t) if not (self._day_start <= ev.t < self._day_end) else False
        h = self._handlers.get(ev.type)
        if h is not None and h(ev):
            emitted = True                     # never twice: after a day roll no bar is forming
        return emitted

    def _roll(self, t: float) -> bool:
        """``t`` left the cached trading day: a later day closes the forming bar in the old session."""
        day, start, end = day_bounds(t)
        if self._day is not None and day < self._day:
            return False                       # an earlier stamp (bar-stamped line): same session
        emitted = False
        if self._day is not None:
            if self._bar is not None:
                emitted = self._close(self._bar)
                self._bar = None
            self._new_session()
        self._day, self._day_start, self._day_end = day, start, end
        return emitted

    def _on_basedata(self, ev) -> bool:
        if ev.chart != 3:
            return False
        f = ev.f
        emitted = False
        if not self._basedata_mode:
            self._basedata_mode = True
            self._bar = None                           # drop any bar built from trades
        i = f["i"]
        b = self._bar
        if b is not None and b.index != i:
            if i < b.index:
                return False                           # a late rewrite of an older bar
            emitted = self._close(b)
            b = None
        start = math.floor(ev.t / 60.0) * 60.0 if b is None else b.start
        self._bar = _Bar(start, f["o"], f["h"], f["l"], f["c"], f["v"], f.get("bidvol", NAN), f.get("askvol", NAN), i)
        return emitted

    def _on_trade(self, ev) -> bool:
        f = ev.f
        px, vol = float(f["px"]), float(f["vol"])
        b = self._bar
        if self._basedata_mode:
            # a trade at/after the forming bar's end belongs to the next bar: it waits for the close
            self.tvwap.add(px, vol, b is not None and ev.t >= b.start + 60.0)
            return False
        emitted = False
        start = math.floor(ev.t / 60.0) * 60.0
        if b is not None and b.start != start:
            emitted = self._close(b)      # before this trade counts: it belongs to the next bar
            b = None
        self.tvwap.add(px, vol)
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
            self.vwap_study.put(ev.f.get("i"), ev.f)
        return False

    def _on_vva(self, ev) -> bool:
        if ev.chart == 3:
            self.vva.put(ev.f.get("i"), ev.f)
        return False

    def _on_atr(self, ev) -> bool:
        if ev.chart == 3:
            self.atr_study.put(ev.f.get("i"), float(ev.f["atr"]))
        return False

    def _on_vix(self, ev) -> bool:
        # chart 8 (VIX itself) wins over the overlay on chart 3 once it has been seen
        v = ev.f.get("last", ev.f.get("vix"))
        if v is None:
            return False
        if ev.chart == 8:
            self._vix_chart8 = True
        elif self._vix_chart8:
            return False
        self.vix = float(v)
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
        s = self.vwap_study.get(b.index)
        if s is not None:
            for name, key in _VWAP_KEYS:
                r[COL[name]] = s.get(key, NAN)
        else:
            vw, sd = self.tvwap.value()
            r[COL["vwap"]], r[COL["vwap_up1"]], r[COL["vwap_dn1"]] = vw, vw + sd, vw - sd
            r[COL["vwap_up2"]], r[COL["vwap_dn2"]] = vw + 2 * sd, vw - 2 * sd
        self.tvwap.settle()
        vva = self.vva.get(b.index)
        if vva is not None:
            for name, key in _VVA_KEYS:
                r[COL[name]] = vva.get(key, NAN)
        # ATR: the study when present, else Wilder's over the bars seen
        wilder = self.atr.on_bar(h, l, c)
        study = self.atr_study.get(b.index)
        r[COL["atr"]] = study if study is not None else wilder
        # volatility
        vix = self.vix
        r[COL["vix"]] = vix
        if vix == vix:
            r[COL["vix_regime"]] = 0.0 if vix < cfg.vix_mid else 1.0 if vix < cfg.vix_high else \
                2.0 if vix < cfg.vix_extreme else 3.0
        # book
        r[COL["bid"]], r[COL["ask"]] = self.bid, self.ask
        r[COL["spread"]] = (self.ask - self.bid) / tick
        bd, ad = self.depth["BID"], self.depth["ASK"]
        bid5, ask5 = bd[1] + bd[2] + bd[3] + bd[4] + bd[5], ad[1] + ad[2] + ad[3] + ad[4] + ad[5]
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
        self.base.on_bar(o, h, l, c)
        r[COL["base_direction"]] = float(self.base.direction)
        r[COL["golden_rule_intact"]] = self.base.intact
        raw_bias = self.levels.bias(c, r[COL["vix_regime"]])
        a = cfg.bias_alpha
        self.bias_ema = raw_bias if self.bias_ema != self.bias_ema else self.bias_ema + a * (raw_bias - self.bias_ema)
        r[COL["dealers_bias"]] = self.bias_ema
        return True


_VWAP_KEYS = (("vwap", "v"), ("vwap_up1", "up1"), ("vwap_dn1", "dn1"), ("vwap_up2", "up2"), ("vwap_dn2", "dn2"))
_VVA_KEYS = (("vah", "vah"), ("val", "val"), ("poc", "vpoc"), ("pvah", "pvah"), ("pval", "pval"), ("ppoc", "ppoc"))


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
