"""Where a backtest's events come from: Sierra Chart day folders, or the bundled simulated session."""
from __future__ import annotations

from datetime import date

from mia.backtest.run import Backtest, BacktestResult
from mia.dsl.compile import CompiledRules
from mia.errors import MiaError
from mia.market.columnar.daycache import DayCache


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


def run_backtest(compiled: CompiledRules, paths: list[str] | None, date_from: str | None = None,
                 date_to: str | None = None, progress: bool = False, cache: DayCache | None = None,
                 zones: dict | None = None, **broker_kw) -> BacktestResult:
    """Backtest ``compiled`` over the day folders ``paths`` (default: the bundled session), read
    as columnar blocks (``Backtest.on_block``: the same result as replaying event by event);
    ``cache``: a ``DayCache`` to read unchanged days from (None: every day from its files);
    ``zones``: the time zone of each event type's ``t`` (``sctime.DEFAULT_ZONES``)."""
    from mia.features import FeatureEngine
    from mia.features.engine import HANDLED_TYPES
    from mia.market.columnar.blocks import blocks
    from mia.market.sierra import BadLines

    bad = BadLines()
    bt = Backtest(compiled, FeatureEngine(instrument=compiled.ruleset.instrument), **broker_kw)
    for block in blocks(data_paths(paths), date_from=_day(date_from, "--from"), date_to=_day(date_to, "--to"),
                        zones=zones, bad=bad, progress=progress, cache=cache, wanted_types=HANDLED_TYPES):
        bt.on_block(block)
    result = bt.finish()
    result.bad_lines = bad.by_reason()
    return result
