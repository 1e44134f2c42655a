"""Daily loss breached inside a trade: the backtest flattens at once, halts, and resumes next day."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from mia.backtest.driver import Backtest
from mia.dsl import catalog, compile_rules, load_rules

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


def at(day, hh, mm, ss=0):
    return datetime(2025, 11, day, hh, mm, ss, tzinfo=NY).timestamp()


def backtest_and_row(tmp_path):
    """A backtest of RULES with no costs, a first trade at 10:00 and a bar row closing at 5000."""
    (tmp_path / "r.yaml").write_text(RULES)
    compiled = compile_rules(load_rules([tmp_path]))
    bt = Backtest(compiled, feature_engine=None, slippage_ticks=0, commission_per_contract=0)
    row = np.full(len(catalog.FEATURES), np.nan)
    row[[f.name for f in catalog.FEATURES].index("close")] = 5000.0
    bt.session.on_trade(at(20, 10, 0), 5000.0, 1)
    return bt, row


def test_daily_loss_mid_trade_flattens_and_halts_until_next_day(tmp_path):
    bt, row = backtest_and_row(tmp_path)
    bt.session.on_bar(at(20, 10, 0), row)                       # decides: enter long 1
    bt.session.on_trade(at(20, 10, 0, 5), 5000.0, 1)            # entry fills at 5000
    assert bt.broker.position == 1
    bt.session.on_trade(at(20, 10, 1), 4995.0, 1)               # -250 USD open: under the limit
    assert bt.broker.position == 1 and bt.gate.state == "ACTIVE"
    bt.session.on_trade(at(20, 10, 2), 4994.0, 1)               # -300 USD open: breached before the 10-point stop
    assert bt.broker.position == 0
    (trade,) = bt.result.trades
    assert trade.exit_role == "flatten" and trade.net_usd == -300.0
    assert bt.gate.state == "HALTED"
    bt.session.on_bar(at(20, 10, 3), row)
    assert bt.result.decisions[-1].action == "blocked" and bt.result.decisions[-1].limit == "HALTED"
    assert bt.broker.working == [] or all(o.role != "entry" for o in bt.broker.working)
    bt.session.on_bar(at(21, 9, 45), row)                       # the next trading day: active again
    assert bt.gate.state == "ACTIVE" and bt.result.decisions[-1].action == "enter long 1"


def test_halt_flatten_and_roll_are_trace_records_that_why_explains(tmp_path):
    from mia.runtime.runfolder import summarize, write_outputs
    from mia.backtest.why import why

    bt, row = backtest_and_row(tmp_path)
    bt.session.on_bar(at(20, 10, 0), row)
    bt.session.on_trade(at(20, 10, 0, 5), 5000.0, 1)
    bt.session.on_trade(at(20, 10, 2), 4994.0, 1)               # -300 USD: flatten + halt
    bt.session.on_bar(at(20, 10, 3), row)
    bt.session.on_bar(at(21, 9, 45), row)
    res = bt.finish()
    others = [r.to_json() for r in res.trace if getattr(r, "kind", "bar") != "bar"]
    assert [(r["kind"], r.get("to") or r.get("why")) for r in others] == \
        [("gate", "HALTED"), ("flatten", "daily loss"), ("gate", "ACTIVE"), ("order", "end of data")]
    halt, flat, roll, cancel = others
    assert cancel["order"] == "20251121-0002" and cancel["action"] == "cancelled"
    assert halt["from"] == "ACTIVE" and halt["limit"] == "risk.daily_loss"
    assert halt["where"] == f"{tmp_path.name}/r.yaml:6"      # the rule folder and file, not the whole path
    assert halt["values"] == {"daily_pnl_usd": -300.0, "realized_usd": 0.0, "limit_usd": -300.0}
    assert flat["position"] == 1 and flat["price"] == 4994.0 and flat["gate"] == "HALTED"
    assert flat["closed"] == [{"order": "20251120-0001", "tag": "go_long", "qty": 1, "entry_price": 5000.0,
                               "exit_price": 4994.0, "net_usd": -300.0}]
    assert roll["from"] == "HALTED" and roll["values"] == {"day": "2025-11-21"}
    # bar records stay as they were (no kind), the summary counts bars only
    bars = [r for r in res.trace if getattr(r, "kind", "bar") == "bar"]
    assert bars == res.decisions and all("kind" not in d.to_json() for d in bars)
    summary = summarize(res.trades, res.decisions, len(res.days), res.trace)
    assert summary["bars"] == 3 and summary["flattens_by_reason"] == {"daily loss": 1}
    assert summary["gate_changes"] == {"ACTIVE -> HALTED": 1, "HALTED -> ACTIVE": 1}
    write_outputs(tmp_path / "run", res.trades, res.trace, summary)
    text = why(tmp_path / "run", "10:02")
    assert "risk gate ACTIVE -> HALTED (daily loss -300.00 USD reached risk.daily_loss 300 USD" in text
    assert f"limit risk.daily_loss at {tmp_path.name}/r.yaml:6: daily_pnl_usd=-300.0" in text
    assert "flatten long 1 at 4994 (daily loss)" in text and "net -300.00 USD" in text
    assert why(tmp_path / "run", "2025-11-21 09:45").startswith("2025-11-21T09:45:00-05:00: risk gate HALTED -> ACTIVE")
