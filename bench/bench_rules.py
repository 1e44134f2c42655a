"""Benchmark: the default rule set's numba kernels vs hand-written numpy and Python, and others.

Measured in one process on the same plausible random feature data (``bench/baselines/data.py``),
every timing the median of at least 3 runs, with min and max:

- the batch kernel (rows/s), fresh output and into a preallocated one (``kernel_prealloc_s``: no
  page faults of a fresh output matrix);
- the strongest baselines: the default rules written by hand in numpy (``bench/baselines/
  hand_numpy.py``: scalars broadcast, outputs written in place, on contiguous columns) and as a
  plain-Python function per row (``hand_python.py``, on a subset, rows as lists of floats; the
  conversion is not timed): ``ratio_vs_numpy_hand``, ``ratio_vs_python_hand``. Both compute every
  output the kernel does, equal on every row (``tests/bench/test_hand_baselines.py``);
- the memory-bandwidth bound: the time to read the input matrix (``X.sum()``) plus the time to
  write an output matrix of the kernel's size (``fill``) in place: ``ratio_vs_bandwidth`` is
  ``kernel_prealloc_s`` over that, 1.0 being the bound;
- generic evaluators, labelled as such: the numpy evaluator of the AST (``bench/baselines/
  vectorized.py``, ``np.full`` per constant, a temporary per node; ``ratio_vs_numpy_generic``, on
  contiguous columns, and ``ratio_vs_numpy_generic_matrix`` on the kernel's row-major matrix), the
  plain-Python reference evaluator (``tests/oracles/reference.py``) fed a dict per row
  (``ratio_vs_python_reference``), and the PyPI ``rule-engine`` library evaluating the same signals
  and hard rules written in its syntax per row (``ratio_vs_rule_engine``, on a subset);
- the streaming kernel per event (median and p99), and compilation cold and warm, each in a fresh
  process.

rule-engine's verdicts are checked against the kernel's on the same rows (``rule_engine_mismatches``,
expected 0, the exact score == threshold ties its Decimal arithmetic gets right included: mia's
tie tolerance agrees with it; ``rule_engine_tie_rows`` says how many rows were such ties).
``stream_noop_median_us`` is a no-op numba function with the stream kernel's signature (numba's
dispatch floor). ``numba_num_threads`` and ``loadavg`` (1, 5, 15 min, at the start and the end)
say what the machine was doing. Prints a table; ``--json`` prints one JSON object.
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
from baselines import hand_numpy, hand_python  # noqa: E402
from baselines.data import make_data  # noqa: E402
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

def timed(fn, repeat: int = 3) -> dict:
    """Seconds of ``fn()``: median, min and max of ``repeat`` (at least 3) runs."""
    times = []
    for _ in range(max(3, repeat)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


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
    """Batch kernel vs the numpy baselines and the bandwidth bound on n rows (the data is freed
    on return). Each ``*_s`` is {median, min, max} seconds."""
    X = make_data(compiled.inputs, n)
    # numpy gets contiguous columns (its natural layout, its best case: a column-major copy of the
    # matrix); the kernel the row-major matrix it takes
    XF = np.asfortranarray(X)
    columns = {name: XF[:, j] for j, name in enumerate(compiled.inputs)}
    compiled.batch(X[:100])
    big = n > 1_000_000
    t_kernel = timed(lambda: compiled.batch(X), 3 if big else 5)
    # the same kernel writing into a preallocated output (no page faults on a fresh matrix)
    OUT = np.zeros((n, len(compiled.outputs)))
    t_prealloc = timed(lambda: compiled.module.batch(X, compiled.params, compiled.new_state(), OUT),
                       3 if big else 5)
    # the bandwidth bound: read the bytes the kernel reads, write the bytes it writes
    t_read = timed(lambda: X.sum(), 5)
    t_write = timed(lambda: OUT.fill(0.0), 5)
    OUT = None
    OUTF = np.zeros((n, len(compiled.outputs)), order="F")
    t_hand = timed(lambda: hand_numpy.run(XF, OUTF), 3 if big else 5)
    OUTF = None
    t_numpy = timed(lambda: vec.run(columns))
    t_numpy_matrix = timed(lambda: vec.run(X))
    kernel = t_kernel["median"]
    bound = t_read["median"] + t_write["median"]
    return {"rows": n, "kernel_s": t_kernel, "kernel_prealloc_s": t_prealloc,
            "bandwidth_read_s": t_read, "bandwidth_write_s": t_write,
            "numpy_hand_s": t_hand, "numpy_generic_s": t_numpy, "numpy_generic_matrix_s": t_numpy_matrix,
            "batch_rows_per_s": n / kernel,
            "read_gb_per_s": X.nbytes / t_read["median"] / 1e9,
            "write_gb_per_s": n * len(compiled.outputs) * 8 / t_write["median"] / 1e9,
            "ratio_vs_bandwidth": t_prealloc["median"] / bound,
            # both into a preallocated output
            "ratio_vs_numpy_hand": t_hand["median"] / t_prealloc["median"],
            "ratio_vs_numpy_generic": t_numpy["median"] / kernel,
            "ratio_vs_numpy_generic_matrix": t_numpy_matrix["median"] / kernel}


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


def _r(t: dict, digits: int = 4) -> dict:
    return {k: round(v, digits) for k, v in t.items()}


def python_baselines(compiled, sub: np.ndarray) -> dict:
    """Seconds per row ({median, min, max}) of the hand-written Python function and of the
    reference evaluator fed a dict per row, on the rows of ``sub``."""
    names = compiled.inputs
    rows = sub.tolist()
    n = len(rows)
    hand = timed(lambda: hand_python.run(rows))
    ref_program = build_program(compiled.ruleset)

    def reference():
        ref = ReferenceEvaluator(ref_program)
        for r in rows:
            ref.step(dict(zip(names, r)))
    ref = timed(reference)
    return {"python_hand": {k: v / n for k, v in hand.items()},
            "python_reference": {k: v / n for k, v in ref.items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--quick", action="store_true", help="100k rows, small subsets")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    if args.quick:
        args.rows = [100_000]
    load_start = [round(v, 2) for v in os.getloadavg()]
    compiled = compile_rules(load_rules(RULES))
    vec = VectorizedEvaluator(compiled.program)
    results = [measure_batch(compiled, vec, n) for n in args.rows]
    first = results[0]
    kernel_per_row = first["kernel_s"]["median"] / first["rows"]
    sub = make_data(compiled.inputs, 2_000 if args.quick else 20_000, seed=1)
    py = python_baselines(compiled, sub)
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
    last = results[-1]
    summary = {
        "batch_rows_per_s": round(last["batch_rows_per_s"]),
        "ratio_vs_numpy_hand": round(statistics.median(r["ratio_vs_numpy_hand"] for r in results), 2),
        "ratio_vs_python_hand": round(py["python_hand"]["median"] / kernel_per_row, 1),
        "ratio_vs_bandwidth": round(statistics.median(r["ratio_vs_bandwidth"] for r in results), 2),
        "ratio_vs_numpy_generic": round(statistics.median(r["ratio_vs_numpy_generic"] for r in results), 2),
        "ratio_vs_numpy_generic_matrix": round(statistics.median(r["ratio_vs_numpy_generic_matrix"]
                                                                 for r in results), 2),
        "ratio_vs_python_reference": round(py["python_reference"]["median"] / kernel_per_row, 1),
        "ratio_vs_rule_engine": round(re_per_row / kernel_per_row, 1),
        "stream_median_us": round(lat[len(lat) // 2] / 1000, 3),
        "stream_p99_us": round(lat[int(len(lat) * 0.99)] / 1000, 3),
        "stream_noop_median_us": round(floor / 1000, 3),
        **{k: round(v, 3) for k, v in compile_times().items()},
        "rows": args.rows,
        "kernel_us_per_row": round(kernel_per_row * 1e6, 4),
        "python_hand_us_per_row": _r({k: v * 1e6 for k, v in py["python_hand"].items()}, 3),
        "python_reference_us_per_row": _r({k: v * 1e6 for k, v in py["python_reference"].items()}, 2),
        "python_rows": len(sub),
        "rule_engine_us_per_row": round(re_per_row * 1e6, 2),
        "rule_engine_rules": list(RULE_ENGINE_EXPRESSIONS),
        "rule_engine_left_out": list(RULE_ENGINE_LEFT_OUT),
        "rule_engine_mismatches": re_mismatches,
        "rule_engine_tie_rows": re_tie_rows,
        "numba_num_threads": int(os.environ.get("NUMBA_NUM_THREADS", "0")) or None,
        "cpu_count": os.cpu_count(),
        "loadavg_start": load_start,
        "loadavg_end": [round(v, 2) for v in os.getloadavg()],
        "runs": [{k: (_r(v) if isinstance(v, dict) else round(v, 4) if isinstance(v, float) else v)
                  for k, v in r.items()} for r in results],
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    from rich.console import Console
    from rich.table import Table

    def mmm(t: dict) -> str:
        return f"{t['median']:.3f} [{t['min']:.3f}-{t['max']:.3f}]"

    table = Table(title="default rules: numba kernels vs baselines (same process; s: median [min-max] of >= 3)")
    for col in ("rows", "kernel s", "prealloc s", "bandwidth s", "x bw", "hand numpy s", "x hand",
                "generic numpy s", "x generic"):
        table.add_column(col, justify="right")
    for r in results:
        bw = r["bandwidth_read_s"]["median"] + r["bandwidth_write_s"]["median"]
        table.add_row(f"{r['rows']:,}", mmm(r["kernel_s"]), mmm(r["kernel_prealloc_s"]), f"{bw:.3f}",
                      f"{r['ratio_vs_bandwidth']:.2f}", mmm(r["numpy_hand_s"]), f"{r['ratio_vs_numpy_hand']:.2f}",
                      mmm(r["numpy_generic_s"]), f"{r['ratio_vs_numpy_generic']:.2f}")
    console = Console(width=max(Console().width, 140))
    console.print(table)
    console.print("prealloc: the batch kernel into a preallocated output; bandwidth: read the input matrix + "
                  "write an output matrix (x bw = prealloc / bandwidth); hand numpy: the rules written by hand, "
                  "into a preallocated output (x hand = hand / prealloc); generic numpy: the AST evaluator "
                  "on contiguous columns (x generic = generic / kernel)")
    for key in ("ratio_vs_python_hand", "python_hand_us_per_row", "ratio_vs_python_reference",
                "python_reference_us_per_row", "ratio_vs_numpy_generic_matrix", "ratio_vs_rule_engine",
                "rule_engine_us_per_row", "rule_engine_mismatches", "rule_engine_tie_rows", "stream_median_us",
                "stream_p99_us", "stream_noop_median_us", "compile_cold_s", "compile_warm_s", "import_s",
                "numba_num_threads", "cpu_count", "loadavg_start", "loadavg_end"):
        console.print(f"{key:>30}: {summary[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
