"""The layout a checked rule set is evaluated in: input columns, output columns, params vector.

Shared by the numba code generator and the plain-Python reference oracle (layout only: the
two evaluate the expressions independently). Outputs, in order: derived features, signals,
hard rules, sizing scale rules, then "probes" (values a rule read, for traces and
``mia signals --csv``; and the terms of derived sums that are not plain names), the pieces of
hard-rule reasons and the conditions of labels ("label").

``terms``: a derived feature written as a sum (``0.20*pa_vote + 0.25*flow_vote - x``) -> its
terms, each a sign, a constant coefficient (a number or a param, or none) and the value it
multiplies, so that a trace can show what the feature is made of.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mia.dsl import ast, catalog
from mia.dsl.functions import FUNCTIONS
from mia.dsl.ruleset import RuleSet
from mia.dsl.visit import Visitor, Walker


@dataclass
class Output:
    name: str        # column name: a feature/signal/hard rule/scale name, or "rule:probe text"
    kind: str        # "feature", "signal", "hard_rule", "scale", "probe" or "reason"
    node: ast.Node
    is_bool: bool
    rule: str = ""   # for probes and reasons: the rule they belong to


@dataclass
class Read:
    """A value a rule read: where to find it after a step."""

    label: str       # what the rule wrote: a name, or a call like nearest(blind_spots)
    source: str      # "input", "output" or "param"
    index: int


@dataclass
class Term:
    """One term of a derived sum: ``sign * coef * value``."""

    sign: int                 # +1 or -1
    coef: float | None        # a number literal's value, or None (a param's: ``coef_param``; else 1)
    coef_param: int | None    # the param index of the coefficient
    label: str                # the text of what the coefficient multiplies (``pa_vote``)
    value: Read | None        # where its value is after a step (None: the term is a number alone)


@dataclass
class Program:
    ruleset: RuleSet
    inputs: list[str]
    sets: dict[str, tuple[int, int]]        # level set -> [start, stop) input columns
    outputs: list[Output]
    param_names: list[str]
    params: np.ndarray
    reads: dict[str, list[Read]] = field(default_factory=dict)
    #: derived features written as a sum of two terms or more -> their terms
    terms: dict[str, list[Term]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.input_index = {n: i for i, n in enumerate(self.inputs)}
        self.output_index = {o.name: i for i, o in enumerate(self.outputs)}
        self.param_index = {n: i for i, n in enumerate(self.param_names)}
        # per bar, traces read these: found once (the outputs are complete when a Program is made):
        # rule -> its reason values' output columns; (feature, label text, column) of every label
        self.reason_columns: dict[str, list[int]] = {}
        for i, o in enumerate(self.outputs):
            if o.kind == "reason":
                self.reason_columns.setdefault(o.rule, []).append(i)
        self.label_columns = [(o.rule, o.name.split(":", 2)[2], i) for i, o in enumerate(self.outputs)
                               if o.kind == "label"]

    @property
    def close_index(self) -> int:
        return self.input_index["close"]

    def reason_outputs(self, rule: str) -> list[int]:
        return list(self.reason_columns.get(rule, ()))

    def label_outputs(self) -> list[tuple[str, str, int]]:
        """(feature, label text, output column) of every label, in the order written."""
        return list(self.label_columns)


def _all_trees(rs: RuleSet):
    for f in rs.features:
        yield f.expr.tree
    for s in rs.signals:
        yield s.when.tree
    for h in rs.hard_rules:
        yield h.when.tree
        for part in h.reason:
            if part.expr is not None:
                yield part.expr.tree
    for sc in rs.sizing.scale:
        yield sc.when.tree
    for lb in rs.labels:
        yield lb.when.tree


class _Terms(Visitor):
    """The top-level terms of a sum, each (sign, coefficient node or None, the node it
    multiplies): ``0.2*a - (b + c)`` -> (+1, 0.2, a), (-1, None, b), (-1, None, c). A coefficient
    is a number or a param on either side of a ``*``."""

    def visit_Binary(self, node: ast.Binary, sign: int) -> list:
        if node.op in ("+", "-"):
            return self.visit(node.left, sign) + self.visit(node.right, -sign if node.op == "-" else sign)
        if node.op == "*" and (_constant(node.left) or _constant(node.right)):
            coef, other = (node.left, node.right) if _constant(node.left) else (node.right, node.left)
            return [(sign, coef, other)]
        return [(sign, None, node)]

    def visit_Unary(self, node: ast.Unary, sign: int) -> list:
        return self.visit(node.operand, -sign) if node.op == "-" else [(sign, None, node)]

    def generic_visit(self, node: ast.Node, sign: int) -> list:
        return [(sign, None, node)]


_TERMS = _Terms()


def _constant(node: ast.Node) -> bool:
    return isinstance(node, ast.Num) or (isinstance(node, ast.Name) and node.ref == "param")


class _Reads(Walker):
    """What a rule reads, each label once, in the order written: catalog features, derived
    features and params by name, and the calls whose value is worth showing (``probe``)."""

    def __init__(self, text: str):
        self.text = text
        self.found: list[tuple[str, str, ast.Node]] = []   # (label, what it is, node)
        self.seen: set[str] = set()

    def _add(self, label: str, what: str, node: ast.Node) -> None:
        if label not in self.seen:
            self.seen.add(label)
            self.found.append((label, what, node))

    def visit_Name(self, node: ast.Name) -> None:
        if node.ref in ("catalog", "feature", "param"):
            self._add(node.id, node.ref, node)

    def visit_Call(self, node: ast.Call) -> None:
        if FUNCTIONS[node.fn].probe:
            self._add(self.text[node.start:node.end], "call", node)
        self.generic_visit(node)


def build_program(rs: RuleSet) -> Program:
    used: set[str] = set()
    used_sets: set[str] = set()
    needs_close = False
    for tree in _all_trees(rs):
        for name in ast.walk(tree, ast.Name):
            if name.ref == "catalog":
                used.add(name.id)
            elif name.ref == "levels":
                used_sets.add(name.id)
        if any(FUNCTIONS[call.fn].reads_close for call in ast.walk(tree, ast.Call)):
            needs_close = True
    if needs_close:
        used.add("close")
    inputs: list[str] = []
    sets: dict[str, tuple[int, int]] = {}
    for ls in catalog.LEVEL_SETS:
        if ls.name in used_sets:
            sets[ls.name] = (len(inputs), len(inputs) + len(ls.members))
            inputs.extend(ls.members)
    for f in catalog.FEATURES:
        if f.name in used and f.name not in inputs:
            inputs.append(f.name)

    outputs: list[Output] = []
    for f in rs.features:
        outputs.append(Output(f.name, "feature", f.expr.tree, f.expr.ty.kind == "bool"))
    for s in rs.signals:
        outputs.append(Output(s.name, "signal", s.when.tree, True))
    for h in rs.hard_rules:
        outputs.append(Output(h.name, "hard_rule", h.when.tree, True))
    for sc in rs.sizing.scale:
        outputs.append(Output(sc.name, "scale", sc.when.tree, True))

    param_names = list(rs.params)
    program_reads: dict[str, list[Read]] = {}
    rules = [(s.name, s.when.tree, s.when.text) for s in rs.signals] + \
            [(h.name, h.when.tree, h.when.text) for h in rs.hard_rules]
    for name, tree, text in rules:
        walker = _Reads(text)
        walker.visit(tree)
        reads: list[Read] = []
        for label, what, node in walker.found:
            if what == "call":
                outputs.append(Output(f"{name}:{label}", "probe", node, False, rule=name))
                reads.append(Read(label, "output", len(outputs) - 1))
            elif what == "catalog":
                reads.append(Read(label, "input", inputs.index(label)))
            elif what == "feature":
                reads.append(Read(label, "output", [o.name for o in outputs].index(label)))
            else:
                reads.append(Read(label, "param", param_names.index(label)))
        program_reads[name] = reads
    terms: dict[str, list[Term]] = {}
    for f in rs.features:
        parts = _TERMS.visit(f.expr.tree, 1)
        if len(parts) < 2 or f.expr.ty.kind != "number":
            continue
        found = []
        for sign, c, node in parts:
            coef = float(c.value) if isinstance(c, ast.Num) else None
            coef_param = param_names.index(c.id) if isinstance(c, ast.Name) else None
            label = f.expr.text[node.start:node.end]
            if isinstance(node, ast.Num) and coef is None and coef_param is None:
                found.append(Term(sign, float(node.value), None, "", None))
                continue
            if isinstance(node, ast.Name) and node.ref == "catalog":
                read = Read(label, "input", inputs.index(node.id))
            elif isinstance(node, ast.Name) and node.ref == "feature":
                read = Read(label, "output", [o.name for o in outputs].index(node.id))
            elif isinstance(node, ast.Name) and node.ref == "param":
                read = Read(label, "param", param_names.index(node.id))
            else:                          # an expression: its value is a probe of the feature
                outputs.append(Output(f"{f.name}:{label}", "probe", node, False, rule=f.name))
                read = Read(label, "output", len(outputs) - 1)
            found.append(Term(sign, coef, coef_param, label, read))
        terms[f.name] = found
    for h in rs.hard_rules:
        k = 0
        for part in h.reason:
            if part.expr is not None:
                outputs.append(Output(f"{h.name}.reason[{k}]", "reason", part.expr.tree,
                                      part.expr.ty.kind == "bool", rule=h.name))
                k += 1
    for lb in rs.labels:
        outputs.append(Output(f"label:{lb.feature}:{lb.text}", "label", lb.when.tree, True, rule=lb.feature))
    params = np.array([rs.params[n].value for n in param_names], dtype=np.float64)
    return Program(rs, inputs, sets, outputs, param_names, params, program_reads, terms)
