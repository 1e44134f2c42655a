"""The paper broker: fills entries and their OCO brackets against replayed trades.

Rules (all prices in points, deterministic, no wall clock):
- market entry: the next trade's price worsened by ``slippage_ticks`` (buy +, sell -).
- limit entry: a trade at or through the limit fills at the limit price, up to the trade's size;
  the rest keeps working and the bracket grows with the filled quantity.
- bracket (per entry order): stop = fill -/+ stop_ticks, target = fill +/- target_ticks.
  A stop fills like a market order: at the stop, or at the trade price when price gapped
  through it, worsened by slippage. A target fills at its price, no slippage. OCO: the first
  leg to fill closes the whole bracket.
- flatten: cancel working entries and close everything at ``price`` worsened by slippage.
Commissions are per contract per side. Entries opposite to an open position or to a working
entry are refused, and so is an id already used. Every fill and closed trade is reported to the
attached listener (``attach``) as it happens; ``on_trade`` and ``flatten`` also return their
fills. A trade without a price (NaN) fills nothing. Data without trades (bars only) fills nothing:
a fill needs a print to happen at.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from mia.broker.orders import BrokerError, ClosedTrade, Fill, Listener, OrderIntent, Role, WorkingOrder


@dataclass(slots=True)
class _Lot:
    """The filled part of one entry order with its live bracket."""
    entry_id: str
    tag: str
    side: int
    qty: int
    entry_t: float
    entry_price: float
    stop: float
    target: float
    stop_points: float
    entry_commission: float


def _px(x: float) -> float:
    return round(x, 9)


class PaperBroker:
    """A simulated broker for one instrument (implements ``mia.broker.orders.Broker``)."""

    def __init__(self, tick_size: float, tick_value: float, slippage_ticks: float = 1.0,
                 commission_per_contract: float = 2.25):
        if not tick_size > 0 or not tick_value > 0:
            raise BrokerError(f"tick_size and tick_value must be positive, got {tick_size!r}, {tick_value!r}")
        if slippage_ticks < 0 or commission_per_contract < 0:
            raise BrokerError("slippage_ticks and commission_per_contract must not be negative")
        self.tick_size = float(tick_size)
        self.tick_value = float(tick_value)
        self.point_value = self.tick_value / self.tick_size
        self.slippage = float(slippage_ticks) * self.tick_size
        self.commission = float(commission_per_contract)
        self._seen: set[str] = set()
        self._entries: dict[str, tuple[OrderIntent, int]] = {}   # id -> (intent, remaining qty)
        self._lots: dict[str, _Lot] = {}
        self._closed: list[ClosedTrade] = []
        self._realized = 0.0
        self._listener: Listener | None = None

    def attach(self, listener: Listener) -> None:
        self._listener = listener

    def _report(self, what) -> None:
        if self._listener is not None:
            self._listener(what)

    # -- orders -------------------------------------------------------------------------------
    def submit(self, intent: OrderIntent) -> None:
        if intent.id in self._seen:
            raise BrokerError(f"order {intent.id!r}: this id was already used; an order id is sent once")
        intent.validate()
        pos = self.position
        if pos and (pos > 0) != (intent.side > 0):
            raise BrokerError(f"order {intent.id!r}: side {intent.side:+d} opposes the open position {pos:+d}; "
                              "flatten first")
        if any(i.side != intent.side for i, _ in self._entries.values()):
            raise BrokerError(f"order {intent.id!r}: side {intent.side:+d} opposes a working entry; cancel it first")
        self._seen.add(intent.id)
        self._entries[intent.id] = (intent, intent.qty)

    def cancel(self, order_id: str) -> bool:
        return self._entries.pop(order_id, None) is not None

    def cancel_all(self) -> int:
        n = len(self._entries)
        self._entries.clear()
        return n

    def flatten(self, t: float, price: float) -> list[Fill]:
        self._entries.clear()
        fills = []
        for lot in list(self._lots.values()):
            fills.append(self._exit(lot, t, _px(price - lot.side * self.slippage), "flatten"))
        return fills

    # -- market data --------------------------------------------------------------------------
    def on_trade(self, t: float, price: float, size: float) -> list[Fill]:
        """Fills caused by one trade print: brackets of open lots first, then working entries."""
        if price != price:
            return []
        fills = []
        for lot in list(self._lots.values()):
            s = lot.side
            if (price - lot.stop) * s <= 0:
                through = (price - lot.stop) * s < 0
                fills.append(self._exit(lot, t, _px((price if through else lot.stop) - s * self.slippage), "stop"))
            elif (price - lot.target) * s >= 0:
                fills.append(self._exit(lot, t, lot.target, "target"))
        avail = int(size)
        for oid, (it, rest) in list(self._entries.items()):
            if it.kind == "market":
                fills.append(self._enter(it, rest, t, _px(price + it.side * self.slippage)))
            elif (price - it.limit_price) * it.side <= 0 and avail > 0:
                q = min(rest, avail)
                avail -= q
                fills.append(self._enter(it, q, t, it.limit_price))
        return fills

    # -- bookkeeping --------------------------------------------------------------------------
    def _enter(self, it: OrderIntent, qty: int, t: float, price: float) -> Fill:
        rest = self._entries[it.id][1] - qty
        if rest > 0:
            self._entries[it.id] = (it, rest)
        else:
            del self._entries[it.id]
        comm = self.commission * qty
        lot = self._lots.get(it.id)
        if lot is None:
            stop_pts = it.stop_ticks * self.tick_size
            self._lots[it.id] = _Lot(it.id, it.tag, it.side, qty, t, price,
                                     _px(price - it.side * stop_pts),
                                     _px(price + it.side * it.target_ticks * self.tick_size),
                                     stop_pts, comm)
        else:   # a further partial fill of the same limit order: same price, same bracket
            lot.qty += qty
            lot.entry_commission += comm
        fill = Fill(it.id, t, it.side, qty, price, comm, "entry")
        self._report(fill)
        return fill

    def _exit(self, lot: _Lot, t: float, price: float, role: Role) -> Fill:
        del self._lots[lot.entry_id]
        comm = self.commission * lot.qty
        points = (price - lot.entry_price) * lot.side
        gross = points * self.point_value * lot.qty
        total_comm = lot.entry_commission + comm
        trade = ClosedTrade(lot.entry_id, lot.tag, lot.side, lot.qty, lot.entry_t, lot.entry_price,
                            t, price, role, gross, total_comm, gross - total_comm, points / lot.stop_points)
        self._closed.append(trade)
        self._realized += trade.net_usd
        fill = Fill(lot.entry_id, t, -lot.side, lot.qty, price, comm, role)
        self._report(fill)
        self._report(trade)
        return fill

    def quiet_band(self) -> tuple[float, float]:
        """(lo, hi): a trade priced strictly between them fills nothing (``on_trade`` would return
        no fill and change nothing), so a fast replay may skip it. (inf, -inf) while a market
        entry waits: every trade matters."""
        lo, hi = -math.inf, math.inf
        for lot in self._lots.values():
            if lot.side > 0:
                lo, hi = max(lo, lot.stop), min(hi, lot.target)
            else:
                lo, hi = max(lo, lot.target), min(hi, lot.stop)
        for it, _ in self._entries.values():
            if it.kind == "market":
                return math.inf, -math.inf
            if it.side > 0:
                lo = max(lo, it.limit_price)
            else:
                hi = min(hi, it.limit_price)
        return lo, hi

    # -- state --------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The broker's book as plain data (ids used, working entries, open lots, realized P&L)."""
        return {"seen": sorted(self._seen), "realized_usd": self._realized,
                "entries": [[asdict(it), rest] for it, rest in self._entries.values()],
                "lots": [asdict(lot) for lot in self._lots.values()]}

    def restore(self, snap: dict) -> None:
        """The book as ``snapshot`` gave it; closed trades before it are the journal's, not kept here."""
        self._seen = set(snap["seen"])
        self._realized = float(snap["realized_usd"])
        self._entries = {}
        for it, rest in snap["entries"]:
            intent = OrderIntent(**it)
            self._entries[intent.id] = (intent, int(rest))
        self._lots = {lot["entry_id"]: _Lot(**lot) for lot in snap["lots"]}
        self._closed = []

    @property
    def position(self) -> int:
        return sum(lot.side * lot.qty for lot in self._lots.values())

    @property
    def avg_price(self) -> float:
        """Quantity-weighted entry price of the open position; NaN when flat."""
        q = sum(lot.qty for lot in self._lots.values())
        if not q:
            return float("nan")
        return sum(lot.entry_price * lot.qty for lot in self._lots.values()) / q

    @property
    def working(self) -> list[WorkingOrder]:
        out = [WorkingOrder(oid, "entry", it.side, rest, it.kind, it.limit_price)
               for oid, (it, rest) in self._entries.items()]
        for lot in self._lots.values():
            out.append(WorkingOrder(lot.entry_id, "stop", -lot.side, lot.qty, "stop", lot.stop))
            out.append(WorkingOrder(lot.entry_id, "target", -lot.side, lot.qty, "limit", lot.target))
        return out

    @property
    def closed_trades(self) -> list[ClosedTrade]:
        return self._closed

    @property
    def realized_usd(self) -> float:
        return self._realized
