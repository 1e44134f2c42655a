"""The function registry is the one list of built-ins: every evaluator implements each entry,
the kernels agree with the oracle on a call of each, and the checker and ``mia features`` read it.

The calls are built from each record's argument kinds, so a function added to the registry is
tested here without touching this file.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from baselines import vectorized
from oracles import reference

from mia.cli import main
from mia.dsl import RuleError, ast, codegen, compile_rules, load_rules
from mia.dsl.functions import (CONDITION, CONVERT, FUNCTIONS, LEVELS, NUMBER, VALUE, WINDOW,
                               Implementations)
from mia.dsl.visit import Visitor, Walker

PRICES = ["close", "vwap", "high", "low", "open"]
UNIT_COLUMN = {"points": "close", "ticks": "spread"}


def example_call(fn, extra: int = 0) -> str:
    """A well-typed call of ``fn`` (``extra`` more arguments when it takes any number)."""
    args = []
    for i in range(fn.min_args + extra):
        kind = fn.kind_of(i)
        if fn.result == CONVERT:
            args.append(UNIT_COLUMN[fn.unit_in])
        elif kind in (NUMBER, VALUE):
            args.append(PRICES[i % len(PRICES)])
        elif kind == WINDOW:
            args.append("3")
        elif kind == LEVELS:
            args.append("blind_spots")
        elif kind == CONDITION:
            args.append("in_rth")
        else:
            raise AssertionError(f"no example for an argument of kind {kind!r}: extend example_call")
    return f"{fn.name}({', '.join(args)})"


def _rules(tmp_path, features: dict[str, str]):
    lines = ["version: 1", "instrument: ES", "features:"]
    lines += [f"  {name}: {text!r}" for name, text in features.items()]
    lines += ["signals:", "  - {name: go, when: in_rth, side: long}"]
    path = tmp_path / "r.yaml"
    path.write_text("\n".join(lines) + "\n")
    return load_rules([path])


def _data(inputs: list[str], n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.empty((n, len(inputs)))
    base = 100.0 + np.cumsum(rng.integers(-2, 3, size=n)) * 0.25
    for j, name in enumerate(inputs):
        if name == "in_rth":
            col = rng.integers(0, 2, size=n).astype(float)
        elif name == "spread":
            col = rng.integers(0, 4, size=n).astype(float)
        else:   # prices and levels near price, on the tick grid, with ties
            col = base + rng.integers(-4, 5, size=n) * 0.25
        col[rng.random(n) < 0.1] = np.nan
        X[:, j] = col
    return X


@pytest.mark.parametrize("calls", [codegen.CALLS, reference.CALLS, vectorized.CALLS],
                         ids=["codegen", "oracle", "numpy"])
def test_every_registry_function_has_an_implementation(calls: Implementations):
    assert calls.missing() == []
    assert set(calls) == set(FUNCTIONS)


def test_implementations_accept_only_registry_names_once():
    calls = Implementations("test")
    calls.register("abs")(lambda: None)
    with pytest.raises(KeyError, match="'nope' is not in"):
        calls.register("nope")(lambda: None)
    with pytest.raises(KeyError, match="implemented twice"):
        calls.register("abs")(lambda: None)
    assert "sma" in calls.missing() and "abs" not in calls.missing()
    with pytest.raises(NotImplementedError, match="has no implementation of sma"):
        calls.of("sma")


def test_kernels_oracle_and_numpy_agree_on_every_function(tmp_path):
    features = {}
    for name, fn in FUNCTIONS.items():
        features[f"f_{name}"] = example_call(fn)
        if fn.variadic:
            features[f"f_{name}_more"] = example_call(fn, extra=1)
    rs = _rules(tmp_path, features)
    compiled = compile_rules(rs)
    X = _data(compiled.inputs, 200, seed=7)
    OUT = compiled.batch(X)
    state, out = compiled.new_state(), np.empty(len(compiled.outputs))
    oracle = reference.ReferenceEvaluator(compiled.program)
    numpy_out = vectorized.VectorizedEvaluator(compiled.program).run(X)
    cols = compiled.program.output_index
    seen_values = {name: set() for name in features}
    for i in range(X.shape[0]):
        compiled.stream(X[i].copy(), state, out)
        assert np.array_equal(out, OUT[i], equal_nan=True), i
        expected = oracle.step({name: X[i, j] for j, name in enumerate(compiled.inputs)})
        for name, text in features.items():
            k = cols[name]
            o = compiled.outputs[k]
            want = (1.0 if expected[k] else 0.0) if o.is_bool else float(expected[k])
            got = OUT[i, k]
            assert (math.isnan(got) and math.isnan(want)) or got == want, (text, i, got, want)
            assert (math.isnan(got) and math.isnan(numpy_out[i, k])) or got == numpy_out[i, k], (text, i)
            seen_values[name].add("nan" if math.isnan(got) else got)
    # each call computed something (not a constant column): the data reaches every function
    assert [n for n, vals in seen_values.items() if len(vals) < 2] == []


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_checker_takes_arity_and_usage_from_the_registry(tmp_path, name):
    fn = FUNCTIONS[name]
    call = example_call(fn)
    short = call[:call.rindex(",")] + ")" if fn.min_args > 1 else f"{name}()"
    with pytest.raises(RuleError) as exc:
        _rules(tmp_path, {"v": short})
    assert f"{name}() takes" in str(exc.value)
    assert fn.help in str(exc.value)
    with pytest.raises(RuleError) as exc:
        _rules(tmp_path, {"v": f"close + {name}"})
    assert f"'{name}' is a function; call it as {fn.usage}" in str(exc.value)


def test_mia_features_lists_the_registry(capsys):
    assert main(["features", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["functions"]
    assert listed == {name: fn.help for name, fn in FUNCTIONS.items()}


def test_a_visitor_must_handle_every_node_class():
    with pytest.raises(TypeError, match="visit_History"):
        class Partial(Visitor):
            def visit_Num(self, node): ...
            def visit_Time(self, node): ...
            def visit_Bool(self, node): ...
            def visit_Name(self, node): ...
            def visit_Call(self, node): ...
            def visit_Unary(self, node): ...
            def visit_Binary(self, node): ...

    class Names(Walker):
        def __init__(self):
            self.seen = []

        def visit_Name(self, node):
            self.seen.append(node.id)

    tree = ast.Binary(0, 0, op="+", left=ast.Call(0, 0, fn="abs", args=[ast.Name(0, 0, id="a")]),
                      right=ast.History(0, 0, operand=ast.Name(0, 0, id="b"), n=1))
    walker = Names()
    walker.visit(tree)
    assert walker.seen == ["a", "b"]
