"""Plausible random inputs for the default rules (bench_rules' data), and rows at their thresholds.

``make_data``: a random walk of close in ticks, levels near it with NaN holes, votes in -1/0/1,
a VIX with a few gaps, and so on (one column per kernel input). ``with_ties``: the same rows with
values set exactly on the rules' thresholds (every vote combination, VIX on its regime
boundaries, levels an exact number of ticks away, the dealer's bias and large-trader flow on
their limits, ...), some a hair inside or outside them (1e-10: within mia's 1e-9 tie tolerance).
"""
from __future__ import annotations

import itertools

import numpy as np

#: inputs that are price levels: drawn near close (blind spots, gamma levels)
LEVELS = ("gamma_wall_0dte", "call_resistance", "put_support", "hvl")


def make_data(inputs: list[str], n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.empty((n, len(inputs)))
    close = 5000 + np.cumsum(rng.integers(-2, 3, size=n)) * 0.25
    for j, name in enumerate(inputs):
        if name == "close":
            col = close
        elif name.startswith("blind_spot_") or name in LEVELS:
            col = close + rng.integers(-80, 81, size=n) * 0.25
            col[rng.random(n) < 0.3] = np.nan
        elif name == "dealers_bias":
            col = rng.uniform(-0.6, 0.6, size=n)
        elif name == "vix_move_since_levels":
            col = rng.uniform(-3, 3, size=n)
            col[rng.random(n) < 0.05] = np.nan
        elif name == "large_net_flow":
            col = rng.uniform(-0.3, 0.3, size=n)
        elif name == "gamma_phase":
            col = rng.integers(0, 5, size=n).astype(float)
        elif name == "cum_delta":
            col = np.cumsum(rng.integers(-50, 51, size=n)).astype(float)
        elif name.endswith("_vote"):
            col = rng.integers(-1, 2, size=n).astype(float)
        elif name == "vix":
            col = rng.uniform(12, 40, size=n)
            col[rng.random(n) < 0.01] = np.nan
        elif name == "spread":
            col = rng.choice([1.0, 1.0, 1.0, 2.0, 3.0], size=n)
        elif name == "minutes_since_open":
            col = rng.integers(-30, 390, size=n).astype(float)
        elif name == "levels_age_min":
            col = rng.uniform(0, 40, size=n)
            col[rng.random(n) < 0.02] = np.nan
        else:
            col = rng.normal(size=n)
        X[:, j] = col
    return X


_H = 1e-10      # a hair: well within the 1e-9 tie tolerance
#: per input, values on (or a hair off) the default rules' thresholds
EDGES = {
    "vix": [15.0, 22.0, 35.0, 22.0 + _H, 22.0 - _H, 35.0 - _H, 15.0 + _H, 14.0, 30.0, np.nan],
    "large_net_flow": [0.1, -0.1, 0.3 - 0.2, 0.1 + _H, -0.1 - _H, 0.1 - _H, 0.0],
    "dealers_bias": [0.15, -0.15, 0.45, -0.45, 0.0, _H, -_H, 0.15 + _H, 0.6 - 0.15, -0.45 - _H],
    "minutes_since_open": [0.0, 10.0, -_H, 10.0 - _H, _H, 5.0],
    "spread": [2.0, 2.0 + _H, 2.0 + 1e-8, 1.0],
    "gamma_phase": [0.0, 1.0, 2.0, 3.0, 4.0, 3.0 + _H, _H, np.nan],
    "levels_age_min": [5.0, 15.0, 30.0, 5.0 + _H, 30.0 - _H, 30.0 + 1e-6, np.nan],
    "vix_move_since_levels": [2.0, -2.0, 2.0 - _H, -2.0 + _H, 0.0, np.nan],
}
#: level inputs: an exact number of ticks from close (or a hair more)
LEVEL_TICKS = [0.0, 3.0, 5.0, 7.5, 10.0, 10.0 + 4 * _H, -3.0, -5.0, -7.5, -10.0, 11.0]


def with_ties(inputs: list[str], n: int, seed: int = 0) -> np.ndarray:
    """``make_data`` rows with about a third of each threshold input set on a threshold, and the
    first 243 rows' votes every combination of -1/0/1 (scores on +-0.25 and +-0.30 included)."""
    X = make_data(inputs, n, seed)
    rng = np.random.default_rng(seed + 1)
    idx = {name: j for j, name in enumerate(inputs)}
    close = X[:, idx["close"]]
    for name, values in EDGES.items():
        pick = rng.random(n) < 0.35
        X[pick, idx[name]] = rng.choice(values, size=int(pick.sum()))
    for name in inputs:
        if name.startswith("blind_spot_") or name in LEVELS:
            pick = rng.random(n) < 0.3
            X[pick, idx[name]] = close[pick] + rng.choice(LEVEL_TICKS, size=int(pick.sum())) * 0.25
    votes = [idx[v] for v in ("pa_vote", "flow_vote", "profile_vote", "mq_vote", "dom_vote")]
    combos = np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=5)))
    k = min(n, len(combos))
    X[:k][:, votes] = combos[:k]
    return X
