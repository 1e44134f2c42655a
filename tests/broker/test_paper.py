"""The paper broker on hand-made ES prints (tick 0.25 pt = 12.50 USD, 50 USD a point,
1 tick slippage, 2.25 USD per contract per side): every price and dollar is computed by hand."""
from __future__ import annotations

import inspect
from typing import Generic, Protocol

import pytest

from mia.broker import Broker, BrokerError, OrderIntent, PaperBroker, SimulatedBroker
from mia.broker.observe import ObserveBroker
from mia.errors import MiaError


def es() -> PaperBroker:
    return PaperBroker(0.25, 12.5, slippage_ticks=1.0, commission_per_contract=2.25)


def mkt(id="a", side=1, qty=1, stop=8, target=16, tag="sig") -> OrderIntent:
    return OrderIntent(id, 0.0, side, qty, "market", None, stop, target, tag)


def lmt(price, id="l", side=1, qty=1, stop=8, target=16) -> OrderIntent:
    return OrderIntent(id, 0.0, side, qty, "limit", price, stop, target, "lim")


def long_at_5000_25(qty=1, target=16) -> PaperBroker:
    b = es()
    b.submit(mkt(qty=qty, target=target))
    b.on_trade(1.0, 5000.00, 1)
    return b


def test_market_entry_fills_next_trade_with_slippage():
    b = es()
    b.submit(mkt(qty=2))
    assert b.position == 0
    [f] = b.on_trade(1.0, 5000.00, 1)           # size 1 < qty 2: a market order fills in full
    assert (f.order_id, f.t, f.side, f.qty, f.price, f.commission_usd, f.role) == \
        ("a", 1.0, 1, 2, 5000.25, 4.50, "entry")
    assert b.position == 2 and b.avg_price == 5000.25
    legs = {w.role: (w.side, w.qty, w.price) for w in b.working}
    assert legs == {"stop": (-1, 2, 4998.25), "target": (-1, 2, 5004.25)}
    assert b.on_trade(2.0, 5000.00, 1) == []    # filled once only


def test_target_hit_pnl_commission_r():
    b = long_at_5000_25(qty=2)
    assert b.on_trade(2.0, 5004.00, 3) == []
    [f] = b.on_trade(3.0, 5004.25, 1)
    assert (f.side, f.qty, f.price, f.commission_usd, f.role) == (-1, 2, 5004.25, 4.50, "target")
    [tr] = b.closed_trades
    # 4.00 pt x 50 x 2 = 400; commissions 4 sides x 2.25 = 9; R = 4.00 / 2.00
    assert (tr.entry_id, tr.tag, tr.side, tr.qty, tr.entry_t, tr.entry_price, tr.exit_t, tr.exit_price) == \
        ("a", "sig", 1, 2, 1.0, 5000.25, 3.0, 5004.25)
    assert (tr.exit_role, tr.gross_usd, tr.commission_usd, tr.net_usd, tr.r_multiple) == \
        ("target", 400.0, 9.0, 391.0, 2.0)
    assert b.realized_usd == 391.0 and b.position == 0 and b.working == []


def test_stop_hit_fills_at_stop_worsened_by_slippage():
    b = long_at_5000_25()
    assert b.on_trade(2.0, 4998.50, 1) == []
    [f] = b.on_trade(3.0, 4998.25, 1)          # stop 4998.25, sold 1 tick worse
    assert (f.price, f.role, f.side) == (4998.00, "stop", -1)
    [tr] = b.closed_trades
    # -2.25 pt x 50 = -112.50; net -117.00; R = -2.25 / 2.00
    assert (tr.gross_usd, tr.commission_usd, tr.net_usd, tr.r_multiple) == (-112.5, 4.5, -117.0, -1.125)
    assert b.realized_usd == -117.0


def test_gap_through_stop_fills_at_trade_price():
    b = long_at_5000_25()
    [f] = b.on_trade(2.0, 4997.50, 1)          # gapped 3 ticks below the stop 4998.25
    assert (f.price, f.role) == (4997.25, "stop")
    tr = b.closed_trades[0]
    assert (tr.gross_usd, tr.net_usd, tr.r_multiple) == (-150.0, -154.5, -1.5)


def test_oco_one_leg_cancels_the_other():
    b = long_at_5000_25()
    assert {w.role for w in b.working} == {"stop", "target"}
    b.on_trade(2.0, 5004.25, 1)                # target
    assert b.working == []
    assert b.on_trade(3.0, 4990.00, 1) == []   # the stop went with it
    assert b.position == 0 and len(b.closed_trades) == 1


def test_limit_entry_partial_fills_across_trades():
    b = es()
    b.submit(lmt(4999.00, qty=3, target=8))
    assert b.on_trade(1.0, 5000.00, 5) == []                       # above the buy limit
    [f1] = b.on_trade(2.0, 4999.00, 1)                             # at the limit, 1 traded
    assert (f1.qty, f1.price, f1.commission_usd) == (1, 4999.00, 2.25)
    assert b.position == 1
    w = {x.role: (x.qty, x.price) for x in b.working}
    assert w == {"entry": (2, 4999.00), "stop": (1, 4997.00), "target": (1, 5001.00)}
    [f2] = b.on_trade(3.0, 4998.75, 1)                             # through the limit: limit price
    assert (f2.qty, f2.price) == (1, 4999.00)
    assert b.on_trade(4.0, 4999.50, 10) == []
    [f3] = b.on_trade(5.0, 4998.50, 5)                             # only the 1 left fills
    assert f3.qty == 1 and b.position == 3
    assert {x.role: x.qty for x in b.working} == {"stop": 3, "target": 3}
    [ex] = b.on_trade(6.0, 5001.00, 1)
    assert (ex.qty, ex.price, ex.role) == (3, 5001.00, "target")
    [tr] = b.closed_trades
    # 2.00 pt x 50 x 3 = 300; commissions 6 x 2.25 = 13.50; R = 2.00 / 2.00
    assert (tr.qty, tr.entry_t, tr.gross_usd, tr.commission_usd, tr.net_usd, tr.r_multiple) == \
        (3, 2.0, 300.0, 13.5, 286.5, 1.0)


def test_short_side_symmetry():
    b = es()
    b.submit(mkt(side=-1))
    [f] = b.on_trade(1.0, 5000.00, 1)
    assert (f.side, f.price) == (-1, 4999.75)
    assert b.position == -1
    assert {w.role: (w.side, w.price) for w in b.working} == {"stop": (1, 5001.75), "target": (1, 4995.75)}
    [s] = b.on_trade(2.0, 5001.75, 1)
    assert (s.side, s.price, s.role) == (1, 5002.00, "stop")
    tr = b.closed_trades[-1]
    assert (tr.side, tr.gross_usd, tr.net_usd, tr.r_multiple) == (-1, -112.5, -117.0, -1.125)

    b.submit(mkt(id="b", side=-1))
    b.on_trade(3.0, 5000.00, 1)                 # short at 4999.75 again
    [t] = b.on_trade(4.0, 4995.75, 1)
    assert (t.price, t.role) == (4995.75, "target")
    tr = b.closed_trades[-1]
    assert (tr.gross_usd, tr.net_usd, tr.r_multiple) == (200.0, 195.5, 2.0)

    b.submit(mkt(id="c", side=-1))
    b.on_trade(5.0, 5000.00, 1)
    [g] = b.on_trade(6.0, 5003.00, 1)           # gap above the stop 5001.75
    assert g.price == 5003.25
    assert b.realized_usd == -117.0 + 195.5 + (-3.5 * 50 - 4.5)


def test_short_limit_fills_at_or_above_limit():
    b = es()
    b.submit(lmt(5001.00, side=-1, qty=2))
    assert b.on_trade(1.0, 5000.75, 9) == []
    [f] = b.on_trade(2.0, 5001.25, 1)
    assert (f.side, f.qty, f.price) == (-1, 1, 5001.00)
    assert b.position == -1


def test_flatten_closes_at_price_with_slippage_and_is_idempotent():
    b = long_at_5000_25(qty=2)
    b.submit(lmt(4990.00, id="l2"))
    [f] = b.flatten(5.0, 5001.00)
    assert (f.side, f.qty, f.price, f.role, f.commission_usd) == (-1, 2, 5000.75, "flatten", 4.5)
    tr = b.closed_trades[0]
    # 0.50 pt x 50 x 2 = 50; net 50 - 9; R = 0.50 / 2.00
    assert (tr.exit_role, tr.gross_usd, tr.net_usd, tr.r_multiple) == ("flatten", 50.0, 41.0, 0.25)
    assert b.position == 0 and b.working == []                   # the working limit went too
    assert b.flatten(6.0, 5001.00) == []
    assert b.on_trade(7.0, 4990.00, 5) == []
    assert len(b.closed_trades) == 1 and b.realized_usd == 41.0


def test_an_order_id_used_twice_is_refused_and_changes_nothing():
    b = es()
    b.submit(mkt(qty=1))
    with pytest.raises(BrokerError, match="'a': this id was already used"):
        b.submit(mkt(qty=1))
    [f] = b.on_trade(1.0, 5000.00, 1)
    assert f.qty == 1 and b.position == 1
    with pytest.raises(BrokerError, match="already used"):
        b.submit(mkt(qty=1))                    # already filled: still the same id
    assert b.on_trade(2.0, 5000.00, 1) == [] and b.position == 1


def test_fills_and_closed_trades_are_reported_in_order_to_the_listener():
    b = es()
    got = []
    b.attach(got.append)
    b.submit(mkt(qty=1, target=4))
    [entry] = b.on_trade(1.0, 5000.00, 1)
    [exit_] = b.on_trade(2.0, 5001.50, 1)
    assert [type(r).__name__ for r in got] == ["Fill", "Fill", "ClosedTrade"]
    assert got[0] is entry and got[1] is exit_ and got[2] is b.closed_trades[0]
    assert got[1].role == "target" and got[2].exit_role == "target"


def test_cancel_and_cancel_all():
    b = es()
    b.submit(lmt(4999.00, id="x"))
    b.submit(lmt(4998.00, id="y"))
    assert b.cancel("x") is True and b.cancel("x") is False
    assert b.on_trade(1.0, 4999.00, 5) == []
    assert b.cancel_all() == 1 and b.cancel_all() == 0
    assert b.on_trade(2.0, 4997.00, 5) == [] and b.working == []


def test_bad_orders_raise_broker_error():
    b = long_at_5000_25()
    with pytest.raises(BrokerError, match="opposes the open position"):
        b.submit(mkt(id="s", side=-1))
    with pytest.raises(MiaError, match="limit_price"):
        b.submit(OrderIntent("z", 0.0, 1, 1, "limit", None, 8, 16, ""))
    with pytest.raises(BrokerError, match="side"):
        b.submit(mkt(id="q", side=0))
    with pytest.raises(BrokerError, match="qty"):
        b.submit(mkt(id="q", qty=0))


def _members(proto) -> dict[str, object]:
    """The members a protocol declares (its own and its bases'), name -> the declared object."""
    out = {}
    for klass in reversed(proto.__mro__):
        if klass in (object, Protocol, Generic) or not getattr(klass, "_is_protocol", False):
            continue
        out.update({k: v for k, v in vars(klass).items() if not k.startswith("_")})
    return out


@pytest.mark.parametrize("proto,impl", [(Broker, PaperBroker), (SimulatedBroker, PaperBroker), (Broker, ObserveBroker)])
def test_a_broker_implements_each_member_of_its_protocol_with_its_signature(proto, impl):
    """Not only the names (``isinstance`` of a runtime protocol checks no more): every method
    takes the protocol's parameters, in its order, and every property is a property."""
    members = _members(proto)
    assert {"attach", "submit", "cancel", "cancel_all", "flatten", "position", "avg_price", "working",
            "realized_usd"} <= set(members)
    for name, declared in members.items():
        got = inspect.getattr_static(impl, name)
        if isinstance(declared, property):
            assert isinstance(got, property), f"{impl.__name__}.{name} must be a property"
            continue
        want = list(inspect.signature(declared).parameters)
        have = list(inspect.signature(got).parameters)
        assert have == want, f"{impl.__name__}.{name}{have} differs from the protocol's {want}"


def test_the_paper_broker_keeps_the_protocols_promises():
    """What ``Broker`` and ``SimulatedBroker`` promise, through their methods only."""
    b: SimulatedBroker = es()
    assert isinstance(b, Broker) and isinstance(b, SimulatedBroker)
    reports = []
    b.attach(reports.append)
    assert b.position == 0 and b.working == [] and b.realized_usd == 0.0 and b.avg_price != b.avg_price
    b.submit(mkt(id="m"))
    with pytest.raises(BrokerError):
        b.submit(mkt(id="m"))                                   # an id already used
    assert b.quiet_band() == (float("inf"), float("-inf"))     # a market entry waits: every trade matters
    b.on_trade(1.0, 5000.0, 1)
    assert [type(r).__name__ for r in reports] == ["Fill"] and b.position == 1
    b.submit(lmt(4990.0, id="l"))
    assert b.cancel("l") is True and b.cancel("l") is False and b.cancel_all() == 0
    b.submit(lmt(4990.0, id="l2"))
    assert b.cancel_all() == 1
    assert {w.role for w in b.working} == {"stop", "target"}  # brackets stay
    lo, hi = b.quiet_band()
    assert b.on_trade(2.0, (lo + hi) / 2, 1) == [] and len(reports) == 1
    b.flatten(3.0, 5001.0)
    b.flatten(4.0, 5001.0)                                      # idempotent
    assert b.position == 0 and b.working == []
    assert [type(r).__name__ for r in reports] == ["Fill", "Fill", "ClosedTrade"]
    assert b.realized_usd == reports[-1].net_usd


def test_the_observe_broker_keeps_the_protocols_promises():
    b: Broker = ObserveBroker()
    assert isinstance(b, Broker) and not isinstance(b, SimulatedBroker)
    b.submit(mkt(id="m"))
    with pytest.raises(BrokerError):
        b.submit(mkt(id="m"))                                   # an id already used
    with pytest.raises(BrokerError):
        b.submit(mkt(id="q", qty=0))
    assert b.position == 0 and b.working == [] and b.realized_usd == 0.0 and b.avg_price != b.avg_price
    assert b.cancel("m") is False and b.cancel_all() == 0
    b.flatten(1.0, 5000.0)
    assert b.position == 0
