"""mia end to end on a simulated day folder equals, trade by trade, a plain loop written here that
implements the strategy and the risk limits itself.

mia's side is what ``mia backtest`` runs: the folder read as columnar blocks (numba scanner), the
feature engine (bars from trades, bulk kernel and its quiet band), the compiled rules, the
engine, the risk gate and the paper broker. The folder keeps only the trade file, so bars are the
trades bucketed by minute.

The plain loop reads the same file with orjson and knows nothing of mia. Its rules, from the
README and domain.md: SMA(3)/SMA(8) cross of 1-minute closes decided when a trade opens the next
minute; a market entry fills on the next trade, 1 tick of slippage; 8-tick stop (market, slipped,
or at the print when it gapped through) and 2R target (at its price); 2.25 USD per contract per
side; no entry while in position. Limits: an entry is refused outside the trading hours (the
bar's close time in [start, end)), within the cooldown after a stop-out, once the day's entries
reach max_trades_per_day, when the bar closed more than stale_bar_seconds before the trade that
closed it, after the daily loss (marked on every trade, open P&L included: flatten at that trade,
slipped, then halted), after max_consecutive_losses losing trades (halted) and after the daily
profit target (no new entries). An open position is flattened at the trade that closes the first
bar outside the hours, and at the end of the data (at the last trade, slipped).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mia.backtest.driver import backtest_days
from mia.dsl import compile_rules, load_rules
from mia.market.sim import SimConfig, simulate
from profiles import examples

NY = ZoneInfo("America/New_York")
DAY = dt.date(2025, 11, 20)
TICK, POINT_VALUE, SLIP, COMM, STOP, TARGET = 0.25, 50.0, 1, 2.25, 8, 16

RULES = """\
version: 1
instrument: ES
features:
  fast: sma(close, 3)
  slow: sma(close, 8)
signals:
  - {{name: cross_up, when: "crosses_above(fast, slow)", side: long}}
  - {{name: cross_down, when: "crosses_below(fast, slow)", side: short}}
risk:
  daily_loss: {daily_loss} USD
  daily_profit_target: {profit} USD
  max_position: 1
  max_trades_per_day: {max_trades}
  max_consecutive_losses: {max_losses}
  cooldown_after_stop: {cooldown} min
  trading_hours: {start}-{end} America/New_York
  stale_bar_seconds: {stale}
exits:
  stop: 8 ticks
  take_profit: 2 R
"""


@dataclass(frozen=True)
class Limits:
    daily_loss: float = 1e6
    profit: float = 1e6
    max_trades: int = 1000
    max_losses: int = 1000
    cooldown: float = 0
    start: str = "09:30"
    end: str = "16:00"
    stale: float = 1e6


#: each limit alone within reach of a 60-minute session, then all of them together
CASES = {
    "none": Limits(),
    "daily_loss": Limits(daily_loss=150),
    "profit_target": Limits(profit=150),
    "max_trades": Limits(max_trades=3),
    "consecutive_losses": Limits(max_losses=2),
    "cooldown": Limits(cooldown=6),
    "trading_hours": Limits(start="09:41", end="10:17"),
    "stale_bar": Limits(stale=0.3),
    "all": Limits(daily_loss=250, profit=400, max_trades=5, max_losses=3, cooldown=4, start="09:37", end="10:21",
                  stale=3),
}


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def read_trades(folder) -> list[tuple[float, float]]:
    """(UTC epoch seconds, price) of each line of the trade file; the simulator writes UTC."""
    out = []
    for raw in (folder / f"chart_3_trade_{DAY:%Y%m%d}.jsonl").read_bytes().splitlines():
        d = orjson.loads(raw)
        out.append(((d["t"] - 25569.0) * 86400.0, float(d["px"])))
    assert all(a[0] <= b[0] for a, b in zip(out, out[1:])), "the plain loop expects a file in time order"
    return out


def plain_loop(trades, lim: Limits):
    """The strategy and its limits over the trades; returns the closed trades and what bound."""
    start, end = _minutes(lim.start), _minutes(lim.end)

    def in_hours(t: float) -> bool:
        d = dt.datetime.fromtimestamp(t, NY)
        return start <= d.hour * 60 + d.minute < end

    results, bound = [], set()
    closes, prev = [], None
    minute = bar_close = None
    pos, pending = 0, None
    entry = stop = target = entry_t = 0.0
    realized, entries, losses = 0.0, 0, 0
    last_stop_t = None
    halted = reduced = False

    def close_position(t, price, role):
        nonlocal pos, realized, losses, halted, reduced, last_stop_t
        net = (price - entry) * pos * POINT_VALUE * 1 - (COMM + COMM)
        results.append((pos, entry_t, entry, t, price, role, round(net, 6)))
        pos = 0
        realized += net
        losses = losses + 1 if net < 0 else 0
        if role == "stop":
            last_stop_t = t
        after_pnl(realized)
        if losses >= lim.max_losses:
            halted = True
            bound.add("consecutive_losses")

    def after_pnl(pnl) -> bool:
        nonlocal halted, reduced
        if pnl <= -lim.daily_loss:
            halted = True
            bound.add("daily_loss")
            return True
        if pnl >= lim.profit:
            reduced = True
            bound.add("profit_target")
        return False

    for t, px in trades:
        # the broker: the open position's bracket, else the waiting entry
        if pos:
            if (px <= stop) if pos > 0 else (px >= stop):
                gapped = (px < stop) if pos > 0 else (px > stop)
                close_position(t, (px if gapped else stop) - pos * SLIP * TICK, "stop")
            elif (px >= target) if pos > 0 else (px <= target):
                close_position(t, target, "target")
        elif pending is not None:
            pos, pending = pending, None
            entry, entry_t = px + pos * SLIP * TICK, t
            stop, target = entry - pos * STOP * TICK, entry + pos * TARGET * TICK
            entries += 1
        # the open position marked against the daily limits
        if pos and after_pnl(realized + (px - entry) * pos * POINT_VALUE):
            close_position(t, px - pos * SLIP * TICK, "flatten")
        # a trade in a new minute closes the bar: decide at its close time
        m = math.floor(t / 60.0)
        if minute is not None and m != minute:
            t_close = (minute + 1) * 60.0
            closes.append(bar_close)
            fast = sum(closes[-3:]) / 3 if len(closes) >= 3 else None
            slow = sum(closes[-8:]) / 8 if len(closes) >= 8 else None
            signal = None
            if fast is not None and slow is not None and prev is not None:
                if fast > slow and prev[0] <= prev[1]:
                    signal = 1
                elif fast < slow and prev[0] >= prev[1]:
                    signal = -1
            prev = (fast, slow) if fast is not None and slow is not None else None
            if signal is not None and pos == 0 and pending is None:
                why = ("halted" if halted else "reduced" if reduced else
                       "trading_hours" if not in_hours(t_close) else
                       "cooldown" if last_stop_t is not None and max(0.0, t_close - last_stop_t) < lim.cooldown * 60 else
                       "max_trades" if entries >= lim.max_trades else
                       "stale_bar" if t - t_close > lim.stale else None)
                if why is None:
                    pending = signal
                elif why not in ("halted", "reduced"):
                    bound.add(why)
            if not in_hours(t_close) and pos:
                close_position(t_close, px - pos * SLIP * TICK, "flatten")
        minute, bar_close = m, px
    if pos:                       # the end of the data: the last bar closes, then flat at the last price
        close_position((minute + 1) * 60.0, trades[-1][1] - pos * SLIP * TICK, "flatten")
    return results, bound


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rules")
    path = folder / "sma.yaml"
    path.write_text(RULES.format(**vars(Limits())))
    return compile_rules(load_rules([path]))


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """Trade-only day folders, one per seed, written once for the module."""
    made = {}

    def get(seed: int):
        if seed not in made:
            folder = tmp_path_factory.mktemp(f"sim{seed}")
            simulate(SimConfig(day=DAY, seed=seed, minutes=60), folder)
            for p in folder.iterdir():
                if "_trade_" not in p.name:
                    p.unlink()
            made[seed] = (folder, read_trades(folder))
        return made[seed]
    return get


def mia_trades(folder, lim: Limits, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.format(**vars(lim)))
    compiled = compile_rules(load_rules([path]))      # the same kernel source for every case: compiled once
    bt = backtest_days(compiled, [str(folder)], slippage_ticks=SLIP, commission_per_contract=COMM)
    return [(tr.side, tr.entry_t, tr.entry_price, tr.exit_t, tr.exit_price, tr.exit_role, round(tr.net_usd, 6))
            for tr in bt.result.trades]


SEEDS = (10, 13, 14, 16)


@pytest.mark.parametrize("case", list(CASES))
def test_mia_equals_the_plain_loop_and_each_limit_binds(compiled, sessions, tmp_path, case):
    lim = CASES[case]
    bound_somewhere = set()
    for seed in SEEDS:
        folder, trades = sessions(seed)
        expected, bound = plain_loop(trades, lim)
        assert mia_trades(folder, lim, tmp_path) == expected, (case, seed)
        assert expected, (case, seed)
        bound_somewhere |= bound
    if case == "all":
        assert len(bound_somewhere) >= 4, bound_somewhere
    elif case != "none":
        assert case in bound_somewhere, f"{case} never bound: the case tests nothing"


@settings(max_examples=examples(4))
@given(seed=st.integers(0, 5000), daily_loss=st.sampled_from([100, 175, 250, 1e6]),
       max_trades=st.integers(1, 8), cooldown=st.sampled_from([0, 1, 3, 7]), max_losses=st.integers(1, 5),
       start=st.sampled_from(["09:30", "09:34", "09:45"]), end=st.sampled_from(["10:05", "10:29", "16:00"]))
def test_mia_equals_the_plain_loop_for_any_limits(compiled, sessions, tmp_path_factory, seed, daily_loss, max_trades,
                                                 cooldown, max_losses, start, end):
    lim = Limits(daily_loss=daily_loss, max_trades=max_trades, cooldown=cooldown, max_losses=max_losses,
                 start=start, end=end, stale=2)
    folder, trades = sessions(seed)
    assert mia_trades(folder, lim, tmp_path_factory.mktemp("r")) == plain_loop(trades, lim)[0]
