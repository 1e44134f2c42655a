"""One decision per closed bar: pick the signal, apply hard rules, ask the risk gate, size, bracket.

``Engine.decide`` reads a bar's rule outcomes (a row of the compiled kernel's outputs) and
returns a ``Decision`` (``mia.engine.records``): what fired, what vetoed or scaled it with the
rule's `path:line` and the values it saw, the gate state, the final action and, when it trades,
the ``OrderIntent`` to send, its id from the session's ``OrderIds``. A rule is cited as
``rules/risk.yaml:12`` (``RuleSet.where``: its folder and file, whatever folder mia ran in). Highest priority wins; a
long and a short at the same top priority cancel out (traced). No pyramiding: while a position
is open or an entry order is still working, new signals are traced ("in position", "entry
working"), not traded.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
import numpy as np

from mia.broker.orders import OrderIds, OrderIntent
from mia.dsl import ast, catalog
from mia.dsl.compile import CompiledRules
from mia.dsl.firings import format_value, reason_text
from mia.dsl.program import Read
from mia.dsl.terms import breakdown, labels
from mia.calendar import iso
from mia.engine.records import Decision
from mia.engine.risk import RiskGate


_SOURCES = {"input": 0, "output": 1, "param": 2}


class Engine:
    def __init__(self, compiled: CompiledRules, gate: RiskGate | None = None, ids: OrderIds | None = None):
        self.c = compiled
        self.rs = compiled.ruleset
        self.gate = gate or RiskGate.for_rules(self.rs)
        self.ids = ids or OrderIds()
        idx = compiled.program.output_index
        self.sig_cols = [(s, idx[s.name]) for s in self.rs.signals]
        self.hard_cols = [(h, idx[h.name]) for h in self.rs.hard_rules]
        self.scale_cols = [(s, idx[s.name]) for s in self.rs.sizing.scale]
        self.has_labels = bool(self.rs.labels)
        # the program lists what signals and hard rules read; sizing rules' reads are found here
        self.reads = dict(compiled.program.reads)
        for sc in self.rs.sizing.scale:
            self.reads.setdefault(sc.name, self._scale_reads(sc))
        # found once, not per bar: each rule's `path:line` and, per value it reads, (label, where
        # it is: 0 input / 1 output / 2 param, index, shown as a condition)
        self.where = {r.name: self.rs.where(r.pos) for r in (*self.rs.signals, *self.rs.hard_rules,
                                                              *self.rs.sizing.scale)}
        self._reads = {rule: [(r.label, _SOURCES[r.source], r.index, self._is_bool(r)) for r in reads]
                       for rule, reads in self.reads.items()}

    def _scale_reads(self, sc) -> list[Read]:
        """What a sizing rule's `when` reads by name: inputs, derived features and params (the
        program lists reads for signals and hard rules only, and keeps no probes for sizing rules)."""
        p = self.c.program
        found, seen = [], set()
        for node in ast.walk(sc.when.tree, ast.Name):
            if node.id in seen:
                continue
            if node.ref == "catalog" and node.id in p.input_index:
                found.append(Read(node.id, "input", p.input_index[node.id]))
            elif node.ref == "feature" and node.id in p.output_index:
                found.append(Read(node.id, "output", p.output_index[node.id]))
            elif node.ref == "param" and node.id in p.param_index:
                found.append(Read(node.id, "param", p.param_index[node.id]))
            else:
                continue
            seen.add(node.id)
        return found

    def _values(self, rule: str, x: np.ndarray, out: np.ndarray) -> dict[str, str]:
        vals = {}
        arrays = (x, out, self.c.params)
        for label, source, index, is_bool in self._reads[rule]:
            v = arrays[source][index]
            vals[label] = format_value(bool(v) if is_bool else v)
        return vals

    def _is_bool(self, r: Read) -> bool:
        """Whether a value a rule read is a condition (shown true/false, not 1/0)."""
        if r.source == "output":
            return self.c.program.outputs[r.index].is_bool
        f = catalog.BY_NAME.get(r.label)
        return r.source == "input" and f is not None and f.kind == "bool"

    def decide(self, t: float, x: np.ndarray, out: np.ndarray, position: int, vix: float = math.nan,
               working: Sequence = (), bar_age_s: float = math.nan, vix_age_s: float = math.nan) -> Decision:
        """The decision for the bar closing at ``t`` (inputs ``x``, kernel outputs ``out``), with
        the open ``position``, the bar's ``vix`` (for `risk.halt_vix_above`; NaN: unknown) and the
        entry orders still ``working`` (``WorkingOrder``s of role "entry": a signal while one
        works is traced as "entry working" and sends nothing); ``bar_age_s`` / ``vix_age_s``: how
        stale the data is (``RiskGate.check_entry``)."""
        d = Decision(t=t, time=iso(t), action="none", labels=labels(self.c, out) if self.has_labels else {})
        fired = [(s, col) for s, col in self.sig_cols if out[col] == 1.0]
        for s, _ in fired:
            d.fired.append({"name": s.name, "side": s.side, "priority": s.priority,
                            "where": self.where[s.name], "values": self._values(s.name, x, out)})
        self.gate.roll(t)
        d.gate = self.gate.state
        if not fired:
            return d
        self._entry(d, t, x, out, position, vix, working, bar_age_s, vix_age_s, fired)
        d.terms = self._terms(d, x, out)
        return d

    def _terms(self, d: Decision, x: np.ndarray, out: np.ndarray) -> dict[str, str]:
        """The breakdown of every derived sum a rule of the decision (fired, vetoed, scaled) read."""
        found: dict[str, str] = {}
        rules = [f["name"] for f in d.fired] + [v["rule"] for v in d.vetoes] + [s["rule"] for s in d.scales]
        for rule in rules:
            for r in self.reads.get(rule, ()):
                if r.source == "output" and r.label in self.c.program.terms and r.label not in found:
                    found[r.label] = breakdown(self.c, r.label, x, out)
        return found

    def _entry(self, d: Decision, t, x, out, position, vix, working, bar_age_s, vix_age_s, fired) -> Decision:
        """``d`` for a bar where signals fired: the chosen one, its vetoes, scales, the gate, the size."""
        top = max(s.priority for s, _ in fired)
        best = [s for s, _ in fired if s.priority == top]
        sides = {s.side for s in best}
        if len(sides) > 1:
            d.action = "conflict"
            d.detail = "long and short signals at the same priority: " + ", ".join(s.name for s in best)
            return d
        signal = best[0]
        d.chosen = signal.name
        if position != 0:
            d.action = "in position"
            d.detail = f"already {'long' if position > 0 else 'short'} {abs(position)}"
            return d
        if working:
            d.action = "entry working"
            d.detail = "waiting for " + ", ".join(
                f"{w.order_id} ({'buy' if w.side > 0 else 'sell'} {w.qty} {w.kind}"
                + (f" at {w.price:g}" if w.price is not None else "") + ")" for w in working)
            return d
        factor = 1.0
        steps = []
        for h, col in self.hard_cols:
            if out[col] != 1.0 or not h.applies_to(signal.side):
                continue
            entry = {"rule": h.name, "where": self.where[h.name], "reason": reason_text(self.c, h, out),
                     "values": self._values(h.name, x, out), "effect": h.effect}
            if h.block:
                d.vetoes.append(entry)
            else:
                factor *= h.size_factor
                steps.append(f"x{h.size_factor:g} ({h.name})")
                d.scales.append(entry)
        if d.vetoes:
            d.action = "blocked"
            d.detail = "vetoed by " + ", ".join(v["rule"] for v in d.vetoes)
            return d
        for sc, col in self.scale_cols:
            if out[col] == 1.0:
                factor *= sc.factor
                steps.append(f"x{sc.factor:g} ({sc.name})")
                d.scales.append({"rule": sc.name, "where": self.where[sc.name], "effect": f"size x{sc.factor:g}",
                                 "values": self._values(sc.name, x, out)})
        check = self.gate.check_entry(t, position, vix, bar_age_s, vix_age_s)
        if not check.ok:
            d.action = "blocked"
            d.limit, d.detail = check.limit, check.detail
            return d
        size = self.size(factor, position)
        d.size = size
        d.sizing = self.sizing_text(factor, steps, size, position)
        if size <= 0:
            d.action = "blocked"
            d.limit, d.detail = "sizing", f"size factor {factor:g} leaves no contract"
            return d
        ex = self.rs.exits
        target = ex.take_profit_ticks if ex.take_profit_ticks is not None else ex.take_profit_r * ex.stop_ticks
        d.intent = OrderIntent(id=self.ids.next(self.gate.day), t=t, side=1 if signal.side == "long" else -1,
                               qty=size, kind="market", limit_price=None, stop_ticks=ex.stop_ticks,
                               target_ticks=target, tag=signal.name)
        d.action = f"enter {signal.side} {size}"
        return d

    def sizing_text(self, factor: float, steps: list[str], size: int, position: int) -> str:
        """How the size came about: "base 2 x0.5 (gamma_wall) = 1 -> 1 contract"."""
        base = self.rs.sizing.base
        raw = base * factor
        text = f"base {base}" + "".join(" " + s for s in steps) + (f" = {raw:.4g}" if steps else "")
        if size <= 0:
            return text + " -> no contract"
        want = max(1, math.floor(raw + 1e-9))
        notes = []
        if want != raw:
            notes.append("rounded down" if raw >= 1 else "at least 1 contract")
        if size < want:
            notes.append(f"capped by risk.max_position {self.rs.risk.max_position}")
        return text + f" -> {size} contract{'s' * (size != 1)}" + (f" ({', '.join(notes)})" if notes else "")

    def size(self, factor: float, position: int) -> int:
        """Contracts for an entry: base x factor, rounded down but at least 1 unless the factor is 0,
        capped by the room left under risk.max_position."""
        if factor <= 0:
            return 0
        n = max(1, math.floor(self.rs.sizing.base * factor + 1e-9)) if self.rs.sizing.base > 0 else 0
        return max(0, min(n, self.rs.risk.max_position - abs(position)))
