"""The data's instrument against the rules': trades and quotes of another contract stop a run.

``SymbolGuard`` sees each block (or event) before the session does: the backtest driver and the
supervisor both use it. An error, not a warning: every P&L of a run over another contract's data
would be wrong by the ratio of tick values, and look right.
"""
from __future__ import annotations

import numpy as np

from mia.errors import MiaError


class DataMismatch(MiaError):
    """The data is not the rules' instrument's: the run stops."""


class SymbolGuard:
    """The symbol of every trade and quote must be one of the rules' instrument: its
    ``sierra_symbol`` of config/instruments.yaml (``NQ{month}{yy}_FUT_CME`` matches NQZ25_FUT_CME).
    An instrument without one, and a line without a symbol, are not judged. A refusal is an
    error, not a warning: every P&L of such a run would be wrong by the ratio of tick values,
    and look right."""

    def __init__(self, ruleset):
        from mia.instruments import symbol_pattern

        self.rs = ruleset
        self.pattern = symbol_pattern(ruleset.sierra_symbol)
        self.good: set[str] = set()

    def block(self, block) -> None:
        from mia.market.columnar.codes import QUOTE, SYM, TRADE

        if self.pattern is None:
            return
        rows = np.flatnonzero((block.code == TRADE) | (block.code == QUOTE))
        if len(rows):
            ids, first = np.unique(block.x[rows, SYM], return_index=True)
            for k, i in zip(ids, first):
                self.symbol(block.syms[int(k)], float(block.t[rows[i]]))
        for ev in block.others:
            if ev.type in ("trade", "quote"):
                self.symbol(ev.sym, ev.t)

    def symbol(self, sym: str, t: float) -> None:
        if not sym or sym in self.good:
            return
        if self.pattern.match(sym):
            self.good.add(sym)
            return
        from mia.calendar import iso
        from mia.resources import instruments_path

        table = instruments_path(near=self.rs.files[0]) if self.rs.files else instruments_path()
        raise DataMismatch(f"--data: error: the data trades {sym} (from {iso(t)}), but the rules are for "
                       f"{self.rs.instrument}, whose contracts are {self.rs.sierra_symbol} ({table}): "
                       f"use data or rules of one instrument (or correct sierra_symbol there)")

    def event(self, ev) -> None:
        if self.pattern is not None and ev.type in ("trade", "quote"):
            self.symbol(ev.sym, ev.t)
