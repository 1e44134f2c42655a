"""Time order of the market data: the one merge of a day's files.

The rules between the lines of one stream (order, duplicates, bar indexes, the price band) are
``mia.market.judge``'s (``StreamOrder`` over ``Event``s, ``Stream`` over a scanned file's columns);
their names are re-exported here for the readers.

The merge: each file's kept lines, in file order, are one run; a day's runs are merged by (time,
run), ties to the earlier run, by ``merged_rounds`` over buffered sources (a chunk at a time,
never a whole file), and every merged time is stamped no earlier than the latest one emitted
(``stamp``: depth lines carry their bar's start, a unified file's bar-stamped lines trail).
Replay, the columnar reader and the live tail (``merge_lists``) all merge through it.
"""
from __future__ import annotations

from typing import NamedTuple, Protocol

import numba as nb
import numpy as np

from mia.market.events import Event
from mia.market.judge import JUMP_S, TOLERANCE_S, StreamOrder

#: the rules between a stream's lines live in ``mia.market.judge``; their names, for the readers
__all__ = ["TOLERANCE_S", "JUMP_S", "StreamOrder", "EventRun", "Round", "Source", "merged_rounds", "merged_events",
           "merge_lists", "stamp"]


# ---- the merge -------------------------------------------------------------------------------------

@nb.njit(cache=True)
def _merge(t, starts, ends, more, order):
    """K-way merge of the runs ``t[starts[s]:ends[s]]`` by (time, run): fill ``order`` and return
    (count, positions). Stops while a run that has more data to come is empty. The run at the
    head is emitted while it stays ahead of the next best head (depth levels that share a time,
    a stream alone in its time span), so a head is chosen per stretch, not per row."""
    k = len(starts)
    pos = starts.copy()
    m = 0
    while True:
        best = -1
        second = -1
        for s in range(k):
            if pos[s] < ends[s]:
                if best < 0 or t[pos[s]] < t[pos[best]]:
                    second = best
                    best = s
                elif second < 0 or t[pos[s]] < t[pos[second]]:
                    second = s
            elif more[s]:
                return m, pos
        if best < 0:
            return m, pos
        lim = np.inf
        ties = True                         # a tie with the next best head goes to the earlier run
        if second >= 0:
            lim = t[pos[second]]
            ties = best < second
        while True:
            order[m] = pos[best]
            pos[best] += 1
            m += 1
            if pos[best] >= ends[best]:
                break
            tb = t[pos[best]]
            if not (tb < lim or (tb == lim and ties)):
                break


class Source(Protocol):
    """A run read a chunk at a time: ``t`` the times of its buffered rows, ``done`` when nothing
    more will come; ``fill()`` buffers more (or sets ``done``), ``consume(n)`` drops the first n."""
    t: np.ndarray
    done: bool

    def fill(self) -> None: ...

    def consume(self, n: int) -> None: ...


class Round(NamedTuple):
    """One round of the merge: the rows that can be emitted before some run needs more data."""
    t: np.ndarray           # their times, in merge order (as the sources hold them: not stamped)
    order: np.ndarray       # each one's index in the concatenation of the sources' buffers
    src: np.ndarray         # each one's source
    row: np.ndarray         # each one's index in its source's buffer


def merged_rounds(sources: list[Source]):
    """The merge of ``sources`` by (time, source), round by round: a round is yielded before the
    sources drop the rows it took, so the caller reads them from their buffers."""
    while True:
        for s in sources:
            if len(s.t) == 0 and not s.done:
                s.fill()
        lens = np.array([len(s.t) for s in sources], np.int64)
        if not lens.any():
            return
        t = np.concatenate([s.t for s in sources])
        ends = np.cumsum(lens)
        starts = ends - lens
        more = np.array([not s.done for s in sources])
        order = np.empty(len(t), np.int64)
        m, pos = _merge(t, starts, ends, more, order)
        order = order[:m]
        src = np.searchsorted(ends, order, side="right")
        if m:
            yield Round(t[order], order, src, order - starts[src])
        for s, n in zip(sources, (pos - starts).tolist()):
            s.consume(n)


def stamp(t: np.ndarray, clock: float) -> tuple[np.ndarray, float]:
    """Merged times made never earlier than one already emitted (``clock``: the latest so far)."""
    if len(t) == 0:
        return t, clock
    tm = np.maximum.accumulate(t)
    np.maximum(tm, clock, out=tm)
    return tm, float(tm[-1])


class EventRun:
    """A run of ``Event``s fed by an iterator of lists (a file's judged chunks, or one list)."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self.events: list[Event] = []
        self.offset = 0                 # the index in ``events`` of the first buffered row
        self.t = np.empty(0)
        self.done = False

    def fill(self) -> None:
        for events in self._chunks:
            if events:
                self.events, self.offset = events, 0
                self.t = np.fromiter((e.t for e in events), np.float64, len(events))
                return
        self.done = True

    def consume(self, n: int) -> None:
        self.offset += n
        self.t = self.t[n:]


def merged_events(runs: list[EventRun], clock: float):
    """The events of ``runs`` merged and stamped against ``clock`` (the latest time emitted
    before them): yields (events, clock) per round, ``clock`` the latest time emitted so far."""
    for rnd in merged_rounds(runs):
        tm, clock = stamp(rnd.t, clock)
        bufs = [r.events for r in runs]
        idx = rnd.row + np.array([r.offset for r in runs], np.int64)[rnd.src]
        out = [bufs[s][i] for s, i in zip(rnd.src.tolist(), idx.tolist())]
        for j in np.flatnonzero(tm != rnd.t).tolist():
            out[j] = out[j]._replace(t=float(tm[j]))
        yield out, clock


def merge_lists(lists: list[list[Event]], clock: float = -np.inf) -> tuple[list[Event], float]:
    """Whole lists of events (each in its file's order) merged and stamped against ``clock``;
    returns the events and the latest time emitted."""
    out: list[Event] = []
    for events, clock in merged_events([EventRun([evs]) for evs in lists], clock):
        out.extend(events)
    return out, clock
