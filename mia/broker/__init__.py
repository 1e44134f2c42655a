"""Brokers: order, fill and trade types, client order ids, the broker protocols, and the paper broker.

``mia.broker.orders`` holds the types, ``OrderIds`` and the protocols: ``Broker`` (what a
trading session calls, paper or live) and ``SimulatedBroker`` (a broker that fills against the
replayed market); ``mia.broker.paper`` fills orders against replayed trades, deterministically.
"""
from mia.broker.orders import (Broker, BrokerError, ClosedTrade, Fill, OrderIds, OrderIntent, SimulatedBroker,
                               WorkingOrder)
from mia.broker.paper import PaperBroker

__all__ = ["Broker", "BrokerError", "ClosedTrade", "Fill", "OrderIds", "OrderIntent", "PaperBroker",
           "SimulatedBroker", "WorkingOrder"]
