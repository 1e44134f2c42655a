"""The observe-mode broker: it takes every order and sends none (mode ``observe``).

The session decides and traces as in paper or live mode, but nothing leaves the process: no
order works, no position opens, so every signal is traced with the order it would have sent.
"""
from __future__ import annotations

from mia.broker.orders import Listener, OrderIntent, WorkingOrder


class ObserveBroker:
    """Implements ``mia.broker.orders.Broker``; never fills, never holds a position."""

    def attach(self, listener: Listener) -> None:
        pass

    def submit(self, intent: OrderIntent) -> None:
        intent.validate()

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
