"""The fast backtest feed (columnar blocks, ``Backtest.on_block``) equals the event-by-event feed
(``replay`` into ``Backtest.on_event``): same events, trades, decisions and gate transitions.

The rules trade on almost every bar with tight brackets and small daily limits, so fills,
stop-outs, targets, daily-loss flattens, halts and the profit-target switch all happen, on
bars from basedata, on bars built from trades, and on basedata bars over a stretch without
trade prints (entries that cannot fill: "entry working", then cancelled at the next bar).
"""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from mia.backtest.driver import Backtest, run
from mia.dsl import compile_rules, load_rules
from mia.features import FeatureEngine
from mia.features.engine import HANDLED_TYPES
from mia.market.columnar.blocks import blocks
from mia.market.replay import replay
from mia.market.sim import SimConfig, simulate

RULES = """\
version: 1
instrument: ES
signals:
  - {{name: up_bar, when: "close > open", side: long}}
  - {{name: down_bar, when: "close < open", side: short}}
risk:
  daily_loss: {loss} USD
  daily_profit_target: {target} USD
  max_position: 1
  max_trades_per_day: 1000
  max_consecutive_losses: 1000
  cooldown_after_stop: {cooldown} min
  trading_hours: 09:30-16:00 America/New_York
exits:
  stop: {stop} ticks
  take_profit: {r} R
"""

CASES = {
    "no_limits": dict(loss=1_000_000, target=1_000_000, cooldown=0, stop=4, r=1),
    "daily_loss_halts": dict(loss=100, target=1_000_000, cooldown=0, stop=12, r=3),
    "profit_target_reduces": dict(loss=1_000_000, target=40, cooldown=1, stop=3, r=1),
}


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    root = tmp_path_factory.mktemp("days")
    out = []
    for k, day in enumerate((dt.date(2025, 11, 19), dt.date(2025, 11, 20))):
        folder = root / f"{day:%Y%m%d}"
        simulate(SimConfig(day=day, seed=11 + k, minutes=45), folder)
        out.append(folder)
    return out


@pytest.fixture(scope="module")
def trade_only(days, tmp_path_factory):
    """The same days with only trades and quotes: bars are built from trades."""
    root = tmp_path_factory.mktemp("trade_only")
    out = []
    for folder in days:
        dst = root / folder.name
        dst.mkdir()
        for f in folder.glob("chart_3_*.jsonl"):
            if "_trade_" in f.name or "_quote_" in f.name or "_depth_" in f.name:
                shutil.copy(f, dst / f.name)
        out.append(dst)
    return out


@pytest.fixture(scope="module")
def trade_gap(days, tmp_path_factory):
    """The same days with the middle third of each trade file cut out: bars go on, trades stop."""
    root = tmp_path_factory.mktemp("trade_gap")
    out = []
    for folder in days:
        dst = root / folder.name
        shutil.copytree(folder, dst)
        (trades,) = dst.glob("chart_3_trade_*.jsonl")
        lines = trades.read_text().splitlines(keepends=True)
        n = len(lines)
        trades.write_text("".join(lines[: n // 3] + lines[2 * n // 3:]))
        out.append(dst)
    return out


def both(compiled, paths):
    streamed = run(compiled, FeatureEngine(), replay(paths))
    bt = Backtest(compiled, FeatureEngine())
    for block in blocks(paths, wanted_types=HANDLED_TYPES):
        bt.session.on_block(block)
    return streamed, bt.finish(), bt


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("source", ["basedata", "trades", "trade_gap"])
def test_block_feed_equals_event_feed(case, source, days, trade_only, trade_gap, tmp_path):
    (tmp_path / "r.yaml").write_text(RULES.format(**CASES[case]))
    compiled = compile_rules(load_rules([tmp_path / "r.yaml"]))
    paths = {"basedata": days, "trades": trade_only, "trade_gap": trade_gap}[source]
    streamed, fast, bt = both(compiled, paths)
    assert fast.events == streamed.events > 0
    assert fast.trades == streamed.trades
    assert fast.decisions == streamed.decisions
    assert fast.trace == streamed.trace             # gate changes, flattens, cancels: the same, in order
    assert len(streamed.trades) >= (2 if case == "daily_loss_halts" else 5)
    roles = {t.exit_role for t in streamed.trades}
    assert roles <= {"stop", "target", "flatten"}
    states = {r.new for r in fast.trace if getattr(r, "kind", "") == "gate"}
    if case == "daily_loss_halts":
        assert "HALTED" in states and "flatten" in roles
    if case == "profit_target_reduces":
        assert "REDUCE_ONLY" in states
    if case == "no_limits":
        assert "target" in roles and states <= {"ACTIVE"}
    if source == "trade_gap" and case == "profit_target_reduces":     # flat when the prints stop
        cancelled = [r for r in streamed.trace if getattr(r, "kind", "") == "order" and r.action == "cancelled"]
        assert any(r.why == "not filled by the close of the next bar" for r in cancelled)
        assert any(d.action == "entry working" for d in streamed.decisions)
