"""The outputs the readable trace adds (the terms of derived sums, the conditions of labels, the
templates of a reason list) are computed alike by the kernels in one function and in parts, by
the reference oracle and by the numpy baseline, on the default rules and a rule set made for them."""
from __future__ import annotations

import numpy as np
import pytest

from mia import HOME
from mia.dsl import codegen, compile_rules, load_rules
from mia.dsl.program import build_program
from baselines.vectorized import VectorizedEvaluator
from oracles.reference import ReferenceEvaluator
from test_property_kernels import make_data

RULES = """\
version: 1
instrument: ES
params: {w: 0.25, n: 3}
features:
  s: w*pa_vote - 0.5*sma(delta_ratio, n) + (close - vwap)/atr - w + 2
  t: -(close - vwap) + 3*atr
labels:
  s: {high: s > 2.1, low: s < 1.9, mid: "between(s, 1.9, 2.1)"}
  t: {up: "crosses_above(t, 0 points)"}
signals:
  - {name: go, when: s > 2, side: long}
hard_rules:
  - name: h
    when: t > 1 points
    side: long
    block: entries
    reason: ["{t} from {sma(close, n)}", "{highest(t, n)}", "none"]
"""


def _sets(tmp_path):
    (tmp_path / "r.yaml").write_text(RULES)
    return {"made": load_rules([tmp_path]), "defaults": load_rules([HOME / "rules"])}


@pytest.mark.parametrize("which", ["made", "defaults"])
def test_every_evaluator_computes_the_trace_outputs_alike(tmp_path, monkeypatch, which):
    rs = _sets(tmp_path)[which]
    prog = build_program(rs)
    kinds = {o.kind for o in prog.outputs}
    assert {"label", "probe"} <= kinds and prog.terms
    X = make_data(np.random.default_rng(11), prog.inputs, 80, 0.12, 0.0)
    whole = compile_rules(rs)
    out = whole.batch(X)
    monkeypatch.setattr(codegen, "CHUNK_LINES", 25)
    parts = compile_rules(rs)
    monkeypatch.undo()
    assert "stream_1" in dir(parts.module)
    assert np.array_equal(out, parts.batch(X), equal_nan=True)
    ref = ReferenceEvaluator(prog)
    want = np.array([[float(v) for v in ref.step(dict(zip(prog.inputs, x)))] for x in X.tolist()])
    assert np.array_equal(out, want, equal_nan=True)
    assert np.array_equal(out, VectorizedEvaluator(prog).run(X), equal_nan=True)


def test_the_terms_of_a_sum(tmp_path):
    prog = build_program(_sets(tmp_path)["made"])
    s = prog.terms["s"]
    assert [(t.sign, t.coef, t.coef_param is not None, t.label) for t in s] == [
        (1, None, True, "pa_vote"), (-1, 0.5, False, "sma(delta_ratio, n)"), (1, None, False, "(close - vwap)/atr"),
        (-1, None, False, "w"), (1, 2.0, False, "")]
    assert [t.value.source for t in s[:4]] == ["input", "output", "output", "param"] and s[4].value is None
    t = prog.terms["t"]
    assert [(x.sign, x.coef, x.label) for x in t] == [(-1, None, "close"), (1, None, "vwap"), (1, 3.0, "atr")]
