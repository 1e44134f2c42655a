"""The numpy baseline of the benchmark computes what the kernels compute."""
from __future__ import annotations

import numpy as np
import pytest

from mia import HOME
from mia.dsl import compile_rules, load_rules
from mia.dsl.vectorized import VectorizedEvaluator

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
    got = VectorizedEvaluator(compiled.program, params).run(X)
    assert got.shape == want.shape
    for k, o in enumerate(compiled.outputs):
        if o.is_bool:
            assert np.array_equal(got[:, k], want[:, k]), o.name
        else:
            assert np.allclose(got[:, k], want[:, k], equal_nan=True, rtol=1e-12, atol=0), o.name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_rules(seed):
    compiled = compile_rules(load_rules([HOME / "rules"]))
    assert_same(compiled, data(compiled, 500, seed))


def test_history_functions(tmp_path):
    (tmp_path / "r.yaml").write_text(HISTORY_RULES)
    compiled = compile_rules(load_rules([tmp_path]))
    assert_same(compiled, data(compiled, 300, 5))


def test_history_functions_without_nans_and_short_input(tmp_path):
    (tmp_path / "r.yaml").write_text(HISTORY_RULES)
    compiled = compile_rules(load_rules([tmp_path]))
    X = data(compiled, 200, 6)
    assert_same(compiled, np.nan_to_num(X, nan=5000.0))
    assert_same(compiled, X[:3])      # shorter than every window


def test_edited_params():
    compiled = compile_rules(load_rules([HOME / "rules"]))
    compiled.params[compiled.program.param_index["threshold_low_vix"]] = 0.05
    compiled.params[compiled.program.param_index["vix_high"]] = 30.0
    assert_same(compiled, data(compiled, 300, 7), compiled.params)
