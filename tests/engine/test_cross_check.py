"""A simple strategy written as mia rules equals, trade by trade, a plain loop written here.

SMA(5)/SMA(20) cross of 1-minute closes, market entry on the next trade with 1 tick of slippage,
8-tick stop (market, slippage) and 2R target (limit), 2.25 USD commission per side, flat at the
end. The loop below knows nothing of mia: it builds its own bars, averages and fills. Here mia's
side is the session fed bar rows by hand, with every risk limit out of reach: the strategy and the
broker alone. ``test_cross_check_end_to_end.py`` runs mia whole (a day folder, the feature engine,
the block path) against a plain loop that implements the risk limits too.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mia.backtest.driver import Backtest
from mia.dsl import catalog, compile_rules, load_rules
from profiles import examples

NY = ZoneInfo("America/New_York")
START = datetime(2025, 11, 20, 9, 30, tzinfo=NY).timestamp()
TICK, POINT_VALUE, SLIP, COMM = 0.25, 50.0, 1, 2.25

RULES = """\
version: 1
instrument: ES
features:
  fast: sma(close, 5)
  slow: sma(close, 20)
signals:
  - {name: cross_up, when: "crosses_above(fast, slow)", side: long}
  - {name: cross_down, when: "crosses_below(fast, slow)", side: short}
risk:
  daily_loss: 1000000 USD
  daily_profit_target: 1000000 USD
  max_position: 1
  max_trades_per_day: 1000
  max_consecutive_losses: 1000
  cooldown_after_stop: 0 min
  trading_hours: 09:30-16:00 America/New_York
exits:
  stop: 8 ticks
  take_profit: 2 R
"""


def make_trades(seed: int, minutes: int = 150) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    t, px, out = START, 5000.0, []
    while t < START + minutes * 60:
        t += float(rng.integers(1, 8))
        px += 0.25 * int(rng.choice([-2, -1, 0, 0, 1, 2]))
        out.append((t, px))
    return out


def plain_loop(trades):
    closes, results = [], []
    minute = None
    pos = 0
    pending = None                # side of a market entry waiting for the next trade
    entry = stop = target = 0.0
    prev = None                   # (fast, slow) of the previous bar
    last_px = None
    for t, px in trades:
        # 1. the open position and pending entry see the trade
        if pos:
            hit_stop = px <= stop if pos > 0 else px >= stop
            hit_target = px >= target if pos > 0 else px <= target
            if hit_stop:
                gapped = px < stop if pos > 0 else px > stop
                exit_px = (px if gapped else stop) - pos * SLIP * TICK
                results.append((pos, entry, exit_px, "stop"))
                pos = 0
            elif hit_target:
                results.append((pos, entry, target, "target"))
                pos = 0
        elif pending is not None:
            pos, pending = pending, None
            entry = px + pos * SLIP * TICK
            stop = entry - pos * 8 * TICK
            target = entry + pos * 16 * TICK
        last_px = px
        # 2. a trade in a new minute closes the previous bar
        m = int((t - START) // 60)
        if minute is not None and m != minute:
            closes.append(bar_close)
            fast = sum(closes[-5:]) / 5 if len(closes) >= 5 else None
            slow = sum(closes[-20:]) / 20 if len(closes) >= 20 else None
            if fast is not None and slow is not None and prev is not None and pos == 0 and pending is None:
                if fast > slow and prev[0] <= prev[1]:
                    pending = 1
                elif fast < slow and prev[0] >= prev[1]:
                    pending = -1
            prev = (fast, slow) if fast is not None and slow is not None else None
        minute = m
        bar_close = px
    if pos:
        results.append((pos, entry, last_px - pos * SLIP * TICK, "flatten"))
    return [(side, e, x, role, round((x - e) * side * POINT_VALUE - 2 * COMM, 6)) for side, e, x, role in results]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("r") / "sma.yaml"
    path.write_text(RULES)
    return compile_rules(load_rules([path]))


def mia_loop(compiled, trades):
    bt = Backtest(compiled, feature_engine=None, slippage_ticks=SLIP, commission_per_contract=COMM)
    close_col = [f.name for f in catalog.FEATURES].index("close")
    row = np.full(len(catalog.FEATURES), np.nan)
    minute, bar_close = None, None
    for t, px in trades:
        bt.session.on_trade(t, px, 1)
        m = int((t - START) // 60)
        if minute is not None and m != minute:
            row[close_col] = bar_close
            bt.session.on_bar(START + (minute + 1) * 60, row.copy())
        minute, bar_close = m, px
    res = bt.finish()
    return res, [(tr.side, tr.entry_price, tr.exit_price, tr.exit_role, round(tr.net_usd, 6)) for tr in res.trades]


@settings(max_examples=examples(15))
@given(seed=st.integers(0, 10_000))
def test_mia_equals_the_plain_loop(compiled, seed):
    trades = make_trades(seed)
    expected = plain_loop(trades)
    _, got = mia_loop(compiled, trades)
    assert got == expected
    assert len(expected) > 0


def test_the_sessions_streaming_kernel_fires_where_the_batch_kernel_does(compiled):
    """The session runs the streaming kernel bar by bar; the batch kernel over the same closes
    must fire the same signals on the same bars (and the decisions must act on them)."""
    trades = make_trades(3)
    streamed, got = mia_loop(compiled, trades)
    closes = []
    minute, bar_close = None, None
    for t, px in trades:
        m = int((t - START) // 60)
        if minute is not None and m != minute:
            closes.append(bar_close)
        minute, bar_close = m, px
    assert compiled.inputs == ["close"]
    OUT = compiled.batch(np.array(closes)[:, None])
    idx = compiled.program.output_index
    names = [s.name for s in compiled.ruleset.signals]
    batch_fired = [sorted(n for n in names if OUT[i, idx[n]] == 1.0) for i in range(len(closes))]
    stream_fired = [sorted(f["name"] for f in d.fired) for d in streamed.decisions]
    assert stream_fired == batch_fired
    assert sum(map(len, batch_fired)) >= 3 and len(got) > 0
