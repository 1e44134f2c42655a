"""What a derived feature is made of and what range it is in, in a trader's words.

``breakdown``: a derived feature written as a sum, with each term's coefficient and value:
``bn_score=0.45 = 0.20·pa_vote(+1) + 0.25·flow_vote(+1) + 0.15·profile_vote(0) + ...``
(``Program.terms``). ``labels``: the label of each labelled feature whose range it is in
(``labels:`` of the rules; the first of a feature's labels that holds). Traces, ``mia why`` and
``mia status`` show both.
"""
from __future__ import annotations

import numpy as np

from mia.dsl.compile import CompiledRules
from mia.dsl.firings import format_value
from mia.dsl.program import Read


def _coef(v: float) -> str:
    """A coefficient as a trader writes it: 0.2 -> "0.20", 1.5 -> "1.50", 0.125 -> "0.125"."""
    two = f"{v:.2f}"
    return two if float(two) == v else format_value(v)


def _signed(v: float) -> str:
    """A term's value with its sign: +1, -1, 0, +0.35, missing."""
    if v != v:
        return "missing"
    if v == 0:
        return "0"
    text = format_value(v)
    return text if text.startswith("-") else "+" + text


def _read(c: CompiledRules, r: Read, x: np.ndarray, out: np.ndarray) -> float:
    return float(x[r.index] if r.source == "input" else out[r.index] if r.source == "output" else c.params[r.index])


def breakdown(c: CompiledRules, name: str, x: np.ndarray, out: np.ndarray) -> str | None:
    """``name=value = term + term ...`` for a derived sum (None: ``name`` is not one); ``x`` and
    ``out`` the kernel's inputs and outputs of the bar."""
    terms = c.program.terms.get(name)
    if not terms:
        return None
    value = out[c.program.output_index[name]]
    text = []
    for k, t in enumerate(terms):
        sign = "-" if t.sign < 0 else "+"
        coef = t.coef if t.coef_param is None else float(c.params[t.coef_param])
        if t.value is None:
            piece = _coef(coef)
        else:
            v = _read(c, t.value, x, out)
            piece = (f"{_coef(coef)}·" if coef is not None else "") + f"{t.label}({_signed(v)})"
        text.append((sign + " " if k else ("-" if sign == "-" else "")) + piece)
    return f"{name}={format_value(value)} = " + " ".join(text)


def labels(c: CompiledRules, out: np.ndarray) -> dict[str, str]:
    """Labelled feature -> the label of its range on this bar (features in none are left out)."""
    found: dict[str, str] = {}
    for feature, text, col in c.program.label_columns:
        if feature not in found and out[col] == 1.0:
            found[feature] = text
    return found
