"""The built-in functions of the rule language: one record per function, its signature as data.

Every pass reads this table: the checker (names, arity, argument kinds, the type and unit of the
result, window lengths), the program builder (which calls read ``close``, which are shown in
traces), the code generator (which calls keep state between rows), the evaluators and
``mia features`` (the help lines).

To add a function: add its ``Function`` record to ``FUNCTIONS`` below, then its implementation to
each evaluator: ``codegen.CALLS`` (the numba kernels), the reference oracle
(``tests/oracles/reference.py``) and the numpy baseline (``bench/baselines/vectorized.py``).
Nothing else names a function; ``tests/dsl/test_functions.py`` fails until every record has an
implementation in each of them, and runs each function through the kernels and the oracle.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: what an argument must be
NUMBER = "number"          # a number (any unit; the result rule says how units combine)
WINDOW = "window"          # a window length in bars: a whole number 1..MAX_WINDOW, or a bare param holding one
LEVELS = "levels"          # a level set (gamma_levels, blind_spots)
CONDITION = "condition"    # a boolean
VALUE = "value"            # a number or a boolean (the branches of if)

#: how the result's type follows from the arguments'
SAME = "same"              # a number in the arguments' common unit (the window argument aside)
TEST = "test"              # a boolean; the arguments must share a unit
CHOICE = "choice"          # the type both branches share (if)
CONVERT = "convert"        # a number in ``unit``; the argument must be in ``unit_in``
MEASURE = "measure"        # a number in ``unit`` whatever the arguments (a level picked from a set)

MAX_WINDOW = 10_000


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[str, ...]        # argument names, as shown in the usage line
    kinds: tuple[str, ...]         # what each argument must be (NUMBER, WINDOW, LEVELS, ...)
    result: str                    # the result rule (SAME, TEST, CHOICE, CONVERT, MEASURE)
    doc: str                       # one line of meaning, after the usage
    variadic: bool = False         # the last argument may repeat: min(a, b, ...)
    unit: str | None = None        # CONVERT, MEASURE: the unit of the result
    unit_in: str | None = None     # CONVERT: the unit the argument must be in
    verb: str = ""                 # CONVERT: how a wrong unit is worded ("convert to ticks from")
    stateful: bool = False         # keeps state between rows (reads the history of its arguments)
    reads_close: bool = False      # compares with close (the program adds the close input)
    probe: bool = False            # its value is shown when a rule that calls it fires

    @property
    def min_args(self) -> int:
        return len(self.params)

    @property
    def max_args(self) -> int | None:
        return None if self.variadic else len(self.params)

    @property
    def usage(self) -> str:
        return f"{self.name}({', '.join(self.params + (('...',) if self.variadic else ()))})"

    @property
    def help(self) -> str:
        return f"{self.usage}: {self.doc}"

    @property
    def window(self) -> bool:
        """The last argument is a window length in bars (fixed when the rules are checked)."""
        return WINDOW in self.kinds

    def kind_of(self, i: int) -> str:
        """What argument ``i`` must be (a repeated argument is like the last one)."""
        return self.kinds[min(i, len(self.kinds) - 1)]


def _f(name: str, params: str, kinds: tuple[str, ...], result: str, doc: str, **kw) -> Function:
    return Function(name, tuple(p.strip() for p in params.split(",")), kinds, result, doc, **kw)


N, W, L, C, V = NUMBER, WINDOW, LEVELS, CONDITION, VALUE

FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    _f("abs", "x", (N,), SAME, "absolute value"),
    _f("min", "a, b", (N, N), SAME, "smallest (missing if any is missing)", variadic=True),
    _f("max", "a, b", (N, N), SAME, "largest (missing if any is missing)", variadic=True),
    _f("clamp", "x, lo, hi", (N, N, N), SAME, "x limited to [lo, hi]"),
    _f("between", "x, lo, hi", (N, N, N), TEST, "lo <= x <= hi"),
    _f("if", "condition, a, b", (C, V, V), CHOICE, "a when the condition holds, else b"),
    _f("sma", "x, n", (N, W), SAME, "simple moving average over the last n bars", stateful=True),
    _f("ema", "x, n", (N, W), SAME, "exponential moving average, alpha 2/(n+1), seeded by the first value",
       stateful=True),
    _f("highest", "x, n", (N, W), SAME, "largest of the last n bars", stateful=True),
    _f("lowest", "x, n", (N, W), SAME, "smallest of the last n bars", stateful=True),
    _f("crosses_above", "a, b", (N, N), TEST, "a > b now and a <= b on the previous bar", stateful=True),
    _f("crosses_below", "a, b", (N, N), TEST, "a < b now and a >= b on the previous bar", stateful=True),
    _f("nearest", "levels", (L,), MEASURE, "the level of the set closest to close", unit="points",
       reads_close=True, probe=True),
    _f("above", "levels", (L,), MEASURE, "the nearest level strictly above close", unit="points",
       reads_close=True, probe=True),
    _f("below", "levels", (L,), MEASURE, "the nearest level strictly below close", unit="points",
       reads_close=True, probe=True),
    _f("ticks_to", "price", (N,), CONVERT, "distance from close to price, in ticks", unit="ticks",
       unit_in="points", verb="measure ticks between", reads_close=True, probe=True),
    _f("to_ticks", "points", (N,), CONVERT, "a distance in points, in ticks", unit="ticks",
       unit_in="points", verb="convert to ticks from"),
    _f("to_points", "ticks", (N,), CONVERT, "a distance in ticks, in points", unit="points",
       unit_in="ticks", verb="convert to points from"),
)}


class Implementations(dict):
    """One evaluator's implementations: function name -> callable, filled with a decorator.

    ``CALLS = Implementations("codegen")`` then ``@CALLS.register("sma", "highest")`` over the
    code that evaluates those calls. Only names of ``FUNCTIONS`` are accepted, each once.
    """

    def __init__(self, evaluator: str):
        super().__init__()
        self.evaluator = evaluator

    def register(self, *names: str) -> Callable:
        def add(impl: Callable) -> Callable:
            for name in names:
                if name not in FUNCTIONS:
                    raise KeyError(f"{self.evaluator}: '{name}' is not in mia.dsl.functions.FUNCTIONS")
                if name in self:
                    raise KeyError(f"{self.evaluator}: '{name}' is implemented twice")
                self[name] = impl
            return impl
        return add

    def missing(self) -> list[str]:
        """Registry functions this evaluator does not implement."""
        return [name for name in FUNCTIONS if name not in self]

    def of(self, name: str) -> Callable:
        impl = self.get(name)
        if impl is None:
            raise NotImplementedError(f"{self.evaluator} has no implementation of {name}()")
        return impl
