"""A numpy evaluator of the checked AST: whole columns per node. The benchmark's numpy baseline.

It lives with the benchmark (``bench/bench_rules.py``), not in the package: mia never runs it;
``tests/dsl/test_vectorized.py`` checks it computes what the kernels compute.

Same semantics as the kernels (see ``codegen``): NaN propagates through arithmetic, comparisons
with NaN are false, numbers within the tie tolerance compare equal (``near``), windows are NaN until full or while they hold a NaN, division is IEEE.
``ema`` is inherently sequential and runs as a Python loop over the column. Stateless subtrees
are computed once (cached by structure), as the kernels do; stateful ones (history, windows,
crosses) are computed per occurrence. Each ``run`` starts from a fresh state (like ``batch``
without a state argument). Params come from ``params`` (default: the program's values).

Input: a dict of columns (input name -> 1-d array, every input of ``program.inputs``), the natural
numpy layout, or the kernels' n x len(inputs) matrix. Level functions stack the set's member
columns and take an argmin with NaN mapped to inf (``np.nanargmin`` raises on an all-NaN row);
ties go to the first member, as in the kernels.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mia.dsl import ast
from mia.dsl.codegen import stateless_key
from mia.dsl.functions import Implementations
from mia.dsl.program import Program
from mia.dsl.visit import Visitor

#: function name -> implementation(evaluator, call node) -> column
CALLS = Implementations("numpy baseline")


def _shift(a: np.ndarray, n: int, fill) -> np.ndarray:
    out = np.empty_like(a)
    out[:n] = fill
    out[n:] = a[:-n] if n else a
    return out


class VectorizedEvaluator(Visitor):
    def __init__(self, program: Program, params: np.ndarray | None = None):
        self.p = program
        self.params = program.params if params is None else np.asarray(params, dtype=np.float64)
        self.tick = float(program.ruleset.tick_size)

    def run(self, columns: Mapping[str, np.ndarray] | np.ndarray) -> np.ndarray:
        """Every output for every row: the n x len(outputs) matrix, in the kernels' column order.

        ``columns``: input name -> 1-d array (all of ``program.inputs``, same length), or an
        n x len(inputs) matrix in ``program.inputs`` order.
        """
        inputs = self.p.inputs
        if isinstance(columns, Mapping):
            missing = [name for name in inputs if name not in columns]
            if missing:
                raise ValueError(f"missing input columns: {', '.join(missing)}")
            cols = [np.asarray(columns[name], dtype=np.float64) for name in inputs]
            lengths = {c.shape for c in cols}
            if len(lengths) > 1 or (cols and cols[0].ndim != 1):
                raise ValueError(f"input columns must be 1-d and of one length, got shapes {sorted(lengths)}")
            n = cols[0].shape[0] if cols else 0
        else:
            X = np.asarray(columns, dtype=np.float64)
            if X.ndim != 2 or X.shape[1] != len(inputs):
                raise ValueError(f"expected a matrix with {len(inputs)} columns, got shape {X.shape}")
            cols = [X[:, j] for j in range(X.shape[1])]
            n = X.shape[0]
        self.cols = cols
        self.n = n
        self.cache: dict[str, np.ndarray] = {}
        self.features: dict[str, np.ndarray] = {}
        out = np.empty((n, len(self.p.outputs)))
        try:
            with np.errstate(all="ignore"):
                for k, o in enumerate(self.p.outputs):
                    v = self.eval(o.node)
                    if o.kind == "feature":
                        self.features[o.name] = v
                    out[:, k] = v
        finally:
            del self.cols, self.cache, self.features
        return out

    def col(self, name: str) -> np.ndarray:
        return self.cols[self.p.input_index[name]]

    def levels(self, node: ast.Call) -> tuple[np.ndarray, np.ndarray]:
        """The members of the call's level set (n x members) and close as a column."""
        lo, hi = self.p.sets[node.args[0].id]
        L = np.column_stack(self.cols[lo:hi]) if hi > lo else np.empty((self.n, 0))
        return L, self.col("close")[:, None]

    def eval(self, node: ast.Node) -> np.ndarray:
        key = stateless_key(node)
        if key is not None and key in self.cache:
            return self.cache[key]
        v = self.visit(node)
        if key is not None:
            self.cache[key] = v
        return v

    def visit_Num(self, node: ast.Num) -> np.ndarray:
        return np.full(self.n, float(node.value))

    def visit_Time(self, node: ast.Time) -> np.ndarray:
        return np.full(self.n, float(node.minutes))

    def visit_Bool(self, node: ast.Bool) -> np.ndarray:
        return np.full(self.n, bool(node.value))

    def visit_Name(self, node: ast.Name) -> np.ndarray:
        if node.ref == "feature":
            return self.features[node.id]
        if node.ref == "param":
            return np.full(self.n, float(self.params[self.p.param_index[node.id]]))
        col = self.col(node.id)
        return col >= 0.5 if node.ty.kind == "bool" else col

    def visit_Unary(self, node: ast.Unary) -> np.ndarray:
        v = self.eval(node.operand)
        return ~v if node.op == "not" else -v

    def visit_Binary(self, node: ast.Binary) -> np.ndarray:
        a, b = self.eval(node.left), self.eval(node.right)
        op = node.op
        if op in ast.COMPARISONS and a.dtype != bool:
            return compare(op, a, b)
        return _BINARY[op](a, b)

    def visit_History(self, node: ast.History) -> np.ndarray:
        v = self.eval(node.operand)
        if node.n == 0:
            return v
        return _shift(v, node.n, False if v.dtype == bool else np.nan)

    def visit_Call(self, node: ast.Call) -> np.ndarray:
        return CALLS.of(node.fn)(self, node)

    def args(self, node: ast.Call) -> list[np.ndarray]:
        return [self.eval(a) for a in node.args]


#: numbers closer than this, relative to the larger magnitude (absolute below 1), are equal
TIE_TOLERANCE = 1e-9


def near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal for the language: the same number, or finite and within the tie tolerance."""
    d = np.abs(a - b)
    return (a == b) | ((d < np.inf) & (d <= TIE_TOLERANCE * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))))


def compare(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a op b`` elementwise: NaN compares false, ties within the tolerance are equal."""
    with np.errstate(invalid="ignore"):
        eq = near(a, b)
        if op == "<":
            return (a < b) & ~eq
        if op == "<=":
            return (a <= b) | eq
        if op == ">":
            return (a > b) & ~eq
        if op == ">=":
            return (a >= b) | eq
        if op == "==":
            return eq
        return ~eq & (a == a) & (b == b)


_BINARY = {"and": np.bitwise_and, "or": np.bitwise_or, "+": np.add, "-": np.subtract, "*": np.multiply,
           "/": np.divide, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
           "==": np.equal, "!=": np.not_equal}


# ---- the functions (one per registry entry) ------------------------------------------------------

@CALLS.register("sma", "highest", "lowest")
def _window(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    v = ev.eval(node.args[0])
    w, n = node.window, ev.n
    out = np.full(n, np.nan)
    if n >= w:
        win = sliding_window_view(v, w)
        if node.fn == "sma":
            acc = np.zeros(win.shape[0])
            for k in range(w):       # oldest to newest, as the kernels add
                acc += win[:, k]
            out[w - 1:] = acc / float(w)
        else:
            out[w - 1:] = win.max(axis=1) if node.fn == "highest" else win.min(axis=1)
    return out


@CALLS.register("ema")
def _ema(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    v = ev.eval(node.args[0])
    alpha = 2.0 / (node.window + 1)
    out = np.empty(ev.n)
    e = np.nan
    for i, x in enumerate(v.tolist()):
        if x == x:
            e = x if e != e else e + alpha * (x - e)
        out[i] = e
    return out


@CALLS.register("nearest")
def _nearest(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    L, close = ev.levels(node)
    n = ev.n
    d = np.abs(L - close)
    d = np.where(np.isnan(d), np.inf, d)     # NaN level or close: never nearest
    if L.shape[1] == 0:
        return np.full(n, np.nan)
    j = np.argmin(d, axis=1)                 # first of equally near members
    rows = np.arange(n)
    # a level counts only when strictly nearer than inf, as in the kernels
    return np.where(d[rows, j] < np.inf, L[rows, j], np.nan)


@CALLS.register("above", "below")
def _above_below(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    L, close = ev.levels(node)
    above = node.fn == "above"
    side = L > close if above else L < close   # NaN compares false
    cand = np.where(side, L, np.inf if above else -np.inf)
    r = cand.min(axis=1, initial=np.inf) if above else cand.max(axis=1, initial=-np.inf)
    return np.where(side.any(axis=1), r, np.nan)


@CALLS.register("crosses_above", "crosses_below")
def _crosses(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    a, b = ev.args(node)
    pa, pb = _shift(a, 1, np.nan), _shift(b, 1, np.nan)
    if node.fn == "crosses_above":
        return compare(">", a, b) & compare("<=", pa, pb)
    return compare("<", a, b) & compare(">=", pa, pb)


@CALLS.register("abs")
def _abs(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    return np.abs(ev.args(node)[0])


@CALLS.register("min", "max")
def _min_max(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    return (np.minimum if node.fn == "min" else np.maximum).reduce(ev.args(node))


@CALLS.register("clamp")
def _clamp(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    x, lo, hi = ev.args(node)
    return np.minimum(np.maximum(x, lo), hi)


@CALLS.register("between")
def _between(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    x, lo, hi = ev.args(node)
    return compare("<=", lo, x) & compare("<=", x, hi)


@CALLS.register("if")
def _if(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    cond, a, b = ev.args(node)
    return np.where(cond, a, b)


@CALLS.register("ticks_to")
def _ticks_to(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    return np.abs(ev.args(node)[0] - ev.col("close")) / ev.tick


@CALLS.register("to_ticks")
def _to_ticks(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    return ev.args(node)[0] / ev.tick


@CALLS.register("to_points")
def _to_points(ev: VectorizedEvaluator, node: ast.Call) -> np.ndarray:
    return ev.args(node)[0] * ev.tick
