"""The backtest loop: the same streaming path as live, over replayed events, deterministic.

Per event: a trade first goes to the paper broker (fills of working orders, then the open
position is marked against the daily loss limit), then to the feature engine; when a bar
closes, the rule kernel runs on its features and the engine decides. Orders decided at a
bar's close fill on the trades that follow; the engine sees the working entries (no second
entry while one works: "entry working"), and an entry not filled by the close of the next bar
is cancelled right after that bar's decision (so a new entry can come one bar later).
Working entries are also cancelled when the trading hours end, at a flatten, when the gate
leaves ACTIVE (halt, profit target) and at the end of the data. An open position is flattened
at a daily-loss breach, when the trading hours end, when the trading day ends (the data of a
day stopped inside its hours: nothing is carried overnight) and at the end of the data. While a
position is open, the first event of a new trading day rolls the risk gate. A broker refusal
is traced and counted as a rejection (``risk.max_order_rejections``), never raised.

The trace (``BacktestResult.trace``, written as decisions.jsonl) is every bar's ``Decision``
with, in time order between them, the gate changes, flattens and order cancellations or
rejections (``mia.engine.decide``: ``GateRecord``, ``FlattenRecord``, ``OrderRecord``).

Two feeds, one result: ``on_event`` takes events one by one (``replay``, live); ``on_block``
takes a columnar block (``mia.features.blocks``) and lets the feature kernel run through the
events that cannot matter to the broker or the gate (book updates, and trades priced strictly
inside the band where no order fills and no daily limit is crossed: ``quiet_band``), handing
every other event to ``on_event``. Tests hold the two equal, decision by decision.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from mia.broker.orders import BrokerError, OrderIntent
from mia.broker.paper import PaperBroker
from mia.dsl import catalog
from mia.dsl.compile import CompiledRules
from mia.calendar import in_hours, iso
from mia.engine.decide import Decision, Engine, FlattenRecord, GateRecord, OrderRecord
from mia.engine.risk import ACTIVE, RiskGate
from mia.features.batch import drive
from mia.features.kernel import LAST

_CATALOG_INDEX = {f.name: i for i, f in enumerate(catalog.FEATURES)}


#: why working entries are cancelled / positions flattened (``OrderRecord.why``, ``FlattenRecord.why``)
EXPIRED = "not filled by the close of the next bar"
END_OF_HOURS = "end of trading hours"
END_OF_DATA = "end of data"
END_OF_DAY = "end of trading day"
DAILY_LOSS = "daily loss"


@dataclass
class BacktestResult:
    #: one per closed bar
    decisions: list[Decision] = field(default_factory=list)
    #: every trace record in time order: the decisions, and the gate/flatten/order records
    trace: list = field(default_factory=list)
    trades: list = field(default_factory=list)
    events: int = 0
    bars: int = 0
    days: set = field(default_factory=set)
    #: bad data lines skipped, by reason
    bad_lines: dict = field(default_factory=dict)


class Backtest:
    """Wires one rule set to a paper broker; feed it events with ``on_event``."""

    def __init__(self, compiled: CompiledRules, feature_engine, slippage_ticks: float = 1.0,
                 commission_per_contract: float = 2.25, outcomes: np.ndarray | None = None):
        self.c = compiled
        rs = compiled.ruleset
        self.features = feature_engine
        self.gate = RiskGate.for_rules(rs)
        self.engine = Engine(compiled, self.gate)
        self.broker = PaperBroker(rs.tick_size, rs.tick_value, slippage_ticks, commission_per_contract)
        self.point_value = rs.tick_value / rs.tick_size
        self.cols = np.array([_CATALOG_INDEX[n] for n in compiled.inputs], dtype=np.int64)
        self.state = compiled.new_state()
        self.out = np.empty(len(compiled.outputs))
        #: precomputed kernel outputs, one row per bar (the batch path); None: stream the kernel
        self.outcomes = outcomes
        self.result = BacktestResult()
        self.last_price = float("nan")
        self._closed_seen = 0
        self._changes_seen = 0
        #: working entry id -> (bars closed when it was decided, the time it was decided)
        self._submitted: dict[str, tuple[int, float]] = {}

    # -- the trace ----------------------------------------------------------------------------
    def _record(self, rec) -> None:
        self._drain_gate()
        self.result.trace.append(rec)

    def _drain_gate(self) -> None:
        """Trace the gate's new state changes; one that leaves ACTIVE cancels working entries."""
        changes = self.gate.changes
        while self._changes_seen < len(changes):
            ch = changes[self._changes_seen]
            self._changes_seen += 1
            self.result.trace.append(GateRecord.of(ch))
            if ch.new != ACTIVE:
                self.cancel_entries(ch.t, f"risk gate {ch.new}")

    # -- orders -------------------------------------------------------------------------------
    def _working_entries(self) -> list:
        return [w for w in self.broker.working if w.role == "entry"]

    def cancel_entries(self, t: float, why: str, only=None) -> int:
        """Cancel the working entries (those ``only(order)`` accepts), each traced with ``why``."""
        n = 0
        for w in self._working_entries():
            if only is not None and not only(w):
                continue
            if self.broker.cancel(w.order_id):
                n += 1
                sub = self._submitted.pop(w.order_id, None)
                self._record(OrderRecord(t, iso(t), w.order_id, "cancelled", why, w.side, w.qty, w.kind,
                                         iso(sub[1]) if sub else ""))
        return n

    def submit(self, t: float, intent: OrderIntent) -> bool:
        """Send an entry decided at ``t``; a broker refusal is traced ("order" "rejected") and
        counted by the gate as a rejection, never raised. True when the broker took it."""
        try:
            self.broker.submit(intent)
        except BrokerError as exc:      # a refused order is traced and counted, never the end of the run
            self._record(OrderRecord(t, iso(t), intent.id, "rejected", str(exc), intent.side, intent.qty,
                                     intent.kind, iso(t)))
            self.gate.on_rejection(t)
            self._drain_gate()
            return False
        self._submitted[intent.id] = (self.result.bars, t)
        return True

    def _expire(self, t: float) -> None:
        """At a bar's close: cancel the entries decided at an earlier bar's close still unfilled."""
        if not self._submitted:
            return
        bars = self.result.bars
        self.cancel_entries(t, EXPIRED, lambda w: self._submitted.get(w.order_id, (-1, 0.0))[0] < bars)
        working = {w.order_id for w in self._working_entries()}
        self._submitted = {k: v for k, v in self._submitted.items() if k in working}

    def _after_fills(self, t: float, fills) -> None:
        for f in fills:
            if f.role == "entry":
                self.gate.on_entry(t)
        trades = self.broker.closed_trades
        for tr in trades[self._closed_seen:]:
            self.gate.on_closed_trade(tr.exit_t, tr.net_usd, tr.exit_role == "stop")
            self.result.trades.append(tr)
        self._closed_seen = len(trades)
        self._drain_gate()

    def flatten(self, t: float, price: float, why: str = "flatten", detail: str = "") -> None:
        """Cancel the working entries and close the whole position at ``price``, traced with ``why``."""
        self._drain_gate()
        self.cancel_entries(t, why)
        pos = self.broker.position
        if not pos or price != price:
            return
        before = len(self.broker.closed_trades)
        fills = self.broker.flatten(t, price)
        closed = [{"order": tr.entry_id, "tag": tr.tag, "qty": tr.qty, "entry_price": tr.entry_price,
                   "exit_price": tr.exit_price, "net_usd": round(tr.net_usd, 2)}
                  for tr in self.broker.closed_trades[before:]]
        self._record(FlattenRecord(t, iso(t), why, detail, pos, price, self.gate.state, closed))
        self._after_fills(t, fills)

    def on_trade(self, t: float, price: float, size: float) -> None:
        self.last_price = price
        self._after_fills(t, self.broker.on_trade(t, price, size))
        pos = self.broker.position
        if pos:
            unrealized = (price - self.broker.avg_price) * pos * self.point_value
            if self.gate.mark(t, unrealized):
                self.flatten(t, price, DAILY_LOSS, self.gate.reason)
            else:
                self._drain_gate()

    def on_event(self, ev) -> None:
        self.result.events += 1
        if self.broker.position and self.gate.ends_day(ev.t):
            # the data stopped inside the trading hours: no position is carried into the next day
            t = self.result.decisions[-1].t if self.result.decisions else ev.t
            self._sync_last_price()
            self.flatten(t, self.last_price, END_OF_DAY, "the trading day ended with the position open")
        if self.broker.position and self.gate.roll(ev.t):
            self._drain_gate()
        if ev.type == "trade":
            self.on_trade(ev.t, float(ev.f["px"]), float(ev.f.get("vol", 1)))
        if self.features.update(ev):
            self.on_bar(self.features.row_time, self.features.row)

    def quiet_band(self) -> tuple[float, float]:
        """Trade prices strictly inside (lo, hi) fill nothing and cross no daily limit."""
        lo, hi = self.broker.quiet_band()
        pos = self.broker.position
        if pos:
            glo, ghi = self.gate.quiet_band(pos, self.broker.avg_price, self.point_value, self.c.ruleset.tick_size)
            lo, hi = max(lo, glo), min(hi, ghi)
        return lo, hi

    def on_block(self, block) -> None:
        """Every event of a block, as ``on_event`` one by one would take them."""
        taken = drive(block, self.features.st, self.features.depth, self.on_event, self.quiet_band)
        self.result.events += taken          # on_event counts the events it took itself

    def _sync_last_price(self) -> None:
        """Trades the block kernel took are in the feature engine's book, not seen by ``on_trade``."""
        if self.features is not None:
            self.last_price = float(self.features.st[LAST])

    def on_bar(self, t: float, row: np.ndarray) -> None:
        self._sync_last_price()
        x = row[self.cols]
        if self.outcomes is not None:
            out = self.outcomes[self.result.bars]
        else:
            out = self.out
            self.c.stream(x, self.state, out)
        self.result.bars += 1
        self.gate.roll(t)
        d = self.engine.decide(t, x, out, self.broker.position, working=self._working_entries())
        self._drain_gate()                      # the roll's and the decision's gate changes, before the bar
        self.result.days.add(self.gate.day)
        self.result.decisions.append(d)
        self.result.trace.append(d)
        if not self._in_hours(t):               # flat, and nothing working, by the end of the trading hours
            h = self.c.ruleset.risk.trading_hours
            self.flatten(t, self.last_price, END_OF_HOURS, f"outside risk.trading_hours {h}")
        self._expire(t)                         # this bar saw them working ("entry working"); now they go
        if d.intent is not None:
            self.submit(t, OrderIntent(**d.intent))

    def _in_hours(self, t: float) -> bool:
        h = self.c.ruleset.risk.trading_hours
        return in_hours(t, h.start_min, h.end_min, h.zone)

    def finish(self) -> BacktestResult:
        """The data ended: the last bar closes and is decided, then any position is flattened."""
        if self.features is not None and self.features.flush():
            self.on_bar(self.features.row_time, self.features.row)
        self._sync_last_price()
        t = self.result.decisions[-1].t if self.result.decisions else 0.0
        self.flatten(t, self.last_price, END_OF_DATA, "the data ended")
        self._drain_gate()
        self.result.days.discard(None)
        return self.result


def run(compiled: CompiledRules, feature_engine, events: Iterable, **kw) -> BacktestResult:
    bt = Backtest(compiled, feature_engine, **kw)
    for ev in events:
        bt.on_event(ev)
    return bt.finish()
