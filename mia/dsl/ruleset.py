"""The checked rule set: what the loader/checker produce and the compiler and engine consume.

Every expression is a typed AST (``mia.dsl.ast``) with its source text and file position, so a
decision trace can cite ``path:line`` and show what the rule said.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from mia.dsl import ast
from mia.dsl.errors import Pos


@dataclass
class Expr:
    """One expression of a rule file: its text, where it is, and its checked tree."""

    text: str
    pos: Pos
    tree: ast.Node

    @property
    def ty(self) -> ast.Type:
        return self.tree.ty


@dataclass
class Param:
    name: str
    value: float
    unit: str | None          # None: a bare number (compares with anything)
    pos: Pos
    is_time: bool = False


@dataclass
class DerivedFeature:
    name: str
    expr: Expr
    pos: Pos


@dataclass
class Signal:
    name: str
    when: Expr
    side: str                 # "long" or "short"
    priority: int
    pos: Pos


@dataclass
class ReasonPart:
    text: str | None = None   # a literal piece of the template, or
    expr: Expr | None = None  # an expression to fill in


@dataclass
class HardRule:
    name: str
    when: Expr
    block: str | None         # "entries" or "all"; None for a soft rule
    size_factor: float | None
    #: the reason templates, in order: the first whose values are all present is shown
    reasons: list[list[ReasonPart]]
    pos: Pos
    side: str | None = None   # "long" / "short": stands only against entries of that side

    @property
    def reason(self) -> list[ReasonPart]:
        """Every part of every template, in order (the program's reason outputs follow it)."""
        return [part for template in self.reasons for part in template]

    def applies_to(self, side: str) -> bool:
        """Whether the rule stands against an entry of ``side`` ("long" or "short")."""
        return self.side is None or self.side == side

    @property
    def effect(self) -> str:
        """What the rule does when it holds, in words: "blocks entries", "blocks long entries",
        "size x0.5", "size x0.5 (short entries)"."""
        if self.block:
            return f"blocks {self.side} entries" if self.side else f"blocks {self.block}"
        return f"size x{self.size_factor:g}" + (f" ({self.side} entries)" if self.side else "")


@dataclass
class Label:
    """A name for a range of a feature: ``text`` while ``when`` holds (the first of the
    feature's labels that holds wins)."""

    feature: str
    text: str
    when: Expr
    pos: Pos


@dataclass
class ScaleRule:
    name: str
    when: Expr
    factor: float
    pos: Pos


@dataclass
class TradingHours:
    start_min: int            # minutes after midnight, in ``zone``
    end_min: int
    zone: str

    def __str__(self) -> str:
        f = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
        return f"{f(self.start_min)}-{f(self.end_min)} {self.zone}"


@dataclass
class Risk:
    """Risk limits; the defaults are domain.md's (a rule file overrides any of them)."""

    capital_usd: float = 25_000.0
    daily_loss_usd: float = 500.0
    daily_profit_target_usd: float = 1_000.0
    max_position: int = 2
    max_trades_per_day: int = 10
    max_consecutive_losses: int = 4
    max_order_rejections: int = 10
    cooldown_after_stop_min: float = 15.0
    trading_hours: TradingHours = field(default_factory=lambda: TradingHours(540, 960, "America/New_York"))
    halt_vix_above: float = 35.0           # extreme VIX (domain.md: no entries from 35)
    stale_bar_seconds: float = 30.0
    stale_vix_seconds: float = 300.0


@dataclass
class Exits:
    stop_ticks: float = 8.0
    take_profit_r: float | None = 2.0      # target in multiples of the stop, or
    take_profit_ticks: float | None = None  # a fixed distance


@dataclass
class Sizing:
    base: int = 1
    scale: list[ScaleRule] = field(default_factory=list)


def trace_path(path: str) -> str:
    """A rule file as traces name it: its folder's name and its own (``rules/risk.yaml``)."""
    full = os.path.abspath(path)
    folder = os.path.basename(os.path.dirname(full))
    return f"{folder}/{os.path.basename(full)}" if folder else os.path.basename(full)


@dataclass
class RuleSet:
    instrument: str
    tick_size: float
    tick_value: float
    params: dict[str, Param]
    features: list[DerivedFeature]      # in dependency order
    signals: list[Signal]
    hard_rules: list[HardRule]
    risk: Risk
    exits: Exits
    sizing: Sizing
    files: list[str]
    #: where each top-level risk/exits/sizing key was set (for traces)
    setting_pos: dict[str, Pos] = field(default_factory=dict)
    #: sha256 of the rule files' text, for "which rules are running"
    source_hash: str = ""
    #: the instrument's Sierra Chart symbol pattern (config/instruments.yaml ``sierra_symbol``,
    #: e.g. ``ES{month}{yy}_FUT_CME``; "" when the table gives none)
    sierra_symbol: str = ""
    #: hidden files of the rule folders that were left out (``.#risk.yaml``, ``._risk.yaml``)
    skipped_files: list[str] = field(default_factory=list)
    #: names of ranges of features (``labels:``), in the order written
    labels: list[Label] = field(default_factory=list)

    def where(self, pos: Pos) -> str:
        """``pos`` as traces cite it: ``<folder>/<file>:<line>``, the file relative to its rule
        folder's parent, so that a trace reads the same whatever folder mia ran in."""
        return f"{trace_path(pos.path)}:{pos.line}"

    def feature(self, name: str) -> DerivedFeature | None:
        return next((f for f in self.features if f.name == name), None)
