"""VIX (chart 8) and MenthorQ levels (chart 10) around the simulated ES price.

VIX starts at a seeded level (lognormal around 17, so about one seed in five is high-VIX and a
few are extreme), reverts slowly to it and moves against ES (leverage effect); it is published
every 15 seconds, as the index is.

MenthorQ publishes every 15 minutes. Gamma levels sit on the 5-point strike grid: the day's
levels (call resistance, put support, HVL, 1D min/max) hold unless price runs away from them;
0DTE levels, GEX 1-10 and blind spots are recomputed near price at each publication. A study with
nothing to say writes nothing: some GEX / blind-spot slots are empty (0) and are not written.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mia.market.sim.clock import SessionClock
from mia.market.sim.tape import Tape

VIX_STEP_US = 15_000_000
MQ_STEP_MINUTES = 15
GAMMA_TYPES = ["call_resistance", "put_support", "hvl", "1d_min", "1d_max", "call_resistance_0dte",
               "put_support_0dte", "hvl_0dte", "gamma_wall_0dte"] + [f"gex_{k}" for k in range(1, 11)]
BLIND_TYPES = [f"blind_spot_{k}" for k in range(10)]
GAMMA_STUDY_ID = 1
BLIND_STUDY_ID = 3
MAX_DISTANCE_POINTS = 35.0


def vix_start(rng: np.random.Generator) -> float:
    return float(np.clip(np.exp(rng.normal(np.log(17.0), 0.30)), 10.5, 60.0))


def vix_path(rng: np.random.Generator, tape: Tape, clock: SessionClock, vix0: float):
    """(emission times, values) of the VIX every 15 s; reacts to the ES path."""
    steps = clock.minutes * 4
    us = clock.open_us + np.arange(steps, dtype=np.int64) * VIX_STEP_US
    sec = np.arange(steps) * 15
    es = tape.latent[np.minimum(sec + 15, len(tape.latent) - 1)] * 0.25
    es_prev = tape.latent[sec] * 0.25
    ret = np.log(es / es_prev)
    eps = rng.standard_normal(steps)
    x = np.empty(steps)
    lv = target = np.log(vix0)
    for k in range(steps):
        x[k] = lv
        lv = lv + 0.004 * (target - lv) - 5.0 * ret[k] + 0.0035 * eps[k]
    return us, np.round(np.exp(x), 2)


@dataclass
class Levels:
    us: np.ndarray           # publication time (UTC epoch us, a minute start)
    minute: np.ndarray       # session minute of the publication
    level_type: list[str]
    price: np.ndarray        # points (> 0 only)
    subgraph: np.ndarray
    study_id: np.ndarray
    ref: np.ndarray          # ES price (points) the levels were drawn around


def _strike(x: float, how: str = "round") -> float:
    f = {"round": np.round, "up": np.ceil, "down": np.floor}[how]
    return float(f(x / 5.0) * 5.0)


def menthorq_levels(rng: np.random.Generator, tape: Tape, clock: SessionClock, vix0: float) -> Levels:
    minutes = np.arange(0, clock.minutes, MQ_STEP_MINUTES)
    pub_us = clock.minute_start_us(minutes)
    # reference price: the last trade before publication (the opening quote's bid at 09:30)
    ti = np.searchsorted(tape.t_us, pub_us, side="left") - 1
    ref = np.where(ti >= 0, tape.px[np.maximum(ti, 0)], tape.open_ticks) * 0.25
    em = float(np.clip(0.4 * ref[0] * vix0 / 100.0 / np.sqrt(252.0), 10.0, 30.0))
    daily: dict[str, float] = {}
    blind = np.zeros(10)
    rows: list[tuple[int, str, float, int, int]] = []

    def daily_level(name: str, p: float, make) -> float:
        cur = daily.get(name)
        if cur is None or abs(cur - p) > MAX_DISTANCE_POINTS:
            cur = daily[name] = make()
        return cur

    for k, p in enumerate(ref.tolist()):
        g = {
            "call_resistance": daily_level("cr", p, lambda: _strike(p + rng.uniform(12, 28), "up")),
            "put_support": daily_level("ps", p, lambda: _strike(p - rng.uniform(12, 28), "down")),
            "hvl": daily_level("hvl", p, lambda: _strike(p + rng.uniform(-8, 8))),
            "1d_min": daily_level("dmin", p, lambda: round((p - em * rng.uniform(0.8, 1.1)) * 4) / 4),
            "1d_max": daily_level("dmax", p, lambda: round((p + em * rng.uniform(0.8, 1.1)) * 4) / 4),
            "call_resistance_0dte": _strike(p + rng.uniform(5, 20), "up"),
            "put_support_0dte": _strike(p - rng.uniform(5, 20), "down"),
            "hvl_0dte": _strike(p + rng.uniform(-5, 5)),
            "gamma_wall_0dte": _strike(p + rng.choice([-1.0, 1.0]) * rng.uniform(3, 15)),
        }
        strikes = _strike(p) + 5.0 * np.arange(-6, 7)
        gex = rng.permutation(strikes)[:10]
        gex[8:] *= rng.random(2) > 0.25          # sometimes only 8 or 9 GEX levels
        for j in range(10):
            g[f"gex_{j + 1}"] = float(gex[j])
        keep = (rng.random(10) < 0.7) & (np.abs(blind - p) <= 30.0)
        fresh = np.round((p + rng.uniform(-30, 30, 10)) * 4) / 4
        blind = np.where(keep, blind, fresh)
        shown = blind * (rng.random(10) > np.r_[np.zeros(7), 0.2, 0.3, 0.4])   # 7-10 blind spots
        for sg, name in enumerate(GAMMA_TYPES, start=1):
            rows.append((k, name, g[name], sg, GAMMA_STUDY_ID))
        for sg, name in enumerate(BLIND_TYPES, start=1):
            rows.append((k, name, float(shown[sg - 1]), sg, BLIND_STUDY_ID))
    rows = [r for r in rows if r[2] > 0]
    k = np.array([r[0] for r in rows], dtype=np.int64)
    return Levels(pub_us[k], minutes[k], [r[1] for r in rows], np.array([r[2] for r in rows]),
                  np.array([r[3] for r in rows], dtype=np.int64),
                  np.array([r[4] for r in rows], dtype=np.int64), ref[k])
