"""The backtest driver: a trading session (``mia.runtime.session``) with the paper broker, fed
past days as columnar blocks or events. Nothing here decides: the session does, as live.

``Backtest`` wires one session for tests and callers that feed it themselves; ``backtest_days``
runs Sierra Chart day folders (default: the bundled simulated session) through one, after
``SymbolGuard`` has seen each block: trades and quotes of another instrument than the rules'
(NQ rules over ES data would trade NQ tick values on ES prices) end the backtest with an error.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from mia.backtest.recorder import BacktestResult, Recorder
from mia.broker.paper import PaperBroker
from mia.dsl.compile import CompiledRules
from mia.errors import MiaError
from mia.market.columnar.daycache import DayCache
from mia.runtime.session import Session, Sink
from mia.runtime.symbols import SymbolGuard


class Backtest:
    """One session over the paper broker, its records kept by a ``Recorder`` (``result``) and
    given to any extra ``sinks``."""

    def __init__(self, compiled: CompiledRules, feature_engine, slippage_ticks: float = 1.0,
                 commission_per_contract: float = 2.25, sinks: Iterable[Sink] = (), record: bool = True):
        rs = compiled.ruleset
        self.broker = PaperBroker(rs.tick_size, rs.tick_value, slippage_ticks, commission_per_contract)
        self.recorder = Recorder() if record else None
        sinks = [self.recorder, *sinks] if record else list(sinks)
        self.session = Session(compiled, feature_engine, self.broker, sinks)
        #: bad data lines skipped, by reason (set by ``backtest_days``)
        self.bad_lines: dict = {}

    @property
    def result(self) -> BacktestResult:
        return self.recorder.result

    @property
    def gate(self):
        return self.session.gate

    def finish(self) -> BacktestResult | None:
        s = self.session
        s.finish()
        if self.recorder is None:
            return None
        r = self.recorder.result
        r.events, r.bars, r.days = s.events, s.bars, set(s.days)
        return r


def run(compiled: CompiledRules, feature_engine, events: Iterable, **kw) -> BacktestResult:
    """A backtest of ``events`` fed one by one (``Session.on_event``)."""
    bt = Backtest(compiled, feature_engine, **kw)
    for ev in events:
        bt.session.on_event(ev)
    return bt.finish()


def data_paths(paths: list[str] | None) -> list[str]:
    """The given paths, or the default simulated session (generated on first use)."""
    if paths:
        return list(paths)
    from mia.market.sim import default_session_dir

    return [str(default_session_dir())]


def _day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MiaError(f"{flag} {text!r}: error: expected a date like 2025-11-20") from None


def backtest_days(compiled: CompiledRules, paths: list[str] | None, date_from: str | None = None,
                  date_to: str | None = None, progress: bool = False, cache: DayCache | None = None,
                  zones: dict | None = None, sinks: Iterable[Sink] = (), record: bool = True,
                  **broker_kw) -> Backtest:
    """Backtest ``compiled`` over the day folders ``paths`` (default: the bundled session), read
    as columnar blocks (``Session.on_block``: the same result as replaying event by event);
    ``cache``: a ``DayCache`` to read unchanged days from (None: every day from its files);
    ``zones``: the time zone of each event type's ``t`` (``sctime.DEFAULT_ZONES``); ``sinks``
    get every record; ``record``: also keep them in memory (``result``). The driver returned
    holds the session (events, bars, days) and ``bad_lines`` (bad data lines by reason)."""
    from mia.features import FeatureEngine
    from mia.features.engine import HANDLED_TYPES
    from mia.market.columnar.blocks import blocks
    from mia.features.config import FeatureConfig
    from mia.market.sierra import BadLines

    bad = BadLines()
    rs = compiled.ruleset
    # the tick size the rules were checked with (their instrument table, which may be the user's)
    engine = FeatureEngine(rs.instrument, FeatureConfig.for_rules(rs), tick_size=rs.tick_size)
    bt = Backtest(compiled, engine, sinks=sinks, record=record, **broker_kw)
    guard = SymbolGuard(rs)
    for block in blocks(data_paths(paths), date_from=_day(date_from, "--from"), date_to=_day(date_to, "--to"),
                        zones=zones, bad=bad, progress=progress, cache=cache, wanted_types=HANDLED_TYPES):
        guard.block(block)
        bt.session.on_block(block)
    result = bt.finish()
    bt.bad_lines = bad.by_reason()
    if result is not None:
        result.bad_lines = bt.bad_lines
    return bt
