"""Random well-typed rule sets over random data: batch kernel == streaming kernel == reference.

The expressions are drawn from a typed generator (numbers by unit, conditions), so every draw
passes the checker; the data has NaNs, zeros and repeated values to reach the edge cases
(missing values, division by zero, ties, history warm-up).
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mia.dsl import compile_rules, load_rules
from mia.dsl.program import build_program
from oracles.reference import ReferenceEvaluator

PRICE_NAMES = ["close", "open", "vwap", "high", "low"]
TICK_NAMES = ["spread"]
RATIO_NAMES = ["delta_ratio", "pa_vote", "flow_vote"]
BOOL_NAMES = ["in_rth", "golden_rule_intact"]


def _num(draw, unit: str | None, depth: int) -> str:
    """A number expression of ``unit`` ("points", "ticks", "1" or None for bare)."""
    leaf = depth <= 0 or draw(st.integers(0, 3)) == 0
    if leaf:
        choices = {
            "points": PRICE_NAMES + ["nearest(blind_spots)", "above(gamma_levels)", "below(gamma_levels)",
                                     "LIT points", "p_points"],
            "ticks": TICK_NAMES + ["ticks_to(vwap)", "ticks_to(nearest(blind_spots))", "LIT ticks", "p_ticks"],
            "1": RATIO_NAMES + ["LIT %"],
            None: ["LIT", "p_bare"],
        }[unit]
        pick = draw(st.sampled_from(choices))
        if "LIT" in pick:
            lit = draw(st.sampled_from(["0", "0.25", "1", "2.5", "3", "0.1", "10"]))
            pick = pick.replace("LIT", lit)
        return pick
    d = depth - 1
    form = draw(st.sampled_from(["add", "sub", "mulbare", "divbare", "neg", "abs", "min", "max", "clamp",
                                 "sma", "ema", "highest", "lowest", "hist", "if", "ratio", "paren"]))
    if form == "ratio" and unit == "1":
        u = draw(st.sampled_from(["points", "ticks"]))
        return f"({_num(draw, u, d)}) / ({_num(draw, u, d)})"
    if form == "ratio":
        form = "add"
    a = lambda: _num(draw, unit, d)  # noqa: E731
    n = draw(st.sampled_from([1, 2, 3, 5]))
    return {
        "add": lambda: f"{a()} + {a()}",
        "sub": lambda: f"{a()} - {a()}",
        "mulbare": lambda: f"({a()}) * {_num(draw, None, d)}",
        "divbare": lambda: f"({a()}) / ({_num(draw, None, d)})",
        "neg": lambda: f"-({a()})",
        "abs": lambda: f"abs({a()})",
        "min": lambda: f"min({a()}, {a()})",
        "max": lambda: f"max({a()}, {a()}, {a()})",
        "clamp": lambda: f"clamp({a()}, {a()}, {a()})",
        "sma": lambda: f"sma({a()}, {n})",
        "ema": lambda: f"ema({a()}, {n})",
        "highest": lambda: f"highest({a()}, {n})",
        "lowest": lambda: f"lowest({a()}, {n})",
        "hist": lambda: f"({a()})[{draw(st.integers(0, 3))}]",
        "if": lambda: f"if({_bool(draw, d)}, {a()}, {a()})",
        "paren": lambda: f"({a()})",
    }[form]()


def _bool(draw, depth: int) -> str:
    leaf = depth <= 0 or draw(st.integers(0, 3)) == 0
    if leaf:
        return draw(st.sampled_from(BOOL_NAMES + ["true", "false", "f_flag"]))
    d = depth - 1
    form = draw(st.sampled_from(["cmp", "cmp", "and", "or", "not", "between", "xa", "xb", "hist", "eqb"]))
    unit = draw(st.sampled_from(["points", "ticks", "1"]))
    if form == "cmp":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        return f"{_num(draw, unit, d)} {op} {_num(draw, unit, d)}"
    return {
        "and": lambda: f"({_bool(draw, d)}) and ({_bool(draw, d)})",
        "or": lambda: f"({_bool(draw, d)}) or ({_bool(draw, d)})",
        "not": lambda: f"not ({_bool(draw, d)})",
        "between": lambda: f"between({_num(draw, unit, d)}, {_num(draw, unit, d)}, {_num(draw, unit, d)})",
        "xa": lambda: f"crosses_above({_num(draw, unit, d)}, {_num(draw, unit, d)})",
        "xb": lambda: f"crosses_below({_num(draw, unit, d)}, {_num(draw, unit, d)})",
        "hist": lambda: f"({_bool(draw, d)})[{draw(st.integers(1, 3))}]",
        "eqb": lambda: f"({_bool(draw, d)}) == ({_bool(draw, d)})",
    }[form]()


@st.composite
def rule_sets(draw) -> str:
    feature = _num(draw, "points", 3).replace("f_flag", "true")
    flag = _bool(draw, 2).replace("f_flag", "true")
    signals = [_bool(draw, 3) for _ in range(3)]
    hard = _bool(draw, 2)
    reason = _num(draw, "ticks", 2)
    lines = [
        "version: 1",
        "instrument: ES",
        "params:",
        "  p_bare: 1.5",
        "  p_ticks: 3 ticks",
        "  p_points: 2 points",
        "features:",
        f"  f_level: {feature!r}",
        f"  f_flag: {flag!r}",
        "signals:",
    ]
    for i, s in enumerate(signals):
        s = s.replace("close", "f_level") if i == 0 else s
        lines += [f"  - name: s{i}", f"    when: {s!r}", f"    side: {'long' if i % 2 else 'short'}"]
    lines += ["hard_rules:", "  - name: h0", f"    when: {hard!r}", "    block: entries",
              f"    reason: '{{{reason}}} ticks'"]
    return "\n".join(lines) + "\n"


def _data(rng: np.random.Generator, inputs: list[str], n: int) -> np.ndarray:
    X = np.empty((n, len(inputs)))
    base = 100.0 + np.cumsum(rng.integers(-2, 3, size=n)) * 0.25
    for j, name in enumerate(inputs):
        if name in BOOL_NAMES:
            col = rng.integers(0, 2, size=n).astype(float)
        elif name in RATIO_NAMES:
            col = rng.choice([-1.0, 0.0, 1.0, 0.5, -0.25], size=n)
        elif name == "spread":
            col = rng.integers(0, 4, size=n).astype(float)
        else:   # prices and levels near price, on the tick grid, with ties
            col = base + rng.integers(-8, 9, size=n) * 0.25
        col[rng.random(n) < 0.12] = np.nan
        X[:, j] = col
    return X


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=rule_sets(), seed=st.integers(0, 2**32 - 1))
def test_batch_stream_and_reference_agree(tmp_path_factory, text, seed):
    path = tmp_path_factory.mktemp("rules") / "r.yaml"
    path.write_text(text)
    rs = load_rules([path])
    compiled = compile_rules(rs)
    rng = np.random.default_rng(seed)
    for n in (1, 40):
        X = _data(rng, compiled.inputs, n)
        OUT = compiled.batch(X)
        state = compiled.new_state()
        out = np.empty(len(compiled.outputs))
        ref = ReferenceEvaluator(build_program(rs))
        for i in range(n):
            compiled.stream(X[i].copy(), state, out)
            assert np.array_equal(out, OUT[i], equal_nan=True), (text, i)
            expected = ref.step({name: X[i, j] for j, name in enumerate(compiled.inputs)})
            for k, (o, v) in enumerate(zip(compiled.outputs, expected)):
                want = (1.0 if v else 0.0) if o.is_bool else float(v)
                assert _same(OUT[i, k], want), (text, i, o.name, OUT[i, k], want)
