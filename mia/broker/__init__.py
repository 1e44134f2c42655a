"""Brokers: order, fill and trade types, the broker interface, and the simulated paper broker.

``mia.broker.orders`` holds the types and the ``Broker`` protocol that every broker (paper,
and later the live Interactive Brokers one) implements; ``mia.broker.paper`` fills orders
against replayed trades or bars, deterministically.
"""
from mia.broker.orders import Broker, BrokerError, ClosedTrade, Fill, OrderIntent, WorkingOrder
from mia.broker.paper import PaperBroker

__all__ = ["Broker", "BrokerError", "ClosedTrade", "Fill", "OrderIntent", "PaperBroker", "WorkingOrder"]
