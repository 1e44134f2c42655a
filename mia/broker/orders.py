"""Order, fill and trade types, and the ``Broker`` protocol every broker implements.

An ``OrderIntent`` is an entry with an OCO bracket: a stop and a target measured in ticks from
the entry's actual fill price. Brokers report ``Fill``s; a position that closes becomes a
``ClosedTrade`` with its P&L in USD (commissions included) and its R multiple.
"""
from __future__ import annotations

from dataclasses import dataclass
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


@runtime_checkable
class Broker(Protocol):
    """What the engine and supervisor need from a broker (paper or live)."""

    def submit(self, intent: OrderIntent) -> None:
        """Send an entry with its bracket; a duplicate ``intent.id`` is ignored."""

    def cancel(self, order_id: str) -> bool:
        """Cancel the unfilled rest of an entry; True when something was cancelled."""

    def cancel_all(self) -> int:
        """Cancel every working entry (brackets of open positions stay); the number cancelled."""

    def flatten(self, t: float, price: float) -> list[Fill]:
        """Cancel working entries and close the whole position; idempotent."""

    @property
    def position(self) -> int: ...

    @property
    def avg_price(self) -> float: ...

    @property
    def working(self) -> list[WorkingOrder]: ...

    @property
    def closed_trades(self) -> list[ClosedTrade]: ...

    @property
    def realized_usd(self) -> float: ...
