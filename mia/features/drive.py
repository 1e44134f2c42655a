"""The block driver: a columnar block (``mia.market.columnar``) run over a feature engine's state.

The bulk kernel (``kernel.advance``) takes every row it may; every other row becomes its event
(``Block.event``: the one replay gives, with its real values) for the caller's handler, in
order. ``FeatureEngine.run_block`` is its front door.
"""
from __future__ import annotations

import math

import numpy as np

from mia.features.kernel import advance


def open_band() -> tuple[float, float]:
    return -math.inf, math.inf


def drive(block, st: np.ndarray, depth: np.ndarray, handle, band=open_band) -> int:
    """Run ``block`` over a feature engine's state: the bulk kernel takes every row it may (a
    trade only when priced strictly inside ``band()``, asked again after each handled event),
    ``handle(event)`` takes the others, in order. Returns the rows the kernel took."""
    t, code, x = block.t, block.code, block.x
    n = len(t)
    i = taken = 0
    lo, hi = band()
    while True:
        j = advance(t, code, x, i, n, st, depth, lo, hi)
        taken += j - i
        if j >= n:
            return taken
        handle(block.event(j))
        lo, hi = band()
        i = j + 1
