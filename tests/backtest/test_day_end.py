"""A day whose data stops inside the trading hours: the open position is flattened as that trading
day ends (traced, in that day's P&L), never carried into the next day; block feed == event feed."""
from __future__ import annotations

import datetime as dt

from mia.backtest.driver import Backtest, run
from mia.runtime.session import END_OF_DAY
from mia.dsl import compile_rules, load_rules
from mia.calendar import trading_day
from mia.features import FeatureEngine
from mia.features.engine import HANDLED_TYPES
from mia.market.columnar.blocks import blocks
from mia.market.replay import replay
from mia.market.sim import SimConfig, simulate

RULES = """\
version: 1
instrument: ES
signals:
  - {name: up_bar, when: "close > open", side: long}
risk:
  daily_loss: 1000000 USD
  daily_profit_target: 1000000 USD
  max_position: 1
  max_trades_per_day: 1000
  max_consecutive_losses: 1000
  trading_hours: 09:30-16:00 America/New_York
exits:
  stop: 400 ticks
  take_profit: 10 R
"""


def test_no_position_is_carried_overnight(tmp_path):
    for k, day in enumerate((dt.date(2025, 11, 19), dt.date(2025, 11, 20))):
        simulate(SimConfig(day=day, seed=41 + k, minutes=30), tmp_path / f"{day:%Y%m%d}")   # ends 10:00
    (tmp_path / "r.yaml").write_text(RULES)
    compiled = compile_rules(load_rules([tmp_path / "r.yaml"]))
    streamed = run(compiled, FeatureEngine(), replay([tmp_path]))
    bt = Backtest(compiled, FeatureEngine())
    for block in blocks([tmp_path], wanted_types=HANDLED_TYPES):
        bt.session.on_block(block)
    fast = bt.finish()
    assert fast.trades == streamed.trades and fast.trace == streamed.trace
    assert streamed.trades
    for tr in streamed.trades:
        assert trading_day(tr.entry_t) == trading_day(tr.exit_t)
    day_end = [r for r in streamed.trace if getattr(r, "kind", "") == "flatten" and r.why == END_OF_DAY]
    assert len(day_end) == 1 and trading_day(day_end[0].t) == dt.date(2025, 11, 19)
    assert any(tr.exit_role == "flatten" and trading_day(tr.exit_t) == dt.date(2025, 11, 19)
               for tr in streamed.trades)
