"""Expression AST: the nodes the Lark transformer builds and the checker annotates.

Every node keeps ``start``/``end``: character offsets inside its expression string, which the
checker maps back to a file position. After checking, ``ty`` holds the node's ``Type``.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Type:
    kind: str                 # "number", "bool" or "levels"
    unit: str | None = None   # for numbers: a unit name, "1" (dimensionless) or None (bare literal)

    def __str__(self) -> str:
        if self.kind != "number":
            return {"bool": "a boolean", "levels": "a level set"}[self.kind]
        return "a bare number" if self.unit is None else f"a number in {unit_name(self.unit)}"


def unit_name(unit: str | None) -> str:
    return {None: "no unit", "1": "no unit (a ratio)", "time": "time of day"}.get(unit, unit)


BOOL = Type("bool")


@dataclass(eq=False)
class Node:
    start: int
    end: int
    ty: Type | None = field(default=None, init=False, repr=False)

    def children(self) -> list["Node"]:
        return []


@dataclass(eq=False)
class Num(Node):
    value: float
    unit: str | None            # None: a bare number; "1": a percentage already divided by 100


@dataclass(eq=False)
class Time(Node):
    minutes: float              # minutes since midnight


@dataclass(eq=False)
class Bool(Node):
    value: bool


@dataclass(eq=False)
class Name(Node):
    id: str
    #: set by the checker: "param", "feature" (derived), "catalog" or "levels"
    ref: str = field(default="", init=False)


@dataclass(eq=False)
class Call(Node):
    fn: str
    args: list[Node]
    fn_end: int = 0             # end offset of the function name
    #: set by the checker for sma/ema/highest/lowest: the window length in bars
    window: int = field(default=0, init=False)

    def children(self) -> list[Node]:
        return list(self.args)


@dataclass(eq=False)
class Unary(Node):
    op: str                     # "-" or "not"
    operand: Node

    def children(self) -> list[Node]:
        return [self.operand]


@dataclass(eq=False)
class Binary(Node):
    op: str                     # + - * / < <= > >= == != and or
    left: Node
    right: Node
    op_start: int = 0

    def children(self) -> list[Node]:
        return [self.left, self.right]


@dataclass(eq=False)
class History(Node):
    operand: Node
    n: int

    def children(self) -> list[Node]:
        return [self.operand]


#: every concrete node class (each pass over a tree handles each of them: ``mia.dsl.visit``)
NODES: tuple[type[Node], ...] = (Num, Time, Bool, Name, Call, Unary, Binary, History)

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
ARITHMETIC = ("+", "-", "*", "/")
LOGIC = ("and", "or")


def walk(node: Node, *classes: type[Node]):
    """Every node of the tree, parents before children (only those of ``classes``, if given)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if not classes or isinstance(n, classes):
            yield n
        stack.extend(reversed(n.children()))
