"""The settings of a rule set: quantities with units (params, risk, exits), trading hours, sizing.

``quantity`` reads a param-like value (``5 ticks``, ``500 USD``, ``-2``, ``09:30``);
``read_settings`` gathers the ``risk``, ``exits`` and ``sizing`` sections of every file into
``Risk``, ``Exits`` and ``Sizing`` (a key set in two files is an error) and says where each key
was set. Every problem is reported at its place in the file.
"""
from __future__ import annotations

import math
import re

from mia.dsl import ast
from mia.dsl.errors import Pos, Reporter
from mia.dsl.load import Document, Source
from mia.dsl.parse import ExprError, parse_expr
from mia.dsl.ruleset import Exits, Risk, Sizing, TradingHours
from mia.dsl.visit import Visitor


class _Literal(Visitor):
    """A quantity written as an expression: ``5 ticks``, ``-2`` or ``09:30`` -> (number, unit, is_time)."""

    def visit_Num(self, node: ast.Num, negated: bool = False) -> tuple[float, str | None, bool]:
        return (-1.0 if negated else 1.0) * node.value, node.unit, False

    def visit_Time(self, node: ast.Time, negated: bool = False) -> tuple[float, str, bool] | None:
        return None if negated else (node.minutes, "time", True)

    def visit_Unary(self, node: ast.Unary, negated: bool = False):
        return self.visit(node.operand, True) if node.op == "-" and not negated else None

    def generic_visit(self, node: ast.Node, negated: bool = False) -> None:
        return None


def finite(value) -> bool:
    """Whether the YAML number ``value`` is a finite float (an integer too long for a float is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def quantity(value: object, pos: Pos, rep: Reporter, src: Source | None) -> tuple[float, str | None, bool] | None:
    """A param-like value -> (number, unit, is_time), or None after reporting."""
    if isinstance(value, bool):
        rep.error(pos, "expected a number, optionally with a unit, got true/false")
        return None
    if isinstance(value, (int, float)):
        if not finite(value):
            rep.error(pos, f"expected a finite number, got {value if isinstance(value, float) else 'a number too large'}")
            return None
        return float(value), None, False
    text = str(value)
    try:
        tree = parse_expr(text)
    except ExprError as exc:
        rep.error(src.pos(exc.offset) if src else pos, exc.message)
        return None
    q = _Literal().visit(tree)
    if q is None:
        rep.error(pos, f"expected a number with an optional unit (like '5 ticks' or '500 USD'), got '{text}'")
    return q


_HOURS = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})\s*(\S+)?\s*$")

#: tz database entries that name no market: the machine's setting, or a placeholder
_MACHINE_ZONES = {"localtime", "Factory", "posixrules"}


def trading_hours(text: str, pos: Pos, rep: Reporter) -> TradingHours | None:
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


def read_settings(docs: list[Document], tick_size: float, rep: Reporter) -> tuple[Risk, Exits, Sizing, dict]:
    """``risk``, ``exits`` and ``sizing.base`` of every file, and where each key was set."""
    risk, exits, sizing = Risk(), Exits(), Sizing()
    seen: dict[str, Pos] = {}

    def qty(doc, path, allowed: tuple, what: str):
        value = doc.data
        for p in path:
            value = value[p]
        src = Source(doc, path, str(value)) if isinstance(value, str) else None
        pos = doc.value_pos(path)
        q = quantity(value, pos, rep, src)
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
                if not finite(r[key]):
                    rep.error(doc.value_pos(("risk", key)), f"risk.{key} must be a finite number")
                    continue
                setattr(risk, key, float(r[key]))
        if "cooldown_after_stop" in r:
            q = qty(doc, ("risk", "cooldown_after_stop"), ("min",), "risk.cooldown_after_stop")
            if q is not None:
                if q[0] < 0:
                    rep.error(doc.value_pos(("risk", "cooldown_after_stop")),
                              "risk.cooldown_after_stop must be 0 min or more")
                risk.cooldown_after_stop_min = q[0]
        if "trading_hours" in r:
            th = trading_hours(str(r["trading_hours"]), doc.value_pos(("risk", "trading_hours")), rep)
            if th is not None:
                risk.trading_hours = th
        e = doc.data.get("exits") or {}
        if "stop" in e:
            q = qty(doc, ("exits", "stop"), ("ticks", "points"), "exits.stop")
            if q is not None:
                ticks = q[0] if q[1] == "ticks" else q[0] / tick_size
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
                    ticks = q[0] if q[1] == "ticks" else q[0] / tick_size
                    exits.take_profit_r, exits.take_profit_ticks = None, ticks
        s = doc.data.get("sizing") or {}
        if "base" in s:
            sizing.base = int(s["base"])
    return risk, exits, sizing, seen
