"""Unit algebra of the rule language: what + - * / and comparisons do with units.

Units: ticks, points (prices are points), USD, R, min, time (of day), contracts, "1" (a
dimensionless ratio) and None (a bare literal or bare param, which goes with anything).
Each function returns the result unit, or raises ``UnitError`` with a message for the trader.
"""
from __future__ import annotations

from mia.dsl.ast import unit_name

DIMENSIONLESS = "1"


class UnitError(Exception):
    pass


def join(a: str | None, b: str | None, what: str) -> str | None:
    """The common unit of two operands that must agree (``what``: 'add', 'compare', ...)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    hint = ""
    if {a, b} == {"ticks", "points"}:
        hint = "; convert with to_ticks(x) or to_points(x)"
    raise UnitError(f"cannot {what} {unit_name(a)} and {unit_name(b)}{hint}")


def add(a: str | None, b: str | None, op: str) -> str | None:
    if a == "time" and b == "time":
        if op == "-":
            return "min"
        raise UnitError("cannot add two times of day")
    if a == "time" and b in ("min", None):
        return "time"
    if b == "time" and a in ("min", None) and op == "+":
        return "time"
    return join(a, b, "add" if op == "+" else "subtract")


def multiply(a: str | None, b: str | None) -> str | None:
    if a in (None, DIMENSIONLESS):
        return b if b is not None or a is None else DIMENSIONLESS
    if b in (None, DIMENSIONLESS):
        return a
    raise UnitError(f"cannot multiply {unit_name(a)} by {unit_name(b)}")


def divide(a: str | None, b: str | None) -> str | None:
    if b in (None, DIMENSIONLESS):
        return a
    if a == b:
        return DIMENSIONLESS
    if a in (None, DIMENSIONLESS):
        raise UnitError(f"cannot divide by {unit_name(b)}: 1/{b} is not a unit mia knows")
    raise UnitError(f"cannot divide {unit_name(a)} by {unit_name(b)}")
