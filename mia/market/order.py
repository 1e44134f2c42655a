"""Time order of the market data: the order rule of a file's lines, and the one merge of a day's files.

The order rule, twice side by side: ``StreamOrder.judge`` over ``Event``s (replay, the live tail,
the lines the columnar reader parses) and ``clamp``, its numba twin over the time column of a
scanned per-chart file (``mia.market.columnar``). Per (chart, type) stream, a line more than
``TOLERANCE_S`` before the stream's latest kept time is ``out_of_order`` (skipped), a smaller
step back is clamped to that time; depth is exempt. In a per-chart file a line more than
``JUMP_S`` after the latest kept time waits for the next line (see ``StreamOrder``).

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

TOLERANCE_S = 2.0
#: a line this far ahead of its per-chart file's latest time waits for the next line to confirm it
JUMP_S = 300.0


class StreamOrder:
    """The order rule for the lines of one file, its state kept from call to call (chunks, polls).

    Per (chart, type) stream: a line more than ``TOLERANCE_S`` earlier than the stream's latest
    kept time is ``out_of_order`` (skipped), a smaller step back is clamped to that time; depth is
    exempt. In a per-chart file (one stream, ``stream`` given) a line more than ``JUMP_S`` after
    the latest kept time waits for the next line: if that one is more than ``TOLERANCE_S`` before
    it, the jumped line is the bad one (``out_of_order``) and the next is judged against the time
    before the jump. Without this, one line stamped hours ahead would make the rest of its file
    out of order. ``flush()`` gives the line still waiting when the file ends (or, live, when the
    other files' clock has reached it). A file's first line is taken as it is (there is nothing
    to hold it against), and a unified file interleaves its streams in time order (a held line
    would move), so there a jump is not held.
    """

    __slots__ = ("stream", "prev", "held", "last")

    def __init__(self, stream: tuple | None):
        self.stream = stream
        self.prev = -1e300
        self.held: Event | None = None
        self.last: dict = {}

    def judge(self, events: list[Event], bad) -> list[Event]:
        """The events of ``events`` (in file order) to emit now; ``bad(reason)`` for each dropped."""
        if self.stream is None:
            return self._unified(events, bad)
        if self.stream[1] == "depth":
            return events
        out: list[Event] = []
        append = out.append
        prev, held = self.prev, self.held
        for ev in events:
            t = ev.t
            if held is not None:
                if t < held.t - TOLERANCE_S:
                    bad("out_of_order")            # the held line jumped ahead of its stream
                else:
                    append(held)
                    prev = held.t
                held = None
            if t >= prev:
                if t > prev + JUMP_S and prev > -1e300:
                    held = ev
                    continue
                prev = t
            elif t < prev - TOLERANCE_S:
                bad("out_of_order")
                continue
            else:
                ev = ev._replace(t=prev)
            append(ev)
        self.prev, self.held = prev, held
        return out

    def flush(self) -> list[Event]:
        held, self.held = self.held, None
        if held is None:
            return []
        self.prev = held.t
        return [held]

    def _unified(self, events: list[Event], bad) -> list[Event]:
        out: list[Event] = []
        last = self.last
        for ev in events:
            if ev.type != "depth":
                key = (ev.chart, ev.type)
                prev = last.get(key)
                t = ev.t
                if prev is not None and t < prev:
                    if t < prev - TOLERANCE_S:
                        bad("out_of_order")
                        continue
                    ev = ev._replace(t=prev)
                else:
                    last[key] = t
            out.append(ev)
        return out


@nb.njit(cache=True)
def clamp(t, prev, tol, jump):
    """``StreamOrder.judge`` of a per-chart file (not depth) over its times ``t`` (clamped in
    place), ``prev`` its state (the latest kept time, -1e300 at the start): keep[j] False for a
    line more than ``tol`` before the latest kept time (a smaller step back is clamped to it), or
    for a line more than ``jump`` ahead that the next line contradicts. Returns (keep, latest,
    held): ``held`` the last row when it still waits for the next line, else -1."""
    keep = np.ones(len(t), np.bool_)
    held = -1
    for j in range(len(t)):
        tj = t[j]
        if held >= 0:
            if tj < t[held] - tol:
                keep[held] = False
            else:
                prev = t[held]
            held = -1
        if tj >= prev:
            if tj > prev + jump and prev > -1e300:
                held = j
                continue
            prev = tj
        elif tj < prev - tol:
            keep[j] = False
        else:
            t[j] = prev
    return keep, prev, held


# ---- the merge -------------------------------------------------------------------------------------

@nb.njit(cache=True)
def _merge(t, starts, ends, more, order):
    """K-way merge of the runs ``t[starts[s]:ends[s]]`` by (time, run): fill ``order`` and return
    (count, positions). Stops while a run that has more data to come is empty."""
    k = len(starts)
    pos = starts.copy()
    m = 0
    while True:
        best = -1
        for s in range(k):
            if pos[s] < ends[s]:
                if best < 0 or t[pos[s]] < t[pos[best]]:
                    best = s
            elif more[s]:
                return m, pos
        if best < 0:
            return m, pos
        order[m] = pos[best]
        pos[best] += 1
        m += 1


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
