"""Names, types and units of expressions: the scope of a rule set and the inference pass.

``TypeChecker`` knows the names a rule set defines (params, derived features, rule names) and
reports a clash when one is declared. ``infer(tree, src)`` annotates every node with its
``Type`` (``node.ty``), resolves each name (``Name.ref``) and window length (``Call.window``),
reports every problem at its position in the file and gives None for a tree with an error.
Function signatures (arity, argument kinds, how units combine) come from ``functions.FUNCTIONS``.
"""
from __future__ import annotations

from mia.dsl import ast, catalog, units
from mia.dsl.ast import BOOL, Type
from mia.dsl.errors import Pos, Reporter
from mia.dsl.functions import (CHOICE, CONVERT, FUNCTIONS, LEVELS, MAX_WINDOW, MEASURE, TEST, WINDOW,
                               Function)
from mia.dsl.load import Source
from mia.dsl.parse import KEYWORDS, ExprError, parse_expr
from mia.dsl.ruleset import Param
from mia.dsl.suggestions import did_you_mean
from mia.dsl.visit import Visitor

NUMBER_ANY = Type("number", None)
_LEVELS_NOT_NUMBER = "a level set is not a number; use nearest(...), above(...) or below(...)"


class TypeChecker(Visitor):
    def __init__(self, rep: Reporter):
        self.rep = rep
        self.params: dict[str, Param] = {}
        self.features: dict[str, tuple[ast.Node, Source, Pos]] = {}
        self.feature_types: dict[str, Type] = {}
        self.names: dict[str, tuple[str, Pos]] = {}   # every user-defined name -> (kind, where)
        #: params and features whose definition had an error (reported): their uses are not
        self.broken: set[str] = set()

    # ---- names -------------------------------------------------------------------------
    def declare(self, name: str, kind: str, pos: Pos) -> bool:
        if name in self.names:
            other_kind, other = self.names[name]
            self.rep.error(pos, f"{kind} '{name}' is already defined as a {other_kind} at {other}")
            return False
        if name in catalog.BY_NAME or name in catalog.SETS_BY_NAME:
            self.rep.error(pos, f"{kind} '{name}' has the name of a built-in feature; choose another name")
            return False
        if name in FUNCTIONS or name in KEYWORDS:
            self.rep.error(pos, f"{kind} '{name}' has the name of a built-in function or keyword")
            return False
        self.names[name] = (kind, pos)
        return True

    def name_type(self, name: str) -> Type | None:
        """The type of the built-in or derived feature ``name`` (None: no such feature, or its
        definition had an error)."""
        if name in self.features:
            return self.feature_types.get(name)
        f = catalog.BY_NAME.get(name)
        if f is None:
            return None
        return BOOL if f.kind == "bool" else Type("number", f.unit)

    def suggest(self, name: str) -> str:
        """A "(did you mean ...?)" among the features, or ""."""
        return did_you_mean(name, list(self.features) + list(catalog.BY_NAME))

    def known_names(self) -> list[str]:
        return list(self.params) + list(self.features) + list(catalog.BY_NAME) + list(catalog.SETS_BY_NAME)

    # ---- expressions -------------------------------------------------------------------
    def parse(self, src: Source) -> ast.Node | None:
        try:
            return parse_expr(src.text)
        except ExprError as exc:
            self.rep.error(src.pos(exc.offset), exc.message)
            return None

    def infer(self, node: ast.Node, src: Source) -> Type | None:
        """Type of ``node`` (annotating the tree), or None after reporting an error."""
        ty = self.visit(node, src)
        node.ty = ty
        return ty

    def err(self, src: Source, offset: int, msg: str) -> None:
        self.rep.error(src.pos(offset), msg)

    def visit_Num(self, node: ast.Num, src: Source) -> Type:
        return Type("number", node.unit)

    def visit_Time(self, node: ast.Time, src: Source) -> Type:
        return Type("number", "time")

    def visit_Bool(self, node: ast.Bool, src: Source) -> Type:
        return BOOL

    def visit_Name(self, node: ast.Name, src: Source) -> Type | None:
        name = node.id
        if name in self.broken and name not in self.params and name not in self.features:
            return None                          # its definition's error is reported
        if name in self.params:
            node.ref = "param"
            p = self.params[name]
            return Type("number", "time" if p.is_time else p.unit)
        if name in self.features:
            node.ref = "feature"
            return self.feature_types.get(name)  # None when that feature had an error (already reported)
        if name in catalog.BY_NAME:
            node.ref = "catalog"
            f = catalog.BY_NAME[name]
            return BOOL if f.kind == "bool" else Type("number", f.unit)
        if name in catalog.SETS_BY_NAME:
            node.ref = "levels"
            return Type("levels")
        if name in FUNCTIONS:
            return self.err(src, node.start, f"'{name}' is a function; call it as {FUNCTIONS[name].usage}")
        if name in self.names:   # a signal or hard rule name
            kind = self.names[name][0]
            return self.err(src, node.start, f"'{name}' is a {kind}, not a value an expression can read")
        return self.err(src, node.start, f"unknown name '{name}'" + did_you_mean(name, self.known_names()))

    def visit_Unary(self, node: ast.Unary, src: Source) -> Type | None:
        t = self.infer(node.operand, src)
        if t is None:
            return None
        if node.op == "not":
            if t.kind != "bool":
                return self.err(src, node.operand.start, f"'not' needs a condition, got {t}")
            return BOOL
        if t.kind != "number":
            return self.err(src, node.operand.start, f"'-' needs a number, got {t}")
        if t.unit == "time":
            return self.err(src, node.operand.start, "a time of day cannot be negated")
        return t

    def visit_History(self, node: ast.History, src: Source) -> Type | None:
        t = self.infer(node.operand, src)
        if t is not None and t.kind == "levels":
            return self.err(src, node.operand.start, "a level set has no history; use nearest(...)[n]")
        return t

    def visit_Binary(self, node: ast.Binary, src: Source) -> Type | None:
        lt = self.infer(node.left, src)
        rt = self.infer(node.right, src)
        if lt is None or rt is None:
            return None
        op = node.op
        if op in ast.LOGIC:
            for side, t in ((node.left, lt), (node.right, rt)):
                if t.kind != "bool":
                    return self.err(src, side.start, f"'{op}' needs conditions on both sides, got {t}")
            return BOOL
        for side, t in ((node.left, lt), (node.right, rt)):
            if t.kind == "levels":
                return self.err(src, side.start, _LEVELS_NOT_NUMBER)
        if op in ("==", "!=") and lt.kind == "bool" and rt.kind == "bool":
            return BOOL
        for side, t in ((node.left, lt), (node.right, rt)):
            if t.kind != "number":
                return self.err(src, side.start, f"'{op}' needs numbers, got {t}")
        try:
            if op in ast.COMPARISONS:
                units.join(lt.unit, rt.unit, "compare")
                return BOOL
            if op in ("+", "-"):
                return Type("number", units.add(lt.unit, rt.unit, op))
            if "time" in (lt.unit, rt.unit):
                raise units.UnitError(f"cannot use '{op}' on a time of day")
            if op == "*":
                return Type("number", units.multiply(lt.unit, rt.unit))
            return Type("number", units.divide(lt.unit, rt.unit))
        except units.UnitError as exc:
            return self.err(src, node.op_start, str(exc))

    # ---- calls: the signature comes from the registry --------------------------------------
    def visit_Call(self, node: ast.Call, src: Source) -> Type | None:
        name, args = node.fn, node.args
        fn = FUNCTIONS.get(name)
        if fn is None:
            return self.err(src, node.start, f"unknown function '{name}'" + did_you_mean(name, FUNCTIONS))
        lo, hi = fn.min_args, fn.max_args
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = f"{lo}" if lo == hi else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
            return self.err(src, node.start, f"{name}() takes {want} argument{'s' if want != '1' else ''}, "
                                             f"got {len(args)}: {fn.help}")
        if fn.window:
            return self._windowed(node, fn, src)
        types = [self.infer(a, src) for a in args]
        if any(t is None for t in types):
            return None
        if fn.kinds[0] == LEVELS:
            if types[0].kind != "levels":
                sets = ", ".join(catalog.SETS_BY_NAME)
                return self.err(src, args[0].start, f"{name}() needs a level set ({sets}), got {types[0]}")
        else:
            for a, t in zip(args, types):
                if t.kind == "levels":
                    return self.err(src, a.start, _LEVELS_NOT_NUMBER)
        if fn.result == MEASURE:
            return Type("number", fn.unit)
        if fn.result == CHOICE:
            return self._choice(name, args, types, src)
        for a, t in zip(args, types):
            if t.kind != "number":
                return self.err(src, a.start, f"{name}() needs numbers, got {t}")
        try:
            if fn.result == CONVERT:
                units.join(types[0].unit, fn.unit_in, fn.verb)
                return Type("number", fn.unit)
            unit = types[0].unit
            for t in types[1:]:
                unit = units.join(unit, t.unit, f"use {name}() on")
            return BOOL if fn.result == TEST else Type("number", unit)
        except units.UnitError as exc:
            return self.err(src, args[0].start, str(exc))

    def _windowed(self, node: ast.Call, fn: Function, src: Source) -> Type | None:
        """``f(x, n)``: a number and a window length; the result is ``x``'s type."""
        x, n_arg = node.args[0], node.args[fn.kinds.index(WINDOW)]
        t = self.infer(x, src)
        n = self._window(n_arg, src, fn.name)
        if t is None or n is None:
            return None
        if t.kind != "number":
            return self.err(src, x.start, f"{fn.name}() needs a number, got {t}")
        node.window = n
        n_arg.ty = NUMBER_ANY
        return t

    def _choice(self, name: str, args: list[ast.Node], types: list[Type], src: Source) -> Type | None:
        """``if(condition, a, b)``: the type both branches share."""
        if types[0].kind != "bool":
            return self.err(src, args[0].start, f"{name}() needs a condition first, got {types[0]}")
        a, b = types[1], types[2]
        if a.kind != b.kind:
            return self.err(src, args[2].start, f"{name}() branches differ: {a} and {b}")
        if a.kind == "bool":
            return BOOL
        try:
            return Type("number", units.join(a.unit, b.unit, "choose between"))
        except units.UnitError as exc:
            return self.err(src, args[2].start, str(exc))

    def _window(self, arg: ast.Node, src: Source, fn: str) -> int | None:
        value = _WindowLength(self).visit(arg)
        if value is None or not (1 <= value <= MAX_WINDOW) or value != int(value):
            self.err(src, arg.start, f"{fn}() needs a window of 1 to {MAX_WINDOW} bars: a whole number "
                                     "or a param holding one")
            return None
        return int(value)


class _WindowLength(Visitor):
    """The value of a window argument: a bare number literal, or a bare param (resolved); else None."""

    def __init__(self, checker: TypeChecker):
        self.params = checker.params

    def visit_Num(self, node: ast.Num) -> float | None:
        return node.value if node.unit is None else None

    def visit_Name(self, node: ast.Name) -> float | None:
        p = self.params.get(node.id)
        if p is None or p.unit is not None:
            return None
        node.ref = "param"
        return p.value

    def generic_visit(self, node: ast.Node) -> None:
        return None
