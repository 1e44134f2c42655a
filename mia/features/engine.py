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
from mia.features.kernel import (ASK, ASKVOL, BAR_INDEX, BAR_START, BD_MODE, BID, BIDVOL, BLOCK_MIN, BLOCKS, DAY_END,
                                 DAY_START, HAS_BAR, LARGE_MIN, LAST, LBUY, LSELL, NBLOCKS, NLBUY, NLSELL, NP2V, NPV,
                                 NVOL, P2V, PV, VOL, C, H, L, O, V, new_state, set_bar, step)
from mia.features.studies import Indexed, WilderAtr
from mia.instruments import instrument as instrument_facts
from mia.market.columnar.codes import DEPTH, QUOTE, TRADE
from mia.market.sctime import SC_SLACK

NAN = math.nan
COL = {f.name: i for i, f in enumerate(catalog.FEATURES)}
_N = len(catalog.FEATURES)


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
        # the row is assembled in a list of Python floats (one numpy write at the end) from the
        # state read once as floats: per-item numpy access is most of a bar close's Python cost
        cfg, tick, st = self.cfg, self.tick, self.st
        st[HAS_BAR] = 0.0
        sv = st.tolist()
        index = sv[BAR_INDEX] if sv[BD_MODE] else None
        r = [NAN] * _N
        start = sv[BAR_START]
        t = start + 60.0
        self.row_time = t
        o, h, l, c, v = sv[O], sv[H], sv[L], sv[C], sv[V]
        bidvol, askvol = sv[BIDVOL], sv[ASKVOL]
        r[COL["open"]], r[COL["high"]], r[COL["low"]], r[COL["close"]], r[COL["volume"]] = o, h, l, c, v
        r[COL["bid_volume"]], r[COL["ask_volume"]] = bidvol, askvol
        delta = askvol - bidvol
        ratio = delta / v if v > 0 else 0.0
        self.cum_delta += delta if delta == delta else 0.0
        r[COL["delta"]], r[COL["delta_ratio"]], r[COL["cum_delta"]] = delta, ratio, self.cum_delta
        # VWAP and bands: the study when the data has it, else from trades
        s = self.vwap_study.get(index)
        if s is not None:
            for name, key in _VWAP_KEYS:
                r[COL[name]] = s.get(key, NAN)
        elif sv[VOL] > 0:
            vw = sv[PV] / sv[VOL]
            sd = math.sqrt(max(sv[P2V] / sv[VOL] - vw * vw, 0.0))
            r[COL["vwap"]], r[COL["vwap_up1"]], r[COL["vwap_dn1"]] = vw, vw + sd, vw - sd
            r[COL["vwap_up2"]], r[COL["vwap_dn2"]] = vw + 2 * sd, vw - 2 * sd
        # trades that waited for this close now count
        st[PV] = sv[PV] + sv[NPV]
        st[P2V] = sv[P2V] + sv[NP2V]
        st[VOL] = sv[VOL] + sv[NVOL]
        st[NPV] = st[NP2V] = st[NVOL] = 0.0
        # smart money: this bar's large trades; those that waited for the close are the next bar's
        lbuy, lsell = sv[LBUY], sv[LSELL]
        r[COL["large_buy_volume"]], r[COL["large_sell_volume"]] = lbuy, lsell
        r[COL["block_trades"]] = sv[BLOCKS]
        r[COL["large_net_flow"]] = (lbuy - lsell) / v if v > 0 else 0.0
        st[LBUY], st[LSELL], st[BLOCKS] = sv[NLBUY], sv[NLSELL], sv[NBLOCKS]
        st[NLBUY] = st[NLSELL] = st[NBLOCKS] = 0.0
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
        if vix == vix:
            r[COL["vix_regime"]] = 0.0 if vix < cfg.vix_mid else 1.0 if vix < cfg.vix_high else \
                2.0 if vix < cfg.vix_extreme else 3.0
        # book
        bid, ask = sv[BID], sv[ASK]
        r[COL["bid"]], r[COL["ask"]] = bid, ask
        r[COL["spread"]] = (ask - bid) / tick
        bd, ad = self.depth[0].tolist(), self.depth[1].tolist()
        bid5, ask5 = bd[1] + bd[2] + bd[3] + bd[4] + bd[5], ad[1] + ad[2] + ad[3] + ad[4] + ad[5]
        r[COL["bid_size_top5"]], r[COL["ask_size_top5"]] = bid5, ask5
        # clock (the bar's start minute, in the regular hours' zone)
        d = local(start, cfg.zone)
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
        self.levels.fill(r, COL, t, c, vix)
        r[COL["mq_vote"]] = self.levels.mq_vote(c)
        self.base.on_bar(o, h, l, c)
        r[COL["base_direction"]] = float(self.base.direction)
        r[COL["golden_rule_intact"]] = self.base.intact
        raw_bias = self.levels.bias(c, r[COL["vix_regime"]])
        a = cfg.bias_alpha
        self.bias_ema = raw_bias if self.bias_ema != self.bias_ema else self.bias_ema + a * (raw_bias - self.bias_ema)
        r[COL["dealers_bias"]] = self.bias_ema
        self.row[:] = r
        return True


_SIDES = {"BID": 0.0, "ASK": 1.0}


def _number(v) -> float:
    """An optional numeric field: its value, NaN when missing or not a number."""
    return float(v) if type(v) in (int, float) else NAN


_VWAP_KEYS = (("vwap", "v"), ("vwap_up1", "up1"), ("vwap_dn1", "dn1"), ("vwap_up2", "up2"), ("vwap_dn2", "dn2"))
_VVA_KEYS = (("vah", "vah"), ("val", "val"), ("poc", "vpoc"), ("pvah", "pvah"), ("pval", "pval"), ("ppoc", "ppoc"))
