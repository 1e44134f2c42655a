"""Order, fill and trade types, client order ids, and the protocols every broker implements.

An ``OrderIntent`` is an entry with an OCO bracket: a stop and a target measured in ticks from
the entry's actual fill price; its ``id`` is a client order id from ``OrderIds``, unique within
a trading day across engines, reloads and restarts. A broker reports what happens to the
listener the session attached: each ``Fill``, and each ``ClosedTrade`` (a position closed, its
P&L in USD with commissions and its R multiple). ``Broker`` is what a trading session calls
(paper or live); ``SimulatedBroker`` adds what only a simulator has: fills from the replayed
trades (``on_trade``) and the price band in which a trade can fill nothing (``quiet_band``).
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from datetime import date
from typing import Literal, Protocol, runtime_checkable

from mia.errors import MiaError

Role = Literal["entry", "stop", "target", "flatten"]


class BrokerError(MiaError):
    """An order the broker cannot accept (bad side, size, kind or prices)."""


@dataclass(slots=True)
class OrderIntent:
    """An entry order with its bracket. ``side`` +1 buys (long), -1 sells (short)."""
    id: str
    t: float
    side: int
    qty: int
    kind: Literal["market", "limit"]
    limit_price: float | None
    stop_ticks: float
    target_ticks: float
    tag: str

    def validate(self) -> None:
        """Raise ``BrokerError`` when the intent cannot be an order."""
        where = f"order {self.id!r}"
        if self.side not in (1, -1):
            raise BrokerError(f"{where}: side must be +1 (long) or -1 (short), got {self.side!r}")
        if not isinstance(self.qty, int) or self.qty <= 0:
            raise BrokerError(f"{where}: qty must be a positive whole number of contracts, got {self.qty!r}")
        if self.kind not in ("market", "limit"):
            raise BrokerError(f"{where}: kind must be 'market' or 'limit', got {self.kind!r}")
        if self.kind == "limit" and (self.limit_price is None or self.limit_price != self.limit_price):
            raise BrokerError(f"{where}: a limit order needs a limit_price")
        if not self.stop_ticks > 0 or not self.target_ticks > 0:
            raise BrokerError(f"{where}: stop_ticks and target_ticks must be positive, "
                              f"got {self.stop_ticks!r} and {self.target_ticks!r}")


@dataclass(slots=True)
class Fill:
    """One execution. ``side`` is the fill's direction (+1 bought, -1 sold); ``order_id`` is the
    entry's id for the entry and for its bracket legs and flatten (``role`` tells which)."""
    order_id: str
    t: float
    side: int
    qty: int
    price: float
    commission_usd: float
    role: Role


@dataclass(slots=True)
class WorkingOrder:
    """An open order: an entry's unfilled rest, or a live bracket leg of an open position."""
    order_id: str
    role: Literal["entry", "stop", "target"]
    side: int
    qty: int
    kind: Literal["market", "limit", "stop"]
    price: float | None


@dataclass(slots=True)
class ClosedTrade:
    """A closed position: one entry order's filled contracts and the exit that closed them.
    ``r_multiple`` = gross points per contract / stop distance in points."""
    entry_id: str
    tag: str
    side: int
    qty: int
    entry_t: float
    entry_price: float
    exit_t: float
    exit_price: float
    exit_role: Role
    gross_usd: float
    commission_usd: float
    net_usd: float
    r_multiple: float


class OrderIds:
    """Client order ids ``<trading day YYYYMMDD>-<n>``: ``n`` counts every entry of the session
    (it does not restart with the day, a new engine or a reload; a restart resumes from the
    journal's last ``n``), so no id is ever made twice."""

    def __init__(self, last: int = 0):
        self.last = last

    def next(self, day: date) -> str:
        self.last += 1
        return f"{day:%Y%m%d}-{self.last:04d}"


#: what a broker reports to: each ``Fill`` and each ``ClosedTrade``, in the order they happen
Listener = Callable[["Fill | ClosedTrade"], None]


@runtime_checkable
class Broker(Protocol):
    """What a trading session needs from a broker (paper or live)."""

    def attach(self, listener: Listener) -> None:
        """Where fills and closed trades are reported from now on."""

    def submit(self, intent: OrderIntent) -> None:
        """Send an entry with its bracket; ``BrokerError`` when it cannot be taken (an id
        already used included)."""

    def cancel(self, order_id: str) -> bool:
        """Cancel the unfilled rest of an entry; True when something was cancelled."""

    def cancel_all(self) -> int:
        """Cancel every working entry (brackets of open positions stay); the number cancelled."""

    def flatten(self, t: float, price: float) -> object:
        """Cancel working entries and close the whole position at market (``price``: the last
        known price, what a simulator fills at); idempotent. Fills are reported."""

    @property
    def position(self) -> int: ...

    @property
    def avg_price(self) -> float: ...

    @property
    def working(self) -> list[WorkingOrder]: ...

    @property
    def realized_usd(self) -> float: ...


@runtime_checkable
class SimulatedBroker(Broker, Protocol):
    """A broker that fills against the replayed market itself (the paper broker)."""

    def on_trade(self, t: float, price: float, size: float) -> object:
        """Fill what one trade print fills (reported to the listener)."""

    def quiet_band(self) -> tuple[float, float]:
        """(lo, hi): a trade priced strictly inside fills nothing and changes nothing."""
