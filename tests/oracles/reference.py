"""The plain-Python reference evaluator: the oracle the numba kernels are tested against.

It walks the checked AST row by row with its own state per node and shares no evaluation code
with ``codegen``: only the layout (which outputs, in which order) comes from ``program``, the
functions' metadata from ``functions`` and the dispatch from ``visit``. The semantics are the
ones ``codegen``'s docstring states. It lives with the tests (``tests/dsl`` put ``tests/`` on
``sys.path``; so does ``bench/``), not in the package: mia never runs it.
"""
from __future__ import annotations

import math
from collections import deque

from mia.dsl import ast
from mia.dsl.functions import Implementations
from mia.dsl.program import Program
from mia.dsl.visit import Visitor

NAN = math.nan

#: function name -> implementation(evaluator, call node) -> value
CALLS = Implementations("reference oracle")


def _isnan(v: float) -> bool:
    return v != v


#: numbers closer than this, relative to the larger magnitude (absolute below 1), are equal
TIE_TOLERANCE = 1e-9


def near(a: float, b: float) -> bool:
    """Equal for the language: the same number, or finite and within the tie tolerance."""
    if a == b:
        return True
    if _isnan(a) or _isnan(b) or math.isinf(a) or math.isinf(b):
        return False
    return abs(a - b) <= TIE_TOLERANCE * max(1.0, abs(a), abs(b))


def compare(op: str, a: float, b: float) -> bool:
    """``a op b`` for numbers: false with a missing value, ties within the tolerance equal."""
    if _isnan(a) or _isnan(b):
        return False
    if near(a, b):
        return op in ("<=", ">=", "==")
    return {"<": a < b, "<=": a < b, ">": a > b, ">=": a > b, "==": False, "!=": True}[op]


def _div(a: float, b: float) -> float:
    if b == 0.0:
        if _isnan(a) or a == 0.0:
            return NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


class ReferenceEvaluator(Visitor):
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

    def read(self, name: str) -> float:
        """The input ``name`` of the current row (NaN when missing)."""
        v = self.row.get(name, NAN)
        return NAN if v is None else float(v)

    def eval(self, node: ast.Node):
        key = id(node)
        if key in self.values:     # a node shared by an output and a probe is evaluated once
            return self.values[key]
        v = self.visit(node)
        self.values[key] = v
        return v

    def visit_Num(self, node: ast.Num) -> float:
        return float(node.value)

    def visit_Time(self, node: ast.Time) -> float:
        return float(node.minutes)

    def visit_Bool(self, node: ast.Bool) -> bool:
        return node.value

    def visit_Name(self, node: ast.Name):
        if node.ref == "feature":
            return self.features[node.id]
        if node.ref == "param":
            return self.params[node.id]
        v = self.read(node.id)
        return v >= 0.5 if node.ty.kind == "bool" else v

    def visit_Unary(self, node: ast.Unary):
        v = self.eval(node.operand)
        return (not v) if node.op == "not" else -v

    def visit_Binary(self, node: ast.Binary):
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
        return compare(op, a, b)

    def visit_History(self, node: ast.History):
        v = self.eval(node.operand)
        if node.n == 0:
            return v
        buf = self.state.setdefault(id(node), deque([None] * node.n, maxlen=node.n))
        old = buf[0]
        buf.append(v)
        if node.ty.kind == "bool":
            return bool(old) if old is not None else False
        return NAN if old is None else old

    def visit_Call(self, node: ast.Call):
        return CALLS.of(node.fn)(self, node)

    def args(self, node: ast.Call) -> list:
        return [self.eval(a) for a in node.args]

    def window(self, node: ast.Call) -> list[float] | None:
        """The last ``node.window`` values of the first argument, or None until there are that many."""
        v = self.eval(node.args[0])
        buf = self.state.setdefault(id(node), deque(maxlen=node.window))
        buf.append(v)
        return list(buf) if len(buf) == node.window else None

    def levels(self, node: ast.Call) -> list[float]:
        """The present (not NaN) members of the call's level set."""
        members = self.p.inputs[slice(*self.p.sets[node.args[0].id])]
        return [lv for lv in (self.read(m) for m in members) if not _isnan(lv)]


# ---- the functions (one per registry entry) ------------------------------------------------------

@CALLS.register("sma")
def _sma(ev: ReferenceEvaluator, node: ast.Call) -> float:
    w = ev.window(node)
    if w is None:
        return NAN
    total = 0.0
    for v in w:
        total += v
    return total / float(node.window)


@CALLS.register("highest", "lowest")
def _highest_lowest(ev: ReferenceEvaluator, node: ast.Call) -> float:
    w = ev.window(node)
    if w is None or any(_isnan(v) for v in w):
        return NAN
    return max(w) if node.fn == "highest" else min(w)


@CALLS.register("ema")
def _ema(ev: ReferenceEvaluator, node: ast.Call) -> float:
    v = ev.eval(node.args[0])
    alpha = 2.0 / (node.window + 1)
    e = ev.state.get(id(node), NAN)
    if not _isnan(v):
        e = v if _isnan(e) else e + alpha * (v - e)
    ev.state[id(node)] = e
    return e


@CALLS.register("nearest")
def _nearest(ev: ReferenceEvaluator, node: ast.Call) -> float:
    close = ev.read("close")
    best, dist = NAN, math.inf
    for lv in ev.levels(node):       # the first of equally near levels wins; one infinitely far is never near
        if abs(lv - close) < dist:
            best, dist = lv, abs(lv - close)
    return best


@CALLS.register("above")
def _above(ev: ReferenceEvaluator, node: ast.Call) -> float:
    close = ev.read("close")
    cands = [lv for lv in ev.levels(node) if lv > close]
    return min(cands) if cands else NAN


@CALLS.register("below")
def _below(ev: ReferenceEvaluator, node: ast.Call) -> float:
    close = ev.read("close")
    cands = [lv for lv in ev.levels(node) if lv < close]
    return max(cands) if cands else NAN


@CALLS.register("crosses_above", "crosses_below")
def _crosses(ev: ReferenceEvaluator, node: ast.Call) -> bool:
    a, b = ev.args(node)
    pa, pb = ev.state.get(id(node), (NAN, NAN))
    ev.state[id(node)] = (a, b)
    if node.fn == "crosses_above":
        return compare(">", a, b) and compare("<=", pa, pb)
    return compare("<", a, b) and compare(">=", pa, pb)


@CALLS.register("abs")
def _abs(ev: ReferenceEvaluator, node: ast.Call) -> float:
    return abs(ev.args(node)[0])


@CALLS.register("min", "max")
def _min_max(ev: ReferenceEvaluator, node: ast.Call) -> float:
    vs = ev.args(node)
    if any(_isnan(v) for v in vs):
        return NAN
    return min(vs) if node.fn == "min" else max(vs)


@CALLS.register("clamp")
def _clamp(ev: ReferenceEvaluator, node: ast.Call) -> float:
    x, lo, hi = ev.args(node)
    if _isnan(x) or _isnan(lo) or _isnan(hi):
        return NAN
    return min(max(x, lo), hi) if lo <= hi else hi


@CALLS.register("between")
def _between(ev: ReferenceEvaluator, node: ast.Call) -> bool:
    x, lo, hi = ev.args(node)
    return compare("<=", lo, x) and compare("<=", x, hi)


@CALLS.register("if")
def _if(ev: ReferenceEvaluator, node: ast.Call):
    cond, a, b = ev.args(node)
    return a if cond else b


@CALLS.register("ticks_to")
def _ticks_to(ev: ReferenceEvaluator, node: ast.Call) -> float:
    return abs(ev.args(node)[0] - ev.read("close")) / ev.tick


@CALLS.register("to_ticks")
def _to_ticks(ev: ReferenceEvaluator, node: ast.Call) -> float:
    return ev.args(node)[0] / ev.tick


@CALLS.register("to_points")
def _to_points(ev: ReferenceEvaluator, node: ast.Call) -> float:
    return ev.args(node)[0] * ev.tick
