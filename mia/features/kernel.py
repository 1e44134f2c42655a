"""The feature engine's hot state in arrays, and the numba kernel that runs the bulk events over it.

``FeatureEngine`` keeps the book (bid/ask, depth), the forming bar, the trade-VWAP sums and the
bar's smart-money counters (large buy / sell volume, block trades, with their thresholds) in
one float64 vector (slots below) and one depth matrix, so that its Python handlers and
``advance`` share them. ``advance`` applies a run of trade / quote / depth events of an event
block exactly as the Python handlers would (same operations, same order, so the same floats)
and stops at the first event that needs Python: any other type, a trading-day change, a
basedata line that is not a rewrite of the forming bar, or (with no basedata) a trade that
opens a new bar.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from mia.market.columnar.codes import BASEDATA, DEPTH, OTHER, PASS, QUOTE, TRADE

# slots of the state vector
DAY_START, DAY_END, BID, ASK, BD_MODE, HAS_BAR, BAR_START = range(7)
O, H, L, C, V, BIDVOL, ASKVOL = range(7, 14)
PV, P2V, VOL, NPV, NP2V, NVOL = range(14, 20)
BAR_INDEX = 20                        # basedata index of the forming bar
LAST = 21                             # the last trade's price
# smart money: the thresholds (settings), the forming bar's large buy / sell volume and block
# count, and (basedata mode) those of trades that came after its end, for the next bar
LARGE_MIN, BLOCK_MIN = 22, 23
LBUY, LSELL, BLOCKS, NLBUY, NLSELL, NBLOCKS = range(24, 30)
NSLOTS = 30


def new_state(large_min: float = 100.0, block_min: float = 500.0) -> tuple[np.ndarray, np.ndarray]:
    st = np.zeros(NSLOTS)
    st[DAY_START] = st[DAY_END] = np.nan
    st[BID] = st[ASK] = st[LAST] = np.nan
    st[LARGE_MIN], st[BLOCK_MIN] = large_min, block_min
    return st, np.zeros((2, 21))


@nb.njit(cache=True)
def step(k, tt, a, b, c, st, depth):
    """Apply one trade (px, vol, buy 1/0), quote (bid, ask, -) or depth (side 0 BID / 1 ASK /
    -1 other, lvl, size) at time ``tt``; False (nothing changed) when Python must take it: with
    no basedata, a trade that opens a new bar. The one definition of these updates: the
    streaming handlers call it per event, ``advance`` over a block."""
    if k == DEPTH:
        if a >= 0.0 and 1.0 <= b < 21.0:
            depth[int(a), int(b)] = c
    elif k == QUOTE:
        st[BID] = a
        st[ASK] = b
    elif k == TRADE:
        later = False
        if st[BD_MODE] != 0.0:
            # a trade at/after the forming bar's end belongs to the next bar: it waits for the close
            later = st[HAS_BAR] != 0.0 and tt >= st[BAR_START] + 60.0
            if later:
                st[NPV] += a * b
                st[NP2V] += a * a * b
                st[NVOL] += b
            else:
                st[PV] += a * b
                st[P2V] += a * a * b
                st[VOL] += b
        else:
            if st[HAS_BAR] == 0.0 or st[BAR_START] != np.floor(tt / 60.0) * 60.0:
                return False
            st[PV] += a * b
            st[P2V] += a * a * b
            st[VOL] += b
            st[H] = max(st[H], a)
            st[L] = min(st[L], a)
            st[C] = a
            st[V] += b
            if c != 0.0:
                st[ASKVOL] += b
            else:
                st[BIDVOL] += b
        if b >= st[LARGE_MIN]:
            st[(NLBUY if c != 0.0 else NLSELL) if later else (LBUY if c != 0.0 else LSELL)] += b
        if b >= st[BLOCK_MIN]:
            st[NBLOCKS if later else BLOCKS] += 1.0
        st[LAST] = a
    return True


@nb.njit(cache=True)
def set_bar(st, o, h, l, c, v, bidvol, askvol):
    """The forming bar's values (a basedata line of it)."""
    st[O] = o
    st[H] = h
    st[L] = l
    st[C] = c
    st[V] = v
    st[BIDVOL] = bidvol
    st[ASKVOL] = askvol


@nb.njit(cache=True)
def advance(t, code, x, i, n, st, depth, lo=-np.inf, hi=np.inf):
    """Apply events ``i..n-1`` while they are bulk events this kernel may take; return the index
    of the first one left to Python (``n`` when all were taken): any other type, a trading-day
    change (at any row, PASS rows included), a chart-3 basedata line that is not a rewrite of
    the forming bar, or what ``step`` refuses, or a trade at or outside (``lo``, ``hi``): a
    price a caller must see (a backtest's stops, targets and limits). ``x[j]`` holds the
    event's columns: trade (px, vol, buy), quote (bid, ask), depth (side, lvl,
    size), basedata (chart, i, o, h, l, c, v, bidvol, askvol): ``mia.market.columnar.codes``.
    A PASS row (a type the feature engine has no handler for) only rolls the trading day."""
    day_start, day_end = st[DAY_START], st[DAY_END]
    while i < n:
        tt = t[i]
        if not (day_start <= tt < day_end):
            return i
        k = code[i]
        if k == PASS:
            i += 1
            continue
        if k == BASEDATA:
            if x[i, 0] == 3.0:                 # other charts' bars are not the engine's
                if st[BD_MODE] == 0.0 or st[HAS_BAR] == 0.0 or x[i, 1] != st[BAR_INDEX]:
                    return i
                set_bar(st, x[i, 2], x[i, 3], x[i, 4], x[i, 5], x[i, 6], x[i, 7], x[i, 8])
        elif k == OTHER or (k == TRADE and not lo < x[i, 0] < hi) or \
                not step(k, tt, x[i, 0], x[i, 1], x[i, 2], st, depth):
            return i
        i += 1
    return n


#: the row columns ``close_bar`` writes, in the order of its ``cols`` argument
CLOSE_COLUMNS = ("open", "high", "low", "close", "volume", "bid_volume", "ask_volume", "delta", "delta_ratio",
                 "cum_delta", "vwap", "vwap_up1", "vwap_dn1", "vwap_up2", "vwap_dn2", "large_buy_volume",
                 "large_sell_volume", "block_trades", "large_net_flow", "bid", "ask", "spread", "bid_size_top5",
                 "ask_size_top5", "pa_vote", "flow_vote", "dom_vote")


@nb.njit(cache=True)
def close_bar(st, depth, r, cols, cum_delta, tick, flow_threshold, dom_ratio, vwap_from_trades):
    """The numbers of a closing bar from the state alone, written into the feature row ``r``
    (NaN everywhere else; ``cols``: the row's columns of ``CLOSE_COLUMNS``): the bar, its delta and
    the cumulative delta (returned), the VWAP and bands from trades (``vwap_from_trades``: the data
    has no VWAP study), smart money, the book and the price-action, order-flow and DOM votes. The
    trades that waited for the close then count, and this bar's smart-money counters become the
    next bar's. The same operations in the same order as the Python they replace (same floats)."""
    r[:] = np.nan
    o, h, l, c, v = st[O], st[H], st[L], st[C], st[V]
    bidvol, askvol = st[BIDVOL], st[ASKVOL]
    r[cols[0]], r[cols[1]], r[cols[2]], r[cols[3]], r[cols[4]] = o, h, l, c, v
    r[cols[5]], r[cols[6]] = bidvol, askvol
    delta = askvol - bidvol
    ratio = delta / v if v > 0 else 0.0
    cum_delta += delta if delta == delta else 0.0
    r[cols[7]], r[cols[8]], r[cols[9]] = delta, ratio, cum_delta
    if vwap_from_trades and st[VOL] > 0:
        vw = st[PV] / st[VOL]
        x = st[P2V] / st[VOL] - vw * vw
        sd = np.sqrt(x if not (0.0 > x) else 0.0)         # Python's max(x, 0.0)
        r[cols[10]], r[cols[11]], r[cols[12]] = vw, vw + sd, vw - sd
        r[cols[13]], r[cols[14]] = vw + 2.0 * sd, vw - 2.0 * sd
    st[PV] = st[PV] + st[NPV]
    st[P2V] = st[P2V] + st[NP2V]
    st[VOL] = st[VOL] + st[NVOL]
    st[NPV] = st[NP2V] = st[NVOL] = 0.0
    lbuy, lsell = st[LBUY], st[LSELL]
    r[cols[15]], r[cols[16]] = lbuy, lsell
    r[cols[17]] = st[BLOCKS]
    r[cols[18]] = (lbuy - lsell) / v if v > 0 else 0.0
    st[LBUY], st[LSELL], st[BLOCKS] = st[NLBUY], st[NLSELL], st[NBLOCKS]
    st[NLBUY] = st[NLSELL] = st[NBLOCKS] = 0.0
    bid, ask = st[BID], st[ASK]
    r[cols[19]], r[cols[20]] = bid, ask
    r[cols[21]] = (ask - bid) / tick
    bid5 = depth[0, 1] + depth[0, 2] + depth[0, 3] + depth[0, 4] + depth[0, 5]
    ask5 = depth[1, 1] + depth[1, 2] + depth[1, 3] + depth[1, 4] + depth[1, 5]
    r[cols[22]], r[cols[23]] = bid5, ask5
    r[cols[24]] = 1.0 if c > o else -1.0 if c < o else 0.0
    r[cols[25]] = 1.0 if ratio > flow_threshold else -1.0 if ratio < -flow_threshold else 0.0
    if bid5 > 0 and ask5 > 0:
        r[cols[26]] = 1.0 if bid5 > dom_ratio * ask5 else -1.0 if ask5 > dom_ratio * bid5 else 0.0
    else:
        r[cols[26]] = 0.0
    return cum_delta
