"""Rule files -> a checked ``RuleSet``: merge, resolve names, check types and units, find cycles.

Every problem is reported (not only the first) as ``path:line:col: error: ...`` pointing into
the YAML file; ``load_rules`` raises one ``RuleError`` holding them all.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

from mia.dsl import ast, catalog, units
from mia.dsl.ast import BOOL, Type
from mia.dsl.errors import Pos, Reporter, RuleError
from mia.dsl.load import Document, load_document
from mia.dsl.parse import KEYWORDS, ExprError, parse_expr
from mia.dsl.ruleset import (DerivedFeature, Exits, Expr, HardRule, Param, ReasonPart, Risk, RuleSet,
                             ScaleRule, Signal, Sizing, TradingHours)
from mia.dsl.schema import validate_document
from mia.dsl.suggestions import did_you_mean
from mia.errors import MiaError
from mia.instruments import load_instruments

NUMBER_ANY = Type("number", None)

#: function name -> (min args, max args or None, one line of help)
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "abs": (1, 1, "abs(x): absolute value"),
    "min": (2, None, "min(a, b, ...): smallest (missing if any is missing)"),
    "max": (2, None, "max(a, b, ...): largest (missing if any is missing)"),
    "clamp": (3, 3, "clamp(x, lo, hi): x limited to [lo, hi]"),
    "between": (3, 3, "between(x, lo, hi): lo <= x <= hi"),
    "if": (3, 3, "if(condition, a, b): a when the condition holds, else b"),
    "sma": (2, 2, "sma(x, n): simple moving average over the last n bars"),
    "ema": (2, 2, "ema(x, n): exponential moving average, alpha 2/(n+1), seeded by the first value"),
    "highest": (2, 2, "highest(x, n): largest of the last n bars"),
    "lowest": (2, 2, "lowest(x, n): smallest of the last n bars"),
    "crosses_above": (2, 2, "crosses_above(a, b): a > b now and a <= b on the previous bar"),
    "crosses_below": (2, 2, "crosses_below(a, b): a < b now and a >= b on the previous bar"),
    "nearest": (1, 1, "nearest(levels): the level of the set closest to close"),
    "above": (1, 1, "above(levels): the nearest level strictly above close"),
    "below": (1, 1, "below(levels): the nearest level strictly below close"),
    "ticks_to": (1, 1, "ticks_to(price): distance from close to price, in ticks"),
    "to_ticks": (1, 1, "to_ticks(points): a distance in points, in ticks"),
    "to_points": (1, 1, "to_points(ticks): a distance in ticks, in points"),
}
WINDOW_FUNCTIONS = ("sma", "ema", "highest", "lowest")
LEVEL_FUNCTIONS = ("nearest", "above", "below")
MAX_WINDOW = 10_000


@dataclass
class _Source:
    """Where an expression string lives, to map its offsets back to the file."""

    doc: Document
    path: tuple
    text: str
    base: int = 0          # offset of ``text`` inside the YAML scalar (reason templates)
    _map: list | None = None

    def pos(self, offset: int) -> Pos:
        if self._map is None:
            self._map = self.doc.source_map(self.path)
        return self._map[min(max(self.base + offset, 0), len(self._map) - 1)]


class _Checker:
    def __init__(self, rep: Reporter):
        self.rep = rep
        self.params: dict[str, Param] = {}
        self.features: dict[str, tuple[ast.Node, _Source, Pos]] = {}
        self.feature_types: dict[str, Type] = {}
        self.names: dict[str, tuple[str, Pos]] = {}   # every user-defined name -> (kind, where)
        self.tick_size = 0.25

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

    def known_names(self) -> list[str]:
        return list(self.params) + list(self.features) + list(catalog.BY_NAME) + list(catalog.SETS_BY_NAME)

    # ---- expressions -------------------------------------------------------------------
    def parse(self, src: _Source) -> ast.Node | None:
        try:
            return parse_expr(src.text)
        except ExprError as exc:
            self.rep.error(src.pos(exc.offset), exc.message)
            return None

    def infer(self, node: ast.Node, src: _Source) -> Type | None:
        """Type of ``node`` (annotating the tree), or None after reporting an error."""
        ty = self._infer(node, src)
        node.ty = ty
        return ty

    def _err(self, src: _Source, offset: int, msg: str) -> None:
        self.rep.error(src.pos(offset), msg)

    def _infer(self, node: ast.Node, src: _Source) -> Type | None:
        if isinstance(node, ast.Num):
            return Type("number", node.unit)
        if isinstance(node, ast.Time):
            return Type("number", "time")
        if isinstance(node, ast.Bool):
            return BOOL
        if isinstance(node, ast.Name):
            return self._name(node, src)
        if isinstance(node, ast.Unary):
            t = self.infer(node.operand, src)
            if t is None:
                return None
            if node.op == "not":
                if t.kind != "bool":
                    return self._err(src, node.operand.start, f"'not' needs a condition, got {t}")
                return BOOL
            if t.kind != "number":
                return self._err(src, node.operand.start, f"'-' needs a number, got {t}")
            if t.unit == "time":
                return self._err(src, node.operand.start, "a time of day cannot be negated")
            return t
        if isinstance(node, ast.Binary):
            return self._binary(node, src)
        if isinstance(node, ast.History):
            t = self.infer(node.operand, src)
            if t is not None and t.kind == "levels":
                return self._err(src, node.operand.start, "a level set has no history; use nearest(...)[n]")
            return t
        if isinstance(node, ast.Call):
            return self._call(node, src)
        raise AssertionError(type(node))

    def _name(self, node: ast.Name, src: _Source) -> Type | None:
        name = node.id
        if name in self.params:
            node.ref = "param"
            p = self.params[name]
            return Type("number", "time" if p.is_time else p.unit)
        if name in self.features:
            node.ref = "feature"
            t = self.feature_types.get(name)
            return t  # None when that feature had an error (already reported)
        if name in catalog.BY_NAME:
            node.ref = "catalog"
            f = catalog.BY_NAME[name]
            return BOOL if f.kind == "bool" else Type("number", f.unit)
        if name in catalog.SETS_BY_NAME:
            node.ref = "levels"
            return Type("levels")
        if name in FUNCTIONS:
            return self._err(src, node.start, f"'{name}' is a function; call it as {FUNCTIONS[name][2].split(':')[0]}")
        if name in self.names:   # a signal or hard rule name
            kind = self.names[name][0]
            return self._err(src, node.start, f"'{name}' is a {kind}, not a value an expression can read")
        return self._err(src, node.start, f"unknown name '{name}'" + did_you_mean(name, self.known_names()))

    def _binary(self, node: ast.Binary, src: _Source) -> Type | None:
        lt = self.infer(node.left, src)
        rt = self.infer(node.right, src)
        if lt is None or rt is None:
            return None
        op = node.op
        if op in ast.LOGIC:
            for side, t in ((node.left, lt), (node.right, rt)):
                if t.kind != "bool":
                    return self._err(src, side.start, f"'{op}' needs conditions on both sides, got {t}")
            return BOOL
        for side, t in ((node.left, lt), (node.right, rt)):
            if t.kind == "levels":
                return self._err(src, side.start, "a level set is not a number; use nearest(...), above(...) or below(...)")
        if op in ("==", "!=") and lt.kind == "bool" and rt.kind == "bool":
            return BOOL
        for side, t in ((node.left, lt), (node.right, rt)):
            if t.kind != "number":
                return self._err(src, side.start, f"'{op}' needs numbers, got {t}")
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
            return self._err(src, node.op_start, str(exc))

    def _call(self, node: ast.Call, src: _Source) -> Type | None:
        fn, args = node.fn, node.args
        if fn not in FUNCTIONS:
            return self._err(src, node.start, f"unknown function '{fn}'" + did_you_mean(fn, FUNCTIONS))
        lo, hi, usage = FUNCTIONS[fn]
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = f"{lo}" if lo == hi else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
            return self._err(src, node.start, f"{fn}() takes {want} argument{'s' if want != '1' else ''}, "
                                              f"got {len(args)}: {usage}")
        if fn in WINDOW_FUNCTIONS:
            t = self.infer(args[0], src)
            n = self._window(args[1], src, fn)
            if t is None or n is None:
                return None
            if t.kind != "number":
                return self._err(src, args[0].start, f"{fn}() needs a number, got {t}")
            node.window = n
            args[1].ty = NUMBER_ANY
            return t
        types = [self.infer(a, src) for a in args]
        if any(t is None for t in types):
            return None
        if fn in LEVEL_FUNCTIONS:
            if types[0].kind != "levels":
                sets = ", ".join(catalog.SETS_BY_NAME)
                return self._err(src, args[0].start, f"{fn}() needs a level set ({sets}), got {types[0]}")
            return Type("number", "points")
        for a, t in zip(args, types):
            if t.kind == "levels":
                return self._err(src, a.start, "a level set is not a number; use nearest(...), above(...) or below(...)")
        if fn == "if":
            if types[0].kind != "bool":
                return self._err(src, args[0].start, f"if() needs a condition first, got {types[0]}")
            a, b = types[1], types[2]
            if a.kind != b.kind:
                return self._err(src, args[2].start, f"if() branches differ: {a} and {b}")
            if a.kind == "bool":
                return BOOL
            try:
                return Type("number", units.join(a.unit, b.unit, "choose between"))
            except units.UnitError as exc:
                return self._err(src, args[2].start, str(exc))
        for a, t in zip(args, types):
            if t.kind != "number":
                return self._err(src, a.start, f"{fn}() needs numbers, got {t}")
        try:
            if fn == "ticks_to":
                units.join(types[0].unit, "points", "measure ticks between")
                return Type("number", "ticks")
            if fn == "to_ticks":
                units.join(types[0].unit, "points", "convert to ticks from")
                return Type("number", "ticks")
            if fn == "to_points":
                units.join(types[0].unit, "ticks", "convert to points from")
                return Type("number", "points")
            unit = types[0].unit
            for t in types[1:]:
                unit = units.join(unit, t.unit, f"use {fn}() on")
            if fn in ("between", "crosses_above", "crosses_below"):
                return BOOL
            return Type("number", unit)
        except units.UnitError as exc:
            return self._err(src, args[0].start, str(exc))

    def _window(self, arg: ast.Node, src: _Source, fn: str) -> int | None:
        value = None
        if isinstance(arg, ast.Num) and arg.unit is None:
            value = arg.value
        elif isinstance(arg, ast.Name) and arg.id in self.params and self.params[arg.id].unit is None:
            arg.ref = "param"
            value = self.params[arg.id].value
        if value is None or not (1 <= value <= MAX_WINDOW) or value != int(value):
            self._err(src, arg.start, f"{fn}() needs a window of 1 to {MAX_WINDOW} bars: a whole number "
                                      "or a param holding one")
            return None
        return int(value)


# ---- quantities (params, risk, exits) ------------------------------------------------------

def _quantity(value: object, pos: Pos, rep: Reporter, src: _Source | None) -> tuple[float, str | None, bool] | None:
    """A param-like value -> (number, unit, is_time), or None after reporting."""
    if isinstance(value, bool):
        rep.error(pos, "expected a number, optionally with a unit, got true/false")
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            rep.error(pos, f"expected a finite number, got {value}")
            return None
        return float(value), None, False
    text = str(value)
    try:
        tree = parse_expr(text)
    except ExprError as exc:
        rep.error(src.pos(exc.offset) if src else pos, exc.message)
        return None
    sign = 1.0
    if isinstance(tree, ast.Unary) and tree.op == "-":
        sign, tree = -1.0, tree.operand
    if isinstance(tree, ast.Num):
        return sign * tree.value, tree.unit, False
    if isinstance(tree, ast.Time) and sign > 0:
        return tree.minutes, "time", True
    rep.error(pos, f"expected a number with an optional unit (like '5 ticks' or '500 USD'), got '{text}'")
    return None


_HOURS = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})\s*(\S+)?\s*$")


def _trading_hours(text: str, pos: Pos, rep: Reporter) -> TradingHours | None:
    from zoneinfo import ZoneInfo

    m = _HOURS.match(text)
    if not m:
        rep.error(pos, f"trading_hours must look like '09:30-16:00 America/New_York', got '{text}'")
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups()[:4])
    zone = m.group(5) or "America/New_York"
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        rep.error(pos, f"trading_hours has an impossible time: '{text}'")
        return None
    if (h1, m1) == (h2, m2):
        rep.error(pos, f"trading_hours is empty: '{text}' opens and closes at the same minute")
        return None
    if zone in _MACHINE_ZONES:
        rep.error(pos, f"'{zone}' is this computer's zone, not the market's (use an IANA name like America/New_York)")
        return None
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError, OSError):
        rep.error(pos, f"unknown time zone '{zone}' (use an IANA name like America/New_York)")
        return None
    return TradingHours(h1 * 60 + m1, h2 * 60 + m2, zone)


#: tz database entries that name no market: the machine's setting, or a placeholder
_MACHINE_ZONES = {"localtime", "Factory", "posixrules"}


# ---- the whole rule set ---------------------------------------------------------------------

def rule_files(paths: list[str | Path], rep: Reporter) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))
            if not found:
                rep.error(Pos(str(p), 1, 1), "no rule files (*.yaml) in this folder")
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            rep.error(Pos(str(p), 1, 1), "no such file or folder")
    return files


def load_rules(paths: list[str | Path] | str | Path) -> RuleSet:
    """Load, validate and check rule files; raises ``RuleError`` listing every problem."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    rep = Reporter()
    files = rule_files(list(paths), rep)
    docs = [d for d in (load_document(f, rep) for f in files) if d is not None]
    for doc in docs:
        validate_document(doc, rep)
    rep.raise_if_any()
    try:
        ruleset = _check(docs, rep)
    except RecursionError:
        rep.error(Pos(docs[0].path if docs else "rules", 1, 1), "an expression is nested too deeply")
        ruleset = None
    rep.raise_if_any()
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(doc.path.encode() + b"\0" + doc.text.encode() + b"\0")
    ruleset.source_hash = digest.hexdigest()
    return ruleset


def _check(docs: list[Document], rep: Reporter) -> RuleSet:
    ck = _Checker(rep)
    instrument, instrument_pos = None, None
    for doc in docs:
        data = doc.data
        if "instrument" in data:
            if instrument is not None and data["instrument"] != instrument:
                rep.error(doc.value_pos(("instrument",)),
                          f"instrument {data['instrument']} conflicts with {instrument} set at {instrument_pos}")
            elif instrument is None:
                instrument, instrument_pos = data["instrument"], doc.value_pos(("instrument",))
    instrument = instrument or "ES"
    try:
        spec = load_instruments()[instrument]
    except (KeyError, MiaError):
        rep.error(instrument_pos or Pos(docs[0].path, 1, 1), f"instrument {instrument} is not in config/instruments.yaml")
        raise RuleError(rep.diagnostics) from None
    ck.tick_size = spec.tick_size

    # params first: every expression may read them
    for doc in docs:
        for name, value in (doc.data.get("params") or {}).items():
            path = ("params", name)
            pos = doc.key_pos(path)
            if not ck.declare(name, "param", pos):
                continue
            src = _Source(doc, path, str(value)) if isinstance(value, str) else None
            q = _quantity(value, doc.value_pos(path), rep, src)
            if q is not None:
                ck.params[name] = Param(name, q[0], q[1], pos, is_time=q[2])

    # derived features: parse all, then type them in dependency order
    feature_srcs: dict[str, tuple[Document, tuple]] = {}
    for doc in docs:
        for name, text in (doc.data.get("features") or {}).items():
            path = ("features", name)
            pos = doc.key_pos(path)
            if not ck.declare(name, "feature", pos):
                continue
            src = _Source(doc, path, _expr_text(text))
            tree = ck.parse(src)
            if tree is not None:
                ck.features[name] = (tree, src, pos)
                feature_srcs[name] = (doc, path)
    order = _feature_order(ck, rep)
    derived = []
    for name in order:
        tree, src, pos = ck.features[name]
        t = ck.infer(tree, src)
        if t is not None and t.kind == "levels":
            ck._err(src, 0, "a derived feature cannot be a level set")
            t = None
        if t is not None:
            ck.feature_types[name] = t
            derived.append(DerivedFeature(name, Expr(src.text, src.pos(0), tree), pos))

    # signals, hard rules, sizing
    signals: list[Signal] = []
    hard_rules: list[HardRule] = []
    scale: list[ScaleRule] = []
    for doc in docs:
        for i, item in enumerate(doc.data.get("signals") or []):
            base = ("signals", i)
            pos = doc.value_pos(base)
            ck.declare(item["name"], "signal", doc.value_pos(base + ("name",)))
            when = _condition(ck, doc, base + ("when",), "when")
            if when is not None:
                signals.append(Signal(item["name"], when, item["side"], int(item.get("priority", 0)), pos))
        for i, item in enumerate(doc.data.get("hard_rules") or []):
            base = ("hard_rules", i)
            pos = doc.value_pos(base)
            ck.declare(item["name"], "hard rule", doc.value_pos(base + ("name",)))
            has_block, has_factor = "block" in item, "size_factor" in item
            bad_factor = has_factor and not math.isfinite(item["size_factor"])
            if bad_factor:
                rep.error(doc.value_pos(base + ("size_factor",)), "size_factor must be a number from 0 to 1")
            if has_block == has_factor:
                rep.error(pos, f"hard rule '{item['name']}' needs exactly one of 'block' (a veto) "
                               "or 'size_factor' (a soft rule that scales size)")
            when = _condition(ck, doc, base + ("when",), "when")
            reason = _reason(ck, doc, base + ("reason",)) if "reason" in item else []
            if when is not None and reason is not None and has_block != has_factor and not bad_factor:
                hard_rules.append(HardRule(item["name"], when, item.get("block"),
                                           float(item["size_factor"]) if has_factor else None, reason, pos))
        sizing = doc.data.get("sizing") or {}
        for i, item in enumerate(sizing.get("scale") or []):
            base = ("sizing", "scale", i)
            name = item.get("name") or f"scale_{len(scale) + 1}"
            if "name" in item:
                ck.declare(name, "sizing rule", doc.value_pos(base + ("name",)))
            when = _condition(ck, doc, base + ("when",), "when")
            if when is not None:
                scale.append(ScaleRule(name, when, float(item["factor"]), doc.value_pos(base)))

    risk, exits, sizing_obj, setting_pos = _settings(docs, ck, rep)
    sizing_obj.scale = scale
    return RuleSet(instrument=instrument, tick_size=spec.tick_size, tick_value=spec.tick_value,
                   params=ck.params, features=derived, signals=signals, hard_rules=hard_rules,
                   risk=risk, exits=exits, sizing=sizing_obj, files=[d.path for d in docs],
                   setting_pos=setting_pos)


def _expr_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _condition(ck: _Checker, doc: Document, path: tuple, key: str) -> Expr | None:
    value = doc.data
    for p in path:
        value = value[p]
    src = _Source(doc, path, _expr_text(value))
    tree = ck.parse(src)
    if tree is None:
        return None
    t = ck.infer(tree, src)
    if t is None:
        return None
    if t.kind != "bool":
        ck._err(src, 0, f"'{key}' must be a condition (true or false), but this is {t}")
        return None
    return Expr(src.text, src.pos(0), tree)


_BRACES = re.compile(r"\{([^{}]*)\}")


def _reason(ck: _Checker, doc: Document, path: tuple) -> list[ReasonPart] | None:
    template = doc.data
    for p in path:
        template = template[p]
    template = str(template)
    parts: list[ReasonPart] = []
    ok = True
    last = 0
    for m in _BRACES.finditer(template):
        if m.start() > last:
            parts.append(ReasonPart(text=template[last:m.start()]))
        src = _Source(doc, path, m.group(1), base=m.start(1))
        tree = ck.parse(src)
        t = ck.infer(tree, src) if tree is not None else None
        if t is not None and t.kind == "levels":
            ck._err(src, 0, "a level set cannot be shown; use nearest(...)")
            t = None
        if t is None:
            ok = False
        else:
            parts.append(ReasonPart(expr=Expr(src.text, src.pos(0), tree)))
        last = m.end()
    if last < len(template):
        parts.append(ReasonPart(text=template[last:]))
    return parts if ok else None


def _feature_order(ck: _Checker, rep: Reporter) -> list[str]:
    """Derived features in dependency order; each cycle is reported once."""
    deps = {name: [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in ck.features]
            for name, (tree, _, _) in ck.features.items()}
    order: list[str] = []
    state: dict[str, int] = {}   # 1 visiting, 2 done
    in_cycle: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = stack[stack.index(name):] + [name]
            if not in_cycle.intersection(cycle):
                _, _, pos = ck.features[name]
                rep.error(pos, "derived features form a cycle: " + " -> ".join(cycle))
            in_cycle.update(cycle)
            return
        state[name] = 1
        for d in deps[name]:
            visit(d, stack + [name])
        state[name] = 2
        if name not in in_cycle:
            order.append(name)

    for name in ck.features:
        visit(name, [])
    return [n for n in order if n not in in_cycle]


def _settings(docs: list[Document], ck: _Checker, rep: Reporter) -> tuple[Risk, Exits, Sizing, dict]:
    risk, exits, sizing = Risk(), Exits(), Sizing()
    seen: dict[str, Pos] = {}

    def qty(doc, path, allowed: tuple, what: str):
        value = doc.data
        for p in path:
            value = value[p]
        src = _Source(doc, path, str(value)) if isinstance(value, str) else None
        pos = doc.value_pos(path)
        q = _quantity(value, pos, rep, src)
        if q is None:
            return None
        number, unit, _ = q
        if unit is None and allowed[0] is not None:
            unit = allowed[0]   # a bare number takes the setting's own unit
        if unit not in allowed:
            rep.error(pos, f"{what} must be in {' or '.join(u for u in allowed if u)}, got {ast.unit_name(unit)}")
            return None
        return number, unit

    for doc in docs:
        for section in ("risk", "exits", "sizing"):
            for key in (doc.data.get(section) or {}):
                full = f"{section}.{key}"
                pos = doc.key_pos((section, key))
                if full in seen and key != "scale":
                    rep.error(pos, f"{full} is already set at {seen[full]}")
                    continue
                seen[full] = pos
        r = doc.data.get("risk") or {}
        for key, attr in (("capital", "capital_usd"), ("daily_loss", "daily_loss_usd"),
                          ("daily_profit_target", "daily_profit_target_usd")):
            if key in r:
                q = qty(doc, ("risk", key), ("USD",), f"risk.{key}")
                if q is not None:
                    if q[0] <= 0:
                        rep.error(doc.value_pos(("risk", key)), f"risk.{key} must be more than 0 USD")
                    setattr(risk, attr, q[0])
        for key in ("max_position", "max_trades_per_day", "max_consecutive_losses", "max_order_rejections"):
            if key in r:
                setattr(risk, key, int(r[key]))
        for key in ("halt_vix_above", "stale_bar_seconds", "stale_vix_seconds"):
            if key in r:
                if not math.isfinite(r[key]):
                    rep.error(doc.value_pos(("risk", key)), f"risk.{key} must be a finite number")
                setattr(risk, key, float(r[key]))
        if "cooldown_after_stop" in r:
            q = qty(doc, ("risk", "cooldown_after_stop"), ("min",), "risk.cooldown_after_stop")
            if q is not None:
                risk.cooldown_after_stop_min = q[0]
        if "trading_hours" in r:
            th = _trading_hours(str(r["trading_hours"]), doc.value_pos(("risk", "trading_hours")), rep)
            if th is not None:
                risk.trading_hours = th
        e = doc.data.get("exits") or {}
        if "stop" in e:
            q = qty(doc, ("exits", "stop"), ("ticks", "points"), "exits.stop")
            if q is not None:
                ticks = q[0] if q[1] == "ticks" else q[0] / ck.tick_size
                if ticks <= 0:
                    rep.error(doc.value_pos(("exits", "stop")), "exits.stop must be more than 0")
                exits.stop_ticks = ticks
        if "take_profit" in e:
            q = qty(doc, ("exits", "take_profit"), ("R", "ticks", "points"), "exits.take_profit")
            if q is not None:
                if q[0] <= 0:
                    rep.error(doc.value_pos(("exits", "take_profit")), "exits.take_profit must be more than 0")
                if q[1] == "R":
                    exits.take_profit_r, exits.take_profit_ticks = q[0], None
                else:
                    ticks = q[0] if q[1] == "ticks" else q[0] / ck.tick_size
                    exits.take_profit_r, exits.take_profit_ticks = None, ticks
        s = doc.data.get("sizing") or {}
        if "base" in s:
            sizing.base = int(s["base"])
    return risk, exits, sizing, seen
