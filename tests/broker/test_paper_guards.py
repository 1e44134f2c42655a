"""The paper broker's guards and boundaries: an entry opposite a working one, a trade without a
price, a print exactly at a limit, stop or target and one tick short of it, and the quiet band
(trades strictly inside it must fill nothing and change nothing) checked against ``on_trade``."""
from __future__ import annotations

import copy
import math

import pytest

from mia.broker import BrokerError, OrderIntent, PaperBroker

TICK = 0.25


def es() -> PaperBroker:
    return PaperBroker(TICK, 12.5, slippage_ticks=1.0, commission_per_contract=2.25)


def order(id, side=1, kind="market", limit=None, qty=1, stop=8, target=16) -> OrderIntent:
    return OrderIntent(id, 0.0, side, qty, kind, limit, stop, target, "t")


def test_an_entry_opposite_a_working_entry_is_refused_and_changes_nothing():
    b = es()
    b.submit(order("buy", kind="limit", limit=4990.0))
    for other in (order("sell"), order("sell2", side=-1, kind="limit", limit=5010.0)):
        other.side = -1
        with pytest.raises(BrokerError, match="opposes a working entry; cancel it first"):
            b.submit(other)
    assert [(w.order_id, w.side) for w in b.working] == [("buy", 1)]
    b.submit(order("buy2"))                                     # the same side may add
    assert {w.order_id for w in b.working} == {"buy", "buy2"}
    assert b.cancel_all() == 2
    b.submit(order("sell3", side=-1))                          # nothing working: a short may go
    assert b.on_trade(1.0, 5000.0, 1)[0].side == -1


def test_a_trade_without_a_price_fills_nothing():
    b = es()
    b.submit(order("m"))
    b.submit(order("l", kind="limit", limit=5000.0))
    assert b.on_trade(1.0, math.nan, 5) == []
    assert b.position == 0 and {w.order_id for w in b.working} == {"m", "l"}
    fills = b.on_trade(2.0, 4999.0, 5)
    assert [(f.order_id, f.price) for f in fills] == [("m", 4999.25), ("l", 5000.0)]
    # an open position's bracket ignores it too
    assert b.on_trade(3.0, math.nan, 1) == [] and b.position == 2
    assert b.realized_usd == 0.0 and b.closed_trades == []


@pytest.mark.parametrize("side", [1, -1])
def test_prints_at_and_one_tick_short_of_a_limit(side):
    limit = 5000.0
    b = es()
    b.submit(order("l", side=side, kind="limit", limit=limit))
    assert b.on_trade(1.0, limit + side * TICK, 3) == []       # one tick on the wrong side
    [f] = b.on_trade(2.0, limit, 3)
    assert (f.price, f.qty, f.side) == (limit, 1, side)


@pytest.mark.parametrize("side", [1, -1])
def test_prints_at_and_one_tick_short_of_the_stop_and_the_target(side):
    def opened() -> PaperBroker:
        b = es()
        b.submit(order("m", side=side))
        b.on_trade(1.0, 5000.0, 1)                              # filled at 5000 +/- 1 tick
        return b

    entry = 5000.0 + side * TICK
    stop, target = entry - side * 8 * TICK, entry + side * 16 * TICK
    b = opened()
    assert b.on_trade(2.0, stop + side * TICK, 1) == [] and b.on_trade(3.0, target - side * TICK, 1) == []
    [f] = b.on_trade(4.0, stop, 1)
    assert (f.role, f.price) == ("stop", stop - side * TICK)   # at the stop, one tick of slippage
    b = opened()
    [f] = b.on_trade(2.0, stop - side * 3 * TICK, 1)
    assert (f.role, f.price) == ("stop", stop - side * 4 * TICK)   # gapped through: the print, slipped
    b = opened()
    [f] = b.on_trade(2.0, target, 1)
    assert (f.role, f.price) == ("target", target)              # a target fills at its price
    b = opened()
    [f] = b.on_trade(2.0, target + side * 5 * TICK, 1)
    assert (f.role, f.price) == ("target", target)


def _states():
    """Brokers in the states a backtest meets: flat, buy or sell limits working, a market entry
    waiting, long, short, each with a limit to add, and two lots bought at two prices."""
    yield es()
    for side in (1, -1):
        working = es()
        working.submit(order("a", side=side, kind="limit", limit=5000.0 - side * 5.0))
        working.submit(order("b", side=side, kind="limit", limit=5000.0 - side * 7.0, qty=2))
        yield working
    waiting = es()
    waiting.submit(order("m"))
    yield waiting
    for side in (1, -1):
        b = es()
        b.submit(order(f"o{side}", side=side))
        b.on_trade(1.0, 5000.0, 1)
        yield b
        b2 = copy.deepcopy(b)
        b2.submit(order("add", side=side, kind="limit", limit=5000.0 - side * 1.0))
        yield b2
    two = es()
    two.submit(order("x", qty=1, stop=8, target=16))
    two.on_trade(1.0, 5000.0, 1)
    two.submit(order("y", qty=3, stop=4, target=20))
    two.on_trade(2.0, 5002.0, 1)
    yield two


N_STATES = len(list(_states()))


def test_two_lots_average_their_entry_prices_by_size():
    b = list(_states())[-1]
    assert b.position == 4 and b.avg_price == (5000.25 * 1 + 5002.25 * 3) / 4
    assert sorted((w.role, w.price, w.qty) for w in b.working) == \
        [("stop", 4998.25, 1), ("stop", 5001.25, 3), ("target", 5004.25, 1), ("target", 5007.25, 3)]


def test_one_prints_size_is_shared_by_the_working_limits_in_order():
    b = es()
    b.submit(order("x", kind="limit", limit=4999.0, qty=2))
    b.submit(order("y", kind="limit", limit=4999.0, qty=2))
    fills = b.on_trade(1.0, 4999.0, 3)
    assert [(f.order_id, f.qty) for f in fills] == [("x", 2), ("y", 1)]
    assert [(w.order_id, w.qty) for w in b.working if w.role == "entry"] == [("y", 1)]
    assert b.on_trade(2.0, 4999.25, 5) == []                   # above the limit: nothing


def test_a_snapshot_restores_a_partly_filled_limit_and_its_lot():
    b = es()
    b.submit(order("x", kind="limit", limit=4999.0, qty=3))
    b.on_trade(1.0, 4999.0, 1)
    again = es()
    again.restore(b.snapshot())
    assert again.snapshot() == b.snapshot()
    assert (again.position, again.avg_price) == (1, 4999.0)
    assert [(w.role, w.qty) for w in again.working] == [("entry", 2), ("stop", 1), ("target", 1)]
    assert [(f.qty, f.price) for f in again.on_trade(2.0, 4998.75, 5)] == [(2, 4999.0)]
    assert again.position == 3


@pytest.mark.parametrize("k", range(N_STATES))
def test_a_trade_strictly_inside_the_quiet_band_changes_nothing(k):
    broker = list(_states())[k]
    lo, hi = broker.quiet_band()
    inside = 0
    for j in range(-80, 81):
        p = 5000.0 + j * TICK
        b = copy.deepcopy(broker)
        before = b.snapshot()
        fills = b.on_trade(9.0, p, 3)
        if lo < p < hi:
            inside += 1
            assert fills == [] and b.snapshot() == before, (p, lo, hi)
    if (lo, hi) == (math.inf, -math.inf):                       # a market entry waits: every print fills it
        assert all(copy.deepcopy(broker).on_trade(9.0, 5000.0 + j * TICK, 1) for j in range(-80, 81))
        return
    assert inside > 0
    assert sum(bool(copy.deepcopy(broker).on_trade(9.0, p, 3)) for p in (lo, hi) if math.isfinite(p)) == \
        sum(math.isfinite(p) for p in (lo, hi))                 # the band is exact: its edges fill
