"""Compiled kernels against values worked out by hand, one function at a time."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mia.dsl import compile_rules, load_rules

NAN = math.nan

RULES = """\
version: 1
instrument: ES
params:
  n3: 3
  near: 2 ticks
features:
  avg3: sma(close, n3)
  ema3: ema(close, 3)
  hi3: highest(close, 3)
  lo3: lowest(close, 3)
  prev: close[1]
  prev2: close[2]
  up: crosses_above(close, vwap)
  down: crosses_below(close, vwap)
  lvl: nearest(blind_spots)
  lvl_up: above(blind_spots)
  lvl_dn: below(blind_spots)
  dist: ticks_to(nearest(blind_spots))
  spread_pts: to_points(spread)
  clamped: clamp(delta_ratio, -0.5, 0.5)
  ratio: (close - vwap) / (high - low)
  pick: if(in_rth, close, vwap)
signals:
  - name: near_level
    when: ticks_to(nearest(blind_spots)) <= near
    side: long
  - name: open_window
    when: between(time_of_day, 09:30, 09:40)
    side: short
  - name: any_missing_is_false
    when: close > vwap or not (close <= vwap)
    side: long
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("r") / "rules.yaml"
    path.write_text(RULES)
    return compile_rules(load_rules([path]))


def run(compiled, rows: list[dict]) -> dict[str, list[float]]:
    X = np.full((len(rows), len(compiled.inputs)), NAN)
    for i, row in enumerate(rows):
        for name, v in row.items():
            X[i, compiled.inputs.index(name)] = v
    OUT = compiled.batch(X)
    return {o.name: list(OUT[:, k]) for k, o in enumerate(compiled.outputs)}


def same(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all((math.isnan(x) and math.isnan(y)) or x == pytest.approx(y) for x, y in zip(a, b))


def test_history_functions(compiled):
    closes = [10.0, 11.0, 13.0, 12.0, NAN, 14.0, 15.0, 16.0]
    out = run(compiled, [{"close": c} for c in closes])
    assert same(out["avg3"], [NAN, NAN, 34 / 3, 12.0, NAN, NAN, NAN, 15.0])
    assert same(out["hi3"], [NAN, NAN, 13.0, 13.0, NAN, NAN, NAN, 16.0])
    assert same(out["lo3"], [NAN, NAN, 10.0, 11.0, NAN, NAN, NAN, 14.0])
    assert same(out["prev"], [NAN, 10.0, 11.0, 13.0, 12.0, NAN, 14.0, 15.0])
    assert same(out["prev2"], [NAN, NAN, 10.0, 11.0, 13.0, 12.0, NAN, 14.0])
    # ema alpha = 2/(3+1) = 0.5, seeded by the first value, a missing value leaves it unchanged
    assert same(out["ema3"], [10.0, 10.5, 11.75, 11.875, 11.875, 12.9375, 13.96875, 14.984375])


def test_crosses(compiled):
    rows = [{"close": c, "vwap": 100.0} for c in (99.0, 101.0, 101.0, 100.0, 99.0, NAN, 101.0)]
    out = run(compiled, rows)
    assert out["up"] == [0, 1, 0, 0, 0, 0, 0]
    assert out["down"] == [0, 0, 0, 0, 1, 0, 0]


def test_level_functions(compiled):
    row = {"close": 100.0, "blind_spot_0": 103.0, "blind_spot_3": 99.5, "blind_spot_7": 101.0, "spread": 3.0}
    out = run(compiled, [row, {"close": 100.0}])
    assert out["lvl"][0] == 99.5
    assert out["lvl_up"][0] == 101.0
    assert out["lvl_dn"][0] == 99.5
    assert out["dist"][0] == 2.0          # 0.5 points = 2 ticks of 0.25
    assert out["spread_pts"][0] == 0.75
    assert out["near_level"] == [1.0, 0.0]  # no levels at all: missing, so not near
    assert math.isnan(out["lvl"][1]) and math.isnan(out["dist"][1])


def test_nearest_tie_takes_first_member(compiled):
    out = run(compiled, [{"close": 100.0, "blind_spot_2": 101.0, "blind_spot_5": 99.0}])
    assert out["lvl"] == [101.0]


def test_arithmetic_and_nan(compiled):
    rows = [
        {"close": 102.0, "vwap": 100.0, "high": 103.0, "low": 99.0, "delta_ratio": 0.9, "in_rth": 1.0},
        {"close": 102.0, "vwap": 100.0, "high": 101.0, "low": 101.0, "delta_ratio": -0.7, "in_rth": 0.0},
        {"close": 100.0, "vwap": 100.0, "high": 101.0, "low": 101.0, "delta_ratio": 0.1},
        {"close": NAN, "vwap": 100.0},
    ]
    out = run(compiled, rows)
    assert out["ratio"][0] == 0.5
    assert out["ratio"][1] == math.inf       # IEEE: 2 / 0
    assert math.isnan(out["ratio"][2])       # 0 / 0
    assert out["clamped"][:3] == [0.5, -0.5, 0.1]
    assert out["pick"][:2] == [102.0, 100.0]
    assert out["pick"][2] == 100.0           # in_rth missing -> false -> vwap
    # a comparison with a missing value is false, and `not` of it is true
    assert out["any_missing_is_false"] == [1.0, 1.0, 0.0, 1.0]   # equal: neither


def test_times_of_day(compiled):
    out = run(compiled, [{"time_of_day": m} for m in (569.0, 570.0, 575.0, 580.0, 581.0)])
    assert out["open_window"] == [0, 1, 1, 1, 0]


def test_stream_matches_batch_and_keeps_state(compiled):
    rng = np.random.default_rng(7)
    X = rng.normal(100, 1, size=(50, len(compiled.inputs)))
    X[rng.random(X.shape) < 0.1] = NAN
    OUT = compiled.batch(X)
    state, out = compiled.new_state(), np.empty(len(compiled.outputs))
    for i in range(len(X)):
        compiled.stream(X[i].copy(), state, out)
        assert np.array_equal(out, OUT[i], equal_nan=True)


def test_param_edit_reuses_the_compiled_module(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    (a / "r.yaml").write_text(RULES)
    first = compile_rules(load_rules([a]))
    (a / "r.yaml").write_text(RULES.replace("near: 2 ticks", "near: 9 ticks"))
    second = compile_rules(load_rules([a]))
    assert second.source_path == first.source_path
    row = {"close": 100.0, "blind_spot_0": 101.0}
    assert run(first, [row])["near_level"] == [0.0]
    assert run(second, [row])["near_level"] == [1.0]
