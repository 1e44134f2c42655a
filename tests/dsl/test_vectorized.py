"""The numpy baseline of the benchmark computes what the kernels compute."""
from __future__ import annotations

import numpy as np
import pytest

from mia import HOME
from mia.dsl import compile_rules, load_rules
from baselines.vectorized import VectorizedEvaluator

HISTORY_RULES = """\
version: 1
instrument: ES
params:
  k: 2
features:
  a: sma(close, 4)
  b: ema(close, 3)
  c: highest(high, 5) - lowest(low, 5)
  d: close[2] - close
  e: min(close, vwap) + max(open, vwap, high)
  f: clamp(close - vwap, -k, k)
  r: abs(delta) / volume - delta_ratio
  g: ticks_to(above(gamma_levels)) + ticks_to(below(gamma_levels)) - to_ticks(atr) + spread
  p: to_points(spread) + close
  h: nearest(blind_spots)
  u: in_rth[1] and not golden_rule_intact
  v: if(between(close, val, vah), sma(vwap, 3)[1], ema(poc, 5))
signals:
  - {name: up, when: "crosses_above(a, vwap) or (u and h != close)", side: long}
  - {name: down, when: "crosses_below(b, vwap) or d != 0 or in_rth != in_rth[2]", side: short}
"""

# crosses of derived features, a window of a window, history of conditions and of windows,
# ema fed with NaNs, IEEE division (x / 0), ties between levels
CROSSES_RULES = """\
version: 1
instrument: ES
params:
  n: 0.5
features:
  fast: ema(close, 2)
  slow: sma(sma(close, 3), 3)
  wide: highest(close, 3)[1] - lowest(close[1], 4)
  ratio: delta / volume
  up: fast > slow
  flip: up != up[1]
  nb: ticks_to(nearest(blind_spots)) + ticks_to(above(blind_spots)) - ticks_to(below(blind_spots))
  ab: above(blind_spots)
  be: below(blind_spots)
  ne: nearest(blind_spots)
signals:
  - {name: golden, when: "crosses_above(fast, slow) and not flip[3]", side: long}
  - {name: dead, when: "crosses_below(fast, slow[1]) or (ratio > n and up[2])", side: short}
hard_rules:
  - {name: wild, when: "wide > 3 points or crosses_above(ratio, -ratio)", block: entries}
"""


def data(compiled, n, seed):
    rng = np.random.default_rng(seed)
    X = 5000 + rng.integers(-40, 40, size=(n, len(compiled.inputs))) * 0.25
    for j, name in enumerate(compiled.inputs):
        if name.endswith("_vote"):
            X[:, j] = rng.integers(-1, 2, size=n)
        elif name in ("vix",):
            X[:, j] = rng.uniform(10, 40, size=n)
        elif name in ("spread", "minutes_since_open", "levels_age_min", "volume", "delta"):
            X[:, j] = rng.integers(0, 40, size=n)      # volume 0 now and then: IEEE division
        elif name in ("in_rth", "golden_rule_intact"):
            X[:, j] = rng.integers(0, 2, size=n)
    X[rng.random(X.shape) < 0.05] = np.nan
    return X


def assert_same(compiled, X, params=None):
    want = compiled.batch(X)
    evaluator = VectorizedEvaluator(compiled.program, params)
    columns = {name: X[:, j].copy() for j, name in enumerate(compiled.inputs)}
    for got in (evaluator.run(columns), evaluator.run(X)):
        assert got.shape == want.shape
        for k, o in enumerate(compiled.outputs):
            if o.is_bool:
                assert np.array_equal(got[:, k], want[:, k]), o.name
            else:
                assert np.allclose(got[:, k], want[:, k], equal_nan=True, rtol=1e-12, atol=0), o.name


def compile_text(tmp_path, text):
    (tmp_path / "r.yaml").write_text(text)
    return compile_rules(load_rules([tmp_path]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_rules(seed):
    compiled = compile_rules(load_rules([HOME / "rules"]))
    assert_same(compiled, data(compiled, 500, seed))


def test_history_functions(tmp_path):
    compiled = compile_text(tmp_path, HISTORY_RULES)
    assert_same(compiled, data(compiled, 300, 5))


def test_history_functions_without_nans_and_short_input(tmp_path):
    compiled = compile_text(tmp_path, HISTORY_RULES)
    X = data(compiled, 200, 6)
    assert_same(compiled, np.nan_to_num(X, nan=5000.0))
    assert_same(compiled, X[:3])      # shorter than every window


def test_edited_params():
    compiled = compile_rules(load_rules([HOME / "rules"]))
    compiled.params[compiled.program.param_index["threshold_low_vix"]] = 0.05
    compiled.params[compiled.program.param_index["vix_high"]] = 30.0
    assert_same(compiled, data(compiled, 300, 7), compiled.params)


@pytest.mark.parametrize("seed", [8, 9])
def test_crosses_windows_of_windows_and_division(tmp_path, seed):
    compiled = compile_text(tmp_path, CROSSES_RULES)
    X = data(compiled, 400, seed)
    assert_same(compiled, X)
    # long NaN-free stretches, so that crosses and windows actually fire
    assert_same(compiled, np.where(np.isnan(X), 5000.0, X))


def test_level_ties_and_infinite_levels(tmp_path):
    compiled = compile_text(tmp_path, CROSSES_RULES)
    X = data(compiled, 300, 10)
    lo, hi = compiled.program.sets["blind_spots"]
    close = X[:, compiled.program.close_index]
    X[::3, lo] = close[::3] - 1.0          # two members equally near: the first wins
    X[::3, lo + 1] = close[::3] + 1.0
    X[1::5, lo:hi] = np.inf                  # never nearest, above nothing
    X[2::7, lo:hi] = -np.inf
    X[4::11, lo:hi] = np.nan                 # an all-NaN set
    assert_same(compiled, X)


def test_column_dict_is_checked():
    compiled = compile_rules(load_rules([HOME / "rules"]))
    X = data(compiled, 20, 11)
    columns = {name: X[:, j] for j, name in enumerate(compiled.inputs)}
    evaluator = VectorizedEvaluator(compiled.program)
    with pytest.raises(ValueError, match="missing input columns: vix"):
        evaluator.run({k: v for k, v in columns.items() if k != "vix"})
    with pytest.raises(ValueError, match="one length"):
        evaluator.run({**columns, "vix": columns["vix"][:5]})
    with pytest.raises(ValueError, match="columns"):
        evaluator.run(X[:, :3])
