"""bench_rules' hand-written baselines (numpy and a plain-Python function per row) compute every
output the batch kernel computes for the default rules, on every row: random plausible data, and
rows with values exactly on (or within the 1e-9 tie tolerance of) the rules' thresholds."""
from __future__ import annotations

import numpy as np
import pytest

from mia import HOME
from mia.dsl import compile_rules, load_rules
from baselines import hand_numpy, hand_python
from baselines.data import make_data, with_ties

N = 30_000


@pytest.fixture(scope="module")
def compiled():
    return compile_rules(load_rules([HOME / "rules"]))


@pytest.fixture(scope="module", params=["plausible", "ties"])
def rows(request, compiled):
    make = make_data if request.param == "plausible" else with_ties
    X = make(compiled.inputs, N, seed=7)
    return X, compiled.batch(X)


def test_layout_and_constants_are_the_rules(compiled):
    assert hand_numpy.INPUTS == compiled.inputs
    assert hand_numpy.OUTPUTS == [o.name for o in compiled.outputs]
    values = dict(zip(compiled.program.param_names, compiled.params.tolist()))
    for name, value in hand_numpy.PARAMS.items():
        assert values[name] == value, name
    assert hand_numpy.N_BARS == hand_python.N_BARS == values["divergence_bars"]


def _mismatches(got: np.ndarray, want: np.ndarray, compiled) -> list[str]:
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    bad = np.flatnonzero(~same.all(axis=0))
    return [f"{compiled.outputs[k].name}: {int((~same[:, k]).sum())} rows, first {int(np.flatnonzero(~same[:, k])[0])}"
            for k in bad]


@pytest.mark.parametrize("order", ["F", "C"])
def test_hand_numpy_equals_the_kernel(compiled, rows, order):
    X, want = rows
    OUT = np.empty(want.shape, order=order)
    got = hand_numpy.run(np.asarray(X, order=order), OUT)
    assert got is OUT
    assert _mismatches(got, want, compiled) == []


def test_hand_python_equals_the_kernel(compiled, rows):
    X, want = rows
    got = np.array(hand_python.run(X.tolist()))
    assert got.shape == want.shape
    assert _mismatches(got, want, compiled) == []


def test_the_tie_rows_sit_on_the_thresholds(compiled):
    """The tie data does exercise the tolerance: scores on +-threshold, levels an exact number of
    ticks away, VIX on its boundaries, and both verdicts of each rule occur."""
    X = with_ties(compiled.inputs, N, seed=7)
    out = compiled.batch(X)
    col = {o.name: out[:, k] for k, o in enumerate(compiled.outputs)}
    inp = {name: X[:, j] for j, name in enumerate(compiled.inputs)}
    score, thr = col["bn_score"], col["signal_threshold"]
    exact = np.abs(np.abs(score) - thr) < 1e-9
    assert exact.sum() > 20 and (score[exact] != thr[exact]).any()    # float sums off by an ulp included
    assert (col["blind_spot:ticks_to(nearest(blind_spots))"] == 5.0).any()
    assert (inp["vix"] == 22.0).sum() > 100 and (inp["large_net_flow"] == 0.1).sum() > 100
    for o in compiled.outputs:
        if o.kind in ("signal", "hard_rule", "scale"):
            assert 0 < col[o.name].sum() < N, o.name


def test_a_changed_rule_is_caught(compiled):
    """The comparison can fail: the kernel of a rule set with one threshold moved differs from the
    hand-written baselines on that rule's column."""
    X = with_ties(compiled.inputs, 5_000, seed=3)
    P = compiled.params.copy()
    P[compiled.program.param_index["smart_money_flow"]] = 0.12
    want = np.empty((len(X), len(compiled.outputs)))
    compiled.module.batch(np.ascontiguousarray(X), P, compiled.new_state(), want)
    got = hand_numpy.run(np.asfortranarray(X), np.empty(want.shape, order="F"))
    bad = _mismatches(got, want, compiled)
    assert [b.split(":")[0] for b in bad] == ["smart_money_long", "smart_money_short"]
    bad = _mismatches(np.array(hand_python.run(X.tolist())), want, compiled)
    assert [b.split(":")[0] for b in bad] == ["smart_money_long", "smart_money_short"]
