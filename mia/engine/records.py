"""The trace records: what a trading session publishes, one object per thing that happened.

Each trace record carries ``rules``: the version (a short content hash) of the rule set that was
running when it happened, so a trace that spans a hot reload says which rules made each step.

A bar's ``Decision`` (no ``kind`` key in JSON, as it always had) and, with a ``kind``:
``GateRecord`` ("gate": a risk-state change), ``FlattenRecord`` ("flatten": why the position
was closed) and ``OrderRecord`` ("order": an entry cancelled or rejected, and why). Together,
in time order, they are decisions.jsonl; ``mia why`` explains them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from mia.broker.orders import OrderIntent
from mia.calendar import iso


@dataclass
class Decision:
    t: float
    time: str
    action: str                       # "none", "enter long 1", "blocked", "conflict", "in position", ...
    fired: list[dict] = field(default_factory=list)
    chosen: str | None = None
    vetoes: list[dict] = field(default_factory=list)
    scales: list[dict] = field(default_factory=list)
    gate: str = ""
    limit: str = ""
    detail: str = ""
    size: int = 0
    intent: OrderIntent | None = None
    #: labelled feature -> the label of its range on this bar (``labels:`` of the rules)
    labels: dict = field(default_factory=dict)
    #: derived sum a rule of this decision read -> "name=value = coef·term(value) + ..."
    terms: dict = field(default_factory=dict)
    #: how the size came about ("base 2 x0.5 (gamma_wall) = 1 -> 1 contract"), when one was computed
    sizing: str = ""
    #: the rules version (a content hash) that decided it
    rules: str = ""

    def to_json(self) -> dict:
        """The decisions.jsonl object (``asdict``'s, without its deep copies: the lists and
        dicts are the record's own, to be serialised, not changed)."""
        i = self.intent
        return {"t": self.t, "time": self.time, "action": self.action, "fired": self.fired, "chosen": self.chosen,
                "vetoes": self.vetoes, "scales": self.scales, "gate": self.gate, "limit": self.limit,
                "detail": self.detail, "size": self.size,
                "intent": None if i is None else {
                    "id": i.id, "t": i.t, "side": i.side, "qty": i.qty, "kind": i.kind, "limit_price": i.limit_price,
                    "stop_ticks": i.stop_ticks, "target_ticks": i.target_ticks, "tag": i.tag},
                "sizing": self.sizing, "terms": self.terms, "labels": self.labels, "rules": self.rules}


@dataclass
class GateChange:
    """kind "gate": the risk gate changed state (``old`` -> ``new``) because of ``limit`` (a
    `risk.` key, set at ``where``; "" for the day roll), having seen ``values``."""
    t: float
    old: str
    new: str
    reason: str
    limit: str = ""
    where: str = ""
    values: dict = field(default_factory=dict)
    rules: str = ""
    kind: str = "gate"

    @property
    def time(self) -> str:
        return iso(self.t)

    def to_json(self) -> dict:
        return {"kind": self.kind, "t": self.t, "time": self.time, "from": self.old, "to": self.new,
                "reason": self.reason, "limit": self.limit, "where": self.where, "values": self.values,
                "rules": self.rules}


#: the gate's records are the trace's gate records
GateRecord = GateChange


@dataclass
class FlattenRecord:
    """kind "flatten": the whole position was closed at ``price``; ``why`` is "daily loss",
    "end of trading hours", "end of data", a command, ...; ``closed``: one entry per lot closed."""
    t: float
    time: str
    why: str
    detail: str
    position: int
    price: float
    gate: str
    closed: list[dict] = field(default_factory=list)
    rules: str = ""
    kind: str = "flatten"

    def to_json(self) -> dict:
        return {"kind": self.kind, **{k: v for k, v in asdict(self).items() if k != "kind"}}


@dataclass
class OrderRecord:
    """kind "order": an entry order was ``cancelled`` (its unfilled rest) or ``rejected`` by the
    broker; ``why`` says what made it so."""
    t: float
    time: str
    order: str
    action: str                        # "cancelled" or "rejected"
    why: str
    side: int = 0
    qty: int = 0
    order_type: str = ""               # "market" or "limit"
    submitted: str = ""                # when the entry was decided
    rules: str = ""
    kind: str = "order"

    def to_json(self) -> dict:
        return {"kind": self.kind, **{k: v for k, v in asdict(self).items() if k != "kind"}}


def kind_of(rec) -> str:
    """The journal's name for a record: "bar", "gate", "flatten", "order", "fill" or "trade"."""
    from mia.broker.orders import ClosedTrade, Fill

    if isinstance(rec, Decision):
        return "bar"
    if isinstance(rec, Fill):
        return "fill"
    if isinstance(rec, ClosedTrade):
        return "trade"
    return rec.kind


def to_json(rec) -> dict:
    """A record as the JSON object decisions.jsonl (trace records) or the journal (fills, trades) holds."""
    if hasattr(rec, "to_json"):
        return rec.to_json()
    return asdict(rec)


def from_json(kind: str, d: dict):
    """The record object back from ``to_json``'s object (its ``kind_of`` is ``kind``)."""
    from mia.broker.orders import ClosedTrade, Fill

    d = {k: v for k, v in d.items() if k not in ("kind", "_line")}
    if kind == "bar":
        intent = d.get("intent")
        return Decision(**{**d, "intent": OrderIntent(**intent) if intent else None})
    if kind == "gate":
        return GateChange(d["t"], d["from"], d["to"], d["reason"], d.get("limit", ""), d.get("where", ""),
                          d.get("values", {}), d.get("rules", ""))
    if kind == "flatten":
        return FlattenRecord(**d)
    if kind == "order":
        return OrderRecord(**d)
    if kind == "fill":
        return Fill(**d)
    if kind == "trade":
        return ClosedTrade(**d)
    raise ValueError(f"unknown record kind {kind!r}")
