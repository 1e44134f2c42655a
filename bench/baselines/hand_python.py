"""The default rules (rules/*.yaml as they are) written by hand as a plain-Python function per row:
bench_rules' plain-Python baseline.

``make_step()`` returns ``step(row) -> tuple``: one row of inputs (a list of floats in
``hand_numpy.INPUTS`` order, NaN for a missing value) in, the 75 values the kernel computes for it
out (``hand_numpy.OUTPUTS`` order, conditions as 1.0/0.0). The step keeps the 20 bars before (for
the delta divergence) in its closure, so rows must come in order from the first bar, as in the
kernel's ``stream`` from a fresh state. No evaluator, no dict per row: locals, the rules' constants
inlined, and the tie semantics of ``hand_numpy`` (a comparison is a subtraction against ``1e-9 *
max(1, |a|, |b|)``; NaN compares false) with the scale written out per comparison.
``tests/bench/test_hand_baselines.py`` checks every value equals the kernel's on every row.
"""
from __future__ import annotations

from collections import deque

TOL = 1e-9
NAN = float("nan")
INF = float("inf")
N_BARS = 20


def make_step():
    """A fresh per-row function (its own 20-bar history)."""
    closes: deque = deque(maxlen=N_BARS)
    deltas: deque = deque(maxlen=N_BARS)
    nan_count = [0, 0]                     # NaNs among closes, deltas

    def step(r):
        (b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, close, cd, vix, spread, mso, pa, flow, prof, mq, dom, db,
         lbv, lsv, lnf, g, age, vm, cr, ps, hvl, gw) = r
        score = 0.20 * pa + 0.25 * flow + 0.15 * prof + 0.20 * mq + 0.10 * dom
        av = abs(vix)
        # vix vs 22 / 35 / 15 (NaN: every comparison false)
        d = 22.0 - vix
        s = TOL * (av if av > 22.0 else 22.0)
        vix_high = d <= s
        thr = 0.25 if d > s else 0.30
        d = 35.0 - vix
        s = TOL * (av if av > 35.0 else 35.0)
        extreme = d <= s
        half = vix_high and d > s
        d = 15.0 - vix
        vix_mid = d <= TOL * (av if av > 15.0 else 15.0)

        a = abs(score)
        ms = TOL * (a if a > 1.0 else 1.0)
        bn_long = score - thr > ms
        bn_short = -thr - score > ms

        # delta divergence over the 20 bars before
        if len(closes) == N_BARS and not nan_count[0]:
            hi, lo = max(closes), min(closes)
        else:
            hi = lo = NAN
        if len(deltas) == N_BARS and not nan_count[1]:
            hid, lod = max(deltas), min(deltas)
        else:
            hid = lod = NAN
        ac, acd = abs(close), abs(cd)
        mc = ac if ac > 1.0 else 1.0
        mcd = acd if acd > 1.0 else 1.0
        x = abs(hi)
        bear = close - hi > TOL * (x if x > mc else mc)
        if bear:
            x = abs(hid)
            bear = not (cd - hid > TOL * (x if x > mcd else mcd))
        x = abs(lo)
        bull = lo - close > TOL * (x if x > mc else mc)
        if bull:
            x = abs(lod)
            bull = not (lod - cd > TOL * (x if x > mcd else mcd))
        if len(closes) == N_BARS:
            if closes[0] != closes[0]:
                nan_count[0] -= 1
            if deltas[0] != deltas[0]:
                nan_count[1] -= 1
        closes.append(close)
        deltas.append(cd)
        if close != close:
            nan_count[0] += 1
        if cd != cd:
            nan_count[1] += 1

        a = abs(lnf)
        m = TOL * (a if a > 1.0 else 1.0)
        sm_long = -0.10 - lnf > m
        sm_short = lnf - 0.10 > m

        # nearest blind spot (the first of equals)
        nearest, best = NAN, INF
        for lv in (b0, b1, b2, b3, b4, b5, b6, b7, b8, b9):
            x = abs(lv - close)
            if x < best:
                best, nearest = x, lv
        t_bs = abs(nearest - close) / 0.25
        lim = 7.5 if vix_high else 5.0
        blind = t_bs - lim <= TOL * (t_bs if t_bs > lim else lim)

        t_gw = abs(gw - close) / 0.25
        wall = t_gw - 3.0 <= TOL * (t_gw if t_gw > 3.0 else 3.0)
        t_cr = abs(cr - close) / 0.25
        a = abs(cr)
        m = a if a > mc else mc
        under_cr = close - cr <= TOL * m and t_cr - 10.0 <= TOL * (t_cr if t_cr > 10.0 else 10.0)
        t_ps = abs(ps - close) / 0.25
        a = abs(ps)
        m = a if a > mc else mc
        over_ps = ps - close <= TOL * m and t_ps - 10.0 <= TOL * (t_ps if t_ps > 10.0 else 10.0)
        t_hvl = abs(hvl - close) / 0.25
        near_hvl = t_hvl - 10.0 <= TOL * (t_hvl if t_hvl > 10.0 else 10.0)

        adb = abs(db)
        mdb = TOL * (adb if adb > 1.0 else 1.0)
        a = abs(mso)
        cash_open = -mso <= TOL * (a if a > 1.0 else 1.0) and 10.0 - mso > TOL * (a if a > 10.0 else 10.0)
        a = abs(spread)
        wide = spread - 2.0 > TOL * (a if a > 2.0 else 2.0)
        lim = 5.0 if vix_high else (15.0 if vix_mid else 30.0)
        a = abs(age)
        fresh = age - lim <= TOL * (a if a > lim else lim)
        a = abs(vm)
        stale = (not fresh) or 2.0 - a <= TOL * (a if a > 2.0 else 2.0)

        a = abs(g)
        g0 = abs(g) <= TOL * (a if a > 1.0 else 1.0)
        g1 = abs(g - 1.0) <= TOL * (a if a > 1.0 else 1.0)
        g2 = abs(g - 2.0) <= TOL * (a if a > 2.0 else 2.0)
        g3 = abs(g - 3.0) <= TOL * (a if a > 3.0 else 3.0)
        g4 = abs(g - 4.0) <= TOL * (a if a > 4.0 else 4.0)
        s_abs = abs(score)
        bear_f = 1.0 if bear else 0.0
        bull_f = 1.0 if bull else 0.0
        g1f, g2f, g3f, g4f = (1.0 if g1 else 0.0), (1.0 if g2 else 0.0), (1.0 if g3 else 0.0), (1.0 if g4 else 0.0)
        return (
            score, thr, bear_f, bull_f,
            1.0 if bn_long else 0.0, 1.0 if bn_short else 0.0,
            1.0 if sm_long else 0.0, 1.0 if sm_short else 0.0, bear_f, bull_f,
            1.0 if blind else 0.0, 1.0 if wall else 0.0, 1.0 if under_cr else 0.0, 1.0 if over_ps else 0.0,
            1.0 if near_hvl else 0.0,
            1.0 if -0.15 - db > mdb else 0.0, 1.0 if db - 0.15 > mdb else 0.0,
            1.0 if cash_open else 0.0, 1.0 if wide else 0.0, 1.0 if extreme else 0.0, 1.0 if stale else 0.0,
            g3f, g2f, g1f, g4f, 1.0 if half else 0.0,
            t_bs, nearest, t_gw, t_cr, t_ps, t_hvl,
            lnf, lsv, lbv, lnf, lbv, lsv, close, 20.0, cd, close, 20.0, cd,
            t_bs, nearest, t_gw, gw, t_cr, cr, t_ps, ps, t_hvl, hvl, db, db, 10.0, spread, vix, age, vm, age,
            1.0 if 0.7 - score <= ms else 0.0, 1.0 if score + 0.7 <= ms else 0.0,
            1.0 if s_abs - 0.3 <= ms else 0.0,
            1.0 if g0 else 0.0, g1f, g2f, g3f, g4f,
            1.0 if 0.15 - adb > mdb else 0.0,
            1.0 if db > mdb and 0.45 - db > mdb else 0.0,
            1.0 if -db > mdb and db + 0.45 > mdb else 0.0,
            1.0 if 0.45 - db <= mdb else 0.0, 1.0 if db + 0.45 <= mdb else 0.0,
        )

    return step


def run(rows) -> list[tuple]:
    """Every row's outputs, from the first bar: ``[step(r) for r in rows]``."""
    step = make_step()
    return [step(r) for r in rows]
