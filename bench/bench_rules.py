"""Benchmark: the default rule set's numba kernels vs numpy, plain Python and rule-engine.

Measured in one process on the same plausible random feature data: the batch kernel (rows/s,
median of runs), the numpy evaluator of the same AST (``bench/baselines/vectorized.py``), the
plain-Python reference evaluator (``tests/oracles/reference.py``) per row (on a subset), the PyPI
``rule-engine`` library evaluating the same signals and hard rules written in its syntax per row
(on a subset), the streaming kernel per event (median and p99), and compilation cold and warm,
each in a fresh process.
rule-engine's verdicts are checked against the kernel's on the same rows (``rule_engine_mismatches``,
expected 0, the exact score == threshold ties its Decimal arithmetic gets right included: mia's
tie tolerance agrees with it; ``rule_engine_tie_rows`` says how many rows were such ties). The numpy evaluator is timed on contiguous columns (``ratio_vs_numpy``, its
best layout) and on the kernel's row-major matrix; the batch kernel also into a preallocated
output (``kernel_prealloc_s``: without the page faults of a fresh output matrix);
``stream_noop_median_us`` is a no-op numba function with the stream kernel's signature (numba's
dispatch floor). Prints a table; ``--json`` prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from mia import HOME  # noqa: E402
from mia.dsl import compile_rules, load_rules  # noqa: E402
from mia.dsl.program import build_program  # noqa: E402

sys.path.insert(0, str(HOME / "tests"))      # the reference oracle lives with the tests
from baselines.vectorized import VectorizedEvaluator  # noqa: E402
from oracles.reference import ReferenceEvaluator  # noqa: E402

RULES = [HOME / "rules"]

# The default signals and hard rules in rule-engine's syntax, translated by hand (params and
# features inlined as constants, same values as rules/*.yaml). 15 of the 17 (2 signals, 13 of the 15
# hard rules) are expressible; the two delta-divergence rules are not: they read windows over past
# bars (highest/lowest of close and cum_delta), and rule-engine evaluates one row with no history.
# A missing value is rule-engine's null, guarded explicitly (its comparisons with null raise) so
# that it reads "false" as in mia. nearest(blind_spots) needs the set as a list built outside the
# rule (NaN members dropped, not timed). Not translated: the sizing scale rules, the labels, the
# probes and the hard-rule reason values (rule-engine returns only a bool per rule).
# rule-engine computes in Decimal, exact for these decimal weights and thresholds: it is what mia's
# tie tolerance means ("exactly 0.25 is not above 0.25"), so its verdicts must match the kernel's
# at exact score == threshold ties too.
def _lt(a: str, b) -> str:
    return f"({a} != null and {a} < {b})"


def _gt(a: str, b) -> str:
    return f"({a} != null and {a} > {b})"


def _ge(a: str, b) -> str:
    return f"({a} != null and {a} >= {b})"


def _ticks(level: str) -> str:
    return f"$abs({level} - close) / 0.25"


_SCORE = "(0.20*pa_vote + 0.25*flow_vote + 0.15*profile_vote + 0.20*mq_vote + 0.10*dom_vote)"
_THRESH = f"({_lt('vix', 15)} ? 0.25 : ({_lt('vix', 22)} ? 0.25 : 0.30))"    # max(0.25, ...) is a no-op here
_NEAREST_BS = "$min([$abs(b - close) for b in blind_spots]) / 0.25"
RULE_ENGINE_EXPRESSIONS = {
    "bn_long": f"{_SCORE} > {_THRESH}",
    "bn_short": f"{_SCORE} < -{_THRESH}",
    "blind_spot": f"blind_spots.length > 0 and {_NEAREST_BS} <= ({_ge('vix', 22)} ? 7.5 : 5)",
    "gamma_wall": f"gamma_wall_0dte != null and {_ticks('gamma_wall_0dte')} <= 3",
    "under_call_resistance": f"call_resistance != null and call_resistance >= close and {_ticks('call_resistance')} <= 10",
    "over_put_support": f"put_support != null and put_support <= close and {_ticks('put_support')} <= 10",
    "near_hvl": f"hvl != null and {_ticks('hvl')} <= 10",
    "dealers_bias_long": _lt("dealers_bias", -0.15),
    "dealers_bias_short": _gt("dealers_bias", 0.15),
    "cash_open": f"{_ge('minutes_since_open', 0)} and minutes_since_open < 10",
    "wide_spread": _gt("spread", 2),
    "extreme_vix": _ge("vix", 35),
    "stale_levels": f"not (levels_age_min != null and levels_age_min <= "
                    f"({_ge('vix', 22)} ? 5 : ({_ge('vix', 15)} ? 15 : 30))) "
                    f"or (vix_move_since_levels != null and $abs(vix_move_since_levels) >= 2)",
    "smart_money_long": _lt("large_net_flow", -0.10),
    "smart_money_short": _gt("large_net_flow", 0.10),
}
#: default hard rules rule-engine cannot express (history), left out of its comparison
RULE_ENGINE_LEFT_OUT = ("delta_divergence_long", "delta_divergence_short")

#: inputs that are price levels: drawn near close (blind spots, gamma levels)
_LEVELS = ("gamma_wall_0dte", "call_resistance", "put_support", "hvl")


def make_data(inputs: list[str], n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.empty((n, len(inputs)))
    close = 5000 + np.cumsum(rng.integers(-2, 3, size=n)) * 0.25
    for j, name in enumerate(inputs):
        if name == "close":
            col = close
        elif name.startswith("blind_spot_") or name in _LEVELS:
            col = close + rng.integers(-80, 81, size=n) * 0.25
            col[rng.random(n) < 0.3] = np.nan
        elif name == "dealers_bias":
            col = rng.uniform(-0.6, 0.6, size=n)
        elif name == "vix_move_since_levels":
            col = rng.uniform(-3, 3, size=n)
            col[rng.random(n) < 0.05] = np.nan
        elif name == "large_net_flow":
            col = rng.uniform(-0.3, 0.3, size=n)
        elif name == "gamma_phase":
            col = rng.integers(0, 5, size=n).astype(float)
        elif name == "cum_delta":
            col = np.cumsum(rng.integers(-50, 51, size=n)).astype(float)
        elif name.endswith("_vote"):
            col = rng.integers(-1, 2, size=n).astype(float)
        elif name == "vix":
            col = rng.uniform(12, 40, size=n)
            col[rng.random(n) < 0.01] = np.nan
        elif name == "spread":
            col = rng.choice([1.0, 1.0, 1.0, 2.0, 3.0], size=n)
        elif name == "minutes_since_open":
            col = rng.integers(-30, 390, size=n).astype(float)
        elif name == "levels_age_min":
            col = rng.uniform(0, 40, size=n)
            col[rng.random(n) < 0.02] = np.nan
        else:
            col = rng.normal(size=n)
        X[:, j] = col
    return X


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rule_engine_per_row(compiled, X: np.ndarray) -> tuple[float, int, int]:
    """Seconds per row for rule-engine to match the translated rules; how many of its verdicts
    differ from the kernel's on the same rows (expected 0, exact score == threshold ties
    included); and how many rows are such ties. Only the matching is timed."""
    import rule_engine

    ctx = rule_engine.Context(default_value=None)
    rules = [rule_engine.Rule(text, context=ctx) for text in RULE_ENGINE_EXPRESSIONS.values()]
    names = compiled.inputs
    bs = [j for j, n in enumerate(names) if n.startswith("blind_spot_")]
    rows = []
    for r in X:
        d = {n: (None if v != v else float(v)) for n, v in zip(names, r)}
        d["blind_spots"] = [float(r[j]) for j in bs if r[j] == r[j]]
        rows.append(d)
    got = np.empty((len(rows), len(rules)), dtype=bool)
    t0 = time.perf_counter()
    for i, d in enumerate(rows):
        for k, rule in enumerate(rules):
            got[i, k] = rule.matches(d)
    elapsed = time.perf_counter() - t0
    idx = compiled.program.output_index
    out = compiled.batch(X)
    want = out[:, [idx[name] for name in RULE_ENGINE_EXPRESSIONS]] != 0.0
    # rule-engine computes in Decimal, mia in float64 with its tie tolerance: at an exact tie
    # score == +-threshold (0.2 + 0.05 vs 0.25, say) they must agree too
    diff = got != want
    score, thresh = out[:, idx["bn_score"]], out[:, idx["signal_threshold"]]
    ties = int(((np.abs(score - thresh) < 1e-9) | (np.abs(score + thresh) < 1e-9)).sum())
    return elapsed / len(rows), int(diff.sum()), ties


def measure_batch(compiled, vec, n: int) -> dict:
    """Batch kernel vs the numpy evaluator on n rows (the data is freed on return)."""
    X = make_data(compiled.inputs, n)
    # the numpy baseline gets contiguous columns (its natural layout, its best case); the kernel
    # the row-major matrix it takes
    columns = {name: np.ascontiguousarray(X[:, j]) for j, name in enumerate(compiled.inputs)}
    compiled.batch(X[:100])
    big = n > 1_000_000
    t_kernel = timed(lambda: compiled.batch(X), 3 if big else 5)
    # the same kernel writing into a preallocated output (no page faults on a fresh matrix)
    OUT = np.zeros((n, len(compiled.outputs)))
    t_prealloc = timed(lambda: compiled.module.batch(X, compiled.params, compiled.new_state(), OUT),
                       3 if big else 5)
    OUT = None
    t_numpy = timed(lambda: vec.run(columns), 1 if big else 3)
    t_numpy_matrix = timed(lambda: vec.run(X), 1 if big else 3)
    return {"rows": n, "kernel_s": t_kernel, "kernel_prealloc_s": t_prealloc,
            "numpy_s": t_numpy, "numpy_matrix_s": t_numpy_matrix,
            "batch_rows_per_s": n / t_kernel, "ratio_vs_numpy": t_numpy / t_kernel,
            "ratio_vs_numpy_matrix": t_numpy_matrix / t_kernel}


def stream_dispatch_floor(x, P, S, out, n: int) -> float:
    """Median ns of calling a no-op numba function with the stream kernel's signature: the cost
    of numba's dispatch and argument unboxing, which no generated code can remove."""
    from numba import njit

    @njit("void(float64[::1], float64[::1], float64[::1], float64[::1])")
    def noop(x, P, S, out):
        pass

    lat = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        noop(x, P, S, out)
        lat.append(time.perf_counter_ns() - t0)
    lat.sort()
    return lat[len(lat) // 2]


COMPILE_SNIPPET = """
import time, json
t0 = time.perf_counter()
import numba, numpy  # noqa
from mia.dsl import load_rules, compile_rules
t1 = time.perf_counter()
c = compile_rules(load_rules([{rules!r}]))
t2 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "compile_s": t2 - t1}}))
"""


def compile_times() -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MIA_CACHE_DIR=cache)
        code = COMPILE_SNIPPET.format(rules=str(RULES[0]))
        runs = [json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                          text=True, check=True).stdout) for _ in range(4)]
    return {"compile_cold_s": runs[0]["compile_s"], "compile_warm_s": min(r["compile_s"] for r in runs[1:]),
            "import_s": statistics.median(r["import_s"] for r in runs)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--quick", action="store_true", help="100k rows, small subsets")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    if args.quick:
        args.rows = [100_000]
    compiled = compile_rules(load_rules(RULES))
    vec = VectorizedEvaluator(compiled.program)
    results = [measure_batch(compiled, vec, n) for n in args.rows]
    kernel_per_row = results[0]["kernel_s"] / results[0]["rows"]
    sub = make_data(compiled.inputs, 2_000 if args.quick else 20_000, seed=1)
    ref = ReferenceEvaluator(build_program(compiled.ruleset))
    names = compiled.inputs
    t0 = time.perf_counter()
    for r in sub:
        ref.step(dict(zip(names, r.tolist())))
    python_per_row = (time.perf_counter() - t0) / len(sub)
    re_per_row, re_mismatches, re_tie_rows = rule_engine_per_row(compiled, sub[: 1_000 if args.quick else 5_000])
    # streaming: one event at a time through the compiled kernel
    x = sub[0].copy()
    state, out = compiled.new_state(), np.empty(len(compiled.outputs))
    stream = compiled.stream
    for r in sub[:100]:                       # warm-up
        x[:] = r
        stream(x, state, out)
    state = compiled.new_state()
    lat = []
    for r in sub:
        x[:] = r
        t0 = time.perf_counter_ns()
        stream(x, state, out)
        lat.append(time.perf_counter_ns() - t0)
    lat.sort()
    floor = stream_dispatch_floor(x, compiled.params, state, out, len(sub))
    summary = {
        "batch_rows_per_s": round(results[-1]["batch_rows_per_s"]),
        "ratio_vs_numpy": round(statistics.median(r["ratio_vs_numpy"] for r in results), 2),
        "ratio_vs_python": round(python_per_row / kernel_per_row, 1),
        "ratio_vs_rule_engine": round(re_per_row / kernel_per_row, 1),
        "stream_median_us": round(lat[len(lat) // 2] / 1000, 3),
        "stream_p99_us": round(lat[int(len(lat) * 0.99)] / 1000, 3),
        "stream_noop_median_us": round(floor / 1000, 3),
        **{k: round(v, 3) for k, v in compile_times().items()},
        "rows": args.rows,
        "python_us_per_row": round(python_per_row * 1e6, 2),
        "rule_engine_us_per_row": round(re_per_row * 1e6, 2),
        "rule_engine_rules": list(RULE_ENGINE_EXPRESSIONS),
        "rule_engine_left_out": list(RULE_ENGINE_LEFT_OUT),
        "rule_engine_mismatches": re_mismatches,
        "rule_engine_tie_rows": re_tie_rows,
        "runs": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in results],
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="default rules: numba kernels vs baselines (same process)")
    table.add_column("rows", justify="right")
    table.add_column("kernel s", justify="right")
    table.add_column("rows/s", justify="right")
    table.add_column("prealloc s", justify="right")
    table.add_column("numpy s", justify="right")
    table.add_column("x numpy", justify="right")
    table.add_column("np matrix s", justify="right")
    table.add_column("x matrix", justify="right")
    for r in results:
        table.add_row(f"{r['rows']:,}", f"{r['kernel_s']:.3f}", f"{r['batch_rows_per_s']:,.0f}",
                      f"{r['kernel_prealloc_s']:.3f}", f"{r['numpy_s']:.3f}", f"{r['ratio_vs_numpy']:.2f}",
                      f"{r['numpy_matrix_s']:.3f}", f"{r['ratio_vs_numpy_matrix']:.2f}")
    console = Console(width=max(Console().width, 100))
    console.print(table)
    console.print("prealloc: the batch kernel into a preallocated output; numpy: the evaluator on contiguous "
                  "columns (x numpy = ratio_vs_numpy); np matrix: on the kernel's row-major matrix")
    for key in ("ratio_vs_python", "ratio_vs_rule_engine", "python_us_per_row", "rule_engine_us_per_row",
                "rule_engine_mismatches", "rule_engine_tie_rows", "stream_median_us", "stream_p99_us",
                "stream_noop_median_us", "compile_cold_s",
                "compile_warm_s", "import_s"):
        console.print(f"{key:>24}: {summary[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
