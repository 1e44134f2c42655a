"""Working entries on hand-made sequences: the engine sees them, they expire after one bar, they are
cancelled at the end of the hours, at a halt and at the end of the data; a broker refusal is traced.
Every cancel, flatten and gate change is a record of the trace."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from mia.backtest.driver import Backtest
from mia.runtime.session import END_OF_DATA, END_OF_HOURS, EXPIRED
from mia.broker.orders import BrokerError, OrderIntent
from mia.dsl import catalog, compile_rules, load_rules

NY = ZoneInfo("America/New_York")
RULES = """\
version: 1
instrument: ES
signals:
  - {name: up, when: close > 5000, side: long}
  - {name: down, when: close < 5000, side: short}
risk:
  daily_loss: 500 USD
  max_position: 20
  cooldown_after_stop: 0 min
  trading_hours: 09:30-16:00 America/New_York
exits:
  stop: 40 ticks
  take_profit: 2 R
"""
CLOSE = [f.name for f in catalog.FEATURES].index("close")


def at(hh, mm, ss=0, day=20):
    return datetime(2025, 11, day, hh, mm, ss, tzinfo=NY).timestamp()


def row(close):
    r = np.full(len(catalog.FEATURES), np.nan)
    r[CLOSE] = close
    return r


@pytest.fixture
def bt(tmp_path):
    (tmp_path / "r.yaml").write_text(RULES)
    return Backtest(compile_rules(load_rules([tmp_path])), feature_engine=None,
                    slippage_ticks=0, commission_per_contract=0)


def kinds(bt):
    return [getattr(r, "kind", "bar") for r in bt.result.trace]


def orders(bt):
    return [r for r in bt.result.trace if getattr(r, "kind", "") == "order"]


def test_an_opposite_signal_while_the_entry_works_is_traced_not_sent(bt):
    """No trade prints after an entry: before, the opposite signal's order made the broker raise
    and ended the backtest; now that bar says "entry working" and the entry expires."""
    bt.session.on_trade(at(10, 0), 5001.0, 1)
    bt.session.on_bar(at(10, 0), row(5001.0))
    assert bt.result.decisions[-1].action == "enter long 1"
    bt.session.on_bar(at(10, 1), row(4999.0))            # no print since: the buy still works
    d = bt.result.decisions[-1]
    assert d.action == "entry working" and d.intent is None and d.chosen == "down"
    assert "20251120-0001" in d.detail
    (cancel,) = orders(bt)
    assert (cancel.order, cancel.action, cancel.why) == ("20251120-0001", "cancelled", EXPIRED)
    assert cancel.submitted.startswith("2025-11-20T10:00") and cancel.time.startswith("2025-11-20T10:01")
    assert kinds(bt) == ["bar", "bar", "order"]
    assert [w for w in bt.broker.working if w.role == "entry"] == []
    bt.session.on_bar(at(10, 2), row(4999.0))            # one bar later a new entry may go
    assert bt.result.decisions[-1].action == "enter short 1"
    bt.session.on_trade(at(10, 2, 5), 4999.0, 1)
    assert bt.broker.position == -1 and bt.gate.trades_today == 1


def test_an_entry_filled_before_the_next_close_is_not_cancelled(bt):
    bt.session.on_bar(at(10, 0), row(5001.0))
    bt.session.on_trade(at(10, 0, 30), 5001.0, 1)
    bt.session.on_bar(at(10, 1), row(5001.0))
    assert bt.broker.position == 1 and orders(bt) == []
    assert bt.result.decisions[-1].action == "in position"


def test_a_working_entry_is_cancelled_when_the_hours_end(bt):
    bt.session.on_bar(at(15, 59), row(5001.0))
    assert bt.result.decisions[-1].action == "enter long 1"
    bt.session.on_bar(at(16, 0), row(5001.0))
    (cancel,) = orders(bt)
    assert cancel.why == END_OF_HOURS
    assert not [w for w in bt.broker.working if w.role == "entry"]


def test_a_working_entry_is_cancelled_at_the_end_of_the_data(bt):
    bt.session.on_bar(at(10, 0), row(5001.0))
    res = bt.finish()
    (cancel,) = orders(bt)
    assert cancel.why == END_OF_DATA and res.trades == []
    assert not [r for r in res.trace if getattr(r, "kind", "") == "flatten"]   # nothing was open


def test_a_halt_cancels_the_rest_of_a_working_limit_entry_and_flattens(bt):
    bt.session.on_bar(at(10, 0), row(float("nan")))      # a bar without a signal: the gate knows the day
    assert bt.session.submit(at(10, 0), OrderIntent("L", at(10, 0), 1, 10, "limit", 5000.0, 40, 80, "manual"))
    bt.session.on_trade(at(10, 0, 10), 5000.0, 1)        # 1 of 10 filled
    bt.session.on_trade(at(10, 0, 20), 4995.0, 1)        # 1 more at 5000; -2 x 5 points x 50 = -500: the daily loss
    assert bt.broker.position == 0 and bt.gate.state == "HALTED"
    tail = [r for r in bt.result.trace if getattr(r, "kind", "bar") != "bar"]
    assert [r.kind for r in tail] == ["gate", "order", "flatten"]
    gate, cancel, flat = tail
    assert (gate.old, gate.new, gate.limit) == ("ACTIVE", "HALTED", "risk.daily_loss")
    assert gate.where.endswith("r.yaml:7")
    assert gate.values["daily_pnl_usd"] == -500.0 and gate.values["limit_usd"] == -500.0
    assert (cancel.order, cancel.qty, cancel.why) == ("L", 8, "risk gate HALTED")
    assert (flat.why, flat.position, flat.price) == ("daily loss", 2, 4995.0)
    assert flat.closed[0]["order"] == "L" and flat.closed[0]["net_usd"] == -500.0


def test_a_broker_refusal_is_traced_and_counted_not_raised(bt, monkeypatch):
    def refuse(intent):
        raise BrokerError(f"order {intent.id!r}: refused")

    monkeypatch.setattr(bt.broker, "submit", refuse)
    bt.session.on_bar(at(10, 0), row(5001.0))
    (rej,) = orders(bt)
    assert rej.action == "rejected" and "refused" in rej.why
    assert bt.gate.counters.rejections == 1


def test_a_flatten_at_the_end_of_the_hours_and_of_the_data_is_traced(bt):
    bt.session.on_bar(at(15, 58), row(5001.0))
    bt.session.on_trade(at(15, 58, 5), 5001.0, 1)
    bt.session.on_trade(at(15, 59, 50), 5003.0, 1)
    bt.session.on_bar(at(16, 0), row(5003.0))
    (flat,) = [r for r in bt.result.trace if getattr(r, "kind", "") == "flatten"]
    assert (flat.why, flat.position, flat.price) == (END_OF_HOURS, 1, 5003.0)
    assert "09:30-16:00" in flat.detail and flat.closed[0]["net_usd"] == 100.0
    bt.session.on_bar(at(10, 0, day=21), row(5001.0))
    bt.session.on_trade(at(10, 0, 5, day=21), 5001.0, 1)
    bt.finish()
    flats = [r for r in bt.result.trace if getattr(r, "kind", "") == "flatten"]
    assert [f.why for f in flats] == [END_OF_HOURS, END_OF_DATA]
    assert "gate" not in kinds(bt)               # ACTIVE all along: a day roll alone is no state change
