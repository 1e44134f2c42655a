"""Battle Navale bases and the golden rule, one closed bar at a time.

A base: the longest run of the last 3-8 bars whose high-low range is at most 10 ticks, green
when at least 3 of the last 4 close-to-close moves are up, red when at most 1 is. A base
"forms" when one is detected and none of that colour was detected on the previous bar;
while detection continues (the same consolidation, one bar longer) its low/high follow the
window but the golden rule is not reset. Golden rule: since a green base formed, no red bar
(close < open) closed below its low by more than half a tick (symmetric for red bases).
``direction`` (+1/-1/0) stays on the last base formed until another forms; ``intact`` is 1.0
with no base.
"""
from __future__ import annotations

import math
from collections import deque

from mia.features.config import FeatureConfig


class BaseTracker:
    def __init__(self, cfg: FeatureConfig, tick: float):
        self.cfg, self.tick = cfg, tick
        self.reset()

    def reset(self) -> None:
        self.bars: deque = deque(maxlen=self.cfg.base_max_bars)    # (high, low)
        self.closes: deque = deque(maxlen=5)
        self.direction = 0
        self.lo = self.hi = math.nan
        self.intact = 1.0
        self._live = False                     # a base of ``direction`` was detected on the last bar

    def on_bar(self, o: float, h: float, l: float, c: float) -> None:
        half = 0.5 * self.tick
        if self.direction > 0 and c < o and c < self.lo - half:
            self.intact = 0.0
        elif self.direction < 0 and c > o and c > self.hi + half:
            self.intact = 0.0
        self.bars.append((h, l))
        self.closes.append(c)
        color, lo, hi = self._detect()
        if color == 0:
            self._live = False
            return
        if not (self._live and color == self.direction):
            self.direction, self.intact = color, 1.0
        self.lo, self.hi, self._live = lo, hi, True

    def _detect(self) -> tuple[int, float, float]:
        cfg = self.cfg
        cl = self.closes
        if len(cl) < 5:
            return 0, math.nan, math.nan
        ups = (cl[1] > cl[0]) + (cl[2] > cl[1]) + (cl[3] > cl[2]) + (cl[4] > cl[3])
        color = 1 if ups >= cfg.base_green_ups else -1 if ups <= cfg.base_red_max_ups else 0
        if color == 0:
            return 0, math.nan, math.nan
        limit = cfg.base_max_range_ticks * self.tick + 1e-9
        hi = lo = None
        best = None
        for k, (bh, bl) in enumerate(reversed(self.bars), start=1):   # grow the window backwards
            hi = bh if hi is None or bh > hi else hi
            lo = bl if lo is None or bl < lo else lo
            if hi - lo > limit:
                break
            if k >= cfg.base_min_bars:
                best = (lo, hi)
        if best is None:
            return 0, math.nan, math.nan
        return color, best[0], best[1]
