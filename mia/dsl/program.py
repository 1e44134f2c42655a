"""The layout a checked rule set is evaluated in: input columns, output columns, params vector.

Shared by the numba code generator and the plain-Python reference oracle (layout only: the
two evaluate the expressions independently). Outputs, in order: derived features, signals,
hard rules, sizing scale rules, then "probes" (values a rule read, for traces and
``mia signals --csv``) and the pieces of hard-rule reasons.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mia.dsl import ast, catalog
from mia.dsl.functions import FUNCTIONS
from mia.dsl.ruleset import RuleSet
from mia.dsl.visit import Walker


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
class Program:
    ruleset: RuleSet
    inputs: list[str]
    sets: dict[str, tuple[int, int]]        # level set -> [start, stop) input columns
    outputs: list[Output]
    param_names: list[str]
    params: np.ndarray
    reads: dict[str, list[Read]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.input_index = {n: i for i, n in enumerate(self.inputs)}
        self.output_index = {o.name: i for i, o in enumerate(self.outputs)}
        self.param_index = {n: i for i, n in enumerate(self.param_names)}

    @property
    def close_index(self) -> int:
        return self.input_index["close"]

    def reason_outputs(self, rule: str) -> list[int]:
        return [i for i, o in enumerate(self.outputs) if o.kind == "reason" and o.rule == rule]


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
    for h in rs.hard_rules:
        k = 0
        for part in h.reason:
            if part.expr is not None:
                outputs.append(Output(f"{h.name}.reason[{k}]", "reason", part.expr.tree,
                                      part.expr.ty.kind == "bool", rule=h.name))
                k += 1
    params = np.array([rs.params[n].value for n in param_names], dtype=np.float64)
    return Program(rs, inputs, sets, outputs, param_names, params, program_reads)
