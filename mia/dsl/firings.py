"""Where rules fire: from a batch outcome matrix to signal and hard-rule rows with their values.

Used by ``mia signals`` (and by traces): a ``signal`` row for every row where a signal's `when`
holds; a ``hard_rule`` row for every row where a signal fired and that hard rule's `when` holds
(a rule with a ``side`` only against a signal of that side), each with the values the rule read
and, for hard rules, its reason filled in (``reason_text``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mia.dsl.compile import CompiledRules
from mia.errors import MiaError


class DataError(MiaError):
    """Input data does not fit the rules (missing columns, wrong shape)."""


@dataclass
class Firing:
    row: int
    rule: str
    kind: str                  # "signal" or "hard_rule"
    side: str                  # the signal's side; for a hard rule, the sides it stood against
    values: list[tuple[str, float]]
    effect: str = ""           # hard rules: "blocks entries", "blocks all", "size x0.5"
    reason: str = ""


def format_value(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "missing"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    return f"{float(v):.10g}"


def input_matrix(compiled: CompiledRules, columns: dict[str, np.ndarray], n_rows: int, source: str) -> np.ndarray:
    """Assemble the kernel's input matrix from named columns; a level set needs one member at least."""
    program = compiled.program
    in_set = {}
    for name, (lo, hi) in program.sets.items():
        for m in program.inputs[lo:hi]:
            in_set[m] = name
    missing, missing_sets = [], set()
    X = np.full((n_rows, len(program.inputs)), np.nan)
    for j, name in enumerate(program.inputs):
        if name in columns:
            X[:, j] = columns[name]
        elif name in in_set:
            missing_sets.add(in_set[name])
        else:
            missing.append(name)
    for set_name in sorted(missing_sets):
        lo, hi = program.sets[set_name]
        if not any(m in columns for m in program.inputs[lo:hi]):
            missing.append(f"{set_name} (columns {program.inputs[lo]}..{program.inputs[hi - 1]})")
    if missing:
        raise DataError(f"{source}: error: the rules need column{'s' if len(missing) > 1 else ''} "
                        f"missing from the data: {', '.join(missing)}")
    return X


def _value(compiled: CompiledRules, X: np.ndarray, OUT: np.ndarray, row: int, read) -> float:
    if read.source == "input":
        return X[row, read.index]
    if read.source == "output":
        return OUT[row, read.index]
    return compiled.params[read.index]


def reason_text(compiled: CompiledRules, rule, OUT_row: np.ndarray) -> str:
    """The rule's reason filled in: the first of its templates whose values are all present; when
    none is, the last, each missing value said as "(<expression> missing)"."""
    cols = compiled.program.reason_columns.get(rule.name, ())
    k = 0
    filled: list[tuple[str, bool]] = []
    for template in rule.reasons:
        pieces, complete = [], True
        for part in template:
            if part.text is not None:
                pieces.append(part.text)
                continue
            v = OUT_row[cols[k]]
            k += 1
            if part.expr.ty.kind == "bool":
                pieces.append(format_value(bool(v)))
            elif v != v:
                complete = False
                pieces.append(f"({part.expr.text.strip()} missing)")
            else:
                pieces.append(format_value(v))
        filled.append(("".join(pieces), complete))
    for text, complete in filled:
        if complete:
            return text
    return filled[-1][0] if filled else ""


def firings(compiled: CompiledRules, X: np.ndarray, OUT: np.ndarray) -> list[Firing]:
    rs = compiled.ruleset
    idx = compiled.program.output_index
    reads = compiled.program.reads
    sig_cols = [(s, idx[s.name]) for s in rs.signals]
    hard_cols = [(h, idx[h.name]) for h in rs.hard_rules]
    fired_any = np.zeros(OUT.shape[0], dtype=bool)
    for _, col in sig_cols:
        fired_any |= OUT[:, col] == 1.0
    out: list[Firing] = []
    for row in np.flatnonzero(fired_any):
        sides = []
        for s, col in sig_cols:
            if OUT[row, col] == 1.0:
                sides.append(s.side)
                out.append(Firing(int(row), s.name, "signal", s.side,
                                  [(r.label, _value(compiled, X, OUT, row, r)) for r in reads[s.name]]))
        fired_sides = sorted(set(sides))
        for h, col in hard_cols:
            against = [s for s in fired_sides if h.applies_to(s)]
            if OUT[row, col] == 1.0 and against:
                out.append(Firing(int(row), h.name, "hard_rule", "/".join(against),
                                  [(r.label, _value(compiled, X, OUT, row, r)) for r in reads[h.name]],
                                  h.effect, reason_text(compiled, h, OUT[row])))
    return out
