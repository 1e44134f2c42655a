"""A big rule set is compiled in parts (``codegen.CHUNK_LINES``): the parts compute exactly what
one function computes, and compiling grows linearly with the rule set, not with its square.

A chain of 1600 derived features took minutes to compile (LLVM's SROA on one huge function);
the scaling test times a chain of 2000 against a chain of 100.
"""
from __future__ import annotations

import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mia.dsl import codegen, compile_rules, load_rules
from mia.dsl.codegen import generate
from mia.dsl.program import build_program
from test_property_kernels import make_data, rule_sets

# every way one part can need another's value: a derived feature (a number and a condition)
# read in a later part, a stateful probe (sma, crosses) shown for a rule, a reason with its own
# state, the same stateless value in several parts, history of a feature read back
RULES = """\
version: 1
params:
  k: 2 points
features:
  a: close + k
  b: a - open
  flag: a > vwap and not (b < 0 points)
  c: sma(a, 3) + b[1]
  d: if(flag, c, a) - abs(close - vwap)
  e: ema(d, 4) - max(high, low, close)
  flag2: crosses_above(a, vwap) or flag[2]
signals:
  - {name: up, when: "flag and sma(c, 2) > vwap and ticks_to(nearest(blind_spots)) > 2", side: long}
  - {name: dn, when: "flag2 and crosses_below(e, 0 points) and abs(close - vwap) > 0.5 points", side: short}
hard_rules:
  - name: near
    when: "ticks_to(nearest(blind_spots)) <= 4 and sma(b, 2) > 0 points"
    block: entries
    reason: "{ticks_to(nearest(blind_spots))} ticks, {highest(a, 3)} high, {abs(close - vwap)}"
sizing:
  scale:
    - {when: "flag2 and d > a", factor: 0.5}
"""


def _run(compiled, X):
    state = compiled.new_state()
    out = np.empty(len(compiled.outputs))
    rows = []
    for i in range(len(X)):
        compiled.stream(X[i].copy(), state, out)
        rows.append(out.copy())
    batch_state = compiled.new_state()
    return np.array(rows), compiled.batch(X, batch_state), state, batch_state


def _compiled_in_parts(monkeypatch, rs, lines: int):
    monkeypatch.setattr(codegen, "CHUNK_LINES", lines)
    try:
        return compile_rules(rs)
    finally:
        monkeypatch.undo()


def _assert_same(rs, monkeypatch, X, lines: int):
    whole = compile_rules(rs)
    assert "stream_0" not in dir(whole.module)
    parts = _compiled_in_parts(monkeypatch, rs, lines)
    assert "stream_1" in dir(parts.module), "the rule set was not split"
    assert np.array_equal(whole.new_state(), parts.new_state(), equal_nan=True)
    for a, b in zip(_run(whole, X), _run(parts, X)):
        assert np.array_equal(a, b, equal_nan=True)


def test_parts_compute_what_one_function_computes(tmp_path, monkeypatch):
    (tmp_path / "r.yaml").write_text(RULES)
    rs = load_rules([tmp_path])
    X = make_data(np.random.default_rng(7), build_program(rs).inputs, 120, 0.12, 0.0)
    for lines in (3, 11):
        _assert_same(rs, monkeypatch, X, lines)


def test_a_rule_set_that_fits_gets_the_one_function_source(tmp_path):
    (tmp_path / "r.yaml").write_text(RULES)
    src = generate(build_program(load_rules([tmp_path])))
    assert "def stream(x, P, S, out):" in src and "stream_0" not in src


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                 HealthCheck.function_scoped_fixture])
@given(text=rule_sets(), seed=st.integers(0, 2**32 - 1))
def test_random_rule_sets_in_parts(tmp_path_factory, monkeypatch, text, seed):
    path = tmp_path_factory.mktemp("rules") / "r.yaml"
    path.write_text(text)
    rs = load_rules([path])
    X = make_data(np.random.default_rng(seed), build_program(rs).inputs, 30, 0.12, 0.0)
    whole_lines = len(codegen._Gen(build_program(rs)).body())
    _assert_same(rs, monkeypatch, X, max(2, whole_lines // 3))


def _chain(tmp_path, n: int, tag: str):
    lines = ["version: 1", "features:", f"  {tag}0: close + 1"]
    lines += [f"  {tag}{i}: {tag}{i - 1} + 1" for i in range(1, n)]
    lines += ["signals:", f"  - {{name: s_{tag}, when: '{tag}{n - 1} > 0', side: long}}"]
    folder = tmp_path / tag
    folder.mkdir()
    (folder / "r.yaml").write_text("\n".join(lines) + "\n")
    return folder


def _compile_time(folder) -> float:
    start = time.perf_counter()
    compiled = compile_rules(load_rules([folder]))
    took = time.perf_counter() - start
    X = np.full((1, len(compiled.inputs)), 100.0)
    assert compiled.batch(X)[0, -2] == 100.0 + len(compiled.outputs) - 1   # the chain's last feature
    return took


def test_a_long_chain_of_features_compiles_in_linear_time(tmp_path):
    """2000 features against 100: 20x the work (about 25x measured, numba's fixed costs
    aside); the bound is 80x the slower of two 100-chains (one function took hundreds)."""
    _compile_time(_chain(tmp_path, 5, "warm"))          # numba's own start-up, once
    small = max(_compile_time(_chain(tmp_path, 100, "small")), _compile_time(_chain(tmp_path, 100, "other")))
    big = _compile_time(_chain(tmp_path, 2000, "big"))
    assert big < 80 * small, f"2000 features took {big:.1f} s, 100 took {small:.1f} s"


def test_a_chain_written_backwards_is_no_recursion(tmp_path):
    """Features in reverse dependency order: the order walk goes 5000 deep (not a RecursionError
    reported as 'an expression is nested too deeply')."""
    n = 5000
    lines = ["version: 1", "features:"] + [f"  f{i}: f{i - 1} + 1" for i in range(n - 1, 0, -1)]
    lines += ["  f0: close + 1", "signals:", f"  - {{name: s, when: 'f{n - 1} > 0', side: long}}"]
    (tmp_path / "r.yaml").write_text("\n".join(lines) + "\n")
    rs = load_rules([tmp_path])
    assert [f.name for f in rs.features] == [f"f{i}" for i in range(n)]
