"""The simulated tape: regimes, the latent price, and the trades and quotes that follow it.

Model (all per second of the session, then per event):

- a Markov chain of regimes per minute: range (mean-reverting), trend up, trend down, spike;
- a latent price in ticks: regime drift + volatility scaled by VIX and by the intraday U-shape
  (busy open and close, quiet lunch), an Ornstein-Uhlenbeck pull in ranges, fast jumps in spikes;
- trade arrivals: a Cox process whose log-intensity is an AR(1) (bursts that persist a few
  seconds) times the U-shape, the regime's activity and the size of the price move; each arrival
  is an aggressive order printing a cluster of trades at the same instant and price;
- quotes at their own bursty rate: best bid/ask around the latent price, spread mostly 1 tick,
  wider in spikes; a trade prints at the ask (BUY) or the bid (SELL) of the prevailing quote.

Prices are integers in ticks throughout; times are UTC epoch microseconds on the SC grid.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mia.market.sim.clock import SessionClock, snap_us

RANGE, UP, DOWN, SPIKE = 0, 1, 2, 3
_TRANSITIONS = np.array([
    [0.940, 0.025, 0.025, 0.010],   # range
    [0.060, 0.920, 0.010, 0.010],   # trend up
    [0.060, 0.010, 0.920, 0.010],   # trend down
    [0.500, 0.150, 0.150, 0.200],   # spike
])
_OPENING = np.array([0.40, 0.25, 0.25, 0.10])
_REGIME_VOL = np.array([0.8, 1.0, 1.0, 2.4])
_REGIME_ACTIVITY = np.array([0.85, 1.1, 1.1, 2.2])
_TREND_DRIFT = 0.045          # ticks per second in a trend (about 10 points in 15 minutes)
_BASE_SIGMA = 0.85            # ticks per sqrt(second) at VIX 16
_BASE_RATE = 6.0              # aggressive orders per second at scale 1 (before shaping)


@dataclass
class Tape:
    """Trades and quotes of a session, each array in time order."""

    open_ticks: int
    regime: np.ndarray        # per minute
    latent: np.ndarray        # per second, ticks (float), length seconds + 1
    q_us: np.ndarray          # quote times
    bid: np.ndarray           # ticks
    ask: np.ndarray
    bq: np.ndarray
    aq: np.ndarray
    q_seq: np.ndarray
    t_us: np.ndarray          # trade times
    px: np.ndarray            # ticks
    vol: np.ndarray
    buy: np.ndarray           # bool: aggressive buyer (BUY at the ask)
    t_seq: np.ndarray
    dom_tilt: np.ndarray      # per second, >0 when the book leans to the bid side


def u_shape(seconds: np.ndarray) -> np.ndarray:
    """Intraday activity profile over seconds since 09:30: busy open and close, quiet lunch."""
    s = seconds.astype(float)
    lunch = np.exp(-(((s - 9000.0) / 3600.0) ** 2))
    return 0.55 + 1.5 * np.exp(-s / 1200.0) + 0.9 * np.exp(-(23400.0 - s) / 1200.0) - 0.2 * lunch


def regimes(rng: np.random.Generator, minutes: int) -> np.ndarray:
    cum = np.cumsum(_TRANSITIONS, axis=1)
    draws = rng.random(minutes)
    out = np.empty(minutes, dtype=np.int8)
    state = int(np.searchsorted(np.cumsum(_OPENING), draws[0], side="right"))
    for m in range(minutes):
        if m:
            state = int(np.searchsorted(cum[state], draws[m], side="right"))
        out[m] = min(state, 3)
    return out


def latent_path(rng: np.random.Generator, regime: np.ndarray, open_ticks: int, vix_factor: float):
    """Per-second latent price (ticks) and volatility; length seconds + 1 for the path."""
    seconds = len(regime) * 60
    reg = np.repeat(regime, 60)
    shape = u_shape(np.arange(seconds))
    sigma = _BASE_SIGMA * vix_factor * np.sqrt(shape) * _REGIME_VOL[reg]
    drift = np.where(reg == UP, _TREND_DRIFT, np.where(reg == DOWN, -_TREND_DRIFT, 0.0)) * vix_factor
    # a spike is a fast move of 10-40 ticks over 5-20 seconds at the start of a spike spell
    starts = np.flatnonzero((regime == SPIKE) & (np.r_[-1, regime[:-1]] != SPIKE))
    for m in starts:
        size = rng.uniform(10, 40) * vix_factor * rng.choice([-1.0, 1.0])
        span = int(rng.integers(5, 21))
        s0 = m * 60 + int(rng.integers(0, 40))
        drift[s0:s0 + span] += size / span
    noise = rng.standard_normal(seconds)
    path = np.empty(seconds + 1)
    path[0] = p = float(open_ticks)
    anchor = p
    theta = 1.0 / 240.0
    for s in range(seconds):
        if s % 60 == 0 and reg[s] == RANGE and (s == 0 or reg[s - 1] != RANGE):
            anchor = p
        pull = theta * (anchor - p) if reg[s] == RANGE else 0.0
        p = p + drift[s] + pull + sigma[s] * noise[s]
        path[s + 1] = p
    return path, sigma, reg, shape


def _log_intensity(rng: np.random.Generator, seconds: int) -> np.ndarray:
    """AR(1) log-intensity: bursts of activity that decay over ~30 s."""
    eps = rng.standard_normal(seconds) * 0.12
    x = np.empty(seconds)
    v = 0.0
    for s in range(seconds):
        v = 0.97 * v + eps[s]
        x[s] = v
    return x


def _spread(rng: np.random.Generator, spiky: np.ndarray) -> np.ndarray:
    u = rng.random(len(spiky))
    calm = np.where(u < 0.92, 1, np.where(u < 0.98, 2, 3))
    wild = np.where(u < 0.65, 1, np.where(u < 0.90, 2, 3))
    return np.where(spiky, wild, calm).astype(np.int64)


def _times_in_seconds(rng: np.random.Generator, counts: np.ndarray, clock: SessionClock) -> np.ndarray:
    """Uniform times inside each second (counts per second), sorted, snapped to the SC grid."""
    sec = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    offs = rng.integers(0, 1_000_000, size=len(sec), dtype=np.int64)
    us = clock.open_us + sec * 1_000_000 + offs
    us = np.minimum(us, clock.end_us - 100_000)
    return np.sort(snap_us(us), kind="stable")


def simulate_tape(seeds: list[np.random.SeedSequence], clock: SessionClock, open_ticks: int,
                  vix0: float, scale: float) -> Tape:
    r_reg, r_path, r_int, r_trade, r_quote = (np.random.Generator(np.random.PCG64(s)) for s in seeds)
    vix_factor = float(np.clip(vix0 / 16.0, 0.6, 3.0))
    regime = regimes(r_reg, clock.minutes)
    path, sigma, reg, shape = latent_path(r_path, regime, open_ticks, vix_factor)
    seconds = len(reg)
    move = np.abs(np.diff(path))
    lam = (_BASE_RATE * scale * shape * _REGIME_ACTIVITY[reg] * np.sqrt(vix_factor)
           * np.exp(_log_intensity(r_int, seconds)) * (1.0 + 0.4 * move / sigma))
    dom_tilt = np.clip(np.diff(path) / sigma, -2, 2) * 0.25 + np.where(reg == UP, 0.2, np.where(reg == DOWN, -0.2, 0.0))

    # --- quotes: an opening quote, then a bursty stream tied to the trade intensity
    q_counts = r_quote.poisson(0.8 * lam + 0.6 * scale)
    q_counts[0] += 1
    q_us = _times_in_seconds(r_quote, q_counts, clock)
    q_us[0] = snap_us(np.array([clock.open_us]))[0]
    q_sec = np.minimum((q_us - clock.open_us) // 1_000_000, seconds - 1)
    frac = ((q_us - clock.open_us) % 1_000_000) / 1e6
    mid = path[q_sec] + (path[q_sec + 1] - path[q_sec]) * frac + r_quote.normal(0, 0.08, len(q_us))
    sp = _spread(r_quote, reg[q_sec] == SPIKE)
    bid = np.floor(mid - (sp - 1) / 2.0).astype(np.int64)
    bid[0] = open_ticks
    sp[0] = 1
    ask = bid + sp
    tilt = dom_tilt[q_sec]
    bq = np.maximum(1, np.rint(r_quote.lognormal(np.log(22.0), 0.6, len(q_us)) * np.exp(tilt))).astype(np.int64)
    aq = np.maximum(1, np.rint(r_quote.lognormal(np.log(22.0), 0.6, len(q_us)) * np.exp(-tilt))).astype(np.int64)

    # --- trades: aggressive orders (clusters of prints) at the prevailing quote
    c_counts = r_trade.poisson(lam)
    c_us = _times_in_seconds(r_trade, c_counts, clock)
    c_sec = np.minimum((c_us - clock.open_us) // 1_000_000, seconds - 1)
    z = (path[c_sec + 1] - path[c_sec]) / sigma[c_sec]
    p_buy = 1.0 / (1.0 + np.exp(-1.5 * z))
    c_buy = r_trade.random(len(c_us)) < p_buy
    c_size = r_trade.geometric(np.where(reg[c_sec] == SPIKE, 0.45, 0.6))
    t_us = np.repeat(c_us, c_size)
    buy = np.repeat(c_buy, c_size)
    vol = np.minimum(1 + np.floor(r_trade.pareto(1.6, len(t_us)) * 2.0), 500).astype(np.int64)
    qi = np.searchsorted(q_us, t_us, side="right") - 1
    px = np.where(buy, ask[qi], bid[qi])

    # --- one sequence number across quotes and trades, in time order (a quote first at a tie)
    times = np.concatenate([q_us, t_us])
    kind = np.concatenate([np.zeros(len(q_us), np.int8), np.ones(len(t_us), np.int8)])
    order = np.lexsort((np.arange(len(times)), kind, times))
    seq = np.empty(len(times), dtype=np.int64)
    seq0 = int(r_quote.integers(10_000_000, 90_000_000))
    seq[order] = seq0 + np.arange(len(times))
    return Tape(open_ticks, regime, path, q_us, bid, ask, bq, aq, seq[:len(q_us)],
                t_us, px, vol, buy, seq[len(q_us):], dom_tilt)
