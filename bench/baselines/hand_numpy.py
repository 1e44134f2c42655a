"""The default rules (rules/*.yaml as they are) written by hand in numpy: bench_rules' numpy baseline.

No evaluator: one function, ``run(X, OUT)``, computes every column the batch kernel computes
(derived features, signals, hard rules, sizing scale rules, probes, reason values, labels; see
``OUTPUTS``) with the rules' constants inlined as Python floats (scalars broadcast), into a
preallocated ``OUT`` and a few reused temporaries (``out=`` everywhere). The input is an n x 31
matrix in ``INPUTS`` order, best column-major (each column contiguous: numpy's natural layout);
``OUT`` is n x 75 in ``OUTPUTS`` order, best column-major too. Rows are a series from the first bar
(like ``batch`` from a fresh state): the 20-bar delta divergence reads the rows before.

The language's semantics, specialised by hand: a missing value is NaN and compares false; numbers
within 1e-9 of the larger magnitude (1e-9 below 1) are equal. For finite ``a`` and ``b`` that is
exactly ``a > b  <=>  a - b > 1e-9 * max(1, |a|, |b|)`` (and likewise ``>=``: ``b - a <= ...``,
``==``: ``|a - b| <= ...``), NaN making either side false, so each comparison is a subtraction and
a compare against a scaled magnitude; with a constant ``c`` the scale is ``max(max(1, |c|), |a|)``.
Where a value's range is known from the rules it is used: the entry threshold is 0.25 or 0.30 (the
floor, low and mid thresholds are all 0.25), so ``max(1, |score|, |threshold|)`` is ``max(1,
|score|)``. Infinite inputs are outside this: none of these features is ever infinite.
``tests/bench/test_hand_baselines.py`` checks every output equals the kernel's on every row.
"""
from __future__ import annotations

import numpy as np

TOL = 1e-9

#: the kernels' input columns for the default rules (checked against the compiled program)
INPUTS = [*(f"blind_spot_{k}" for k in range(10)), "close", "cum_delta", "vix", "spread",
          "minutes_since_open", "pa_vote", "flow_vote", "profile_vote", "mq_vote", "dom_vote",
          "dealers_bias", "large_buy_volume", "large_sell_volume", "large_net_flow", "gamma_phase",
          "levels_age_min", "vix_move_since_levels", "call_resistance", "put_support", "hvl",
          "gamma_wall_0dte"]

#: the kernels' output columns, in order (checked against the compiled program)
OUTPUTS = [
    "bn_score", "signal_threshold", "bearish_delta_divergence", "bullish_delta_divergence",
    "bn_long", "bn_short",
    "smart_money_long", "smart_money_short", "delta_divergence_long", "delta_divergence_short",
    "blind_spot", "gamma_wall", "under_call_resistance", "over_put_support", "near_hvl",
    "dealers_bias_long", "dealers_bias_short", "cash_open", "wide_spread", "extreme_vix", "stale_levels",
    "gamma_expiry_week", "gamma_peak", "gamma_moderate", "gamma_post_expiry", "high_vix_half_size",
    "blind_spot:ticks_to(nearest(blind_spots))", "blind_spot:nearest(blind_spots)",
    "gamma_wall:ticks_to(gamma_wall_0dte)", "under_call_resistance:ticks_to(call_resistance)",
    "over_put_support:ticks_to(put_support)", "near_hvl:ticks_to(hvl)",
    *(f"{rule}.reason[{k}]" for rule, n in (
        ("smart_money_long", 3), ("smart_money_short", 3), ("delta_divergence_long", 3),
        ("delta_divergence_short", 3), ("blind_spot", 2), ("gamma_wall", 2), ("under_call_resistance", 2),
        ("over_put_support", 2), ("near_hvl", 2), ("dealers_bias_long", 1), ("dealers_bias_short", 1),
        ("cash_open", 1), ("wide_spread", 1), ("extreme_vix", 1), ("stale_levels", 3)) for k in range(n)),
    *(f"label:bn_score:{t}" for t in ("Vikings winning", "Défenseurs winning", "balanced")),
    *(f"label:gamma_phase:{t}" for t in ("normal", "gamma moderate", "gamma peak", "expiry week", "post-expiry")),
    *(f"label:dealers_bias:{t}" for t in ("neutral", "moderately bullish", "moderately bearish",
                                           "strongly bullish", "strongly bearish")),
]

#: the rules' params as written in rules/*.yaml (ticks and minutes as numbers; checked in the test)
PARAMS = {
    "w_price_action": 0.20, "w_order_flow": 0.25, "w_profile": 0.15, "w_menthorq": 0.20, "w_dom": 0.10,
    "vix_mid": 15.0, "vix_high": 22.0, "vix_extreme": 35.0, "threshold_floor": 0.25,
    "threshold_low_vix": 0.25, "threshold_mid_vix": 0.25, "threshold_high_vix": 0.30,
    "smart_money_flow": 0.10, "divergence_bars": 20.0, "blind_spot_ticks": 5.0,
    "blind_spot_ticks_high_vix": 7.5, "gamma_wall_ticks": 3.0, "level_ticks": 10.0,
    "cash_open_quiet": 10.0, "max_spread": 2.0, "emission_threshold": 0.15, "vix_update_threshold": 2.0,
    "levels_max_age_low_vix": 30.0, "levels_max_age_mid_vix": 15.0, "levels_max_age_high_vix": 5.0,
}
N_BARS = 20          # divergence_bars (a window length: fixed in the kernel's state layout)


def _window(col: np.ndarray, n: int, fn, out: np.ndarray) -> None:
    """out[i] = fn over col[i-n:i] (``highest(col[1], n)``/``lowest``): NaN for the first n rows
    and where the window holds a NaN (np.maximum/np.minimum propagate NaN)."""
    out[:n] = np.nan
    if len(col) <= n:
        return
    m = len(col) - n
    w = out[n:]
    np.copyto(w, col[0:m])
    for k in range(1, n):
        fn(w, col[k:k + m], out=w)


def run(X: np.ndarray, OUT: np.ndarray) -> np.ndarray:
    """Every output of the default rules for every row of ``X`` into ``OUT`` (returned)."""
    n = X.shape[0]
    c = {name: X[:, j] for j, name in enumerate(INPUTS)}
    close, vix, score, db = c["close"], c["vix"], OUT[:, 0], c["dealers_bias"]
    t1, t2, t3, t4 = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    b1, b2 = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    o = OUT
    with np.errstate(invalid="ignore"):
        # bn_score, in the kernel's order of additions
        np.multiply(c["pa_vote"], 0.20, out=score)
        for name, w in (("flow_vote", 0.25), ("profile_vote", 0.15), ("mq_vote", 0.20), ("dom_vote", 0.10)):
            np.multiply(c[name], w, out=t1)
            score += t1
        # vix regimes: vix < 22, vix >= 22 (its complement for a present VIX), vix >= 15, vix >= 35
        np.abs(vix, out=t1)                                  # scale for 15, 22 and 35: max(c, |vix|)
        np.subtract(22.0, vix, out=t2)
        np.maximum(t1, 22.0, out=t3)
        t3 *= TOL
        vix_high = np.less_equal(t2, t3)                     # vix >= 22
        vix_below_high = np.greater(t2, t3)                  # vix < 22 (both false for NaN)
        # signal_threshold = max(0.25, 0.25 | 0.25 | 0.30): 0.30 unless vix < 22
        thr = o[:, 1]
        thr.fill(0.30)
        np.copyto(thr, 0.25, where=vix_below_high)
        np.subtract(35.0, vix, out=t2)
        np.maximum(t1, 35.0, out=t3)
        t3 *= TOL
        np.less_equal(t2, t3, out=b1)                        # vix >= 35
        o[:, 19] = b1                                        # extreme_vix
        np.greater(t2, t3, out=b2)                           # vix < 35
        b2 &= vix_high
        o[:, 25] = b2                                        # high_vix_half_size
        np.subtract(15.0, vix, out=t2)
        np.maximum(t1, 15.0, out=t3)
        t3 *= TOL
        vix_mid = np.less_equal(t2, t3)                      # vix >= 15

        # signals: score vs +-threshold, scale max(1, |score|)
        abs_score = np.abs(score)
        ms = np.maximum(abs_score, 1.0)
        ms *= TOL
        np.subtract(score, thr, out=t1)
        np.greater(t1, ms, out=o[:, 4])                      # bn_long
        np.negative(thr, out=t1)
        np.subtract(t1, score, out=t1)
        np.greater(t1, ms, out=o[:, 5])                      # bn_short
        # labels of bn_score
        np.subtract(0.7, score, out=t1)
        np.less_equal(t1, ms, out=o[:, 62])
        np.add(score, 0.7, out=t1)
        np.less_equal(t1, ms, out=o[:, 63])
        np.subtract(abs_score, 0.3, out=t1)
        np.less_equal(t1, ms, out=o[:, 64])

        # delta divergence: close beyond its 20-bar high (low) of the bars before, cum_delta not
        cd = c["cum_delta"]
        for out_col, fn, sign in ((2, np.maximum, 1.0), (3, np.minimum, -1.0)):
            _window(close, N_BARS, fn, t1)
            _scaled_diff(close, t1, sign, t2, t3, t4)            # (close - hi) * sign and its scale
            np.greater(t2, t3, out=b1)
            _window(cd, N_BARS, fn, t1)
            _scaled_diff(cd, t1, sign, t2, t3, t4)
            np.less_equal(t2, t3, out=b2)                    # not (cd beyond): NaN counts as not
            b2 |= np.isnan(t2)
            b1 &= b2
            o[:, out_col] = b1
            o[:, out_col + 6] = b1                           # delta_divergence_long/_short

        # smart money: large_net_flow beyond -+0.10, scale max(1, |flow|)
        lnf = c["large_net_flow"]
        np.abs(lnf, out=t3)
        np.maximum(t3, 1.0, out=t3)
        t3 *= TOL
        np.add(lnf, 0.10, out=t1)
        np.negative(t1, out=t1)
        np.greater(t1, t3, out=o[:, 6])
        np.subtract(lnf, 0.10, out=t1)
        np.greater(t1, t3, out=o[:, 7])

        # blind spot: the nearest level (first of equals), its distance in ticks
        nearest, ticks = o[:, 27], o[:, 26]
        nearest.fill(np.nan)
        t2.fill(np.inf)                                      # best distance so far
        for j in range(10):
            lv = X[:, j]
            np.subtract(lv, close, out=t1)
            np.abs(t1, out=t1)
            np.less(t1, t2, out=b1)                          # NaN: false
            np.copyto(t2, t1, where=b1)
            np.copyto(nearest, lv, where=b1)
        np.subtract(nearest, close, out=ticks)
        np.abs(ticks, out=ticks)
        ticks *= 4.0                                         # / 0.25, exactly
        lim = t1
        lim.fill(5.0)
        np.copyto(lim, 7.5, where=vix_high)
        _le(ticks, lim, o[:, 10], t2, t3)                    # ticks <= lim, scale max(lim, ticks)

        # gamma levels: ticks away, and which side of close
        for src, probe, rule, limit in (("gamma_wall_0dte", 28, 11, 3.0), ("call_resistance", 29, 12, 10.0),
                                        ("put_support", 30, 13, 10.0), ("hvl", 31, 14, 10.0)):
            tk = o[:, probe]
            np.subtract(c[src], close, out=tk)
            np.abs(tk, out=tk)
            tk *= 4.0
            np.subtract(tk, limit, out=t1)
            np.maximum(tk, limit, out=t2)
            t2 *= TOL
            np.less_equal(t1, t2, out=b1)
            if src in ("call_resistance", "put_support"):
                lvl = c[src]
                # call_resistance >= close: close - level <= scale; put_support <= close: level - close <= scale
                if src == "call_resistance":
                    np.subtract(close, lvl, out=t1)
                else:
                    np.subtract(lvl, close, out=t1)
                np.abs(lvl, out=t2)
                np.abs(close, out=t3)
                np.maximum(t2, t3, out=t2)
                np.maximum(t2, 1.0, out=t2)
                t2 *= TOL
                np.less_equal(t1, t2, out=b2)
                b1 &= b2
            o[:, rule] = b1

        # dealer's bias vs 0.15 (rules) and 0 / 0.45 (labels), scale max(1, |bias|)
        abs_db = np.abs(db)
        mdb = np.maximum(abs_db, 1.0)
        mdb *= TOL
        np.add(db, 0.15, out=t1)
        np.negative(t1, out=t1)
        np.greater(t1, mdb, out=o[:, 15])                    # db < -0.15
        np.subtract(db, 0.15, out=t1)
        np.greater(t1, mdb, out=o[:, 16])                    # db > 0.15
        np.subtract(0.15, abs_db, out=t1)
        np.greater(t1, mdb, out=o[:, 70])                    # |db| < 0.15
        np.greater(db, mdb, out=b1)                          # db > 0
        np.subtract(0.45, db, out=t1)
        np.greater(t1, mdb, out=b2)                          # db < 0.45
        b1 &= b2
        o[:, 71] = b1
        np.negative(db, out=t2)
        np.greater(t2, mdb, out=b1)                          # db < 0
        np.add(db, 0.45, out=t1)
        np.greater(t1, mdb, out=b2)                          # db > -0.45
        b1 &= b2
        o[:, 72] = b1
        np.subtract(0.45, db, out=t1)
        np.less_equal(t1, mdb, out=o[:, 73])                 # db >= 0.45
        np.add(db, 0.45, out=t1)
        np.less_equal(t1, mdb, out=o[:, 74])                 # db <= -0.45

        # cash open: 0 <= minutes_since_open < 10
        mso = c["minutes_since_open"]
        np.abs(mso, out=t3)
        np.maximum(t3, 1.0, out=t2)
        t2 *= TOL
        np.negative(mso, out=t1)
        np.less_equal(t1, t2, out=b1)
        np.maximum(t3, 10.0, out=t2)
        t2 *= TOL
        np.subtract(10.0, mso, out=t1)
        np.greater(t1, t2, out=b2)
        b1 &= b2
        o[:, 17] = b1

        # wide spread: spread > 2
        sp = c["spread"]
        np.abs(sp, out=t2)
        np.maximum(t2, 2.0, out=t2)
        t2 *= TOL
        np.subtract(sp, 2.0, out=t1)
        np.greater(t1, t2, out=o[:, 18])

        # stale levels: not (age <= 5 | 15 | 30 by VIX) or |vix move| >= 2
        age = c["levels_age_min"]
        lim = t1
        lim.fill(30.0)
        np.copyto(lim, 15.0, where=vix_mid)
        np.copyto(lim, 5.0, where=vix_high)
        np.abs(age, out=t2)
        np.maximum(t2, lim, out=t2)                          # lim >= 5: the 1 never wins
        t2 *= TOL
        np.subtract(age, lim, out=t3)
        np.less_equal(t3, t2, out=b1)
        np.logical_not(b1, out=b1)
        vm = c["vix_move_since_levels"]
        np.abs(vm, out=t1)
        np.maximum(t1, 2.0, out=t2)
        t2 *= TOL
        np.subtract(2.0, t1, out=t3)
        np.less_equal(t3, t2, out=b2)
        b1 |= b2
        o[:, 20] = b1

        # gamma phase == k (scale rules and labels)
        g = c["gamma_phase"]
        np.abs(g, out=t1)
        for k, cols in ((0.0, (65,)), (1.0, (23, 66)), (2.0, (22, 67)), (3.0, (21, 68)), (4.0, (24, 69))):
            np.maximum(t1, max(1.0, k), out=t2)
            t2 *= TOL
            np.subtract(g, k, out=t3)
            np.abs(t3, out=t3)
            np.less_equal(t3, t2, out=b1)
            for col in cols:
                o[:, col] = b1

    # reason values: what the reasons print
    for col, src in ((32, "large_net_flow"), (33, "large_sell_volume"), (34, "large_buy_volume"),
                     (35, "large_net_flow"), (36, "large_buy_volume"), (37, "large_sell_volume"),
                     (38, "close"), (40, "cum_delta"), (41, "close"), (43, "cum_delta"),
                     (47, "gamma_wall_0dte"), (49, "call_resistance"), (51, "put_support"), (53, "hvl"),
                     (54, "dealers_bias"), (55, "dealers_bias"), (57, "spread"), (58, "vix"),
                     (59, "levels_age_min"), (60, "vix_move_since_levels"), (61, "levels_age_min")):
        o[:, col] = c[src]
    for col, src in ((44, 26), (45, 27), (46, 28), (48, 29), (50, 30), (52, 31)):
        o[:, col] = o[:, src]
    o[:, 39] = float(N_BARS)
    o[:, 42] = float(N_BARS)
    o[:, 56] = 10.0                                          # cash_open_quiet
    return OUT


def _scaled_diff(a: np.ndarray, b: np.ndarray, sign: float, diff: np.ndarray, scale: np.ndarray,
                 tmp: np.ndarray) -> None:
    """diff = (a - b) * sign, scale = 1e-9 * max(1, |a|, |b|)."""
    np.subtract(a, b, out=diff)
    if sign < 0:
        np.negative(diff, out=diff)
    np.abs(a, out=scale)
    np.maximum(scale, 1.0, out=scale)
    np.abs(b, out=tmp)
    np.maximum(scale, tmp, out=scale)
    scale *= TOL


def _le(a: np.ndarray, lim: np.ndarray, out: np.ndarray, t: np.ndarray, s: np.ndarray) -> None:
    """out = a <= lim for a >= 0 and lim >= 1 (scale max(a, lim))."""
    np.subtract(a, lim, out=t)
    np.maximum(a, lim, out=s)
    s *= TOL
    np.less_equal(t, s, out=out)
