"""The risk gate at its boundaries: each limit exactly at its value and one step either side, what
the 18:00 roll restarts, and the fast path's quiet band checked against the slow path price by price.

Values are the rules' own (``Risk``); the expected outcomes come from domain.md's wording: a loss
is a trade that lost money (a breakeven trade is not one), "daily loss 500 USD" is reached at
-500.00, "profit target 1000 USD" at +1000.00, "halt_vix_above 30" halts above 30, not at 30,
"more than 10 rejections" halts at the 11th.
"""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mia.dsl.ruleset import Risk, TradingHours
from mia.engine.risk import ACTIVE, HALTED, REDUCE_ONLY, RiskGate

NY = ZoneInfo("America/New_York")
ALL_DAY = TradingHours(0, 24 * 60, "America/New_York")


def ny(day: int, hh: int, mm: int, ss: float = 0) -> float:
    return datetime(2025, 11, day, hh, mm, tzinfo=NY).timestamp() + ss


def gate(**kw) -> RiskGate:
    changes: list = []
    g = RiskGate(Risk(**kw), publish=changes.append)
    g.changes = changes
    return g


# ---- a loss, the daily loss, the profit target ---------------------------------------------------

def test_a_breakeven_trade_is_not_a_loss_and_ends_a_losing_streak():
    g = gate(max_consecutive_losses=2, daily_loss_usd=10_000)
    g.on_closed_trade(ny(20, 10, 0), -50.0, stopped_out=False)
    g.on_closed_trade(ny(20, 10, 5), 0.0, stopped_out=False)
    assert g.counters.consecutive_losses == 0 and g.state == ACTIVE
    g.on_closed_trade(ny(20, 10, 10), -50.0, stopped_out=False)
    assert g.counters.consecutive_losses == 1 and g.state == ACTIVE
    g.on_closed_trade(ny(20, 10, 15), -0.01, stopped_out=False)      # a cent lost is a loss
    assert g.state == HALTED and "2 consecutive losses" in g.reason


@pytest.mark.parametrize("pnl,halted", [(-499.99, False), (-500.0, True), (-500.01, True)])
def test_the_daily_loss_is_reached_at_its_value(pnl, halted):
    g = gate(daily_loss_usd=500)
    assert g.mark(ny(20, 10, 0), pnl) is halted
    assert g.state == (HALTED if halted else ACTIVE)
    g2 = gate(daily_loss_usd=500)                   # the same through closed trades
    g2.on_closed_trade(ny(20, 10, 0), pnl / 2, stopped_out=False)
    g2.on_closed_trade(ny(20, 10, 1), pnl / 2, stopped_out=False)
    assert g2.state == (HALTED if halted else ACTIVE)


@pytest.mark.parametrize("pnl,reduced", [(999.99, False), (1000.0, True), (1000.01, True)])
def test_the_profit_target_is_reached_at_its_value(pnl, reduced):
    g = gate(daily_profit_target_usd=1000)
    g.on_closed_trade(ny(20, 10, 0), pnl, stopped_out=False)
    assert g.state == (REDUCE_ONLY if reduced else ACTIVE)
    g2 = gate(daily_profit_target_usd=1000)         # an open profit counts as well
    g2.on_closed_trade(ny(20, 10, 0), 400.0, stopped_out=False)
    assert g2.mark(ny(20, 10, 1), pnl - 400.0) is False              # no flatten for a profit
    assert g2.state == (REDUCE_ONLY if reduced else ACTIVE)


def test_a_held_limit_keeps_the_reason_of_its_breach():
    g = gate(daily_loss_usd=500)
    g.mark(ny(20, 10, 0), -512.5)
    g.mark(ny(20, 10, 1), -700.0)
    assert "-512.50" in g.reason and "-700" not in g.reason
    assert [(c.old, c.new) for c in g.changes] == [(ACTIVE, HALTED)]


# ---- per-entry limits at their values ----------------------------------------------------------

@pytest.mark.parametrize("vix,ok", [(29.99, True), (30.0, True), (30.01, False), (math.inf, False),
                                    (math.nan, True)])
def test_vix_at_halt_vix_above_is_allowed_above_it_is_not(vix, ok):
    check = gate(halt_vix_above=30).check_entry(ny(20, 12, 0), 0, vix)
    assert check.ok is ok and (ok or check.limit == "risk.halt_vix_above")


@pytest.mark.parametrize("position,ok", [(0, True), (1, True), (-1, True), (2, False), (-2, False), (3, False)])
def test_max_position_is_a_ceiling_on_the_size_held(position, ok):
    check = gate(max_position=2).check_entry(ny(20, 12, 0), position, 15)
    assert check.ok is ok and (ok or check.limit == "risk.max_position")


def test_max_trades_counts_entries_up_to_the_limit():
    g = gate(max_trades_per_day=2)
    g.on_entry(ny(20, 10, 0))
    assert g.check_entry(ny(20, 10, 1), 0, 15).ok
    g.on_entry(ny(20, 10, 2))
    assert g.check_entry(ny(20, 10, 3), 0, 15).limit == "risk.max_trades_per_day"


def test_rejections_halt_only_beyond_the_limit():
    g = gate(max_order_rejections=1)
    g.on_rejection(ny(20, 10, 0))
    assert g.state == ACTIVE
    g.on_rejection(ny(20, 10, 1))
    assert g.state == HALTED and "2 order rejections" in g.reason


def test_the_cooldown_ends_exactly_after_its_minutes_and_a_stop_after_the_bar_counts_now():
    g = gate(cooldown_after_stop_min=15)
    g.on_closed_trade(ny(20, 10, 0), -100.0, stopped_out=True)
    assert g.check_entry(ny(20, 10, 14, 59.9), 0, 15).limit == "risk.cooldown_after_stop"
    assert g.check_entry(ny(20, 10, 15), 0, 15).ok
    # a bar's decision is stamped with its close; a stop on a later tick is "0 minutes ago"
    g0 = gate(cooldown_after_stop_min=0)
    g0.on_closed_trade(ny(20, 10, 0, 5), -100.0, stopped_out=True)
    assert g0.check_entry(ny(20, 10, 0), 0, 15).ok                    # no cooldown at all
    g1 = gate(cooldown_after_stop_min=1)
    g1.on_closed_trade(ny(20, 10, 0, 5), -100.0, stopped_out=True)
    check = g1.check_entry(ny(20, 10, 0), 0, 15)
    assert not check.ok and "stopped out 0.0 min ago; 1.0 min of cooldown left" in check.detail


@pytest.mark.parametrize("hh,mm,ok", [(8, 59, False), (9, 0, True), (15, 59, True), (16, 0, False)])
def test_trading_hours_are_start_inclusive_end_exclusive(hh, mm, ok):
    """The default hours (domain.md: 09:00-16:00 New York) at each edge."""
    check = gate().check_entry(ny(20, hh, mm), 0, 15)
    assert check.ok is ok and (ok or check.limit == "risk.trading_hours")


@pytest.mark.parametrize("hh,mm,ok", [(9, 29, False), (9, 30, True), (11, 59, True), (12, 0, False)])
def test_trading_hours_of_the_rules_are_the_gates(hh, mm, ok):
    check = gate(trading_hours=TradingHours(570, 720, "America/New_York")).check_entry(ny(20, hh, mm), 0, 15)
    assert check.ok is ok and (ok or check.limit == "risk.trading_hours")


# ---- what the 18:00 roll restarts ------------------------------------------------------------------

def test_the_roll_ends_the_stop_cooldown():
    g = gate(cooldown_after_stop_min=15, trading_hours=ALL_DAY)
    g.on_closed_trade(ny(20, 17, 55), -100.0, stopped_out=True)
    assert g.check_entry(ny(20, 17, 59), 0, 15).limit == "risk.cooldown_after_stop"
    assert g.check_entry(ny(20, 18, 1), 0, 15).ok                     # a new trading day


def test_the_roll_restarts_the_rejection_count():
    g = gate(max_order_rejections=2, trading_hours=ALL_DAY)
    g.on_rejection(ny(20, 10, 0))
    g.on_rejection(ny(20, 10, 1))
    g.on_rejection(ny(20, 18, 0))                                     # the first of the new day
    assert g.state == ACTIVE and g.counters.rejections == 1
    g.on_rejection(ny(20, 18, 1))
    g.on_rejection(ny(20, 18, 2))
    assert g.state == HALTED


def test_the_roll_restarts_the_losing_streak_and_the_pnl():
    g = gate(max_consecutive_losses=2, daily_loss_usd=500, trading_hours=ALL_DAY)
    g.on_closed_trade(ny(20, 17, 0), -300.0, stopped_out=False)
    g.on_closed_trade(ny(20, 18, 0), -300.0, stopped_out=False)       # day 2: one loss, -300
    assert g.state == ACTIVE and g.counters.consecutive_losses == 1 and g.realized_usd == -300.0


# ---- the quiet band against the slow path -----------------------------------------------------------

GRID = 0.25


@pytest.mark.parametrize("position", [1, 2, -1, -2])
@pytest.mark.parametrize("realized", [-480.0, -250.0, 0.0, 137.5, 600.0, 990.0])
@pytest.mark.parametrize("avg", [5000.0, 5000.25, 5003.125])
def test_no_price_inside_the_quiet_band_crosses_a_limit(position, realized, avg):
    """The fast path skips marking prices strictly inside the band; marking any of them must then
    change nothing (the walk of prices reaches a limit on one side at least). And the band is not
    needlessly empty."""
    t = ny(20, 10, 0)

    def fresh() -> RiskGate:
        g = gate(daily_loss_usd=500, daily_profit_target_usd=1000)
        g.roll(t)
        g.counters.realized_usd = realized
        return g

    lo, hi = fresh().quiet_band(position, avg, 50.0, GRID)
    # of use, too: the entry price is quiet when both lines are more than a tick away from it
    per_point = abs(position) * 50.0
    to_loss, to_target = (500 + realized) / per_point, (1000 - realized) / per_point
    if to_loss > GRID and to_target > GRID:
        assert lo < avg < hi, (lo, avg, hi)
    inside = breaches = 0
    for k in range(-200, 201):
        p = round(avg / GRID) * GRID + k * GRID
        g = fresh()
        changed = g.mark(t, (p - avg) * position * 50.0) or g.state != ACTIVE
        if lo < p < hi:
            inside += 1
            assert not changed, (p, lo, hi)
        breaches += changed
    assert breaches > 0 and (inside > 0 or hi - lo <= 2 * GRID)


def test_the_quiet_band_of_no_position_is_everything():
    assert gate().quiet_band(0, math.nan, 50.0, GRID) == (-math.inf, math.inf)


def test_a_snapshot_restores_the_same_day():
    g = gate(max_order_rejections=5)
    g.on_closed_trade(ny(20, 10, 0), -120.0, stopped_out=True)
    g.on_entry(ny(20, 10, 1))
    g.on_rejection(ny(20, 10, 2))
    g.mark(ny(20, 10, 3), -500.0)
    g2 = gate(max_order_rejections=5)
    g2.restore(g.snapshot())
    assert g2.snapshot() == g.snapshot()
    assert (g2.state, g2.reason, g2.counters) == (g.state, g.reason, g.counters)
    assert g2.counters.rejections == 1 and g2.counters.last_stop_t == ny(20, 10, 0)


def test_a_limits_hold_is_not_released_by_name():
    """``release`` ends an operator's or the feed's hold; a limit's waits for the next day, even
    when its key is named."""
    from mia.engine.risk import PAUSE

    g = gate(daily_loss_usd=100)
    g.mark(ny(20, 10, 0), -150.0)
    g.hold(ny(20, 10, 1), PAUSE, REDUCE_ONLY, "paused")
    assert g.release(ny(20, 10, 2), ("risk.daily_loss", PAUSE), "resume everything") == [PAUSE]
    assert g.state == HALTED and "risk.daily_loss" in g.holds
