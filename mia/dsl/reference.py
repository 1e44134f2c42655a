"""The plain-Python reference evaluator: the oracle the numba kernels are tested against.

It walks the checked AST row by row with its own state per node and shares no evaluation code
with ``codegen``; only the layout (which outputs, in which order) comes from ``program``.
The semantics are the ones ``codegen``'s docstring states.
"""
from __future__ import annotations

import math
from collections import deque

from mia.dsl import ast
from mia.dsl.program import Program

NAN = math.nan


def _isnan(v: float) -> bool:
    return v != v


def _div(a: float, b: float) -> float:
    if b == 0.0:
        if _isnan(a) or a == 0.0:
            return NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


class ReferenceEvaluator:
    def __init__(self, program: Program):
        self.p = program
        self.tick = float(program.ruleset.tick_size)
        self.params = {n: float(v) for n, v in zip(program.param_names, program.params)}
        self.state: dict[int, object] = {}

    def step(self, row: dict[str, float]) -> list[float | bool]:
        """Evaluate every output for one row (input name -> value; NaN or absent = missing)."""
        self.row = row
        self.values: dict[int, object] = {}
        self.features: dict[str, object] = {}
        out = []
        for o in self.p.outputs:
            v = self.eval(o.node)
            if o.kind == "feature":
                self.features[o.name] = v
            out.append(v)
        return out

    def run(self, rows) -> list[list[float | bool]]:
        return [self.step(r) for r in rows]

    def _in(self, name: str) -> float:
        v = self.row.get(name, NAN)
        return NAN if v is None else float(v)

    def eval(self, node: ast.Node):
        key = id(node)
        if key in self.values:     # a node shared by an output and a probe is evaluated once
            return self.values[key]
        v = self._eval(node)
        self.values[key] = v
        return v

    def _eval(self, node: ast.Node):
        if isinstance(node, ast.Num):
            return float(node.value)
        if isinstance(node, ast.Time):
            return float(node.minutes)
        if isinstance(node, ast.Bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.ref == "feature":
                return self.features[node.id]
            if node.ref == "param":
                return self.params[node.id]
            v = self._in(node.id)
            return v >= 0.5 if node.ty.kind == "bool" else v
        if isinstance(node, ast.Unary):
            v = self.eval(node.operand)
            return (not v) if node.op == "not" else -v
        if isinstance(node, ast.Binary):
            return self._binary(node)
        if isinstance(node, ast.History):
            return self._history(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise AssertionError(type(node))

    def _binary(self, node: ast.Binary):
        a, b = self.eval(node.left), self.eval(node.right)
        op = node.op
        if op == "and":
            return bool(a and b)
        if op == "or":
            return bool(a or b)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return _div(a, b)
        if isinstance(a, bool):     # == or != between conditions
            return (a == b) if op == "==" else (a != b)
        if _isnan(a) or _isnan(b):
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]

    def _history(self, node: ast.History):
        v = self.eval(node.operand)
        if node.n == 0:
            return v
        buf = self.state.setdefault(id(node), deque([None] * node.n, maxlen=node.n))
        old = buf[0]
        buf.append(v)
        if node.ty.kind == "bool":
            return bool(old) if old is not None else False
        return NAN if old is None else old

    def _window(self, node: ast.Call) -> list[float] | None:
        v = self.eval(node.args[0])
        buf = self.state.setdefault(id(node), deque(maxlen=node.window))
        buf.append(v)
        return list(buf) if len(buf) == node.window else None

    def _levels(self, node: ast.Call) -> list[float]:
        members = self.p.inputs[slice(*self.p.sets[node.args[0].id])]
        return [self._in(m) for m in members]

    def _call(self, node: ast.Call):
        fn = node.fn
        if fn == "sma":
            w = self._window(node)
            if w is None:
                return NAN
            total = 0.0
            for v in w:
                total += v
            return total / float(node.window)
        if fn in ("highest", "lowest"):
            w = self._window(node)
            if w is None or any(_isnan(v) for v in w):
                return NAN
            return max(w) if fn == "highest" else min(w)
        if fn == "ema":
            v = self.eval(node.args[0])
            alpha = 2.0 / (node.window + 1)
            e = self.state.get(id(node), NAN)
            if not _isnan(v):
                e = v if _isnan(e) else e + alpha * (v - e)
            self.state[id(node)] = e
            return e
        if fn in ("nearest", "above", "below"):
            close = self._in("close")
            present = [lv for lv in self._levels(node) if not _isnan(lv)]
            if fn == "nearest":
                if _isnan(close) or not present:
                    return NAN
                best = present[0]
                for lv in present[1:]:           # the first of equally near levels wins
                    if abs(lv - close) < abs(best - close):
                        best = lv
                return best
            if fn == "above":
                cands = [lv for lv in present if lv > close]
                return min(cands) if cands else NAN
            cands = [lv for lv in present if lv < close]
            return max(cands) if cands else NAN
        if fn in ("crosses_above", "crosses_below"):
            a, b = self.eval(node.args[0]), self.eval(node.args[1])
            pa, pb = self.state.get(id(node), (NAN, NAN))
            self.state[id(node)] = (a, b)
            if fn == "crosses_above":
                return (not _isnan(a) and not _isnan(b) and a > b) and (not _isnan(pa) and not _isnan(pb) and pa <= pb)
            return (not _isnan(a) and not _isnan(b) and a < b) and (not _isnan(pa) and not _isnan(pb) and pa >= pb)
        vs = [self.eval(a) for a in node.args]
        if fn == "abs":
            return abs(vs[0])
        if fn in ("min", "max"):
            if any(_isnan(v) for v in vs):
                return NAN
            return min(vs) if fn == "min" else max(vs)
        if fn == "clamp":
            x, lo, hi = vs
            if _isnan(x) or _isnan(lo) or _isnan(hi):
                return NAN
            return min(max(x, lo), hi) if lo <= hi else hi
        if fn == "between":
            x, lo, hi = vs
            return (not any(_isnan(v) for v in vs)) and lo <= x <= hi
        if fn == "if":
            return vs[1] if vs[0] else vs[2]
        if fn == "ticks_to":
            return abs(vs[0] - self._in("close")) / self.tick
        if fn == "to_ticks":
            return vs[0] / self.tick
        if fn == "to_points":
            return vs[0] * self.tick
        raise AssertionError(fn)
