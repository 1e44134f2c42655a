"""A numpy evaluator of the checked AST: whole columns per node. The benchmark's numpy baseline.

Same semantics as the kernels (see ``codegen``): NaN propagates through arithmetic, comparisons
with NaN are false, windows are NaN until full or while they hold a NaN, division is IEEE.
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
from mia.dsl.codegen import _key
from mia.dsl.program import Program


def _shift(a: np.ndarray, n: int, fill) -> np.ndarray:
    out = np.empty_like(a)
    out[:n] = fill
    out[n:] = a[:-n] if n else a
    return out


class VectorizedEvaluator:
    def __init__(self, program: Program, params: np.ndarray | None = None):
        self.p = program
        self.params = program.params if params is None else np.asarray(params, dtype=np.float64)

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

    def _col(self, name: str) -> np.ndarray:
        return self.cols[self.p.input_index[name]]

    def eval(self, node: ast.Node) -> np.ndarray:
        key = _key(node)
        if key is not None and key in self.cache:
            return self.cache[key]
        v = self._eval(node)
        if key is not None:
            self.cache[key] = v
        return v

    def _eval(self, node):
        n = self.n
        if isinstance(node, ast.Num):
            return np.full(n, float(node.value))
        if isinstance(node, ast.Time):
            return np.full(n, float(node.minutes))
        if isinstance(node, ast.Bool):
            return np.full(n, bool(node.value))
        if isinstance(node, ast.Name):
            if node.ref == "feature":
                return self.features[node.id]
            if node.ref == "param":
                return np.full(n, float(self.params[self.p.param_index[node.id]]))
            col = self._col(node.id)
            return col >= 0.5 if node.ty.kind == "bool" else col
        if isinstance(node, ast.Unary):
            v = self.eval(node.operand)
            return ~v if node.op == "not" else -v
        if isinstance(node, ast.Binary):
            a, b = self.eval(node.left), self.eval(node.right)
            op = node.op
            if op == "and":
                return a & b
            if op == "or":
                return a | b
            if op == "!=" and a.dtype != bool:
                return (a != b) & (a == a) & (b == b)
            return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "<": np.less,
                    "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
                    "!=": np.not_equal}[op](a, b)
        if isinstance(node, ast.History):
            v = self.eval(node.operand)
            if node.n == 0:
                return v
            return _shift(v, node.n, False if v.dtype == bool else np.nan)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise AssertionError(type(node))

    def _call(self, node: ast.Call):
        fn, n = node.fn, self.n
        if fn in ("sma", "highest", "lowest"):
            v = self.eval(node.args[0])
            w = node.window
            out = np.full(n, np.nan)
            if n >= w:
                win = sliding_window_view(v, w)
                if fn == "sma":
                    acc = np.zeros(win.shape[0])
                    for k in range(w):       # oldest to newest, as the kernels add
                        acc += win[:, k]
                    out[w - 1:] = acc / float(w)
                else:
                    out[w - 1:] = win.max(axis=1) if fn == "highest" else win.min(axis=1)
            return out
        if fn == "ema":
            v = self.eval(node.args[0])
            alpha = 2.0 / (node.window + 1)
            out = np.empty(n)
            e = np.nan
            for i, x in enumerate(v.tolist()):
                if x == x:
                    e = x if e != e else e + alpha * (x - e)
                out[i] = e
            return out
        if fn in ("nearest", "above", "below"):
            lo, hi = self.p.sets[node.args[0].id]
            L = np.column_stack(self.cols[lo:hi]) if hi > lo else np.empty((n, 0))
            close = self._col("close")[:, None]
            if fn == "nearest":
                d = np.abs(L - close)
                d = np.where(np.isnan(d), np.inf, d)     # NaN level or close: never nearest
                if L.shape[1] == 0:
                    return np.full(n, np.nan)
                j = np.argmin(d, axis=1)                 # first of equally near members
                rows = np.arange(n)
                # a level counts only when strictly nearer than inf, as in the kernels
                return np.where(d[rows, j] < np.inf, L[rows, j], np.nan)
            side = L > close if fn == "above" else L < close   # NaN compares false
            cand = np.where(side, L, np.inf if fn == "above" else -np.inf)
            r = cand.min(axis=1, initial=np.inf) if fn == "above" else cand.max(axis=1, initial=-np.inf)
            return np.where(side.any(axis=1), r, np.nan)
        if fn in ("crosses_above", "crosses_below"):
            a, b = self.eval(node.args[0]), self.eval(node.args[1])
            pa, pb = _shift(a, 1, np.nan), _shift(b, 1, np.nan)
            return (a > b) & (pa <= pb) if fn == "crosses_above" else (a < b) & (pa >= pb)
        vs = [self.eval(a) for a in node.args]
        tick = float(self.p.ruleset.tick_size)
        if fn == "abs":
            return np.abs(vs[0])
        if fn in ("min", "max"):
            return (np.minimum if fn == "min" else np.maximum).reduce(vs)
        if fn == "clamp":
            x, lo, hi = vs
            return np.minimum(np.maximum(x, lo), hi)
        if fn == "between":
            return (vs[1] <= vs[0]) & (vs[0] <= vs[2])
        if fn == "if":
            return np.where(vs[0], vs[1], vs[2])
        if fn == "ticks_to":
            return np.abs(vs[0] - self._col("close")) / tick
        if fn == "to_ticks":
            return vs[0] / tick
        if fn == "to_points":
            return vs[0] * tick
        raise AssertionError(fn)
