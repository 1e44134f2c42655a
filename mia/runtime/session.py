"""The trading session: the one loop every mode runs (backtest, replay, live).

A ``Session`` takes compiled rules, a ``FeatureEngine``, an execution port (a ``Broker``: the
paper broker or a live one) and record sinks, and offers ``on_event`` / ``on_block`` (market
data), ``on_fill`` (a live broker's reports), ``on_command`` (operators) and ``finish``. It is
synchronous and deterministic: asyncio, files and sockets live at the edges that call it.

Per event: a trade first goes to a simulated broker (fills of working orders), then the open
position is marked against the daily loss limit, then the event goes to the feature engine;
when a bar closes, the rule kernel runs on its features and the engine decides. Orders decided
at a bar's close fill on the trades that follow; the engine sees the working entries (no second
entry while one works: "entry working"), and an entry not filled by the close of the next bar
is cancelled right after that bar's decision (so a new entry can come one bar later). Working
entries are also cancelled when the trading hours end, at a flatten, when the gate leaves
ACTIVE (halt, profit target, pause) and at the end of the data. An open position is flattened
at a daily-loss breach, when the trading hours end, when the trading day ends (the data of a
day stopped inside its hours: nothing is carried overnight), at a ``flatten`` command and at
the end of the data. A broker refusal is traced and counted as a rejection
(``risk.max_order_rejections``), never raised.

Records out: every ``Decision``, ``GateChange`` (published by the gate), ``FlattenRecord``,
``OrderRecord`` (``mia.engine.records``), ``Fill`` and ``ClosedTrade`` (reported by the broker)
goes to each sink, in the order it happened. A broker's reports that come while the session is
acting on it (a fill inside ``on_trade``, the closing fills of a flatten) are applied when that
call returns, so the session's own record of the act comes first.

Two feeds, one result: ``on_event`` takes events one by one; ``on_block`` takes a columnar
block and lets the feature kernel run through the events that cannot matter to the broker or
the gate (``quiet_band``), handing every other event to ``on_event``. Tests hold them equal.
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import date

import numpy as np

from mia.broker.orders import Broker, BrokerError, ClosedTrade, Fill, OrderIds, OrderIntent, SimulatedBroker
from mia.dsl import catalog
from mia.dsl.compile import CompiledRules
from mia.calendar import in_hours, iso, trading_day
from mia.engine.decide import Engine
from mia.engine.records import FlattenRecord, GateChange, OrderRecord
from mia.engine.risk import ACTIVE, FLATTEN, OPERATOR_HOLDS, PAUSE, REDUCE_ONLY, Limits, RiskGate
from mia.features.config import FeatureConfig
from mia.runtime.commands import Command, Result

_CATALOG_INDEX = {f.name: i for i, f in enumerate(catalog.FEATURES)}
_VIX = _CATALOG_INDEX["vix"]

#: why working entries are cancelled / positions flattened (``OrderRecord.why``, ``FlattenRecord.why``)
EXPIRED = "not filled by the close of the next bar"
END_OF_HOURS = "end of trading hours"
END_OF_DATA = "end of data"
END_OF_DAY = "end of trading day"
DAILY_LOSS = "daily loss"
COMMAND = "flatten command"

Sink = Callable[[object], None]


def _num(x: float) -> float | None:
    return None if x != x else x


class Session:
    """One rule set trading one instrument through one broker; see the module docstring."""

    def __init__(self, compiled: CompiledRules, features, broker: Broker, sinks: Iterable[Sink] = (),
                 ids: OrderIds | None = None):
        self.c = compiled
        rs = compiled.ruleset
        self.features = features
        self.broker = broker
        self.simulated = isinstance(broker, SimulatedBroker)
        self.sinks: list[Sink] = list(sinks)
        self.gate = RiskGate.for_rules(rs, publish=self._on_gate_change)
        self.ids = ids or OrderIds()
        self.engine = Engine(compiled, self.gate, self.ids)
        self.point_value = rs.tick_value / rs.tick_size
        self._bind(compiled)
        self.events = 0
        self.bars = 0
        self.days: set = set()
        #: the feed's time: the last event taken
        self.now = 0.0
        self._last_trade = float("nan")
        self._last_bar_t: float | None = None
        self.finished = False
        #: after ``restore``: whether the kernel's state came back (False: other rules, warm it)
        self.kernel_restored = True
        #: working entry id -> (bars closed when it was decided, the time it was decided)
        self._submitted: dict[str, tuple[int, float]] = {}
        self._held: list | None = None
        #: today's feature rows (a reload warms the new kernel on them)
        self.today_rows: list[np.ndarray] = []
        #: the last bar's labels (``labels:`` of the rules: feature -> the name of its range)
        self.labels: dict[str, str] = {}
        self._rows_day = None
        broker.attach(self._on_report)

    @property
    def version(self) -> str:
        """The running rules' version: the first 12 hex digits of their content hash."""
        return self.c.ruleset.source_hash[:12]

    def _bind(self, compiled: CompiledRules) -> None:
        self.cols = np.array([_CATALOG_INDEX[n] for n in compiled.inputs], dtype=np.int64)
        self.state = compiled.new_state()
        self.out = np.empty(len(compiled.outputs))

    # -- records ------------------------------------------------------------------------------
    def _publish(self, rec) -> None:
        if hasattr(rec, "rules"):
            rec.rules = self.version
        for sink in self.sinks:
            sink(rec)

    def _on_gate_change(self, ch: GateChange) -> None:
        """A gate change is a record; one that leaves ACTIVE cancels the working entries."""
        self._publish(ch)
        if ch.new != ACTIVE:
            self.cancel_entries(ch.t, f"risk gate {ch.new}")

    def _on_report(self, report) -> None:
        if self._held is not None:
            self._held.append(report)
        else:
            self._apply(report)

    def _call(self, fn, *args) -> list:
        """Call the broker; what it reports meanwhile is returned, to be applied after."""
        if self._held is not None:
            raise RuntimeError("the session is already acting on the broker")
        self._held = held = []
        try:
            fn(*args)
        finally:
            self._held = None
        return held

    def _apply(self, report) -> None:
        if isinstance(report, Fill):
            self._publish(report)
            if report.role == "entry":
                self.gate.on_entry(report.t)
        elif isinstance(report, ClosedTrade):
            self._publish(report)
            self.gate.on_closed_trade(report.exit_t, report.net_usd, report.exit_role == "stop")

    def on_fill(self, report: Fill | ClosedTrade) -> None:
        """A live broker's report (a fill or a closed trade), taken from the supervisor's queue."""
        self._apply(report)

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
                self._publish(OrderRecord(t, iso(t), w.order_id, "cancelled", why, w.side, w.qty, w.kind,
                                          iso(sub[1]) if sub else ""))
        return n

    def submit(self, t: float, intent: OrderIntent) -> bool:
        """Send an entry decided at ``t``; a broker refusal is traced ("order" "rejected") and
        counted by the gate as a rejection, never raised. True when the broker took it."""
        try:
            reports = self._call(self.broker.submit, intent)
        except BrokerError as exc:      # a refused order is traced and counted, never the end of the run
            self._publish(OrderRecord(t, iso(t), intent.id, "rejected", str(exc), intent.side, intent.qty,
                                      intent.kind, iso(t)))
            self.gate.on_rejection(t)
            return False
        self._submitted[intent.id] = (self.bars, t)
        for r in reports:
            self._apply(r)
        return True

    def _expire(self, t: float) -> None:
        """At a bar's close: cancel the entries decided at an earlier bar's close still unfilled."""
        if not self._submitted:
            return
        bars = self.bars
        self.cancel_entries(t, EXPIRED, lambda w: self._submitted.get(w.order_id, (-1, 0.0))[0] < bars)
        working = {w.order_id for w in self._working_entries()}
        self._submitted = {k: v for k, v in self._submitted.items() if k in working}

    def flatten(self, t: float, price: float, why: str = "flatten", detail: str = "") -> None:
        """Cancel the working entries and close the whole position at ``price``, traced with ``why``."""
        self.cancel_entries(t, why)
        pos = self.broker.position
        if not pos or price != price:
            return
        reports = self._call(self.broker.flatten, t, price)
        closed = [{"order": tr.entry_id, "tag": tr.tag, "qty": tr.qty, "entry_price": tr.entry_price,
                   "exit_price": tr.exit_price, "net_usd": round(tr.net_usd, 2)}
                  for tr in reports if isinstance(tr, ClosedTrade)]
        self._publish(FlattenRecord(t, iso(t), why, detail, pos, price, self.gate.state, closed))
        for r in reports:
            self._apply(r)

    # -- market data --------------------------------------------------------------------------
    @property
    def last_price(self) -> float:
        """The last trade's price (the feature engine's, which also saw the trades the block
        kernel took)."""
        return self.features.last_price if self.features is not None else self._last_trade

    def on_trade(self, t: float, price: float, size: float) -> None:
        self._last_trade = price
        if self.simulated:
            for r in self._call(self.broker.on_trade, t, price, size):
                self._apply(r)
        pos = self.broker.position
        if pos:
            unrealized = (price - self.broker.avg_price) * pos * self.point_value
            if self.gate.mark(t, unrealized):
                self.flatten(t, price, DAILY_LOSS, self.gate.reason)

    def on_event(self, ev) -> None:
        self.events += 1
        self.now = ev.t
        if self.broker.position and self.gate.ends_day(ev.t):
            # the data stopped inside the trading hours: no position is carried into the next day
            t = self._last_bar_t if self._last_bar_t is not None else ev.t
            self.flatten(t, self.last_price, END_OF_DAY, "the trading day ended with the position open")
        if self.broker.position:
            self.gate.roll(ev.t)
        if ev.type == "trade":
            self.on_trade(ev.t, float(ev.f["px"]), float(ev.f.get("vol", 1)))
        if self.features.update(ev):
            self.on_bar(self.features.row_time, self.features.row)

    def quiet_band(self) -> tuple[float, float]:
        """Trade prices strictly inside (lo, hi) fill nothing and cross no daily limit."""
        lo, hi = self.broker.quiet_band() if self.simulated else (-np.inf, np.inf)
        pos = self.broker.position
        if pos:
            glo, ghi = self.gate.quiet_band(pos, self.broker.avg_price, self.point_value, self.c.ruleset.tick_size)
            lo, hi = max(lo, glo), min(hi, ghi)
        return lo, hi

    def on_block(self, block) -> None:
        """Every event of a block, as ``on_event`` one by one would take them."""
        taken = self.features.run_block(block, self.on_event, self.quiet_band)
        self.events += taken          # on_event counts the events it took itself
        if len(block.t):
            self.now = max(self.now, float(block.t[-1]))

    # -- bars -----------------------------------------------------------------------------------
    def on_bar(self, t: float, row: np.ndarray) -> None:
        x = row[self.cols]
        self.c.stream(x, self.state, self.out)
        self.bars += 1
        self.gate.roll(t)
        now = max(self.now, t)
        vix_t = self.features.vix_t if self.features is not None else float("nan")
        d = self.engine.decide(t, x, self.out, self.broker.position, float(row[_VIX]),
                               working=self._working_entries(), bar_age_s=now - t, vix_age_s=now - vix_t)
        self._keep_row(self.gate.day, row)
        self.days.add(self.gate.day)
        self._last_bar_t = t
        self.labels = d.labels
        self._publish(d)
        if not self._in_hours(t):               # flat, and nothing working, by the end of the trading hours
            h = self.c.ruleset.risk.trading_hours
            self.flatten(t, self.last_price, END_OF_HOURS, f"outside risk.trading_hours {h}")
        self._expire(t)                         # this bar saw them working ("entry working"); now they go
        if d.intent is not None:
            self.submit(t, d.intent)

    def _keep_row(self, day, row: np.ndarray) -> None:
        if day != self._rows_day:
            self._rows_day, self.today_rows = day, []
        self.today_rows.append(row.copy())

    def warm_event(self, ev) -> None:
        """Data from before the session's place in the stream (a restart's catch-up, a live
        feed's files from before it started): it builds the features and today's rows; nothing
        is decided, ordered or recorded."""
        if self.features.update(ev):
            self._keep_row(trading_day(self.features.row_time), self.features.row)

    def warm_block(self, block) -> None:
        self.features.run_block(block, self.warm_event)

    def _in_hours(self, t: float) -> bool:
        h = self.c.ruleset.risk.trading_hours
        return in_hours(t, h.start_min, h.end_min, h.zone)

    def finish(self) -> None:
        """The data ended: the last bar closes and is decided, then any position is flattened.
        Once only (a restart after it does not do it again)."""
        if self.finished:
            return
        self.finished = True
        if self.features is not None and self.features.flush():
            self.on_bar(self.features.row_time, self.features.row)
        t = self._last_bar_t if self._last_bar_t is not None else 0.0
        self.flatten(t, self.last_price, END_OF_DATA, "the data ended")
        self.days.discard(None)

    # -- state ----------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Everything of the session that is not re-derived from the data, as plain data: the
        counters, the gate's day, the broker's book (a simulated one's), the order ids, the
        rule kernel's state. The journal keeps it beside the feed's position."""
        broker = self.broker.snapshot() if hasattr(self.broker, "snapshot") else None
        return {"events": self.events, "bars": self.bars, "days": sorted(d.isoformat() for d in self.days if d),
                "now": self.now, "last_trade": _num(self._last_trade), "last_bar_t": self._last_bar_t,
                "submitted": {k: list(v) for k, v in self._submitted.items()}, "ids": self.ids.last,
                "gate": self.gate.snapshot(), "broker": broker, "rules_version": self.c.ruleset.source_hash,
                "finished": self.finished,
                "kernel": base64.b64encode(self.state.tobytes()).decode()}

    def restore(self, snap: dict) -> None:
        """The state ``snapshot`` gave (the features come from replaying the data, not from here).
        The kernel's state is taken only if it was made by the same rules (``kernel_restored``;
        else the caller warms the new kernel on today's bars once the catch-up is done)."""
        self.events, self.bars, self.now = int(snap["events"]), int(snap["bars"]), float(snap["now"])
        self.days = {date.fromisoformat(d) for d in snap["days"]}
        self._last_trade = float("nan") if snap["last_trade"] is None else float(snap["last_trade"])
        self._last_bar_t = snap["last_bar_t"]
        self.finished = bool(snap.get("finished", False))
        self._submitted = {k: (int(v[0]), float(v[1])) for k, v in snap["submitted"].items()}
        self.ids.last = int(snap["ids"])
        self.gate.restore(snap["gate"])
        if snap.get("broker") is not None and hasattr(self.broker, "restore"):
            self.broker.restore(snap["broker"])
        kernel = np.frombuffer(base64.b64decode(snap["kernel"]), dtype=np.float64)
        self.kernel_restored = snap.get("rules_version") == self.c.ruleset.source_hash and \
            kernel.shape == self.state.shape
        if self.kernel_restored:
            self.state = kernel.copy()

    def warm_state(self, compiled: CompiledRules) -> np.ndarray:
        """A kernel state for ``compiled`` as if it had run on every bar of today."""
        state = compiled.new_state()
        cols = np.array([_CATALOG_INDEX[n] for n in compiled.inputs], dtype=np.int64)
        out = np.empty(len(compiled.outputs))
        for row in self.today_rows:
            compiled.stream(row[cols], state, out)
        return state

    # -- rules ----------------------------------------------------------------------------------
    def swap_rules(self, compiled: CompiledRules, state: np.ndarray | None = None) -> None:
        """New rules between two events: the new kernel (with ``state``, its windows warmed on
        today's rows, or fresh), engine, limits and feature settings (``FeatureConfig.for_rules``);
        the day's counters, holds, position, working orders and order ids carry over."""
        self.c = compiled
        rs = compiled.ruleset
        self.gate.swap_limits(Limits.for_rules(rs))
        if self.features is not None:
            self.features.configure(FeatureConfig.for_rules(rs))
        self.engine = Engine(compiled, self.gate, self.ids)
        self.point_value = rs.tick_value / rs.tick_size
        self._bind(compiled)
        if state is not None:
            self.state = state

    # -- commands -------------------------------------------------------------------------------
    def on_command(self, cmd: Command) -> Result:
        """An operator's trading command: ``pause`` (no new entries), ``resume`` (end the
        operator's holds; a limit's halt stays until the next trading day), ``flatten`` (cancel
        working entries, close the position at market, then REDUCE_ONLY until ``resume``;
        idempotent, never blocked by a limit). The session's time is the feed's (``now``)."""
        t = self.now
        who = cmd.origin
        if cmd.name == "pause":
            new = self.gate.hold(t, PAUSE, REDUCE_ONLY, f"paused by {who}")
            return Result(cmd.name, True, {"gate": self.gate.state, "changed": new},
                          f"paused: no new entries (gate {self.gate.state})" if new else
                          f"already paused (gate {self.gate.state})")
        if cmd.name == "resume":
            gone = self.gate.release(t, OPERATOR_HOLDS, f"resumed by {who}")
            state = self.gate.state
            text = f"resumed (gate {state})" if gone else f"nothing to resume (gate {state})"
            if state != ACTIVE:
                text += f": {self.gate.reason}"
            return Result(cmd.name, True, {"gate": state, "released": gone, "reason": self.gate.reason}, text)
        if cmd.name == "flatten":
            pos = self.broker.position
            working = len(self._working_entries())
            self.gate.hold(t, FLATTEN, REDUCE_ONLY, f"flattened by {who}: no new entries until resume")
            self.flatten(t, self.last_price, COMMAND, f"by {who}")
            after = self.broker.position
            if pos == 0 and working == 0:
                text = "already flat"
            else:
                text = f"flattened {pos:+d} at market" if pos else "flat"
                if working:
                    text += f", {working} working entr{'y' if working == 1 else 'ies'} cancelled"
            if after:
                text += f" (closing orders sent, position {after:+d} until they fill)"
            return Result(cmd.name, True, {"position_before": pos, "position": after, "cancelled": working,
                                           "gate": self.gate.state}, text + f"; gate {self.gate.state} until resume")
        return Result(cmd.name, False, {}, f"{cmd.name}: not a trading command of the session")
