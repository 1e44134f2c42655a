"""The risk gate on hand-made sequences: each limit and each state transition."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from mia.dsl.ruleset import Risk
from mia.engine.risk import ACTIVE, HALTED, REDUCE_ONLY, RiskGate

NY = ZoneInfo("America/New_York")


def ny(day: int, hh: int, mm: int, ss: int = 0) -> float:
    return datetime(2025, 11, day, hh, mm, ss, tzinfo=NY).timestamp()


def gate(**kw) -> RiskGate:
    return RiskGate(Risk(**kw))


def test_daily_loss_mid_trade_halts_until_the_roll():
    g = gate(daily_loss_usd=500)
    assert g.check_entry(ny(20, 10, 0), 0, 15).ok
    g.on_entry(ny(20, 10, 0))
    assert g.mark(ny(20, 10, 5), -300.0) is False      # open loss, not yet the limit
    assert g.state == ACTIVE
    assert g.mark(ny(20, 10, 6), -512.5) is True        # breached while in the trade: caller flattens
    assert g.state == HALTED and "daily loss" in g.reason
    g.on_closed_trade(ny(20, 10, 6), -515.0, stopped_out=False)
    for t in (ny(20, 11, 0), ny(20, 15, 59), ny(20, 17, 59)):
        check = g.check_entry(t, 0, 15)
        assert not check.ok and check.limit == HALTED
    # 18:00 New York starts the next trading day: the halt clears, P&L and counters reset
    g.roll(ny(20, 18, 0))
    assert g.state == ACTIVE and g.realized_usd == 0.0 and g.trades_today == 0
    assert g.check_entry(ny(21, 9, 45), 0, 15).ok
    assert [tr[2] for tr in g.transitions] == [HALTED, ACTIVE]


def test_profit_target_allows_no_new_entries():
    g = gate(daily_profit_target_usd=1000)
    g.on_closed_trade(ny(20, 10, 0), 600.0, stopped_out=False)
    assert g.state == ACTIVE
    g.on_closed_trade(ny(20, 10, 30), 450.0, stopped_out=False)
    assert g.state == REDUCE_ONLY
    check = g.check_entry(ny(20, 11, 0), 0, 15)
    assert not check.ok and check.limit == REDUCE_ONLY


def test_cooldown_after_a_stop_out():
    g = gate(cooldown_after_stop_min=15)
    g.on_closed_trade(ny(20, 10, 0), -100.0, stopped_out=True)
    check = g.check_entry(ny(20, 10, 14, 59), 0, 15)
    assert not check.ok and check.limit == "risk.cooldown_after_stop"
    assert g.check_entry(ny(20, 10, 15), 0, 15).ok
    # a losing exit that was not a stop-out starts no cooldown
    g2 = gate(cooldown_after_stop_min=15)
    g2.on_closed_trade(ny(20, 10, 0), -100.0, stopped_out=False)
    assert g2.check_entry(ny(20, 10, 1), 0, 15).ok


def test_max_trades_per_day_and_reset_next_day():
    g = gate(max_trades_per_day=2)
    g.on_entry(ny(20, 10, 0))
    g.on_entry(ny(20, 10, 30))
    check = g.check_entry(ny(20, 11, 0), 0, 15)
    assert not check.ok and check.limit == "risk.max_trades_per_day"
    assert g.check_entry(ny(21, 10, 0), 0, 15).ok


def test_consecutive_losses_halt_and_a_win_resets_the_count():
    g = gate(max_consecutive_losses=3, daily_loss_usd=10_000)
    for k, pnl in enumerate((-50, -50, 80, -50, -50)):
        g.on_closed_trade(ny(20, 10, k), pnl, stopped_out=False)
    assert g.state == ACTIVE and g.consecutive_losses == 2
    g.on_closed_trade(ny(20, 10, 9), -50, stopped_out=False)
    assert g.state == HALTED and "3 consecutive losses" in g.reason


def test_trading_hours_vix_and_max_position():
    g = gate(halt_vix_above=30, max_position=2)
    assert g.check_entry(ny(20, 9, 29), 0, 15).limit == "risk.trading_hours"
    assert g.check_entry(ny(20, 9, 30), 0, 15).ok
    assert g.check_entry(ny(20, 16, 0), 0, 15).limit == "risk.trading_hours"
    assert g.check_entry(ny(20, 12, 0), 0, 30.5).limit == "risk.halt_vix_above"
    assert g.check_entry(ny(20, 12, 0), 0, float("nan")).ok   # no VIX: this limit cannot judge
    assert g.check_entry(ny(20, 12, 0), -2, 15).limit == "risk.max_position"


def test_order_rejections_halt():
    g = gate(max_order_rejections=2)
    for k in range(2):
        g.on_rejection(ny(20, 10, k))
    assert g.state == ACTIVE
    g.on_rejection(ny(20, 10, 5))
    assert g.state == HALTED
