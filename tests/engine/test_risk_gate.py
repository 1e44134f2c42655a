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
    """A gate whose published changes the test reads in ``g.changes``."""
    changes: list = []
    g = RiskGate(Risk(**kw), publish=changes.append)
    g.changes = changes
    return g


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
    assert [c.new for c in g.changes] == [HALTED, ACTIVE]


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
    assert g.state == ACTIVE and g.counters.consecutive_losses == 2
    g.on_closed_trade(ny(20, 10, 9), -50, stopped_out=False)
    assert g.state == HALTED and "3 consecutive losses" in g.reason


def test_trading_hours_vix_and_max_position():
    g = gate(halt_vix_above=30, max_position=2)
    assert g.check_entry(ny(20, 8, 59), 0, 15).limit == "risk.trading_hours"
    assert g.check_entry(ny(20, 9, 0), 0, 15).ok
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


def test_every_state_change_names_its_limit_place_and_values(tmp_path):
    from mia.dsl import load_rules

    (tmp_path / "risk.yaml").write_text("version: 1\ninstrument: ES\nsignals:\n"
                                        "  - {name: s, when: close > 0, side: long}\n"
                                        "risk:\n  daily_profit_target: 200 USD\n  max_consecutive_losses: 2\n")
    changes: list = []
    g = RiskGate.for_rules(load_rules([tmp_path]), publish=changes.append)
    g.on_closed_trade(ny(20, 10, 0), 250.0, stopped_out=False)
    g.roll(ny(20, 18, 0))
    g.on_closed_trade(ny(21, 10, 0), -40.0, stopped_out=True)
    g.on_closed_trade(ny(21, 10, 5), -60.0, stopped_out=True)
    g.on_rejection(ny(21, 10, 6))                       # already halted: no new change
    got = [(c.old, c.new, c.limit, c.where, c.values) for c in changes]
    where = f"{tmp_path.name}/risk.yaml"      # the rule folder and file (RuleSet.where)
    assert got == [
        (ACTIVE, REDUCE_ONLY, "risk.daily_profit_target", f"{where}:6",
         {"daily_pnl_usd": 250.0, "realized_usd": 250.0, "target_usd": 200.0}),
        (REDUCE_ONLY, ACTIVE, "", "", {"day": "2025-11-21"}),
        (ACTIVE, HALTED, "risk.max_consecutive_losses", f"{where}:7",
         {"consecutive_losses": 2, "limit": 2, "daily_pnl_usd": -100.0}),
    ]
    assert [c.t for c in changes] == [ny(20, 10, 0), ny(20, 18, 0), ny(21, 10, 5)]
    assert changes[1].reason == "new trading day 2025-11-21" and "2 consecutive losses" in changes[2].reason
    # a limit the rules leave at its default has no place to cite
    g2 = gate(max_order_rejections=0)
    g2.on_rejection(ny(20, 10, 0))
    (c,) = g2.changes
    assert (c.limit, c.where, c.values) == ("risk.max_order_rejections", "", {"rejections_today": 1, "limit": 0})


def test_stale_data_blocks_entries_on_feed_time():
    g = gate(stale_bar_seconds=30, stale_vix_seconds=300)
    t = ny(20, 10, 0)
    assert g.check_entry(t, 0, 15, bar_age_s=30.0, vix_age_s=300.0).ok          # at the limits: fresh
    check = g.check_entry(t, 0, 15, bar_age_s=30.5, vix_age_s=10.0)
    assert not check.ok and check.limit == "risk.stale_bar_seconds" and "30 s" in check.detail
    check = g.check_entry(t, 0, 15, bar_age_s=1.0, vix_age_s=301.0)
    assert not check.ok and check.limit == "risk.stale_vix_seconds"
    assert g.check_entry(t, 0, 15, bar_age_s=float("nan"), vix_age_s=float("nan")).ok   # cannot tell


def test_holds_of_the_operator_and_the_feed_outlive_the_roll_and_release_alone():
    from mia.engine.risk import FEED, PAUSE

    g = gate(daily_loss_usd=100)
    g.mark(ny(20, 10, 0), -150.0)                              # a limit's halt
    assert g.hold(ny(20, 10, 1), PAUSE, REDUCE_ONLY, "paused by cli")
    assert not g.hold(ny(20, 10, 2), PAUSE, REDUCE_ONLY, "paused again")
    g.hold(ny(20, 10, 3), FEED, HALTED, "feed stale")
    assert g.release(ny(20, 10, 4), (PAUSE,), "resumed") == ["pause"]
    assert g.state == HALTED and "daily loss" in g.reason       # the limit's halt stays
    g.roll(ny(20, 18, 0))                                       # the day's halt goes, the feed's stays
    assert g.state == HALTED and g.reason == "feed stale"
    assert g.release(ny(21, 9, 0), (FEED, "risk.daily_loss"), "feed back") == ["feed"]
    assert g.state == ACTIVE
    assert [(c.old, c.new) for c in g.changes] == [(ACTIVE, HALTED), (HALTED, ACTIVE)]
