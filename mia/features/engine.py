"""The feature engine: market events in, one row of the feature catalog per closed 1-minute bar out.

Streaming: ``FeatureEngine.update(event)`` is O(1) per event and returns True when a bar of
chart 3 closed; ``row`` then holds every catalog feature (``mia.dsl.catalog.FEATURES`` order,
NaN = missing) as of that close and ``row_time`` the close time. Bars come from ``basedata``
(the last line of an index is the bar; a new index closes it) or, for a source with no
basedata, from trades bucketed by minute. Studies (vwap, value area, ATR) are taken from the
data when present, else computed here from trades and bars. Batch (``compute_features``) runs
the same engine over a whole stream or folder (``batch``), so they give the same numbers.
Sessions roll with the trading day (``mia.calendar``: 18:00 New York): the first event of a later
trading day closes the forming bar (in its own session), then cum_delta, VWAP, studies, Wilder
ATR and bases restart.
Study lines are attributed to bars by their index ``i`` (``studies.Indexed``).
The book, the forming bar, the trade-VWAP sums and the bar's smart-money counters live in ``st`` /
``depth`` (``kernel``), which the batch path's numba kernel updates directly for the bulk events
between Python handlers. The gamma-cycle features come from the bar's close time (``expiry``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mia.dsl import catalog
from mia.calendar import day_bounds, local
from mia.features.config import FeatureConfig
from mia.features.base import BaseTracker
from mia.features.drive import drive, open_band
from mia.features.levels import LevelBook
from mia.features import expiry
from mia.features.kernel import (ASKVOL, BAR_INDEX, BAR_START, BD_MODE, BIDVOL, BLOCK_MIN, CLOSE_COLUMNS, DAY_END,
                                 DAY_START, HAS_BAR, LARGE_MIN, LAST, LBUY, NBLOCKS, NVOL, PV, C, H, L, O, V, close_bar,
                                 new_state, set_bar, step)
from mia.features.studies import Indexed, WilderAtr
from mia.instruments import instrument as instrument_facts
from mia.market.columnar.codes import DEPTH, QUOTE, TRADE
from mia.market.sctime import SC_SLACK

NAN = math.nan
COL = {f.name: i for i, f in enumerate(catalog.FEATURES)}
_CLOSE_COLS = np.array([COL[name] for name in CLOSE_COLUMNS], dtype=np.int64)
_OPEN, _HIGH, _LOW, _CLOSE = COL["open"], COL["high"], COL["low"], COL["close"]


@dataclass
class FeatureFrame:
    times: np.ndarray
    columns: list[str]
    matrix: np.ndarray


#: event type -> its handler; events of any other type (nbcv, cumulative_delta, pvwap, ...) only
#: roll the trading day, so the batch path steps over them in the kernel (PASS rows, ``mia.market.columnar.codes``)
_HANDLERS = {"basedata": "_on_basedata", "trade": "_on_trade", "quote": "_on_quote", "depth": "_on_depth",
             "vwap": "_on_vwap", "vva": "_on_vva", "atr": "_on_atr", "vix": "_on_vix",
             "menthorq_level": "_on_level"}
HANDLED_TYPES = frozenset(_HANDLERS)


class FeatureEngine:
    def __init__(self, instrument: str = "ES", config: FeatureConfig | None = None, tick_size: float | None = None):
        """``tick_size``: the instrument's (``config/instruments.yaml``) unless given."""
        self.cfg = config or FeatureConfig()
        if tick_size is None:
            tick_size = instrument_facts(instrument).tick_size
        self.tick = tick_size
        self.instrument = instrument
        self.row = np.full(len(catalog.FEATURES), NAN)
        self.row_time = NAN
        self.levels = LevelBook(self.cfg, tick_size)
        self.base = BaseTracker(self.cfg, tick_size)
        # book, forming bar and trade-VWAP sums: shared with the bulk kernel (``kernel.advance``)
        self.st, self.depth = new_state(self.cfg.large_trade_contracts, self.cfg.block_trade_contracts)
        self._day = None
        self._handlers = {typ: getattr(self, name) for typ, name in _HANDLERS.items()}
        self._new_session()
        self.vix = NAN
        #: the time of the last VIX taken (NaN: none yet), for `risk.stale_vix_seconds`
        self.vix_t = NAN
        self._vix_chart8 = False
        self.bias_ema = NAN

    def _new_session(self) -> None:
        self.cum_delta = 0.0
        self.st[PV:NVOL + 1] = 0.0
        self.st[LBUY:NBLOCKS + 1] = 0.0
        self.vwap_study = Indexed()
        self.vva = Indexed()
        self.atr_study = Indexed()
        self.atr = WilderAtr(self.cfg.atr_period)
        self.base.reset()

    def configure(self, config: FeatureConfig) -> None:
        """New settings from now on (a reload of the rules); what was computed stays."""
        self.cfg = self.levels.cfg = self.base.cfg = config
        self.st[LARGE_MIN], self.st[BLOCK_MIN] = config.large_trade_contracts, config.block_trade_contracts

    # ---- events --------------------------------------------------------------------------------
    @property
    def last_price(self) -> float:
        """The last trade's price (NaN before the first trade)."""
        return float(self.st[LAST])

    def run_block(self, block, handle, band=open_band) -> int:
        """Take a columnar block: the bulk kernel runs the rows it may (trades only when priced
        strictly inside ``band()``, asked again after each handled event), ``handle(event)``
        gets every other row as an event, in order (it calls ``update``). Returns the rows the
        kernel took."""
        return drive(block, self.st, self.depth, handle, band)

    def update(self, ev) -> bool:
        st = self.st
        emitted = self._roll(ev.t) if not (st[DAY_START] <= ev.t < st[DAY_END]) else False
        h = self._handlers.get(ev.type)
        if h is not None and h(ev):
            emitted = True                     # never twice: after a day roll no bar is forming
        return emitted

    def flush(self) -> bool:
        """The data ended: close the forming bar as it stands (True: ``row`` holds it). Batch and
        backtests call this at the end of their data; a live feed never does."""
        return self._close() if self.st[HAS_BAR] else False

    def _roll(self, t: float) -> bool:
        """``t`` left the cached trading day: a later day closes the forming bar in the old session."""
        day, start, end = day_bounds(t)
        if self._day is not None and day < self._day:
            return False                       # an earlier stamp (bar-stamped line): same session
        emitted = False
        st = self.st
        if self._day is not None:
            if st[HAS_BAR]:
                emitted = self._close()
            self._new_session()
        self._day = day
        st[DAY_START], st[DAY_END] = start, end
        return emitted

    def _on_basedata(self, ev) -> bool:
        if ev.chart != 3:
            return False
        f = ev.f
        st = self.st
        emitted = False
        if not st[BD_MODE]:
            st[BD_MODE] = 1.0
            st[HAS_BAR] = 0.0                          # drop any bar built from trades
        i = f["i"]
        has = st[HAS_BAR]
        if has and st[BAR_INDEX] != i:
            if i < st[BAR_INDEX]:
                return False                           # a late rewrite of an older bar
            emitted = self._close()
            has = False
        if not has:                                    # 09:31 may be stamped 09:30:59.96
            st[BAR_START] = math.floor((ev.t + SC_SLACK) / 60.0) * 60.0
        st[HAS_BAR] = 1.0
        set_bar(st, float(f["o"]), float(f["h"]), float(f["l"]), float(f["c"]), float(f["v"]),
                _number(f.get("bidvol")), _number(f.get("askvol")))
        st[BAR_INDEX] = i
        return emitted

    def _on_trade(self, ev) -> bool:
        f = ev.f
        px, vol, buy = float(f["px"]), float(f["vol"]), 1.0 if f.get("side") == "BUY" else 0.0
        st = self.st
        if step(TRADE, ev.t, px, vol, buy, st, self.depth):
            return False
        # no basedata, and this trade opens a new bar: the forming one closes before it counts
        emitted = self._close() if st[HAS_BAR] else False
        st[HAS_BAR], st[BAR_START] = 1.0, math.floor(ev.t / 60.0) * 60.0
        st[O] = st[H] = st[L] = st[C] = px
        st[V] = st[BIDVOL] = st[ASKVOL] = 0.0
        step(TRADE, ev.t, px, vol, buy, st, self.depth)
        return emitted

    def _on_quote(self, ev) -> bool:
        step(QUOTE, ev.t, float(ev.f["bid"]), float(ev.f["ask"]), 0.0, self.st, self.depth)
        return False

    def _on_depth(self, ev) -> bool:
        f = ev.f
        step(DEPTH, ev.t, _SIDES.get(f["side"], -1.0), float(f["lvl"]), float(f["size"]), self.st, self.depth)
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
        self.vix_t = ev.t
        return False

    def _on_level(self, ev) -> bool:
        self.levels.update(ev.t, ev.f["level_type"], float(ev.f["price"]), self.vix)
        return False

    # ---- a bar closes ----------------------------------------------------------------------------
    def _close(self) -> bool:
        """The forming bar closes: fill ``row`` as of now; the engine has no forming bar after it."""
        cfg, r, st = self.cfg, self.row, self.st
        st[HAS_BAR] = 0.0
        index = float(st[BAR_INDEX]) if st[BD_MODE] else None
        start = float(st[BAR_START])
        t = start + 60.0
        self.row_time = t
        # VWAP and bands: the study when the data has it, else from trades (in ``close_bar``)
        s = self.vwap_study.get(index)
        # the numbers from the state (compiled: the bar, deltas, trade VWAP, smart money, book, votes)
        self.cum_delta = close_bar(st, self.depth, r, _CLOSE_COLS, self.cum_delta, self.tick, cfg.flow_threshold,
                                   cfg.dom_ratio, s is None)
        o, h, l, c = float(r[_OPEN]), float(r[_HIGH]), float(r[_LOW]), float(r[_CLOSE])
        if s is not None:
            for name, key in _VWAP_KEYS:
                r[COL[name]] = s.get(key, NAN)
        # gamma cycles: the SPX monthly expiry as of the bar's close
        days_to, days_since = expiry.cycle(t)
        r[COL["days_to_expiry"]], r[COL["days_since_expiry"]] = days_to, days_since
        r[COL["gamma_phase"]] = expiry.phase(days_to, days_since, cfg)
        vva = self.vva.get(index)
        if vva is not None:
            for name, key in _VVA_KEYS:
                r[COL[name]] = vva.get(key, NAN)
        # ATR: the study when present, else Wilder's over the bars seen
        wilder = self.atr.on_bar(h, l, c)
        study = self.atr_study.get(index)
        r[COL["atr"]] = study if study is not None else wilder
        # volatility
        vix = self.vix
        r[COL["vix"]] = vix
        regime = NAN
        if vix == vix:
            regime = 0.0 if vix < cfg.vix_mid else 1.0 if vix < cfg.vix_high else 2.0 if vix < cfg.vix_extreme else 3.0
            r[COL["vix_regime"]] = regime
        # clock (the bar's start minute, in the regular hours' zone)
        d = local(start, cfg.zone)
        tod = d.hour * 60 + d.minute
        r[COL["time_of_day"]] = tod
        r[COL["minutes_since_open"]] = tod - cfg.open_minute
        r[COL["in_rth"]] = 1.0 if cfg.open_minute <= tod < cfg.close_minute else 0.0
        # the profile vote (the votes from the state are ``close_bar``'s)
        vah, val = r[COL["vah"]], r[COL["val"]]
        r[COL["profile_vote"]] = 1.0 if c > vah else -1.0 if c < val else 0.0
        self.levels.fill(r, COL, t, c, vix)
        r[COL["mq_vote"]] = self.levels.mq_vote(c)
        self.base.on_bar(o, h, l, c)
        r[COL["base_direction"]] = float(self.base.direction)
        r[COL["golden_rule_intact"]] = self.base.intact
        raw_bias = self.levels.bias(c, regime)
        a = cfg.bias_alpha
        self.bias_ema = raw_bias if self.bias_ema != self.bias_ema else self.bias_ema + a * (raw_bias - self.bias_ema)
        r[COL["dealers_bias"]] = self.bias_ema
        return True


_SIDES = {"BID": 0.0, "ASK": 1.0}


def _number(v) -> float:
    """An optional numeric field: its value, NaN when missing or not a number."""
    return float(v) if type(v) in (int, float) else NAN


_VWAP_KEYS = (("vwap", "v"), ("vwap_up1", "up1"), ("vwap_dn1", "dn1"), ("vwap_up2", "up2"), ("vwap_dn2", "dn2"))
_VVA_KEYS = (("vah", "vah"), ("val", "val"), ("poc", "vpoc"), ("pvah", "pvah"), ("pval", "pval"), ("ppoc", "ppoc"))
