"""The simulated order book: top-10 depth updates on each side, as the DOM dumper writes them.

A change of the best price rewrites all 10 levels of that side; a change of the best size only
level 1 (its size is the quote's ``bq``/``aq``); in between, deeper levels change size on their
own. Sizes grow with depth and lean toward the side the latent flow favours (``dom_tilt``), so a
DOM imbalance vote has something to see.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mia.market.sim.clock import SessionClock, snap_us
from mia.market.sim.tape import Tape, u_shape

LEVELS = 10


@dataclass
class Depth:
    us: np.ndarray       # emission time (UTC epoch us); the line's t is the bar start
    is_bid: np.ndarray   # bool
    lvl: np.ndarray      # 1..10
    price: np.ndarray    # ticks
    size: np.ndarray


def _deep_sizes(rng: np.random.Generator, lvl: np.ndarray, tilt: np.ndarray) -> np.ndarray:
    mean = 20.0 + 12.0 * lvl
    return np.maximum(1, np.rint(rng.lognormal(np.log(mean), 0.5) * np.exp(tilt))).astype(np.int64)


def simulate_depth(seed: np.random.SeedSequence, tape: Tape, clock: SessionClock, scale: float) -> Depth:
    rng = np.random.Generator(np.random.PCG64(seed))
    parts: list[tuple[np.ndarray, ...]] = []
    n = len(tape.q_us)
    q_sec = np.minimum((tape.q_us - clock.open_us) // 1_000_000, len(tape.dom_tilt) - 1)
    tilt = tape.dom_tilt[q_sec]
    for is_bid, best, size, sign in ((True, tape.bid, tape.bq, 1), (False, tape.ask, tape.aq, -1)):
        moved = np.ones(n, dtype=bool)
        moved[1:] = best[1:] != best[:-1]
        resized = np.zeros(n, dtype=bool)
        resized[1:] = (size[1:] != size[:-1]) & ~moved[1:]
        # full side rewrite where the best price moved
        idx = np.repeat(np.flatnonzero(moved), LEVELS)
        lvl = np.tile(np.arange(1, LEVELS + 1, dtype=np.int64), int(moved.sum()))
        sz = _deep_sizes(rng, lvl, sign * tilt[idx])
        sz[lvl == 1] = size[idx[lvl == 1]]
        parts.append((tape.q_us[idx], np.full(len(idx), is_bid), lvl, best[idx] - sign * (lvl - 1), sz))
        # level 1 size change only
        idx1 = np.flatnonzero(resized)
        parts.append((tape.q_us[idx1], np.full(len(idx1), is_bid), np.ones(len(idx1), np.int64),
                      best[idx1], size[idx1]))
    # deeper levels changing on their own
    seconds = len(tape.dom_tilt)
    counts = rng.poisson(1.5 * scale * u_shape(np.arange(seconds)))
    sec = np.repeat(np.arange(seconds, dtype=np.int64), counts)
    us = snap_us(clock.open_us + sec * 1_000_000 + rng.integers(0, 1_000_000, len(sec)))
    us = np.minimum(us, snap_us(np.array([clock.end_us - 100_000]))[0])
    qi = np.maximum(np.searchsorted(tape.q_us, us, side="right") - 1, 0)
    is_bid = rng.random(len(us)) < 0.5
    lvl = rng.integers(2, LEVELS + 1, len(us))
    sign = np.where(is_bid, 1, -1)
    price = np.where(is_bid, tape.bid[qi], tape.ask[qi]) - sign * (lvl - 1)
    parts.append((us, is_bid, lvl, price, _deep_sizes(rng, lvl, sign * tape.dom_tilt[sec])))

    cols = [np.concatenate([p[k] for p in parts]) for k in range(5)]
    group = np.concatenate([np.full(len(p[0]), g) for g, p in enumerate(parts)])
    order = np.lexsort((cols[2], group, cols[0]))
    return Depth(*(c[order] for c in cols))
