"""The backtest loop: the same streaming path as live, over replayed events, deterministic.

Per event: a trade first goes to the paper broker (fills of working orders, then the open
position is marked against the daily loss limit), then to the feature engine; when a bar
closes, the rule kernel runs on its features and the engine decides. Orders decided at a
bar's close fill on the trades that follow. An open position is flattened when the trading
hours end and at the end of the data. While a position is open, the first event of a new
trading day rolls the risk gate.

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

from mia.broker.orders import OrderIntent
from mia.broker.paper import PaperBroker
from mia.dsl import catalog
from mia.dsl.compile import CompiledRules
from mia.engine.clock import in_hours
from mia.engine.decide import Decision, Engine
from mia.engine.risk import RiskGate
from mia.features.batch import drive
from mia.features.kernel import LAST

_CATALOG_INDEX = {f.name: i for i, f in enumerate(catalog.FEATURES)}


@dataclass
class BacktestResult:
    decisions: list[Decision] = field(default_factory=list)
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
        self.gate = RiskGate(rs.risk)
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

    def _after_fills(self, t: float, fills) -> None:
        for f in fills:
            if f.role == "entry":
                self.gate.on_entry(t)
        trades = self.broker.closed_trades
        for tr in trades[self._closed_seen:]:
            self.gate.on_closed_trade(tr.exit_t, tr.net_usd, tr.exit_role == "stop")
            self.result.trades.append(tr)
        self._closed_seen = len(trades)

    def flatten(self, t: float, price: float) -> None:
        self._after_fills(t, self.broker.flatten(t, price))

    def on_trade(self, t: float, price: float, size: float) -> None:
        self.last_price = price
        self._after_fills(t, self.broker.on_trade(t, price, size))
        pos = self.broker.position
        if pos:
            unrealized = (price - self.broker.avg_price) * pos * self.point_value
            if self.gate.mark(t, unrealized):
                self.flatten(t, price)

    def on_event(self, ev) -> None:
        self.result.events += 1
        if self.broker.position:
            self.gate.roll(ev.t)
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
        d = self.engine.decide(t, x, out, self.broker.position)
        self.result.days.add(self.gate.day)
        self.result.decisions.append(d)
        if self.broker.position and not self._in_hours(t):
            self.flatten(t, self.last_price)      # flat by the end of the trading hours
        if d.intent is not None:
            self.broker.submit(OrderIntent(**d.intent))

    def _in_hours(self, t: float) -> bool:
        h = self.c.ruleset.risk.trading_hours
        return in_hours(t, h.start_min, h.end_min, h.zone)

    def finish(self) -> BacktestResult:
        """The data ended: the last bar closes and is decided, then any position is flattened."""
        if self.features is not None and self.features.flush():
            self.on_bar(self.features.row_time, self.features.row)
        self._sync_last_price()
        if self.broker.position and self.last_price == self.last_price:
            self.flatten(self.result.decisions[-1].t if self.result.decisions else 0.0, self.last_price)
        self.result.days.discard(None)
        return self.result


def run(compiled: CompiledRules, feature_engine, events: Iterable, **kw) -> BacktestResult:
    bt = Backtest(compiled, feature_engine, **kw)
    for ev in events:
        bt.on_event(ev)
    return bt.finish()
