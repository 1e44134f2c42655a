"""Daily loss breached inside a trade: the backtest flattens at once, halts, and resumes next day."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from mia.backtest.run import Backtest
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


def test_daily_loss_mid_trade_flattens_and_halts_until_next_day(tmp_path):
    (tmp_path / "r.yaml").write_text(RULES)
    compiled = compile_rules(load_rules([tmp_path]))
    bt = Backtest(compiled, feature_engine=None, slippage_ticks=0, commission_per_contract=0)
    row = np.full(len(catalog.FEATURES), np.nan)
    row[[f.name for f in catalog.FEATURES].index("close")] = 5000.0
    bt.on_trade(at(20, 10, 0), 5000.0, 1)
    bt.on_bar(at(20, 10, 0), row)                       # decides: enter long 1
    bt.on_trade(at(20, 10, 0, 5), 5000.0, 1)            # entry fills at 5000
    assert bt.broker.position == 1
    bt.on_trade(at(20, 10, 1), 4995.0, 1)               # -250 USD open: under the limit
    assert bt.broker.position == 1 and bt.gate.state == "ACTIVE"
    bt.on_trade(at(20, 10, 2), 4994.0, 1)               # -300 USD open: breached before the 10-point stop
    assert bt.broker.position == 0
    (trade,) = bt.result.trades
    assert trade.exit_role == "flatten" and trade.net_usd == -300.0
    assert bt.gate.state == "HALTED"
    bt.on_bar(at(20, 10, 3), row)
    assert bt.result.decisions[-1].action == "blocked" and bt.result.decisions[-1].limit == "HALTED"
    assert bt.broker.working == [] or all(o.role != "entry" for o in bt.broker.working)
    bt.on_bar(at(21, 9, 45), row)                       # the next trading day: active again
    assert bt.gate.state == "ACTIVE" and bt.result.decisions[-1].action == "enter long 1"
