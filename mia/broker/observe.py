"""The observe-mode broker: it takes every order and sends none (mode ``observe``).

The session decides and traces as in paper or live mode, but nothing leaves the process: no
order works, no position opens, so every signal is traced with the order it would have sent.
"""
from __future__ import annotations

from mia.broker.orders import BrokerError, Listener, OrderIntent, WorkingOrder


class ObserveBroker:
    """Implements ``mia.broker.orders.Broker``; never fills, never holds a position. Like any
    broker it refuses an order it could not take: a bad one, or an id already used."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def attach(self, listener: Listener) -> None:
        pass

    def submit(self, intent: OrderIntent) -> None:
        if intent.id in self._seen:
            raise BrokerError(f"order {intent.id!r}: this id was already used; an order id is sent once")
        intent.validate()
        self._seen.add(intent.id)

    def cancel(self, order_id: str) -> bool:
        return False

    def cancel_all(self) -> int:
        return 0

    def flatten(self, t: float, price: float) -> None:
        return None

    @property
    def position(self) -> int:
        return 0

    @property
    def avg_price(self) -> float:
        return float("nan")

    @property
    def working(self) -> list[WorkingOrder]:
        return []

    @property
    def realized_usd(self) -> float:
        return 0.0
