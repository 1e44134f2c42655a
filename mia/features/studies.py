"""Running studies for the feature engine: index-attributed study lines and Wilder's ATR.

``Indexed``: Sierra writes a study line many times per bar, tagged with the bar index ``i``;
in a merged stream the next bar's first lines can come before the line that closes a bar, so
at the close of bar ``I`` the value used is the latest one with ``i <= I``.
(The VWAP from trades lives in the engine's state vector, ``kernel``, shared with the bulk kernel.)
"""
from __future__ import annotations

import math

NAN = math.nan


class Indexed:
    __slots__ = ("i", "val", "prev")

    def __init__(self) -> None:
        self.i = self.val = self.prev = None

    def put(self, i, val) -> None:
        if i is not None and self.i is not None:
            if i < self.i:
                return                     # a late line of an older bar: keep the newer value
            if i > self.i:
                self.prev = self.val       # the last value of an earlier bar
        self.i, self.val = i, val

    def get(self, index):
        """The value at the close of bar ``index`` (None: no index known, the latest)."""
        if index is None or self.i is None or self.i <= index:
            return self.val
        return self.prev


class WilderAtr:
    """ATR(n) of bars: the mean of the first n true ranges (running mean before), then Wilder's smoothing."""
    __slots__ = ("n", "count", "atr", "prev_close")

    def __init__(self, n: int) -> None:
        self.n, self.count, self.atr, self.prev_close = n, 0, NAN, NAN

    def on_bar(self, h: float, l: float, c: float) -> float:
        pc = self.prev_close
        tr = h - l if pc != pc else max(h - l, abs(h - pc), abs(l - pc))
        self.count += 1
        k = min(self.count, self.n)
        self.atr = tr if self.count == 1 else (self.atr * (k - 1) + tr) / k
        self.prev_close = c
        return self.atr
