"""The trading session's own behaviour: operator commands (pause, resume, flatten), holds across
the day roll, a swap of the rules that keeps the day, order ids that are never made twice, and
records published in the order things happen."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from mia.backtest.driver import Backtest
from mia.broker.orders import ClosedTrade, Fill, OrderIds
from mia.dsl import catalog, compile_rules, load_rules
from mia.engine.records import Decision, FlattenRecord, GateChange
from mia.runtime.commands import Command

NY = ZoneInfo("America/New_York")
RULES = """\
version: 1
instrument: ES
signals:
  - {name: go_long, when: close > 0, side: long}
risk:
  daily_loss: 300 USD
  cooldown_after_stop: 0 min
exits:
  stop: 40 ticks
  take_profit: 2 R
"""
CLOSE = [f.name for f in catalog.FEATURES].index("close")


def at(day, hh, mm, ss=0):
    return datetime(2025, 11, day, hh, mm, ss, tzinfo=NY).timestamp()


def row(close=5000.0):
    r = np.full(len(catalog.FEATURES), np.nan)
    r[CLOSE] = close
    return r


@pytest.fixture
def compiled(tmp_path):
    (tmp_path / "r.yaml").write_text(RULES)
    return compile_rules(load_rules([tmp_path]))


@pytest.fixture
def bt(compiled):
    return Backtest(compiled, feature_engine=None, slippage_ticks=0, commission_per_contract=0)


def in_position(bt, day=20):
    s = bt.session
    s.on_trade(at(day, 10, 0), 5000.0, 1)
    s.on_bar(at(day, 10, 0), row())
    s.on_trade(at(day, 10, 0, 5), 5000.0, 1)
    s.now = at(day, 10, 0, 5)
    assert bt.broker.position == 1


def gates(bt):
    return [(r.old, r.new, r.reason) for r in bt.result.trace if isinstance(r, GateChange)]


def test_pause_blocks_entries_until_resume(bt):
    s = bt.session
    s.on_trade(at(20, 10, 0), 5000.0, 1)
    s.now = at(20, 10, 0)
    res = s.on_command(Command("pause", origin="telegram:42"))
    assert res.ok and res.data["changed"] and res.data["gate"] == "REDUCE_ONLY"
    assert gates(bt) == [("ACTIVE", "REDUCE_ONLY", "paused by telegram:42")]
    s.on_bar(at(20, 10, 1), row())
    d = bt.result.decisions[-1]
    assert (d.action, d.limit) == ("blocked", "REDUCE_ONLY") and d.intent is None
    assert not s.on_command(Command("pause")).data["changed"]       # twice: nothing new
    res = s.on_command(Command("resume", origin="voice"))
    assert res.data["released"] == ["pause"] and res.data["gate"] == "ACTIVE"
    s.on_bar(at(20, 10, 2), row())
    assert bt.result.decisions[-1].action == "enter long 1"


def test_flatten_closes_at_market_once_and_holds_until_resume(bt):
    in_position(bt)
    s = bt.session
    s.on_trade(at(20, 10, 1), 5002.0, 1)
    s.now = at(20, 10, 1)
    res = s.on_command(Command("flatten", origin="cli"))
    assert res.ok and res.data["position_before"] == 1 and res.data["position"] == 0
    assert bt.broker.position == 0 and res.data["gate"] == "REDUCE_ONLY"
    flat = [r for r in bt.result.trace if isinstance(r, FlattenRecord)]
    assert [(f.why, f.position, f.price) for f in flat] == [("flatten command", 1, 5002.0)]
    (trade,) = bt.result.trades
    assert trade.exit_role == "flatten" and trade.net_usd == pytest.approx(100.0)
    again = s.on_command(Command("flatten", origin="cli"))        # idempotent
    assert again.ok and again.text.startswith("already flat")
    assert len([r for r in bt.result.trace if isinstance(r, FlattenRecord)]) == 1
    s.on_bar(at(20, 10, 2), row())
    assert bt.result.decisions[-1].action == "blocked"
    s.on_command(Command("resume"))
    s.on_bar(at(20, 10, 3), row())
    assert bt.result.decisions[-1].action == "enter long 1"


def test_flatten_is_never_blocked_by_a_halt_and_resume_does_not_lift_a_limit(bt):
    in_position(bt)
    s = bt.session
    s.on_trade(at(20, 10, 2), 4994.0, 1)        # -300 USD: daily loss, flattened and halted
    assert bt.broker.position == 0 and bt.gate.state == "HALTED"
    s.now = at(20, 10, 2)
    res = s.on_command(Command("flatten"))
    assert res.ok and res.data["gate"] == "HALTED"
    res = s.on_command(Command("resume"))
    assert res.data["gate"] == "HALTED" and "daily loss" in res.text
    s.on_bar(at(20, 10, 3), row())
    assert bt.result.decisions[-1].limit == "HALTED"


def test_a_pause_outlives_the_day_roll_a_daily_halt_does_not(bt):
    in_position(bt)
    s = bt.session
    s.on_trade(at(20, 10, 2), 4994.0, 1)        # halted for the day
    s.on_command(Command("pause"))
    s.on_bar(at(21, 9, 45), row())              # next trading day: the halt went, the pause stayed
    d = bt.result.decisions[-1]
    assert (d.action, d.limit) == ("blocked", "REDUCE_ONLY")
    assert gates(bt)[-1][:2] == ("HALTED", "REDUCE_ONLY")
    s.on_command(Command("resume"))
    s.on_bar(at(21, 9, 46), row())
    assert bt.result.decisions[-1].action == "enter long 1"


def test_flatten_with_nothing_open_cancels_the_working_entry(bt):
    s = bt.session
    s.on_trade(at(20, 10, 0), 5000.0, 1)
    s.on_bar(at(20, 10, 0), row())              # an entry now works, no trade printed since
    res = s.on_command(Command("flatten"))
    assert res.data["cancelled"] == 1 and bt.broker.working == []
    assert "1 working entry cancelled" in res.text


def test_a_rules_swap_keeps_the_position_the_day_and_the_order_ids(bt, compiled, tmp_path):
    in_position(bt)
    s = bt.session
    ids_before = s.ids.last
    (tmp_path / "r.yaml").write_text(RULES.replace("daily_loss: 300 USD", "daily_loss: 1000 USD"))
    new = compile_rules(load_rules([tmp_path]))
    s.swap_rules(new)
    assert bt.broker.position == 1 and bt.gate.trades_today == 1
    assert bt.gate.risk.daily_loss_usd == 1000.0
    s.on_trade(at(20, 10, 2), 4994.0, 1)        # -300 no longer breaches the new limit
    assert bt.broker.position == 1 and bt.gate.state == "ACTIVE"
    s.on_trade(at(20, 10, 3), 4990.0, 1)        # stopped out at 40 ticks: a new engine, the same ids
    s.on_bar(at(20, 10, 4), row())
    d = bt.result.decisions[-1]
    assert d.intent is not None and d.intent.id == f"20251120-{ids_before + 1:04d}"


def test_order_ids_continue_from_a_restart():
    ids = OrderIds(last=41)
    assert ids.next(datetime(2025, 11, 20).date()) == "20251120-0042"


def test_records_reach_every_sink_in_the_order_things_happen(compiled):
    seen: list = []
    bt = Backtest(compiled, feature_engine=None, slippage_ticks=0, commission_per_contract=0, sinks=[seen.append])
    in_position(bt)
    bt.session.on_trade(at(20, 10, 2), 4994.0, 1)
    kinds = [type(r).__name__ if not hasattr(r, "kind") else r.kind for r in seen]
    assert kinds == ["Decision", "Fill", "gate", "flatten", "Fill", "ClosedTrade"]
    assert isinstance(seen[0], Decision) and isinstance(seen[1], Fill) and isinstance(seen[-1], ClosedTrade)
    assert seen[-2].role == "flatten" and seen[3].closed[0]["net_usd"] == -300.0


def test_every_trace_record_says_which_rules_made_it(compiled, tmp_path):
    seen: list = []
    bt = Backtest(compiled, feature_engine=None, slippage_ticks=0, commission_per_contract=0, sinks=[seen.append])
    in_position(bt)
    v0 = bt.session.version
    assert len(v0) == 12 and all(r.rules == v0 for r in seen if hasattr(r, "rules"))
    (tmp_path / "r.yaml").write_text(RULES.replace("daily_loss: 300 USD", "daily_loss: 200 USD"))
    bt.session.swap_rules(compile_rules(load_rules([tmp_path])))
    assert bt.session.version != v0
    bt.session.on_trade(at(20, 10, 2), 4994.0, 1)                # the new limit halts and flattens
    after = [r for r in seen[3:] if hasattr(r, "rules")]
    assert after and all(r.to_json()["rules"] == bt.session.version for r in after)


def test_the_rules_version_is_the_same_from_any_folder(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "r.yaml").write_text(RULES)
    va, vb = (load_rules([tmp_path / n]).source_hash for n in ("a", "b"))
    assert va == vb
