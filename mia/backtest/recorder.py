"""What a backtest keeps in memory: the records a session published, as lists (for tests and
small runs). ``mia backtest`` streams them to files instead (``mia.runtime.runfolder.RunWriter``)."""
from __future__ import annotations

from dataclasses import dataclass, field

from mia.broker.orders import ClosedTrade, Fill
from mia.engine.records import Decision


@dataclass
class BacktestResult:
    #: one per closed bar
    decisions: list[Decision] = field(default_factory=list)
    #: every trace record in time order: the decisions, and the gate/flatten/order records
    trace: list = field(default_factory=list)
    trades: list[ClosedTrade] = field(default_factory=list)
    events: int = 0
    bars: int = 0
    days: set = field(default_factory=set)
    #: bad data lines skipped, by reason
    bad_lines: dict = field(default_factory=dict)


class Recorder:
    """A session sink that keeps every record: ``Decision``s, the trace, the closed trades."""

    def __init__(self) -> None:
        self.result = BacktestResult()

    def __call__(self, rec) -> None:
        r = self.result
        if isinstance(rec, ClosedTrade):
            r.trades.append(rec)
        elif isinstance(rec, Fill):
            return
        else:
            if isinstance(rec, Decision):
                r.decisions.append(rec)
            r.trace.append(rec)
